/*
 * guard.c: the guarded shell's module, compiled for the local OTP (guard.h).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd.h"
#include "guard.h"
#include "launch.h"
#include "md5.h"

/* The module's source, generated from erlang/erlfwd_remsh.erl at build
 * time: guard_src[] and guard_src_len. */
#include "erlfwd_remsh_src.h"

#define ERLC_TIMEOUT_MS	60000

int
guard_cache_key(char *out, size_t cap, int otp, const char *src, size_t len)
{
	uint8_t d[MD5_LEN];
	struct md5 m;
	int n;

	md5_init(&m);
	md5_update(&m, src, len);
	md5_final(&m, d);
	n = snprintf(out, cap, "otp%d-%02x%02x%02x%02x%02x%02x", otp, d[0],
	    d[1], d[2], d[3], d[4], d[5]);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* The directory of path into out; 0, or -1 when it has none or is long. */
static int
dir_of(char *out, size_t cap, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL || (size_t)(slash - path) >= cap)
		return -1;
	memcpy(out, path, (size_t)(slash - path));
	out[slash - path] = '\0';
	return 0;
}

/* The major number in an OTP_VERSION text ("27.3.4.1\n"), or -1. */
static int
otp_major(const char *text)
{
	char *end;
	long v = strtol(text, &end, 10);

	return end != text && v > 0 && v < 1000 ? (int)v : -1;
}

/* Read a small file into buf; 0 or -1. */
static int
read_small(const char *path, char *buf, size_t cap)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	fd_close_keep_errno(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

int
guard_otp(const char *erl, int timeout_ms)
{
	char real[PATH_MAX], bin[PATH_MAX], rel[PATH_MAX], p[PATH_MAX];
	char text[256];
	char *argv[] = { (char *)erl, "-noshell", "-eval",
	    "io:put_chars(erlang:system_info(otp_release)), halt().", NULL };
	struct dirent *e;
	DIR *d;
	int v = -1;

	/* ROOT/bin/erl and ROOT/releases/N/OTP_VERSION, as OTP installs. */
	if (realpath(erl, real) != NULL && dir_of(bin, sizeof(bin), real) == 0 &&
	    (size_t)snprintf(rel, sizeof(rel), "%s/../releases", bin) <
	    sizeof(rel) && (d = opendir(rel)) != NULL) {
		while (v < 0 && (e = readdir(d)) != NULL) {
			if (e->d_name[0] < '0' || e->d_name[0] > '9')
				continue;
			if ((size_t)snprintf(p, sizeof(p), "%s/%s/OTP_VERSION",
			    rel, e->d_name) < sizeof(p) &&
			    read_small(p, text, sizeof(text)) == 0)
				v = otp_major(text);
		}
		closedir(d);
	}
	if (v < 0 && launch_capture(argv, text, sizeof(text), timeout_ms) == 0)
		v = otp_major(text);
	return v;
}

/* mkdir that accepts an existing directory. */
static int
mkdir_ok(const char *path, mode_t mode)
{
	return mkdir(path, mode) == 0 || errno == EEXIST ? 0 : -1;
}

/*
 * The cache's base directory into out, made if missing.  It must be a real
 * directory of ours that nobody else may write into: what it holds is
 * loaded into the user's shell.
 */
static int
cache_base(char *out, size_t cap, char *err, size_t ecap)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	const char *tmp = getenv("TMPDIR");
	char parent[PATH_MAX];
	struct stat st;
	int n;

	if (xdg != NULL && xdg[0] == '/') {
		snprintf(parent, sizeof(parent), "%s", xdg);
		n = snprintf(out, cap, "%s/erlfwd", xdg);
	} else if (home != NULL && home[0] == '/') {
		snprintf(parent, sizeof(parent), "%s/.cache", home);
		n = snprintf(out, cap, "%s/.cache/erlfwd", home);
	} else {
		parent[0] = '\0';
		n = snprintf(out, cap, "%s/erlfwd-%ld",
		    tmp != NULL && tmp[0] == '/' ? tmp : "/tmp", (long)getuid());
	}
	if (n < 0 || (size_t)n >= cap) {
		snprintf(err, ecap, "the cache directory's path is too long");
		return -1;
	}
	if ((parent[0] != '\0' && mkdir_ok(parent, 0700) != 0) ||
	    mkdir_ok(out, 0700) != 0) {
		snprintf(err, ecap, "cannot make %s: %s", out, strerror(errno));
		return -1;
	}
	if (lstat(out, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != getuid() || (st.st_mode & 077) != 0) {
		snprintf(err, ecap, "%s is not a private directory of this user "
		    "(mode 0700, owned by uid %ld): not used", out,
		    (long)getuid());
		return -1;
	}
	return 0;
}

/* 1 when path is a regular file of ours. */
static int
own_file(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == getuid();
}

/* Write the source to path; 0 or -1. */
static int
write_src(const char *path)
{
	size_t off = 0;
	ssize_t n;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	while (off < guard_src_len) {
		n = write(fd, guard_src + off, guard_src_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fd_close_keep_errno(fd);
			return -1;
		}
		off += (size_t)n;
	}
	return close(fd);
}

/* Remove the files of a scratch directory, then the directory. */
static void
remove_scratch(const char *dir)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s.erl", dir, GUARD_MODULE);
	(void)unlink(p);
	snprintf(p, sizeof(p), "%s/%s.beam", dir, GUARD_MODULE);
	(void)unlink(p);
	(void)rmdir(dir);
}

int
guard_prepare(const char *erl, int timeout_ms, struct guard *g, char *err,
    size_t cap)
{
	char base[PATH_MAX], key[64], scratch[PATH_MAX], src[PATH_MAX];
	char beam[PATH_MAX], erlc[PATH_MAX], out[2048];
	char *argv[] = { erlc, "-o", scratch, src, NULL };

	memset(g, 0, sizeof(*g));
	if ((g->otp = guard_otp(erl, timeout_ms)) < 0) {
		snprintf(err, cap, "cannot tell which OTP release %s is", erl);
		return -1;
	}
	if (cache_base(base, sizeof(base), err, cap) != 0)
		return -1;
	if (guard_cache_key(key, sizeof(key), g->otp, guard_src,
	    guard_src_len) != 0 ||
	    (size_t)snprintf(g->ebin, sizeof(g->ebin), "%s/%s", base, key) >=
	    sizeof(g->ebin) ||
	    (size_t)snprintf(beam, sizeof(beam), "%s/%s.beam", g->ebin,
	    GUARD_MODULE) >= sizeof(beam)) {
		snprintf(err, cap, "the cache directory's path is too long");
		return -1;
	}
	if (own_file(beam))
		return 0;
	/* erlc beside the erl that will load the module, else on $PATH. */
	launch_beside(erlc, sizeof(erlc), erl, "erlc");
	/* Compiled aside, then renamed into place: a session that races us
	 * finds either nothing or the whole directory. */
	if ((size_t)snprintf(scratch, sizeof(scratch), "%s/.new-XXXXXX",
	    base) >= sizeof(scratch) || mkdtemp(scratch) == NULL ||
	    (size_t)snprintf(src, sizeof(src), "%s/%s.erl", scratch,
	    GUARD_MODULE) >= sizeof(src)) {
		snprintf(err, cap, "cannot make a directory in %s: %s", base,
		    strerror(errno));
		return -1;
	}
	if (write_src(src) != 0) {
		snprintf(err, cap, "cannot write %s: %s", src, strerror(errno));
		goto fail;
	}
	if (launch_capture(argv, out, sizeof(out), ERLC_TIMEOUT_MS) != 0) {
		out[strcspn(out, "\n")] = '\0';
		snprintf(err, cap, "%s could not compile the shell guard%s%s "
		    "(install Erlang's compiler, or use --allow-stop)", erlc,
		    out[0] != '\0' ? ": " : "", out);
		goto fail;
	}
	(void)unlink(src);
	if (rename(scratch, g->ebin) != 0) {
		remove_scratch(scratch);
		if (!own_file(beam)) {
			snprintf(err, cap, "cannot move the compiled guard into "
			    "%s: %s", g->ebin, strerror(errno));
			return -1;
		}
	}
	return 0;
fail:
	remove_scratch(scratch);
	return -1;
}
