/*
 * peer.c: the far ends of erlfwd-server's connections, for the end-to-end
 * scenarios that need more control over a socket than socat gives: which
 * side half-closes first, a reset rather than an EOF, a thousand connections
 * held at once, clients that vanish while the server writes to them.  The
 * scenario that needs it builds it (e2e_cc peer, with preload/common/tio.c
 * for the waits and writes).  It knows nothing of the
 * erlfwd protocol: a client's first bytes (the preamble) are given in hex.
 *
 *   peer target PORT
 *	Listen on 127.0.0.1:PORT.  Each connection, served in a child process
 *	of its own, starts with one case byte; the target plays its part of
 *	that case and prints one line, "target case=C got=TEXT end=HOW".
 *   peer case PORT HEX C
 *	Connect to 127.0.0.1:PORT, send the bytes HEX and the case byte C,
 *	play the client's part and print "client case=C got=TEXT end=HOW".
 *   peer hold PORT N HEX SECONDS
 *	Open N connections and send HEX on each; print "held N" once all are
 *	open, then wait until the peer has closed every one of them or
 *	SECONDS have passed, and print "closed=K eof=E reset=R open=O ms=T"
 *	(T: from "held" to the last close).
 *   peer vanish PORT HEX ROUNDS BYTES
 *	ROUNDS times: connect, send HEX and case byte 's' (the target streams
 *	until the connection breaks), read BYTES, then go away without reading
 *	the rest: a reset on odd rounds, a plain close (the kernel resets, as
 *	data is unread) on even ones.  Prints "vanished=ROUNDS bytes=TOTAL".
 *   peer hit PORT HEX N
 *	N times: connect, send HEX and go away at once (reset on odd rounds,
 *	close on even ones).  Prints "hit=N".
 *
 * The cases (client's part / target's part):
 *   c  the client half-closes first: the client sends "client-data" and
 *	shuts its write side, then reads to the end; the target reads to
 *	EOF, then replies "target-saw-eof:N" (N: bytes it read) and closes.
 *   t  the target half-closes first: the target sends "target-data" and
 *	shuts its write side, then reads to the end; the client reads to EOF,
 *	then sends "client-saw-eof:N", shuts its write side, reads to the end.
 *   r  the target resets: the target closes with SO_LINGER 0 as soon as it
 *	has the case byte; the client reads until the end.
 *   R  the client resets: the target sends "ready"; the client reads it
 *	and closes with SO_LINGER 0; the target reads until the end.
 *   C  like c with a bulk: the client sends 8 MiB of a pattern and shuts
 *	its write side; the target waits a moment before reading, so that
 *	the relay in between has to hold bytes back, reads and checks them
 *	to EOF, then replies "target-saw-eof:N ok" (or "corrupt").
 *   T  like t with a bulk: the target sends 8 MiB of the pattern and shuts
 *	its write side; the client waits a moment, reads and checks them to
 *	EOF, then sends "client-saw-eof:N ok" (or "corrupt") and shuts.
 *   s  the target streams zeros until a write fails.
 *
 * HOW is "eof" (a clean end of stream), "reset" (ECONNRESET), "timeout"
 * (nothing for 10 s) or an errno's text.  Exit status: 0 when the part was
 * played (whatever HOW was), 1 on a setup error, 2 on a usage error.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tio.h"

#define IO_TIMEOUT_MS	10000	/* any single wait; then "timeout" */
#define GOT_MAX		256	/* the text a case reads and prints */
#define PREFIX_MAX	256
#define BULK		(8 << 20)	/* cases C and T: more than buffers hold */
#define BULK_PAUSE_US	300000		/* ... once they are full */

static uint8_t prefix[PREFIX_MAX];
static size_t prefixlen;

/* Parse a decimal in [lo, hi] or end with a usage error. */
static long
number(const char *what, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi)
		errx(2, "%s: '%s' is not a number in %ld..%ld", what, s, lo, hi);
	return v;
}

/* Decode the hex string s into prefix[]; a usage error when it is not hex. */
static void
set_prefix(const char *s)
{
	unsigned int b;
	size_t n = strlen(s);

	if (n % 2 != 0 || n / 2 > sizeof(prefix))
		errx(2, "HEX: an even number of hex digits, at most %zu bytes",
		    sizeof(prefix));
	for (prefixlen = 0; prefixlen < n / 2; prefixlen++) {
		if (sscanf(s + 2 * prefixlen, "%2x", &b) != 1)
			errx(2, "HEX: '%s' is not hex", s);
		prefix[prefixlen] = (uint8_t)b;
	}
}

/* 127.0.0.1:port. */
static struct sockaddr_in
loopback(long port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

/*
 * Wait up to IO_TIMEOUT_MS for events on fd.  Returns 1 when they came, 0 on
 * a timeout, -1 with errno set on an error.
 */
static int
wait_fd(int fd, short events)
{
	if (tio_wait(fd, events, tio_now_ms() + IO_TIMEOUT_MS) == 0)
		return 1;
	return errno == ETIMEDOUT ? 0 : -1;
}

/*
 * Connect a blocking TCP socket to 127.0.0.1:port, giving up after
 * IO_TIMEOUT_MS.  Returns the socket, or -1 with errno set.
 */
static int
dial(long port)
{
	struct sockaddr_in sin = loopback(port);
	struct timeval tv = { .tv_sec = IO_TIMEOUT_MS / 1000 };
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	/* A blocking connect that honours SO_SNDTIMEO: bounded. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * Write all len bytes of buf (tio.h's loop: short writes, EINTR, no
 * SIGPIPE), waiting for room at most IO_TIMEOUT_MS.  Returns 0, or -1 with
 * errno set.
 */
static int
write_all(int fd, const void *buf, size_t len)
{
	return tio_write_all(fd, buf, len, tio_now_ms() + IO_TIMEOUT_MS);
}

/*
 * Read from fd until the end of the stream, keeping the first cap - 1 bytes
 * in got (NUL-terminated; *total counts them all), and say how it ended:
 * "eof", "reset", "timeout" or an errno's text.
 */
static const char *
read_to_end(int fd, char *got, size_t cap, size_t *total)
{
	char buf[4096];
	size_t keep;
	ssize_t n;
	int w;

	*total = 0;
	got[0] = '\0';
	for (;;) {
		if ((w = wait_fd(fd, POLLIN)) == 0)
			return "timeout";
		if (w < 0)
			return strerror(errno);
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			return "eof";
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECONNRESET ? "reset" : strerror(errno);
		}
		keep = *total < cap - 1 ? cap - 1 - *total : 0;
		if (keep > (size_t)n)
			keep = (size_t)n;
		memcpy(got + *total, buf, keep);
		*total += (size_t)n;
		got[*total < cap - 1 ? *total : cap - 1] = '\0';
	}
}

/* The bulk cases' bytes: byte i of the stream is i mod 251. */
static void
pattern(uint8_t *buf, size_t len, uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)((off + i) % 251);
}

/*
 * Send BULK pattern bytes.  Returns 0, or -1 with errno set.
 */
static int
send_bulk(int fd)
{
	uint8_t buf[65536];
	uint64_t off;

	for (off = 0; off < BULK; off += sizeof(buf)) {
		pattern(buf, sizeof(buf), off);
		if (write_all(fd, buf, sizeof(buf)) != 0)
			return -1;
	}
	return 0;
}

/*
 * Read pattern bytes to the end of the stream; *total counts them, *ok says
 * whether each was the pattern's.  Returns how the stream ended, as
 * read_to_end does.
 */
static const char *
read_bulk(int fd, uint64_t *total, int *ok)
{
	uint8_t buf[65536], want[65536];
	ssize_t n;
	int w;

	*total = 0;
	*ok = 1;
	for (;;) {
		if ((w = wait_fd(fd, POLLIN)) == 0)
			return "timeout";
		if (w < 0)
			return strerror(errno);
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			return "eof";
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECONNRESET ? "reset" : strerror(errno);
		}
		pattern(want, (size_t)n, *total);
		if (memcmp(buf, want, (size_t)n) != 0)
			*ok = 0;
		*total += (uint64_t)n;
	}
}

/* Close fd with a reset (SO_LINGER 0) rather than a FIN. */
static void
close_reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* One whole line on stdout, in one write (children share the file). */
static void
say(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDOUT_FILENO, line, (size_t)n);
}

/* The target's part of one connection; the case byte comes first. */
static void
target_conn(int fd)
{
	static const uint8_t zeros[65536];
	char got[GOT_MAX], reply[64];
	const char *how;
	size_t total;
	uint64_t sent = 0;
	uint8_t c;
	int n, ok;

	if (wait_fd(fd, POLLIN) <= 0 || recv(fd, &c, 1, 0) != 1) {
		say("target case=? got= end=no-case-byte");
		return;
	}
	switch (c) {
	case 'c':
		how = read_to_end(fd, got, sizeof(got), &total);
		n = snprintf(reply, sizeof(reply), "target-saw-eof:%zu", total);
		if (strcmp(how, "eof") == 0 &&
		    write_all(fd, reply, (size_t)n) != 0)
			how = "reply-failed";
		say("target case=c got=%s end=%s", got, how);
		close(fd);
		return;
	case 't':
		if (write_all(fd, "target-data", 11) != 0 ||
		    shutdown(fd, SHUT_WR) != 0) {
			say("target case=t got= end=%s", strerror(errno));
			close(fd);
			return;
		}
		how = read_to_end(fd, got, sizeof(got), &total);
		say("target case=t got=%s end=%s", got, how);
		close(fd);
		return;
	case 'r':
		say("target case=r got= end=sent-reset");
		close_reset(fd);
		return;
	case 'R':
		if (write_all(fd, "ready", 5) != 0) {
			say("target case=R got= end=%s", strerror(errno));
			close(fd);
			return;
		}
		how = read_to_end(fd, got, sizeof(got), &total);
		say("target case=R got=%s end=%s", got, how);
		close(fd);
		return;
	case 'C':
		usleep(BULK_PAUSE_US);
		how = read_bulk(fd, &sent, &ok);
		n = snprintf(reply, sizeof(reply), "target-saw-eof:%llu %s",
		    (unsigned long long)sent, ok ? "ok" : "corrupt");
		if (strcmp(how, "eof") == 0 &&
		    write_all(fd, reply, (size_t)n) != 0)
			how = "reply-failed";
		say("target case=C got=%llu-bytes-%s end=%s",
		    (unsigned long long)sent, ok ? "ok" : "corrupt", how);
		close(fd);
		return;
	case 'T':
		if (send_bulk(fd) != 0 || shutdown(fd, SHUT_WR) != 0) {
			say("target case=T got= end=%s", strerror(errno));
			close(fd);
			return;
		}
		how = read_to_end(fd, got, sizeof(got), &total);
		say("target case=T got=%s end=%s", got, how);
		close(fd);
		return;
	case 's':
		while (write_all(fd, zeros, sizeof(zeros)) == 0)
			sent += sizeof(zeros);
		say("target case=s sent=%llu end=%s", (unsigned long long)sent,
		    errno == ECONNRESET ? "reset" : strerror(errno));
		close(fd);
		return;
	default:
		say("target case=%c got= end=unknown-case", c);
		close(fd);
		return;
	}
}

/* peer target PORT: serve forever, one child per connection. */
static int
cmd_target(long port)
{
	struct sockaddr_in sin = loopback(port);
	int lfd, fd, on = 1;

	/* Children are reaped by the kernel; a write to a gone peer is EPIPE. */
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(lfd, 1024) != 0)
		err(1, "listen on 127.0.0.1:%ld", port);
	say("target listening port=%ld", port);
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			err(1, "accept");
		}
		switch (fork()) {
		case -1:
			warn("fork");
			close(fd);
			break;
		case 0:
			close(lfd);
			target_conn(fd);
			_exit(0);
		default:
			close(fd);
		}
	}
}

/* peer case PORT HEX C: the client's part of case C. */
static int
cmd_case(long port, char c)
{
	char got[GOT_MAX], msg[64];
	const char *how;
	size_t total;
	uint64_t bulk;
	int fd, n, ok;

	if ((fd = dial(port)) < 0)
		err(1, "connect to 127.0.0.1:%ld", port);
	prefix[prefixlen] = (uint8_t)c;	/* set_prefix left room for it */
	if (write_all(fd, prefix, prefixlen + 1) != 0)
		err(1, "send");
	switch (c) {
	case 'c':
		if (write_all(fd, "client-data", 11) != 0 ||
		    shutdown(fd, SHUT_WR) != 0)
			err(1, "send, shutdown");
		how = read_to_end(fd, got, sizeof(got), &total);
		break;
	case 't':
		how = read_to_end(fd, got, sizeof(got), &total);
		if (strcmp(how, "eof") != 0)
			break;
		/* Our side is still open for writing: answer after the EOF. */
		n = snprintf(msg, sizeof(msg), "client-saw-eof:%zu", total);
		if (write_all(fd, msg, (size_t)n) != 0 ||
		    shutdown(fd, SHUT_WR) != 0) {
			how = strerror(errno);
			break;
		}
		how = read_to_end(fd, msg, sizeof(msg), &total);
		if (total != 0)
			how = "bytes-after-eof";
		break;
	case 'C':
		if (send_bulk(fd) != 0 || shutdown(fd, SHUT_WR) != 0)
			err(1, "send, shutdown");
		how = read_to_end(fd, got, sizeof(got), &total);
		break;
	case 'T':
		usleep(BULK_PAUSE_US);
		how = read_bulk(fd, &bulk, &ok);
		n = snprintf(got, sizeof(got), "%llu-bytes-%s",
		    (unsigned long long)bulk, ok ? "ok" : "corrupt");
		if (strcmp(how, "eof") != 0)
			break;
		n = snprintf(msg, sizeof(msg), "client-saw-eof:%llu %s",
		    (unsigned long long)bulk, ok ? "ok" : "corrupt");
		if (write_all(fd, msg, (size_t)n) != 0 ||
		    shutdown(fd, SHUT_WR) != 0) {
			how = strerror(errno);
			break;
		}
		how = read_to_end(fd, msg, sizeof(msg), &total);
		if (total != 0)
			how = "bytes-after-eof";
		break;
	case 'r':
		how = read_to_end(fd, got, sizeof(got), &total);
		break;
	case 'R':
		got[0] = '\0';
		how = "no-ready";
		if (wait_fd(fd, POLLIN) > 0 && (n = (int)recv(fd, got, 5, 0)) > 0) {
			got[n] = '\0';
			how = "sent-reset";
		}
		close_reset(fd);
		say("client case=R got=%s end=%s", got, how);
		return 0;
	default:
		errx(2, "unknown case '%c'", c);
	}
	say("client case=%c got=%s end=%s", c, got, how);
	close(fd);
	return 0;
}

/* peer hold PORT N HEX SECONDS. */
static int
cmd_hold(long port, long n, long secs)
{
	struct pollfd *p;
	long i, open, eof = 0, reset = 0, t0, deadline, last, left;
	char buf[512];
	ssize_t r;
	int w;

	if ((p = calloc((size_t)n, sizeof(*p))) == NULL)
		err(1, "calloc");
	for (i = 0; i < n; i++) {
		if ((p[i].fd = dial(port)) < 0)
			err(1, "connection %ld of %ld", i + 1, n);
		if (write_all(p[i].fd, prefix, prefixlen) != 0)
			err(1, "send on connection %ld", i + 1);
		p[i].events = POLLIN;
	}
	say("held %ld", n);
	t0 = last = tio_now_ms();
	deadline = t0 + secs * 1000;
	for (open = n; open > 0 && (left = deadline - tio_now_ms()) > 0;) {
		w = poll(p, (nfds_t)n, (int)left);
		if (w < 0 && errno != EINTR)
			err(1, "poll");
		for (i = 0; w > 0 && i < n; i++) {
			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			r = recv(p[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r > 0 || (r < 0 && (errno == EAGAIN ||
			    errno == EINTR)))
				continue;	/* a reply: keep waiting */
			if (r == 0)
				eof++;
			else
				reset++;
			close(p[i].fd);
			p[i].fd = -1;
			open--;
			last = tio_now_ms();
		}
	}
	say("closed=%ld eof=%ld reset=%ld open=%ld ms=%ld", n - open, eof,
	    reset, open, last - t0);
	return 0;
}

/* peer vanish PORT HEX ROUNDS BYTES. */
static int
cmd_vanish(long port, long rounds, long bytes)
{
	char buf[65536];
	long i, got, total = 0;
	ssize_t r;
	int fd;

	prefix[prefixlen] = 's';
	for (i = 1; i <= rounds; i++) {
		if ((fd = dial(port)) < 0)
			err(1, "round %ld: connect", i);
		if (write_all(fd, prefix, prefixlen + 1) != 0)
			err(1, "round %ld: send", i);
		for (got = 0; got < bytes; got += r) {
			if (wait_fd(fd, POLLIN) <= 0)
				errx(1, "round %ld: nothing to read", i);
			r = recv(fd, buf, (size_t)(bytes - got) < sizeof(buf) ?
			    (size_t)(bytes - got) : sizeof(buf), 0);
			if (r <= 0)
				errx(1, "round %ld: the stream ended after "
				    "%ld bytes", i, got);
		}
		total += got;
		if (i % 2)
			close_reset(fd);
		else
			close(fd);
	}
	say("vanished=%ld bytes=%ld", rounds, total);
	return 0;
}

/* peer hit PORT HEX N. */
static int
cmd_hit(long port, long n)
{
	long i;
	int fd;

	for (i = 1; i <= n; i++) {
		if ((fd = dial(port)) < 0)
			err(1, "connection %ld: connect", i);
		if (write_all(fd, prefix, prefixlen) != 0)
			err(1, "connection %ld: send", i);
		if (i % 2)
			close_reset(fd);
		else
			close(fd);
	}
	say("hit=%ld", n);
	return 0;
}

/* Let this process have as many descriptors as its hard limit allows. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: peer target PORT\n"
	    "       peer case PORT HEX c|t|r|R|C|T\n"
	    "       peer hold PORT N HEX SECONDS\n"
	    "       peer vanish PORT HEX ROUNDS BYTES\n"
	    "       peer hit PORT HEX N\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	long port;

	if (argc < 3)
		usage();
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGPIPE, SIG_IGN);
	port = number("PORT", argv[2], 1, 65535);
	if (strcmp(argv[1], "target") == 0 && argc == 3)
		return cmd_target(port);
	if (strcmp(argv[1], "case") == 0 && argc == 5 && strlen(argv[4]) == 1) {
		set_prefix(argv[3]);
		if (prefixlen == sizeof(prefix))
			errx(2, "HEX: too long");
		return cmd_case(port, argv[4][0]);
	}
	if (strcmp(argv[1], "hold") == 0 && argc == 6) {
		raise_nofile();
		set_prefix(argv[4]);
		return cmd_hold(port, number("N", argv[3], 1, 100000),
		    number("SECONDS", argv[5], 1, 3600));
	}
	if (strcmp(argv[1], "vanish") == 0 && argc == 6) {
		set_prefix(argv[3]);
		if (prefixlen == sizeof(prefix))
			errx(2, "HEX: too long");
		return cmd_vanish(port, number("ROUNDS", argv[4], 1, 100000),
		    number("BYTES", argv[5], 1, 1L << 30));
	}
	if (strcmp(argv[1], "hit") == 0 && argc == 5) {
		set_prefix(argv[3]);
		return cmd_hit(port, number("N", argv[4], 1, 100000));
	}
	usage();
	return 2;
}
