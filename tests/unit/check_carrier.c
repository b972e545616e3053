/*
 * check_carrier.c: the carrier protocol's frames (tools/common/carrier.h),
 * one Check suite.
 *
 * A carrier's bytes come from a command's stdout or a forwarded port, split
 * anywhere, so every malformed frame is tried at every length it could
 * arrive in.  The granularity pinned here: the version and type are judged
 * as their byte arrives, the flags once both of their bytes are in, the
 * stream and the length once the whole header is in, the payload once all
 * of it is in.  The resume frames (SESSION, ACK) are held to the same rules,
 * and their helpers (the session's view and encoders, the proof, the hex of
 * the hello's nonce) are checked against bytes written out by hand here or
 * computed by OpenSSL.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carrier.h"
#include "frame.h"

/* The first type that is none. */
#define TYPE_NONE	10

/* A session's fields, as string literals (juxtaposed, so that no hex
 * escape runs into the next one). */
#define SID	"\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf"
#define KEY	"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f" \
		"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f"
#define NONCE	"\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff"
/*
 * HMAC-SHA256 under KEY of "erlfwd-resume-1" || SID || NONCE, computed with
 * OpenSSL 3 apart from this code:
 *   { printf erlfwd-resume-1; echo -n a0a1...af f0f1...ff | xxd -r -p; } |
 *   openssl dgst -sha256 -mac HMAC -macopt hexkey:000102...1f
 */
#define PROOF	"\xca\x41\xb4\x9b\x27\x14\xd2\xe0\x4f\xe4\xa8\xb8\xab\x44\xb6\xb8" \
		"\x7b\x01\x4f\xe2\x3e\xd4\x27\x00\xc4\x7d\x8b\xb5\x79\xa5\xc8\x15"
#define COUNT	"\x01\x02\x03\x04\x05\x06\x07\x08"
#define ZERO8	"\x00\x00\x00\x00\x00\x00\x00\x00"
#define ONES8	"\xff\xff\xff\xff\xff\xff\xff\xff"

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
	{ CARRIER_SESSION, 0, "\x01" SID KEY, 49 },			/* NEW */
	{ CARRIER_SESSION, 0, "\x02" SID PROOF COUNT, 57 },		/* RESUME */
	{ CARRIER_SESSION, 0, "\x02" SID PROOF ZERO8, 57 },
	{ CARRIER_SESSION, 0, "\x03" ZERO8, 9 },			/* ACCEPT */
	{ CARRIER_SESSION, 0, "\x03" ONES8, 9 },
	{ CARRIER_SESSION, 0, "\x04\x01", 2 },			/* REFUSE */
	{ CARRIER_SESSION, 0, "\x04\x02", 2 },
	{ CARRIER_SESSION, 0, "\x04\x03", 2 },
	{ CARRIER_SESSION, 0, "\x04\x04", 2 },
	{ CARRIER_ACK, 0, ZERO8, 8 },
	{ CARRIER_ACK, 0, COUNT, 8 },
	{ CARRIER_ACK, 0, ONES8, 8 },
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
	{ (enum carrier_type)TYPE_NONE, 1, "x", 1 },
	{ (enum carrier_type)TYPE_NONE, 0, NULL, 0 },
	{ (enum carrier_type)255, 0, NULL, 0 },
	{ CARRIER_SESSION, 1, "\x04\x01", 2 },
	{ CARRIER_SESSION, 0xffffffffu, "\x03" ZERO8, 9 },
	{ CARRIER_SESSION, 0, NULL, 0 },
	{ CARRIER_SESSION, 0, "\x04", 1 },
	{ CARRIER_SESSION, 0, "\x03" ZERO8 "\x00", 10 },
	{ CARRIER_SESSION, 0, "\x04\x00", 2 },
	{ CARRIER_SESSION, 0, "\x04\x05", 2 },
	{ CARRIER_SESSION, 0, "\x00\x01", 2 },
	{ CARRIER_SESSION, 0, "\x05\x01", 2 },
	{ CARRIER_SESSION, 0, "\x03\x01", 2 },		/* ACCEPT, REFUSE's length */
	{ CARRIER_SESSION, 0, "\x01" ZERO8, 9 },		/* NEW, ACCEPT's */
	{ CARRIER_SESSION, 0, "\x02" SID KEY, 49 },		/* RESUME, NEW's */
	{ CARRIER_SESSION, 0, "\x01" SID PROOF COUNT, 57 },	/* NEW, RESUME's */
	{ CARRIER_ACK, 1, ZERO8, 8 },
	{ CARRIER_ACK, 0, COUNT, 7 },
	{ CARRIER_ACK, 0, COUNT "\x09", 9 },
	{ CARRIER_ACK, 0, NULL, 0 },
};
#define NINVALID	((int)(sizeof(invalid) / sizeof(invalid[0])))

START_TEST(encode_refuses_what_decode_refuses)
{
	const struct spec *s = &invalid[_i];
	uint8_t bytes[CARRIER_HDR_LEN + CARRIER_CTL_MAX];
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
	ck_assert_int_eq(carrier_encode(out, sizeof(out),
	    (enum carrier_type)TYPE_NONE, 1, big, CARRIER_DATA_MAX + 1),
	    CARRIER_ETYPE);
	ck_assert_int_eq(carrier_encode(out, sizeof(out),
	    (enum carrier_type)TYPE_NONE, 1, big, (size_t)-1), CARRIER_ETYPE);
	ck_assert_int_eq(carrier_encode(out, sizeof(out), CARRIER_ACK, 1, big,
	    CARRIER_DATA_MAX + 1), CARRIER_ESTREAM);
	ck_assert_int_eq(carrier_encode(out, sizeof(out), CARRIER_DATA, 1, big,
	    (size_t)-1), CARRIER_ELENGTH);
}
END_TEST

/* Longer than any type allows: refused, whatever the room. */
START_TEST(encode_too_long)
{
	static const enum carrier_type types[] = { CARRIER_DATA,
	    CARRIER_WINDOW_UPDATE, CARRIER_OPEN, CARRIER_FIN, CARRIER_RESET,
	    CARRIER_PING, CARRIER_PONG, CARRIER_GOAWAY, CARRIER_SESSION,
	    CARRIER_ACK };
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
	    "reset", "ping", "pong", "goaway", "session", "ack" };
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
	ck_assert_str_eq(carrier_type_name(TYPE_NONE), "unknown");
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
	static const uint8_t types[] = { TYPE_NONE, TYPE_NONE + 1, 0x80, 255 };
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
	uint8_t bad[CARRIER_HDR_LEN + CARRIER_CTL_MAX];
	size_t i;
	int n;

	for (i = 0; i < NVALID; i++) {
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
	    CARRIER_GOAWAY, CARRIER_SESSION, CARRIER_ACK };
	static const uint32_t ids[] = { 1, 2, 0x80000000u, 0xffffffffu };
	uint8_t bad[CARRIER_HDR_LEN + 8];
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
			    per_carrier[i] == CARRIER_GOAWAY ? 1 :
			    per_carrier[i] == CARRIER_SESSION ? 2 :
			    per_carrier[i] == CARRIER_ACK ? 8 : 4);
			memcpy(bad + CARRIER_HDR_LEN, "\x04\x01\0\0\0\0\0\0", 8);
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
	/* SESSION: every length that is no op's, around each one's. */
	{ CARRIER_SESSION, 0 }, { CARRIER_SESSION, 1 }, { CARRIER_SESSION, 3 },
	{ CARRIER_SESSION, 8 }, { CARRIER_SESSION, 10 },
	{ CARRIER_SESSION, 48 }, { CARRIER_SESSION, 50 },
	{ CARRIER_SESSION, 56 }, { CARRIER_SESSION, 58 },
	{ CARRIER_SESSION, CARRIER_CTL_MAX }, { CARRIER_SESSION, 0x00000102 },
	{ CARRIER_SESSION, 0x02000000 }, { CARRIER_SESSION, 0xffffffffu },
	{ CARRIER_ACK, 0 }, { CARRIER_ACK, 4 }, { CARRIER_ACK, 7 },
	{ CARRIER_ACK, 9 }, { CARRIER_ACK, 16 }, { CARRIER_ACK, 0x00000108 },
	{ CARRIER_ACK, 0xffffffffu },
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

/* --- resume: SESSION and ACK -------------------------------------------- */

/* Every op against every length an op has: only its own is a frame. */
START_TEST(decode_session_op_lengths)
{
	static const uint8_t ops[] = { 0, CARRIER_SES_NEW, CARRIER_SES_RESUME,
	    CARRIER_SES_ACCEPT, CARRIER_SES_REFUSE, 5, 0x80, 255 };
	static const struct { uint8_t op; uint32_t len; } own[] = {
		{ CARRIER_SES_NEW, 49 }, { CARRIER_SES_RESUME, 57 },
		{ CARRIER_SES_ACCEPT, 9 }, { CARRIER_SES_REFUSE, 2 },
	};
	uint8_t p[CARRIER_SESSION_RESUME_LEN];
	uint8_t buf[CARRIER_HDR_LEN + CARRIER_SESSION_RESUME_LEN];
	struct carrier_frame f;
	size_t i, j, k;
	int mine;

	for (i = 0; i < sizeof(ops); i++)
		for (j = 0; j < sizeof(own) / sizeof(own[0]); j++) {
			memset(p, CARRIER_REFUSED_UNKNOWN, sizeof(p));
			p[0] = ops[i];
			mine = 0;
			for (k = 0; k < sizeof(own) / sizeof(own[0]); k++)
				mine |= own[k].op == ops[i] &&
				    own[k].len == own[j].len;
			if (!mine) {
				expect_frame_error(CARRIER_SESSION, 0, p,
				    own[j].len, CARRIER_HDR_LEN + own[j].len - 1,
				    CARRIER_EPAYLOAD);
				continue;
			}
			raw(buf, CARRIER_VERSION, CARRIER_SESSION, 0, 0,
			    own[j].len);
			memcpy(buf + CARRIER_HDR_LEN, p, own[j].len);
			ck_assert_int_eq(carrier_decode(buf, CARRIER_HDR_LEN +
			    own[j].len, &f), (int)(CARRIER_HDR_LEN + own[j].len));
		}
}
END_TEST

START_TEST(decode_refuse_reasons)
{
	static const uint8_t reasons[] = { 0, CARRIER_REFUSED_NOT_OFFERED + 1,
	    0x80, 255 };
	uint8_t p[2] = { CARRIER_SES_REFUSE, reasons[_i] };

	expect_frame_error(CARRIER_SESSION, 0, p, 2, CARRIER_HDR_LEN + 1,
	    CARRIER_EPAYLOAD);
}
END_TEST

/* The encoders write exactly the bytes of the header's table. */
START_TEST(session_layout)
{
	static const uint8_t want_new[] = { 2, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 49,
	    1, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9,
	    0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
	    10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
	    27, 28, 29, 30, 31 };
	static const uint8_t want_resume[] = { 2, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    57, 2, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9,
	    0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xca, 0x41, 0xb4, 0x9b, 0x27,
	    0x14, 0xd2, 0xe0, 0x4f, 0xe4, 0xa8, 0xb8, 0xab, 0x44, 0xb6, 0xb8,
	    0x7b, 0x01, 0x4f, 0xe2, 0x3e, 0xd4, 0x27, 0x00, 0xc4, 0x7d, 0x8b,
	    0xb5, 0x79, 0xa5, 0xc8, 0x15, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t want_accept[] = { 2, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    9, 3, 0x80, 0, 0, 0, 0, 0, 0x01, 0x00 };
	static const uint8_t want_refuse[] = { 2, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    2, 4, 3 };
	static const uint8_t want_ack[] = { 2, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8,
	    0, 0, 0, 1, 0, 0, 0, 0 };
	const uint8_t *sid = (const uint8_t *)SID, *key = (const uint8_t *)KEY;

	ck_assert_int_eq(carrier_session_new(out, sizeof(out), sid, key),
	    (int)sizeof(want_new));
	ck_assert_mem_eq(out, want_new, sizeof(want_new));
	ck_assert_int_eq(carrier_session_resume(out, sizeof(out), sid,
	    (const uint8_t *)PROOF, 0x0102030405060708ull),
	    (int)sizeof(want_resume));
	ck_assert_mem_eq(out, want_resume, sizeof(want_resume));
	ck_assert_int_eq(carrier_session_accept(out, sizeof(out),
	    0x8000000000000100ull), (int)sizeof(want_accept));
	ck_assert_mem_eq(out, want_accept, sizeof(want_accept));
	ck_assert_int_eq(carrier_session_refuse(out, sizeof(out),
	    CARRIER_REFUSED_BUSY), (int)sizeof(want_refuse));
	ck_assert_mem_eq(out, want_refuse, sizeof(want_refuse));
	ck_assert_int_eq(carrier_ack(out, sizeof(out), 1ull << 32),
	    (int)sizeof(want_ack));
	ck_assert_mem_eq(out, want_ack, sizeof(want_ack));
	ck_assert_int_eq(CARRIER_SESSION_NEW_LEN, 49);
	ck_assert_int_eq(CARRIER_SESSION_RESUME_LEN, 57);
	ck_assert_int_eq(CARRIER_SESSION_ACCEPT_LEN, 9);
	ck_assert_int_eq(CARRIER_SESSION_REFUSE_LEN, 2);
	ck_assert_int_eq(CARRIER_ACK_LEN, 8);
}
END_TEST

/* Each encoder refuses every capacity short of its frame, writing nothing. */
START_TEST(session_encode_espace)
{
	const uint8_t *sid = (const uint8_t *)SID;
	size_t cap, need = 0;
	uint8_t *buf;
	int rc = 0;

	for (cap = 0; cap == 0 || cap <= need; cap++) {
		buf = malloc(cap ? cap : 1);	/* exact: ASan sees an overrun */
		ck_assert_ptr_nonnull(buf);
		switch (_i) {
		case 0:
			rc = carrier_session_new(buf, cap, sid,
			    (const uint8_t *)KEY);
			need = CARRIER_HDR_LEN + CARRIER_SESSION_NEW_LEN;
			break;
		case 1:
			rc = carrier_session_resume(buf, cap, sid,
			    (const uint8_t *)PROOF, 7);
			need = CARRIER_HDR_LEN + CARRIER_SESSION_RESUME_LEN;
			break;
		case 2:
			rc = carrier_session_accept(buf, cap, 7);
			need = CARRIER_HDR_LEN + CARRIER_SESSION_ACCEPT_LEN;
			break;
		case 3:
			rc = carrier_session_refuse(buf, cap,
			    CARRIER_REFUSED_PROOF);
			need = CARRIER_HDR_LEN + CARRIER_SESSION_REFUSE_LEN;
			break;
		default:
			rc = carrier_ack(buf, cap, 7);
			need = CARRIER_HDR_LEN + CARRIER_ACK_LEN;
			break;
		}
		if (cap < need)
			ck_assert_msg(rc == CARRIER_ESPACE, "cap %zu: %d", cap, rc);
		else
			ck_assert_int_eq(rc, (int)need);
		free(buf);
	}
}
END_TEST

/* A REFUSE for no reason is never written, whatever the room. */
START_TEST(session_refuse_bad_reason)
{
	static const int reasons[] = { 0, CARRIER_REFUSED_NOT_OFFERED + 1, 255,
	    256 + CARRIER_REFUSED_UNKNOWN, -1 };
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		memset(out, 0xa5, sizeof(out));
		ck_assert_int_eq(carrier_session_refuse(out, sizeof(out),
		    (enum carrier_refused)reasons[i]), CARRIER_EPAYLOAD);
		ck_assert_int_eq(carrier_session_refuse(out, 0,
		    (enum carrier_refused)reasons[i]), CARRIER_EPAYLOAD);
		ck_assert_uint_eq(out[0], 0xa5);
	}
}
END_TEST

/* The n bytes an encoder wrote into out, decoded into f and viewed in v. */
static void
view(int n, struct carrier_frame *f, struct carrier_session *v)
{
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(carrier_decode(out, (size_t)n, f), n);
	memset(v, 0x5a, sizeof(*v));
	ck_assert_int_eq(carrier_session_parse(f, v), 0);
}

/* Decode, then view: the fields point into the frame, the rest is empty. */
START_TEST(session_parse_views)
{
	static const uint64_t counts[] = { 0, 1, 0x0102030405060708ull,
	    UINT64_MAX };
	const uint8_t *sid = (const uint8_t *)SID;
	struct carrier_session v;
	struct carrier_frame f;
	size_t i;
	int n, r;

	view(carrier_session_new(out, sizeof(out), sid, (const uint8_t *)KEY),
	    &f, &v);
	ck_assert_uint_eq(v.op, CARRIER_SES_NEW);
	ck_assert_ptr_eq(v.sid, out + CARRIER_HDR_LEN + 1);
	ck_assert_ptr_eq(v.key, out + CARRIER_HDR_LEN + 17);
	ck_assert_mem_eq(v.sid, SID, CARRIER_SID_LEN);
	ck_assert_mem_eq(v.key, KEY, CARRIER_KEY_LEN);
	ck_assert_ptr_null(v.proof);
	ck_assert_uint_eq(v.count, 0);
	ck_assert_uint_eq(v.reason, 0);

	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		view(carrier_session_resume(out, sizeof(out), sid,
		    (const uint8_t *)PROOF, counts[i]), &f, &v);
		ck_assert_uint_eq(v.op, CARRIER_SES_RESUME);
		ck_assert_ptr_eq(v.sid, out + CARRIER_HDR_LEN + 1);
		ck_assert_ptr_eq(v.proof, out + CARRIER_HDR_LEN + 17);
		ck_assert_mem_eq(v.proof, PROOF, CARRIER_PROOF_LEN);
		ck_assert_ptr_null(v.key);
		ck_assert(v.count == counts[i]);
		ck_assert(carrier_u64(&f) == counts[i]);

		view(carrier_session_accept(out, sizeof(out), counts[i]), &f, &v);
		ck_assert_uint_eq(v.op, CARRIER_SES_ACCEPT);
		ck_assert_ptr_null(v.sid);
		ck_assert(v.count == counts[i]);
		ck_assert(carrier_u64(&f) == counts[i]);

		n = carrier_ack(out, sizeof(out), counts[i]);
		ck_assert_int_eq(carrier_decode(out, (size_t)n, &f), n);
		ck_assert_uint_eq(f.type, CARRIER_ACK);
		ck_assert(carrier_u64(&f) == counts[i]);
		ck_assert_int_eq(carrier_session_parse(&f, &v), CARRIER_ETYPE);
	}

	for (r = CARRIER_REFUSED_UNKNOWN; r <= CARRIER_REFUSED_NOT_OFFERED; r++) {
		view(carrier_session_refuse(out, sizeof(out),
		    (enum carrier_refused)r), &f, &v);
		ck_assert_uint_eq(v.op, CARRIER_SES_REFUSE);
		ck_assert_uint_eq(v.reason, (unsigned)r);
		ck_assert_ptr_null(v.sid);
		ck_assert_uint_eq(v.count, 0);
	}
}
END_TEST

/* A frame that did not come from decode: judged, and out left alone. */
START_TEST(session_parse_refuses)
{
	static const struct { uint8_t type; const char *p; uint32_t len;
	    int err; } bad[] = {
		{ CARRIER_PING, "\x02\x00\x00\x00", 4, CARRIER_ETYPE },
		{ CARRIER_GOAWAY, "\x04\x01", 2, CARRIER_ETYPE },
		{ CARRIER_SESSION, "", 0, CARRIER_EPAYLOAD },
		{ CARRIER_SESSION, "\x04\x09", 2, CARRIER_EPAYLOAD },
		{ CARRIER_SESSION, "\x07\x01", 2, CARRIER_EPAYLOAD },
		{ CARRIER_SESSION, "\x03\x01", 2, CARRIER_EPAYLOAD },
		{ CARRIER_SESSION, "\x04\x01\x00", 3, CARRIER_EPAYLOAD },
	};
	struct carrier_session v, was;
	struct carrier_frame f;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f.type = bad[i].type;
		f.stream = 0;
		f.len = bad[i].len;
		f.payload = (const uint8_t *)bad[i].p;
		memset(&v, 0x5a, sizeof(v));
		was = v;
		ck_assert_int_eq(carrier_session_parse(&f, &v), bad[i].err);
		ck_assert_mem_eq(&v, &was, sizeof(v));
	}
	/* carrier_u64 on a frame too short for a count reads nothing. */
	f.type = CARRIER_PING;
	f.len = 4;
	f.payload = (const uint8_t *)"\xff\xff\xff\xff";
	ck_assert(carrier_u64(&f) == 0);
}
END_TEST

START_TEST(sequenced)
{
	static const int yes[] = { CARRIER_DATA, CARRIER_WINDOW_UPDATE,
	    CARRIER_OPEN, CARRIER_FIN, CARRIER_RESET };
	static const int no[] = { CARRIER_PING, CARRIER_PONG, CARRIER_GOAWAY,
	    CARRIER_SESSION, CARRIER_ACK, TYPE_NONE, 255, 256, -1 };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ck_assert_msg(carrier_sequenced(yes[i]) == 1, "%s",
		    carrier_type_name(yes[i]));
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ck_assert_msg(carrier_sequenced(no[i]) == 0, "type %d", no[i]);
}
END_TEST

/* The proof, against the one OpenSSL computed (PROOF above). */
START_TEST(resume_proof_vector)
{
	uint8_t proof[CARRIER_PROOF_LEN];

	ck_assert_int_eq(sizeof(CARRIER_PROOF_LABEL) - 1, 15);
	carrier_resume_proof((const uint8_t *)KEY, (const uint8_t *)SID,
	    (const uint8_t *)NONCE, proof);
	ck_assert_mem_eq(proof, PROOF, CARRIER_PROOF_LEN);
}
END_TEST

/* The right proof passes; a bit off anywhere, or another nonce, sid or
 * key (a replay on a new carrier, another session, a guess) does not. */
START_TEST(resume_proof_check)
{
	const uint8_t *key = (const uint8_t *)KEY, *sid = (const uint8_t *)SID,
	    *nonce = (const uint8_t *)NONCE;
	uint8_t p[CARRIER_PROOF_LEN], other[CARRIER_KEY_LEN];
	size_t i;
	unsigned bit;

	memcpy(p, PROOF, sizeof(p));
	ck_assert_int_eq(carrier_resume_check(key, sid, nonce, p), 1);
	for (i = 0; i < sizeof(p); i++)
		for (bit = 0; bit < 8; bit++) {
			p[i] ^= (uint8_t)(1u << bit);
			ck_assert_int_eq(carrier_resume_check(key, sid, nonce, p),
			    0);
			p[i] ^= (uint8_t)(1u << bit);
		}
	memcpy(other, NONCE, CARRIER_NONCE_LEN);
	other[CARRIER_NONCE_LEN - 1] ^= 1;
	ck_assert_int_eq(carrier_resume_check(key, sid, other, p), 0);
	memcpy(other, SID, CARRIER_SID_LEN);
	other[0] ^= 0x80;
	ck_assert_int_eq(carrier_resume_check(key, other, nonce, p), 0);
	memcpy(other, KEY, CARRIER_KEY_LEN);
	other[31] ^= 1;
	ck_assert_int_eq(carrier_resume_check(other, sid, nonce, p), 0);
}
END_TEST

/* A RESUME built as a client would, judged as a server would. */
START_TEST(resume_round_trip)
{
	uint8_t proof[CARRIER_PROOF_LEN];
	struct carrier_session v;
	struct carrier_frame f;
	int n;

	carrier_resume_proof((const uint8_t *)KEY, (const uint8_t *)SID,
	    (const uint8_t *)NONCE, proof);
	n = carrier_session_resume(out, sizeof(out), (const uint8_t *)SID,
	    proof, 123456789);
	ck_assert_int_eq(n, CARRIER_HDR_LEN + CARRIER_SESSION_RESUME_LEN);
	ck_assert_int_eq(carrier_decode(out, (size_t)n, &f), n);
	ck_assert_int_eq(carrier_session_parse(&f, &v), 0);
	ck_assert_int_eq(carrier_resume_check((const uint8_t *)KEY, v.sid,
	    (const uint8_t *)NONCE, v.proof), 1);
	ck_assert(v.count == 123456789);
}
END_TEST

/* --- resume: the hello's nonce in hex ------------------------------------ */

START_TEST(hex_round_trip)
{
	char hex[CARRIER_NONCE_HEX + 1];
	uint8_t back[CARRIER_NONCE_LEN];

	ck_assert_int_eq(carrier_hex_encode((const uint8_t *)NONCE,
	    CARRIER_NONCE_LEN, hex, sizeof(hex)), CARRIER_NONCE_HEX);
	ck_assert_str_eq(hex, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
	ck_assert_int_eq(carrier_hex_decode(hex, CARRIER_NONCE_HEX, back,
	    sizeof(back)), 0);
	ck_assert_mem_eq(back, NONCE, CARRIER_NONCE_LEN);
	ck_assert_int_eq(carrier_hex_encode((const uint8_t *)"\x00\x09\x0a\xff",
	    4, hex, sizeof(hex)), 8);
	ck_assert_str_eq(hex, "00090aff");
	ck_assert_int_eq(carrier_hex_encode(NULL, 0, hex, 1), 0);
	ck_assert_str_eq(hex, "");
}
END_TEST

/* Room for every digit and the NUL, or nothing written. */
START_TEST(hex_encode_space)
{
	char hex[CARRIER_NONCE_HEX + 1];
	size_t cap;

	for (cap = 0; cap <= CARRIER_NONCE_HEX; cap++) {
		memset(hex, '#', sizeof(hex));
		ck_assert_int_eq(carrier_hex_encode((const uint8_t *)NONCE,
		    CARRIER_NONCE_LEN, hex, cap), CARRIER_ESPACE);
		ck_assert_int_eq(hex[0], '#');
	}
}
END_TEST

/*
 * Every byte value at every place of a nonce's 32 digits: only 0-9 and
 * a-f pass (no uppercase, no sign, no space, no NUL), and a refused one
 * leaves the output alone.
 */
START_TEST(hex_decode_strict)
{
	static const char good[] = "0123456789abcdef0123456789abcdef";
	char s[CARRIER_NONCE_HEX];
	uint8_t o[CARRIER_NONCE_LEN];
	size_t at;
	int c, want;

	for (at = 0; at < sizeof(s); at++)
		for (c = 0; c < 256; c++) {
			memcpy(s, good, sizeof(s));
			s[at] = (char)c;
			want = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ?
			    0 : CARRIER_EPAYLOAD;
			memset(o, 0x5a, sizeof(o));
			ck_assert_msg(carrier_hex_decode(s, sizeof(s), o,
			    sizeof(o)) == want, "byte 0x%02x at %zu", c, at);
			if (want != 0)
				ck_assert_uint_eq(o[0], 0x5a);
		}
}
END_TEST

/* Exactly 2n digits: one short, one over, none. */
START_TEST(hex_decode_lengths)
{
	static const char s[] = "0123456789abcdef0123456789abcdef0";
	uint8_t o[CARRIER_NONCE_LEN + 1];

	ck_assert_int_eq(carrier_hex_decode(s, 31, o, 16), CARRIER_EPAYLOAD);
	ck_assert_int_eq(carrier_hex_decode(s, 33, o, 16), CARRIER_EPAYLOAD);
	ck_assert_int_eq(carrier_hex_decode(s, 0, o, 16), CARRIER_EPAYLOAD);
	ck_assert_int_eq(carrier_hex_decode(s, 32, o, 17), CARRIER_EPAYLOAD);
	ck_assert_int_eq(carrier_hex_decode(s, 32, o, 15), CARRIER_EPAYLOAD);
	ck_assert_int_eq(carrier_hex_decode(s, SIZE_MAX, o, SIZE_MAX / 2 + 1),
	    CARRIER_EPAYLOAD);
	ck_assert_int_eq(carrier_hex_decode(s, 0, o, 0), 0);
	ck_assert_int_eq(carrier_hex_decode(s, 32, o, 16), 0);
}
END_TEST

/* ---- the hello body ----------------------------------------------------- */

/* carrier_hello_field on an exact-size heap copy: a read past len is ASan's. */
static int
field(const char *body, size_t len, const char *key, char *out, size_t cap)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, body, len);
	rc = carrier_hello_field(copy, len, key, out, cap);
	free(copy);
	return rc;
}

static const struct {
	const char	*body;
	const char	*key;
	const char	*want;	/* NULL: no such field (-1) */
} fields[] = {
	{ "version=0.1.0 streams=256", "version", "0.1.0" },
	{ "version=0.1.0 streams=256", "streams", "256" },
	{ "streams=8 version=0.1.0", "streams", "8" },
	{ "  a=1   streams=9  ", "streams", "9" },
	{ "a=1 b=2 c=3", "b", "2" },
	{ "version=0.1.0", "streams", NULL },
	{ "", "streams", NULL },
	{ "   ", "streams", NULL },
	{ "streams", "streams", NULL },		/* no '=': not a field of it */
	{ "streams= version=1", "streams", "" },
	{ "xstreams=5 streamsx=6 streams5", "streams", NULL },
	{ "stream=5", "streams", NULL },
	{ "streams=1 streams=2", "streams", "1" },	/* the first counts */
	{ "streams==2", "streams", "=2" },
	{ "resume=a1b2c3 version=0.2.0", "resume", "a1b2c3" },
	{ "\x01\xff=\x1b streams=4", "streams", "4" },	/* odd fields aside */
	{ "version=0.1.0\nstreams=4", "streams", NULL },	/* one field */
	{ "streams=4\x7f", "streams", NULL },	/* not printable: refused */
	{ "streams=4\t", "streams", NULL },
	{ "streams=\x80", "streams", NULL },
};
#define NFIELDS	((int)(sizeof(fields) / sizeof(fields[0])))

START_TEST(hello_fields)
{
	char out[64];
	int rc;

	memset(out, 'x', sizeof(out));
	rc = field(fields[_i].body, strlen(fields[_i].body), fields[_i].key,
	    out, sizeof(out));
	if (fields[_i].want == NULL) {
		ck_assert_msg(rc == -1, "\"%s\" has no field %s, got %d",
		    fields[_i].body, fields[_i].key, rc);
		return;
	}
	ck_assert_int_eq(rc, (int)strlen(fields[_i].want));
	ck_assert_str_eq(out, fields[_i].want);
}
END_TEST

/* Only len bytes count: a field cut by the end is cut, and a NUL is a byte. */
START_TEST(hello_field_bounds)
{
	static const char body[] = "version=1 streams=128";
	char out[8];

	ck_assert_int_eq(field(body, sizeof(body) - 2, "streams", out,
	    sizeof(out)), 2);
	ck_assert_str_eq(out, "12");
	ck_assert_int_eq(field(body, 17, "streams", out, sizeof(out)), -1);
	ck_assert_int_eq(field(body, 18, "streams", out, sizeof(out)), 0);
	ck_assert_int_eq(field(body, 0, "streams", out, sizeof(out)), -1);
	ck_assert_int_eq(field("streams=1\0002", 11, "streams", out,
	    sizeof(out)), -1);
	/* A value fills out to its last byte but one, the NUL's. */
	ck_assert_int_eq(field("k=1234567", 9, "k", out, sizeof(out)), 7);
	ck_assert_str_eq(out, "1234567");
	ck_assert_int_eq(field("k=12345678", 10, "k", out, sizeof(out)), -1);
	ck_assert_int_eq(field("k=", 2, "k", out, 1), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(field("k=1", 3, "k", out, 1), -1);
	/* A key is a name: never empty, never with '=' or a space. */
	ck_assert_int_eq(field("=1 a=b", 6, "", out, sizeof(out)), -1);
	ck_assert_int_eq(field("a=b=c", 5, "a=b", out, sizeof(out)), -1);
	ck_assert_int_eq(field("a b=c", 5, "a b", out, sizeof(out)), -1);
}
END_TEST

static const struct {
	const char	*body;
	uint32_t	 want;
} streams[] = {
	{ "version=0.1.0 streams=256", 256 },
	{ "streams=1", 1 },
	{ "streams=999999999", 999999999 },
	{ "streams=1000000000", 0 },		/* past nine digits */
	{ "streams=99999999999999999999", 0 },
	{ "streams=0", 0 },
	{ "streams=007", 0 },
	{ "streams=+5", 0 },
	{ "streams=-5", 0 },
	{ "streams=12a", 0 },
	{ "streams=0x10", 0 },
	{ "streams=", 0 },
	{ "streams", 0 },
	{ "version=0.1.0", 0 },
	{ "", 0 },
};
#define NSTREAMS	((int)(sizeof(streams) / sizeof(streams[0])))

START_TEST(hello_streams)
{
	const char *b = streams[_i].body;

	ck_assert_uint_eq(carrier_hello_streams((const uint8_t *)b, strlen(b)),
	    streams[_i].want);
}
END_TEST

/* Any number field reads as streams= does: window= among others. */
START_TEST(hello_number)
{
	const char *b = "version=0.1.0 streams=256 resume=00112233445566778899"
	    "aabbccddeeff window=60000";

	ck_assert_uint_eq(carrier_hello_number((const uint8_t *)b, strlen(b),
	    CARRIER_HELLO_WINDOW), 60000);
	ck_assert_uint_eq(carrier_hello_number((const uint8_t *)b, strlen(b),
	    "streams"), 256);
	ck_assert_uint_eq(carrier_hello_number((const uint8_t *)b, strlen(b),
	    "resume"), 0);		/* not a plain number */
	ck_assert_uint_eq(carrier_hello_number((const uint8_t *)b,
	    strlen(b) - 6, CARRIER_HELLO_WINDOW), 0);	/* "window" alone */
}
END_TEST

/* Our hello: what an older peer takes (a body of 64 bytes at most), with
 * the fields a newer one reads back. */
START_TEST(hello_encode)
{
	uint8_t buf[FRAME_HDR_LEN + CARRIER_HELLO_MAX];
	struct frame f;
	char v[64];
	int n;

	n = carrier_hello(buf, sizeof(buf), "0.1.0", 256, 0);
	ck_assert_int_eq(n, FRAME_HDR_LEN + (int)strlen("version=0.1.0 "
	    "streams=256"));
	ck_assert_int_eq(frame_decode(buf, (size_t)n, FRAME_REQ_BODY_MAX, &f), n);
	ck_assert_int_eq(f.version, FRAME_VERSION_CARRIER);
	ck_assert_int_eq(f.tag, FRAME_TAG_CARRIER);
	ck_assert_int_eq(f.port, 0);
	ck_assert(memcmp(f.body, "version=0.1.0 streams=256", f.body_len) == 0);
	ck_assert_uint_eq(carrier_hello_streams(f.body, f.body_len), 256);
	ck_assert_int_eq(carrier_hello_field(f.body, f.body_len, "version", v,
	    sizeof(v)), 5);
	ck_assert_str_eq(v, "0.1.0");

	/* No limit to say: the body an agent sends, as before. */
	n = carrier_hello(buf, sizeof(buf), "0.1.0", 0, 0);
	ck_assert_int_eq(frame_decode(buf, (size_t)n, FRAME_REQ_BODY_MAX, &f), n);
	ck_assert_uint_eq(f.body_len, strlen("version=0.1.0"));
	ck_assert(memcmp(f.body, "version=0.1.0", f.body_len) == 0);
	ck_assert_uint_eq(carrier_hello_streams(f.body, f.body_len), 0);

	/* An agent that can resume asks for it; still 64 bytes at most. */
	n = carrier_hello(buf, sizeof(buf), "0.1.0", 0, 1);
	ck_assert_int_eq(frame_decode(buf, (size_t)n, FRAME_REQ_BODY_MAX, &f), n);
	ck_assert(memcmp(f.body, "version=0.1.0 resume=1", f.body_len) == 0);
	ck_assert_int_eq(carrier_hello_field(f.body, f.body_len, "resume", v,
	    sizeof(v)), 1);
	ck_assert_str_eq(v, "1");
	ck_assert_int_eq(carrier_hello(buf, sizeof(buf), "0123456789012345678"
	    "9012345678901234567890123456", 0, 1), FRAME_HDR_LEN + 64);
	ck_assert_int_eq(carrier_hello(buf, sizeof(buf), "0123456789012345678"
	    "90123456789012345678901234567", 0, 1), FRAME_ELENGTH);

	/* The largest limit and a version of 38 bytes fill 64 exactly; one
	 * byte more does not fit. */
	n = carrier_hello(buf, sizeof(buf), "01234567890123456789012345678901"
	    "234567", 999999999, 0);
	ck_assert_int_eq(n, FRAME_HDR_LEN + CARRIER_HELLO_MAX);
	ck_assert_int_eq(carrier_hello(buf, sizeof(buf), "0123456789012345678"
	    "90123456789012345678", 999999999, 0), FRAME_ELENGTH);
	ck_assert_int_eq(carrier_hello(buf, FRAME_HDR_LEN + 5, "0.1.0", 0, 0),
	    FRAME_ESPACE);
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
	tcase_add_test(tc, decode_session_op_lengths);
	tcase_add_loop_test(tc, decode_refuse_reasons, 0, 4);
	suite_add_tcase(s, tc);

	tc = tcase_create("resume");
	tcase_add_test(tc, session_layout);
	tcase_add_loop_test(tc, session_encode_espace, 0, 5);
	tcase_add_test(tc, session_refuse_bad_reason);
	tcase_add_test(tc, session_parse_views);
	tcase_add_test(tc, session_parse_refuses);
	tcase_add_test(tc, sequenced);
	tcase_add_test(tc, resume_proof_vector);
	tcase_add_test(tc, resume_proof_check);
	tcase_add_test(tc, resume_round_trip);
	tcase_add_test(tc, hex_round_trip);
	tcase_add_test(tc, hex_encode_space);
	tcase_add_test(tc, hex_decode_strict);
	tcase_add_test(tc, hex_decode_lengths);
	suite_add_tcase(s, tc);

	tc = tcase_create("hello");
	tcase_add_loop_test(tc, hello_fields, 0, NFIELDS);
	tcase_add_test(tc, hello_field_bounds);
	tcase_add_loop_test(tc, hello_streams, 0, NSTREAMS);
	tcase_add_test(tc, hello_number);
	tcase_add_test(tc, hello_encode);
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
