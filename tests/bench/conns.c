/*
 * conns.c: many connections held open at once.
 *
 *   conns [-H] [-p PID]... HOST PORT N KIB
 *
 * 1. Establish: N TCP connections to HOST:PORT (an echo server, perhaps
 *    behind erlfwd-server), opened one after the other; then one byte is
 *    sent on each and its echo read back, so that every connection is known
 *    to reach the echo server.  Timed from the first connect to the last
 *    echo.
 * 2. Hold: with all N idle, read the resident memory and the number of open
 *    file descriptors of process PID (the server under test), to compare
 *    with the same figures read before the first connect.  With several -p
 *    (at most PIDS_MAX: a carrier's agent and its server, say), each
 *    figure is a comma-separated list, one value per PID in their order.
 * 3. Move: all N at once send KIB KiB each, a pattern of their own, and read
 *    it back; every byte is checked.  Timed.
 *
 * Prints one line of key=value pairs (see the printf at the end).  A
 * connection that fails, closes early or echoes a wrong byte counts as lost;
 * the exit status is 0 only when none was.
 *
 * With -H (hold), there is no phase 3: the line is printed after phase 2
 * (move_ms=0, rss_after_kib as rss_idle_kib), and every connection stays
 * open, idle, until the process is killed (SIGTERM), or for HOLD_MAX_S at
 * most: the caller measures what holding them costs while it changes
 * something else (the erlfwd agent killed under them, say).
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define EVENTS_MAX	512
#define MOVE_TIMEOUT_MS	120000
#define PIDS_MAX	4
#define HOLD_MAX_S	600

struct conn {
	int		fd;
	uint32_t	sent, got;
	uint8_t		lost;
};

/* Byte k of connection i's pattern: different per connection and offset. */
static uint8_t
pattern(uint32_t i, uint32_t k)
{
	return (uint8_t)((i * 2654435761u >> 24) ^ (k * 31u) ^ (k >> 8));
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Phase 1.  Returns how many connections were lost; *connect_ns is what the
 * connects alone took.
 */
static long
establish(struct conn *cs, long n, const struct sockaddr_storage *ss,
    socklen_t len, uint64_t *connect_ns)
{
	uint64_t t0 = bench_now_ns();
	struct timeval tv = { 10, 0 };
	long i, lost = 0;
	uint8_t b;
	int one = 1;

	for (i = 0; i < n; i++) {
		cs[i].fd = socket(AF_INET, SOCK_STREAM, 0);
		if (cs[i].fd < 0 ||
		    connect(cs[i].fd, (const struct sockaddr *)ss, len) != 0) {
			fprintf(stderr, "conns: connection %ld: %s\n", i + 1,
			    strerror(errno));
			cs[i].lost = 1;
			lost++;
			continue;
		}
		(void)setsockopt(cs[i].fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		(void)setsockopt(cs[i].fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
		    sizeof(tv));
	}
	*connect_ns = bench_now_ns() - t0;
	/* All the first bytes go out before any echo is read: the hops work
	 * on them together, as they would for N clients. */
	for (i = 0; i < n; i++) {
		b = pattern((uint32_t)i, 0);
		if (!cs[i].lost && send(cs[i].fd, &b, 1, MSG_NOSIGNAL) != 1) {
			cs[i].lost = 1;
			lost++;
		}
	}
	for (i = 0; i < n; i++) {
		if (cs[i].lost)
			continue;
		if (recv(cs[i].fd, &b, 1, MSG_WAITALL) != 1 ||
		    b != pattern((uint32_t)i, 0)) {
			fprintf(stderr, "conns: connection %ld: no echo\n",
			    i + 1);
			cs[i].lost = 1;
			lost++;
		}
	}
	return lost;
}

/* Send what connection i may send now.  Returns 0, or -1 when it failed. */
static int
move_send(struct conn *c, uint32_t i, uint32_t total, uint8_t *buf)
{
	uint32_t k, chunk;
	ssize_t w;

	while (c->sent < total) {
		chunk = total - c->sent < 16384 ? total - c->sent : 16384;
		for (k = 0; k < chunk; k++)
			buf[k] = pattern(i, 1 + c->sent + k);
		w = send(c->fd, buf, chunk, MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->sent += (uint32_t)w;
	}
	return 0;
}

/* Read and check what connection i has.  Returns 0, or -1 when it failed. */
static int
move_recv(struct conn *c, uint32_t i, uint32_t total, uint8_t *buf,
    size_t cap)
{
	ssize_t r, k;

	while (c->got < total) {
		r = recv(c->fd, buf, cap, 0);
		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		if (r == 0 || (uint32_t)r > total - c->got)
			return -1;	/* early EOF, or more than was sent */
		for (k = 0; k < r; k++)
			if (buf[k] != pattern(i, 1 + c->got + (uint32_t)k))
				return -1;
		c->got += (uint32_t)r;
	}
	return 0;
}

/* Phase 3.  Returns how many more connections were lost. */
static long
move(struct conn *cs, long n, uint32_t total)
{
	struct epoll_event ev, evs[EVENTS_MAX];
	static uint8_t buf[65536];
	long i, done = 0, lost = 0, active = 0;
	uint64_t deadline;
	struct conn *c;
	int ep, k, m;

	if ((ep = epoll_create1(0)) < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (cs[i].lost)
			continue;
		(void)fcntl(cs[i].fd, F_SETFL,
		    fcntl(cs[i].fd, F_GETFL) | O_NONBLOCK);
		ev.events = EPOLLIN | EPOLLOUT;
		ev.data.u64 = (uint64_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) != 0) {
			cs[i].lost = 1;
			lost++;
			continue;
		}
		active++;
	}
	deadline = bench_now_ns() + (uint64_t)MOVE_TIMEOUT_MS * 1000000u;
	while (done < active && bench_now_ns() < deadline) {
		if ((m = epoll_wait(ep, evs, EVENTS_MAX, 1000)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (k = 0; k < m; k++) {
			i = (long)evs[k].data.u64;
			c = &cs[i];
			if (c->lost || (c->sent == total && c->got == total))
				continue;
			if (move_send(c, (uint32_t)i, total, buf) != 0 ||
			    move_recv(c, (uint32_t)i, total, buf,
			    sizeof(buf)) != 0) {
				fprintf(stderr, "conns: connection %ld: lost "
				    "after %u of %u bytes back\n", i + 1,
				    c->got, total);
				c->lost = 1;
				lost++;
				done++;
				(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				continue;
			}
			if (c->sent == total) {
				ev.events = EPOLLIN;
				ev.data.u64 = (uint64_t)i;
				(void)epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			}
			if (c->got == total) {
				(void)epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				done++;
			}
		}
	}
	for (i = 0; i < n; i++)
		if (!cs[i].lost && cs[i].got != total) {
			cs[i].lost = 1;
			lost++;
		}
	close(ep);
	return lost;
}

/* The figures of the processes watched, read at one moment. */
struct watch {
	long	rss[PIDS_MAX], fds[PIDS_MAX], hwm[PIDS_MAX];
};

static void
watch_read(struct watch *w, const pid_t *pids, int npids)
{
	int i;

	for (i = 0; i < npids; i++) {
		w->rss[i] = bench_rss_kib(pids[i]);
		w->fds[i] = bench_fd_count(pids[i]);
		w->hwm[i] = bench_hwm_kib(pids[i]);
	}
}

/* v[0..npids) as "a,b,c" in buf (buflen bytes); "-1" with no pid at all. */
static const char *
list(char *buf, size_t buflen, const long *v, int npids)
{
	size_t off = 0;
	int i;

	snprintf(buf, buflen, "-1");
	for (i = 0; i < npids && off < buflen; i++)
		off += (size_t)snprintf(buf + off, buflen - off, "%s%ld",
		    i > 0 ? "," : "", v[i]);
	return buf;
}

static int
usage(void)
{
	fprintf(stderr, "usage: conns [-H] [-p PID]... HOST PORT N KIB\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct watch w0, w1, w2;
	struct conn *cs;
	socklen_t len;
	pid_t pids[PIDS_MAX];
	char b[6][80];
	long n, kib, i, lost, verified = 0;
	uint64_t t0, t_est, t_conn, t_move;
	int ch, npids = 0, hold = 0;

	while ((ch = getopt(argc, argv, "Hp:")) != -1) {
		if (ch == 'H') {
			hold = 1;
			continue;
		}
		if (ch != 'p' || npids == PIDS_MAX ||
		    (pids[npids++] = (pid_t)bench_number("-p", optarg, 1,
		    4194304)) <= 0)
			return usage();
	}
	if (argc - optind != 4)
		return usage();
	if ((n = bench_number("N", argv[optind + 2], 1, 1000000)) < 0 ||
	    (kib = bench_number("KIB", argv[optind + 3], 1, 65536)) < 0)
		return 2;
	if ((len = bench_resolve(argv[optind], argv[optind + 1], &ss)) == 0)
		return 1;
	if ((cs = calloc((size_t)n, sizeof(*cs))) == NULL) {
		perror("conns: calloc");
		return 1;
	}
	watch_read(&w0, pids, npids);

	t0 = bench_now_ns();
	lost = establish(cs, n, &ss, len, &t_conn);
	t_est = bench_now_ns() - t0;

	if (npids > 0)
		pause_ms(200);	/* let the server finish what it was doing */
	watch_read(&w1, pids, npids);

	t0 = bench_now_ns();
	if (!hold)
		lost += move(cs, n, (uint32_t)(kib * 1024));
	t_move = hold ? 0 : bench_now_ns() - t0;
	if (hold)
		w2 = w1;
	else
		watch_read(&w2, pids, npids);

	for (i = 0; i < n; i++)
		if (!cs[i].lost)
			verified++;
	printf("conns=%ld kib=%ld establish_ms=%.1f connect_ms=%.1f "
	    "move_ms=%.1f verified=%ld "
	    "lost=%ld rss_before_kib=%s rss_idle_kib=%s rss_after_kib=%s "
	    "hwm_kib=%s fds_before=%s fds_idle=%s\n", n, kib, t_est / 1e6,
	    t_conn / 1e6, t_move / 1e6, verified, lost,
	    list(b[0], sizeof(b[0]), w0.rss, npids),
	    list(b[1], sizeof(b[1]), w1.rss, npids),
	    list(b[2], sizeof(b[2]), w2.rss, npids),
	    list(b[3], sizeof(b[3]), w2.hwm, npids),
	    list(b[4], sizeof(b[4]), w0.fds, npids),
	    list(b[5], sizeof(b[5]), w1.fds, npids));
	if (hold) {
		/* Idle and open until killed; SIGALRM ends it all the same. */
		fflush(stdout);
		alarm(HOLD_MAX_S);
		for (;;)
			pause();
	}
	for (i = 0; i < n; i++)
		if (cs[i].fd >= 0)
			close(cs[i].fd);
	free(cs);
	return lost == 0 ? 0 : 1;
}
