/*
 * connrtt.c: connection setup cost.  N times, one after the other: a new TCP
 * socket, connect to HOST:PORT (an echo server), send one byte, wait for it
 * to come back, close.  Each iteration is timed from socket() to the echoed
 * byte; the close is left out.
 *
 *   connrtt HOST PORT N
 *
 * HOST goes through getaddrinfo once, so that under liberlfwd.so a host it
 * answers for becomes a sentinel, and every connect goes through the tunnel.
 * Prints one line: n=N mean_us=... p50_us=... p99_us=... total_ms=...
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

/* One connect + 1-byte round trip.  Returns 0, or -1 (errno set). */
static int
once(const struct sockaddr_storage *ss, socklen_t len, uint8_t byte)
{
	uint8_t back = 0;
	int fd, rc = -1, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	/* A single byte must not wait for Nagle on any hop. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)ss, len) == 0 &&
	    send(fd, &byte, 1, MSG_NOSIGNAL) == 1 &&
	    recv(fd, &back, 1, MSG_WAITALL) == 1 && back == byte)
		rc = 0;
	close(fd);
	return rc;
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	uint64_t *t, t0, sum = 0;
	long n, i;

	if (argc != 4) {
		fprintf(stderr, "usage: connrtt HOST PORT N\n");
		return 2;
	}
	if ((n = bench_number("N", argv[3], 1, 10000000)) < 0)
		return 2;
	if ((len = bench_resolve(argv[1], argv[2], &ss)) == 0)
		return 1;
	if ((t = calloc((size_t)n, sizeof(*t))) == NULL) {
		perror("connrtt: calloc");
		return 1;
	}
	for (i = 0; i < n; i++) {
		t0 = bench_now_ns();
		if (once(&ss, len, (uint8_t)('a' + i % 26)) != 0) {
			fprintf(stderr, "connrtt: connection %ld of %ld to "
			    "%s:%s failed\n", i + 1, n, argv[1], argv[2]);
			return 1;
		}
		t[i] = bench_now_ns() - t0;
		sum += t[i];
	}
	qsort(t, (size_t)n, sizeof(*t), bench_cmp_u64);
	printf("n=%ld mean_us=%.2f p50_us=%.2f p99_us=%.2f total_ms=%.1f\n",
	    n, sum / 1e3 / n, t[n / 2] / 1e3, t[n * 99 / 100] / 1e3,
	    sum / 1e6);
	free(t);
	return 0;
}
