/*
 * fuzz_epmd: erlfwd-server's epmd request filter, epmd_filter(), and its
 * reading of epmd's NAMES reply, epmd_names_line() and
 * epmd_names_has_port() (tools/common/epmd.h).
 *
 * Input: two bytes (big endian) of a port to look for, then the payload,
 * which is used both as a request stream from a client and as the text of a
 * NAMES reply from epmd.
 *
 * Request filter, for every prefix of the payload (the server judges after
 * each read): the verdict is the reference's (below, from erl_dist_protocol:
 * only NAMES_REQ and PORT_PLEASE2_REQ with a 1..255 byte name without NUL
 * pass); a final verdict (allow, deny, bad) never changes as more bytes
 * arrive; an allowed request's length and code are its bytes'.
 *
 * NAMES text: every line (split at '\n') parses as the reference parser
 * says, with the name cut to no more than the caller's buffer, whatever its
 * size; and epmd_names_has_port() answers 1 exactly when a line names the
 * port.  Lines and names live in exact-size heap blocks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "epmd.h"
#include "fuzz.h"

#define EXACT_PREFIX	8
#define NAME_MAX_TEST	256

static int
ref_filter(const uint8_t *b, size_t len, size_t *reqlen, int *code)
{
	size_t n;

	if (len < 2)
		return EPMD_MORE;
	n = (size_t)b[0] << 8 | b[1];
	if (n == 0)
		return EPMD_BAD;
	if (len < 3)
		return EPMD_MORE;
	if (b[2] == EPMD_NAMES_REQ) {
		if (n != 1)
			return EPMD_BAD;
	} else if (b[2] == EPMD_PORT_PLEASE2_REQ) {
		if (n - 1 < 1 || n - 1 > 255)
			return EPMD_BAD;
		if (len < 2 + n)
			return EPMD_MORE;
		if (memchr(b + 3, '\0', n - 1) != NULL)
			return EPMD_BAD;
	} else
		return EPMD_DENY;
	if (len < 2 + n)
		return EPMD_MORE;
	*reqlen = 2 + n;
	*code = b[2];
	return EPMD_ALLOW;
}

static void
fuzz_filter(const uint8_t *p, size_t size)
{
	size_t len, reqlen, rreqlen, final_reqlen = 0;
	int v, rv, code, rcode, final = EPMD_MORE;
	uint8_t *copy;

	for (len = 0; len <= size; len++) {
		reqlen = rreqlen = (size_t)-1;
		code = rcode = -1;
		if (len <= EXACT_PREFIX) {
			copy = fuzz_dup(p, len);
			v = epmd_filter(copy, len, &reqlen, &code);
			free(copy);
		} else
			v = epmd_filter(p, len, &reqlen, &code);
		rv = ref_filter(p, len, &rreqlen, &rcode);
		FUZZ_ASSERT(v == rv);
		/* NULL out-parameters are allowed. */
		FUZZ_ASSERT(epmd_filter(p, len, NULL, NULL) == v);
		if (v == EPMD_ALLOW) {
			FUZZ_ASSERT(reqlen == rreqlen && code == rcode);
			FUZZ_ASSERT(reqlen <= len && reqlen <= EPMD_REQ_MAX);
			FUZZ_ASSERT(code == EPMD_NAMES_REQ ||
			    code == EPMD_PORT_PLEASE2_REQ);
			FUZZ_ASSERT(strcmp(epmd_code_name(code), "unknown") != 0);
		}
		if (final != EPMD_MORE) {
			FUZZ_ASSERT(v == final);
			if (v == EPMD_ALLOW)
				FUZZ_ASSERT(reqlen == final_reqlen);
			continue;
		}
		final = v;
		final_reqlen = reqlen;
	}
}

/* Exactly "name NAME at port N": NAME is printable ASCII without spaces
 * (0x21-0x7e), and runs to the first space. */
static int
ref_names_line(const char *line, size_t len, char *name, size_t namecap,
    size_t *namelen, unsigned *port)
{
	static const char pre[] = "name ", mid[] = " at port ";
	size_t plen = sizeof(pre) - 1, mlen = sizeof(mid) - 1, at, i;
	unsigned long v = 0;

	if (len < plen || memcmp(line, pre, plen) != 0 || len < plen + mlen)
		return -1;
	for (at = plen; at < len && line[at] != ' '; at++)
		if ((unsigned char)line[at] < 0x21 ||
		    (unsigned char)line[at] > 0x7e)
			return -1;
	if (at == plen || at - plen >= namecap || len - at < mlen ||
	    memcmp(line + at, mid, mlen) != 0)
		return -1;
	i = at + mlen;
	if (i == len || len - i > 5)
		return -1;
	for (; i < len; i++) {
		if (line[i] < '0' || line[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(line[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	memcpy(name, line + plen, at - plen);
	name[at - plen] = '\0';
	*namelen = at - plen;
	*port = (unsigned)v;
	return 0;
}

/* One line of a NAMES reply, with a name buffer of cap bytes. */
static int
fuzz_line(const char *p, size_t len, size_t cap, unsigned *port)
{
	char *line = fuzz_dup(p, len), *name = malloc(cap), ref[NAME_MAX_TEST];
	uint16_t got = 0;
	unsigned rport = 0;
	size_t nlen = 0;
	int rc, rrc;

	FUZZ_ASSERT(name != NULL);
	memset(name, 0x5a, cap);
	rc = epmd_names_line(line, len, name, cap, &got);
	rrc = ref_names_line(p, len, ref, cap, &nlen, &rport);
	FUZZ_ASSERT(rc == rrc);
	if (rc == 0) {
		FUZZ_ASSERT(got == rport);
		/* The name's bytes (a NUL among them is epmd's business) and
		 * the terminating NUL, inside the caller's buffer. */
		FUZZ_ASSERT(nlen < cap);
		FUZZ_ASSERT(memcmp(name, ref, nlen + 1) == 0);
		*port = got;
	}
	free(name);
	free(line);
	return rc;
}

static void
fuzz_names(const char *text, size_t size, uint16_t port, size_t smallcap)
{
	const char *p = text, *end = text + size, *nl;
	struct frame_info *fi;
	char *copy, pname[256];
	unsigned got;
	size_t odd = 0, nodes = 0, gotodd = (size_t)-1;
	int want = 0, on_port = 0;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (fuzz_line(p, (size_t)(nl - p), NAME_MAX_TEST, &got) == 0) {
			nodes++;
			if (got == port) {
				want = 1;
				on_port++;
			}
		} else
			odd++;
		(void)fuzz_line(p, (size_t)(nl - p), smallcap, &got);
		p = nl + 1;
	}
	copy = fuzz_dup(text, size);
	FUZZ_ASSERT(epmd_names_has_port(copy, size, port, &gotodd) == want);
	/* The name on the port: one line (1), none (0), several (-1). */
	FUZZ_ASSERT(epmd_names_port_name(copy, size, port, pname,
	    sizeof(pname)) == (on_port > 1 ? -1 : on_port));
	/* Every line that is not a node's is counted, none forged or lost. */
	FUZZ_ASSERT(gotodd == odd);
	fi = calloc(1, sizeof(*fi));
	FUZZ_ASSERT(fi != NULL);
	gotodd = epmd_names_info(copy, size, fi);
	FUZZ_ASSERT(fi->nnodes == (nodes < FRAME_INFO_NODES_MAX ? nodes :
	    FRAME_INFO_NODES_MAX));
	if (nodes < FRAME_INFO_NODES_MAX)
		FUZZ_ASSERT(gotodd == odd);
	/* What INFO then carries always formats. */
	{
		char body[FRAME_INFO_BODY_MAX];

		fi->epmd_port = 4369;
		FUZZ_ASSERT(frame_info_format(body, sizeof(body), fi) >= 0);
	}
	free(fi);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t port;

	if (size < 2)
		return 0;
	port = (uint16_t)(data[0] << 8 | data[1]);
	fuzz_filter(data + 2, size - 2);
	/* A small name buffer too (1..64 bytes), picked by the port. */
	fuzz_names((const char *)data + 2, size - 2, port, 1 + port % 64);
	return 0;
}
