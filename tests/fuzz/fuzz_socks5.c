/*
 * fuzz_socks5: the SOCKS5 client state machine (preload/common/socks5.h) against a
 * proxy that sends anything.  The target plays the library's I/O loop: it
 * reads exactly socks5_need() bytes (here: takes them from the input, in a
 * heap block of exactly that size) and feeds them, until the machine is
 * done, fails, or the proxy "closes" (the input runs out).
 *
 * Input: 6 bytes of setup, then the proxy's bytes.
 *   [0]    flags: bit 0 offer username/password; bits 1-2 the target host
 *          (IPv4 literal, IPv6 literal, a domain, or a domain of [3] 'h's);
 *          bit 3 a 256-byte user, bit 4 a 256-byte password (both refused)
 *   [1..2] the target port, big endian
 *   [3]    the domain's length for host kind 3 (0 is refused)
 *   [4..5] the user's and the password's length
 *
 * The machine is checked step by step against a model written from RFC 1928
 * and RFC 1929: the greeting, the messages it asks us to send (byte for
 * byte), how many bytes it wants, each step's result and, after a refusal,
 * the errno; once finished it wants nothing and refuses more.  The bytes
 * taken when it reports DONE are exactly those of the handshake: none of the
 * target's stream is eaten.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "socks5.h"

#define SETUP_LEN	6

struct model {
	int		 state;	/* enum socks5_state, as the model sees it */
	size_t		 need;
	const char	*user, *pass;
	uint8_t		 req[4 + 1 + 255 + 2];
	size_t		 reqlen;
};

static const char *
pick_host(int kind, size_t dlen, char *buf)
{
	switch (kind) {
	case 0:
		return "127.0.0.1";
	case 1:
		return "::1";
	case 2:
		return "remote.example";
	default:
		memset(buf, 'h', dlen);
		buf[dlen] = '\0';
		return buf;
	}
}

/* The CONNECT request RFC 1928 section 4 describes, built from scratch. */
static size_t
model_request(uint8_t *r, const char *host, uint16_t port)
{
	struct in_addr a4;
	struct in6_addr a6;
	size_t n = 0, hlen = strlen(host);

	r[n++] = 5;
	r[n++] = 1;	/* CONNECT */
	r[n++] = 0;	/* RSV */
	if (inet_pton(AF_INET, host, &a4) == 1) {
		r[n++] = 1;
		memcpy(r + n, &a4, 4);
		n += 4;
	} else if (inet_pton(AF_INET6, host, &a6) == 1) {
		r[n++] = 4;
		memcpy(r + n, &a6, 16);
		n += 16;
	} else {
		r[n++] = 3;
		r[n++] = (uint8_t)hlen;
		memcpy(r + n, host, hlen);
		n += hlen;
	}
	r[n++] = (uint8_t)(port >> 8);
	r[n++] = (uint8_t)port;
	return n;
}

static int
model_errno(int step, uint8_t rep)
{
	if (step == SOCKS5_EAUTH)
		return EACCES;
	if (step == SOCKS5_EPROTO)
		return EPROTO;
	switch (rep) {
	case 2:
		return EACCES;
	case 3:
		return ENETUNREACH;
	case 4:
		return EHOSTUNREACH;
	case 6:
		return ETIMEDOUT;
	case 7:
	case 8:
		return EPROTO;
	default:
		return ECONNREFUSED;
	}
}

/*
 * One step of the model on in (m->need bytes): the expected result, the
 * message to send in out, its length in *outlen.
 */
static int
model_feed(struct model *m, const uint8_t *in, uint8_t *out, size_t *outlen)
{
	size_t ul, pl;

	*outlen = 0;
	switch (m->state) {
	case S5_METHOD:
		if (in[0] != 5)
			return SOCKS5_EPROTO;
		if (in[1] == 0)
			goto request;
		if (in[1] != 2 || m->user == NULL)
			return SOCKS5_EAUTH;
		ul = strlen(m->user);
		pl = strlen(m->pass);
		out[0] = 1;
		out[1] = (uint8_t)ul;
		memcpy(out + 2, m->user, ul);
		out[2 + ul] = (uint8_t)pl;
		memcpy(out + 3 + ul, m->pass, pl);
		*outlen = 3 + ul + pl;
		m->state = S5_AUTH;
		m->need = 2;
		return SOCKS5_CONTINUE;
	case S5_AUTH:
		if (in[0] != 1)
			return SOCKS5_EPROTO;
		if (in[1] != 0)
			return SOCKS5_EAUTH;
		goto request;
	case S5_REPLY:
		if (in[0] != 5)
			return SOCKS5_EPROTO;
		if (in[1] != 0)
			return SOCKS5_EREPLY;
		m->state = S5_REPLY_ADDR;
		if (in[3] == 1)
			m->need = 4 + 2;
		else if (in[3] == 4)
			m->need = 16 + 2;
		else if (in[3] == 3) {
			m->state = S5_REPLY_DLEN;
			m->need = 1;
		} else
			return SOCKS5_EPROTO;
		return SOCKS5_CONTINUE;
	case S5_REPLY_DLEN:
		if (in[0] == 0)
			return SOCKS5_EPROTO;
		m->state = S5_REPLY_ADDR;
		m->need = (size_t)in[0] + 2;
		return SOCKS5_CONTINUE;
	case S5_REPLY_ADDR:
		m->state = S5_DONE;
		m->need = 0;
		return SOCKS5_DONE;
	default:
		abort();
	}
request:
	memcpy(out, m->req, m->reqlen);
	*outlen = m->reqlen;
	m->state = S5_REPLY;
	m->need = 4;
	return SOCKS5_CONTINUE;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char user[257], pass[257], dom[256];
	struct socks5 s;
	struct model m;
	uint8_t out[SOCKS5_MSG_MAX], want[SOCKS5_MSG_MAX], *in;
	const uint8_t *proxy;
	const char *host;
	size_t left, need, outlen, wantlen, ul, pl;
	uint16_t port;
	int n, step, mstep, offer, begin_ok;

	if (size < SETUP_LEN)
		return 0;
	offer = data[0] & 1;
	host = pick_host(data[0] >> 1 & 3, data[3], dom);
	port = (uint16_t)(data[1] << 8 | data[2]);
	ul = data[0] & 8 ? 256 : data[4];
	pl = data[0] & 16 ? 256 : data[5];
	memset(user, 'u', ul);
	user[ul] = '\0';
	memset(pass, 'p', pl);
	pass[pl] = '\0';
	proxy = data + SETUP_LEN;
	left = size - SETUP_LEN;

	memset(&m, 0, sizeof(m));
	m.user = offer ? user : NULL;
	m.pass = offer ? pass : NULL;
	begin_ok = strlen(host) >= 1 && strlen(host) <= 255 &&
	    (!offer || (ul >= 1 && ul <= 255 && pl >= 1 && pl <= 255));
	memset(&s, 0xa5, sizeof(s));
	/* Too small an output buffer is refused before anything is written. */
	FUZZ_ASSERT(socks5_begin(&s, host, port, m.user, m.pass, out,
	    SOCKS5_MSG_MAX - 1) == -1);
	n = socks5_begin(&s, host, port, m.user, m.pass, out, sizeof(out));
	if (!begin_ok) {
		FUZZ_ASSERT(n == -1);
		return 0;
	}
	FUZZ_ASSERT(n == (offer ? 4 : 3));
	FUZZ_ASSERT(out[0] == 5 && out[1] == (offer ? 2 : 1) && out[2] == 0);
	FUZZ_ASSERT(!offer || out[3] == 2);
	m.reqlen = model_request(m.req, host, port);
	m.state = S5_METHOD;
	m.need = 2;

	for (;;) {
		need = socks5_need(&s);
		FUZZ_ASSERT(need == m.need);
		FUZZ_ASSERT(need > 0);
		if (need > left)
			break;	/* the proxy closed: the caller gives up */
		in = fuzz_dup(proxy, need);
		memset(out, 0xa5, sizeof(out));
		outlen = (size_t)-1;
		step = socks5_feed(&s, in, need, out, sizeof(out), &outlen);
		mstep = model_feed(&m, in, want, &wantlen);
		free(in);
		proxy += need;
		left -= need;
		FUZZ_ASSERT(step == mstep);
		FUZZ_ASSERT(outlen <= SOCKS5_MSG_MAX);
		if (step == SOCKS5_CONTINUE) {
			FUZZ_ASSERT(outlen == wantlen);
			FUZZ_ASSERT(memcmp(out, want, outlen) == 0);
			continue;
		}
		FUZZ_ASSERT(outlen == 0);
		FUZZ_ASSERT(socks5_need(&s) == 0);
		if (step < 0) {
			FUZZ_ASSERT(socks5_errno(&s, step) ==
			    model_errno(step, s.rep));
			FUZZ_ASSERT(socks5_rep_text(s.rep) != NULL);
		} else
			FUZZ_ASSERT(s.state == S5_DONE);
		/* A finished machine takes nothing more. */
		FUZZ_ASSERT(socks5_feed(&s, proxy, 0, out, sizeof(out),
		    &outlen) == SOCKS5_EPROTO && outlen == 0);
		break;
	}
	return 0;
}
