/*
 * server_load: start erlfwd-server (under valgrind, say) on a free port, drive
 * a few hundred connections of every kind through it, stop it with SIGTERM
 * and exit with its exit status.
 *
 *   server_load [-r ROUNDS] -- COMMAND [ARG...]
 *
 * COMMAND is run with "-l 127.0.0.1:PORT -e EPMD --allow-port ECHO1
 * --setup-timeout 400" appended, where this program plays the host around
 * the server: a fake epmd that lists one node (on ECHO2) and two echo
 * servers (ECHO1 is let through by --allow-port, ECHO2 because epmd lists
 * it).  Each round (ROUNDS, default 10) makes, and checks the outcome of:
 *   - relays to ECHO1 and ECHO2 (preamble, payload, echo, half-close), some
 *     sixteen at once, some ended with a reset halfway;
 *   - a DIST to a port nobody lists: refused;
 *   - epmd NAMES (rewritten to carry our epmd port), PORT_PLEASE2, and an
 *     ALIVE2 that must be refused;
 *   - INFO: parsed with frame_info_parse();
 *   - bad preambles (HTTP, wrong version, unknown tag, port 0, a body over
 *     the limit, a bad epmd request), each closed at once;
 *   - stalled ones (half a preamble, or nothing) closed by the setup timeout,
 *     and clients that vanish mid-preamble.
 * The server's stderr is left alone (redirect it); this program prints one
 * summary line and the first failures on stdout.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "frame_info.h"
#include "tio.h"

#define SETUP_TIMEOUT_MS	400
#define START_TIMEOUT_MS	60000	/* valgrind takes its time to start */
#define IO_TIMEOUT_MS		15000
#define CLOSE_TIMEOUT_MS	(SETUP_TIMEOUT_MS + 10000)
#define BURST			16
#define PAYLOAD_MAX		8192
#define ECHO_THREADS		(BURST + 4)
#define CLIENT_EPMD_PORT	4369	/* what our preamble claims */
#define NODE_NAME		"echo"
#define FAILURES_SHOWN		20

enum { K_RELAY, K_RESET, K_DENIED, K_EPMD, K_INFO, K_BAD, K_STALLED, K_GONE,
	K_COUNT };
static const char *const kind_names[K_COUNT] = {
	"relay", "reset", "denied", "epmd", "info", "bad", "stalled", "vanished",
};

static int		 echo_fd[2], epmd_fd;
static uint16_t		 echo_port[2], epmd_port, server_port, unlisted_port;
static long		 counts[K_COUNT];
static atomic_long	 failures;

static void
fail(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&failures, 1) >= FAILURES_SHOWN)
		return;
	printf("server_load: FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* --- byte moving --------------------------------------------------------- */

/* All of buf to fd within IO_TIMEOUT_MS (tio.h's loop).  Returns 0 or -1. */
static int
send_all(int fd, const void *buf, size_t len)
{
	return tio_write_all(fd, buf, len, tio_now_ms() + IO_TIMEOUT_MS);
}

/*
 * Read until EOF (or cap bytes) within timeout_ms.  Returns the byte count,
 * or -1 with errno (ETIMEDOUT; ECONNRESET counts as an end too: returns the
 * count so far and sets *reset).
 */
static ssize_t
read_to_eof(int fd, uint8_t *buf, size_t cap, long timeout_ms, int *reset)
{
	long deadline = tio_now_ms() + timeout_ms;
	size_t len = 0;
	uint8_t sink[512];
	ssize_t n;

	if (reset != NULL)
		*reset = 0;
	for (;;) {
		if (tio_wait(fd, POLLIN, deadline) != 0)
			return -1;
		if (len < cap)
			n = recv(fd, buf + len, cap - len, 0);
		else
			n = recv(fd, sink, sizeof(sink), 0);
		if (n == 0)
			return (ssize_t)len;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == ECONNRESET) {
				if (reset != NULL)
					*reset = 1;
				return (ssize_t)len;
			}
			return -1;
		}
		if (len < cap)
			len += (size_t)n;
	}
}

/* --- the host around the server ------------------------------------------ */

static void
echo(int fd)
{
	uint8_t buf[PAYLOAD_MAX];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0 || (n < 0 &&
	    errno == EINTR))
		if (n > 0 && send_all(fd, buf, (size_t)n) != 0)
			break;
}

static void *
echo_main(void *arg)
{
	int l = (int)(intptr_t)arg, fd;

	while ((fd = accept(echo_fd[l], NULL, NULL)) >= 0 || errno == EINTR ||
	    errno == ECONNABORTED)
		if (fd >= 0) {
			echo(fd);
			close(fd);
		}
	return NULL;
}

/* epmd: NAMES lists one node on echo_port[1]; PORT_PLEASE2 answers it. */
static void *
epmd_main(void *arg)
{
	uint8_t req[2 + 256], out[128];
	size_t len, n;
	int fd;

	(void)arg;
	while ((fd = accept(epmd_fd, NULL, NULL)) >= 0 || errno == EINTR ||
	    errno == ECONNABORTED) {
		if (fd < 0)
			continue;
		if (tio_wait(fd, POLLIN, tio_now_ms() + IO_TIMEOUT_MS) != 0 ||
		    recv(fd, req, 3, MSG_WAITALL) != 3)
			goto next;
		len = (size_t)req[0] << 8 | req[1];
		if (len > 1 && (len > sizeof(req) - 2 || recv(fd, req + 3,
		    len - 1, MSG_WAITALL) != (ssize_t)(len - 1)))
			goto next;
		if (req[2] == 'n') {
			out[0] = out[1] = 0;
			out[2] = (uint8_t)(epmd_port >> 8);
			out[3] = (uint8_t)epmd_port;
			n = 4 + (size_t)snprintf((char *)out + 4, sizeof(out) - 4,
			    "name %s at port %u\n", NODE_NAME,
			    (unsigned)echo_port[1]);
			(void)send_all(fd, out, n);
		} else if (req[2] == 'z') {
			/* PORT2_RESP: ok, port, normal node, tcp, 6, 5, name, extra. */
			uint8_t r[] = { 'w', 0, (uint8_t)(echo_port[1] >> 8),
			    (uint8_t)echo_port[1], 77, 0, 0, 6, 0, 5, 0, 4,
			    'e', 'c', 'h', 'o', 0, 0 };
			(void)send_all(fd, r, sizeof(r));
		}
next:
		close(fd);
	}
	return NULL;
}

static int
open_listener(uint16_t *port, int listening)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    (listening && listen(fd, 256) != 0) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		return -1;
	*port = ntohs(sin.sin_port);
	return fd;
}

/* --- clients ------------------------------------------------------------- */

static int
dial(void)
{
	struct sockaddr_in sin;
	struct timeval tv = { IO_TIMEOUT_MS / 1000, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	/* A blocking read that hangs is a failure, not a stuck test. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(server_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A connection that has sent its preamble (and, for EPMD, a request). */
static int
open_with(enum frame_tag tag, uint16_t port, const void *extra, size_t len)
{
	uint8_t buf[FRAME_HDR_LEN + 300];
	int fd, n;

	n = frame_encode(buf, sizeof(buf), tag, port, NULL, 0);
	if (n < 0 || len > sizeof(buf) - (size_t)n)
		abort();
	if (len > 0)
		memcpy(buf + n, extra, len);
	if ((fd = dial()) < 0)
		return -1;
	if (send_all(fd, buf, (size_t)n + len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
fill(uint8_t *p, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7);
}

/* A relay to an echo port: the payload comes back, then EOF. */
static void
relay_finish(int fd, size_t len, unsigned seed, int reset)
{
	static uint8_t out[PAYLOAD_MAX], in[PAYLOAD_MAX];
	struct linger lg = { 1, 0 };
	ssize_t n;
	int rst;

	fill(out, len, seed);
	if (send_all(fd, out, len) != 0) {
		fail("relay: send: %s", strerror(errno));
		goto out;
	}
	if (reset) {
		/* Half the echo read, then a reset: the server must cope. */
		(void)recv(fd, in, len / 2, MSG_WAITALL);
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		counts[K_RESET]++;
		goto out;
	}
	if (shutdown(fd, SHUT_WR) != 0 ||
	    (n = read_to_eof(fd, in, sizeof(in), IO_TIMEOUT_MS, &rst)) < 0) {
		fail("relay: %s", strerror(errno));
		goto out;
	}
	if ((size_t)n != len || rst || memcmp(in, out, len) != 0)
		fail("relay: sent %zu bytes, got %zd back%s", len, n,
		    rst ? " and a reset" : "");
	else
		counts[K_RELAY]++;
out:
	close(fd);
}

static void
relays(int round)
{
	int fds[BURST], i;

	for (i = 0; i < BURST; i++) {
		fds[i] = open_with(FRAME_TAG_DIST, echo_port[i % 2], NULL, 0);
		if (fds[i] < 0)
			fail("relay: dial: %s", strerror(errno));
	}
	for (i = 0; i < BURST; i++)
		if (fds[i] >= 0)
			relay_finish(fds[i], 1 + (size_t)(round * 977 + i * 613) %
			    PAYLOAD_MAX, (unsigned)(round * BURST + i),
			    i % 8 == 7);
}

/* The server closes without a byte (refused, rejected, timed out). */
static void
expect_closed(int fd, int tag, const char *what, int kind)
{
	uint8_t buf[64];
	ssize_t n;

	n = read_to_eof(fd, buf, sizeof(buf), CLOSE_TIMEOUT_MS, NULL);
	if (n != 0)
		fail("%s (tag %d): %s", what, tag, n < 0 ? strerror(errno) :
		    "got bytes instead of a close");
	else
		counts[kind]++;
	close(fd);
}

static void
epmd_lookups(void)
{
	static const uint8_t names[] = { 0, 1, 'n' };
	static const uint8_t please[] = { 0, 5, 'z', 'e', 'c', 'h', 'o' };
	static const uint8_t alive[] = { 0, 13, 'x', 0x11, 0x12, 77, 0, 0, 6,
	    0, 5, 0, 1, 'a', 0, 0 };
	uint8_t buf[256];
	char want[64];
	ssize_t n;
	int fd;

	if ((fd = open_with(FRAME_TAG_EPMD, CLIENT_EPMD_PORT, names,
	    sizeof(names))) < 0) {
		fail("epmd: dial: %s", strerror(errno));
		return;
	}
	(void)shutdown(fd, SHUT_WR);
	n = read_to_eof(fd, buf, sizeof(buf) - 1, IO_TIMEOUT_MS, NULL);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	snprintf(want, sizeof(want), "name %s at port %u\n", NODE_NAME,
	    (unsigned)echo_port[1]);
	/* The reply names our epmd port, not the host's. */
	if (n < 4 || buf[0] != 0 || buf[1] != 0 ||
	    (buf[2] << 8 | buf[3]) != CLIENT_EPMD_PORT ||
	    strcmp((char *)buf + 4, want) != 0)
		fail("epmd NAMES: unexpected reply (%zd bytes)", n);
	else
		counts[K_EPMD]++;

	if ((fd = open_with(FRAME_TAG_EPMD, CLIENT_EPMD_PORT, please,
	    sizeof(please))) < 0) {
		fail("epmd: dial: %s", strerror(errno));
		return;
	}
	n = read_to_eof(fd, buf, sizeof(buf), IO_TIMEOUT_MS, NULL);
	close(fd);
	if (n < 4 || buf[0] != 'w' || buf[1] != 0 ||
	    (buf[2] << 8 | buf[3]) != echo_port[1])
		fail("epmd PORT_PLEASE2: unexpected reply (%zd bytes)", n);
	else
		counts[K_EPMD]++;

	if ((fd = open_with(FRAME_TAG_EPMD, CLIENT_EPMD_PORT, alive,
	    sizeof(alive))) >= 0)
		expect_closed(fd, FRAME_TAG_EPMD, "epmd ALIVE2", K_DENIED);
}

static void
info(void)
{
	static uint8_t buf[FRAME_HDR_LEN + FRAME_INFO_BODY_MAX];
	static struct frame_info fi;
	struct frame f;
	ssize_t n;
	int fd, rc;

	if ((fd = open_with(FRAME_TAG_INFO, 0, NULL, 0)) < 0) {
		fail("info: dial: %s", strerror(errno));
		return;
	}
	n = read_to_eof(fd, buf, sizeof(buf), IO_TIMEOUT_MS, NULL);
	close(fd);
	if (n <= 0 || (rc = frame_decode(buf, (size_t)n, FRAME_INFO_BODY_MAX,
	    &f)) != n || f.tag != FRAME_TAG_INFO ||
	    frame_info_parse((const char *)f.body, f.body_len, &fi) != 0) {
		fail("info: not one INFO frame (%zd bytes)", n);
		return;
	}
	if (!fi.epmd_up || fi.epmd_port != epmd_port || fi.nnodes != 1 ||
	    strcmp(fi.nodes[0].name, NODE_NAME) != 0 ||
	    fi.nodes[0].port != echo_port[1])
		fail("info: epmd=%d epmd_port=%u nodes=%zu", fi.epmd_up,
		    (unsigned)fi.epmd_port, fi.nnodes);
	else
		counts[K_INFO]++;
}

static void
bad_preambles(void)
{
	static const struct {
		const char	*what;
		uint8_t		 bytes[16];
		size_t		 len;
	} bad[] = {
		{ "http", "GET / HTTP/1.1\r\n", 16 },
		{ "version 2", "EFWD\2\2\1\1\0\0", 10 },
		{ "tag 9", "EFWD\1\11\1\1\0\0", 10 },
		{ "dist port 0", "EFWD\1\2\0\0\0\0", 10 },
		{ "body over the limit", "EFWD\1\2\1\1\0\101", 10 },
		{ "empty epmd request", "EFWD\1\1\21\21\0\0\0\0", 12 },
		{ "bad magic, 2nd byte", "EX", 2 },
	};
	size_t i;
	int fd;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if ((fd = dial()) < 0 || send_all(fd, bad[i].bytes,
		    bad[i].len) != 0) {
			fail("%s: dial: %s", bad[i].what, strerror(errno));
			if (fd >= 0)
				close(fd);
			continue;
		}
		expect_closed(fd, 0, bad[i].what, K_BAD);
	}
	/* A DIST to a port that no one lists: denied after asking epmd. */
	if ((fd = open_with(FRAME_TAG_DIST, unlisted_port, NULL, 0)) >= 0)
		expect_closed(fd, FRAME_TAG_DIST, "unlisted port", K_DENIED);
}

/* Half preambles and silent clients, all at once: the timeout closes them. */
static void
stalls(void)
{
	int fds[BURST], i;

	for (i = 0; i < BURST; i++) {
		fds[i] = dial();
		if (fds[i] >= 0 && i % 2 == 0)
			(void)send_all(fds[i], "EFWD\1", 5);
	}
	for (i = 0; i < BURST; i++) {
		if (fds[i] < 0) {
			fail("stall: dial: %s", strerror(errno));
			continue;
		}
		expect_closed(fds[i], 0, "stalled preamble", K_STALLED);
	}
	/* Clients that leave halfway through their preamble or request. */
	for (i = 0; i < 4; i++) {
		if ((fds[0] = dial()) < 0)
			continue;
		(void)send_all(fds[0], i % 2 ? "EFWD\1\1\21\21\0\0\0" : "EFW",
		    i % 2 ? 11 : 3);
		close(fds[0]);
		counts[K_GONE]++;
	}
}

/* --- the server ---------------------------------------------------------- */

static pid_t
start_server(char **cmd, int ncmd)
{
	char **argv = calloc((size_t)ncmd + 10, sizeof(*argv));
	char listen[32], epmd[8], allow[8], timeout[16];
	pid_t pid;
	int i, n = 0, fd;
	long deadline;

	if (argv == NULL)
		return -1;
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)server_port);
	snprintf(epmd, sizeof(epmd), "%u", (unsigned)epmd_port);
	snprintf(allow, sizeof(allow), "%u", (unsigned)echo_port[0]);
	snprintf(timeout, sizeof(timeout), "%d", SETUP_TIMEOUT_MS);
	for (i = 0; i < ncmd; i++)
		argv[n++] = cmd[i];
	argv[n++] = "-l";
	argv[n++] = listen;
	argv[n++] = "-e";
	argv[n++] = epmd;
	argv[n++] = "--allow-port";
	argv[n++] = allow;
	argv[n++] = "--setup-timeout";
	argv[n++] = timeout;
	argv[n] = NULL;
	if ((pid = fork()) == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "server_load: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	free(argv);
	if (pid < 0)
		return -1;
	/* Wait for it to listen, with a deadline, never a fixed sleep. */
	for (deadline = tio_now_ms() + START_TIMEOUT_MS; tio_now_ms() < deadline;) {
		if ((fd = dial()) >= 0) {
			close(fd);
			return pid;
		}
		if (waitpid(pid, &i, WNOHANG) == pid) {
			fprintf(stderr, "server_load: the server exited early\n");
			return -1;
		}
		poll(NULL, 0, 50);
	}
	fprintf(stderr, "server_load: the server did not listen in time\n");
	kill(pid, SIGKILL);
	return -1;
}

/* A free port: bind one, note it, let it go (the server binds it next). */
static uint16_t
free_port(void)
{
	uint16_t port = 0;
	int fd = open_listener(&port, 0);

	if (fd >= 0)
		close(fd);
	return port;
}

int
main(int argc, char **argv)
{
	pthread_t th[ECHO_THREADS * 2 + 1];
	long rounds = 10, t0, total = 0;
	int ch, i, st, dead_fd, nth = 0;
	pid_t pid;

	while ((ch = getopt(argc, argv, "r:")) != -1) {
		if (ch != 'r' || (rounds = strtol(optarg, NULL, 10)) < 1) {
			fprintf(stderr, "usage: server_load [-r ROUNDS] -- "
			    "COMMAND [ARG...]\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: server_load [-r ROUNDS] -- COMMAND "
		    "[ARG...]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((echo_fd[0] = open_listener(&echo_port[0], 1)) < 0 ||
	    (echo_fd[1] = open_listener(&echo_port[1], 1)) < 0 ||
	    (epmd_fd = open_listener(&epmd_port, 1)) < 0 ||
	    (dead_fd = open_listener(&unlisted_port, 0)) < 0 ||
	    (server_port = free_port()) == 0) {
		fprintf(stderr, "server_load: listen: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < ECHO_THREADS * 2; i++)
		if (pthread_create(&th[nth], NULL, echo_main,
		    (void *)(intptr_t)(i % 2)) == 0)
			nth++;
	if (pthread_create(&th[nth], NULL, epmd_main, NULL) == 0)
		nth++;

	if ((pid = start_server(argv + optind, argc - optind)) < 0)
		return 1;
	t0 = tio_now_ms();
	for (i = 0; i < rounds; i++) {
		relays(i);
		epmd_lookups();
		info();
		bad_preambles();
		stalls();
	}
	t0 = tio_now_ms() - t0;

	if (kill(pid, SIGTERM) != 0 || waitpid(pid, &st, 0) != pid) {
		fprintf(stderr, "server_load: stopping the server: %s\n",
		    strerror(errno));
		return 1;
	}
	(void)shutdown(echo_fd[0], SHUT_RDWR);
	(void)shutdown(echo_fd[1], SHUT_RDWR);
	(void)shutdown(epmd_fd, SHUT_RDWR);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	close(dead_fd);

	for (i = 0; i < K_COUNT; i++)
		total += counts[i];
	printf("server_load: %ld connections in %.1f s (", total,
	    (double)t0 / 1000);
	for (i = 0; i < K_COUNT; i++)
		printf("%s %s=%ld", i > 0 ? "," : "", kind_names[i], counts[i]);
	printf("), %ld failures; server exit status %d\n",
	    atomic_load(&failures), WIFEXITED(st) ? WEXITSTATUS(st) :
	    128 + WTERMSIG(st));
	if (atomic_load(&failures) > 0)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
