/*
 * home.c: the private HOME (home.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd.h"
#include "home.h"

#define COOKIE_NAME	".erlang.cookie"

/* What erl and iex read from HOME besides the cookie. */
static const char *const linked[] = {
	".erlang", ".iex.exs", ".cache", ".config", NULL,
};

/* Write all len bytes of buf to fd. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
path(char *buf, const struct home *h, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", h->dir, name);

	if (n < 0 || n >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
write_cookie(const struct home *h, const char *cookie)
{
	char p[PATH_MAX];
	int fd;

	if (path(p, h, COOKIE_NAME) != 0)
		return -1;
	/* 0400, as erl wants: only the owner may read it. */
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0400);
	if (fd < 0)
		return -1;
	if (write_all(fd, cookie, strlen(cookie)) != 0)
		return fd_close_keep_errno(fd);
	/* A failed close is not retried: the fd is gone either way. */
	return close(fd) == 0 ? 0 : -1;
}

static void
link_startup_files(const struct home *h, const char *real_home)
{
	char from[PATH_MAX], to[PATH_MAX];
	const char *const *f;
	int n;

	if (real_home == NULL || *real_home == '\0')
		return;
	for (f = linked; *f != NULL; f++) {
		n = snprintf(from, sizeof(from), "%s/%s", real_home, *f);
		if (n < 0 || n >= (int)sizeof(from) || access(from, F_OK) != 0 ||
		    path(to, h, *f) != 0)
			continue;
		/* A missing link costs a history file, not the shell. */
		(void)symlink(from, to);
	}
}

int
home_create(struct home *h, const char *tmpdir, const char *cookie,
    const char *real_home)
{
	int n, saved;

	h->dir[0] = '\0';
	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	n = snprintf(h->dir, sizeof(h->dir), "%s/erlfwd-home.XXXXXX", tmpdir);
	if (n < 0 || n >= (int)sizeof(h->dir)) {
		h->dir[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdtemp(h->dir) == NULL) {	/* mode 0700 */
		h->dir[0] = '\0';
		return -1;
	}
	if (write_cookie(h, cookie) != 0)
		goto err_dir;
	link_startup_files(h, real_home);
	return 0;
err_dir:
	saved = errno;
	(void)home_remove(h);
	errno = saved;
	return -1;
}

/* nftw's callback: remove one entry, children first, never following a link. */
static int
remove_entry(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (type == FTW_DP ? rmdir(p) : unlink(p)) == 0 || errno == ENOENT ?
	    0 : -1;
}

int
home_remove(struct home *h)
{
	if (h->dir[0] == '\0')
		return 0;
	/* erl may have added files of its own (a history directory). */
	if (nftw(h->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return -1;
	h->dir[0] = '\0';
	return 0;
}
