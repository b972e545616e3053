/*
 * distname: is this the start of an Erlang distribution handshake?  The
 * node that connects speaks first, with its name message (send_name in
 * OTP's erl_dist_protocol): a 2-byte big-endian length, then tag 'n'
 * (version 5: version(2) flags(4) name) or 'N' (version 6: flags(8)
 * creation(4) nlen(2) name).  erlfwd-server reads that much before it
 * connects to a node's port, so that a DIST stream cannot carry another
 * protocol's first bytes to whatever a local process registered with epmd.
 * The node that accepts answers with its status message (a 2-byte length,
 * tag 's', then "ok", "ok_simultaneous", "nok", "not_allowed", "alive" or
 * "named:..."): the server relays nothing more either way until the port
 * has answered so, so that a service of the server's own uid registered
 * under a node name gets one name message and no more.  Pure: no I/O.
 */
#ifndef ERLFWD_DISTNAME_H
#define ERLFWD_DISTNAME_H

#include <stddef.h>
#include <stdint.h>

#define DISTNAME_NAME_MAX	1023	/* NAME@HOST: 255 + 1 + 767, generous */
#define DISTNAME_NEED		(2 + 1 + 8 + 4 + 2)	/* what decides, at most */
/* The longest name message and status message we take: 'N' with the
 * longest name; 's' "named:" nlen(2) name creation(4). */
#define DISTNAME_MSG_MAX	(2 + 1 + 8 + 4 + 2 + DISTNAME_NAME_MAX)
#define DISTNAME_STATUS_MAX	(2 + 1 + 6 + 2 + DISTNAME_NAME_MAX + 4)

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

/*
 * distname_len: the whole length of the name message buf starts with (its
 * 2-byte length plus 2), once distname_check() said DISTNAME_OK of it.
 */
size_t	distname_len(const uint8_t *buf);

/*
 * distname_status: judge the first len bytes a node's port answered to a
 * name message: DISTNAME_OK once a whole status message with a status a
 * node sends is there (bytes after it are not looked at), DISTNAME_MORE
 * before, DISTNAME_BAD as soon as the bytes cannot be one.  Never needs
 * more than DISTNAME_STATUS_MAX bytes.
 */
int	distname_status(const uint8_t *buf, size_t len);

#endif /* ERLFWD_DISTNAME_H */
