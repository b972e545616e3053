/*
 * frame.c: the preamble protocol, as pure functions on buffers (frame.h).
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static int
tag_valid(int tag)
{
	return tag == FRAME_TAG_EPMD || tag == FRAME_TAG_DIST ||
	    tag == FRAME_TAG_INFO || tag == FRAME_TAG_CARRIER;
}

/* The version a tag belongs to: CARRIER is version 2, the rest version 1. */
static int
tag_version(int tag)
{
	return tag == FRAME_TAG_CARRIER ? FRAME_VERSION_CARRIER : FRAME_VERSION;
}

/* Tags whose port field is 0: INFO and CARRIER name no port. */
static int
tag_portless(int tag)
{
	return tag == FRAME_TAG_INFO || tag == FRAME_TAG_CARRIER;
}

int
frame_encode(uint8_t *buf, size_t cap, enum frame_tag tag, uint16_t port,
    const void *body, size_t body_len)
{
	if (!tag_valid((int)tag))
		return FRAME_ETAG;
	if (!tag_portless((int)tag) && port == 0)
		return FRAME_EPORT;
	if (body_len > UINT16_MAX)
		return FRAME_ELENGTH;
	if (cap < FRAME_HDR_LEN + body_len)
		return FRAME_ESPACE;
	memcpy(buf, FRAME_MAGIC, FRAME_MAGIC_LEN);
	buf[4] = (uint8_t)tag_version((int)tag);
	buf[5] = (uint8_t)tag;
	put16(buf + 6, port);
	put16(buf + 8, (uint16_t)body_len);
	if (body_len > 0)
		memcpy(buf + FRAME_HDR_LEN, body, body_len);
	return (int)(FRAME_HDR_LEN + body_len);
}

int
frame_decode(const uint8_t *buf, size_t len, size_t body_max,
    struct frame *out)
{
	size_t n, body_len;

	/* Judge each byte as it arrives: a stranger is turned away at once. */
	n = len < FRAME_MAGIC_LEN ? len : FRAME_MAGIC_LEN;
	if (memcmp(buf, FRAME_MAGIC, n) != 0)
		return FRAME_EMAGIC;
	if (len < 5)
		return 0;
	if (buf[4] != FRAME_VERSION && buf[4] != FRAME_VERSION_CARRIER)
		return FRAME_EVERSION;
	if (len < 6)
		return 0;
	if (!tag_valid(buf[5]))
		return FRAME_ETAG;
	/* Version 2 is the carrier and nothing else; version 1 never is. */
	if (tag_version(buf[5]) != buf[4])
		return FRAME_ETAG;
	if (len < FRAME_HDR_LEN)
		return 0;
	if (!tag_portless(buf[5]) && get16(buf + 6) == 0)
		return FRAME_EPORT;
	body_len = get16(buf + 8);
	if (body_len > body_max)
		return FRAME_ELENGTH;
	if (len < FRAME_HDR_LEN + body_len)
		return 0;
	out->version = buf[4];
	out->tag = buf[5];
	out->port = get16(buf + 6);
	out->body_len = (uint16_t)body_len;
	out->body = buf + FRAME_HDR_LEN;
	return (int)(FRAME_HDR_LEN + body_len);
}

const char *
frame_strerror(int err)
{
	switch (err) {
	case FRAME_EMAGIC:
		return "not an erlfwd preamble (bad magic)";
	case FRAME_EVERSION:
		return "unsupported protocol version";
	case FRAME_ETAG:
		return "unknown tag";
	case FRAME_EPORT:
		return "port 0";
	case FRAME_ELENGTH:
		return "body too long";
	case FRAME_ESPACE:
		return "buffer too small";
	case FRAME_EFIELD:
		return "malformed field";
	default:
		return "unknown error";
	}
}

const char *
frame_tag_name(int tag)
{
	switch (tag) {
	case FRAME_TAG_EPMD:
		return "epmd";
	case FRAME_TAG_DIST:
		return "dist";
	case FRAME_TAG_INFO:
		return "info";
	case FRAME_TAG_CARRIER:
		return "carrier";
	default:
		return "unknown";
	}
}
