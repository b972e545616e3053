/*
 * carrier.c: the carrier protocol's frames (carrier.h).
 */
#include <string.h>

#include "carrier.h"
#include "frame.h"

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Stream 0 is the carrier's own: PING, PONG and GOAWAY use it, nothing else. */
static int
on_carrier(int type)
{
	return type == CARRIER_PING || type == CARRIER_PONG ||
	    type == CARRIER_GOAWAY;
}

/* The lengths a type allows, from its header alone. */
static int
length_ok(int type, uint32_t len)
{
	switch (type) {
	case CARRIER_DATA:
		return len >= 1 && len <= CARRIER_DATA_MAX;
	case CARRIER_WINDOW_UPDATE:
	case CARRIER_PING:
	case CARRIER_PONG:
		return len == 4;
	case CARRIER_OPEN:
		return len == 3;
	case CARRIER_FIN:
		return len == 0;
	case CARRIER_RESET:
		return len == 1;
	default:	/* GOAWAY */
		return len >= 1 && len <= CARRIER_CTL_MAX;
	}
}

/* The payload's own rules, once it is all here. */
static int
payload_ok(int type, const uint8_t *p, uint32_t len)
{
	uint32_t i, v;
	uint16_t port;

	switch (type) {
	case CARRIER_WINDOW_UPDATE:
		v = get32(p);
		return v > 0 && v <= CARRIER_WINDOW_MAX;
	case CARRIER_OPEN:
		port = (uint16_t)(p[1] << 8 | p[2]);
		if (p[0] == FRAME_TAG_INFO)
			return port == 0;
		return (p[0] == FRAME_TAG_EPMD || p[0] == FRAME_TAG_DIST) &&
		    port != 0;
	case CARRIER_RESET:
		return p[0] >= CARRIER_RST_RESET && p[0] <= CARRIER_RST_ERROR;
	case CARRIER_GOAWAY:
		if (p[0] > CARRIER_GA_IDLE)
			return 0;
		/* The reason reaches logs and terminals: printable only. */
		for (i = 1; i < len; i++)
			if (p[i] < 0x20 || p[i] > 0x7e)
				return 0;
		return 1;
	default:
		return 1;
	}
}

int
carrier_decode(const uint8_t *buf, size_t len, struct carrier_frame *out)
{
	uint32_t stream, plen;

	if (len < 1)
		return 0;
	if (buf[0] != CARRIER_VERSION)
		return CARRIER_EVERSION;
	if (len < 2)
		return 0;
	if (buf[1] > CARRIER_GOAWAY)
		return CARRIER_ETYPE;
	if (len < 4)
		return 0;
	if (buf[2] != 0 || buf[3] != 0)
		return CARRIER_EFLAGS;
	if (len < CARRIER_HDR_LEN)
		return 0;
	stream = get32(buf + 4);
	plen = get32(buf + 8);
	if ((stream == 0) != on_carrier(buf[1]))
		return CARRIER_ESTREAM;
	if (!length_ok(buf[1], plen))
		return CARRIER_ELENGTH;
	if (len - CARRIER_HDR_LEN < plen)
		return 0;
	if (!payload_ok(buf[1], buf + CARRIER_HDR_LEN, plen))
		return CARRIER_EPAYLOAD;
	out->type = buf[1];
	out->stream = stream;
	out->len = plen;
	out->payload = buf + CARRIER_HDR_LEN;
	return (int)(CARRIER_HDR_LEN + plen);
}

void
carrier_put_hdr(uint8_t *buf, enum carrier_type type, uint32_t stream,
    uint32_t len)
{
	buf[0] = CARRIER_VERSION;
	buf[1] = (uint8_t)type;
	buf[2] = buf[3] = 0;
	put32(buf + 4, stream);
	put32(buf + 8, len);
}

int
carrier_encode(uint8_t *buf, size_t cap, enum carrier_type type,
    uint32_t stream, const void *payload, size_t len)
{
	uint8_t hdr[CARRIER_HDR_LEN];
	struct carrier_frame f;
	int n;

	/*
	 * One set of rules: what we would refuse, we do not send, and we say
	 * why as decode would, whatever the room.  Any length past
	 * CARRIER_DATA_MAX is past every type's limit, so the header judged
	 * with DATA_MAX + 1 in it fails where the real length would.
	 */
	carrier_put_hdr(hdr, type, stream, len > CARRIER_DATA_MAX ?
	    CARRIER_DATA_MAX + 1 : (uint32_t)len);
	n = carrier_decode(hdr, sizeof(hdr), &f);
	if (n < 0)
		return n;
	if (len > 0 && !payload_ok(type, payload, (uint32_t)len))
		return CARRIER_EPAYLOAD;
	if (cap < CARRIER_HDR_LEN + len)
		return CARRIER_ESPACE;
	memcpy(buf, hdr, sizeof(hdr));
	if (len > 0)
		memcpy(buf + CARRIER_HDR_LEN, payload, len);
	return (int)(CARRIER_HDR_LEN + len);
}

uint32_t
carrier_u32(const struct carrier_frame *f)
{
	return get32(f->payload);
}

void
carrier_open(const struct carrier_frame *f, uint8_t *tag, uint16_t *port)
{
	*tag = f->payload[0];
	*port = (uint16_t)(f->payload[1] << 8 | f->payload[2]);
}

const char *
carrier_strerror(int err)
{
	switch (err) {
	case CARRIER_EVERSION:
		return "not a carrier frame (bad version)";
	case CARRIER_ETYPE:
		return "unknown frame type";
	case CARRIER_EFLAGS:
		return "reserved flags set";
	case CARRIER_ESTREAM:
		return "wrong stream for the frame type";
	case CARRIER_ELENGTH:
		return "bad frame length";
	case CARRIER_EPAYLOAD:
		return "bad frame payload";
	case CARRIER_ESPACE:
		return "no room for the frame";
	default:
		return "unknown error";
	}
}

const char *
carrier_type_name(int type)
{
	static const char *const names[] = { "data", "window", "open", "fin",
	    "reset", "ping", "pong", "goaway" };

	return type >= 0 && type <= CARRIER_GOAWAY ? names[type] : "unknown";
}
