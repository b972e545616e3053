/*
 * cookie.c: find and read the cookie (cookie.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cookie.h"
#include "fd.h"

int
cookie_parse(const char *buf, size_t len, char *out, size_t cap)
{
	size_t n = 0, i;

	/* auth.erl's check_cookie: the printable run, then only blanks. */
	while (n < len && buf[n] >= ' ' && buf[n] <= '~')
		n++;
	for (i = n; i < len; i++)
		if (buf[i] != '\n' && buf[i] != '\r' && buf[i] != ' ')
			return -1;
	if (n == 0 || n >= cap)
		return -1;
	memcpy(out, buf, n);
	out[n] = '\0';
	return 0;
}

/* Read all of the regular file path (at most cap bytes) into buf. */
static ssize_t
read_file(const char *path, char *buf, size_t cap)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return -1;
	if (fstat(fd, &st) != 0)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)cap) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto fail;
	}
	while (got < cap) {
		n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return (ssize_t)got;
fail:
	return fd_close_keep_errno(fd);
}

static int
from_file(struct cookie *c, const char *path, char *err, size_t errlen)
{
	char buf[COOKIE_FILE_MAX];
	ssize_t n;
	int rc = 0;

	if ((n = read_file(path, buf, sizeof(buf))) < 0) {
		snprintf(err, errlen, "cannot read the cookie from %s: %s",
		    c->origin, errno == EINVAL ? "not a regular file" :
		    errno == EFBIG ? "too large for a cookie" : strerror(errno));
		return -1;
	}
	if (cookie_parse(buf, (size_t)n, c->value, sizeof(c->value)) != 0) {
		snprintf(err, errlen, "the cookie in %s is empty, longer than "
		    "%d characters or not printable ASCII", c->origin,
		    COOKIE_MAX - 1);
		rc = -1;
	}
	memset(buf, 0, sizeof(buf));
	return rc;
}

static int
from_env(struct cookie *c, const char *value, char *err, size_t errlen)
{
	if (cookie_parse(value, strlen(value), c->value, sizeof(c->value)) != 0) {
		snprintf(err, errlen, "the cookie in %s is longer than %d "
		    "characters or not printable ASCII", c->origin,
		    COOKIE_MAX - 1);
		return -1;
	}
	return 0;
}

static int
set(const char *s)
{
	return s != NULL && *s != '\0';
}

int
cookie_find(struct cookie *c, const struct cookie_env *env, char *err,
    size_t errlen)
{
	int rc;

	memset(c, 0, sizeof(*c));
	if (set(env->file)) {
		c->source = COOKIE_FILE;
		snprintf(c->origin, sizeof(c->origin), "--cookie-file %s",
		    env->file);
		rc = from_file(c, env->file, err, errlen);
	} else if (set(env->erlfwd)) {
		c->source = COOKIE_ENV_ERLFWD;
		snprintf(c->origin, sizeof(c->origin), "$ERLFWD_COOKIE");
		rc = from_env(c, env->erlfwd, err, errlen);
	} else if (set(env->release)) {
		c->source = COOKIE_ENV_RELEASE;
		snprintf(c->origin, sizeof(c->origin), "$RELEASE_COOKIE");
		rc = from_env(c, env->release, err, errlen);
	} else if (set(env->home)) {
		c->source = COOKIE_HOME;
		snprintf(c->origin, sizeof(c->origin), "%s/.erlang.cookie",
		    env->home);
		if (access(c->origin, F_OK) != 0 && errno == ENOENT) {
			c->source = COOKIE_NONE;
			return 0;
		}
		rc = from_file(c, c->origin, err, errlen);
	} else
		return 0;
	if (rc != 0)
		cookie_wipe(c);
	return rc;
}

void
cookie_wipe(struct cookie *c)
{
	/* A volatile pointer keeps the compiler from dropping the stores. */
	volatile char *p = c->value;
	size_t i;

	for (i = 0; i < sizeof(c->value); i++)
		p[i] = '\0';
}
