/*
 * home: a private HOME that carries the cookie to erl and iex.
 *
 * Every way to hand erl a cookie on its command line (-setcookie, iex
 * --cookie, ERL_FLAGS, even -args_file, which erlexec expands into
 * beam.smp's argv) shows it in `ps`.  The one way that does not is the file
 * erl reads at boot, $HOME/.erlang.cookie.  So the child gets a HOME of its
 * own: a 0700 directory with the cookie in a 0400 .erlang.cookie, and links
 * to the user's startup files and XDG directories so that the shell's
 * history and .iex.exs still work.
 */
#ifndef ERLFWD_HOME_H
#define ERLFWD_HOME_H

#include <limits.h>

struct home {
	char	dir[PATH_MAX];		/* "" until created */
	char	cookie[PATH_MAX];	/* dir's .erlang.cookie */
};

/*
 * home_create: make the directory under tmpdir (NULL: /tmp), named
 * erlfwd-home.PID.XXXXXX after this process, write cookie to its
 * .erlang.cookie and link the startup files of real_home (may be NULL).
 * Returns 0, or -1 with errno; nothing is left behind on error.
 */
int	home_create(struct home *h, const char *tmpdir, const char *cookie,
	    const char *real_home);

/*
 * home_sweep: delete the private HOMEs under tmpdir (NULL: /tmp) that this
 * user's erlfwd processes made and left behind when they were killed (their
 * PID no longer runs).  Returns how many were deleted.
 */
int	home_sweep(const char *tmpdir);

/* home_remove: delete what home_create made.  Returns 0 or -1 with errno. */
int	home_remove(struct home *h);

#endif /* ERLFWD_HOME_H */
