/*
 * dial.c: streams to the remote host through a route (dial.h).
 */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "dial.h"
#include "frame.h"
#include "sock.h"
#include "socksdial.h"
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
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

int
dial_route(const struct route *r, int tag, uint16_t port, long deadline,
    enum dial_stage *stage)
{
	struct socksdial_failure sd;
	uint8_t pre[FRAME_HDR_LEN];
	int fd, n, saved;

	*stage = DIAL_ROUTE;
	if (r->kind == ROUTE_SOCKS5 && tag == FRAME_TAG_INFO) {
		errno = EINVAL;
		return -1;
	}
	fd = dial_connect((const struct sockaddr *)&r->addr, r->addrlen,
	    deadline);
	if (fd < 0)
		return -1;
	if (r->kind == ROUTE_SOCKS5) {
		if (socksdial_connect(fd, r, tag == FRAME_TAG_EPMD ?
		    r->epmd_port : port, deadline, &sd) != 0) {
			*stage = sd.target ? DIAL_TARGET : DIAL_ROUTE;
			/* Closed before a SOCKS5 word: not a proxy. */
			if (sd.eof && !sd.target)
				errno = EPROTO;
			goto err;
		}
		return fd;
	}
	n = frame_encode(pre, sizeof(pre), (enum frame_tag)tag, port, NULL, 0);
	if (n < 0) {
		errno = EINVAL;
		goto err;
	}
	if (tio_write_all(fd, pre, (size_t)n, deadline) != 0)
		goto err;
	return fd;
err:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}
