/*
 * sock: socket helpers for the tools.  They return -1 with errno set; only
 * main() reports and exits.
 */
#ifndef ERLFWD_SOCK_H
#define ERLFWD_SOCK_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* sock_nonblock: set O_NONBLOCK (and FD_CLOEXEC) on fd.  Returns 0 or -1. */
int	sock_nonblock(int fd);

/* sock_listen: a non-blocking TCP listener on sa.  Returns the fd or -1. */
int	sock_listen(const struct sockaddr *sa, socklen_t len, int backlog);

/* sock_nodelay: turn Nagle's algorithm off on the TCP socket fd. */
void	sock_nodelay(int fd);

/*
 * sock_connect: start (with TCP_NODELAY) a non-blocking TCP connect to sa.
 * Returns the fd (the connect may still be in progress: wait for
 * writability, then sock_connect_result) or -1.
 */
int	sock_connect(const struct sockaddr *sa, socklen_t len);

/* sock_connect_result: 0 when fd's connect succeeded, else its errno. */
int	sock_connect_result(int fd);

/* sock_loopback: 127.0.0.1:port in ss.  Returns its length. */
socklen_t sock_loopback(struct sockaddr_storage *ss, uint16_t port);

/* sock_port: sa's port (AF_INET or AF_INET6), or 0. */
uint16_t sock_port(const struct sockaddr *sa);

/* sock_addr_text: "ADDR:PORT" (IPv6 in brackets) of sa into buf. */
const char *sock_addr_text(const struct sockaddr *sa, char *buf, size_t cap);

/*
 * sock_send: one send that never raises SIGPIPE and retries EINTR.  Returns
 * bytes sent, or -1 (EAGAIN when the socket is full).
 */
ssize_t	sock_send(int fd, const void *buf, size_t len);

/* sock_recv: one recv that retries EINTR.  Returns bytes, 0 at EOF, or -1. */
ssize_t	sock_recv(int fd, void *buf, size_t len);

/* sock_reset: close fd with a TCP reset instead of a FIN. */
void	sock_reset(int fd);

#endif /* ERLFWD_SOCK_H */
