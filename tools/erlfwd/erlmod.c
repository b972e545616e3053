/*
 * erlmod.c: erlfwd's Erlang modules, compiled for the local OTP (erlmod.h).
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
#include "erlmod.h"
#include "launch.h"
#include "md5.h"

/* The modules' sources, generated from the .erl files of erlang/ at build time, in name
 * order: erlmod_srcs[] of { name, text, len }, erlmod_nsrcs. */
#include "erlmod_src.h"

#define ERLC_TIMEOUT_MS	60000

/* "otpREL-" and 12 hex digits of digest d. */
static int
key_text(char *out, size_t cap, int otp, const uint8_t *d)
{
	int n = snprintf(out, cap, "otp%d-%02x%02x%02x%02x%02x%02x", otp,
	    d[0], d[1], d[2], d[3], d[4], d[5]);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int
erlmod_cache_key(char *out, size_t cap, int otp, const char *src,
    size_t len)
{
	uint8_t d[MD5_LEN];
	struct md5 m;

	md5_init(&m);
	md5_update(&m, src, len);
	md5_final(&m, d);
	return key_text(out, cap, otp, d);
}

int
erlmod_key(char *out, size_t cap, int otp)
{
	uint8_t d[MD5_LEN];
	struct md5 m;
	size_t i;

	md5_init(&m);
	for (i = 0; i < erlmod_nsrcs; i++)
		md5_update(&m, erlmod_srcs[i].text, erlmod_srcs[i].len);
	md5_final(&m, d);
	return key_text(out, cap, otp, d);
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
erlmod_otp(const char *erl, int timeout_ms)
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

int
erlmod_cache_dir(char *out, size_t cap, char *err, size_t ecap)
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

/* Every module's .beam in dir, each written by no one but its owner. */
static int
all_beams(const char *dir, int ours)
{
	char p[PATH_MAX];
	struct stat st;
	size_t i;

	for (i = 0; i < erlmod_nsrcs; i++) {
		if ((size_t)snprintf(p, sizeof(p), "%s/%s.beam", dir,
		    erlmod_srcs[i].name) >= sizeof(p) || lstat(p, &st) != 0 ||
		    !S_ISREG(st.st_mode) || (st.st_mode & 022) != 0 ||
		    (ours ? st.st_uid != getuid() : st.st_uid != getuid() &&
		    st.st_uid != 0))
			return 0;
	}
	return 1;
}

/*
 * The directory `make` built (or installed) for key, beside exe: only one
 * that its owner (us or root) alone may write into.
 */
static int
built_dir(char *out, size_t cap, const char *key)
{
	static const char *const rel[] = { "erlang", "../lib/erlfwd/erlang" };
	char dir[PATH_MAX];
	struct stat st;
	size_t i;
	int n;

	for (i = 0; i < sizeof(rel) / sizeof(rel[0]) + 1; i++) {
		if (i < sizeof(rel) / sizeof(rel[0])) {
			if (launch_self_dir(dir, sizeof(dir)) != 0)
				continue;
			n = snprintf(out, cap, "%s/%s/%s", dir, rel[i], key);
		} else {
#ifdef ERLFWD_LIBDIR
			n = snprintf(out, cap, "%s/erlang/%s", ERLFWD_LIBDIR,
			    key);
#else
			break;
#endif
		}
		if (n < 0 || (size_t)n >= cap)
			continue;
		if (stat(out, &st) == 0 && S_ISDIR(st.st_mode) &&
		    (st.st_mode & 022) == 0 && (st.st_uid == getuid() ||
		    st.st_uid == 0) && all_beams(out, 0))
			return 0;
	}
	return -1;
}

/* Write len bytes of text to path; 0 or -1. */
static int
write_src(const char *path, const char *text, size_t len)
{
	size_t off = 0;
	ssize_t n;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	while (off < len) {
		n = write(fd, text + off, len - off);
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
	size_t i;

	for (i = 0; i < erlmod_nsrcs; i++) {
		snprintf(p, sizeof(p), "%s/%s.erl", dir, erlmod_srcs[i].name);
		(void)unlink(p);
		snprintf(p, sizeof(p), "%s/%s.beam", dir, erlmod_srcs[i].name);
		(void)unlink(p);
	}
	(void)rmdir(dir);
}

int
erlmod_prepare(const char *erl, int timeout_ms, struct erlmod *m, char *err,
    size_t cap)
{
	char base[PATH_MAX], key[64], scratch[PATH_MAX];
	char erlc[PATH_MAX], out[2048];
	char *argv[3 + 2 * 8 + 1], src[8][PATH_MAX];
	size_t i;
	int ac = 0;

	memset(m, 0, sizeof(*m));
	if ((m->otp = erlmod_otp(erl, timeout_ms)) < 0) {
		snprintf(err, cap, "cannot tell which OTP release %s is", erl);
		return -1;
	}
	if (erlmod_key(key, sizeof(key), m->otp) != 0 || erlmod_nsrcs > 8) {
		snprintf(err, cap, "too many Erlang modules");
		return -1;
	}
	if (built_dir(m->ebin, sizeof(m->ebin), key) == 0)
		return 0;
	if (erlmod_cache_dir(base, sizeof(base), err, cap) != 0)
		return -1;
	if ((size_t)snprintf(m->ebin, sizeof(m->ebin), "%s/%s", base, key) >=
	    sizeof(m->ebin)) {
		snprintf(err, cap, "the cache directory's path is too long");
		return -1;
	}
	if (all_beams(m->ebin, 1))
		return 0;
	/* erlc beside the erl that will load the modules, else on $PATH. */
	launch_beside(erlc, sizeof(erlc), erl, "erlc");
	/* Compiled aside, then renamed into place: a session that races us
	 * finds either nothing or the whole directory. */
	if ((size_t)snprintf(scratch, sizeof(scratch), "%s/.new-XXXXXX",
	    base) >= sizeof(scratch) || mkdtemp(scratch) == NULL) {
		snprintf(err, cap, "cannot make a directory in %s: %s", base,
		    strerror(errno));
		return -1;
	}
	argv[ac++] = erlc;
	argv[ac++] = "-o";
	argv[ac++] = scratch;
	for (i = 0; i < erlmod_nsrcs; i++) {
		if ((size_t)snprintf(src[i], sizeof(src[i]), "%s/%s.erl",
		    scratch, erlmod_srcs[i].name) >= sizeof(src[i]) ||
		    write_src(src[i], erlmod_srcs[i].text,
		    erlmod_srcs[i].len) != 0) {
			snprintf(err, cap, "cannot write %s: %s", src[i],
			    strerror(errno));
			goto fail;
		}
		argv[ac++] = src[i];
	}
	argv[ac] = NULL;
	if (launch_capture(argv, out, sizeof(out), ERLC_TIMEOUT_MS) != 0 ||
	    !all_beams(scratch, 1)) {
		out[strcspn(out, "\n")] = '\0';
		snprintf(err, cap, "%s could not compile erlfwd's Erlang "
		    "modules%s%s (install Erlang's compiler)", erlc,
		    out[0] != '\0' ? ": " : "", out);
		goto fail;
	}
	for (i = 0; i < erlmod_nsrcs; i++)
		(void)unlink(src[i]);
	if (rename(scratch, m->ebin) != 0) {
		remove_scratch(scratch);
		if (!all_beams(m->ebin, 1)) {
			snprintf(err, cap, "cannot move the compiled modules "
			    "into %s: %s", m->ebin, strerror(errno));
			return -1;
		}
	}
	return 0;
fail:
	remove_scratch(scratch);
	return -1;
}
