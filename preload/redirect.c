/*
 * redirect.c: connect to a route and write the preamble (redirect.h).
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>

#include "addr.h"
#include "frame.h"
#include "libc.h"
#include "log.h"
#include "redirect.h"
#include "stream.h"
#include "tio.h"

static atomic_int refused_reported;

/*
 * The route's address as a socket address of family af: an IPv4 route on an
 * IPv6 socket becomes IPv4-mapped.  Returns 0 or EAFNOSUPPORT.
 */
static int
route_addr(const struct route *r, int af, struct sockaddr_storage *ss,
    socklen_t *len)
{
	const struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;

	if (r->addr.ss_family == af) {
		memcpy(ss, &r->addr, r->addrlen);
		*len = r->addrlen;
		return 0;
	}
	if (af != AF_INET6 || r->addr.ss_family != AF_INET)
		return EAFNOSUPPORT;
	sin = (const struct sockaddr_in *)(const void *)&r->addr;
	sin6 = (struct sockaddr_in6 *)(void *)ss;
	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = sin->sin_port;
	addr_v4mapped(&sin->sin_addr, &sin6->sin6_addr);
	*len = sizeof(*sin6);
	return 0;
}

/* The caller's socket and where to connect it. */
struct target {
	int			 fd;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
};

/*
 * A stream_connect_fn: connect the caller's socket (non-blocking now) with
 * the real connect and wait for the outcome.  Returns the fd, or -1.
 */
static int
connect_bounded(const void *ctx, long deadline)
{
	const struct target *t = ctx;
	socklen_t elen = sizeof(int);
	int err = 0;

	if (libc.connect(t->fd, (const struct sockaddr *)&t->ss, t->len) == 0)
		return t->fd;
	if (errno != EINPROGRESS && errno != EINTR)
		return -1;
	if (tio_wait(t->fd, POLLOUT, deadline) != 0)
		return -1;
	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
		return -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return t->fd;
}

/*
 * Say why a redirected connect failed: a route that is not listening at all
 * once per process (the one thing a user must fix), the rest when debugging.
 */
static void
report(const struct runtime *rt, int entry, const struct route *r, int err,
    int connected)
{
	const char *pat = rt->cfg.entries[entry].pattern;

	if (!connected && err == ECONNREFUSED &&
	    atomic_exchange(&refused_reported, 1) == 0) {
		if (r->kind == ROUTE_SOCKS5)
			log_warn("nothing is listening on %s, the SOCKS5 proxy "
			    "for '%s': start it first (e.g. 'heroku ps:socks' "
			    "or 'ssh -D PORT HOST')", r->text, pat);
		else
			log_warn("nothing is listening on %s, the tunnel for "
			    "'%s': start the forward first (e.g. 'heroku "
			    "ps:forward PORT', 'kubectl port-forward POD "
			    "LOCAL:PORT' or 'ssh -L') and erlfwd-server on the "
			    "remote host", r->text, pat);
		return;
	}
	if (err == ETIMEDOUT)
		log_debug("route %s for '%s' did not answer within %d ms",
		    r->text, pat, rt->cfg.timeout_ms);
	else
		log_debug("route %s for '%s': %s", r->text, pat, strerror(err));
}

int
redirect_local(const struct route *r, int fd, int af, const uint8_t *pre,
    size_t prelen, int timeout_ms)
{
	struct target t;
	long deadline;
	int flags, err = 0, off = 0;

	t.fd = fd;
	if ((err = route_addr(r, af, &t.ss, &t.len)) != 0)
		return err;
	if (af == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
		    sizeof(off));
	if ((flags = fcntl(fd, F_GETFL)) < 0)
		return errno;
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return errno;
	deadline = tio_now_ms() + timeout_ms;
	if (connect_bounded(&t, deadline) < 0 ||
	    tio_write_all(fd, pre, prelen, deadline) != 0)
		err = errno;
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags) < 0 && err == 0)
		err = errno;
	return err;
}

int
redirect_connect(const struct runtime *rt, int fd, int af, int entry,
    uint16_t port)
{
	const struct route *r = config_route(&rt->cfg, (size_t)entry);
	struct target t;
	enum frame_tag tag;
	long deadline;
	struct stream_failure f;
	uint16_t remote;
	int flags, err = 0, off = 0, sfd;

	t.fd = fd;
	if ((err = route_addr(r, af, &t.ss, &t.len)) != 0) {
		log_warn("route %s for '%s' is IPv6 but the socket is IPv4",
		    r->text, rt->cfg.entries[entry].pattern);
		return err;
	}
	if (port == 0)
		return EADDRNOTAVAIL;	/* as connecting to port 0 would */
	tag = port == rt->cfg.epmd_port ? FRAME_TAG_EPMD : FRAME_TAG_DIST;
	remote = stream_remote_port(r, tag, port);
	/* An IPv4 route on an IPV6_V6ONLY socket needs the mapped form. */
	if (af == AF_INET6 && r->addr.ss_family == AF_INET)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
		    sizeof(off));
	if ((flags = fcntl(fd, F_GETFL)) < 0)
		return errno;
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return errno;
	deadline = tio_now_ms() + rt->cfg.timeout_ms;
	if (stream_open(r, tag, port, deadline, connect_bounded, &t, &sfd,
	    &f) != 0) {
		err = errno;
		if (f.connected && r->kind == ROUTE_SOCKS5)
			log_debug("socks5 %s: CONNECT %s:%u: %s", r->text,
			    r->target, (unsigned)remote, f.socks.why);
	}
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags) < 0 && err == 0)
		err = errno;
	if (err != 0) {
		report(rt, entry, r, err, f.connected);
		return err;
	}
	log_debug("connect fd=%d %s:%u -> %s %s %u", fd,
	    rt->cfg.entries[entry].pattern, (unsigned)port, r->text,
	    frame_tag_name(tag), (unsigned)remote);
	return 0;
}
