/*
 * tio.c: socket I/O with deadlines (tio.h).
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <time.h>

#include "tio.h"

long
tio_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
tio_wait(int fd, short events, long deadline)
{
	struct pollfd pfd;
	long left;
	int n;

	for (;;) {
		left = deadline - tio_now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

int
tio_write_all(int fd, const void *buf, size_t len, long deadline)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (tio_wait(fd, POLLOUT, deadline) != 0)
			return -1;
	}
	return 0;
}

ssize_t
tio_read(int fd, void *buf, size_t len, long deadline)
{
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, len, 0);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (tio_wait(fd, POLLIN, deadline) != 0)
			return -1;
	}
}

ssize_t
tio_read_full(int fd, void *buf, size_t len, long deadline)
{
	char *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = tio_read(fd, p + got, len - got, deadline);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}
