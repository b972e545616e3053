/*
 * fuzz_etf: the erlfwd command's reading of a node's answer to its rpc
 * (tools/erlfwd/etf.h): etf_reply() takes a distribution message a remote
 * node (or whatever answers on its port) sent.
 *
 * Input: [0] the capacity of the text buffer (1..64), then the body of one
 * message (after its 4-byte length), in a heap block of exactly its size.
 *
 * Two checks:
 *   - the raw body: the verdict is one of the three, ETF_TEXT leaves a
 *     NUL-terminated text without a NUL inside the buffer, ETF_OTHER an
 *     empty one, and nothing is read past the body (AddressSanitizer);
 *   - a well-formed answer built here from OTP's erl_ext_dist, not from
 *     etf.c, around the body's first bytes as the text: a SEND or
 *     SEND_SENDER control, then {Ref, Reply} with Reply a string, a binary,
 *     a list of bytes or {ok, one of those}.  It must read back as that text
 *     when the text fits (ETF_OTHER when it does not), as ETF_NOT_OURS with
 *     another reference, and never as ETF_TEXT once cut short.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etf.h"
#include "fuzz.h"

#define TEXT_MAX	64
#define BUF_MAX		512
#define CANARY		0xa5

static const struct etf_self me = {
	.node = "erlfwd-7@localhost", .creation = 0x10004, .pid_id = 1,
	.ref = { 0x2a, 0xdeadbeef, 0x01020304 },
};

struct b {
	uint8_t	p[BUF_MAX];
	size_t	n;
};

static void
put(struct b *b, const void *src, size_t n)
{
	FUZZ_ASSERT(n <= sizeof(b->p) - b->n);
	memcpy(b->p + b->n, src, n);
	b->n += n;
}

static void
u8(struct b *b, unsigned v)
{
	uint8_t c = (uint8_t)v;

	put(b, &c, 1);
}

static void
u16(struct b *b, unsigned v)
{
	u8(b, v >> 8);
	u8(b, v & 0xff);
}

static void
u32(struct b *b, uint32_t v)
{
	u16(b, v >> 16);
	u16(b, v & 0xffff);
}

/* An atom in the form the selector picks (UTF-8 or Latin-1, short or long). */
static void
atom(struct b *b, const char *s, unsigned form)
{
	size_t n = strlen(s);

	switch (form % 4) {
	case 0: u8(b, 119); u8(b, (unsigned)n); break;	/* SMALL_ATOM_UTF8 */
	case 1: u8(b, 118); u16(b, (unsigned)n); break;	/* ATOM_UTF8 */
	case 2: u8(b, 115); u8(b, (unsigned)n); break;	/* SMALL_ATOM */
	default: u8(b, 100); u16(b, (unsigned)n); break;	/* ATOM */
	}
	put(b, s, n);
}

static void
pid(struct b *b, const char *node, uint32_t id, unsigned form)
{
	u8(b, 88);				/* NEW_PID_EXT */
	atom(b, node, form);
	u32(b, id);
	u32(b, 0);
	u32(b, 3);
}

static void
text_term(struct b *b, const uint8_t *t, size_t n, unsigned shape)
{
	size_t i;

	switch (shape % 3) {
	case 0:
		u8(b, 107);			/* STRING_EXT */
		u16(b, (unsigned)n);
		put(b, t, n);
		break;
	case 1:
		u8(b, 109);			/* BINARY_EXT */
		u32(b, (uint32_t)n);
		put(b, t, n);
		break;
	default:
		if (n == 0) {
			u8(b, 106);		/* NIL_EXT: "" */
			break;
		}
		u8(b, 108);			/* LIST_EXT of SMALL_INTEGER */
		u32(b, (uint32_t)n);
		for (i = 0; i < n; i++) {
			u8(b, 97);
			u8(b, t[i]);
		}
		u8(b, 106);
	}
}

/* The answer to our call with ref[2] = ref2 and text t, shaped by sel. */
static void
answer(struct b *b, uint32_t ref2, const uint8_t *t, size_t n, unsigned sel)
{
	b->n = 0;
	u8(b, 112);
	u8(b, 131);
	if (sel & 1) {				/* SEND_SENDER {22, From, To} */
		u8(b, 104);
		u8(b, 3);
		u8(b, 97);
		u8(b, 22);
		pid(b, "app@dyno", 77, sel >> 1);
	} else {				/* SEND {2, '', To} */
		u8(b, 104);
		u8(b, 3);
		u8(b, 97);
		u8(b, 2);
		atom(b, "", sel >> 1);
	}
	pid(b, me.node, me.pid_id, sel >> 3);
	u8(b, 131);
	u8(b, 104);
	u8(b, 2);
	u8(b, 90);				/* NEWER_REFERENCE_EXT */
	u16(b, 3);
	atom(b, me.node, sel >> 5);
	u32(b, me.creation);
	u32(b, me.ref[0]);
	u32(b, me.ref[1]);
	u32(b, ref2);
	if (sel & 0x80) {			/* {ok, Text} */
		u8(b, 104);
		u8(b, 2);
		atom(b, "ok", sel >> 7);
	}
	text_term(b, t, n, sel >> 9);
}

static enum etf_reply
reply(const uint8_t *p, size_t n, char *out, size_t cap)
{
	uint8_t *copy = fuzz_dup(p, n);
	enum etf_reply r;

	memset(out, CANARY, cap);
	r = etf_reply(copy, n, &me, out, cap);
	free(copy);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[TEXT_MAX];
	struct b b;
	size_t cap, n, cut;
	unsigned sel;
	enum etf_reply r;

	if (size < 1)
		return 0;
	cap = 1 + data[0] % TEXT_MAX;
	data++, size--;

	r = reply(data, size, out, cap);
	FUZZ_ASSERT(r == ETF_TEXT || r == ETF_OTHER || r == ETF_NOT_OURS);
	if (r == ETF_TEXT)
		FUZZ_ASSERT(memchr(out, '\0', cap) != NULL);
	if (r == ETF_OTHER)
		FUZZ_ASSERT(out[0] == '\0');

	/* The text: the body's bytes up to a NUL, at most TEXT_MAX. */
	n = 0;
	while (n < size && n < TEXT_MAX && data[n] != '\0')
		n++;
	sel = size > n + 1 ? (unsigned)data[n + 1] << 4 ^ data[size - 1] : 0;
	answer(&b, me.ref[2], data, n, sel);
	r = reply(b.p, b.n, out, cap);
	if (n < cap) {
		FUZZ_ASSERT(r == ETF_TEXT);
		FUZZ_ASSERT(strlen(out) == n && memcmp(out, data, n) == 0);
	} else
		FUZZ_ASSERT(r == ETF_OTHER);
	for (cut = 0; cut < b.n; cut += 1 + cut / 8)
		FUZZ_ASSERT(reply(b.p, cut, out, cap) != ETF_TEXT);
	answer(&b, me.ref[2] ^ 1, data, n, sel);
	FUZZ_ASSERT(reply(b.p, b.n, out, cap) == ETF_NOT_OURS);
	return 0;
}
