/*
 * tio, timed I/O: blocking-style I/O with a deadline on a non-blocking
 * socket, for short exchanges: the preload's redirect (the preamble, the SOCKS5
 * handshake) and the erlfwd command's (INFO, NAMES, the handshake probe).
 * Deadlines are absolute, in milliseconds of tio_now_ms(), so that one
 * budget covers a whole step.  Functions return -1 with errno set
 * (ETIMEDOUT when the deadline passed) and never raise SIGPIPE.  Plain
 * system calls only: none of them is a symbol the preload hooks.
 */
#ifndef ERLFWD_TIO_H
#define ERLFWD_TIO_H

#include <stddef.h>
#include <sys/types.h>

/* tio_now_ms: a monotonic clock in milliseconds. */
long	tio_now_ms(void);

/*
 * tio_wait: wait until fd has one of events (POLLIN, POLLOUT; hangups and
 * errors count too) or deadline passes.  Returns 0 or -1 (ETIMEDOUT).
 */
int	tio_wait(int fd, short events, long deadline);

/* tio_write_all: write all len bytes of buf.  Returns 0 or -1. */
int	tio_write_all(int fd, const void *buf, size_t len, long deadline);

/*
 * tio_read: read what is there, up to len bytes, waiting for at least one.
 * Returns the count, 0 at EOF, or -1 (ETIMEDOUT, ECONNRESET, ...).
 */
ssize_t	tio_read(int fd, void *buf, size_t len, long deadline);

/*
 * tio_read_full: read exactly len bytes.  Returns len, a smaller count when
 * the peer closed first, or -1.
 */
ssize_t	tio_read_full(int fd, void *buf, size_t len, long deadline);

#endif /* ERLFWD_TIO_H */
