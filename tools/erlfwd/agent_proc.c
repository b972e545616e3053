/*
 * agent_proc.c: the agent as a process (agent.h): in the foreground
 * (agent_run), or forked for a session (agent_start), which waits for the
 * one line the child reports on a pipe about its first carrier:
 *
 *   UP PORT                         up; the agent listens on 127.0.0.1:PORT
 *   V1 | V1 answered                the route speaks only version 1
 *   FAIL STATUS CAUSE MESSAGE       no carrier: the exit status, why
 *                                   (mux_end_name()) and one line for people
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_int.h"
#include "cli.h"
#include "plat.h"

int
agent_run(const struct agent_opts *o)
{
	struct agent a;
	char why[300];

	if (agent_init(&a, o, why, sizeof(why)) != 0) {
		cli_msg("%s", why);
		agent_fini(&a);
		return CLI_LOCAL;
	}
	a.foreground = 1;
	agent_loop(&a);
	agent_fini(&a);
	return a.status;
}

/* The agent's process: detached from the terminal's signals, dies with us. */
static void
agent_child(const struct agent_opts *o, int report_fd, pid_t parent)
{
	struct agent a;
	char why[300];
	int null;

	(void)setpgid(0, 0);
	if (plat_die_with_parent(parent) != 0)
		_exit(0);
	/* Only the report pipe and stderr: the terminal is the shell's. */
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		(void)dup2(null, 0);
		(void)dup2(null, 1);
		close(null);
	}
	if (dup2(report_fd, 3) < 0)
		_exit(CLI_LOCAL);
	plat_close_from(4);
	(void)fcntl(3, F_SETFD, FD_CLOEXEC);
	if (agent_init(&a, o, why, sizeof(why)) != 0) {
		dprintf(3, "FAIL %d %s %s", CLI_LOCAL,
		    mux_end_name(MUX_END_NONE), why);
		_exit(CLI_LOCAL);
	}
	a.report_fd = 3;
	agent_loop(&a);
	agent_fini(&a);
	_exit(a.status);
}

enum agent_result
agent_start(const struct agent_opts *o, uint16_t *port, pid_t *pid,
    char *err, size_t errlen, int *status, enum mux_end_cause *cause)
{
	char line[600], name[32];
	size_t len = 0;
	ssize_t n;
	int p[2], ws, code, off = 0;
	unsigned v;
	pid_t child;

	*status = CLI_LOCAL;
	*cause = MUX_END_NONE;
	if (plat_pipe(p) != 0) {
		snprintf(err, errlen, "cannot start the agent: %s",
		    strerror(errno));
		return AGENT_FAILED;
	}
	fflush(NULL);
	if ((child = fork()) < 0) {
		snprintf(err, errlen, "cannot start the agent: %s",
		    strerror(errno));
		close(p[0]);
		close(p[1]);
		return AGENT_FAILED;
	}
	if (child == 0) {
		close(p[0]);
		agent_child(o, p[1], getppid());
	}
	close(p[1]);
	while (len < sizeof(line) - 1 &&
	    (n = read(p[0], line + len, sizeof(line) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	close(p[0]);
	line[len] = '\0';
	if (sscanf(line, "UP %u", &v) == 1 && v > 0 && v < 65536) {
		*port = (uint16_t)v;
		*pid = child;
		return AGENT_UP;
	}
	(void)waitpid(child, &ws, 0);
	if (strcmp(line, "V1") == 0 || strcmp(line, "V1 answered") == 0) {
		*status = line[2] != '\0';	/* the route took the connection */
		return AGENT_V1;
	}
	if (sscanf(line, "FAIL %d %31s %n", &code, name, &off) == 2 &&
	    off > 0) {
		*status = code;
		*cause = mux_end_parse(name);
		snprintf(err, errlen, "%s", line + off);
	} else
		snprintf(err, errlen, "the agent ended before its carrier "
		    "was up");
	return AGENT_FAILED;
}
