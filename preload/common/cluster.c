/*
 * cluster.c: the preload <-> cluster helper requests and the cluster
 * sentinels (cluster.h).
 */
#include <arpa/inet.h>

#include <string.h>

#include "cluster.h"
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

int
cluster_name_valid(const char *name, size_t len)
{
	size_t i;
	char c;

	if (len == 0 || len > CLUSTER_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

int
cluster_v4(uint32_t slot, struct in_addr *out)
{
	if (slot == 0 || slot > CLUSTER_SLOT_MAX)
		return -1;
	out->s_addr = htonl(CLUSTER_NET | slot);
	return 0;
}

uint32_t
cluster_slot_v4(const struct in_addr *a)
{
	uint32_t h = ntohl(a->s_addr), slot = h & ~CLUSTER_MASK;

	if ((h & CLUSTER_MASK) != CLUSTER_NET || slot == 0 ||
	    slot > CLUSTER_SLOT_MAX)
		return 0;
	return slot;
}

uint32_t
cluster_slot_v6(const struct in6_addr *a)
{
	struct in_addr v4;

	if (!IN6_IS_ADDR_V4MAPPED(a))
		return 0;
	memcpy(&v4.s_addr, &a->s6_addr[12], 4);
	return cluster_slot_v4(&v4);
}

uint32_t
cluster_slot_hint(const char *name)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	char c;

	for (; *name != '\0'; name++) {
		c = *name >= 'A' && *name <= 'Z' ? (char)(*name - 'A' + 'a') :
		    *name;
		h = (h ^ (uint8_t)c) * 16777619u;
	}
	return h % CLUSTER_SLOT_MAX + 1;
}

/* The header with version CLUSTER_VERSION; cap was checked by the caller. */
static size_t
header(uint8_t *buf, enum cluster_tag tag, uint16_t port, size_t body_len)
{
	memcpy(buf, FRAME_MAGIC, FRAME_MAGIC_LEN);
	buf[4] = CLUSTER_VERSION;
	buf[5] = (uint8_t)tag;
	put16(buf + 6, port);
	put16(buf + 8, (uint16_t)body_len);
	return FRAME_HDR_LEN;
}

int
cluster_encode_lookup(uint8_t *buf, size_t cap, const char *name)
{
	size_t len = strlen(name);

	if (!cluster_name_valid(name, len) || cap < FRAME_HDR_LEN + len)
		return -1;
	header(buf, CLUSTER_TAG_LOOKUP, 0, len);
	memcpy(buf + FRAME_HDR_LEN, name, len);
	return (int)(FRAME_HDR_LEN + len);
}

int
cluster_encode_connect(uint8_t *buf, size_t cap, enum cluster_tag tag,
    uint16_t port, uint32_t slot)
{
	struct in_addr a;

	if ((tag != CLUSTER_TAG_EPMD && tag != CLUSTER_TAG_DIST) || port == 0 ||
	    cluster_v4(slot, &a) != 0 || cap < FRAME_HDR_LEN + 4)
		return -1;
	header(buf, tag, port, 4);
	memcpy(buf + FRAME_HDR_LEN, &a.s_addr, 4);
	return FRAME_HDR_LEN + 4;
}

int
cluster_encode_answer(uint8_t *buf, size_t cap, uint32_t slot)
{
	struct in_addr a;
	size_t body = slot != 0 ? 4 : 0;

	if (slot == CLUSTER_SLOT_SELF)
		a.s_addr = htonl(INADDR_LOOPBACK);
	else if (slot != 0 && cluster_v4(slot, &a) != 0)
		return -1;
	if (cap < FRAME_HDR_LEN + body)
		return -1;
	header(buf, CLUSTER_TAG_LOOKUP, 0, body);
	if (body != 0)
		memcpy(buf + FRAME_HDR_LEN, &a.s_addr, 4);
	return (int)(FRAME_HDR_LEN + body);
}

/*
 * The header's first FRAME_HDR_LEN bytes (len so far), judged byte by byte
 * as frame_decode() does.  Returns 1 when whole, 0 for more, or a negative
 * enum frame_err.
 */
static int
check_header(const uint8_t *buf, size_t len)
{
	size_t n = len < FRAME_MAGIC_LEN ? len : FRAME_MAGIC_LEN;

	if (memcmp(buf, FRAME_MAGIC, n) != 0)
		return FRAME_EMAGIC;
	if (len < 5)
		return 0;
	if (buf[4] != CLUSTER_VERSION)
		return FRAME_EVERSION;
	if (len < 6)
		return 0;
	if (buf[5] != CLUSTER_TAG_EPMD && buf[5] != CLUSTER_TAG_DIST &&
	    buf[5] != CLUSTER_TAG_LOOKUP)
		return FRAME_ETAG;
	return len >= FRAME_HDR_LEN;
}

/* The slot named by a 4-byte body, or 0. */
static uint32_t
body_slot(const uint8_t *p)
{
	struct in_addr a;

	memcpy(&a.s_addr, p, 4);
	return cluster_slot_v4(&a);
}

int
cluster_decode_req(const uint8_t *buf, size_t len, struct cluster_req *out)
{
	size_t body;
	uint16_t port;
	int rc;

	if ((rc = check_header(buf, len)) <= 0)
		return rc;
	port = get16(buf + 6);
	body = get16(buf + 8);
	if (buf[5] == CLUSTER_TAG_LOOKUP) {
		if (port != 0)
			return FRAME_EPORT;
		if (body == 0 || body > CLUSTER_NAME_MAX)
			return FRAME_ELENGTH;
	} else {
		if (port == 0)
			return FRAME_EPORT;
		if (body != 4)
			return FRAME_ELENGTH;
	}
	if (len < FRAME_HDR_LEN + body)
		return 0;
	memset(out, 0, sizeof(*out));
	out->tag = buf[5];
	out->port = port;
	if (buf[5] == CLUSTER_TAG_LOOKUP) {
		if (!cluster_name_valid((const char *)buf + FRAME_HDR_LEN, body))
			return FRAME_EFIELD;
		memcpy(out->name, buf + FRAME_HDR_LEN, body);
	} else if ((out->slot = body_slot(buf + FRAME_HDR_LEN)) == 0)
		return FRAME_EFIELD;
	return (int)(FRAME_HDR_LEN + body);
}

int
cluster_decode_answer(const uint8_t *buf, size_t len, uint32_t *slot)
{
	size_t body;
	int rc;

	if ((rc = check_header(buf, len)) <= 0)
		return rc;
	if (buf[5] != CLUSTER_TAG_LOOKUP)
		return FRAME_ETAG;
	if (get16(buf + 6) != 0)
		return FRAME_EPORT;
	body = get16(buf + 8);
	if (body != 0 && body != 4)
		return FRAME_ELENGTH;
	if (len < FRAME_HDR_LEN + body)
		return 0;
	*slot = 0;
	if (body == 4 && memcmp(buf + FRAME_HDR_LEN, "\x7f\0\0\x01", 4) == 0)
		*slot = CLUSTER_SLOT_SELF;
	else if (body == 4 && (*slot = body_slot(buf + FRAME_HDR_LEN)) == 0)
		return FRAME_EFIELD;
	return (int)(FRAME_HDR_LEN + body);
}
