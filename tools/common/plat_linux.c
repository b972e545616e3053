/*
 * plat_linux.c: the Linux calls behind plat.h, as the tools have always
 * made them.
 */
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fd.h"
#include "plat.h"

int
plat_pipe(int p[2])
{
	return pipe2(p, O_CLOEXEC);
}

int
plat_socket(int domain, int type, int nonblock)
{
	return socket(domain, type | SOCK_CLOEXEC |
	    (nonblock ? SOCK_NONBLOCK : 0), 0);
}

int
plat_accept(int lfd)
{
	return accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int
plat_die_with_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		return -1;
	/* A parent that died before the prctl took its signal along. */
	return getppid() == parent ? 0 : -1;
}

int
plat_sigfd(const sigset_t *mask)
{
	if (sigprocmask(SIG_BLOCK, mask, NULL) != 0)
		return -1;
	return signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

int
plat_sigfd_read(int fd)
{
	struct signalfd_siginfo si;
	ssize_t n;

	if ((n = read(fd, &si, sizeof(si))) < 0)
		return -1;
	if (n != (ssize_t)sizeof(si)) {
		errno = EAGAIN;
		return -1;
	}
	return (int)si.ssi_signo;
}

void
plat_sigfd_close(int fd)
{
	/* The signals stay blocked: one that comes now waits, unseen, as it
	 * did before this was a function. */
	if (fd >= 0)
		(void)close(fd);
}

void
plat_close_from(int lowfd)
{
	(void)close_range((unsigned)lowfd, ~0U, 0);
}

const void *
plat_memmem(const void *hay, size_t hlen, const void *needle, size_t nlen)
{
	return memmem(hay, hlen, needle, nlen);
}

int
plat_readwatch(const char *path)
{
	int fd;

	if ((fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0)
		return -1;
	if (inotify_add_watch(fd, path, IN_CLOSE_NOWRITE) < 0)
		return fd_close_keep_errno(fd);
	return fd;
}

int
plat_readwatch_seen(int fd)
{
	char ev[sizeof(struct inotify_event) + NAME_MAX + 1];

	return read(fd, ev, sizeof(ev)) > 0;
}

void
plat_readwatch_close(int fd)
{
	if (fd >= 0)
		(void)close(fd);
}

int
plat_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	/* Flags 0: the urandom pool, but never before it is seeded.  A call
	 * may return short (past 256 bytes) or be interrupted while it waits:
	 * go on until all of it is filled. */
	while (len > 0) {
		if ((n = getrandom(p, len, 0)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
