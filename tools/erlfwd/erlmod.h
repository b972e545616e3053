/*
 * erlmod: the Erlang modules erlfwd loads into the local node, and only
 * there (the .erl files in erlang/): erlfwd_remsh, the guarded remote shell, and
 * erlfwd_epmd, the library-free mode's epmd module.
 *
 * Their sources are built into erlfwd.  Their compiled form depends on the
 * OTP release that loads them, so they are compiled by that release's own
 * erlc, once, into a directory keyed by the release and the sources'
 * digest: the one `make` built beside erlfwd (or `make install` put in
 * LIBDIR/erlang) when its release matches, else the user's cache.
 */
#ifndef ERLFWD_ERLMOD_H
#define ERLFWD_ERLMOD_H

#include <limits.h>
#include <stddef.h>

#define ERLMOD_REMSH	"erlfwd_remsh"
#define ERLMOD_EPMD	"erlfwd_epmd"

struct erlmod {
	char	ebin[PATH_MAX];	/* the directory holding the .beam files */
	int	otp;		/* the local OTP release's major number: 25 */
};

/*
 * erlmod_otp: the OTP release of the installation that erl (a path) belongs
 * to: its releases/N/OTP_VERSION beside the real erl, else what erl itself
 * says (bounded by timeout_ms).  Returns the major number, or -1.
 */
int	erlmod_otp(const char *erl, int timeout_ms);

/*
 * erlmod_prepare: m->ebin holds every module, loadable by the erl at that
 * path: built ahead (beside this program in erlang/KEY, or in
 * ../lib/erlfwd/erlang/KEY from it), else in the cache ($XDG_CACHE_HOME/
 * erlfwd, else ~/.cache/erlfwd, else $TMPDIR/erlfwd-UID), compiled there
 * first if missing.  A directory that others may write into is never
 * used.  Returns 0, or -1 with a one-line reason in err (cap bytes).
 */
int	erlmod_prepare(const char *erl, int timeout_ms, struct erlmod *m,
	    char *err, size_t cap);

/*
 * erlmod_cache_dir: erlfwd's cache directory ($XDG_CACHE_HOME/erlfwd, else
 * ~/.cache/erlfwd, else $TMPDIR/erlfwd-UID) into out (cap bytes), made if
 * missing.  It must be a real directory of ours that nobody else may write
 * into: what it holds is loaded into the user's node.  Returns 0, or -1
 * with a one-line reason in err (ecap bytes).
 */
int	erlmod_cache_dir(char *out, size_t cap, char *err, size_t ecap);

/*
 * erlmod_key: "otpREL-DIGEST" for an OTP release and the modules' sources
 * (the first 12 hex digits of the MD5 of their concatenation, in name
 * order: what the Makefile computes for the directory it builds) into out
 * (cap bytes).  Returns 0, or -1 when it does not fit.
 */
int	erlmod_key(char *out, size_t cap, int otp);

/* erlmod_cache_key: the same for one source text.  Pure. */
int	erlmod_cache_key(char *out, size_t cap, int otp, const char *src,
	    size_t len);

#endif /* ERLFWD_ERLMOD_H */
