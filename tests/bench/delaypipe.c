/*
 * delaypipe.c: a link with latency, for ssh's ProxyCommand.  The kernel here
 * has no netem, and the lab's ssh reaches sshd through a pipe; this sits in
 * that pipe.
 *
 *   delaypipe MS COMMAND [ARGS...]
 *
 * Runs COMMAND with its stdin and stdout on a socketpair, and copies our
 * stdin to it and its stdout to ours, each chunk held MS milliseconds before
 * it is written: a round trip through it takes 2 x MS more.  Order and
 * bytes are kept; nothing limits the rate (the chunks wait in memory, and
 * a write blocks: meant for request and answer traffic, not bulk).  An
 * end of input is passed on once what came before it has been written.
 * Exits when COMMAND's output has ended and been written out.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define CHUNK	65536

struct chunk {
	struct chunk	*next;
	uint64_t	 due_ns;
	size_t		 len, off;
	uint8_t		 data[];
};

/* One direction: from fd in to fd out, chunks in order of arrival. */
struct dir {
	int		 in, out;
	int		 eof;		/* in has ended */
	struct chunk	*head, *tail;
};

/* Read what in has, as one chunk due delay_ns from now.  0, or -1. */
static int
dir_read(struct dir *d, uint64_t delay_ns)
{
	struct chunk *c;
	ssize_t n;

	if ((c = malloc(sizeof(*c) + CHUNK)) == NULL)
		return -1;
	n = read(d->in, c->data, CHUNK);
	if (n <= 0) {
		free(c);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return 0;
		d->eof = 1;	/* EOF, or an error taken as one */
		return 0;
	}
	c->next = NULL;
	c->due_ns = bench_now_ns() + delay_ns;
	c->len = (size_t)n;
	c->off = 0;
	if (d->tail != NULL)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
	return 0;
}

/*
 * Write the chunks that are due; at the end of input with nothing left,
 * shut the output down.  Returns 0, or -1 when out can take no more.
 */
static int
dir_write(struct dir *d, uint64_t now)
{
	struct chunk *c;
	ssize_t n;

	while ((c = d->head) != NULL && c->due_ns <= now) {
		n = write(d->out, c->data + c->off, c->len - c->off);
		if (n < 0)
			return errno == EINTR || errno == EAGAIN ? 0 : -1;
		c->off += (size_t)n;
		if (c->off < c->len)
			return 0;
		d->head = c->next;
		if (d->head == NULL)
			d->tail = NULL;
		free(c);
	}
	if (d->out < 0)
		return 0;
	if (d->eof && d->head == NULL) {
		if (shutdown(d->out, SHUT_WR) != 0)
			close(d->out);
		d->out = -1;
	}
	return 0;
}

/* Forget d: its output can take no more. */
static void
dir_drop(struct dir *d)
{
	struct chunk *c;

	while ((c = d->head) != NULL) {
		d->head = c->next;
		free(c);
	}
	d->tail = NULL;
	d->eof = 1;
	d->out = -1;
}

/* Milliseconds until d's first chunk is due (0: now), or -1: none. */
static int
dir_wait_ms(const struct dir *d, uint64_t now)
{
	if (d->head == NULL)
		return -1;
	if (d->head->due_ns <= now)
		return 0;
	return (int)((d->head->due_ns - now + 999999) / 1000000);
}

int
main(int argc, char **argv)
{
	struct dir up = { 0 }, down = { 0 };
	struct pollfd p[2];
	uint64_t delay_ns, now;
	long ms;
	pid_t pid;
	int sv[2], i, t, wait_ms, status;

	if (argc < 3) {
		fprintf(stderr, "usage: delaypipe MS COMMAND [ARGS...]\n");
		return 2;
	}
	if ((ms = bench_number("MS", argv[1], 0, 60000)) < 0)
		return 2;
	delay_ns = (uint64_t)ms * 1000000u;
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		perror("delaypipe: socketpair");
		return 1;
	}
	if ((pid = fork()) < 0) {
		perror("delaypipe: fork");
		return 1;
	}
	if (pid == 0) {
		if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
			_exit(127);
		close(sv[0]);
		close(sv[1]);
		execvp(argv[2], argv + 2);
		perror("delaypipe: exec");
		_exit(127);
	}
	close(sv[1]);
	up.in = 0;
	up.out = sv[0];
	down.in = sv[0];
	down.out = 1;
	for (;;) {
		now = bench_now_ns();
		if (dir_write(&up, now) != 0)
			dir_drop(&up);	/* the command stopped reading */
		if (dir_write(&down, now) != 0)
			break;		/* nobody reads us any more */
		/* The command's output has ended and has all been written. */
		if (down.eof && down.out < 0)
			break;
		p[0] = (struct pollfd){ up.eof ? -1 : up.in, POLLIN, 0 };
		p[1] = (struct pollfd){ down.eof ? -1 : down.in, POLLIN, 0 };
		wait_ms = -1;
		for (i = 0; i < 2; i++) {
			t = dir_wait_ms(i == 0 ? &up : &down, now);
			if (t >= 0 && (wait_ms < 0 || t < wait_ms))
				wait_ms = t;
		}
		if (poll(p, 2, wait_ms) < 0 && errno != EINTR) {
			perror("delaypipe: poll");
			break;
		}
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    dir_read(&up, delay_ns) != 0)
			break;
		if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    dir_read(&down, delay_ns) != 0)
			break;
	}
	close(sv[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return 0;
}
