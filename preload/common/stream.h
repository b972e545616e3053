/*
 * stream: open a byte stream to the remote host through a route, the one
 * step the preload's redirect and the erlfwd command's dial share: connect
 * to the route, then either write erlfwd-server's preamble or run a SOCKS5
 * CONNECT.  Only the connect differs between them (the preload connects the
 * application's own socket through the real libc; the command opens a new
 * one), so the caller passes it in.  Plain system calls only, never a
 * symbol the preload hooks.
 */
#ifndef ERLFWD_STREAM_H
#define ERLFWD_STREAM_H

#include <stdint.h>

#include "config.h"
#include "frame.h"
#include "socksdial.h"

/*
 * The caller's connect to the route: returns a connected socket, before
 * deadline (tio_now_ms()), or -1 with errno.
 */
typedef int (*stream_connect_fn)(const void *ctx, long deadline);

/* How a failed stream_open() failed. */
struct stream_failure {
	int			 connected;	/* the connect itself succeeded */
	struct socksdial_failure socks;		/* when a SOCKS5 CONNECT failed */
};

/*
 * stream_remote_port: the port a stream for (tag, port) asks the far side
 * for: a SOCKS5 route's epmd port for EPMD, else port.  erlfwd-server is
 * sent ours, to answer NAMES in our terms.
 */
uint16_t stream_remote_port(const struct route *r, enum frame_tag tag,
	    uint16_t port);

/*
 * stream_open: connect (connect_fn(ctx, deadline)), then through route r
 * open a stream to the remote host's epmd (FRAME_TAG_EPMD), to port
 * (FRAME_TAG_DIST) or to erlfwd-server itself (FRAME_TAG_INFO, erlfwd
 * routes only), all before deadline.  *fd is the connected socket, or -1
 * when the connect failed; it is the caller's to close either way.  Returns
 * 0, or -1 with errno set and f saying where it failed.
 */
int	stream_open(const struct route *r, enum frame_tag tag, uint16_t port,
	    long deadline, stream_connect_fn connect_fn, const void *ctx, int *fd,
	    struct stream_failure *f);

#endif /* ERLFWD_STREAM_H */
