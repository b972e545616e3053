/*
 * check_frame.c: the preamble protocol (preload/common/frame.h), one Check suite.
 *
 * The decoder meets strangers on the server's one public port, so every
 * malformed header is tried at every length it could arrive in.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "frame_info.h"

/* A well-formed DIST request for port 0x1112 with a three-byte body. */
static uint8_t	good[FRAME_HDR_LEN + 3];
static int	good_len;

static const int	bad_tags[] = { 0, 5, 255 };
static const uint16_t	edge_ports[] = { 1, 4369, 65535 };
static const size_t	body_lens[] = { 0, 1, FRAME_REQ_BODY_MAX };

static void
setup_good(void)
{
	good_len = frame_encode(good, sizeof(good), FRAME_TAG_DIST, 0x1112,
	    "abc", 3);
	ck_assert_int_eq(good_len, (int)sizeof(good));
}

/* --- encode ------------------------------------------------------------- */

START_TEST(encode_layout)
{
	static const uint8_t want[] = {
		'E', 'F', 'W', 'D', FRAME_VERSION, FRAME_TAG_DIST,
		0x11, 0x12, 0x00, 0x03, 'a', 'b', 'c'
	};

	ck_assert_uint_eq(sizeof(want), sizeof(good));
	ck_assert_mem_eq(good, want, sizeof(want));
}
END_TEST

/* Every tag, edge ports and body sizes, encoded then decoded. */
START_TEST(encode_decode_round_trip)
{
	uint8_t buf[FRAME_HDR_LEN + FRAME_REQ_BODY_MAX], body[FRAME_REQ_BODY_MAX];
	enum frame_tag tag = (enum frame_tag)(FRAME_TAG_EPMD + _i / 9);
	uint16_t port = edge_ports[(_i / 3) % 3];
	size_t blen = body_lens[_i % 3], i;
	struct frame f;
	int n;

	for (i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7 + 1);
	n = frame_encode(buf, sizeof(buf), tag, port, blen ? body : NULL, blen);
	ck_assert_int_eq(n, (int)(FRAME_HDR_LEN + blen));
	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(frame_decode(buf, (size_t)n, FRAME_REQ_BODY_MAX, &f), n);
	ck_assert_uint_eq(f.version, FRAME_VERSION);
	ck_assert_uint_eq(f.tag, tag);
	ck_assert_uint_eq(f.port, port);
	ck_assert_uint_eq(f.body_len, blen);
	ck_assert_ptr_eq(f.body, buf + FRAME_HDR_LEN);
	if (blen > 0)
		ck_assert_mem_eq(f.body, body, blen);
}
END_TEST

START_TEST(encode_info_port_zero)
{
	uint8_t buf[FRAME_HDR_LEN];
	struct frame f;

	ck_assert_int_eq(frame_encode(buf, sizeof(buf), FRAME_TAG_INFO, 0, NULL,
	    0), FRAME_HDR_LEN);
	ck_assert_int_eq(frame_decode(buf, sizeof(buf), 0, &f), FRAME_HDR_LEN);
	ck_assert_uint_eq(f.tag, FRAME_TAG_INFO);
	ck_assert_uint_eq(f.port, 0);
	ck_assert_uint_eq(f.body_len, 0);
}
END_TEST

START_TEST(encode_port_zero_refused)
{
	uint8_t buf[64];

	ck_assert_int_eq(frame_encode(buf, sizeof(buf), FRAME_TAG_EPMD, 0, NULL,
	    0), FRAME_EPORT);
	ck_assert_int_eq(frame_encode(buf, sizeof(buf), FRAME_TAG_DIST, 0, NULL,
	    0), FRAME_EPORT);
}
END_TEST

START_TEST(encode_bad_tag)
{
	uint8_t buf[64];

	ck_assert_int_eq(frame_encode(buf, sizeof(buf),
	    (enum frame_tag)bad_tags[_i], 4369, NULL, 0), FRAME_ETAG);
}
END_TEST

START_TEST(encode_body_too_long)
{
	static uint8_t buf[FRAME_HDR_LEN + 65536 + 1];
	static const uint8_t body[65536 + 1];

	ck_assert_int_eq(frame_encode(buf, sizeof(buf), FRAME_TAG_INFO, 0, body,
	    65536), FRAME_ELENGTH);
	ck_assert_int_eq(frame_encode(buf, sizeof(buf), FRAME_TAG_INFO, 0, body,
	    65535), FRAME_HDR_LEN + 65535);
}
END_TEST

/* Every capacity short of the frame is refused, and nothing lands past it. */
START_TEST(encode_espace)
{
	uint8_t buf[FRAME_HDR_LEN + 3 + 8];
	size_t cap;

	for (cap = 0; cap < FRAME_HDR_LEN + 3; cap++) {
		memset(buf, 0xa5, sizeof(buf));
		ck_assert_msg(frame_encode(buf, cap, FRAME_TAG_DIST, 4370, "abc",
		    3) == FRAME_ESPACE, "cap %zu not refused", cap);
		ck_assert_msg(buf[cap] == 0xa5, "cap %zu: wrote past the end",
		    cap);
	}
	memset(buf, 0xa5, sizeof(buf));
	ck_assert_int_eq(frame_encode(buf, cap, FRAME_TAG_DIST, 4370, "abc", 3),
	    (int)cap);
	ck_assert_uint_eq(buf[cap], 0xa5);
}
END_TEST

/* --- decode: well-formed ------------------------------------------------ */

/* Every prefix of a good frame asks for more. */
START_TEST(decode_truncated_needs_more)
{
	struct frame f;
	size_t len;

	for (len = 0; len < (size_t)good_len; len++)
		ck_assert_msg(frame_decode(good, len, FRAME_REQ_BODY_MAX, &f) == 0,
		    "prefix of %zu bytes: %d", len,
		    frame_decode(good, len, FRAME_REQ_BODY_MAX, &f));
	ck_assert_int_eq(frame_decode(good, len, FRAME_REQ_BODY_MAX, &f),
	    good_len);
}
END_TEST

START_TEST(decode_truncated_info_body)
{
	static uint8_t buf[FRAME_HDR_LEN + FRAME_INFO_BODY_MAX];
	static char body[FRAME_INFO_BODY_MAX];
	struct frame f;
	size_t len;
	int n;

	memset(body, 'x', sizeof(body));
	n = frame_encode(buf, sizeof(buf), FRAME_TAG_INFO, 0, body, sizeof(body));
	ck_assert_int_eq(n, (int)sizeof(buf));
	for (len = 0; len < sizeof(buf); len++)
		if (frame_decode(buf, len, FRAME_INFO_BODY_MAX, &f) != 0)
			ck_abort_msg("prefix of %zu bytes not 'need more'", len);
	ck_assert_int_eq(frame_decode(buf, len, FRAME_INFO_BODY_MAX, &f), n);
	ck_assert_uint_eq(f.body_len, FRAME_INFO_BODY_MAX);
}
END_TEST

/* Bytes after the frame belong to the stream: not consumed, not judged. */
START_TEST(decode_extra_bytes_not_consumed)
{
	uint8_t buf[sizeof(good) + 32];
	struct frame f;

	memcpy(buf, good, sizeof(good));
	memset(buf + sizeof(good), 0xff, sizeof(buf) - sizeof(good));
	ck_assert_int_eq(frame_decode(buf, sizeof(buf), FRAME_REQ_BODY_MAX, &f),
	    good_len);
	ck_assert_uint_eq(f.body_len, 3);
	ck_assert_mem_eq(f.body, "abc", 3);
	ck_assert_ptr_eq(f.body, buf + FRAME_HDR_LEN);
}
END_TEST

START_TEST(decode_back_to_back)
{
	uint8_t buf[64];
	struct frame f;
	int a, b;

	a = frame_encode(buf, sizeof(buf), FRAME_TAG_EPMD, 4369, "x", 1);
	b = frame_encode(buf + a, sizeof(buf) - (size_t)a, FRAME_TAG_DIST, 9100,
	    NULL, 0);
	ck_assert_int_gt(a, 0);
	ck_assert_int_gt(b, 0);
	ck_assert_int_eq(frame_decode(buf, (size_t)(a + b), 8, &f), a);
	ck_assert_uint_eq(f.tag, FRAME_TAG_EPMD);
	ck_assert_int_eq(frame_decode(buf + a, (size_t)b, 8, &f), b);
	ck_assert_uint_eq(f.tag, FRAME_TAG_DIST);
	ck_assert_uint_eq(f.port, 9100);
}
END_TEST

START_TEST(decode_body_at_limit)
{
	uint8_t buf[FRAME_HDR_LEN + FRAME_REQ_BODY_MAX];
	static const uint8_t body[FRAME_REQ_BODY_MAX];
	struct frame f;

	ck_assert_int_eq(frame_encode(buf, sizeof(buf), FRAME_TAG_EPMD, 4369,
	    body, sizeof(body)), (int)sizeof(buf));
	ck_assert_int_eq(frame_decode(buf, sizeof(buf), FRAME_REQ_BODY_MAX, &f),
	    (int)sizeof(buf));
	ck_assert_int_eq(frame_decode(buf, sizeof(buf), 0, &f), FRAME_ELENGTH);
}
END_TEST

/* --- decode: malformed ---------------------------------------------------- */

/*
 * Decode every prefix of bad (total bytes) and expect 0 until the byte at
 * bad_at has been seen, then err.
 */
static void
expect_error_from(const uint8_t *bad, size_t total, size_t bad_at,
    size_t body_max, int err)
{
	struct frame f;
	size_t len;
	int rc;

	for (len = 0; len <= total; len++) {
		rc = frame_decode(bad, len, body_max, &f);
		if (len <= bad_at)
			ck_assert_msg(rc == 0, "%zu bytes (bad byte at %zu): got %d, "
			    "want 0", len, bad_at, rc);
		else
			ck_assert_msg(rc == err, "%zu bytes (bad byte at %zu): got %d, "
			    "want %d", len, bad_at, rc, err);
	}
}

START_TEST(decode_wrong_magic_each_byte)
{
	uint8_t bad[sizeof(good)];

	memcpy(bad, good, sizeof(bad));
	bad[_i] ^= 0x20;	/* "eFWD", "EfWD", ...: close, but not ours */
	expect_error_from(bad, sizeof(bad), (size_t)_i, FRAME_REQ_BODY_MAX,
	    FRAME_EMAGIC);
}
END_TEST

START_TEST(decode_http_is_not_magic)
{
	static const char get[] = "GET / HTTP/1.1\r\n\r\n";
	struct frame f;

	ck_assert_int_eq(frame_decode((const uint8_t *)get, 1, 64, &f),
	    FRAME_EMAGIC);
	ck_assert_int_eq(frame_decode((const uint8_t *)get, sizeof(get) - 1, 64,
	    &f), FRAME_EMAGIC);
}
END_TEST

START_TEST(decode_wrong_version)
{
	static const uint8_t versions[] = { 0, FRAME_VERSION_CARRIER + 1, 255 };
	uint8_t bad[sizeof(good)];

	memcpy(bad, good, sizeof(bad));
	bad[4] = versions[_i];
	expect_error_from(bad, sizeof(bad), 4, FRAME_REQ_BODY_MAX,
	    FRAME_EVERSION);
}
END_TEST

START_TEST(decode_unknown_tag)
{
	uint8_t bad[sizeof(good)];

	memcpy(bad, good, sizeof(bad));
	bad[5] = (uint8_t)bad_tags[_i];
	expect_error_from(bad, sizeof(bad), 5, FRAME_REQ_BODY_MAX, FRAME_ETAG);
}
END_TEST

/* Port 0 is refused for EPMD and DIST once the whole header is in. */
START_TEST(decode_port_zero)
{
	uint8_t bad[sizeof(good)];

	memcpy(bad, good, sizeof(bad));
	bad[5] = (uint8_t)(_i == 0 ? FRAME_TAG_EPMD : FRAME_TAG_DIST);
	bad[6] = bad[7] = 0;
	expect_error_from(bad, sizeof(bad), FRAME_HDR_LEN - 1,
	    FRAME_REQ_BODY_MAX, FRAME_EPORT);
}
END_TEST

/* Version 2 is the carrier's alone: a v1 tag in it, or CARRIER in v1, is refused. */
START_TEST(decode_version_tag_mismatch)
{
	uint8_t bad[sizeof(good)];
	struct frame f;

	memcpy(bad, good, sizeof(bad));
	bad[4] = FRAME_VERSION_CARRIER;
	ck_assert_int_eq(frame_decode(bad, 5, FRAME_REQ_BODY_MAX, &f), 0);
	ck_assert_int_eq(frame_decode(bad, sizeof(bad), FRAME_REQ_BODY_MAX, &f),
	    FRAME_ETAG);
	bad[4] = FRAME_VERSION;
	bad[5] = FRAME_TAG_CARRIER;
	ck_assert_int_eq(frame_decode(bad, sizeof(bad), FRAME_REQ_BODY_MAX, &f),
	    FRAME_ETAG);
}
END_TEST

/* A CARRIER frame: version 2, port 0, encoded and decoded alike. */
START_TEST(carrier_round_trip)
{
	uint8_t buf[FRAME_HDR_LEN + 8];
	struct frame f;
	int n;

	n = frame_encode(buf, sizeof(buf), FRAME_TAG_CARRIER, 0, "v=2", 3);
	ck_assert_int_eq(n, FRAME_HDR_LEN + 3);
	ck_assert_uint_eq(buf[4], FRAME_VERSION_CARRIER);
	ck_assert_int_eq(frame_decode(buf, (size_t)n, FRAME_REQ_BODY_MAX, &f), n);
	ck_assert_uint_eq(f.version, FRAME_VERSION_CARRIER);
	ck_assert_uint_eq(f.tag, FRAME_TAG_CARRIER);
	ck_assert_uint_eq(f.port, 0);
	ck_assert_str_eq(frame_tag_name(FRAME_TAG_CARRIER), "carrier");
}
END_TEST

START_TEST(decode_info_port_zero_ok)
{
	uint8_t buf[sizeof(good)];
	struct frame f;

	memcpy(buf, good, sizeof(buf));
	buf[5] = FRAME_TAG_INFO;
	buf[6] = buf[7] = 0;
	ck_assert_int_eq(frame_decode(buf, sizeof(buf), FRAME_REQ_BODY_MAX, &f),
	    good_len);
	ck_assert_uint_eq(f.port, 0);
}
END_TEST

/* A body over the caller's limit is refused from the header alone. */
START_TEST(decode_body_over_limit)
{
	static const uint16_t lens[] = { FRAME_REQ_BODY_MAX + 1, 1000, 65535 };
	uint8_t bad[sizeof(good)];

	memcpy(bad, good, sizeof(bad));
	bad[8] = (uint8_t)(lens[_i] >> 8);
	bad[9] = (uint8_t)lens[_i];
	expect_error_from(bad, sizeof(bad), FRAME_HDR_LEN - 1,
	    FRAME_REQ_BODY_MAX, FRAME_ELENGTH);
}
END_TEST

START_TEST(decode_body_over_zero_limit)
{
	struct frame f;

	/* good carries 3 bytes of body; a caller that allows none refuses it. */
	ck_assert_int_eq(frame_decode(good, FRAME_HDR_LEN, 0, &f), FRAME_ELENGTH);
	ck_assert_int_eq(frame_decode(good, FRAME_HDR_LEN, 2, &f), FRAME_ELENGTH);
	ck_assert_int_eq(frame_decode(good, FRAME_HDR_LEN, 3, &f), 0);
}
END_TEST

/* The first wrong byte decides, whatever follows it. */
START_TEST(decode_first_error_wins)
{
	uint8_t bad[FRAME_HDR_LEN];
	struct frame f;

	memset(bad, 0, sizeof(bad));	/* wrong everything */
	ck_assert_int_eq(frame_decode(bad, sizeof(bad), 0, &f), FRAME_EMAGIC);
	memcpy(bad, FRAME_MAGIC, FRAME_MAGIC_LEN);
	ck_assert_int_eq(frame_decode(bad, sizeof(bad), 0, &f), FRAME_EVERSION);
	bad[4] = FRAME_VERSION;
	ck_assert_int_eq(frame_decode(bad, sizeof(bad), 0, &f), FRAME_ETAG);
	bad[5] = FRAME_TAG_DIST;
	ck_assert_int_eq(frame_decode(bad, sizeof(bad), 0, &f), FRAME_EPORT);
	bad[7] = 1;
	bad[9] = 1;
	ck_assert_int_eq(frame_decode(bad, sizeof(bad), 0, &f), FRAME_ELENGTH);
}
END_TEST

START_TEST(strerror_and_tag_names)
{
	static const int errs[] = { FRAME_EMAGIC, FRAME_EVERSION, FRAME_ETAG,
	    FRAME_EPORT, FRAME_ELENGTH, FRAME_ESPACE, FRAME_EFIELD };
	size_t i, j;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		ck_assert_str_ne(frame_strerror(errs[i]), "unknown error");
		for (j = 0; j < i; j++)
			ck_assert_str_ne(frame_strerror(errs[i]),
			    frame_strerror(errs[j]));
	}
	ck_assert_str_eq(frame_strerror(0), "unknown error");
	ck_assert_str_eq(frame_strerror(-99), "unknown error");
	ck_assert_str_eq(frame_tag_name(FRAME_TAG_EPMD), "epmd");
	ck_assert_str_eq(frame_tag_name(FRAME_TAG_DIST), "dist");
	ck_assert_str_eq(frame_tag_name(FRAME_TAG_INFO), "info");
	ck_assert_str_eq(frame_tag_name(0), "unknown");
	ck_assert_str_eq(frame_tag_name(5), "unknown");
	ck_assert_str_eq(frame_tag_name(255), "unknown");
}
END_TEST

/* --- INFO bodies ---------------------------------------------------------- */

static struct frame_info	*fi, *back;
static char			 text[FRAME_INFO_BODY_MAX * 2];

static void
setup_info(void)
{
	fi = calloc(1, sizeof(*fi));
	back = calloc(1, sizeof(*back));
	ck_assert_ptr_nonnull(fi);
	ck_assert_ptr_nonnull(back);
	strcpy(fi->version, "0.1.0");
	strcpy(fi->host, "dyno-1.example");
	fi->epmd_port = 4369;
	fi->epmd_up = 1;
}

static void
teardown_info(void)
{
	free(fi);
	free(back);
}

/* Parse a C string literal as a body (without its NUL). */
static int
parse_str(const char *s)
{
	return frame_info_parse(s, strlen(s), back);
}

START_TEST(info_format_text)
{
	static const char want[] = "version=0.1.0\nhost=dyno-1.example\n"
	    "epmd_port=4369\nepmd=up\nnode=web 45123\n";
	int n;

	fi->nnodes = 1;
	strcpy(fi->nodes[0].name, "web");
	fi->nodes[0].port = 45123;
	n = frame_info_format(text, sizeof(text), fi);
	ck_assert_int_eq(n, (int)sizeof(want) - 1);
	ck_assert_mem_eq(text, want, sizeof(want) - 1);
}
END_TEST

START_TEST(info_round_trip)
{
	static const size_t counts[] = { 0, 1, FRAME_INFO_NODES_MAX };
	size_t i, nn = counts[_i];
	int n;

	fi->epmd_up = nn % 2 == 0;
	fi->nnodes = nn;
	for (i = 0; i < nn; i++) {
		snprintf(fi->nodes[i].name, sizeof(fi->nodes[i].name), "node%zu", i);
		fi->nodes[i].port = (uint16_t)(i == 0 ? 1 : 65535 - i);
	}
	n = frame_info_format(text, sizeof(text), fi);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(frame_info_parse(text, (size_t)n, back), 0);
	ck_assert_str_eq(back->version, fi->version);
	ck_assert_str_eq(back->host, fi->host);
	ck_assert_uint_eq(back->epmd_port, fi->epmd_port);
	ck_assert_int_eq(back->epmd_up, fi->epmd_up);
	ck_assert_uint_eq(back->nnodes, nn);
	for (i = 0; i < nn; i++) {
		ck_assert_str_eq(back->nodes[i].name, fi->nodes[i].name);
		ck_assert_uint_eq(back->nodes[i].port, fi->nodes[i].port);
	}
}
END_TEST

/* The largest names the parser accepts survive a round trip. */
START_TEST(info_round_trip_longest_values)
{
	int n;

	memset(fi->version, 'v', sizeof(fi->version) - 1);
	fi->version[sizeof(fi->version) - 1] = '\0';
	memset(fi->host, 'h', sizeof(fi->host) - 1);
	fi->host[sizeof(fi->host) - 1] = '\0';
	fi->nnodes = 1;
	memset(fi->nodes[0].name, 'n', FRAME_INFO_NAME_MAX - 1);
	fi->nodes[0].port = 65535;
	n = frame_info_format(text, sizeof(text), fi);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(frame_info_parse(text, (size_t)n, back), 0);
	ck_assert_str_eq(back->version, fi->version);
	ck_assert_str_eq(back->host, fi->host);
	ck_assert_str_eq(back->nodes[0].name, fi->nodes[0].name);
}
END_TEST

/*
 * Every capacity short of the body is refused, without overrun (the buffers
 * are exactly cap bytes on the heap, so ASan sees one).  The body's length
 * plus one, room for snprintf's NUL, is always enough.
 */
START_TEST(info_format_espace)
{
	char *buf;
	size_t cap;
	int n, rc;

	fi->nnodes = 2;
	strcpy(fi->nodes[0].name, "a");
	fi->nodes[0].port = 1;
	strcpy(fi->nodes[1].name, "b");
	fi->nodes[1].port = 2;
	n = frame_info_format(text, sizeof(text), fi);
	ck_assert_int_gt(n, 0);
	for (cap = 0; cap < (size_t)n; cap++) {
		buf = malloc(cap ? cap : 1);
		ck_assert_ptr_nonnull(buf);
		rc = frame_info_format(buf, cap, fi);
		free(buf);
		ck_assert_msg(rc == FRAME_ESPACE, "cap %zu of %d: got %d", cap, n,
		    rc);
	}
	buf = malloc((size_t)n);
	rc = frame_info_format(buf, (size_t)n, fi);
	free(buf);
	ck_assert_msg(rc == FRAME_ESPACE || rc == n, "cap %d: got %d", n, rc);
	buf = malloc((size_t)n + 1);
	ck_assert_int_eq(frame_info_format(buf, (size_t)n + 1, fi), n);
	ck_assert_mem_eq(buf, text, (size_t)n);
	free(buf);
}
END_TEST

START_TEST(info_format_refuses_line_breaks)
{
	strcpy(fi->host, "evil\nnode=x 1");
	ck_assert_int_eq(frame_info_format(text, sizeof(text), fi), FRAME_EFIELD);
	strcpy(fi->host, "ok");
	strcpy(fi->version, "1\r");
	ck_assert_int_eq(frame_info_format(text, sizeof(text), fi), FRAME_EFIELD);
	strcpy(fi->version, "1");
	fi->nnodes = 1;
	fi->nodes[0].port = 1;
}
END_TEST

/* One odd name must not stop INFO for everyone: the node is left out and
 * counted, the others are answered. */
START_TEST(info_format_skips_odd_nodes)
{
	struct frame_info *back = calloc(1, sizeof(*back));
	int n;

	ck_assert_ptr_nonnull(back);
	fi->nnodes = 5;
	strcpy(fi->nodes[0].name, "a\nb");
	fi->nodes[0].port = 1;
	strcpy(fi->nodes[1].name, "good");
	fi->nodes[1].port = 4370;
	strcpy(fi->nodes[2].name, "a b");	/* the space splits name and port */
	fi->nodes[2].port = 2;
	strcpy(fi->nodes[3].name, "esc\x1b[2J");
	fi->nodes[3].port = 3;
	strcpy(fi->nodes[4].name, "zero");
	fi->nodes[4].port = 0;
	fi->skipped = 2;		/* what epmd's parser skipped already */
	n = frame_info_format(text, sizeof(text), fi);
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_nonnull(strstr(text, "node=good 4370\nskipped=6\n"));
	ck_assert_int_eq(frame_info_parse(text, (size_t)n, back), 0);
	ck_assert_uint_eq(back->nnodes, 1);
	ck_assert_str_eq(back->nodes[0].name, "good");
	ck_assert_uint_eq(back->skipped, 6);
	free(back);
}
END_TEST

START_TEST(info_parse_too_many_nodes)
{
	size_t i, off = 0, off64 = 0;

	for (i = 0; i < FRAME_INFO_NODES_MAX + 1; i++) {
		if (i == FRAME_INFO_NODES_MAX)
			off64 = off;
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "node=n%zu %zu\n", i, i + 1);
	}
	ck_assert_int_eq(frame_info_parse(text, off, back), FRAME_EFIELD);
	ck_assert_int_eq(frame_info_parse(text, off64, back), 0);
	ck_assert_uint_eq(back->nnodes, FRAME_INFO_NODES_MAX);
	ck_assert_str_eq(back->nodes[FRAME_INFO_NODES_MAX - 1].name, "n63");
}
END_TEST

/* Build "key=" + n copies of ch + rest into text; returns its length. */
static size_t
line_of(const char *key, char ch, size_t n, const char *rest)
{
	size_t off;

	ck_assert_uint_lt(n + 64, sizeof(text));
	off = (size_t)snprintf(text, sizeof(text), "%s=", key);
	memset(text + off, ch, n);
	off += n;
	off += (size_t)snprintf(text + off, sizeof(text) - off, "%s", rest);
	return off;
}

START_TEST(info_parse_oversized_fields)
{
	size_t vmax = sizeof(fi->version) - 1, hmax = FRAME_INFO_NAME_MAX - 1;

	ck_assert_int_eq(frame_info_parse(text, line_of("version", 'v', vmax,
	    "\n"), back), 0);
	ck_assert_uint_eq(strlen(back->version), vmax);
	ck_assert_int_eq(frame_info_parse(text, line_of("version", 'v', vmax + 1,
	    "\n"), back), FRAME_EFIELD);
	ck_assert_int_eq(frame_info_parse(text, line_of("host", 'h', hmax, "\n"),
	    back), 0);
	ck_assert_uint_eq(strlen(back->host), hmax);
	ck_assert_int_eq(frame_info_parse(text, line_of("host", 'h', hmax + 1,
	    "\n"), back), FRAME_EFIELD);
	ck_assert_int_eq(frame_info_parse(text, line_of("node", 'n', hmax,
	    " 4370\n"), back), 0);
	ck_assert_uint_eq(strlen(back->nodes[0].name), hmax);
	ck_assert_int_eq(frame_info_parse(text, line_of("node", 'n', hmax + 1,
	    " 4370\n"), back), FRAME_EFIELD);
	ck_assert_int_eq(frame_info_parse(text, line_of("host", 'h', 20000,
	    "\n"), back), FRAME_EFIELD);
}
END_TEST

START_TEST(info_parse_bad_ports)
{
	static const char *const bad[] = { "0", "65536", "12a", "", "-1", "+1",
	    " 1", "1 ", "123456", "99999" };
	char line[64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "epmd_port=%s\n", bad[i]);
		ck_assert_msg(parse_str(line) == FRAME_EFIELD, "accepted '%s'", line);
		snprintf(line, sizeof(line), "node=a %s\n", bad[i]);
		ck_assert_msg(parse_str(line) == FRAME_EFIELD, "accepted '%s'", line);
	}
	ck_assert_int_eq(parse_str("epmd_port=65535\nnode=a 1\n"), 0);
	ck_assert_uint_eq(back->epmd_port, 65535);
	ck_assert_uint_eq(back->nodes[0].port, 1);
	ck_assert_int_eq(parse_str("epmd_port=00001\n"), 0);
	ck_assert_uint_eq(back->epmd_port, 1);
}
END_TEST

START_TEST(info_parse_malformed_lines)
{
	ck_assert_int_eq(parse_str("version\n"), FRAME_EFIELD);
	ck_assert_int_eq(parse_str("host=h\nno equals sign\n"), FRAME_EFIELD);
	ck_assert_int_eq(parse_str("epmd=maybe\n"), FRAME_EFIELD);
	ck_assert_int_eq(parse_str("epmd=UP\n"), FRAME_EFIELD);
	ck_assert_int_eq(parse_str("epmd=\n"), FRAME_EFIELD);
	ck_assert_int_eq(parse_str("node=a\n"), FRAME_EFIELD);
	ck_assert_int_eq(parse_str("node= 4370\n"), FRAME_EFIELD);
	ck_assert_int_eq(parse_str("node=\n"), FRAME_EFIELD);
	ck_assert_int_eq(parse_str("node=a  4370\n"), FRAME_EFIELD);
}
END_TEST

START_TEST(info_parse_unknown_keys_skipped)
{
	ck_assert_int_eq(parse_str("colour=blue\nhost=h\n=\nx=\nwho=a=b\n"
	    "node_count=7\n"), 0);
	ck_assert_str_eq(back->host, "h");
	ck_assert_uint_eq(back->nnodes, 0);
}
END_TEST

START_TEST(info_parse_last_line_without_newline)
{
	ck_assert_int_eq(parse_str("host=h\nepmd=down\nnode=web 4370"), 0);
	ck_assert_uint_eq(back->nnodes, 1);
	ck_assert_str_eq(back->nodes[0].name, "web");
	ck_assert_uint_eq(back->nodes[0].port, 4370);
	ck_assert_int_eq(back->epmd_up, 0);
	ck_assert_int_eq(parse_str("epmd_port=12a"), FRAME_EFIELD);
}
END_TEST

START_TEST(info_parse_empty_and_blank)
{
	memset(back, 0x5a, sizeof(*back));
	ck_assert_int_eq(frame_info_parse("", 0, back), 0);
	ck_assert_uint_eq(back->nnodes, 0);	/* out is reset, not left dirty */
	ck_assert_str_eq(back->host, "");
	ck_assert_int_eq(parse_str("\n\n\nhost=h\n\n"), 0);
	ck_assert_str_eq(back->host, "h");
}
END_TEST

START_TEST(info_parse_embedded_nul)
{
	static const char host[] = "host=ab\0cd\n";
	static const char version[] = "version=\0\n";
	static const char node[] = "node=a\0b 4370\n";
	static const char port[] = "epmd_port=43\0" "69\n";

	ck_assert_int_eq(frame_info_parse(host, sizeof(host) - 1, back),
	    FRAME_EFIELD);
	ck_assert_int_eq(frame_info_parse(version, sizeof(version) - 1, back),
	    FRAME_EFIELD);
	ck_assert_int_eq(frame_info_parse(node, sizeof(node) - 1, back),
	    FRAME_EFIELD);
	ck_assert_int_eq(frame_info_parse(port, sizeof(port) - 1, back),
	    FRAME_EFIELD);
}
END_TEST

/* The parser reads len bytes and no more: no NUL is needed after them. */
START_TEST(info_parse_stays_in_bounds)
{
	static const char body[] = "host=h\nnode=web 4370";
	char *heap;
	size_t len;

	for (len = 0; len <= sizeof(body) - 1; len++) {
		heap = malloc(len ? len : 1);
		ck_assert_ptr_nonnull(heap);
		memcpy(heap, body, len);
		(void)frame_info_parse(heap, len, back);
		free(heap);
	}
	ck_assert_uint_eq(back->nnodes, 1);
}
END_TEST

/* A hostile server's INFO must not reach the user's terminal as escapes. */
START_TEST(info_parse_control_characters)
{
	static const char *const bodies[] = {
		"host=\x1b]0;owned\x07\n",
		"version=1\x1b[2J\n",
		"node=app\x7f 4369\n",
		"host=a\rb\n",
		"host=tab\there\n",
	};
	struct frame_info fi;

	ck_assert_int_eq(frame_info_parse(bodies[_i], strlen(bodies[_i]), &fi),
	    FRAME_EFIELD);
}
END_TEST

static Suite *
frame_suite(void)
{
	Suite *s = suite_create("frame");
	TCase *tc;

	tc = tcase_create("encode");
	tcase_add_checked_fixture(tc, setup_good, NULL);
	tcase_add_test(tc, encode_layout);
	tcase_add_loop_test(tc, encode_decode_round_trip, 0, 27);
	tcase_add_test(tc, encode_info_port_zero);
	tcase_add_test(tc, encode_port_zero_refused);
	tcase_add_loop_test(tc, encode_bad_tag, 0, 3);
	tcase_add_test(tc, encode_body_too_long);
	tcase_add_test(tc, encode_espace);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_checked_fixture(tc, setup_good, NULL);
	tcase_add_test(tc, decode_truncated_needs_more);
	tcase_add_test(tc, decode_truncated_info_body);
	tcase_add_test(tc, decode_extra_bytes_not_consumed);
	tcase_add_test(tc, decode_back_to_back);
	tcase_add_test(tc, decode_body_at_limit);
	tcase_add_test(tc, strerror_and_tag_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_checked_fixture(tc, setup_good, NULL);
	tcase_add_loop_test(tc, decode_wrong_magic_each_byte, 0, FRAME_MAGIC_LEN);
	tcase_add_test(tc, decode_http_is_not_magic);
	tcase_add_loop_test(tc, decode_wrong_version, 0, 3);
	tcase_add_loop_test(tc, decode_unknown_tag, 0, 3);
	tcase_add_loop_test(tc, decode_port_zero, 0, 2);
	tcase_add_test(tc, decode_info_port_zero_ok);
	tcase_add_test(tc, decode_version_tag_mismatch);
	tcase_add_test(tc, carrier_round_trip);
	tcase_add_loop_test(tc, decode_body_over_limit, 0, 3);
	tcase_add_test(tc, decode_body_over_zero_limit);
	tcase_add_test(tc, decode_first_error_wins);
	suite_add_tcase(s, tc);

	tc = tcase_create("info");
	tcase_add_checked_fixture(tc, setup_info, teardown_info);
	tcase_add_test(tc, info_format_text);
	tcase_add_loop_test(tc, info_round_trip, 0, 3);
	tcase_add_test(tc, info_round_trip_longest_values);
	tcase_add_test(tc, info_format_espace);
	tcase_add_test(tc, info_format_skips_odd_nodes);
	tcase_add_test(tc, info_format_refuses_line_breaks);
	tcase_add_test(tc, info_parse_too_many_nodes);
	tcase_add_test(tc, info_parse_oversized_fields);
	tcase_add_test(tc, info_parse_bad_ports);
	tcase_add_test(tc, info_parse_malformed_lines);
	tcase_add_test(tc, info_parse_unknown_keys_skipped);
	tcase_add_test(tc, info_parse_last_line_without_newline);
	tcase_add_test(tc, info_parse_empty_and_blank);
	tcase_add_test(tc, info_parse_embedded_nul);
	tcase_add_loop_test(tc, info_parse_control_characters, 0, 5);
	tcase_add_test(tc, info_parse_stays_in_bounds);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(frame_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
