/*
 * fuzz_frame: the preamble parser, frame_decode() (preload/common/frame.h), as the
 * server meets it: bytes from a stranger, arriving split anywhere.
 *
 * Input: two bytes of body_max (big endian; 0xffff stands for SIZE_MAX),
 * then the stream.  For every prefix of the stream (the server calls
 * frame_decode on what it has so far, after each read):
 *   - the verdict is the reference decoder's, written from the header's
 *     table rather than from frame.c;
 *   - once a verdict is final (an error, or a complete frame) every longer
 *     prefix gives the same one: no split of the same bytes can change it;
 *   - a complete frame's fields are the bytes', its body points inside the
 *     buffer, and frame_encode() writes the same bytes back.
 * Short prefixes are decoded from exact-size heap copies, so that a read
 * past len is an ASan report, not a silent success.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fuzz.h"

/* Prefixes up to this length are decoded from their own heap copy. */
#define EXACT_PREFIX	(FRAME_HDR_LEN + 6)

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The header's table, as a reference: the first failing field wins. */
static int
ref_decode(const uint8_t *b, size_t len, size_t body_max)
{
	static const uint8_t magic[FRAME_MAGIC_LEN] = { 'E', 'F', 'W', 'D' };
	size_t i, body;

	for (i = 0; i < FRAME_MAGIC_LEN; i++) {
		if (i == len)
			return 0;
		if (b[i] != magic[i])
			return FRAME_EMAGIC;
	}
	if (len < 5)
		return 0;
	if (b[4] != 1 && b[4] != 2)
		return FRAME_EVERSION;
	if (len < 6)
		return 0;
	/* Version 1 carries EPMD, DIST and INFO; version 2 only CARRIER. */
	if (b[4] == 1 ? b[5] < 1 || b[5] > 3 : b[5] != 4)
		return FRAME_ETAG;
	if (len < FRAME_HDR_LEN)
		return 0;
	if (b[5] != FRAME_TAG_INFO && b[5] != FRAME_TAG_CARRIER &&
	    be16(b + 6) == 0)
		return FRAME_EPORT;
	body = be16(b + 8);
	if (body > body_max)
		return FRAME_ELENGTH;
	if (len < FRAME_HDR_LEN + body)
		return 0;
	return (int)(FRAME_HDR_LEN + body);
}

/* frame_decode on the first len bytes of stream; f->body points into stream. */
static int
decode_prefix(const uint8_t *stream, size_t len, size_t body_max,
    struct frame *f)
{
	uint8_t *copy;
	int rc;

	if (len > EXACT_PREFIX)
		return frame_decode(stream, len, body_max, f);
	copy = fuzz_dup(stream, len);
	rc = frame_decode(copy, len, body_max, f);
	/* The body pointer must not outlive the copy: rebase it. */
	if (rc > 0)
		f->body = stream + (f->body - copy);
	free(copy);
	return rc;
}

static void
check_frame(const uint8_t *buf, int n, const struct frame *f, size_t body_max)
{
	uint8_t *again;
	int m;

	FUZZ_ASSERT(n >= FRAME_HDR_LEN);
	FUZZ_ASSERT(f->version == (f->tag == FRAME_TAG_CARRIER ?
	    FRAME_VERSION_CARRIER : FRAME_VERSION));
	FUZZ_ASSERT(f->tag == buf[5]);
	FUZZ_ASSERT(f->port == be16(buf + 6));
	FUZZ_ASSERT(f->body_len == be16(buf + 8));
	FUZZ_ASSERT(f->body_len <= body_max);
	FUZZ_ASSERT((size_t)n == FRAME_HDR_LEN + f->body_len);
	FUZZ_ASSERT(f->body == buf + FRAME_HDR_LEN);
	FUZZ_ASSERT(strcmp(frame_tag_name(f->tag), "unknown") != 0);

	/* What was decoded encodes to the same bytes, in a buffer just big
	 * enough, and one byte short is refused. */
	again = malloc((size_t)n);
	FUZZ_ASSERT(again != NULL);
	m = frame_encode(again, (size_t)n, (enum frame_tag)f->tag, f->port,
	    f->body, f->body_len);
	FUZZ_ASSERT(m == n);
	FUZZ_ASSERT(memcmp(again, buf, (size_t)n) == 0);
	FUZZ_ASSERT(frame_encode(again, (size_t)n - 1, (enum frame_tag)f->tag,
	    f->port, f->body, f->body_len) == FRAME_ESPACE);
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *stream;
	struct frame f;
	size_t len, slen, body_max;
	int rc, ref, final = 0, have_final = 0;

	if (size < 2)
		return 0;
	body_max = be16(data) == 0xffff ? SIZE_MAX : be16(data);
	stream = data + 2;
	slen = size - 2;
	for (len = 0; len <= slen; len++) {
		memset(&f, 0xa5, sizeof(f));
		rc = decode_prefix(stream, len, body_max, &f);
		ref = ref_decode(stream, len, body_max);
		FUZZ_ASSERT(rc == ref);
		FUZZ_ASSERT(rc <= 0 || (size_t)rc <= len);
		if (rc < 0)
			FUZZ_ASSERT(strcmp(frame_strerror(rc), "unknown error") != 0);
		if (have_final) {
			FUZZ_ASSERT(rc == final);
			continue;
		}
		if (rc != 0) {
			final = rc;
			have_final = 1;
			if (rc > 0)
				check_frame(stream, rc, &f, body_max);
		}
	}
	return 0;
}
