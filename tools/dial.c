/*
 * dial.c: streams to the remote host through a route (dial.h).
 */
#include <errno.h>
#include <unistd.h>

#include "dial.h"
#include "frame.h"
#include "socks5.h"
#include "tio.h"

/* The SOCKS5 CONNECT on fd to the route's target and port. */
static int
socks_connect(int fd, const struct route *r, uint16_t port, long deadline,
    enum dial_stage *stage)
{
	struct socks5 s;
	uint8_t out[SOCKS5_MSG_MAX], in[256 + 2];
	size_t outlen, need;
	ssize_t n;
	int step;

	step = socks5_begin(&s, r->target, port, r->user[0] != '\0' ? r->user :
	    NULL, r->pass, out, sizeof(out));
	if (step < 0) {
		errno = EINVAL;
		return -1;
	}
	for (outlen = (size_t)step;;) {
		if (outlen > 0 && tio_write_all(fd, out, outlen, deadline) != 0)
			return -1;
		need = socks5_need(&s);
		if ((n = tio_read_full(fd, in, need, deadline)) < 0)
			return -1;
		if ((size_t)n < need) {
			/* ssh -D closes when the far side refuses. */
			*stage = s.state == S5_METHOD ? DIAL_ROUTE : DIAL_TARGET;
			errno = s.state == S5_METHOD ? EPROTO : ECONNREFUSED;
			return -1;
		}
		step = socks5_feed(&s, in, need, out, sizeof(out), &outlen);
		if (step == SOCKS5_DONE)
			return 0;
		if (step < 0) {
			*stage = step == SOCKS5_EREPLY ? DIAL_TARGET :
			    DIAL_ROUTE;
			errno = socks5_errno(&s, step);
			return -1;
		}
	}
}

int
dial_route(const struct route *r, int tag, uint16_t port, long deadline,
    enum dial_stage *stage)
{
	uint8_t pre[FRAME_HDR_LEN];
	int fd, n, saved;

	*stage = DIAL_ROUTE;
	if (r->kind == ROUTE_SOCKS5 && tag == FRAME_TAG_INFO) {
		errno = EINVAL;
		return -1;
	}
	fd = tio_connect((const struct sockaddr *)&r->addr, r->addrlen,
	    deadline);
	if (fd < 0)
		return -1;
	if (r->kind == ROUTE_SOCKS5) {
		if (socks_connect(fd, r, tag == FRAME_TAG_EPMD ? r->epmd_port :
		    port, deadline, stage) != 0)
			goto err;
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
