/*
 * sock.c: socket helpers (sock.h).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fd.h"
#include "plat.h"
#include "sock.h"

int
sock_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int
sock_listen(const struct sockaddr *sa, socklen_t len, int backlog)
{
	int fd, on = 1;

	if ((fd = plat_socket(sa->sa_family, SOCK_STREAM, 1)) < 0)
		return -1;
	/* A restart must not wait out TIME_WAIT of the last run's sockets. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, sa, len) < 0 || listen(fd, backlog) < 0)
		return fd_close_keep_errno(fd);
	return fd;
}

void
sock_nodelay(int fd)
{
	int on = 1;

	/* Distribution is chatty with small messages: don't hold them back. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

int
sock_connect(const struct sockaddr *sa, socklen_t len)
{
	int fd;

	if ((fd = plat_socket(sa->sa_family, SOCK_STREAM, 1)) < 0)
		return -1;
	sock_nodelay(fd);
	if (connect(fd, sa, len) == 0 || errno == EINPROGRESS)
		return fd;
	return fd_close_keep_errno(fd);
}

int
sock_connect_result(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

socklen_t
sock_loopback(struct sockaddr_storage *ss, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(port);
	return sizeof(*sin);
}

uint16_t
sock_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)sa)->
		    sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_port);
	return 0;
}

const char *
sock_addr_text(const struct sockaddr *sa, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	const struct sockaddr_in *sin = (const void *)sa;
	const struct sockaddr_in6 *sin6 = (const void *)sa;

	if (sa->sa_family == AF_INET &&
	    inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)) != NULL)
		snprintf(buf, cap, "%s:%u", host, (unsigned)ntohs(sin->sin_port));
	else if (sa->sa_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host)) != NULL)
		snprintf(buf, cap, "[%s]:%u", host,
		    (unsigned)ntohs(sin6->sin6_port));
	else
		snprintf(buf, cap, "unknown");
	return buf;
}

ssize_t
sock_send(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = send(fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n;
}

ssize_t
sock_recv(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	return n;
}

void
sock_reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}
