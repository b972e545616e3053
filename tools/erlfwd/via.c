/*
 * via.c: the --via transport (transport.h): `sh -c COMMAND` with pipes for
 * its stdin, stdout and stderr; erlfwd-server --stdio at the far end.  Its
 * stderr is the user's to read, a line at a time (ssh's words, the CLI's),
 * but erlfwd-server's own info lines only with debug.
 */
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "plat.h"
#include "safe.h"
#include "sock.h"
#include "tio.h"
#include "transport.h"

#define REAP_MS		1000	/* SIGTERM, then this long, then SIGKILL */
#define VIA_GRACE_MS	500	/* a command ending by itself on EOF */

/* Start sh -c COMMAND with pipes for stdin, stdout and stderr. */
static int
via_open(struct transport *t, long deadline, char *why, size_t cap)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	sigset_t none;
	pid_t pid, agent = getpid();

	(void)deadline;		/* the carrier's first frame has its own */
	if (plat_pipe(in) != 0 || plat_pipe(out) != 0 || plat_pipe(err) != 0)
		goto fail;
	if ((pid = fork()) < 0)
		goto fail;
	if (pid == 0) {
		/* Its own process group: the terminal's ^C is the shell's. */
		(void)setpgid(0, 0);
		if (plat_die_with_parent(agent) != 0)
			_exit(0);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		/* Until the exec, not the agent's: plat_sigfd() may catch them
		 * (the POSIX build) or block them (Linux), and a mask survives
		 * exec: an "exec ssh ..." would ignore via_stop()'s SIGTERM and
		 * the parent's death above. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 ||
		    dup2(err[1], 2) < 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", t->command, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	t->pid = pid;
	t->rfd = out[0];
	t->wfd = in[1];
	t->errfd = err[0];
	t->errlen = 0;
	(void)sock_nonblock(err[0]);
	return 0;
fail:
	snprintf(why, cap, "cannot start the --via command: %s",
	    strerror(errno));
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return -1;
}

/*
 * One line of the command's stderr for the user: erlfwd-server's own info
 * lines only with debug, everything else (ssh's, the CLI's, warnings).
 */
static void
via_line(struct transport *t, const char *line, size_t len)
{
	if (len == 0)
		return;
	if (!t->debug && len > 3 && memcmp(line, "ts=", 3) == 0 &&
	    plat_memmem(line, len, " level=info ", 12) != NULL)
		return;
	if (t->quiet && !t->debug) {
		snprintf(t->quieted, sizeof(t->quieted),
		    "%.*s", (int)len, line);
		return;
	}
	safe_line(stderr, "erlfwd: via: %.*s", (int)len, line);
}

static int
via_read_err(struct transport *t)
{
	ssize_t n;
	char *nl;

	if (t->errfd < 0)
		return 1;
	for (;;) {
		n = read(t->errfd, t->errline + t->errlen,
		    sizeof(t->errline) - t->errlen);
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				via_line(t, t->errline, t->errlen);
				t->errlen = 0;
				close(t->errfd);
				t->errfd = -1;
				return 1;
			}
			return 0;
		}
		t->errlen += (size_t)n;
		while ((nl = memchr(t->errline, '\n', t->errlen)) != NULL) {
			via_line(t, t->errline, (size_t)(nl - t->errline));
			t->errlen -= (size_t)(nl + 1 - t->errline);
			memmove(t->errline, nl + 1, t->errlen);
		}
		if (t->errlen == sizeof(t->errline)) {
			via_line(t, t->errline, t->errlen);
			t->errlen = 0;
		}
	}
}

/*
 * Stop the command and reap it; its exit status.  Its stdin and stdout are
 * closed first, and a command like ssh ends on that by itself, after its
 * last words, which are shown.  One that has not ended within VIA_GRACE_MS
 * gets SIGTERM (its whole process group), then SIGKILL; what it says after
 * that is about being stopped (ssh's "Killed by signal 15",
 * "client_loop: send disconnect: Broken pipe" when its ProxyCommand died
 * first) and is dropped, so that the user's one line is ours.
 */
static int
via_stop(struct transport *t)
{
	struct pollfd p;
	long until;
	int ws = 0;
	pid_t r = 0;

	if (t->wfd >= 0 && t->wfd != t->rfd)
		close(t->wfd);
	if (t->rfd >= 0)
		close(t->rfd);
	t->rfd = t->wfd = -1;
	if (t->pid > 0) {
		until = tio_now_ms() + VIA_GRACE_MS;
		while ((r = waitpid(t->pid, &ws, WNOHANG)) == 0 &&
		    tio_now_ms() < until) {
			p.fd = t->errfd;	/* poll ignores a negative fd */
			p.events = POLLIN;
			(void)poll(&p, 1, 20);
			(void)via_read_err(t);
		}
	}
	(void)via_read_err(t);
	if (t->pid > 0 && r == 0) {
		(void)kill(-t->pid, SIGTERM);
		(void)kill(t->pid, SIGTERM);
		until = tio_now_ms() + REAP_MS;
		while ((r = waitpid(t->pid, &ws, WNOHANG)) == 0 &&
		    tio_now_ms() < until)
			(void)poll(NULL, 0, 20);
		if (r == 0) {
			(void)kill(-t->pid, SIGKILL);
			(void)kill(t->pid, SIGKILL);
			(void)waitpid(t->pid, &ws, 0);
		}
	} else if (t->errfd >= 0 && t->errlen > 0)
		via_line(t, t->errline, t->errlen);	/* a last line, unended */
	if (t->errfd >= 0) {
		close(t->errfd);
		t->errfd = -1;
	}
	t->errlen = 0;
	t->pid = 0;
	return ws;
}

const struct transport_ops transport_via = {
	.name = "via", .open = via_open, .read_err = via_read_err,
	.stop = via_stop,
};
