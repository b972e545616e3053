/*
 * resumertt.c: what a carrier's resume costs the first byte, against a
 * fresh carrier's.  It drives the carrier engine itself (tools/common/mux.c)
 * as the agent does, a client that asks for resume, against a real
 * erlfwd-server (through whatever forward HOST:PORT is):
 *
 *   resumertt HOST PORT TARGET N
 *
 * Each of N iterations (after one untimed, the path's warm-up):
 *
 *  fresh   a new TCP carrier to HOST:PORT; from the moment connect()
 *          returns: a new mux (a new session: its hello, the server's, NEW),
 *          a stream to 127.0.0.1:TARGET on the server's side (OPEN, DATA
 *          tag, an echo server there), whose local end is one end of a
 *          socketpair; one byte written there, until its echo is read back.
 *  resume  the same session: its carrier dropped (shutdown(2), so that the
 *          mux reads EOF and keeps the session: MUX_DETACHED, checked), one
 *          byte written on the stream while no carrier holds it, OUTAGE_MS
 *          of outage, then a new TCP carrier; from the moment connect()
 *          returns: mux_attach() (our hello, the server's, RESUME, ACCEPT,
 *          then the byte), until its echo is read back.  The session must
 *          have been resumed (mux_stats()'s resumes), not started anew.
 *
 * Each carrier's time up to the server's hello is noted too (hello_*): the
 * rest is what the open, or the resume, adds after it.  The session then
 * ends with GOAWAY, as the agent's does, so the server keeps nothing.
 *
 * Prints one line: n=N fresh_p50_us=... fresh_p99_us=... resume_p50_us=...
 * resume_p99_us=... fresh_hello_p50_us=... resume_hello_p50_us=...
 * ratio_p50=... (resume_p50 / fresh_p50).
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "carrier.h"
#include "ep.h"
#include "frame.h"
#include "mux.h"
#include "tio.h"

#define WAIT_MS		10000	/* any one step, at most */
#define OUTAGE_MS	20	/* the server sees the old carrier go first */
#define PING_MS		15000	/* the agent's default */
#define DEAD_PINGS	3

/* Wait for m's descriptors or its next timer, at most until deadline. */
static void
wait_mux(struct mux *m, long deadline)
{
	struct ep_event evs[8];
	long now = tio_now_ms();
	int t = mux_timeout(m, now);

	if (t < 0 || t > deadline - now)
		t = deadline - now > 0 ? (int)(deadline - now) : 0;
	(void)ep_wait(mux_fd(m), evs, 8, t);
}

/*
 * Run m until byte comes back on local (the stream's other end).  *hello
 * (ns), when 0, is set when m is first MUX_OPEN: the server's hello came.
 * Returns 0 with *at (ns) set, or -1 (what went wrong on stderr).
 */
static int
until_echo(struct mux *m, int local, uint8_t byte, uint64_t *hello,
    uint64_t *at)
{
	long deadline = tio_now_ms() + WAIT_MS;
	enum mux_state st;
	uint8_t b;
	ssize_t n;

	for (;;) {
		st = mux_run(m, tio_now_ms());
		if (st == MUX_OPEN && *hello == 0)
			*hello = bench_now_ns();
		n = recv(local, &b, 1, MSG_DONTWAIT);
		if (n == 1) {
			*at = bench_now_ns();
			if (b == byte)
				return 0;
			fprintf(stderr, "resumertt: echo 0x%02x, not 0x%02x\n",
			    b, byte);
			return -1;
		}
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)) {
			fprintf(stderr, "resumertt: the stream ended: %s\n",
			    n == 0 ? "EOF" : strerror(errno));
			return -1;
		}
		if (st == MUX_ENDED || st == MUX_DETACHED) {
			fprintf(stderr, "resumertt: the carrier %s: %s\n",
			    st == MUX_ENDED ? "ended" : "was lost",
			    mux_why(m));
			return -1;
		}
		if (tio_now_ms() >= deadline) {
			fprintf(stderr, "resumertt: no echo in %d ms\n",
			    WAIT_MS);
			return -1;
		}
		wait_mux(m, deadline);
	}
}

/* Run m until it is in state want (or ended, or the deadline).  0 or -1. */
static int
until_state(struct mux *m, enum mux_state want, uint64_t *at)
{
	long deadline = tio_now_ms() + WAIT_MS;
	enum mux_state st;

	for (;;) {
		if ((st = mux_run(m, tio_now_ms())) == want) {
			*at = bench_now_ns();
			return 0;
		}
		if (st == MUX_ENDED || tio_now_ms() >= deadline) {
			fprintf(stderr, "resumertt: not %d but %d: %s\n", want,
			    st, mux_why(m));
			return -1;
		}
		wait_mux(m, deadline);
	}
}

struct iter {
	uint64_t fresh, resume;		/* from connect() to the echo */
	uint64_t fresh_hello, resume_hello; /* from connect() to its hello */
};

/*
 * One fresh carrier and stream, then its resume; the session ended after.
 * Returns 0 with *it filled, or -1.
 */
static int
once(const struct sockaddr_storage *ss, socklen_t len, uint16_t target,
    const uint8_t *hello, size_t hello_len, uint8_t byte, struct iter *it)
{
	struct mux_opts mo = { 0 };
	struct mux_stats st0, st1;
	struct mux *m = NULL;
	struct timespec outage = { 0, OUTAGE_MS * 1000000L };
	uint64_t t0, th = 0, t1;
	int fd, sp[2] = { -1, -1 }, rc = -1;

	/* The same pause as the outage below: both carriers start from a
	 * machine idle for as long (a process woken after a pause answers
	 * slower than one that was just busy). */
	nanosleep(&outage, NULL);
	if ((fd = bench_dial(ss, len)) < 0) {
		perror("resumertt: connect");
		return -1;
	}
	t0 = bench_now_ns();
	mo.role = MUX_CLIENT;
	mo.rfd = mo.wfd = fd;
	mo.expect_hello = 1;
	mo.hello = hello;
	mo.hello_len = hello_len;
	mo.ping_ms = PING_MS;
	mo.dead_pings = DEAD_PINGS;
	mo.resume = 1;
	if ((m = mux_new(&mo, NULL, NULL, tio_now_ms())) == NULL) {
		perror("resumertt: mux_new");
		goto out;
	}
	if (until_state(m, MUX_OPEN, &th) != 0)
		goto out;
	if (mux_session_id(m) == NULL) {
		fprintf(stderr, "resumertt: the server offered no resume\n");
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) != 0) {
		perror("resumertt: socketpair");
		goto out;
	}
	if (mux_open(m, sp[0], FRAME_TAG_DIST, target, NULL, 0) == 0) {
		perror("resumertt: mux_open");
		close(sp[0]);
		goto out;
	}
	sp[0] = -1;	/* the mux's now */
	if (send(sp[1], &byte, 1, MSG_NOSIGNAL) != 1) {
		perror("resumertt: send");
		goto out;
	}
	if (until_echo(m, sp[1], byte, &th, &t1) != 0)
		goto out;
	it->fresh = t1 - t0;
	it->fresh_hello = th - t0;

	/* The carrier drops with no goodbye: the session stays. */
	(void)shutdown(fd, SHUT_RDWR);
	if (until_state(m, MUX_DETACHED, &t1) != 0)
		goto out;
	close(fd);
	fd = -1;
	byte ^= 0x20;
	if (send(sp[1], &byte, 1, MSG_NOSIGNAL) != 1) {
		perror("resumertt: send");
		goto out;
	}
	(void)mux_run(m, tio_now_ms());	/* served while detached */
	nanosleep(&outage, NULL);
	mux_stats(m, &st0);
	if ((fd = bench_dial(ss, len)) < 0) {
		perror("resumertt: connect");
		goto out;
	}
	t0 = bench_now_ns();
	if (mux_attach(m, fd, fd, tio_now_ms()) != 0) {
		perror("resumertt: mux_attach");
		goto out;
	}
	th = 0;
	if (until_echo(m, sp[1], byte, &th, &t1) != 0)
		goto out;
	mux_stats(m, &st1);
	if (st1.resumes != st0.resumes + 1 ||
	    st1.sessions_gone != st0.sessions_gone) {
		fprintf(stderr, "resumertt: the session was not resumed\n");
		goto out;
	}
	it->resume = t1 - t0;
	it->resume_hello = th - t0;
	rc = 0;
out:
	if (m != NULL) {
		/* The session's end, said: nothing is kept for it. */
		if (mux_run(m, tio_now_ms()) == MUX_OPEN) {
			mux_end(m, MUX_END_LOCAL, CARRIER_GA_NORMAL,
			    "the benchmark is done");
			(void)until_state(m, MUX_ENDED, &t1);
		}
		mux_free(m);
	}
	if (fd >= 0)
		close(fd);
	if (sp[1] >= 0)
		close(sp[1]);
	return rc;
}

static uint64_t
p(uint64_t *v, long n, int pct)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_u64);
	return v[n * pct / 100];
}

static int
usage(void)
{
	fprintf(stderr, "usage: resumertt HOST PORT TARGET N\n");
	return 2;
}

int
main(int argc, char **argv)
{
	uint8_t hello[FRAME_HDR_LEN + CARRIER_HELLO_MAX];
	struct sockaddr_storage ss;
	struct iter it;
	uint64_t *f, *r, *fh, *rh, f50, r50;
	socklen_t len;
	long n, i, target;
	int hl, rc = 1;

	if (argc != 5)
		return usage();
	if ((target = bench_number("TARGET", argv[3], 1, 65535)) < 0 ||
	    (n = bench_number("N", argv[4], 1, 1000000)) < 0)
		return 2;
	if ((len = bench_resolve(argv[1], argv[2], &ss)) == 0)
		return 1;
	/* The agent's hello: it asks for resume. */
	if ((hl = carrier_hello(hello, sizeof(hello), ERLFWD_VERSION, 0,
	    1)) < 0) {
		fprintf(stderr, "resumertt: carrier_hello failed\n");
		return 1;
	}
	f = calloc((size_t)n, sizeof(*f));
	r = calloc((size_t)n, sizeof(*r));
	fh = calloc((size_t)n, sizeof(*fh));
	rh = calloc((size_t)n, sizeof(*rh));
	if (f == NULL || r == NULL || fh == NULL || rh == NULL) {
		perror("resumertt: calloc");
		goto done;
	}
	/* The first carrier through a path sets it up (ssh's first channel,
	 * the server's first session): not timed. */
	if (once(&ss, len, (uint16_t)target, hello, (size_t)hl, '-',
	    &it) != 0) {
		fprintf(stderr, "resumertt: the warm-up through %s:%s failed\n",
		    argv[1], argv[2]);
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (once(&ss, len, (uint16_t)target, hello, (size_t)hl,
		    (uint8_t)('a' + i % 26), &it) != 0) {
			fprintf(stderr, "resumertt: iteration %ld of %ld "
			    "failed\n", i + 1, n);
			goto done;
		}
		f[i] = it.fresh;
		r[i] = it.resume;
		fh[i] = it.fresh_hello;
		rh[i] = it.resume_hello;
	}
	f50 = p(f, n, 50);
	r50 = p(r, n, 50);
	printf("n=%ld fresh_p50_us=%.2f fresh_p99_us=%.2f resume_p50_us=%.2f "
	    "resume_p99_us=%.2f fresh_hello_p50_us=%.2f "
	    "resume_hello_p50_us=%.2f ratio_p50=%.4f\n", n, f50 / 1e3,
	    p(f, n, 99) / 1e3, r50 / 1e3, p(r, n, 99) / 1e3,
	    p(fh, n, 50) / 1e3, p(rh, n, 50) / 1e3,
	    f50 > 0 ? (double)r50 / (double)f50 : 0.0);
	rc = 0;
done:
	free(f);
	free(r);
	free(fh);
	free(rh);
	return rc;
}
