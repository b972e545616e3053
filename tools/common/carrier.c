/*
 * carrier.c: the carrier protocol's frames (carrier.h).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "carrier.h"
#include "frame.h"
#include "sha256.h"

_Static_assert(CARRIER_PROOF_LEN == SHA256_LEN, "a proof is an HMAC-SHA256");
_Static_assert(CARRIER_SESSION_RESUME_LEN <= CARRIER_CTL_MAX,
    "a SESSION is a control frame");

static const char hexdigits[] = "0123456789abcdef";

/* SESSION's ops and each one's payload length: the one table that decode
 * (from the header, then the payload) and the parser read. */
static const struct {
	uint8_t		op;
	uint32_t	len;
} session_ops[] = {
	{ CARRIER_SES_NEW, CARRIER_SESSION_NEW_LEN },
	{ CARRIER_SES_RESUME, CARRIER_SESSION_RESUME_LEN },
	{ CARRIER_SES_ACCEPT, CARRIER_SESSION_ACCEPT_LEN },
	{ CARRIER_SES_REFUSE, CARRIER_SESSION_REFUSE_LEN },
};
#define NSESSION_OPS	(sizeof(session_ops) / sizeof(session_ops[0]))

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* Stream 0 is the carrier's own: PING, PONG, GOAWAY, SESSION and ACK use
 * it, nothing else. */
static int
on_carrier(int type)
{
	return type == CARRIER_PING || type == CARRIER_PONG ||
	    type == CARRIER_GOAWAY || type == CARRIER_SESSION ||
	    type == CARRIER_ACK;
}

/* The payload length of a SESSION with op, or 0 when op is none. */
static uint32_t
session_len(uint8_t op)
{
	size_t i;

	for (i = 0; i < NSESSION_OPS; i++)
		if (session_ops[i].op == op)
			return session_ops[i].len;
	return 0;
}

/* Whether some op's SESSION is len bytes: all the header can tell. */
static int
session_len_any(uint32_t len)
{
	size_t i;

	for (i = 0; i < NSESSION_OPS; i++)
		if (session_ops[i].len == len)
			return 1;
	return 0;
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
	case CARRIER_GOAWAY:
		return len >= 1 && len <= CARRIER_CTL_MAX;
	case CARRIER_SESSION:
		return session_len_any(len);
	case CARRIER_ACK:
		return len == CARRIER_ACK_LEN;
	default:
		return 0;
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
	case CARRIER_SESSION:
		/* An unknown op has no length, and len is never 0 here. */
		if (session_len(p[0]) != len)
			return 0;
		return p[0] != CARRIER_SES_REFUSE ||
		    (p[1] >= CARRIER_REFUSED_UNKNOWN &&
		    p[1] <= CARRIER_REFUSED_NOT_OFFERED);
	default:	/* DATA, PING, PONG, ACK: any bytes */
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
	if (buf[1] > CARRIER_ACK)
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

/* Older peers refuse a CARRIER frame whose body is longer. */
_Static_assert(CARRIER_HELLO_MAX <= FRAME_REQ_BODY_MAX,
    "a hello older peers refuse");

int
carrier_hello(uint8_t *buf, size_t cap, const char *version, uint32_t streams,
    int resume)
{
	char body[CARRIER_HELLO_MAX + 1];
	int n, k;

	n = streams != 0 ?
	    snprintf(body, sizeof(body), CARRIER_HELLO_VERSION "=%s "
	    CARRIER_HELLO_STREAMS "=%lu", version, (unsigned long)streams) :
	    snprintf(body, sizeof(body), CARRIER_HELLO_VERSION "=%s", version);
	if (n >= 0 && (size_t)n < sizeof(body) && resume) {
		k = snprintf(body + n, sizeof(body) - (size_t)n, " "
		    CARRIER_HELLO_RESUME "=1");
		n = k < 0 ? k : n + k;
	}
	if (n < 0 || (size_t)n > CARRIER_HELLO_MAX)
		return FRAME_ELENGTH;
	return frame_encode(buf, cap, FRAME_TAG_CARRIER, 0, body, (size_t)n);
}

int
carrier_hello_field(const uint8_t *body, size_t len, const char *key,
    char *out, size_t cap)
{
	size_t klen = strlen(key), i = 0, start, vlen;

	if (klen == 0 || memchr(key, '=', klen) != NULL ||
	    memchr(key, ' ', klen) != NULL)
		return -1;
	while (i < len) {
		while (i < len && body[i] == ' ')
			i++;
		start = i;
		while (i < len && body[i] != ' ')
			i++;
		/* [start, i) is one field: "key=value" names ours. */
		if (i - start <= klen || body[start + klen] != '=' ||
		    memcmp(body + start, key, klen) != 0)
			continue;
		start += klen + 1;
		vlen = i - start;
		if (vlen >= cap)
			return -1;
		for (size_t k = 0; k < vlen; k++)
			if (body[start + k] < 0x21 || body[start + k] > 0x7e)
				return -1;
		memcpy(out, body + start, vlen);
		out[vlen] = '\0';
		return (int)vlen;
	}
	return -1;
}

uint32_t
carrier_hello_streams(const uint8_t *body, size_t len)
{
	return carrier_hello_number(body, len, CARRIER_HELLO_STREAMS);
}

uint32_t
carrier_hello_number(const uint8_t *body, size_t len, const char *key)
{
	char v[16];
	uint32_t n = 0;
	int k, i;

	k = carrier_hello_field(body, len, key, v, sizeof(v));
	/* Nine digits at most: no overflow, and far past any --max-conns. */
	if (k < 1 || k > 9 || v[0] == '0')
		return 0;
	for (i = 0; i < k; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 0;
		n = n * 10 + (uint32_t)(v[i] - '0');
	}
	return n;
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
	    "reset", "ping", "pong", "goaway", "session", "ack" };

	return type >= 0 && type <= CARRIER_ACK ? names[type] : "unknown";
}

int
carrier_sequenced(int type)
{
	switch (type) {
	case CARRIER_DATA:
	case CARRIER_WINDOW_UPDATE:
	case CARRIER_OPEN:
	case CARRIER_FIN:
	case CARRIER_RESET:
		return 1;
	default:
		return 0;
	}
}

uint64_t
carrier_u64(const struct carrier_frame *f)
{
	/* ACK, ACCEPT and RESUME all end with their count. */
	if (f->len < CARRIER_COUNT_LEN)
		return 0;
	return get64(f->payload + f->len - CARRIER_COUNT_LEN);
}

int
carrier_session_parse(const struct carrier_frame *f,
    struct carrier_session *out)
{
	const uint8_t *p = f->payload;
	struct carrier_session s;

	if (f->type != CARRIER_SESSION)
		return CARRIER_ETYPE;
	if (f->len < 1 || !payload_ok(CARRIER_SESSION, p, f->len))
		return CARRIER_EPAYLOAD;
	memset(&s, 0, sizeof(s));
	s.op = p[0];
	switch (s.op) {
	case CARRIER_SES_NEW:
		s.sid = p + 1;
		s.key = p + 1 + CARRIER_SID_LEN;
		break;
	case CARRIER_SES_RESUME:
		s.sid = p + 1;
		s.proof = p + 1 + CARRIER_SID_LEN;
		s.count = get64(p + 1 + CARRIER_SID_LEN + CARRIER_PROOF_LEN);
		break;
	case CARRIER_SES_ACCEPT:
		s.count = get64(p + 1);
		break;
	default:	/* REFUSE */
		s.reason = p[1];
		break;
	}
	*out = s;
	return 0;
}

int
carrier_session_new(uint8_t *buf, size_t cap,
    const uint8_t sid[CARRIER_SID_LEN], const uint8_t key[CARRIER_KEY_LEN])
{
	uint8_t p[CARRIER_SESSION_NEW_LEN];

	p[0] = CARRIER_SES_NEW;
	memcpy(p + 1, sid, CARRIER_SID_LEN);
	memcpy(p + 1 + CARRIER_SID_LEN, key, CARRIER_KEY_LEN);
	return carrier_encode(buf, cap, CARRIER_SESSION, 0, p, sizeof(p));
}

int
carrier_session_resume(uint8_t *buf, size_t cap,
    const uint8_t sid[CARRIER_SID_LEN], const uint8_t proof[CARRIER_PROOF_LEN],
    uint64_t count)
{
	uint8_t p[CARRIER_SESSION_RESUME_LEN];

	p[0] = CARRIER_SES_RESUME;
	memcpy(p + 1, sid, CARRIER_SID_LEN);
	memcpy(p + 1 + CARRIER_SID_LEN, proof, CARRIER_PROOF_LEN);
	put64(p + 1 + CARRIER_SID_LEN + CARRIER_PROOF_LEN, count);
	return carrier_encode(buf, cap, CARRIER_SESSION, 0, p, sizeof(p));
}

int
carrier_session_accept(uint8_t *buf, size_t cap, uint64_t count)
{
	uint8_t p[CARRIER_SESSION_ACCEPT_LEN];

	p[0] = CARRIER_SES_ACCEPT;
	put64(p + 1, count);
	return carrier_encode(buf, cap, CARRIER_SESSION, 0, p, sizeof(p));
}

int
carrier_session_refuse(uint8_t *buf, size_t cap, enum carrier_refused reason)
{
	uint8_t p[CARRIER_SESSION_REFUSE_LEN];

	/* A reason past a byte would wrap into a valid one: refuse it here. */
	if ((unsigned)reason > 0xff)
		return CARRIER_EPAYLOAD;
	p[0] = CARRIER_SES_REFUSE;
	p[1] = (uint8_t)reason;
	return carrier_encode(buf, cap, CARRIER_SESSION, 0, p, sizeof(p));
}

int
carrier_ack(uint8_t *buf, size_t cap, uint64_t count)
{
	uint8_t p[CARRIER_ACK_LEN];

	put64(p, count);
	return carrier_encode(buf, cap, CARRIER_ACK, 0, p, sizeof(p));
}

void
carrier_resume_proof(const uint8_t key[CARRIER_KEY_LEN],
    const uint8_t sid[CARRIER_SID_LEN], const uint8_t nonce[CARRIER_NONCE_LEN],
    uint8_t out[CARRIER_PROOF_LEN])
{
	enum { LABEL = sizeof(CARRIER_PROOF_LABEL) - 1 };
	uint8_t msg[LABEL + CARRIER_SID_LEN + CARRIER_NONCE_LEN];

	/* The label keeps this MAC from meaning anything else a later
	 * version might compute under the same key. */
	memcpy(msg, CARRIER_PROOF_LABEL, LABEL);
	memcpy(msg + LABEL, sid, CARRIER_SID_LEN);
	memcpy(msg + LABEL + CARRIER_SID_LEN, nonce, CARRIER_NONCE_LEN);
	sha256_hmac(key, CARRIER_KEY_LEN, msg, sizeof(msg), out);
}

int
carrier_resume_check(const uint8_t key[CARRIER_KEY_LEN],
    const uint8_t sid[CARRIER_SID_LEN], const uint8_t nonce[CARRIER_NONCE_LEN],
    const uint8_t proof[CARRIER_PROOF_LEN])
{
	uint8_t want[CARRIER_PROOF_LEN];

	carrier_resume_proof(key, sid, nonce, want);
	return sha256_equal(want, proof, CARRIER_PROOF_LEN);
}

int
carrier_hex_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	size_t i;

	if (n > (INT_MAX - 1) / 2 || cap < 2 * n + 1)
		return CARRIER_ESPACE;
	for (i = 0; i < n; i++) {
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
	return (int)(2 * n);
}

int
carrier_hex_decode(const char *s, size_t len, uint8_t *out, size_t n)
{
	const char *hi, *lo;
	size_t i;

	if (n > SIZE_MAX / 2 || len != 2 * n)
		return CARRIER_EPAYLOAD;
	/* Every digit is judged before out is touched.  memchr over the 16
	 * digits alone: a NUL is not one. */
	for (i = 0; i < len; i++)
		if (memchr(hexdigits, s[i], 16) == NULL)
			return CARRIER_EPAYLOAD;
	for (i = 0; i < n; i++) {
		hi = memchr(hexdigits, s[2 * i], 16);
		lo = memchr(hexdigits, s[2 * i + 1], 16);
		out[i] = (uint8_t)((hi - hexdigits) << 4 | (lo - hexdigits));
	}
	return 0;
}
