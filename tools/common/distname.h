/*
 * distname: is this the start of an Erlang distribution handshake?  The
 * node that connects speaks first, with its name message (send_name in
 * OTP's erl_dist_protocol): a 2-byte big-endian length, then tag 'n'
 * (version 5: version(2) flags(4) name) or 'N' (version 6: flags(8)
 * creation(4) nlen(2) name).  erlfwd-server reads that much before it
 * connects to a node's port, so that a DIST stream cannot carry another
 * protocol's first bytes to whatever a local process registered with epmd.
 * Pure: no I/O.
 */
#ifndef ERLFWD_DISTNAME_H
#define ERLFWD_DISTNAME_H

#include <stddef.h>
#include <stdint.h>

#define DISTNAME_NAME_MAX	1023	/* NAME@HOST: 255 + 1 + 767, generous */
#define DISTNAME_NEED		(2 + 1 + 8 + 4 + 2)	/* what decides, at most */

enum distname_verdict {
	DISTNAME_MORE = 0,	/* not enough bytes yet to judge */
	DISTNAME_OK = 1,	/* a plausible name message starts buf */
	DISTNAME_BAD = -1,	/* not a distribution handshake */
};

/*
 * distname_check: judge the first len bytes a client sent on a DIST
 * stream.  Never needs more than DISTNAME_NEED bytes.  Returns an enum
 * distname_verdict; a verdict other than DISTNAME_MORE never changes as
 * more bytes arrive.
 */
int	distname_check(const uint8_t *buf, size_t len);

#endif /* ERLFWD_DISTNAME_H */
