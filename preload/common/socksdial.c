/*
 * socksdial.c: a SOCKS5 CONNECT over a socket (socksdial.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/types.h>

#include "socks5.h"
#include "socksdial.h"
#include "tio.h"

int
socksdial_connect(int fd, const struct route *r, uint16_t port,
    long deadline, struct socksdial_failure *d)
{
	struct socks5 s;
	uint8_t out[SOCKS5_MSG_MAX], in[256 + 2];
	size_t outlen, need;
	ssize_t got;
	int n, step;

	memset(d, 0, sizeof(*d));
	n = socks5_begin(&s, r->target, port, r->user[0] != '\0' ? r->user :
	    NULL, r->pass, out, sizeof(out));
	if (n < 0) {
		d->why = "target or credentials too long";
		errno = EINVAL;
		return -1;
	}
	for (outlen = (size_t)n;;) {
		if (outlen > 0 && tio_write_all(fd, out, outlen, deadline) != 0) {
			d->why = "cannot write to the proxy";
			return -1;
		}
		need = socks5_need(&s);
		if ((got = tio_read_full(fd, in, need, deadline)) < 0) {
			d->why = errno == ETIMEDOUT ? "no answer in time" :
			    "cannot read from the proxy";
			return -1;
		}
		if ((size_t)got < need) {
			/* heroku ps:socks refuses with VER REP alone, then
			 * closes: a refusal, in the reply's own words. */
			if (s.state == S5_REPLY && got >= 2 &&
			    in[0] == SOCKS5_VERSION &&
			    in[1] != SOCKS5_REP_SUCCEEDED) {
				s.rep = in[1];
				d->eof = 1;
				d->target = 1;
				d->why = socks5_rep_text(s.rep);
				errno = socks5_errno(&s, SOCKS5_EREPLY);
				return -1;
			}
			/* ssh -D closes when the far side refuses. */
			d->eof = 1;
			d->target = s.state != S5_METHOD;
			d->why = "the proxy closed the connection";
			errno = ECONNREFUSED;
			return -1;
		}
		step = socks5_feed(&s, in, need, out, sizeof(out), &outlen);
		if (step == SOCKS5_DONE)
			return 0;
		if (step < 0) {
			d->target = step == SOCKS5_EREPLY;
			d->why = step == SOCKS5_EREPLY ? socks5_rep_text(s.rep) :
			    step == SOCKS5_EAUTH ? "authentication refused" :
			    "not a SOCKS5 reply";
			errno = socks5_errno(&s, step);
			return -1;
		}
	}
}
