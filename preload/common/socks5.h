/*
 * socks5: the client side of a SOCKS5 CONNECT (RFC 1928, "no
 * authentication" or RFC 1929 username/password), as a state machine on
 * byte buffers.  No I/O: the caller sends what it is given and reads exactly
 * socks5_need() bytes before each socks5_feed(), so that not one byte of the
 * stream that follows the handshake is consumed.
 */
#ifndef ERLFWD_SOCKS5_H
#define ERLFWD_SOCKS5_H

#include <stddef.h>
#include <stdint.h>

#define SOCKS5_VERSION		5
#define SOCKS5_AUTH_NONE	0x00
#define SOCKS5_AUTH_USERPASS	0x02
#define SOCKS5_AUTH_NO_ACCEPTABLE 0xff
#define SOCKS5_USERPASS_VERSION	1
#define SOCKS5_CMD_CONNECT	1
#define SOCKS5_ATYP_IPV4	1
#define SOCKS5_ATYP_DOMAIN	3
#define SOCKS5_ATYP_IPV6	4
#define SOCKS5_CRED_MAX		255	/* RFC 1929: one length byte */
#define SOCKS5_MSG_MAX		(3 + 2 * SOCKS5_CRED_MAX + 4)	/* the largest we send */

/* RFC 1928 reply codes. */
enum socks5_rep {
	SOCKS5_REP_SUCCEEDED = 0,
	SOCKS5_REP_GENERAL = 1,
	SOCKS5_REP_NOT_ALLOWED = 2,
	SOCKS5_REP_NET_UNREACH = 3,
	SOCKS5_REP_HOST_UNREACH = 4,
	SOCKS5_REP_REFUSED = 5,
	SOCKS5_REP_TTL = 6,
	SOCKS5_REP_CMD = 7,
	SOCKS5_REP_ATYP = 8,
};

enum socks5_step {
	SOCKS5_CONTINUE = 0,	/* send the output (if any), read socks5_need() */
	SOCKS5_DONE = 1,	/* connected: the stream is the target's now */
	SOCKS5_EPROTO = -1,	/* the proxy broke the protocol */
	SOCKS5_EAUTH = -2,	/* no acceptable method, or credentials refused */
	SOCKS5_EREPLY = -3,	/* the proxy said no: see socks5_errno() */
};

enum socks5_state {
	S5_METHOD, S5_AUTH, S5_REPLY, S5_REPLY_DLEN, S5_REPLY_ADDR, S5_DONE,
	S5_FAILED,
};

struct socks5 {
	enum socks5_state	 state;
	const char		*user, *pass;	/* NULL: no authentication */
	uint8_t			 req[4 + 1 + 255 + 2];	/* the CONNECT request */
	size_t			 reqlen;
	size_t			 need;
	uint8_t			 rep;
};

/*
 * socks5_begin: start a CONNECT to host (an IPv4 or IPv6 literal, else sent
 * as a domain name) and port, offering username/password when user is not
 * NULL (both 1 to SOCKS5_CRED_MAX bytes; the strings must outlive s).
 * Writes the greeting into out (cap >= SOCKS5_MSG_MAX) and returns its
 * length, or -1 when an argument does not fit the protocol.
 */
int	socks5_begin(struct socks5 *s, const char *host, uint16_t port,
	    const char *user, const char *pass, uint8_t *out, size_t cap);

/* socks5_need: how many bytes socks5_feed() wants next (0 once finished). */
size_t	socks5_need(const struct socks5 *s);

/*
 * socks5_feed: take exactly socks5_need() bytes from the proxy.  May write a
 * message to send into out (cap >= SOCKS5_MSG_MAX), its length in *outlen.
 * Returns an enum socks5_step.
 */
int	socks5_feed(struct socks5 *s, const uint8_t *in, size_t len,
	    uint8_t *out, size_t cap, size_t *outlen);

/*
 * socks5_errno: the errno a connect should fail with after an error step:
 * ECONNREFUSED for a refusal or general failure, ENETUNREACH, EHOSTUNREACH,
 * EACCES, ETIMEDOUT, EPROTO...
 */
int	socks5_errno(const struct socks5 *s, int step);

/* socks5_rep_text: a short phrase for a reply code. */
const char *socks5_rep_text(int rep);

#endif /* ERLFWD_SOCKS5_H */
