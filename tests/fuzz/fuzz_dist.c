/*
 * fuzz_dist: the erlfwd command's reading of a node's distribution
 * handshake (tools/common/dist.h): dist_status(), dist_challenge() and
 * dist_ack() take bytes a remote node (or whatever answers on its port)
 * sent; dist_name() builds our send_name from a name the user gave.
 *
 * Input: [0] the capacity of the status text buffer (1..256), [1..16] the
 * digest dist_ack() expects and, its first four bytes, a creation, then the
 * body of one handshake message (after its 2-byte length), in a heap block
 * of exactly its size.  The body is read as each of the three messages, and
 * its bytes up to the first NUL are used as a node name for dist_name().
 *
 * Every result is checked against a reference written here from OTP's
 * erl_dist_protocol ("Distribution Handshake"), not from dist.c:
 *   status     's' then the text, which must fit the caller's buffer with
 *              its NUL and hold no NUL;
 *   challenge  'N' flags:64 challenge:32 creation:32 nlen:16 name (bytes
 *              after the name ignored), or 'n' version:16 flags:32
 *              challenge:32 name (the rest); a name of 1..255 bytes without
 *              NUL; on a refusal no name is reported;
 *   ack        'a' and exactly the 16 expected digest bytes;
 *   send_name  length:16 'N' DIST_FLAGS:64 creation:32 nlen:16 name, for a
 *              1..255 byte name in a buffer that holds it all, else -1 and
 *              nothing written.
 * The body is also read as what a port answers send_name with, every
 * prefix of it (dist_answer_name()): length:16 and a status of "ok" or
 * "ok_simultaneous", then length:16 and a challenge whose name fits the
 * capacity; a length of 0 or past DIST_BODY_MAX is no message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "fuzz.h"

#define SETUP_LEN	(1 + MD5_LEN)
#define CANARY		0xa5

static uint64_t
be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* A handshake name: 1..255 bytes, no NUL. */
static int
ref_name_ok(const uint8_t *p, size_t n)
{
	return n >= 1 && n <= DIST_NAME_MAX - 1 && memchr(p, 0, n) == NULL;
}

static void
check_status(const uint8_t *body, size_t len, size_t cap)
{
	char *text = malloc(cap);
	int want, got;

	FUZZ_ASSERT(text != NULL);
	memset(text, CANARY, cap);
	want = len >= 1 && body[0] == 's' && len - 1 <= cap - 1 &&
	    memchr(body + 1, 0, len - 1) == NULL;
	got = dist_status(body, len, text, cap) == 0;
	FUZZ_ASSERT(got == want);
	if (want) {
		FUZZ_ASSERT(memcmp(text, body + 1, len - 1) == 0);
		FUZZ_ASSERT(text[len - 1] == '\0');
	}
	free(text);
}

static void
check_challenge(const uint8_t *body, size_t len)
{
	struct dist_challenge ch;
	const uint8_t *name = NULL;
	size_t nlen = 0;
	uint64_t flags = 0;
	uint32_t challenge = 0;
	int want = 0, got;

	if (len >= 19 && body[0] == 'N') {
		flags = be(body + 1, 8);
		challenge = (uint32_t)be(body + 9, 4);
		nlen = (size_t)be(body + 17, 2);
		name = body + 19;
		want = nlen <= len - 19 && ref_name_ok(name, nlen);
	} else if (len >= 11 && body[0] == 'n') {
		flags = be(body + 3, 4);
		challenge = (uint32_t)be(body + 7, 4);
		nlen = len - 11;
		name = body + 11;
		want = ref_name_ok(name, nlen);
	}
	memset(&ch, CANARY, sizeof(ch));
	got = dist_challenge(body, len, &ch) == 0;
	FUZZ_ASSERT(got == want);
	if (!want) {
		FUZZ_ASSERT(ch.node[0] == '\0');
		return;
	}
	FUZZ_ASSERT(ch.flags == flags);
	FUZZ_ASSERT(ch.challenge == challenge);
	FUZZ_ASSERT(strlen(ch.node) == nlen);
	FUZZ_ASSERT(memcmp(ch.node, name, nlen) == 0);
}

static void
check_ack(const uint8_t *body, size_t len, const uint8_t *expect)
{
	int want = len == 1 + MD5_LEN && body[0] == 'a' &&
	    memcmp(body + 1, expect, MD5_LEN) == 0;

	FUZZ_ASSERT(dist_ack(body, len, expect) == want);
	/* The digest itself, with its 'a', is always taken. */
	if (len == 1 + MD5_LEN && body[0] == 'a')
		FUZZ_ASSERT(dist_ack(body, len, body + 1) == 1);
}

static void
check_name(const uint8_t *body, size_t len, size_t cap, uint32_t creation)
{
	size_t nlen = strnlen((const char *)body, len), need, i;
	uint8_t *buf, *want;
	char *name;
	int n;

	name = fuzz_strdup(body, nlen);
	buf = malloc(cap + 1);
	want = malloc(2 + 15 + nlen);
	FUZZ_ASSERT(buf != NULL && want != NULL);
	memset(buf, CANARY, cap + 1);
	need = 2 + 1 + 8 + 4 + 2 + nlen;
	n = dist_name(buf, cap, name, creation);
	if (nlen == 0 || nlen >= DIST_NAME_MAX || cap < need) {
		FUZZ_ASSERT(n == -1);
		for (i = 0; i <= cap; i++)
			FUZZ_ASSERT(buf[i] == CANARY);
		goto out;
	}
	FUZZ_ASSERT(n == (int)need);
	want[0] = (uint8_t)((need - 2) >> 8);
	want[1] = (uint8_t)(need - 2);
	want[2] = 'N';
	for (i = 0; i < 8; i++)
		want[3 + i] = (uint8_t)((uint64_t)DIST_FLAGS >> (56 - 8 * i));
	for (i = 0; i < 4; i++)
		want[11 + i] = (uint8_t)(creation >> (24 - 8 * i));
	want[15] = (uint8_t)(nlen >> 8);
	want[16] = (uint8_t)nlen;
	memcpy(want + 17, name, nlen);
	FUZZ_ASSERT(memcmp(buf, want, need) == 0);
	FUZZ_ASSERT(buf[cap] == CANARY);
	/* What we send is what a node's side would read back as ours. */
	FUZZ_ASSERT((size_t)be(buf, 2) == need - 2);
out:
	free(want);
	free(buf);
	free(name);
}

/* The reference for dist_answer_name(): 1, 0 or -1 as dist.h says. */
static int
ref_answer(const uint8_t *p, size_t len, size_t cap, char *name)
{
	struct dist_challenge ch;
	size_t n1, n2;

	if (len < 2)
		return 0;
	n1 = (size_t)be(p, 2);
	if (n1 == 0 || n1 > DIST_BODY_MAX)
		return -1;
	if (len < 2 + n1)
		return 0;
	if (!((n1 == 3 && memcmp(p + 2, "sok", 3) == 0) ||
	    (n1 == 16 && memcmp(p + 2, "sok_simultaneous", 16) == 0)))
		return -1;
	if (len < 2 + n1 + 2)
		return 0;
	n2 = (size_t)be(p + 2 + n1, 2);
	if (n2 == 0 || n2 > DIST_BODY_MAX)
		return -1;
	if (len < 2 + n1 + 2 + n2)
		return 0;
	if (dist_challenge(p + 4 + n1, n2, &ch) != 0 || strlen(ch.node) >= cap)
		return -1;
	memcpy(name, ch.node, strlen(ch.node) + 1);
	return 1;
}

static void
check_answer(const uint8_t *body, size_t len, size_t cap)
{
	char got[DIST_NAME_MAX + 64], want[DIST_NAME_MAX + 64];
	uint8_t *copy;
	size_t k;
	int rc, ref;

	if (cap > sizeof(got))
		cap = sizeof(got);
	for (k = 0; k <= len; k++) {
		copy = fuzz_dup(body, k);
		rc = dist_answer_name(copy, k, got, cap);
		ref = ref_answer(copy, k, cap, want);
		free(copy);
		FUZZ_ASSERT(rc == ref);
		if (rc == 1)
			FUZZ_ASSERT(strcmp(got, want) == 0);
		if (rc != 0)
			break;	/* a verdict: longer prefixes keep it */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *expect = data + 1;
	uint8_t *body;
	size_t len, cap;

	if (size < SETUP_LEN)
		return 0;
	cap = (size_t)data[0] + 1;
	len = size - SETUP_LEN;
	body = fuzz_dup(data + SETUP_LEN, len);
	check_status(body, len, cap);
	check_challenge(body, len);
	check_ack(body, len, expect);
	check_answer(body, len, cap);
	check_name(body, len, cap + DIST_NAME_MAX / 8,
	    (uint32_t)be(expect, 4));
	free(body);
	return 0;
}
