/*
 * echod.c: the benchmarks' echo server.  One thread and epoll; every byte
 * read from a connection is written back on it, and an EOF is answered by
 * closing once everything is written.  An idle connection costs it one slot
 * of a table indexed by fd and no buffer, so its memory per connection is
 * the floor erlfwd-server is compared with.
 *
 *   echod [-l ADDR:PORT]     default 127.0.0.1:0
 *
 * It prints "listening port=N" once it accepts connections and runs until
 * SIGTERM or SIGINT.
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define SCRATCH		65536
#define EVENTS_MAX	256

/* What a connection holds only while its peer does not read fast enough. */
struct peer {
	uint8_t		*pending;
	uint32_t	 off, len;
	uint8_t		 eof;
};

static volatile sig_atomic_t stop;
static struct peer *peers;
static size_t npeers;
static uint8_t scratch[SCRATCH];

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Parse "ADDR:PORT" (IPv4) into sin.  Returns 0 or -1. */
static int
parse_addr(const char *s, struct sockaddr_in *sin)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	long port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if ((port = bench_number("-l", colon + 1, 0, 65535)) < 0)
		return -1;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

static void
drop(int ep, int fd)
{
	(void)epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	free(peers[fd].pending);
	memset(&peers[fd], 0, sizeof(peers[fd]));
	close(fd);
}

static void
want(int ep, int fd, uint32_t events)
{
	struct epoll_event ev;

	ev.events = events;
	ev.data.fd = fd;
	(void)epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

/*
 * Write buf back to fd, keeping what the socket will not take.  Returns 0,
 * or -1 when the connection is to be dropped.
 */
static int
echo(int ep, int fd, const uint8_t *buf, size_t len)
{
	struct peer *p = &peers[fd];
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -1;
			break;
		}
		buf += n;
		len -= (size_t)n;
	}
	if (len == 0)
		return 0;
	if ((p->pending = malloc(len)) == NULL)
		return -1;
	memcpy(p->pending, buf, len);
	p->off = 0;
	p->len = (uint32_t)len;
	want(ep, fd, EPOLLOUT);	/* read nothing more until this is out */
	return 0;
}

/* fd is readable or writable.  Returns 0, or -1 to drop it. */
static int
serve(int ep, int fd, uint32_t events)
{
	struct peer *p = &peers[fd];
	ssize_t n;

	if (p->len > 0) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return 0;
		while (p->len > 0) {
			n = send(fd, p->pending + p->off, p->len, MSG_NOSIGNAL);
			if (n < 0)
				return errno == EAGAIN || errno == EINTR ? 0 : -1;
			p->off += (uint32_t)n;
			p->len -= (uint32_t)n;
		}
		free(p->pending);
		p->pending = NULL;
		if (p->eof)
			return -1;
		want(ep, fd, EPOLLIN);
		return 0;
	}
	n = recv(fd, scratch, sizeof(scratch), 0);
	if (n > 0)
		return echo(ep, fd, scratch, (size_t)n);
	if (n == 0) {
		p->eof = 1;
		return -1;
	}
	return errno == EAGAIN || errno == EINTR ? 0 : -1;
}

static void
accept_all(int ep, int lfd)
{
	struct epoll_event ev;
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		if ((size_t)fd >= npeers) {
			close(fd);	/* cannot happen below RLIMIT_NOFILE */
			continue;
		}
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			close(fd);
	}
}

int
main(int argc, char **argv)
{
	struct epoll_event ev, evs[EVENTS_MAX];
	struct sockaddr_in sin;
	struct sigaction sa;
	struct rlimit rl;
	socklen_t len = sizeof(sin);
	int ch, ep, lfd, i, n, one = 1;

	if (parse_addr("127.0.0.1:0", &sin) != 0)
		return 1;
	while ((ch = getopt(argc, argv, "l:")) != -1) {
		if (ch != 'l' || parse_addr(optarg, &sin) != 0) {
			fprintf(stderr, "usage: echod [-l ADDR:PORT]\n");
			return 2;
		}
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		rl.rlim_cur = 1024;
	npeers = (size_t)rl.rlim_cur;
	if ((peers = calloc(npeers, sizeof(*peers))) == NULL) {
		perror("echod: calloc");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(lfd, 4096) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) != 0) {
		perror("echod: listen");
		return 1;
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("echod: epoll_create1");
		return 1;
	}
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	(void)epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	printf("listening port=%u\n", (unsigned)ntohs(sin.sin_port));
	fflush(stdout);

	while (!stop) {
		if ((n = epoll_wait(ep, evs, EVENTS_MAX, -1)) < 0) {
			if (errno == EINTR)
				continue;
			perror("echod: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == lfd)
				accept_all(ep, lfd);
			else if (serve(ep, evs[i].data.fd, evs[i].events) != 0)
				drop(ep, evs[i].data.fd);
		}
	}
	return 0;
}
