/*
 * plat_posix.c: plat.h with POSIX.1-2008 alone, for erlfwd away from Linux
 * (macOS) and for `make posix`.  What each stand-in gives up is said at the
 * function.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd.h"
#include "plat.h"

#define WATCH_MS	250	/* how often a parent's watcher looks */
#define CLOSE_BATCH	256	/* descriptors listed per look at /dev/fd */
#define CLOSE_MAX	65536	/* the slow way stops here */

/* The signals plat_sigfd() can take: those a program may want to end on.
 * (A loop to NSIG would be neither POSIX nor safe with macOS's macros.) */
static const int	 sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1,
			     SIGUSR2, SIGALRM, SIGCHLD, SIGPIPE };
#define NSIGS		(sizeof(sigs) / sizeof(sigs[0]))

static int		 sig_w = -1;	/* the self-pipe's writing end */
static int		 watch_r = -1, watch_w = -1;	/* plat_readwatch() */
static char		 watch_path[PATH_MAX];
static struct sigaction	 sig_old[NSIGS];
static int		 sig_taken[NSIGS];

/* Add FD_CLOEXEC, and O_NONBLOCK when nonblock is set, to fd. */
static int
fd_flags(int fd, int nonblock)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFD)) < 0 ||
	    fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return -1;
	if (!nonblock)
		return 0;
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

/* Without pipe2() the ends are open without close-on-exec for a moment:
 * a fork in another thread could pass them on.  erlfwd has one thread. */
int
plat_pipe(int p[2])
{
	if (pipe(p) != 0)
		return -1;
	if (fd_flags(p[0], 0) != 0 || fd_flags(p[1], 0) != 0) {
		(void)fd_close_keep_errno(p[1]);
		return fd_close_keep_errno(p[0]);
	}
	return 0;
}

int
plat_socket(int domain, int type, int nonblock)
{
	int fd;
#ifdef SO_NOSIGPIPE
	int on = 1;
#endif

	if ((fd = socket(domain, type, 0)) < 0)
		return -1;
	if (fd_flags(fd, nonblock) != 0)
		return fd_close_keep_errno(fd);
#ifdef SO_NOSIGPIPE
	/* macOS (the Makefile's _DARWIN_C_SOURCE shows it): belt and braces
	 * beside MSG_NOSIGNAL, for a plain write() too. */
	(void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof(on));
#endif
	return fd;
}

int
plat_accept(int lfd)
{
	int fd;
#ifdef SO_NOSIGPIPE
	int on = 1;
#endif

	if ((fd = accept(lfd, NULL, NULL)) < 0)
		return -1;
	if (fd_flags(fd, 1) != 0)
		return fd_close_keep_errno(fd);
#ifdef SO_NOSIGPIPE
	(void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof(on));
#endif
	return fd;
}

/*
 * The watcher: a process of its own beside the child (its child, so that
 * an exec leaves it be), holding no descriptor, that looks every WATCH_MS
 * whether parent still exists, and sends the child SIGTERM when it does not.
 * It ends with the child.  Weaker than Linux's PR_SET_PDEATHSIG: up to
 * WATCH_MS late, and blind while parent is a zombie its own parent has not
 * reaped yet (a shell reaps at once).
 */
static void
watcher(pid_t parent, pid_t child)
{
	sigset_t none;

	plat_close_from(0);
	(void)signal(SIGINT, SIG_IGN);	/* the terminal's ^C is the child's */
	(void)signal(SIGQUIT, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGTERM, SIG_DFL);	/* a process group's end is ours */
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	for (;;) {
		(void)poll(NULL, 0, WATCH_MS);
		if (getppid() != child)
			_exit(0);
		if (kill(parent, 0) != 0 && errno == ESRCH) {
			(void)kill(child, SIGTERM);
			_exit(0);
		}
	}
}

int
plat_die_with_parent(pid_t parent)
{
	pid_t self = getpid(), w;

	if (getppid() != parent)
		return -1;
	if ((w = fork()) < 0)
		return -1;
	if (w == 0)
		watcher(parent, self);
	return getppid() == parent ? 0 : -1;
}

/* The self-pipe's writer: one byte, the signal's number; errno kept. */
static void
on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	(void)!write(sig_w, &b, 1);
	errno = saved;
}

/*
 * A self-pipe instead of signalfd: the handler writes, the loop reads.  The
 * signals are caught, not blocked: a slow call in their way ends with EINTR
 * (or restarts: SA_RESTART), where Linux would have left it alone.
 */
int
plat_sigfd(const sigset_t *mask)
{
	struct sigaction sa;
	size_t i;
	int p[2];

	if (sig_w >= 0) {
		errno = EBUSY;
		return -1;
	}
	if (pipe(p) != 0)
		return -1;
	if (fd_flags(p[0], 1) != 0 || fd_flags(p[1], 1) != 0) {
		(void)fd_close_keep_errno(p[1]);
		return fd_close_keep_errno(p[0]);
	}
	sig_w = p[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	(void)sigfillset(&sa.sa_mask);
	for (i = 0; i < NSIGS; i++) {
		if (sigismember(mask, sigs[i]) != 1)
			continue;
		if (sigaction(sigs[i], &sa, &sig_old[i]) != 0) {
			plat_sigfd_close(p[0]);
			return -1;
		}
		sig_taken[i] = 1;
	}
	return p[0];
}

int
plat_sigfd_read(int fd)
{
	unsigned char b;
	ssize_t n;

	if ((n = read(fd, &b, 1)) < 0)
		return -1;
	if (n == 0) {
		errno = EAGAIN;
		return -1;
	}
	return b;
}

void
plat_sigfd_close(int fd)
{
	int saved = errno;
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < NSIGS; i++)
		if (sig_taken[i]) {
			(void)sigaction(sigs[i], &sig_old[i], NULL);
			sig_taken[i] = 0;
		}
	(void)close(fd);
	if (sig_w >= 0)
		(void)close(sig_w);
	sig_w = -1;
	errno = saved;
}

/* The numbers of up to CLOSE_BATCH open descriptors from lowfd up, from
 * /dev/fd (Linux's /proc/self/fd, macOS's fdesc).  How many, or -1. */
static int
list_fds(int lowfd, int *fds)
{
	struct dirent *de;
	DIR *d;
	char *end;
	long v;
	int n = 0;

	if ((d = opendir("/dev/fd")) == NULL)
		return -1;
	while (n < CLOSE_BATCH && (de = readdir(d)) != NULL) {
		v = strtol(de->d_name, &end, 10);
		if (end == de->d_name || *end != '\0' || v < lowfd ||
		    v == dirfd(d))
			continue;
		fds[n++] = (int)v;
	}
	(void)closedir(d);
	return n;
}

void
plat_close_from(int lowfd)
{
	int fds[CLOSE_BATCH], n, i;
	long max;

	/* A batch at a time: closing while the directory is read could
	 * make it skip some. */
	while ((n = list_fds(lowfd, fds)) > 0) {
		for (i = 0; i < n; i++)
			(void)close(fds[i]);
		if (n < CLOSE_BATCH)
			return;
	}
	if (n == 0)
		return;
	/* No /dev/fd: every number up to the limit, within reason. */
	if ((max = sysconf(_SC_OPEN_MAX)) < 0 || max > CLOSE_MAX)
		max = CLOSE_MAX;
	for (i = lowfd; i < max; i++)
		(void)close(i);
}

const void *
plat_memmem(const void *hay, size_t hlen, const void *needle, size_t nlen)
{
	const unsigned char *h = hay, *p;

	if (nlen == 0)
		return hay;
	for (p = h; hlen - (size_t)(p - h) >= nlen; p++) {
		p = memchr(p, *(const unsigned char *)needle,
		    hlen - (size_t)(p - h) - nlen + 1);
		if (p == NULL)
			return NULL;
		if (memcmp(p, needle, nlen) == 0)
			return p;
	}
	return NULL;
}

/*
 * No inotify: the file's access time says it.  It is set to the epoch here,
 * and any read moves it to now (Linux's relatime too, since it is older
 * than the modification time).  The descriptor to poll is a pipe that
 * never becomes readable: the caller looks at each timeout.  Weaker than
 * inotify: a read is seen up to a poll's timeout late, when it began, not
 * when the reader closed the file (harmless: an open file outlives its
 * name), and never on a file system mounted noatime, where the file then
 * stays until the caller removes it.
 */
int
plat_readwatch(const char *path)
{
	struct timespec ts[2] = { { 0, 0 }, { 0, UTIME_OMIT } };
	int p[2];

	if (watch_r >= 0) {
		errno = EBUSY;
		return -1;
	}
	if (strlen(path) >= sizeof(watch_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (utimensat(AT_FDCWD, path, ts, 0) != 0 || plat_pipe(p) != 0)
		return -1;
	strcpy(watch_path, path);
	watch_r = p[0];
	watch_w = p[1];
	return watch_r;
}

int
plat_readwatch_seen(int fd)
{
	struct stat st;

	return fd >= 0 && fd == watch_r && stat(watch_path, &st) == 0 &&
	    st.st_atime != 0;
}

void
plat_readwatch_close(int fd)
{
	if (fd < 0 || fd != watch_r)
		return;
	(void)close(watch_r);
	(void)close(watch_w);
	watch_r = watch_w = -1;
}

#if defined(__APPLE__) && defined(_DARWIN_C_SOURCE)
/* macOS's own generator (the Makefile's _DARWIN_C_SOURCE shows it): it
 * cannot fail and needs no descriptor. */
int
plat_random(void *buf, size_t len)
{
	arc4random_buf(buf, len);
	return 0;
}
#else
/*
 * POSIX names no generator: /dev/urandom, which every system this builds
 * for has.  A file that is not a character device there (a chroot's stray
 * copy, a regular file planted in a container) is refused, not read.
 */
int
plat_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) != 0)
		return fd_close_keep_errno(fd);
	if (!S_ISCHR(st.st_mode)) {
		errno = ENODEV;
		return fd_close_keep_errno(fd);
	}
	while (len > 0) {
		if ((n = read(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return fd_close_keep_errno(fd);
		}
		if (n == 0) {
			errno = EIO;	/* a device that ends: nothing to trust */
			return fd_close_keep_errno(fd);
		}
		p += n;
		len -= (size_t)n;
	}
	(void)close(fd);
	return 0;
}
#endif
