/*
 * socks5.c: the SOCKS5 client state machine (socks5.h).
 */
#include <arpa/inet.h>

#include <errno.h>
#include <string.h>

#include "socks5.h"

int
socks5_begin(struct socks5 *s, const char *host, uint16_t port,
    const char *user, const char *pass, uint8_t *out, size_t cap)
{
	uint8_t *r = s->req;
	size_t hlen = strlen(host), n = 0;

	memset(s, 0, sizeof(*s));
	if (cap < SOCKS5_MSG_MAX || hlen == 0 || hlen > 255)
		return -1;
	/* RFC 1929: both are 1 to 255 bytes. */
	if (user != NULL && (pass == NULL || strlen(user) == 0 ||
	    strlen(pass) == 0 || strlen(user) > SOCKS5_CRED_MAX ||
	    strlen(pass) > SOCKS5_CRED_MAX))
		return -1;
	s->user = user;
	s->pass = pass;
	r[n++] = SOCKS5_VERSION;
	r[n++] = SOCKS5_CMD_CONNECT;
	r[n++] = 0;
	if (inet_pton(AF_INET, host, r + n + 1) == 1) {
		r[n] = SOCKS5_ATYP_IPV4;
		n += 1 + 4;
	} else if (inet_pton(AF_INET6, host, r + n + 1) == 1) {
		r[n] = SOCKS5_ATYP_IPV6;
		n += 1 + 16;
	} else {
		r[n++] = SOCKS5_ATYP_DOMAIN;
		r[n++] = (uint8_t)hlen;
		memcpy(r + n, host, hlen);
		n += hlen;
	}
	r[n++] = (uint8_t)(port >> 8);
	r[n++] = (uint8_t)port;
	s->reqlen = n;

	out[0] = SOCKS5_VERSION;
	if (user != NULL) {
		out[1] = 2;
		out[2] = SOCKS5_AUTH_NONE;
		out[3] = SOCKS5_AUTH_USERPASS;
		n = 4;
	} else {
		out[1] = 1;
		out[2] = SOCKS5_AUTH_NONE;
		n = 3;
	}
	s->state = S5_METHOD;
	s->need = 2;
	return (int)n;
}

size_t
socks5_need(const struct socks5 *s)
{
	return s->state == S5_DONE || s->state == S5_FAILED ? 0 : s->need;
}

static int
fail(struct socks5 *s, int step)
{
	s->state = S5_FAILED;
	s->need = 0;
	return step;
}

/* The CONNECT request goes out once authentication is settled. */
static int
send_request(struct socks5 *s, uint8_t *out, size_t *outlen)
{
	memcpy(out, s->req, s->reqlen);
	*outlen = s->reqlen;
	s->state = S5_REPLY;
	s->need = 4;	/* VER REP RSV ATYP */
	return SOCKS5_CONTINUE;
}

int
socks5_feed(struct socks5 *s, const uint8_t *in, size_t len, uint8_t *out,
    size_t cap, size_t *outlen)
{
	size_t ul, pl;

	*outlen = 0;
	if (s->state == S5_DONE || s->state == S5_FAILED || len != s->need ||
	    cap < SOCKS5_MSG_MAX)
		return fail(s, SOCKS5_EPROTO);
	switch (s->state) {
	case S5_METHOD:
		if (in[0] != SOCKS5_VERSION)
			return fail(s, SOCKS5_EPROTO);
		if (in[1] == SOCKS5_AUTH_NONE)
			return send_request(s, out, outlen);
		if (in[1] != SOCKS5_AUTH_USERPASS || s->user == NULL)
			return fail(s, SOCKS5_EAUTH);
		ul = strlen(s->user);
		pl = strlen(s->pass);
		out[0] = SOCKS5_USERPASS_VERSION;
		out[1] = (uint8_t)ul;
		memcpy(out + 2, s->user, ul);
		out[2 + ul] = (uint8_t)pl;
		memcpy(out + 3 + ul, s->pass, pl);
		*outlen = 3 + ul + pl;
		s->state = S5_AUTH;
		s->need = 2;
		return SOCKS5_CONTINUE;
	case S5_AUTH:
		if (in[0] != SOCKS5_USERPASS_VERSION)
			return fail(s, SOCKS5_EPROTO);
		if (in[1] != 0)
			return fail(s, SOCKS5_EAUTH);
		return send_request(s, out, outlen);
	case S5_REPLY:
		if (in[0] != SOCKS5_VERSION)
			return fail(s, SOCKS5_EPROTO);
		s->rep = in[1];
		if (in[1] != SOCKS5_REP_SUCCEEDED)
			return fail(s, SOCKS5_EREPLY);
		/* The bound address follows; read it, so none of it is taken
		 * for the target's bytes. */
		switch (in[3]) {
		case SOCKS5_ATYP_IPV4:
			s->need = 4 + 2;
			break;
		case SOCKS5_ATYP_IPV6:
			s->need = 16 + 2;
			break;
		case SOCKS5_ATYP_DOMAIN:
			s->state = S5_REPLY_DLEN;
			s->need = 1;
			return SOCKS5_CONTINUE;
		default:
			return fail(s, SOCKS5_EPROTO);
		}
		s->state = S5_REPLY_ADDR;
		return SOCKS5_CONTINUE;
	case S5_REPLY_DLEN:
		if (in[0] == 0)
			return fail(s, SOCKS5_EPROTO);
		s->state = S5_REPLY_ADDR;
		s->need = (size_t)in[0] + 2;
		return SOCKS5_CONTINUE;
	case S5_REPLY_ADDR:
		s->state = S5_DONE;
		s->need = 0;
		return SOCKS5_DONE;
	default:
		return fail(s, SOCKS5_EPROTO);
	}
}

int
socks5_errno(const struct socks5 *s, int step)
{
	if (step == SOCKS5_EAUTH)
		return EACCES;
	if (step != SOCKS5_EREPLY)
		return EPROTO;
	switch (s->rep) {
	case SOCKS5_REP_NOT_ALLOWED:
		return EACCES;
	case SOCKS5_REP_NET_UNREACH:
		return ENETUNREACH;
	case SOCKS5_REP_HOST_UNREACH:
		return EHOSTUNREACH;
	case SOCKS5_REP_TTL:
		return ETIMEDOUT;
	case SOCKS5_REP_CMD:
	case SOCKS5_REP_ATYP:
		return EPROTO;
	default:
		/* Refused, and the "general failure" proxies give for it. */
		return ECONNREFUSED;
	}
}

const char *
socks5_rep_text(int rep)
{
	switch (rep) {
	case SOCKS5_REP_SUCCEEDED:
		return "succeeded";
	case SOCKS5_REP_GENERAL:
		return "general failure";
	case SOCKS5_REP_NOT_ALLOWED:
		return "not allowed by ruleset";
	case SOCKS5_REP_NET_UNREACH:
		return "network unreachable";
	case SOCKS5_REP_HOST_UNREACH:
		return "host unreachable";
	case SOCKS5_REP_REFUSED:
		return "connection refused";
	case SOCKS5_REP_TTL:
		return "TTL expired";
	case SOCKS5_REP_CMD:
		return "command not supported";
	case SOCKS5_REP_ATYP:
		return "address type not supported";
	default:
		return "unknown reply";
	}
}
