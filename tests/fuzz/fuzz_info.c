/*
 * fuzz_info: the INFO reply as the laptop's tools read it, from a remote
 * host that may be compromised: frame_decode() with FRAME_INFO_BODY_MAX,
 * then frame_info_parse() on the body (preload/common/frame.h).
 *
 * Input: an INFO body; the same bytes are also tried as a whole reply frame.
 *
 * After a successful parse every string is NUL-terminated inside its array,
 * there are at most FRAME_INFO_NODES_MAX nodes, each with a non-empty name
 * without a space and a port from 1 to 65535.  Then the round trip: format
 * what was parsed and parse it again, and the two structures are equal.
 *
 * frame_info_format() refuses (FRAME_EFIELD) what the parser would not take
 * back, and the parser is more lenient: it takes a '\r' inside a value, and
 * a body without an epmd_port line (epmd_port 0).  So the round trip must
 * fail exactly then, and succeed otherwise, in a body that fits
 * FRAME_INFO_BODY_MAX with room for a NUL.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "frame_info.h"
#include "fuzz.h"

/* Large enough for any structure the parser can fill. */
#define FORMAT_CAP	(FRAME_INFO_NODES_MAX * (FRAME_INFO_NAME_MAX + 16) + \
			 2 * FRAME_INFO_NAME_MAX + 128)

static int
has_cr(const struct frame_info *fi)
{
	size_t i;

	if (strchr(fi->version, '\r') != NULL || strchr(fi->host, '\r') != NULL)
		return 1;
	for (i = 0; i < fi->nnodes; i++)
		if (strchr(fi->nodes[i].name, '\r') != NULL)
			return 1;
	return 0;
}

static void
check_parsed(const struct frame_info *fi)
{
	size_t i;

	FUZZ_ASSERT(fuzz_has_nul(fi->version, sizeof(fi->version)));
	FUZZ_ASSERT(fuzz_has_nul(fi->host, sizeof(fi->host)));
	FUZZ_ASSERT(strchr(fi->version, '\n') == NULL);
	FUZZ_ASSERT(strchr(fi->host, '\n') == NULL);
	FUZZ_ASSERT(fi->epmd_up == 0 || fi->epmd_up == 1);
	FUZZ_ASSERT(fi->nnodes <= FRAME_INFO_NODES_MAX);
	for (i = 0; i < fi->nnodes; i++) {
		FUZZ_ASSERT(fuzz_has_nul(fi->nodes[i].name,
		    sizeof(fi->nodes[i].name)));
		FUZZ_ASSERT(fi->nodes[i].name[0] != '\0');
		FUZZ_ASSERT(strpbrk(fi->nodes[i].name, " \n") == NULL);
		FUZZ_ASSERT(fi->nodes[i].port != 0);
	}
}

static int
info_equal(const struct frame_info *a, const struct frame_info *b)
{
	size_t i;

	if (strcmp(a->version, b->version) != 0 ||
	    strcmp(a->host, b->host) != 0 || a->epmd_port != b->epmd_port ||
	    a->epmd_up != b->epmd_up || a->nnodes != b->nnodes ||
	    a->skipped != b->skipped)
		return 0;
	for (i = 0; i < a->nnodes; i++)
		if (strcmp(a->nodes[i].name, b->nodes[i].name) != 0 ||
		    a->nodes[i].port != b->nodes[i].port)
			return 0;
	return 1;
}

/* Parse body (len bytes, its own heap block); check; round-trip. */
static void
fuzz_body(const char *body, size_t len, struct frame_info *fi,
    struct frame_info *back, char *text)
{
	int rc, n;

	memset(fi, 0x5a, sizeof(*fi));	/* out must be reset, not left dirty */
	rc = frame_info_parse(body, len, fi);
	FUZZ_ASSERT(rc == 0 || rc == FRAME_EFIELD);
	if (rc != 0)
		return;
	check_parsed(fi);

	n = frame_info_format(text, FORMAT_CAP, fi);
	if (fi->epmd_port == 0 || has_cr(fi)) {
		FUZZ_ASSERT(n == FRAME_EFIELD);
		return;
	}
	FUZZ_ASSERT(n > 0 && n < FRAME_INFO_BODY_MAX);
	FUZZ_ASSERT(memchr(text, '\0', (size_t)n) == NULL);
	memset(back, 0x5a, sizeof(*back));
	rc = frame_info_parse(text, (size_t)n, back);
	FUZZ_ASSERT(rc == 0);
	FUZZ_ASSERT(info_equal(fi, back));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_info *fi, *back;
	struct frame f;
	char *text, *body;
	int n;

	fi = malloc(sizeof(*fi));
	back = malloc(sizeof(*back));
	text = malloc(FORMAT_CAP);
	FUZZ_ASSERT(fi != NULL && back != NULL && text != NULL);

	fuzz_body((const char *)data, size, fi, back, text);

	/* The whole reply, as info_fetch() reads it. */
	n = frame_decode(data, size, FRAME_INFO_BODY_MAX, &f);
	if (n > 0 && f.tag == FRAME_TAG_INFO) {
		FUZZ_ASSERT(f.body_len <= FRAME_INFO_BODY_MAX);
		body = fuzz_dup(f.body, f.body_len);
		fuzz_body(body, f.body_len, fi, back, text);
		free(body);
	}
	free(text);
	free(back);
	free(fi);
	return 0;
}
