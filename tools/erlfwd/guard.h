/*
 * guard: the guarded remote shell's Erlang module (erlang/erlfwd_remsh.erl)
 * for the local erl that will run it.
 *
 * The module's source is built into erlfwd.  Its compiled form depends on
 * the OTP release that loads it, so it is compiled by that release's own
 * erlc, once, into a cache directory of the user's keyed by the release and
 * the source's digest.  Nothing of it goes to the remote node.
 */
#ifndef ERLFWD_GUARD_H
#define ERLFWD_GUARD_H

#include <limits.h>
#include <stddef.h>

#define GUARD_MODULE	"erlfwd_remsh"

struct guard {
	char	ebin[PATH_MAX];	/* the directory holding the .beam */
	int	otp;		/* the local OTP release's major number: 25 */
};

/*
 * guard_otp: the OTP release of the installation that erl (a path) belongs
 * to: its releases/N/OTP_VERSION beside the real erl, else what erl itself
 * says (bounded by timeout_ms).  Returns the major number, or -1.
 */
int	guard_otp(const char *erl, int timeout_ms);

/*
 * guard_prepare: g->ebin holds a loadable erlfwd_remsh.beam for the erl at
 * that path: from the cache ($XDG_CACHE_HOME/erlfwd, else ~/.cache/erlfwd,
 * else $TMPDIR/erlfwd-UID), compiled there first if missing.  A cache
 * directory that is not the user's own and private is never used.  Returns
 * 0, or -1 with a one-line reason in err (cap bytes).
 */
int	guard_prepare(const char *erl, int timeout_ms, struct guard *g,
	    char *err, size_t cap);

/*
 * guard_cache_key: "otpREL-DIGEST" for an OTP release and the module's
 * source (the first 12 hex digits of its MD5) into out (cap bytes).  Pure.
 * Returns 0, or -1 when it does not fit.
 */
int	guard_cache_key(char *out, size_t cap, int otp, const char *src,
	    size_t len);

#endif /* ERLFWD_GUARD_H */
