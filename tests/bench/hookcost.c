/*
 * hookcost.c: what liberlfwd.so's hooks cost on calls that are not theirs.
 *
 *   hookcost [-n CALLS] [-b BATCHES]      defaults 1000 and 21
 *
 * Every call is made two ways, batch after batch, alternating: through the
 * symbol the program links to ("linked": the hook when liberlfwd.so is
 * preloaded) and through the same function looked up in libc.so.6 itself
 * ("libc": never the hook).  Preloaded, linked / libc is the hooks' overhead,
 * measured on the same CPU seconds apart, which keeps what the rest of the
 * machine does out of the ratio; not preloaded, the two are the same function
 * and the ratio shows the method's noise.
 *
 * The calls, each to something no ERLFWD_HOSTS pattern matches:
 *   connect_tcp   connect() of a new TCP socket to 127.0.0.1:P, where P is
 *                 bound but not listening: refused at once, nothing left in
 *                 TIME_WAIT.  Timed one call at a time (the socket() and
 *                 close() around it are not), less the cost of reading the
 *                 clock, measured here too.
 *   connect_udp   connect() of one UDP socket to 127.0.0.1:9, again and
 *                 again: the cheapest connect there is, so the hook's share
 *                 is the largest.
 *   gethostbyname gethostbyname("localhost") (from /etc/hosts).
 *   getaddrinfo   getaddrinfo("localhost", NULL, AF_INET) + freeaddrinfo().
 *
 * After one warm-up batch of each, BATCHES batches of CALLS calls each way.
 * One line per call: op=NAME ns=LINKED libc_ns=LIBC ratio=R, where ns are the
 * medians of the batches' means (ns per call) and R the median of the
 * per-batch ratios linked / libc.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define NAME	"localhost"

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef struct hostent *(*ghbn_fn)(const char *);
typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *,
    struct addrinfo **);

/* One way of making the calls: the linked symbols or libc's own. */
struct way {
	connect_fn	connect;
	ghbn_fn		gethostbyname;
	gai_fn		getaddrinfo;
};

struct ctx {
	const struct way	*w;		/* the way being measured */
	struct sockaddr_in	refused;	/* bound, not listening */
	struct sockaddr_in	discard;	/* 127.0.0.1:9 */
	int			udp;
	uint64_t		clock_ns;	/* one bench_now_ns() pair */
};

/* One batch of n calls; returns the nanoseconds they took, or 0 on error. */
typedef uint64_t (*batch_fn)(struct ctx *, long n);

static uint64_t
batch_clock(struct ctx *c, long n)
{
	uint64_t sum = 0, t0;
	long i;

	(void)c;
	for (i = 0; i < n; i++) {
		t0 = bench_now_ns();
		sum += bench_now_ns() - t0;
	}
	return sum;
}

static uint64_t
batch_connect_tcp(struct ctx *c, long n)
{
	uint64_t sum = 0, t0, t1;
	long i;
	int fd, rc;

	for (i = 0; i < n; i++) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
			return 0;
		t0 = bench_now_ns();
		rc = c->w->connect(fd, (struct sockaddr *)&c->refused,
		    sizeof(c->refused));
		t1 = bench_now_ns();
		close(fd);
		if (rc == 0 || errno != ECONNREFUSED)
			return 0;
		sum += t1 - t0;
	}
	return sum > c->clock_ns * (uint64_t)n ?
	    sum - c->clock_ns * (uint64_t)n : 1;
}

static uint64_t
batch_connect_udp(struct ctx *c, long n)
{
	uint64_t t0 = bench_now_ns();
	long i;

	for (i = 0; i < n; i++)
		if (c->w->connect(c->udp, (struct sockaddr *)&c->discard,
		    sizeof(c->discard)) != 0)
			return 0;
	return bench_now_ns() - t0;
}

static uint64_t
batch_gethostbyname(struct ctx *c, long n)
{
	uint64_t t0 = bench_now_ns();
	long i;

	(void)c;
	for (i = 0; i < n; i++)
		if (c->w->gethostbyname(NAME) == NULL)
			return 0;
	return bench_now_ns() - t0;
}

static uint64_t
batch_getaddrinfo(struct ctx *c, long n)
{
	struct addrinfo hints, *res;
	uint64_t t0 = bench_now_ns();
	long i;

	(void)c;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	for (i = 0; i < n; i++) {
		if (c->w->getaddrinfo(NAME, NULL, &hints, &res) != 0)
			return 0;
		freeaddrinfo(res);
	}
	return bench_now_ns() - t0;
}

static double
median(double *v, long n)
{
	long i, j;
	double x;

	for (i = 1; i < n; i++)	/* a few dozen values: insertion sort */
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			x = v[j];
			v[j] = v[j - 1];
			v[j - 1] = x;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Run fn both ways in nb alternating pairs of batches of n calls, after a
 * warm-up of each.  Sets the medians of the batches' ns per call, linked
 * and libc, and of the per-pair ratios.  Returns 0, or -1 when a call
 * failed.
 */
static int
measure(struct ctx *c, const struct way *ways, batch_fn fn, long n, long nb,
    double out[3])
{
	double *t[3];
	uint64_t ns;
	long i;
	int k, w, rc = -1;

	for (k = 0; k < 3; k++)
		t[k] = calloc((size_t)nb, sizeof(double));
	if (t[0] == NULL || t[1] == NULL || t[2] == NULL)
		goto out;
	for (w = 0; w < 2; w++) {
		c->w = &ways[w];
		if (fn(c, n) == 0)
			goto out;
	}
	for (i = 0; i < nb; i++) {
		for (k = 0; k < 2; k++) {
			/* Alternate which way goes first. */
			w = (int)((i + k) % 2);
			c->w = &ways[w];
			if ((ns = fn(c, n)) == 0)
				goto out;
			t[w][i] = (double)ns / (double)n;
		}
		t[2][i] = t[0][i] / t[1][i];
	}
	for (k = 0; k < 3; k++)
		out[k] = median(t[k], nb);
	rc = 0;
out:
	for (k = 0; k < 3; k++)
		free(t[k]);
	return rc;
}

/* The linked symbols and libc's own.  Returns 0, or -1 (message said). */
static int
find_ways(struct way ways[2])
{
	void *libc;

	ways[0].connect = connect;
	ways[0].gethostbyname = gethostbyname;
	ways[0].getaddrinfo = getaddrinfo;
	if ((libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD)) == NULL) {
		fprintf(stderr, "hookcost: dlopen libc.so.6: %s\n", dlerror());
		return -1;
	}
	ways[1].connect = (connect_fn)dlsym(libc, "connect");
	ways[1].gethostbyname = (ghbn_fn)dlsym(libc, "gethostbyname");
	ways[1].getaddrinfo = (gai_fn)dlsym(libc, "getaddrinfo");
	if (ways[1].connect == NULL || ways[1].gethostbyname == NULL ||
	    ways[1].getaddrinfo == NULL) {
		fprintf(stderr, "hookcost: libc.so.6 lacks a symbol\n");
		return -1;
	}
	return 0;
}

/* The addresses and sockets the calls use.  Returns 0 or -1. */
static int
setup(struct ctx *c)
{
	socklen_t len = sizeof(c->refused);
	int fd;

	memset(c, 0, sizeof(*c));
	c->refused.sin_family = AF_INET;
	c->refused.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Held open, never listening: a connect to it is refused. */
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&c->refused, sizeof(c->refused)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&c->refused, &len) != 0)
		return -1;
	c->discard.sin_family = AF_INET;
	c->discard.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->discard.sin_port = htons(9);
	if ((c->udp = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char	*name;
		batch_fn	 fn;
	} ops[] = {
		{ "connect_tcp", batch_connect_tcp },
		{ "connect_udp", batch_connect_udp },
		{ "gethostbyname", batch_gethostbyname },
		{ "getaddrinfo", batch_getaddrinfo },
	};
	struct way ways[2];
	struct ctx c;
	double r[3];
	long n = 1000, nb = 21;
	size_t i;
	int ch;

	while ((ch = getopt(argc, argv, "n:b:")) != -1) {
		switch (ch) {
		case 'n':
			if ((n = bench_number("-n", optarg, 1, 100000000)) < 0)
				return 2;
			break;
		case 'b':
			if ((nb = bench_number("-b", optarg, 1, 10000)) < 0)
				return 2;
			break;
		default:
			fprintf(stderr, "usage: hookcost [-n CALLS] "
			    "[-b BATCHES]\n");
			return 2;
		}
	}
	if (find_ways(ways) != 0)
		return 1;
	if (setup(&c) != 0) {
		perror("hookcost: setup");
		return 1;
	}
	/* The clock's own cost, to take out of the call-by-call timings. */
	if (measure(&c, ways, batch_clock, 100000, 5, r) != 0)
		return 1;
	c.clock_ns = (uint64_t)r[0];
	printf("op=clock ns=%.1f\n", r[0]);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (measure(&c, ways, ops[i].fn, n, nb, r) != 0) {
			fprintf(stderr, "hookcost: %s failed: %s\n",
			    ops[i].name, strerror(errno));
			return 1;
		}
		printf("op=%s ns=%.1f libc_ns=%.1f ratio=%.4f\n", ops[i].name,
		    r[0], r[1], r[2]);
	}
	return 0;
}
