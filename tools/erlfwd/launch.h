/*
 * launch: start a program with liberlfwd.so preloaded and erlfwd's
 * configuration in its environment, the way `proxychains4 COMMAND` does.
 */
#ifndef ERLFWD_LAUNCH_H
#define ERLFWD_LAUNCH_H

#include <stddef.h>

#define LAUNCH_LIB_NAME	"liberlfwd.so"

/*
 * launch_self_dir: the directory of this program's executable into out
 * (cap bytes).  Returns 0, or -1 where the system does not say.
 */
int	launch_self_dir(char *out, size_t cap);

/*
 * launch_find_lib: the library's absolute path in out (cap bytes): override
 * when given (ERLFWD_LIB), else beside this executable (the build tree),
 * else in ../lib/erlfwd from it (an installed tree, any prefix), else in the
 * library directory chosen at build time.  Returns 0, or -1 with errno
 * ENOENT when none exists.
 */
int	launch_find_lib(char *out, size_t cap, const char *override);

/*
 * launch_preload: the LD_PRELOAD value that adds lib to existing (may be
 * NULL or ""): existing, a ':' and lib, or existing unchanged when it already
 * names lib.  Into out (cap bytes).  Returns 0, or -1 when it does not fit or
 * lib contains a separator (':' or a blank) that the loader would split on.
 */
int	launch_preload(char *out, size_t cap, const char *existing,
	    const char *lib);

/*
 * launch_env: put the library and the configuration in this process's
 * environment, for the program it is about to start.  hosts and tunnel are
 * ERLFWD_HOSTS and ERLFWD_TUNNEL; NULL leaves the variable as it is.
 * Returns 0 or -1 with errno.
 */
int	launch_env(const char *lib, const char *hosts, const char *tunnel);

/*
 * launch_which: the path of prog found on $PATH in out (cap bytes), or prog
 * itself when it has a '/'.  Returns 0, or -1 when it is not an executable.
 */
int	launch_which(char *out, size_t cap, const char *prog);

/*
 * launch_run: run argv[0] (searched on $PATH) with argv and wait for it.
 * While it runs this process ignores SIGINT and SIGQUIT (they are the
 * terminal's, meant for the child) and passes SIGTERM and SIGHUP on to it.
 * Returns 0 with its wait status in *wstatus, or -1 with errno when it could
 * not be started (the exec's errno: ENOENT, EACCES, ...).
 */
int	launch_run(char *const argv[], int *wstatus);

/*
 * launch_run_once: launch_run, and once the child has read the file once
 * (opened and closed it without writing: erl reading its .erlang.cookie at
 * boot), delete that file, so that it is not left on disk for the rest of
 * the session, nor after a SIGKILL of this process.  The child gets
 * SIGTERM when this process dies (PR_SET_PDEATHSIG).
 */
int	launch_run_once(char *const argv[], int *wstatus, const char *once);

/*
 * launch_beside: the program name in the directory of path (the elixir of
 * this iex, the erlc of this erl: the same installation) into out (cap
 * bytes) when it is executable there, else name itself, for $PATH.
 */
void	launch_beside(char *out, size_t cap, const char *path,
	    const char *name);

/*
 * launch_capture: run argv (searched on $PATH) with stdin from /dev/null,
 * stdout and stderr into out (cap bytes, NUL-terminated), for at most
 * timeout_ms; the child and what it started (its process group) are killed
 * when time is up.  Returns 0 when it exited 0, else -1.
 */
int	launch_capture(char *const argv[], char *out, size_t cap,
	    int timeout_ms);

/* launch_exit_code: a wait status as a shell would report it (128 + signal). */
int	launch_exit_code(int wstatus);

#endif /* ERLFWD_LAUNCH_H */
