/*
 * dist.c: distribution handshake messages (dist.h).
 */
#include <stdio.h>
#include <string.h>

#include "dist.h"

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

int
dist_name(uint8_t *buf, size_t cap, const char *name, uint32_t creation)
{
	size_t nlen = strlen(name), body = 1 + 8 + 4 + 2 + nlen;

	if (nlen == 0 || nlen >= DIST_NAME_MAX || cap < DIST_LEN_HDR + body)
		return -1;
	put16(buf, (uint16_t)body);
	buf[2] = 'N';
	put64(buf + 3, DIST_FLAGS);
	put32(buf + 11, creation);
	put16(buf + 15, (uint16_t)nlen);
	memcpy(buf + 17, name, nlen);
	return (int)(DIST_LEN_HDR + body);
}

int
dist_status(const uint8_t *body, size_t len, char *text, size_t cap)
{
	if (len < 1 || body[0] != 's' || len - 1 >= cap ||
	    memchr(body + 1, '\0', len - 1) != NULL)
		return -1;
	memcpy(text, body + 1, len - 1);
	text[len - 1] = '\0';
	return 0;
}

/* Copy a name of nlen bytes into out->node; -1 when it is empty or too long. */
static int
take_name(struct dist_challenge *out, const uint8_t *name, size_t nlen)
{
	if (nlen == 0 || nlen >= sizeof(out->node) ||
	    memchr(name, '\0', nlen) != NULL)
		return -1;
	memcpy(out->node, name, nlen);
	out->node[nlen] = '\0';
	return 0;
}

int
dist_challenge(const uint8_t *body, size_t len, struct dist_challenge *out)
{
	size_t nlen;

	memset(out, 0, sizeof(*out));
	if (len >= 1 + 8 + 4 + 4 + 2 && body[0] == 'N') {
		out->flags = get64(body + 1);
		out->challenge = get32(body + 9);
		nlen = get16(body + 17);
		if (nlen > len - 19)
			return -1;
		return take_name(out, body + 19, nlen);
	}
	if (len >= 1 + 2 + 4 + 4 && body[0] == 'n') {
		out->flags = get32(body + 3);
		out->challenge = get32(body + 7);
		return take_name(out, body + 11, len - 11);
	}
	return -1;
}

/*
 * The body of the handshake message at off in buf (len bytes): 1 with
 * *body and *blen, 0 when it is not all here, -1 for a length no message
 * of ours has.
 */
static int
message(const uint8_t *buf, size_t len, size_t off, const uint8_t **body,
    size_t *blen)
{
	if (len - off < DIST_LEN_HDR)
		return 0;
	*blen = get16(buf + off);
	if (*blen == 0 || *blen > DIST_BODY_MAX)
		return -1;
	if (len - off - DIST_LEN_HDR < *blen)
		return 0;
	*body = buf + off + DIST_LEN_HDR;
	return 1;
}

int
dist_answer_name(const uint8_t *buf, size_t len, char *name, size_t cap)
{
	struct dist_challenge ch;
	const uint8_t *body;
	char status[32];
	size_t blen;
	int k;

	if ((k = message(buf, len, 0, &body, &blen)) <= 0)
		return k;
	if (dist_status(body, blen, status, sizeof(status)) != 0 ||
	    (strcmp(status, "ok") != 0 && strcmp(status, "ok_simultaneous") != 0))
		return -1;
	if ((k = message(buf, len, DIST_LEN_HDR + blen, &body, &blen)) <= 0)
		return k;
	if (dist_challenge(body, blen, &ch) != 0 || strlen(ch.node) >= cap)
		return -1;
	memcpy(name, ch.node, strlen(ch.node) + 1);
	return 1;
}

void
dist_digest(const char *cookie, uint32_t challenge, uint8_t out[MD5_LEN])
{
	struct md5 m;
	char dec[16];
	int n;

	n = snprintf(dec, sizeof(dec), "%lu", (unsigned long)challenge);
	md5_init(&m);
	md5_update(&m, cookie, strlen(cookie));
	md5_update(&m, dec, (size_t)n);
	md5_final(&m, out);
}

int
dist_reply(uint8_t *buf, size_t cap, uint32_t ours,
    const uint8_t digest[MD5_LEN])
{
	size_t body = 1 + 4 + MD5_LEN;

	if (cap < DIST_LEN_HDR + body)
		return -1;
	put16(buf, (uint16_t)body);
	buf[2] = 'r';
	put32(buf + 3, ours);
	memcpy(buf + 7, digest, MD5_LEN);
	return (int)(DIST_LEN_HDR + body);
}

int
dist_ack(const uint8_t *body, size_t len, const uint8_t expect[MD5_LEN])
{
	return len == 1 + MD5_LEN && body[0] == 'a' &&
	    memcmp(body + 1, expect, MD5_LEN) == 0;
}
