/*
 * nodelay.c: a preload for a program the tests do not own (microsocks),
 * that turns Nagle's algorithm off (TCP_NODELAY) on every socket it connects
 * or accepts, so that t_cluster_figures can show what an rpc costs through
 * the cluster helper when the SOCKS5 server forwards small writes at once,
 * as a distribution connection needs.  Test code only; built by the
 * scenario with cc -shared.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dlfcn.h>
#include <errno.h>

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*accept_fn)(int, struct sockaddr *, socklen_t *);

/* Nagle off on fd when it is a TCP socket; errno kept. */
static void
nodelay(int fd)
{
	int one = 1, saved = errno;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	errno = saved;
}

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	connect_fn real = (connect_fn)dlsym(RTLD_NEXT, "connect");
	int rc = real(fd, sa, len);

	nodelay(fd);
	return rc;
}

int
accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	accept_fn real = (accept_fn)dlsym(RTLD_NEXT, "accept");
	int rc = real(fd, sa, len);

	if (rc >= 0)
		nodelay(rc);
	return rc;
}
