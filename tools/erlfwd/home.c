/*
 * home.c: the private HOME (home.h).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd.h"
#include "home.h"

#define COOKIE_NAME	".erlang.cookie"
#define HOME_PREFIX	"erlfwd-home."

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
	/* The PID in the name lets a later run sweep it if we are killed. */
	n = snprintf(h->dir, sizeof(h->dir), "%s/" HOME_PREFIX "%ld.XXXXXX",
	    tmpdir, (long)getpid());
	if (n < 0 || n >= (int)sizeof(h->dir)) {
		h->dir[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	if (mkdtemp(h->dir) == NULL) {	/* mode 0700 */
		h->dir[0] = '\0';
		return -1;
	}
	if (path(h->cookie, h, COOKIE_NAME) != 0 || write_cookie(h, cookie) != 0)
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

int
home_sweep(const char *tmpdir)
{
	char p[PATH_MAX];
	struct dirent *de;
	struct stat st;
	struct home h;
	const char *pid_text;
	char *end;
	long pid;
	DIR *d;
	int n = 0;

	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	if ((d = opendir(tmpdir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, HOME_PREFIX, sizeof(HOME_PREFIX) - 1) != 0)
			continue;
		pid_text = de->d_name + sizeof(HOME_PREFIX) - 1;
		pid = strtol(pid_text, &end, 10);
		/* Ours, a directory, and its maker gone: not another user's,
		 * nor a live session's. */
		if (end == pid_text || *end != '.' || pid <= 0 ||
		    (kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", tmpdir, de->d_name) >=
		    (int)sizeof(p) || lstat(p, &st) != 0 ||
		    !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
			continue;
		memcpy(h.dir, p, sizeof(h.dir));
		if (home_remove(&h) == 0)
			n++;
	}
	closedir(d);
	return n;
}
