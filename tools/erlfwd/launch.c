/*
 * launch.c: start programs under the preload (launch.h).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"
#include "plat.h"
#include "tio.h"

static volatile sig_atomic_t child_pid;

/* 1 when path is a regular file. */
static int
is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Try dir/rel/LAUNCH_LIB_NAME; on success its real path is in out. */
static int
try_dir(char *out, size_t cap, const char *dir, const char *rel)
{
	char p[PATH_MAX], real[PATH_MAX];
	int n;

	n = snprintf(p, sizeof(p), "%s%s%s/%s", dir, *rel != '\0' ? "/" : "",
	    rel, LAUNCH_LIB_NAME);
	if (n < 0 || n >= (int)sizeof(p) || !is_file(p) ||
	    realpath(p, real) == NULL || strlen(real) >= cap)
		return -1;
	strcpy(out, real);
	return 0;
}

int
launch_self_dir(char *out, size_t cap)
{
	char exe[PATH_MAX], *slash;
	ssize_t n;

	/* Linux names it; elsewhere there is no portable way, and the
	 * callers fall back to the installed LIBDIR. */
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return -1;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL ||
	    (size_t)(slash - exe) >= cap)
		return -1;
	*slash = '\0';
	strcpy(out, exe);
	return 0;
}

int
launch_find_lib(char *out, size_t cap, const char *override)
{
	char exe[PATH_MAX];

	if (override != NULL && *override != '\0') {
		if (!is_file(override) || realpath(override, exe) == NULL ||
		    strlen(exe) >= cap) {
			errno = ENOENT;
			return -1;
		}
		strcpy(out, exe);
		return 0;
	}
	if (launch_self_dir(exe, sizeof(exe)) == 0 &&
	    (try_dir(out, cap, exe, "") == 0 ||
	    try_dir(out, cap, exe, "../lib/erlfwd") == 0))
		return 0;
#ifdef ERLFWD_LIBDIR
	if (try_dir(out, cap, ERLFWD_LIBDIR, "") == 0)
		return 0;
#endif
	errno = ENOENT;
	return -1;
}

/* 1 when the LD_PRELOAD list s already names lib. */
static int
names_lib(const char *s, const char *lib)
{
	size_t len = strlen(lib), n;

	while (*s != '\0') {
		n = strcspn(s, ": \t");
		if (n == len && strncmp(s, lib, len) == 0)
			return 1;
		s += n;
		if (*s != '\0')
			s++;
	}
	return 0;
}

int
launch_preload(char *out, size_t cap, const char *existing, const char *lib)
{
	int n;

	if (*lib == '\0' || strpbrk(lib, ": \t") != NULL)
		return -1;
	if (existing == NULL || *existing == '\0')
		n = snprintf(out, cap, "%s", lib);
	else if (names_lib(existing, lib))
		n = snprintf(out, cap, "%s", existing);
	else
		n = snprintf(out, cap, "%s:%s", existing, lib);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int
launch_env(const char *lib, const char *hosts, const char *tunnel)
{
	char *v;
	size_t cap;
	const char *old = getenv("LD_PRELOAD");
	int rc;

	cap = strlen(lib) + (old != NULL ? strlen(old) : 0) + 2;
	if ((v = malloc(cap)) == NULL)
		return -1;
	if (launch_preload(v, cap, old, lib) != 0) {
		free(v);
		errno = EINVAL;
		return -1;
	}
	rc = setenv("LD_PRELOAD", v, 1);
	free(v);
	if (rc != 0 || (hosts != NULL && setenv("ERLFWD_HOSTS", hosts, 1) != 0) ||
	    (tunnel != NULL && setenv("ERLFWD_TUNNEL", tunnel, 1) != 0))
		return -1;
	return 0;
}

int
launch_which(char *out, size_t cap, const char *prog)
{
	const char *path = getenv("PATH"), *p, *end;
	char cand[PATH_MAX];
	int n;

	if (strchr(prog, '/') != NULL) {
		if (access(prog, X_OK) != 0 || !is_file(prog) ||
		    strlen(prog) >= cap)
			return -1;
		strcpy(out, prog);
		return 0;
	}
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p = end + 1) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		/* An empty entry is the current directory, as execvp has it. */
		n = end == p ? snprintf(cand, sizeof(cand), "./%s", prog) :
		    snprintf(cand, sizeof(cand), "%.*s/%s", (int)(end - p), p,
		    prog);
		if (n > 0 && n < (int)sizeof(cand) && is_file(cand) &&
		    access(cand, X_OK) == 0 && (size_t)n < cap) {
			strcpy(out, cand);
			return 0;
		}
		if (*end == '\0')
			break;
	}
	errno = ENOENT;
	return -1;
}

static void
forward(int sig)
{
	if (child_pid > 0)
		(void)kill((pid_t)child_pid, sig);
}

/* The child: default signals back, exec, and on failure tell the parent. */
static void
child(char *const argv[], int report_fd, pid_t parent)
{
	int err;

	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	/* A parent killed with SIGKILL cannot pass anything on: the shell
	 * (the same process through the exec chain iex, elixir, erl,
	 * beam.smp) gets SIGTERM, which the BEAM takes as init:stop(). */
	if (plat_die_with_parent(parent) != 0)
		_exit(127);
	execvp(argv[0], argv);
	err = errno;
	(void)!write(report_fd, &err, sizeof(err));
	_exit(127);
}

/*
 * Wait for pid while watching the file once through ifd
 * (plat_readwatch()): the first time a process closes it after reading,
 * delete it.  Returns 0 with
 * *wstatus, or -1 with errno.
 */
static int
wait_reading(pid_t pid, int *wstatus, int ifd, const char *once)
{
	struct pollfd p = { .fd = ifd, .events = POLLIN };
	pid_t r;

	while (ifd >= 0) {
		if ((r = waitpid(pid, wstatus, WNOHANG)) == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		/* A few polls a second: the child's exit is found by waitpid
		 * soon enough, and a read ends the loop at once (or at the
		 * timeout, where the watch cannot wake us: plat.h). */
		if (poll(&p, 1, 200) >= 0 && plat_readwatch_seen(ifd)) {
			(void)unlink(once);
			ifd = -1;
		}
	}
	while (waitpid(pid, wstatus, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

int
launch_run(char *const argv[], int *wstatus)
{
	return launch_run_once(argv, wstatus, NULL);
}

int
launch_run_once(char *const argv[], int *wstatus, const char *once)
{
	struct sigaction ign, fwd, old_int, old_quit, old_term, old_hup;
	int pfd[2], err = 0, saved, rc = -1, ifd = -1;
	ssize_t n;
	pid_t pid, self = getpid();

	/* Close-on-exec: the pipe reads EOF once the exec succeeded. */
	if (plat_pipe(pfd) != 0)
		return -1;
	/* Watched before the child exists, so that its read cannot be
	 * missed.  Where that cannot be done (the POSIX build on a noatime
	 * file system) the file stays until the caller removes it, after the
	 * child's end: the cookie lies on disk, for this user only, for the
	 * whole session, not a moment. */
	if (once != NULL)
		ifd = plat_readwatch(once);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	fwd = ign;
	fwd.sa_handler = forward;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	sigaction(SIGTERM, &fwd, &old_term);
	sigaction(SIGHUP, &fwd, &old_hup);
	if ((pid = fork()) < 0)
		goto out;
	if (pid == 0) {
		close(pfd[0]);
		child(argv, pfd[1], self);
	}
	child_pid = pid;
	close(pfd[1]);
	pfd[1] = -1;
	do
		n = read(pfd[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	if (wait_reading(pid, wstatus, n == 0 ? ifd : -1, once) != 0)
		goto out;
	if (n == (ssize_t)sizeof(err)) {
		errno = err;
		goto out;
	}
	rc = 0;
out:
	saved = errno;
	child_pid = 0;
	close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	plat_readwatch_close(ifd);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	errno = saved;
	return rc;
}

int
launch_exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 1;
}

void
launch_beside(char *out, size_t cap, const char *path, const char *name)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL || (size_t)snprintf(out, cap, "%.*s%s",
	    (int)(slash - path + 1), path, name) >= cap ||
	    access(out, X_OK) != 0)
		snprintf(out, cap, "%s", name);
}

int
launch_capture(char *const argv[], char *out, size_t cap, int timeout_ms)
{
	long deadline = tio_now_ms() + timeout_ms, left;
	struct pollfd pfd;
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	int p[2], st = 0, rc = -1, nul;

	out[0] = '\0';
	if (plat_pipe(p) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		/* Its own group, so that a timeout kills the BEAM under it. */
		setpgid(0, 0);
		nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (nul < 0 || dup2(nul, STDIN_FILENO) < 0 ||
		    dup2(p[1], STDOUT_FILENO) < 0 ||
		    dup2(p[1], STDERR_FILENO) < 0)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		if ((left = deadline - tio_now_ms()) <= 0)
			goto kill;
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto kill;
		if (len + 1 < cap)
			n = read(p[0], out + len, cap - 1 - len);
		else {
			char sink[256];

			n = read(p[0], sink, sizeof(sink));
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len + 1 < cap)
			len += (size_t)n;
	}
	out[len] = '\0';
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		continue;
	rc = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
	goto out;
kill:
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		continue;
out:
	close(p[0]);
	return rc;
}
