/*
 * fuzz_cluster: the cluster helper's request parser, cluster_decode_req(),
 * and the preload's answer parser, cluster_decode_answer()
 * (preload/common/cluster.h), as they meet bytes arriving split anywhere.
 *
 * Input: one byte that picks the parser (even: request, odd: answer), then
 * the stream.  For every prefix of the stream:
 *   - the verdict is the reference decoder's, written from the header's
 *     table rather than from cluster.c;
 *   - once a verdict is final (an error, or a complete message) every
 *     longer prefix gives the same one;
 *   - a complete message's fields are the bytes', and the encoder writes the
 *     same bytes back.
 * Prefixes are decoded from exact-size heap copies, so that a read past len
 * is an ASan report.
 */
#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "frame.h"
#include "fuzz.h"

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* 1 when the 4 bytes at p are 127.240.0.1 .. 127.255.255.254. */
static int
ref_sentinel(const uint8_t *p)
{
	uint32_t low = (uint32_t)(p[1] & 0x0f) << 16 | (uint32_t)p[2] << 8 | p[3];

	return p[0] == 127 && (p[1] & 0xf0) == 0xf0 && low != 0 &&
	    low != 0x0fffff;
}

static int
ref_name(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '.' || p[i] == '-' ||
		    p[i] == '_'))
			return 0;
	return 1;
}

/* The header's table, as a reference; answer: an answer, not a request. */
static int
ref_decode(const uint8_t *b, size_t len, int answer)
{
	static const uint8_t magic[4] = { 'E', 'F', 'W', 'D' };
	size_t i, body;
	int lookup;

	for (i = 0; i < 4; i++) {
		if (i == len)
			return 0;
		if (b[i] != magic[i])
			return FRAME_EMAGIC;
	}
	if (len < 5)
		return 0;
	if (b[4] != 3)
		return FRAME_EVERSION;
	if (len < 6)
		return 0;
	if (b[5] != 1 && b[5] != 2 && b[5] != 5)
		return FRAME_ETAG;
	if (len < 10)
		return 0;
	if (answer && b[5] != 5)
		return FRAME_ETAG;
	lookup = b[5] == 5;
	body = be16(b + 8);
	if (lookup ? be16(b + 6) != 0 : be16(b + 6) == 0)
		return FRAME_EPORT;
	if (answer ? body != 0 && body != 4 :
	    lookup ? body == 0 || body > 253 : body != 4)
		return FRAME_ELENGTH;
	if (len < 10 + body)
		return 0;
	/* An answer may also be 127.0.0.1: the name is this host's own. */
	if (answer && body == 4 && b[10] == 127 && b[11] == 0 && b[12] == 0 &&
	    b[13] == 1)
		return (int)(10 + body);
	if (answer || !lookup ? body == 4 && !ref_sentinel(b + 10) :
	    !ref_name(b + 10, body))
		return FRAME_EFIELD;
	return (int)(10 + body);
}

static int
decode(const uint8_t *stream, size_t len, int answer, struct cluster_req *r,
    uint32_t *slot)
{
	uint8_t *copy = fuzz_dup(stream, len);
	int rc = answer ? cluster_decode_answer(copy, len, slot) :
	    cluster_decode_req(copy, len, r);

	free(copy);
	return rc;
}

/* A complete message encodes back to the same bytes. */
static void
check_whole(const uint8_t *b, int n, int answer, const struct cluster_req *r,
    uint32_t slot)
{
	uint8_t again[CLUSTER_REQ_MAX];
	int m;

	if (answer) {
		FUZZ_ASSERT(slot == 0 ? n == 10 : n == 14);
		m = cluster_encode_answer(again, sizeof(again), slot);
	} else if (r->tag == CLUSTER_TAG_LOOKUP) {
		FUZZ_ASSERT(strlen(r->name) == (size_t)n - 10);
		m = cluster_encode_lookup(again, sizeof(again), r->name);
	} else {
		FUZZ_ASSERT(r->port == be16(b + 6) && r->slot != 0);
		m = cluster_encode_connect(again, sizeof(again),
		    (enum cluster_tag)r->tag, r->port, r->slot);
	}
	FUZZ_ASSERT(m == n);
	FUZZ_ASSERT(memcmp(again, b, (size_t)n) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cluster_req r;
	const uint8_t *stream;
	size_t len, slen;
	uint32_t slot;
	int answer, rc, ref, final = 0, have_final = 0;

	if (size < 1)
		return 0;
	answer = data[0] & 1;
	stream = data + 1;
	slen = size - 1;
	for (len = 0; len <= slen; len++) {
		slot = 0;
		rc = decode(stream, len, answer, &r, &slot);
		ref = ref_decode(stream, len, answer);
		FUZZ_ASSERT(rc == ref);
		if (have_final)
			FUZZ_ASSERT(rc == final);
		else if (rc != 0) {
			final = rc;
			have_final = 1;
			if (rc > 0)
				check_whole(stream, rc, answer, &r, slot);
		}
	}
	return 0;
}
