/*
 * check_carrier.c: the carrier protocol's frames (tools/common/carrier.h),
 * one Check suite.
 *
 * A carrier's bytes come from a command's stdout or a forwarded port, split
 * anywhere, so every malformed frame is tried at every length it could
 * arrive in.  The granularity pinned here: the version and type are judged
 * as their byte arrives, the flags once both of their bytes are in, the
 * stream and the length once the whole header is in, the payload once all
 * of it is in.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carrier.h"
#include "frame.h"

/* One frame as encode's arguments. */
struct spec {
	enum carrier_type	 type;
	uint32_t		 stream;
	const char		*payload;
	size_t			 len;
};

/* Every type with payloads at the edges of what it allows. */
static const struct spec valid[] = {
	{ CARRIER_DATA, 1, "x", 1 },
	{ CARRIER_DATA, 0xffffffffu, "hello", 5 },
	{ CARRIER_WINDOW_UPDATE, 1, "\x00\x00\x00\x01", 4 },
	{ CARRIER_WINDOW_UPDATE, 3, "\x00\x04\x00\x00", 4 },	/* CARRIER_WINDOW */
	{ CARRIER_WINDOW_UPDATE, 5, "\x40\x00\x00\x00", 4 },	/* the max */
	{ CARRIER_OPEN, 1, "\x01\x11\x11", 3 },			/* EPMD 4369 */
	{ CARRIER_OPEN, 7, "\x02\x00\x01", 3 },			/* DIST 1 */
	{ CARRIER_OPEN, 9, "\x02\xff\xff", 3 },			/* DIST 65535 */
	{ CARRIER_OPEN, 11, "\x03\x00\x00", 3 },		/* INFO */
	{ CARRIER_FIN, 1, NULL, 0 },
	{ CARRIER_RESET, 1, "\x01", 1 },
	{ CARRIER_RESET, 3, "\x02", 1 },
	{ CARRIER_RESET, 5, "\x03", 1 },
	{ CARRIER_PING, 0, "\x00\x00\x00\x00", 4 },
	{ CARRIER_PING, 0, "\xff\xff\xff\xff", 4 },
	{ CARRIER_PONG, 0, "\x12\x34\x56\x78", 4 },
	{ CARRIER_GOAWAY, 0, "\x00", 1 },
	{ CARRIER_GOAWAY, 0, "\x01" "bad frame", 10 },
	{ CARRIER_GOAWAY, 0, "\x02 ~", 3 },			/* 0x20, 0x7e */
	{ CARRIER_GOAWAY, 0, "\x03" "idle for 60 s", 14 },
};
#define NVALID	((int)(sizeof(valid) / sizeof(valid[0])))

static uint8_t	big[CARRIER_DATA_MAX + 1];	/* a payload of 'b's */
static uint8_t	out[CARRIER_FRAME_MAX + 64];

static void
setup_big(void)
{
	memset(big, 'b', sizeof(big));
}

/* raw: a header with every field given, for frames encode would refuse. */
static void
raw(uint8_t *b, uint8_t version, uint8_t type, uint16_t flags,
    uint32_t stream, uint32_t len)
{
	b[0] = version;
	b[1] = type;
	b[2] = (uint8_t)(flags >> 8);
	b[3] = (uint8_t)flags;
	b[4] = (uint8_t)(stream >> 24);
	b[5] = (uint8_t)(stream >> 16);
	b[6] = (uint8_t)(stream >> 8);
	b[7] = (uint8_t)stream;
	b[8] = (uint8_t)(len >> 24);
	b[9] = (uint8_t)(len >> 16);
	b[10] = (uint8_t)(len >> 8);
	b[11] = (uint8_t)len;
}

/*
 * Decode every prefix of bad (total bytes) and expect 0 until the byte at
 * bad_at has been seen, then err.
 */
static void
expect_error_from(const uint8_t *bad, size_t total, size_t bad_at, int err)
{
	struct carrier_frame f;
	size_t len;
	int rc;

	for (len = 0; len <= total; len++) {
		rc = carrier_decode(bad, len, &f);
		if (len <= bad_at)
			ck_assert_msg(rc == 0, "%zu bytes (bad byte at %zu): got %d, "
			    "want 0", len, bad_at, rc);
		else
			ck_assert_msg(rc == err, "%zu bytes (bad byte at %zu): got %d, "
			    "want %d", len, bad_at, rc, err);
	}
}

/* A header and payload of the caller's choosing, decoded prefix by prefix. */
static void
expect_frame_error(uint8_t type, uint32_t stream, const void *payload,
    uint32_t len, size_t bad_at, int err)
{
	uint8_t buf[CARRIER_HDR_LEN + 256];

	ck_assert_uint_le(len, 256);
	raw(buf, CARRIER_VERSION, type, 0, stream, len);
	if (len > 0)
		memcpy(buf + CARRIER_HDR_LEN, payload, len);
	expect_error_from(buf, CARRIER_HDR_LEN + len, bad_at, err);
}

/* --- encode ------------------------------------------------------------- */

START_TEST(encode_layout)
{
	static const uint8_t want[] = {
		CARRIER_VERSION, CARRIER_DATA, 0x00, 0x00,
		0x01, 0x02, 0x03, 0x05, 0x00, 0x00, 0x00, 0x03, 'a', 'b', 'c'
	};

	ck_assert_int_eq(carrier_encode(out, sizeof(out), CARRIER_DATA,
	    0x01020305, "abc", 3), (int)sizeof(want));
	ck_assert_mem_eq(out, want, sizeof(want));
}
END_TEST

START_TEST(put_hdr_layout)
{
	static const uint8_t want[CARRIER_HDR_LEN] = {
		CARRIER_VERSION, CARRIER_DATA, 0x00, 0x00,
		0xfe, 0xdc, 0xba, 0x99, 0x00, 0x00, 0x40, 0x00
	};
	uint8_t buf[CARRIER_HDR_LEN + 1];
	struct carrier_frame f;

	memset(buf, 0xa5, sizeof(buf));
	carrier_put_hdr(buf, CARRIER_DATA, 0xfedcba99, CARRIER_DATA_MAX);
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_uint_eq(buf[CARRIER_HDR_LEN], 0xa5);
	/* A header alone: the payload is still to come. */
	ck_assert_int_eq(carrier_decode(buf, CARRIER_HDR_LEN, &f), 0);
}
END_TEST

/* Every valid frame encodes, decodes to its fields, and decodes from its bytes. */
START_TEST(round_trip)
{
	const struct spec *s = &valid[_i];
	struct carrier_frame f;
	int n;

	n = carrier_encode(out, sizeof(out), s->type, s->stream, s->payload,
	    s->len);
	ck_assert_int_eq(n, (int)(CARRIER_HDR_LEN + s->len));
	memset(&f, 0x5a, sizeof(f));
	ck_assert_int_eq(carrier_decode(out, (size_t)n, &f), n);
	ck_assert_uint_eq(f.type, s->type);
	ck_assert_uint_eq(f.stream, s->stream);
	ck_assert_uint_eq(f.len, s->len);
	ck_assert_ptr_eq(f.payload, out + CARRIER_HDR_LEN);
	if (s->len > 0)
		ck_assert_mem_eq(f.payload, s->payload, s->len);
	ck_assert_str_ne(carrier_type_name(f.type), "unknown");
}
END_TEST

/* The largest DATA and the longest GOAWAY reason are allowed. */
START_TEST(round_trip_at_limits)
{
	uint8_t reason[CARRIER_CTL_MAX];
	struct carrier_frame f;
	int n;

	n = carrier_encode(out, sizeof(out), CARRIER_DATA, 1, big,
	    CARRIER_DATA_MAX);
	ck_assert_int_eq(n, CARRIER_FRAME_MAX);
	ck_assert_int_eq(carrier_decode(out, (size_t)n, &f), n);
	ck_assert_uint_eq(f.len, CARRIER_DATA_MAX);

	reason[0] = CARRIER_GA_LIMIT;
	memset(reason + 1, 'r', CARRIER_REASON_MAX);
	n = carrier_encode(out, sizeof(out), CARRIER_GOAWAY, 0, reason,
	    sizeof(reason));
	ck_assert_int_eq(n, CARRIER_HDR_LEN + CARRIER_CTL_MAX);
	ck_assert_int_eq(carrier_decode(out, (size_t)n, &f), n);
	ck_assert_uint_eq(f.len, CARRIER_CTL_MAX);
	ck_assert_uint_eq(f.payload[0], CARRIER_GA_LIMIT);
}
END_TEST

/* Every capacity short of the frame is refused, and nothing lands past it. */
START_TEST(encode_espace)
{
	const struct spec *s = &valid[_i];
	size_t cap, need = CARRIER_HDR_LEN + s->len;
	uint8_t *buf;

	for (cap = 0; cap < need; cap++) {
		buf = malloc(cap ? cap : 1);	/* exact: ASan sees an overrun */
		ck_assert_ptr_nonnull(buf);
		ck_assert_msg(carrier_encode(buf, cap, s->type, s->stream,
		    s->payload, s->len) == CARRIER_ESPACE, "cap %zu not refused",
		    cap);
		free(buf);
	}
	buf = malloc(need);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(carrier_encode(buf, need, s->type, s->stream,
	    s->payload, s->len), (int)need);
	free(buf);
}
END_TEST

/*
 * Frames encode must refuse, with the error decode gives for the same bytes,
 * and without touching the buffer.
 */
static const struct spec invalid[] = {
	{ CARRIER_DATA, 0, "x", 1 },
	{ CARRIER_DATA, 1, NULL, 0 },
	{ CARRIER_WINDOW_UPDATE, 0, "\x00\x00\x00\x01", 4 },
	{ CARRIER_WINDOW_UPDATE, 1, "\x00\x00\x00\x00", 4 },
	{ CARRIER_WINDOW_UPDATE, 1, "\x40\x00\x00\x01", 4 },
	{ CARRIER_WINDOW_UPDATE, 1, "\x00\x01", 2 },
	{ CARRIER_OPEN, 1, "\x03\x00\x01", 3 },
	{ CARRIER_OPEN, 1, "\x01\x00\x00", 3 },
	{ CARRIER_OPEN, 1, "\x04\x11\x11", 3 },
	{ CARRIER_OPEN, 0, "\x01\x11\x11", 3 },
	{ CARRIER_FIN, 1, "x", 1 },
	{ CARRIER_FIN, 0, NULL, 0 },
	{ CARRIER_RESET, 1, "\x00", 1 },
	{ CARRIER_RESET, 1, "\x04", 1 },
	{ CARRIER_PING, 1, "abcd", 4 },
	{ CARRIER_PING, 0, "abc", 3 },
	{ CARRIER_PONG, 7, "abcd", 4 },
	{ CARRIER_GOAWAY, 0, NULL, 0 },
	{ CARRIER_GOAWAY, 0, "\x04", 1 },
	{ CARRIER_GOAWAY, 0, "\x00\x1b[2J", 5 },
	{ CARRIER_GOAWAY, 1, "\x00", 1 },
	{ (enum carrier_type)8, 1, "x", 1 },
	{ (enum carrier_type)255, 0, NULL, 0 },
};
#define NINVALID	((int)(sizeof(invalid) / sizeof(invalid[0])))

START_TEST(encode_refuses_what_decode_refuses)
{
	const struct spec *s = &invalid[_i];
	uint8_t bytes[CARRIER_HDR_LEN + 16];
	struct carrier_frame f;
	int want;

	raw(bytes, CARRIER_VERSION, (uint8_t)s->type, 0, s->stream,
	    (uint32_t)s->len);
	if (s->len > 0)
		memcpy(bytes + CARRIER_HDR_LEN, s->payload, s->len);
	want = carrier_decode(bytes, CARRIER_HDR_LEN + s->len, &f);
	ck_assert_int_lt(want, 0);
	memset(out, 0xa5, sizeof(out));
	ck_assert_int_eq(carrier_encode(out, sizeof(out), s->type, s->stream,
	    s->payload, s->len), want);
	ck_assert_uint_eq(out[0], 0xa5);
	/* The frame is judged before the room: no room does not hide it. */
	ck_assert_int_eq(carrier_encode(out, 0, s->type, s->stream, s->payload,
	    s->len), want);
	ck_assert_int_eq(carrier_encode(out, CARRIER_HDR_LEN, s->type,
	    s->stream, s->payload, s->len), want);
}
END_TEST

/* Too long AND wrong in the header: decode's error is the header's. */
START_TEST(encode_too_long_header_first)
{
	ck_assert_int_eq(carrier_encode(out, sizeof(out), CARRIER_DATA, 0, big,
	    CARRIER_DATA_MAX + 1), CARRIER_ESTREAM);
	ck_assert_int_eq(carrier_encode(out, sizeof(out), CARRIER_PING, 1, big,
	    CARRIER_DATA_MAX + 1), CARRIER_ESTREAM);
	ck_assert_int_eq(carrier_encode(out, sizeof(out), (enum carrier_type)8,
	    1, big, CARRIER_DATA_MAX + 1), CARRIER_ETYPE);
	ck_assert_int_eq(carrier_encode(out, sizeof(out), (enum carrier_type)8,
	    1, big, (size_t)-1), CARRIER_ETYPE);
	ck_assert_int_eq(carrier_encode(out, sizeof(out), CARRIER_DATA, 1, big,
	    (size_t)-1), CARRIER_ELENGTH);
}
END_TEST

/* Longer than any type allows: refused, whatever the room. */
START_TEST(encode_too_long)
{
	static const enum carrier_type types[] = { CARRIER_DATA,
	    CARRIER_WINDOW_UPDATE, CARRIER_OPEN, CARRIER_FIN, CARRIER_RESET,
	    CARRIER_PING, CARRIER_PONG, CARRIER_GOAWAY };
	uint32_t stream;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		stream = types[i] >= CARRIER_PING ? 0 : 1;
		ck_assert_int_eq(carrier_encode(out, sizeof(out), types[i], stream,
		    big, CARRIER_DATA_MAX + 1), CARRIER_ELENGTH);
	}
	ck_assert_int_eq(carrier_encode(out, 4, CARRIER_DATA, 1, big,
	    CARRIER_DATA_MAX + 1), CARRIER_ELENGTH);
}
END_TEST

/* --- decode: well-formed ------------------------------------------------ */

/* Every prefix of a valid frame asks for more. */
START_TEST(decode_prefixes_need_more)
{
	const struct spec *s = &valid[_i];
	struct carrier_frame f;
	uint8_t *copy;
	size_t len;
	int n;

	n = carrier_encode(out, sizeof(out), s->type, s->stream, s->payload,
	    s->len);
	ck_assert_int_gt(n, 0);
	for (len = 0; len < (size_t)n; len++) {
		copy = malloc(len ? len : 1);	/* exact: ASan sees an overread */
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, out, len);
		ck_assert_msg(carrier_decode(copy, len, &f) == 0,
		    "prefix of %zu bytes: %d", len, carrier_decode(copy, len, &f));
		free(copy);
	}
	ck_assert_int_eq(carrier_decode(out, len, &f), n);
}
END_TEST

START_TEST(decode_largest_data_prefixes)
{
	struct carrier_frame f;
	size_t len;
	int n;

	n = carrier_encode(out, sizeof(out), CARRIER_DATA, 1, big,
	    CARRIER_DATA_MAX);
	ck_assert_int_eq(n, CARRIER_FRAME_MAX);
	for (len = 0; len < (size_t)n; len++)
		if (carrier_decode(out, len, &f) != 0)
			ck_abort_msg("prefix of %zu bytes not 'need more'", len);
	ck_assert_int_eq(carrier_decode(out, len, &f), n);
}
END_TEST

/* Bytes after the frame belong to the next one: not consumed, not judged. */
START_TEST(decode_bytes_after_not_looked_at)
{
	static const uint8_t junk[] = { 0xff, 0x00, 0x7f, 0x80 };
	struct carrier_frame f;
	uint8_t buf[64];
	size_t i;
	int n;

	n = carrier_encode(buf, sizeof(buf), CARRIER_RESET, 3, "\x02", 1);
	ck_assert_int_eq(n, CARRIER_HDR_LEN + 1);
	for (i = 0; i < sizeof(junk); i++) {
		memset(buf + n, junk[i], sizeof(buf) - (size_t)n);
		ck_assert_int_eq(carrier_decode(buf, sizeof(buf), &f), n);
		ck_assert_uint_eq(f.type, CARRIER_RESET);
		ck_assert_uint_eq(f.len, 1);
		ck_assert_uint_eq(f.payload[0], CARRIER_RST_REFUSED);
	}
	/* A GOAWAY whose next byte would not be printable: still whole. */
	n = carrier_encode(buf, sizeof(buf), CARRIER_GOAWAY, 0, "\x00" "bye", 4);
	ck_assert_int_eq(n, CARRIER_HDR_LEN + 4);
	buf[n] = '\n';
	ck_assert_int_eq(carrier_decode(buf, (size_t)n + 1, &f), n);
	ck_assert_uint_eq(f.len, 4);
}
END_TEST

/* Every valid frame, back to back in one buffer, decoded one after the other. */
START_TEST(decode_stream_of_frames)
{
	static uint8_t buf[NVALID * (CARRIER_HDR_LEN + CARRIER_CTL_MAX)];
	struct carrier_frame f;
	size_t off = 0;
	int i, n;

	for (i = 0; i < NVALID; i++) {
		n = carrier_encode(buf + off, sizeof(buf) - off, valid[i].type,
		    valid[i].stream, valid[i].payload, valid[i].len);
		ck_assert_int_gt(n, 0);
		off += (size_t)n;
	}
	ck_assert_uint_le(off, sizeof(buf));
	off = 0;
	for (i = 0; i < NVALID; i++) {
		n = carrier_decode(buf + off, sizeof(buf) - off, &f);
		ck_assert_int_eq(n, (int)(CARRIER_HDR_LEN + valid[i].len));
		ck_assert_uint_eq(f.type, valid[i].type);
		ck_assert_uint_eq(f.stream, valid[i].stream);
		ck_assert_ptr_eq(f.payload, buf + off + CARRIER_HDR_LEN);
		off += (size_t)n;
	}
}
END_TEST

START_TEST(u32_and_open)
{
	static const struct { const char *p; uint32_t v; } u32s[] = {
		{ "\x00\x00\x00\x01", 1 }, { "\x00\x04\x00\x00", CARRIER_WINDOW },
		{ "\x40\x00\x00\x00", CARRIER_WINDOW_MAX },
		{ "\xff\xff\xff\xff", 0xffffffffu }, { "\x12\x34\x56\x78", 0x12345678 },
	};
	struct carrier_frame f;
	uint16_t port;
	uint8_t tag;
	size_t i;

	for (i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++) {
		f.payload = (const uint8_t *)u32s[i].p;
		f.len = 4;
		ck_assert_uint_eq(carrier_u32(&f), u32s[i].v);
	}
	ck_assert_int_gt(carrier_encode(out, sizeof(out), CARRIER_OPEN, 1,
	    "\x02\xb0\x43", 3), 0);
	ck_assert_int_gt(carrier_decode(out, CARRIER_HDR_LEN + 3, &f), 0);
	carrier_open(&f, &tag, &port);
	ck_assert_uint_eq(tag, FRAME_TAG_DIST);
	ck_assert_uint_eq(port, 45123);
	ck_assert_int_gt(carrier_encode(out, sizeof(out), CARRIER_OPEN, 1,
	    "\x03\x00\x00", 3), 0);
	ck_assert_int_gt(carrier_decode(out, CARRIER_HDR_LEN + 3, &f), 0);
	carrier_open(&f, &tag, &port);
	ck_assert_uint_eq(tag, FRAME_TAG_INFO);
	ck_assert_uint_eq(port, 0);
}
END_TEST

START_TEST(strerror_and_type_names)
{
	static const int errs[] = { CARRIER_EVERSION, CARRIER_ETYPE,
	    CARRIER_EFLAGS, CARRIER_ESTREAM, CARRIER_ELENGTH, CARRIER_EPAYLOAD,
	    CARRIER_ESPACE };
	static const char *const names[] = { "data", "window", "open", "fin",
	    "reset", "ping", "pong", "goaway" };
	size_t i, j;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		ck_assert_str_ne(carrier_strerror(errs[i]), "unknown error");
		for (j = 0; j < i; j++)
			ck_assert_str_ne(carrier_strerror(errs[i]),
			    carrier_strerror(errs[j]));
	}
	ck_assert_str_eq(carrier_strerror(0), "unknown error");
	ck_assert_str_eq(carrier_strerror(1), "unknown error");
	ck_assert_str_eq(carrier_strerror(-8), "unknown error");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_str_eq(carrier_type_name((int)i), names[i]);
	ck_assert_str_eq(carrier_type_name(-1), "unknown");
	ck_assert_str_eq(carrier_type_name(8), "unknown");
	ck_assert_str_eq(carrier_type_name(255), "unknown");
}
END_TEST

/* --- decode: malformed header ------------------------------------------- */

START_TEST(decode_wrong_version)
{
	static const uint8_t versions[] = { 0, 1, 3, 'E', 255 };
	uint8_t bad[CARRIER_HDR_LEN + 1];

	ck_assert_int_eq(carrier_encode(bad, sizeof(bad), CARRIER_DATA, 1, "x",
	    1), (int)sizeof(bad));
	bad[0] = versions[_i];
	expect_error_from(bad, sizeof(bad), 0, CARRIER_EVERSION);
}
END_TEST

/* A version 1 preamble where a carrier frame belongs is refused at once. */
START_TEST(decode_v1_preamble_is_not_a_frame)
{
	uint8_t pre[FRAME_HDR_LEN];
	struct carrier_frame f;

	ck_assert_int_eq(frame_encode(pre, sizeof(pre), FRAME_TAG_DIST, 4370,
	    NULL, 0), FRAME_HDR_LEN);
	ck_assert_int_eq(carrier_decode(pre, 1, &f), CARRIER_EVERSION);
}
END_TEST

START_TEST(decode_unknown_type)
{
	static const uint8_t types[] = { 8, 9, 0x80, 255 };
	uint8_t bad[CARRIER_HDR_LEN + 1];

	ck_assert_int_eq(carrier_encode(bad, sizeof(bad), CARRIER_DATA, 1, "x",
	    1), (int)sizeof(bad));
	bad[1] = types[_i];
	expect_error_from(bad, sizeof(bad), 1, CARRIER_ETYPE);
}
END_TEST

/* Any reserved flag bit, in either byte, on any frame: refused at byte 4. */
START_TEST(decode_flags)
{
	static const uint16_t flags[] = { 0x0001, 0x0080, 0x0100, 0x8000,
	    0xffff };
	uint8_t bad[CARRIER_HDR_LEN + 4];
	size_t i;
	int n;

	for (i = 0; i < NVALID; i++) {
		if (valid[i].len > 4)
			continue;
		n = carrier_encode(bad, sizeof(bad), valid[i].type,
		    valid[i].stream, valid[i].payload, valid[i].len);
		ck_assert_int_gt(n, 0);
		bad[2] = (uint8_t)(flags[_i] >> 8);
		bad[3] = (uint8_t)flags[_i];
		expect_error_from(bad, (size_t)n, 3, CARRIER_EFLAGS);
	}
}
END_TEST

/* Stream 0 is the carrier's: a stream's frame there is refused, and the reverse. */
START_TEST(decode_stream_zero)
{
	static const uint8_t per_stream[] = { CARRIER_DATA,
	    CARRIER_WINDOW_UPDATE, CARRIER_OPEN, CARRIER_FIN, CARRIER_RESET };
	static const uint8_t per_carrier[] = { CARRIER_PING, CARRIER_PONG,
	    CARRIER_GOAWAY };
	static const uint32_t ids[] = { 1, 2, 0x80000000u, 0xffffffffu };
	uint8_t bad[CARRIER_HDR_LEN + 4];
	size_t i, j;

	/* The payloads are valid ones: the stream alone is wrong. */
	for (i = 0; i < sizeof(per_stream); i++) {
		raw(bad, CARRIER_VERSION, per_stream[i], 0, 0,
		    per_stream[i] == CARRIER_FIN ? 0 :
		    per_stream[i] == CARRIER_OPEN ? 3 :
		    per_stream[i] == CARRIER_RESET ? 1 :
		    per_stream[i] == CARRIER_DATA ? 1 : 4);
		memcpy(bad + CARRIER_HDR_LEN, "\x01\x00\x01\x00", 4);
		expect_error_from(bad, sizeof(bad), CARRIER_HDR_LEN - 1,
		    CARRIER_ESTREAM);
	}
	for (i = 0; i < sizeof(per_carrier); i++)
		for (j = 0; j < sizeof(ids) / sizeof(ids[0]); j++) {
			raw(bad, CARRIER_VERSION, per_carrier[i], 0, ids[j],
			    per_carrier[i] == CARRIER_GOAWAY ? 1 : 4);
			memset(bad + CARRIER_HDR_LEN, 0, 4);
			expect_error_from(bad, sizeof(bad), CARRIER_HDR_LEN - 1,
			    CARRIER_ESTREAM);
		}
}
END_TEST

/* Lengths each type refuses, judged from the header before any payload. */
static const struct {
	uint8_t		type;
	uint32_t	len;
} bad_lens[] = {
	{ CARRIER_DATA, 0 },
	{ CARRIER_DATA, CARRIER_DATA_MAX + 1 },
	{ CARRIER_DATA, 0x00010000 },
	{ CARRIER_DATA, 0x01000000 },
	{ CARRIER_DATA, 0xffffffffu },
	{ CARRIER_WINDOW_UPDATE, 0 }, { CARRIER_WINDOW_UPDATE, 3 },
	{ CARRIER_WINDOW_UPDATE, 5 }, { CARRIER_WINDOW_UPDATE, 0x00000104 },
	{ CARRIER_OPEN, 0 }, { CARRIER_OPEN, 2 }, { CARRIER_OPEN, 4 },
	{ CARRIER_OPEN, 0x01000003 },
	{ CARRIER_FIN, 1 }, { CARRIER_FIN, 0x80000000u },
	{ CARRIER_RESET, 0 }, { CARRIER_RESET, 2 },
	{ CARRIER_RESET, 0x00000101 },
	{ CARRIER_PING, 0 }, { CARRIER_PING, 8 }, { CARRIER_PING, 0x04000004 },
	{ CARRIER_PONG, 3 }, { CARRIER_PONG, 5 },
	{ CARRIER_GOAWAY, 0 }, { CARRIER_GOAWAY, CARRIER_CTL_MAX + 1 },
	{ CARRIER_GOAWAY, CARRIER_DATA_MAX }, { CARRIER_GOAWAY, 0xffffffffu },
};
#define NBAD_LENS	((int)(sizeof(bad_lens) / sizeof(bad_lens[0])))

START_TEST(decode_lengths)
{
	uint8_t bad[CARRIER_HDR_LEN + 8];
	uint8_t type = bad_lens[_i].type;

	raw(bad, CARRIER_VERSION, type, 0, type >= CARRIER_PING ? 0 : 1,
	    bad_lens[_i].len);
	memset(bad + CARRIER_HDR_LEN, 1, 8);	/* valid for every payload */
	expect_error_from(bad, sizeof(bad), CARRIER_HDR_LEN - 1,
	    CARRIER_ELENGTH);
}
END_TEST

/* The first wrong field decides, whatever follows it. */
START_TEST(decode_first_error_wins)
{
	uint8_t bad[CARRIER_HDR_LEN + 1];
	struct carrier_frame f;

	raw(bad, 0, 0xff, 0xffff, 0, 0);	/* wrong everything */
	bad[CARRIER_HDR_LEN] = 0;
	ck_assert_int_eq(carrier_decode(bad, sizeof(bad), &f), CARRIER_EVERSION);
	bad[0] = CARRIER_VERSION;
	ck_assert_int_eq(carrier_decode(bad, sizeof(bad), &f), CARRIER_ETYPE);
	bad[1] = CARRIER_DATA;
	ck_assert_int_eq(carrier_decode(bad, sizeof(bad), &f), CARRIER_EFLAGS);
	bad[2] = bad[3] = 0;
	ck_assert_int_eq(carrier_decode(bad, sizeof(bad), &f), CARRIER_ESTREAM);
	bad[7] = 1;
	ck_assert_int_eq(carrier_decode(bad, sizeof(bad), &f), CARRIER_ELENGTH);
	bad[11] = 1;
	ck_assert_int_eq(carrier_decode(bad, sizeof(bad), &f), CARRIER_HDR_LEN + 1);
	/* A RESET with stream 0 and a bad length: the stream is judged first. */
	raw(bad, CARRIER_VERSION, CARRIER_RESET, 0, 0, 7);
	ck_assert_int_eq(carrier_decode(bad, CARRIER_HDR_LEN, &f),
	    CARRIER_ESTREAM);
}
END_TEST

/* --- decode: malformed payload -------------------------------------------- */

/* WINDOW: 0 and more than CARRIER_WINDOW_MAX are refused once all 4 bytes are in. */
START_TEST(decode_window_values)
{
	static const uint8_t bad_vals[][4] = {
		{ 0, 0, 0, 0 }, { 0x40, 0, 0, 1 }, { 0x80, 0, 0, 0 },
		{ 0xff, 0xff, 0xff, 0xff },
	};

	expect_frame_error(CARRIER_WINDOW_UPDATE, 1, bad_vals[_i], 4,
	    CARRIER_HDR_LEN + 3, CARRIER_EPAYLOAD);
}
END_TEST

/* OPEN: INFO needs port 0, EPMD and DIST need a port, other tags none. */
static const uint8_t bad_opens[][3] = {
	{ FRAME_TAG_INFO, 0x00, 0x01 }, { FRAME_TAG_INFO, 0x01, 0x00 },
	{ FRAME_TAG_INFO, 0xff, 0xff },
	{ FRAME_TAG_EPMD, 0x00, 0x00 }, { FRAME_TAG_DIST, 0x00, 0x00 },
	{ 0, 0x11, 0x11 }, { 0, 0x00, 0x00 },
	{ FRAME_TAG_CARRIER, 0x00, 0x00 }, { FRAME_TAG_CARRIER, 0x11, 0x11 },
	{ 5, 0x11, 0x11 }, { 255, 0x00, 0x00 },
};
#define NBAD_OPENS	((int)(sizeof(bad_opens) / sizeof(bad_opens[0])))

START_TEST(decode_open_tags_and_ports)
{

	expect_frame_error(CARRIER_OPEN, 1, bad_opens[_i], 3,
	    CARRIER_HDR_LEN + 2, CARRIER_EPAYLOAD);
}
END_TEST

START_TEST(decode_reset_codes)
{
	static const uint8_t codes[] = { 0, CARRIER_RST_ERROR + 1, 0x80, 255 };

	expect_frame_error(CARRIER_RESET, 1, &codes[_i], 1, CARRIER_HDR_LEN,
	    CARRIER_EPAYLOAD);
}
END_TEST

START_TEST(decode_goaway_codes)
{
	static const uint8_t codes[] = { CARRIER_GA_IDLE + 1, 0x80, 255 };
	uint8_t p[4];

	p[0] = codes[_i];
	expect_frame_error(CARRIER_GOAWAY, 0, p, 1, CARRIER_HDR_LEN,
	    CARRIER_EPAYLOAD);
	memcpy(p + 1, "bye", 3);
	expect_frame_error(CARRIER_GOAWAY, 0, p, 4, CARRIER_HDR_LEN + 3,
	    CARRIER_EPAYLOAD);
}
END_TEST

/* A reason byte outside 0x20..0x7e, first, middle or last: refused. */
START_TEST(decode_goaway_reason_bytes)
{
	static const uint8_t bytes[] = { 0x00, 0x07, '\t', '\n', '\r', 0x1b,
	    0x1f, 0x7f, 0x80, 0x9b, 0xff };
	uint8_t p[1 + 16];
	size_t at;

	for (at = 1; at < sizeof(p); at += 7) {
		p[0] = CARRIER_GA_PROTOCOL;
		memset(p + 1, 'a', sizeof(p) - 1);
		p[at] = bytes[_i];
		expect_frame_error(CARRIER_GOAWAY, 0, p, sizeof(p),
		    CARRIER_HDR_LEN + sizeof(p) - 1, CARRIER_EPAYLOAD);
	}
}
END_TEST

static Suite *
carrier_suite(void)
{
	Suite *s = suite_create("carrier");
	TCase *tc;

	tc = tcase_create("encode");
	tcase_add_checked_fixture(tc, setup_big, NULL);
	tcase_add_test(tc, encode_layout);
	tcase_add_test(tc, put_hdr_layout);
	tcase_add_loop_test(tc, round_trip, 0, NVALID);
	tcase_add_test(tc, round_trip_at_limits);
	tcase_add_loop_test(tc, encode_espace, 0, NVALID);
	tcase_add_loop_test(tc, encode_refuses_what_decode_refuses, 0, NINVALID);
	tcase_add_test(tc, encode_too_long);
	tcase_add_test(tc, encode_too_long_header_first);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_checked_fixture(tc, setup_big, NULL);
	tcase_add_loop_test(tc, decode_prefixes_need_more, 0, NVALID);
	tcase_add_test(tc, decode_largest_data_prefixes);
	tcase_add_test(tc, decode_bytes_after_not_looked_at);
	tcase_add_test(tc, decode_stream_of_frames);
	tcase_add_test(tc, u32_and_open);
	tcase_add_test(tc, strerror_and_type_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("header");
	tcase_add_loop_test(tc, decode_wrong_version, 0, 5);
	tcase_add_test(tc, decode_v1_preamble_is_not_a_frame);
	tcase_add_loop_test(tc, decode_unknown_type, 0, 4);
	tcase_add_loop_test(tc, decode_flags, 0, 5);
	tcase_add_test(tc, decode_stream_zero);
	tcase_add_loop_test(tc, decode_lengths, 0, NBAD_LENS);
	tcase_add_test(tc, decode_first_error_wins);
	suite_add_tcase(s, tc);

	tc = tcase_create("payload");
	tcase_add_loop_test(tc, decode_window_values, 0, 4);
	tcase_add_loop_test(tc, decode_open_tags_and_ports, 0, NBAD_OPENS);
	tcase_add_loop_test(tc, decode_reset_codes, 0, 4);
	tcase_add_loop_test(tc, decode_goaway_codes, 0, 3);
	tcase_add_loop_test(tc, decode_goaway_reason_bytes, 0, 11);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(carrier_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
