/*
 * connrtt.c: connection setup cost.  N times, one after the other: a new TCP
 * socket, connect to HOST:PORT (an echo server), send one byte, wait for it
 * to come back, close.  Each iteration is timed from socket() to the echoed
 * byte; the close is left out.
 *
 *   connrtt [-k] HOST PORT N
 *
 * With -k, one connection is opened (untimed) and kept: each of the N
 * iterations is one byte's round trip on it, the latency of an established
 * path (the round trip a carrier's stream adds, for instance).
 *
 * HOST goes through getaddrinfo once, so that under liberlfwd.so a host it
 * answers for becomes a sentinel, and every connect goes through the tunnel.
 * Prints one line: n=N mean_us=... p50_us=... p99_us=... total_ms=...
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

/* One byte sent on fd and its echo read back.  Returns 0, or -1. */
static int
echo(int fd, uint8_t byte)
{
	uint8_t back = 0;

	if (send(fd, &byte, 1, MSG_NOSIGNAL) == 1 &&
	    recv(fd, &back, 1, MSG_WAITALL) == 1 && back == byte)
		return 0;
	return -1;
}

/* One connect + 1-byte round trip.  Returns 0, or -1 (errno set). */
static int
once(const struct sockaddr_storage *ss, socklen_t len, uint8_t byte)
{
	int fd, rc;

	if ((fd = bench_dial(ss, len)) < 0)
		return -1;
	rc = echo(fd, byte);
	close(fd);
	return rc;
}

static int
usage(void)
{
	fprintf(stderr, "usage: connrtt [-k] HOST PORT N\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	uint64_t *t, t0, sum = 0;
	long n, i;
	int ch, keep = 0, fd = -1, rc = 1;

	while ((ch = getopt(argc, argv, "k")) != -1) {
		if (ch != 'k')
			return usage();
		keep = 1;
	}
	if (argc - optind != 3)
		return usage();
	argv += optind;
	if ((n = bench_number("N", argv[2], 1, 10000000)) < 0)
		return 2;
	if ((len = bench_resolve(argv[0], argv[1], &ss)) == 0)
		return 1;
	if ((t = calloc((size_t)n, sizeof(*t))) == NULL) {
		perror("connrtt: calloc");
		return 1;
	}
	/* The first round trip of a kept connection sets up its path. */
	if (keep && ((fd = bench_dial(&ss, len)) < 0 || echo(fd, '-') != 0)) {
		fprintf(stderr, "connrtt: the connection to %s:%s failed\n",
		    argv[0], argv[1]);
		goto out;
	}
	for (i = 0; i < n; i++) {
		t0 = bench_now_ns();
		if ((keep ? echo(fd, (uint8_t)('a' + i % 26)) :
		    once(&ss, len, (uint8_t)('a' + i % 26))) != 0) {
			fprintf(stderr, "connrtt: %s %ld of %ld to %s:%s "
			    "failed\n", keep ? "round trip" : "connection",
			    i + 1, n, argv[0], argv[1]);
			goto out;
		}
		t[i] = bench_now_ns() - t0;
		sum += t[i];
	}
	qsort(t, (size_t)n, sizeof(*t), bench_cmp_u64);
	printf("n=%ld mean_us=%.2f p50_us=%.2f p99_us=%.2f total_ms=%.1f\n",
	    n, sum / 1e3 / n, t[n / 2] / 1e3, t[n * 99 / 100] / 1e3,
	    sum / 1e6);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(t);
	return rc;
}
