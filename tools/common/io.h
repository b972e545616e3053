/*
 * io: socket helpers for the tools.  They return -1 with errno set; only
 * main() reports and exits.
 */
#ifndef ERLFWD_IO_H
#define ERLFWD_IO_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* io_nonblock: set O_NONBLOCK (and FD_CLOEXEC) on fd.  Returns 0 or -1. */
int	io_nonblock(int fd);

/* io_listen: a non-blocking TCP listener on sa.  Returns the fd or -1. */
int	io_listen(const struct sockaddr *sa, socklen_t len, int backlog);

/* io_nodelay: turn Nagle's algorithm off on the TCP socket fd. */
void	io_nodelay(int fd);

/*
 * io_connect: start (with TCP_NODELAY) a non-blocking TCP connect to sa.  Returns the fd (the
 * connect may still be in progress: wait for writability, then
 * io_connect_result) or -1.
 */
int	io_connect(const struct sockaddr *sa, socklen_t len);

/* io_connect_result: 0 when fd's connect succeeded, else its errno. */
int	io_connect_result(int fd);

/* io_loopback: 127.0.0.1:port in ss.  Returns its length. */
socklen_t io_loopback(struct sockaddr_storage *ss, uint16_t port);

/* io_addr_text: "ADDR:PORT" (IPv6 in brackets) of sa into buf. */
const char *io_addr_text(const struct sockaddr *sa, char *buf, size_t cap);

/*
 * io_send: one send that never raises SIGPIPE and retries EINTR.  Returns
 * bytes sent, or -1 (EAGAIN when the socket is full).
 */
ssize_t	io_send(int fd, const void *buf, size_t len);

/* io_recv: one recv that retries EINTR.  Returns bytes, 0 at EOF, or -1. */
ssize_t	io_recv(int fd, void *buf, size_t len);

/* io_reset: close fd with a TCP reset instead of a FIN. */
void	io_reset(int fd);

#endif /* ERLFWD_IO_H */
