/*
 * fuzz_carrier: the carrier protocol's frames, carrier_decode() and
 * carrier_encode() (tools/common/carrier.h), as a carrier meets them: a
 * peer's bytes, frame after frame, arriving split anywhere.
 *
 * Input: the bytes of one direction of a carrier, after its CARRIER
 * preamble.  Frames are decoded one after the other, as a reader would,
 * until one is refused or the bytes run out.  At each frame's start:
 *   - for every prefix of what follows (every one up to PREFIX_ALL bytes,
 *     a sample beyond), the verdict is the reference decoder's, written
 *     from the header's table rather than from carrier.c;
 *   - once a verdict is final (an error, or a whole frame) every longer
 *     prefix gives the same one: no split of the same bytes can change it;
 *   - a whole frame's fields are the bytes', its payload points inside the
 *     buffer, the accessors read it, and carrier_encode() writes the same
 *     bytes back (and refuses one byte less room); a SESSION's view holds
 *     its op's fields and the op's own encoder writes the same bytes back,
 *     and so does carrier_ack() for an ACK;
 *   - carrier_encode() of the header's type and stream with the payload
 *     bytes present gives exactly what the reference says of those bytes.
 * Short prefixes are decoded from exact-size heap copies, so that a read
 * past len is an ASan report, not a silent success.
 *
 * The same bytes are also a CARRIER frame's body, the peer's hello: the
 * first HELLO_ALL of them, and a sample of their prefixes (the short ones,
 * and those cut at a space or an '='), give carrier_hello_field() the
 * reference's answer for the fields we read, for a key the bytes name
 * themselves and for short output buffers, and carrier_hello_streams() the
 * reference's number; what carrier_hello() writes reads back as what went
 * in.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "carrier.h"
#include "frame.h"
#include "fuzz.h"

/* Prefixes up to this length are all tried, each from its own heap copy. */
#define PREFIX_ALL	(CARRIER_HDR_LEN + CARRIER_CTL_MAX + 4)
/* Beyond it, one prefix in this many (and the ones next to the verdict). */
#define PREFIX_STRIDE	61

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The header's second table: where each type lives and how long it is. */
static const struct {
	int		on_carrier;	/* stream 0, and only stream 0 */
	uint32_t	min, max;	/* payload bytes */
} rules[] = {
	/* DATA */	{ 0, 1, CARRIER_DATA_MAX },
	/* WINDOW */	{ 0, 4, 4 },
	/* OPEN */	{ 0, 3, 3 },
	/* FIN */	{ 0, 0, 0 },
	/* RESET */	{ 0, 1, 1 },
	/* PING */	{ 1, 4, 4 },
	/* PONG */	{ 1, 4, 4 },
	/* GOAWAY */	{ 1, 1, 1 + CARRIER_REASON_MAX },
	/* SESSION */	{ 1, 2, 57 },	/* and only its ops' lengths, below */
	/* ACK */	{ 1, 8, 8 },
};
#define NTYPES	(sizeof(rules) / sizeof(rules[0]))
#define SESSION	8

/* The header's SESSION table: each op and its payload's length. */
static const struct {
	uint8_t		op;
	uint32_t	len;
} ops[] = {
	{ 1, 1 + 16 + 32 },		/* NEW: session id, key */
	{ 2, 1 + 16 + 32 + 8 },		/* RESUME: session id, proof, count */
	{ 3, 1 + 8 },			/* ACCEPT: count */
	{ 4, 1 + 1 },			/* REFUSE: reason */
};
#define NOPS	(sizeof(ops) / sizeof(ops[0]))

/* The length column of the tables, from the header alone. */
static int
ref_length_ok(uint8_t type, uint32_t plen)
{
	size_t i;

	if (plen < rules[type].min || plen > rules[type].max)
		return 0;
	if (type != SESSION)
		return 1;
	for (i = 0; i < NOPS; i++)
		if (ops[i].len == plen)
			return 1;
	return 0;
}

/* The payload column of that table, for a payload that is all here. */
static int
ref_payload_ok(uint8_t type, const uint8_t *p, uint32_t len)
{
	uint32_t i, port;

	switch (type) {
	case 1:		/* WINDOW: more bytes the sender may send, never 0 */
		return be32(p) >= 1 && be32(p) <= (1u << 30);
	case 2:		/* OPEN: a v1 tag and its port */
		port = (uint32_t)p[1] << 8 | p[2];
		switch (p[0]) {
		case 1:	/* EPMD */
		case 2:	/* DIST */
			return port != 0;
		case 3:	/* INFO */
			return port == 0;
		default:
			return 0;
		}
	case 4:		/* RESET: reset, refused, error */
		return p[0] == 1 || p[0] == 2 || p[0] == 3;
	case 7:		/* GOAWAY: normal, protocol, limit, idle; printable */
		if (p[0] >= 4)
			return 0;
		for (i = 1; i < len; i++)
			if (!(p[i] >= ' ' && p[i] <= '~'))
				return 0;
		return 1;
	case SESSION:	/* an op of the table at its length; REFUSE: 1-4 */
		for (i = 0; i < NOPS; i++)
			if (ops[i].op == p[0])
				return ops[i].len == len &&
				    (p[0] != 4 || (p[1] >= 1 && p[1] <= 4));
		return 0;
	default:	/* DATA, PING, PONG, ACK: opaque */
		return 1;
	}
}

/*
 * The reference: the first failing field wins; the version and the type are
 * judged as their byte arrives, the flags once both of theirs are in, the
 * stream and the length once the header is in, the payload once it is in.
 */
static int
ref_decode(const uint8_t *b, size_t len)
{
	uint32_t stream, plen;

	if (len >= 1 && b[0] != 2)
		return CARRIER_EVERSION;
	if (len >= 2 && b[1] >= NTYPES)
		return CARRIER_ETYPE;
	if (len >= 4 && (b[2] | b[3]) != 0)
		return CARRIER_EFLAGS;
	if (len < 12)
		return 0;
	stream = be32(b + 4);
	plen = be32(b + 8);
	if (rules[b[1]].on_carrier ? stream != 0 : stream == 0)
		return CARRIER_ESTREAM;
	if (!ref_length_ok(b[1], plen))
		return CARRIER_ELENGTH;
	if (len - 12 < plen)
		return 0;
	if (!ref_payload_ok(b[1], b + 12, plen))
		return CARRIER_EPAYLOAD;
	return (int)(12 + plen);
}

/* carrier_decode on the first len bytes of buf; f->payload points into buf. */
static int
decode_prefix(const uint8_t *buf, size_t len, struct carrier_frame *f)
{
	uint8_t *copy;
	int rc;

	if (len > PREFIX_ALL)
		return carrier_decode(buf, len, f);
	copy = fuzz_dup(buf, len);
	rc = carrier_decode(copy, len, f);
	/* The payload pointer must not outlive the copy: rebase it. */
	if (rc > 0)
		f->payload = buf + (f->payload - copy);
	free(copy);
	return rc;
}

/*
 * A decoded SESSION: the view's fields are the payload's, by the header's
 * table.  Returns what the op's own encoder writes into again (n bytes).
 */
static int
session_again(const struct carrier_frame *f, uint8_t *again, int n)
{
	const uint8_t *p = f->payload;
	struct carrier_session v;

	FUZZ_ASSERT(carrier_session_parse(f, &v) == 0);
	FUZZ_ASSERT(v.op == p[0]);
	switch (p[0]) {
	case 1:		/* NEW */
		FUZZ_ASSERT(v.sid == p + 1 && v.key == p + 17);
		FUZZ_ASSERT(v.proof == NULL && v.count == 0 && v.reason == 0);
		return carrier_session_new(again, (size_t)n, v.sid, v.key);
	case 2:		/* RESUME */
		FUZZ_ASSERT(v.sid == p + 1 && v.proof == p + 17);
		FUZZ_ASSERT(v.count == be64(p + 49) && v.count == carrier_u64(f));
		FUZZ_ASSERT(v.key == NULL && v.reason == 0);
		return carrier_session_resume(again, (size_t)n, v.sid, v.proof,
		    v.count);
	case 3:		/* ACCEPT */
		FUZZ_ASSERT(v.count == be64(p + 1) && v.count == carrier_u64(f));
		FUZZ_ASSERT(v.sid == NULL && v.key == NULL && v.proof == NULL);
		return carrier_session_accept(again, (size_t)n, v.count);
	default:	/* REFUSE: decode let no other op through */
		FUZZ_ASSERT(p[0] == 4);
		FUZZ_ASSERT(v.reason == p[1] && v.count == 0 && v.sid == NULL);
		return carrier_session_refuse(again, (size_t)n,
		    (enum carrier_refused)v.reason);
	}
}

/* A decoded SESSION or ACK: its own encoder writes the same n bytes back. */
static void
check_resume(const uint8_t *buf, int n, const struct carrier_frame *f)
{
	struct carrier_session v;
	uint8_t *again;
	int m;

	FUZZ_ASSERT(carrier_sequenced(f->type) == 0);
	again = fuzz_dup(buf, (size_t)n);
	memset(again, 0, (size_t)n);
	if (f->type == CARRIER_ACK) {
		FUZZ_ASSERT(carrier_u64(f) == be64(f->payload));
		FUZZ_ASSERT(carrier_session_parse(f, &v) == CARRIER_ETYPE);
		m = carrier_ack(again, (size_t)n, carrier_u64(f));
	} else
		m = session_again(f, again, n);
	FUZZ_ASSERT(m == n);
	FUZZ_ASSERT(memcmp(again, buf, (size_t)n) == 0);
	free(again);
}

/* A whole frame of n bytes at buf, as decoded into f. */
static void
check_frame(const uint8_t *buf, int n, const struct carrier_frame *f)
{
	uint8_t *again, tag;
	uint16_t port;
	int m;

	FUZZ_ASSERT(n >= CARRIER_HDR_LEN && n <= CARRIER_FRAME_MAX);
	FUZZ_ASSERT(f->type == buf[1]);
	FUZZ_ASSERT(f->stream == be32(buf + 4));
	FUZZ_ASSERT(f->len == be32(buf + 8));
	FUZZ_ASSERT((size_t)n == CARRIER_HDR_LEN + f->len);
	FUZZ_ASSERT(f->payload == buf + CARRIER_HDR_LEN);
	FUZZ_ASSERT(strcmp(carrier_type_name(f->type), "unknown") != 0);
	if (f->type == CARRIER_WINDOW_UPDATE || f->type == CARRIER_PING ||
	    f->type == CARRIER_PONG)
		FUZZ_ASSERT(carrier_u32(f) == be32(f->payload));
	if (f->type == CARRIER_OPEN) {
		carrier_open(f, &tag, &port);
		FUZZ_ASSERT(tag == f->payload[0]);
		FUZZ_ASSERT(port == (f->payload[1] << 8 | f->payload[2]));
		FUZZ_ASSERT(strcmp(frame_tag_name(tag), "unknown") != 0);
	}
	/* Sequenced: the per-stream types, 0 .. 4, and nothing else. */
	FUZZ_ASSERT(carrier_sequenced(f->type) == (f->type <= 4));
	if (f->type == CARRIER_SESSION || f->type == CARRIER_ACK)
		check_resume(buf, n, f);

	/* What was decoded encodes to the same bytes, in a buffer just big
	 * enough, and one byte short is refused. */
	again = fuzz_dup(buf, (size_t)n);
	memset(again, 0, (size_t)n);
	m = carrier_encode(again, (size_t)n, (enum carrier_type)f->type,
	    f->stream, f->len ? f->payload : NULL, f->len);
	FUZZ_ASSERT(m == n);
	FUZZ_ASSERT(memcmp(again, buf, (size_t)n) == 0);
	FUZZ_ASSERT(carrier_encode(again, (size_t)n - 1,
	    (enum carrier_type)f->type, f->stream, f->len ? f->payload : NULL,
	    f->len) == CARRIER_ESPACE);
	free(again);
}

/*
 * carrier_encode of the type and stream in the header at buf, with the
 * payload bytes that follow it (as many as the length says, or as are
 * there), against the reference's verdict on the frame it would write.
 */
static void
check_encode(const uint8_t *buf, size_t avail)
{
	uint8_t *want, *got;
	size_t plen;
	int ref, rc;

	if (avail < CARRIER_HDR_LEN)
		return;
	plen = be32(buf + 8);
	if (plen > avail - CARRIER_HDR_LEN)
		plen = avail - CARRIER_HDR_LEN;
	want = fuzz_dup(buf, CARRIER_HDR_LEN + plen);
	want[0] = CARRIER_VERSION;	/* what encode writes, whatever was there */
	want[2] = want[3] = 0;
	want[8] = (uint8_t)(plen >> 24);
	want[9] = (uint8_t)(plen >> 16);
	want[10] = (uint8_t)(plen >> 8);
	want[11] = (uint8_t)plen;
	ref = ref_decode(want, CARRIER_HDR_LEN + plen);
	FUZZ_ASSERT(ref != 0);	/* every byte is there: a verdict */
	got = malloc(CARRIER_HDR_LEN + plen);
	FUZZ_ASSERT(got != NULL);
	rc = carrier_encode(got, CARRIER_HDR_LEN + plen,
	    (enum carrier_type)buf[1], be32(buf + 4),
	    plen ? buf + CARRIER_HDR_LEN : NULL, plen);
	FUZZ_ASSERT(rc == ref);
	if (rc > 0)
		FUZZ_ASSERT(memcmp(got, want, (size_t)rc) == 0);
	/* No room at all: a refused frame is still refused for what it is. */
	rc = carrier_encode(got, 0, (enum carrier_type)buf[1], be32(buf + 4),
	    plen ? buf + CARRIER_HDR_LEN : NULL, plen);
	FUZZ_ASSERT(rc == (ref < 0 ? ref : CARRIER_ESPACE));
	free(got);
	free(want);
}

/* Is the prefix of len bytes (of avail) one to try, given the verdict at? */
static int
worth_trying(size_t len, size_t avail, size_t final_at)
{
	return len <= PREFIX_ALL || len % PREFIX_STRIDE == 0 || len == avail ||
	    len + 1 == final_at || len == final_at || len == final_at + 1;
}

/*
 * Every (sampled) prefix of the avail bytes at buf; returns the verdict on
 * all of them (a frame's length, an error, or 0 when they end mid-frame).
 */
static int
check_prefixes(const uint8_t *buf, size_t avail)
{
	struct carrier_frame f;
	size_t len, final_at;
	int rc, ref, final = 0, have_final = 0;

	/* Where the verdict falls, so that the sample never skips it. */
	ref = 0;
	for (final_at = 0; final_at <= avail; final_at++) {
		ref = ref_decode(buf, final_at);
		if (ref != 0)
			break;
		if (final_at >= CARRIER_HDR_LEN) {
			/* From here only the payload's arrival matters. */
			final_at = CARRIER_HDR_LEN + be32(buf + 8);
			if (final_at > avail)
				final_at = avail + 1;
			else
				ref = ref_decode(buf, final_at);
			break;
		}
	}
	for (len = 0; len <= avail; len++) {
		if (!worth_trying(len, avail, final_at))
			continue;
		memset(&f, 0xa5, sizeof(f));
		rc = decode_prefix(buf, len, &f);
		ref = ref_decode(buf, len);
		FUZZ_ASSERT(rc == ref);
		FUZZ_ASSERT(rc <= 0 || (size_t)rc <= len);
		FUZZ_ASSERT(rc == 0 || len >= final_at);
		if (rc < 0)
			FUZZ_ASSERT(strcmp(carrier_strerror(rc), "unknown error") != 0);
		if (have_final) {
			FUZZ_ASSERT(rc == final);
			continue;
		}
		if (rc != 0) {
			FUZZ_ASSERT(len == final_at);
			final = rc;
			have_final = 1;
			if (rc > 0)
				check_frame(buf, rc, &f);
		}
	}
	return final;
}

/* ---- the hello body ------------------------------------------------------ */

/* Hello bytes read: a little more than a hello may be (a longer body is
 * no hello: the frame's decoder refuses it first). */
#define HELLO_ALL	(CARRIER_HELLO_MAX + 16)

/*
 * The reference for carrier_hello_field(), from the header's words: a
 * field starts where a non-space follows a space (or the start) and runs
 * to the next space; the first whose text is key, '=', value counts.
 */
static int
ref_field(const uint8_t *b, size_t len, const char *key, char *out,
    size_t cap)
{
	size_t klen = strlen(key), i, end, k;

	if (klen == 0 || strchr(key, '=') != NULL || strchr(key, ' ') != NULL)
		return -1;
	for (i = 0; i < len; i++) {
		if (b[i] == ' ' || (i > 0 && b[i - 1] != ' '))
			continue;
		for (end = i; end < len && b[end] != ' '; end++)
			;
		if (end - i < klen + 1 || memcmp(b + i, key, klen) != 0 ||
		    b[i + klen] != '=')
			continue;
		if (end - (i + klen + 1) + 1 > cap)
			return -1;
		for (k = i + klen + 1; k < end; k++)
			if (!(b[k] > ' ' && b[k] <= '~'))
				return -1;
		memcpy(out, b + i + klen + 1, end - (i + klen + 1));
		out[end - (i + klen + 1)] = '\0';
		return (int)(end - (i + klen + 1));
	}
	return -1;
}

/* The reference for carrier_hello_streams(): 1 to 999999999, plainly. */
static uint32_t
ref_streams(const uint8_t *b, size_t len)
{
	char v[CARRIER_HELLO_MAX * 4];
	int n = ref_field(b, len, "streams", v, sizeof(v));
	uint64_t x = 0;

	if (n < 1 || v[0] == '0')
		return 0;
	for (int i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 0;
		x = x * 10 + (uint64_t)(v[i] - '0');
		if (x > 999999999)
			return 0;
	}
	return (uint32_t)x;
}

static void
check_field(const uint8_t *b, size_t len, const char *key, size_t cap)
{
	char got[CARRIER_HELLO_MAX * 4], want[CARRIER_HELLO_MAX * 4];
	int rc, ref;

	rc = carrier_hello_field(b, len, key, got, cap);
	ref = ref_field(b, len, key, want, cap);
	FUZZ_ASSERT(rc == ref);
	if (rc >= 0) {
		FUZZ_ASSERT((size_t)rc < cap);
		FUZZ_ASSERT(strcmp(got, want) == 0);
	}
}

static void
check_hello(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "streams", "version", "s", "" };
	uint8_t *copy, buf[FRAME_HDR_LEN + CARRIER_HELLO_MAX];
	char key[CARRIER_HELLO_MAX + 1];
	struct frame f;
	size_t len, i, k;
	uint32_t n;
	int m;

	for (len = 0; len <= size && len <= HELLO_ALL; len++) {
		/* Where a cut can change a field: short bodies, the edges of
		 * fields and values, and all of it. */
		if (len > 8 && len != size && len != HELLO_ALL &&
		    data[len - 1] != ' ' && data[len - 1] != '=' &&
		    data[len] != ' ' && data[len] != '=')
			continue;
		copy = fuzz_dup(data, len);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			check_field(copy, len, keys[i], CARRIER_HELLO_MAX * 4);
		/* Values that fit their buffer but for the NUL, or not at
		 * all. */
		check_field(copy, len, keys[0], 4);
		check_field(copy, len, keys[0], 1);
		/* The key the bytes start with, whatever it holds. */
		for (k = 0; k < len && k < CARRIER_HELLO_MAX && copy[k] != '=' &&
		    copy[k] != '\0'; k++)
			key[k] = (char)copy[k];
		key[k] = '\0';
		check_field(copy, len, key, CARRIER_HELLO_MAX * 4);
		n = carrier_hello_streams(copy, len);
		FUZZ_ASSERT(n == ref_streams(copy, len));
		free(copy);
		if (n == 0)
			continue;
		/* What a server would say back reads as the same number. */
		m = carrier_hello(buf, sizeof(buf), "0.1.0", n, 0);
		FUZZ_ASSERT(m > 0);
		FUZZ_ASSERT(frame_decode(buf, (size_t)m, FRAME_REQ_BODY_MAX,
		    &f) == m);
		FUZZ_ASSERT(carrier_hello_streams(f.body, f.body_len) == n);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	int n;

	check_hello(data, size);

	/* Frame after frame, as a carrier's reader takes them. */
	for (;;) {
		check_encode(data + off, size - off);
		n = check_prefixes(data + off, size - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	return 0;
}
