/*
 * fuzz_distname: erlfwd-server's check of a DIST stream's first client
 * bytes, distname_check() (tools/common/distname.h), against the reference
 * below, written from OTP's erl_dist_protocol: a 2-byte length, then 'n'
 * (version 0 5 or 0 6, flags(4), a name of 1..DISTNAME_NAME_MAX bytes) or
 * 'N' (flags(8), creation(4), nlen(2) equal to what is left, nlen >= 1).
 *
 * Input: the bytes a client sends after its preamble.  For every prefix
 * (the server judges after each read): the verdict is the reference's; a
 * final verdict never changes as more bytes arrive; no more than
 * DISTNAME_NEED bytes are ever needed.  Prefixes live in exact-size heap
 * blocks, so a read past the length is seen.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "distname.h"
#include "fuzz.h"

static int
ref_check(const uint8_t *b, size_t len)
{
	size_t mlen, nlen;

	if (len < 3)
		return DISTNAME_MORE;
	mlen = (size_t)b[0] << 8 | b[1];
	if (b[2] == 'n') {
		if (mlen < 8 || mlen > 7 + DISTNAME_NAME_MAX)
			return DISTNAME_BAD;
		if (len < 5)
			return DISTNAME_MORE;
		return b[3] == 0 && (b[4] == 5 || b[4] == 6) ? DISTNAME_OK :
		    DISTNAME_BAD;
	}
	if (b[2] == 'N') {
		if (mlen < 16 || mlen > 15 + DISTNAME_NAME_MAX)
			return DISTNAME_BAD;
		if (len < 17)
			return DISTNAME_MORE;
		nlen = (size_t)b[15] << 8 | b[16];
		return nlen >= 1 && nlen + 15 == mlen ? DISTNAME_OK :
		    DISTNAME_BAD;
	}
	return DISTNAME_BAD;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int v, final = DISTNAME_MORE;
	uint8_t *copy;
	size_t len;

	for (len = 0; len <= size; len++) {
		copy = fuzz_dup(data, len);
		v = distname_check(copy, len);
		free(copy);
		FUZZ_ASSERT(v == ref_check(data, len));
		FUZZ_ASSERT(v == DISTNAME_MORE || v == DISTNAME_OK ||
		    v == DISTNAME_BAD);
		if (len >= DISTNAME_NEED)
			FUZZ_ASSERT(v != DISTNAME_MORE);
		if (final != DISTNAME_MORE)
			FUZZ_ASSERT(v == final);
		final = v;
		if (len > DISTNAME_NEED + 8)
			break;	/* nothing past the need can change it */
	}
	return 0;
}
