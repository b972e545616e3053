/*
 * dial: a byte stream to a port on the remote host, through a route, for
 * the erlfwd command: through erlfwd-server (a preamble tagged EPMD, DIST or
 * INFO), or through a SOCKS5 proxy (a CONNECT to the route's target there).
 * The tools' counterpart of the preload's redirect, with tio's deadlines.
 */
#ifndef ERLFWD_DIAL_H
#define ERLFWD_DIAL_H

#include <stdint.h>

#include "config.h"

/* Where a failed dial stopped. */
enum dial_stage {
	DIAL_ROUTE = 1,		/* the route itself: nothing listens, no
				 * answer, or not a SOCKS5 proxy (EPROTO) */
	DIAL_TARGET = 2,	/* the SOCKS5 proxy could not reach the port */
};

#include <sys/socket.h>

/*
 * dial_connect: a TCP connection to sa, established before deadline
 * (tio_now_ms()).  Returns the (non-blocking, close-on-exec) fd, or -1 with
 * errno (ECONNREFUSED, ETIMEDOUT, ...).
 */
int	dial_connect(const struct sockaddr *sa, socklen_t len, long deadline);

/*
 * dial_route: open a stream through r to the remote host's epmd (tag
 * FRAME_TAG_EPMD), to port (FRAME_TAG_DIST), or to erlfwd-server itself
 * (FRAME_TAG_INFO: erlfwd routes only), before deadline (tio_now_ms()).
 * Returns the fd, or -1 with errno set and *stage saying where it failed.
 */
int	dial_route(const struct route *r, int tag, uint16_t port, long deadline,
	    enum dial_stage *stage);

#endif /* ERLFWD_DIAL_H */
