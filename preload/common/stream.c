/*
 * stream.c: a stream through a route (stream.h).
 */
#include <errno.h>
#include <string.h>

#include "stream.h"
#include "tio.h"

uint16_t
stream_remote_port(const struct route *r, enum frame_tag tag, uint16_t port)
{
	return tag == FRAME_TAG_EPMD && r->kind == ROUTE_SOCKS5 ?
	    r->epmd_port : port;
}

int
stream_open(const struct route *r, enum frame_tag tag, uint16_t port,
    long deadline, stream_connect_fn connect_fn, const void *ctx, int *fd,
    struct stream_failure *f)
{
	uint8_t pre[FRAME_HDR_LEN];
	int n = 0;

	memset(f, 0, sizeof(*f));
	*fd = -1;
	/* A socks5h route is the preload's alone, through the cluster helper. */
	if (r->kind == ROUTE_SOCKS5H ||
	    (r->kind == ROUTE_SOCKS5 && tag == FRAME_TAG_INFO)) {
		/* Only erlfwd-server answers INFO. */
		errno = EINVAL;
		return -1;
	}
	if (r->kind != ROUTE_SOCKS5 &&
	    (n = frame_encode(pre, sizeof(pre), tag, port, NULL, 0)) < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((*fd = connect_fn(ctx, deadline)) < 0) {
		*fd = -1;
		return -1;
	}
	f->connected = 1;
	if (r->kind == ROUTE_SOCKS5)
		return socksdial_connect(*fd, r, stream_remote_port(r, tag,
		    port), deadline, &f->socks);
	return tio_write_all(*fd, pre, (size_t)n, deadline);
}
