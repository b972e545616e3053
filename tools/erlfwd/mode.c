/*
 * mode.c: preload or library-free (mode.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "erlmod.h"
#include "fd.h"
#include "launch.h"
#include "md5.h"
#include "mode.h"

#define PROBE_TIMEOUT_MS	15000	/* an erl's boot, on a loaded laptop */

int
mode_probe(const char *erl, const char *lib, int timeout_ms, char *why,
    size_t cap)
{
	char out[1024];
	char *argv[] = { (char *)erl, "-noshell", "-eval", "io:put_chars(os:cmd("
	    "\"grep -c liberlfwd /proc/\" ++ os:getpid() ++ \"/maps\")), "
	    "halt().", NULL };
	const char *old = getenv("LD_PRELOAD");
	char *saved = old != NULL ? strdup(old) : NULL;
	int rc;

	why[0] = '\0';
	if ((old != NULL && saved == NULL) || setenv("LD_PRELOAD", lib, 1) != 0) {
		free(saved);
		snprintf(why, cap, "cannot set LD_PRELOAD");
		return -1;
	}
	rc = launch_capture(argv, out, sizeof(out), timeout_ms);
	if (saved != NULL)
		(void)setenv("LD_PRELOAD", saved, 1);
	else
		(void)unsetenv("LD_PRELOAD");
	free(saved);
	if (rc == 0 && atoi(out) > 0)
		return 1;
	/* The loader's complaint (or erl's), not the node's count. */
	out[strcspn(out, "\n")] = '\0';
	if (out[0] >= '0' && out[0] <= '9')
		out[0] = '\0';
	snprintf(why, cap, "%s", out);
	return rc == 0 ? 0 : out[0] != '\0' ? 0 : -1;
}

#ifdef __linux__
/* Add path's identity (real path, size, mtime) to m. */
static void
digest_file(struct md5 *m, const char *path)
{
	char real[PATH_MAX];
	struct stat st;
	long long v[2] = { -1, -1 };

	if (realpath(path, real) == NULL)
		snprintf(real, sizeof(real), "%s", path);
	if (stat(real, &st) == 0) {
		v[0] = (long long)st.st_size;
		v[1] = (long long)st.st_mtime;
	}
	md5_update(m, real, strlen(real) + 1);
	md5_update(m, v, sizeof(v));
}

/*
 * Whether the erl on $PATH loads lib: the cache's verdict for this pair of
 * files (preload-DIGEST: "ok" or "no"), else asked now and kept.  A pair
 * that cannot be asked (no erl) counts as loading it: the preload's own
 * errors then say what is wrong.
 */
static int
preload_works(const char *lib)
{
	char erl[PATH_MAX], dir[PATH_MAX], path[PATH_MAX + 64], err[256];
	char why[256], verdict[4] = "";
	uint8_t d[MD5_LEN];
	struct md5 m;
	ssize_t n;
	int fd, ok;

	if (launch_which(erl, sizeof(erl), "erl") != 0)
		return 1;
	md5_init(&m);
	digest_file(&m, erl);
	digest_file(&m, lib);
	md5_final(&m, d);
	if (erlmod_cache_dir(dir, sizeof(dir), err, sizeof(err)) != 0)
		dir[0] = '\0';
	snprintf(path, sizeof(path), "%s/preload-%02x%02x%02x%02x%02x%02x",
	    dir, d[0], d[1], d[2], d[3], d[4], d[5]);
	if (dir[0] != '\0' && (fd = open(path, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) >= 0) {
		n = read(fd, verdict, sizeof(verdict) - 1);
		fd_close_keep_errno(fd);
		if (n == 2)
			return strcmp(verdict, "ok") == 0;
	}
	if ((ok = mode_probe(erl, lib, PROBE_TIMEOUT_MS, why,
	    sizeof(why))) < 0)
		return 1;
	if (dir[0] != '\0' && (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0600)) >= 0) {
		(void)!write(fd, ok ? "ok" : "no", 2);
		(void)close(fd);
	}
	return ok;
}
#endif /* __linux__: the only system whose erl the library is for */

int
mode_pick(struct mode *m, int no_preload, char *err, size_t cap)
{
	const char *env = getenv("ERLFWD_PRELOAD");
	int found;

	memset(m, 0, sizeof(*m));
	if (env != NULL && *env != '\0' && strcmp(env, "on") != 0 &&
	    strcmp(env, "off") != 0 && strcmp(env, "auto") != 0) {
		snprintf(err, cap, "ERLFWD_PRELOAD='%.40s': use on, off or "
		    "auto", env);
		return -1;
	}
	m->kind = MODE_FLAGS;
	if (no_preload) {
		m->why = "asked with --no-preload";
		return 0;
	}
	if (env != NULL && strcmp(env, "off") == 0) {
		m->why = "asked with ERLFWD_PRELOAD=off";
		return 0;
	}
	found = launch_find_lib(m->lib, sizeof(m->lib),
	    getenv("ERLFWD_LIB")) == 0;
#ifndef __linux__
	/* The library is a Linux one; SIP strips DYLD_* on macOS anyway. */
	found = 0;
#endif
	if (env != NULL && strcmp(env, "on") == 0) {
		if (!found) {
			snprintf(err, cap, "ERLFWD_PRELOAD=on, but %s is not "
			    "found beside this program or in its lib/erlfwd "
			    "(set ERLFWD_LIB, or use --no-preload)",
			    LAUNCH_LIB_NAME);
			return -1;
		}
		m->kind = MODE_PRELOAD;
		m->why = "asked with ERLFWD_PRELOAD=on";
		return 0;
	}
#ifndef __linux__
	m->why = "this system has no LD_PRELOAD that reaches erl";
	return 0;
#else
	if (!found) {
		m->why = LAUNCH_LIB_NAME " is not installed beside erlfwd";
		return 0;
	}
	if (!preload_works(m->lib)) {
		m->why = "the erl on $PATH does not load " LAUNCH_LIB_NAME
		    " (erlfwd doctor says why)";
		return 0;
	}
	m->kind = MODE_PRELOAD;
	m->why = "Linux, with " LAUNCH_LIB_NAME;
	return 0;
#endif
}

const char *
mode_name(enum mode_kind k)
{
	return k == MODE_PRELOAD ? "preload" : "library-free";
}
