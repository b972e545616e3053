/*
 * confine.c: the bind rule (confine.h).
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <string.h>

#include "confine.h"
#include "libc.h"
#include "log.h"

/* What a socket is now, as far as the rule cares. */
struct sock_state {
	int	family;		/* AF_INET, AF_INET6, or 0: not ours */
	int	unbound;	/* 1: no local address or port yet */
};

/*
 * sock_state: fill st for fd; family 0 unless fd is a TCP (SOCK_STREAM)
 * socket of AF_INET or AF_INET6.  errno untouched.
 */
static void
sock_state(int fd, struct sock_state *st)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int type = 0, saved = errno;
	socklen_t tlen = sizeof(type);

	st->family = 0;
	st->unbound = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 ||
	    type != SOCK_STREAM) {
		errno = saved;
		return;
	}
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		errno = saved;
		return;
	}
	errno = saved;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

		st->family = AF_INET;
		/* A bound socket always has a port, even after bind(any, 0). */
		st->unbound = in->sin_port == 0 &&
		    in->sin_addr.s_addr == htonl(INADDR_ANY);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)&ss;

		st->family = AF_INET6;
		st->unbound = in6->sin6_port == 0 &&
		    IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
	}
}

/*
 * wildcard: 1 when sa (len bytes) is the wildcard address of its family;
 * *port gets its port in host order.
 */
static int
wildcard(const struct sockaddr *sa, socklen_t len, uint16_t *port)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	/* The family is a field like the others: only within len. */
	if (len < (socklen_t)sizeof(sa->sa_family))
		return 0;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(sin)) {
		memcpy(&sin, sa, sizeof(sin));
		*port = ntohs(sin.sin_port);
		return sin.sin_addr.s_addr == htonl(INADDR_ANY);
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(sin6)) {
		memcpy(&sin6, sa, sizeof(sin6));
		*port = ntohs(sin6.sin6_port);
		return IN6_IS_ADDR_UNSPECIFIED(&sin6.sin6_addr);
	}
	return 0;
}

/*
 * bind_loopback: bind fd to the loopback address of family af, port port
 * (host order); a sin6 given keeps its flow info and scope.  Returns what
 * bind(2) returns.
 */
static int
bind_loopback(int fd, int af, uint16_t port, const struct sockaddr *orig)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	if (af == AF_INET) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return libc.bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	if (orig != NULL)
		memcpy(&sin6, orig, sizeof(sin6));
	else
		memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(port);
	sin6.sin6_addr = in6addr_loopback;
	return libc.bind(fd, (struct sockaddr *)&sin6, sizeof(sin6));
}

int
confine_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct sock_state st;
	uint16_t port = 0;

	if (sa == NULL || !wildcard(sa, len, &port))
		return libc.bind(fd, sa, len);
	sock_state(fd, &st);
	/*
	 * Not a TCP socket of that family, or bound already: the real bind
	 * gives the real answer (usually EINVAL).
	 */
	if (st.family != sa->sa_family || !st.unbound)
		return libc.bind(fd, sa, len);
	if (port == 0) {
		log_debug("bind fd=%d %s:0 deferred: loopback if it listens",
		    fd, sa->sa_family == AF_INET ? "0.0.0.0" : "[::]");
		return 0;
	}
	log_debug("bind fd=%d %s:%u -> %s", fd,
	    sa->sa_family == AF_INET ? "0.0.0.0" : "[::]", (unsigned)port,
	    sa->sa_family == AF_INET ? "127.0.0.1" : "[::1]");
	return bind_loopback(fd, sa->sa_family, port,
	    sa->sa_family == AF_INET6 ? sa : NULL);
}

int
confine_listen(int fd, int backlog)
{
	struct sock_state st;
	int saved = errno;

	sock_state(fd, &st);
	if (st.family == 0 || !st.unbound)
		return libc.listen(fd, backlog);
	/* listen(2) would bind the wildcard itself. */
	if (bind_loopback(fd, st.family, 0, NULL) != 0)
		return -1;
	log_debug("listen fd=%d: unbound, bound to %s first", fd,
	    st.family == AF_INET ? "127.0.0.1" : "[::1]");
	errno = saved;
	return libc.listen(fd, backlog);
}
