/*
 * dial.c: streams to the remote host through a route (dial.h).
 */
#include <errno.h>
#include <poll.h>

#include "dial.h"
#include "fd.h"
#include "frame.h"
#include "sock.h"
#include "stream.h"
#include "tio.h"

int
dial_connect(const struct sockaddr *sa, socklen_t len, long deadline)
{
	int fd, err;

	if ((fd = sock_connect(sa, len)) < 0)
		return -1;
	if (tio_wait(fd, POLLOUT, deadline) != 0)
		goto fail;
	if ((err = sock_connect_result(fd)) != 0) {
		errno = err;
		goto fail;
	}
	return fd;
fail:
	return fd_close_keep_errno(fd);
}

/* A stream_connect_fn: a new connection to the route (ctx). */
static int
connect_route(const void *ctx, long deadline)
{
	const struct route *r = ctx;

	return dial_connect((const struct sockaddr *)&r->addr, r->addrlen,
	    deadline);
}

int
dial_route(const struct route *r, int tag, uint16_t port, long deadline,
    enum dial_stage *stage)
{
	struct stream_failure f;
	int fd;

	*stage = DIAL_ROUTE;
	if (stream_open(r, (enum frame_tag)tag, port, deadline, connect_route,
	    r, &fd, &f) == 0)
		return fd;
	if (f.socks.target)
		*stage = DIAL_TARGET;
	/* Closed before a SOCKS5 word: not a proxy. */
	if (f.socks.eof && !f.socks.target)
		errno = EPROTO;
	return fd_close_keep_errno(fd);
}
