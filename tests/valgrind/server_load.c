/*
 * server_load: start erlfwd-server (under valgrind, say) on a free port, drive
 * a few hundred connections and carriers of every kind through it, stop it
 * with SIGTERM and exit with its exit status.
 *
 *   server_load [-S] [-r ROUNDS] -- COMMAND [ARG...]
 *
 * COMMAND is run with "-l 127.0.0.1:PORT -e EPMD --allow-port ECHO1
 * --setup-timeout 400 --carrier-idle 1000" appended, where this program
 * plays the host around the server: a fake epmd that lists one node (on
 * ECHO2) and two echo
 * servers (ECHO1 is let through by --allow-port, ECHO2 because epmd lists
 * it).  Each round (ROUNDS, default 10) makes, and checks the outcome of:
 *   - relays to ECHO1 and ECHO2 (preamble, a handshake's name message as
 *     the server wants one first, payload, echo, half-close), some sixteen
 *     at once, some ended with a reset halfway;
 *   - a DIST to a port nobody lists: refused;
 *   - epmd NAMES (rewritten to carry our epmd port), PORT_PLEASE2, and an
 *     ALIVE2 that must be refused;
 *   - INFO: parsed with frame_info_parse();
 *   - bad preambles (HTTP, wrong version, unknown tag, port 0, a body over
 *     the limit, a bad epmd request), each closed at once;
 *   - stalled ones (half a preamble, or nothing) closed by the setup timeout,
 *     and clients that vanish mid-preamble;
 *   - carriers (version 2): one with two batches of streams (INFO, NAMES,
 *     PORT_PLEASE2, a refused ALIVE2, a DIST to an unlisted port, relays to
 *     both echo ports, one relay we reset), closed with FIN; one that sends
 *     garbage (GOAWAY, protocol); one that vanishes mid-stream (FIN or
 *     reset); one left silent past --carrier-idle (GOAWAY, idle).
 * With -S, COMMAND gets "--stdio" instead of "-l ...": one carrier on its
 * stdin and stdout with a batch of streams per round; when we close it,
 * the server must exit by itself, with status 0.
 * A refused connection or stream gets at most one line from the server and
 * ends with a FIN, never a reset.
 * The server's stderr is left alone (redirect it); this program prints one
 * summary line and the first failures on stdout.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
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

#include "carrier.h"
#include "frame.h"
#include "frame_info.h"
#include "tio.h"

#define SETUP_TIMEOUT_MS	400
#define CARRIER_IDLE_MS		1000	/* --carrier-idle */
#define KEEPALIVE_MS		200	/* our PING while we wait */
#define CAR_STREAMS		16
#define START_TIMEOUT_MS	60000	/* valgrind takes its time to start */
#define IO_TIMEOUT_MS		15000
#define CLOSE_TIMEOUT_MS	(SETUP_TIMEOUT_MS + 10000)
#define BURST			16
#define PAYLOAD_MAX		8192
#define ECHO_THREADS		(BURST + 4)
#define EPMD_THREADS		4	/* a carrier asks several at once */
#define CLIENT_EPMD_PORT	4369	/* what our preamble claims */
#define NODE_NAME		"echo"
#define FAILURES_SHOWN		20

enum { K_RELAY, K_RESET, K_DENIED, K_EPMD, K_INFO, K_BAD, K_STALLED, K_GONE,
	K_CARRIER, K_STREAM, K_CGARBAGE, K_CGONE, K_CIDLE, K_COUNT };
static const char *const kind_names[K_COUNT] = {
	"relay", "reset", "denied", "epmd", "info", "bad", "stalled", "vanished",
	"carriers", "streams", "carrier-garbage", "carrier-vanished",
	"carrier-idle",
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

/* A node's answer to a name message: status "ok". */
static const uint8_t node_status[] = { 0, 3, 's', 'o', 'k' };

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

/*
 * The echo servers.  ECHO2 plays a node first: the server relays a DIST
 * stream on only once the port has answered the name message like a node
 * (a status message), so it says "ok" at once, then echoes everything.
 */
static void *
echo_main(void *arg)
{
	int l = (int)(intptr_t)arg, fd;

	while ((fd = accept(echo_fd[l], NULL, NULL)) >= 0 || errno == EINTR ||
	    errno == ECONNABORTED)
		if (fd >= 0) {
			if (l == 1)
				(void)send_all(fd, node_status,
				    sizeof(node_status));
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

/* The start of a distribution handshake (send_name, version 6, "a@b"). */
static const uint8_t name_msg[] = { 0, 18, 'N', 0, 0, 0, 0, 0, 0, 0, 1,
	0, 0, 0, 0, 0, 3, 'a', '@', 'b' };

static void
fill(uint8_t *p, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7);
}

/* A relay to an echo port: the name message and the payload come back,
 * then EOF; from ECHO2 (node), after its status message. */
static void
relay_finish(int fd, size_t len, unsigned seed, int reset, int node)
{
	static uint8_t out[PAYLOAD_MAX];
	static uint8_t in[sizeof(node_status) + sizeof(name_msg) + PAYLOAD_MAX];
	size_t head = node ? sizeof(node_status) : 0;
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
	if ((size_t)n != head + sizeof(name_msg) + len || rst ||
	    (node && memcmp(in, node_status, head) != 0) ||
	    memcmp(in + head, name_msg, sizeof(name_msg)) != 0 ||
	    memcmp(in + head + sizeof(name_msg), out, len) != 0)
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
		fds[i] = open_with(FRAME_TAG_DIST, echo_port[i % 2], name_msg,
		    sizeof(name_msg));
		if (fds[i] < 0)
			fail("relay: dial: %s", strerror(errno));
	}
	for (i = 0; i < BURST; i++)
		if (fds[i] >= 0)
			relay_finish(fds[i], 1 + (size_t)(round * 977 + i * 613) %
			    PAYLOAD_MAX, (unsigned)(round * BURST + i),
			    i % 8 == 7, i % 2 == 1);
}

/* 1 when the len bytes at p are nothing, or the server's one line of
 * refusal ("erlfwd-server: denied: ...\n"). */
static int
refusal_line(const uint8_t *p, size_t len)
{
	static const char pre[] = "erlfwd-server: ";

	return len == 0 || (len > sizeof(pre) &&
	    memcmp(p, pre, sizeof(pre) - 1) == 0 && p[len - 1] == '\n' &&
	    memchr(p, '\n', len - 1) == NULL);
}

/*
 * The server closes (refused, rejected, timed out) with nothing relayed: at
 * most one line of its own ("erlfwd-server: denied: ..."), then a FIN.
 */
static void
expect_closed(int fd, int tag, const char *what, int kind)
{
	uint8_t buf[160];
	ssize_t n;
	int rst;

	n = read_to_eof(fd, buf, sizeof(buf), CLOSE_TIMEOUT_MS, &rst);
	if (n < 0)
		fail("%s (tag %d): %s", what, tag, strerror(errno));
	else if (rst)
		fail("%s (tag %d): a reset, not a FIN", what, tag);
	else if (!refusal_line(buf, (size_t)n))
		fail("%s (tag %d): got bytes that are not one line of the "
		    "server's", what, tag);
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
	if ((fd = open_with(FRAME_TAG_DIST, unlisted_port, name_msg,
	    sizeof(name_msg))) >= 0)
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

/* --- carriers ------------------------------------------------------------ */

/*
 * A carrier client of our own, plain and blocking with deadlines, over a
 * socket or two pipes (--stdio): the frames of carrier.h, written with
 * carrier_encode() and read with carrier_decode().
 */
struct cstream {
	uint32_t	 id;
	uint8_t		*got;		/* DATA received */
	size_t		 len, cap;
	int		 fin, rst;
};

struct car {
	int		 rfd, wfd;
	int		 keepalive;	/* PING while waiting */
	int		 hello;		/* the server's CARRIER frame came */
	int		 eof, reset;	/* how the carrier ended, if it did */
	int		 goaway;	/* its code, or -1 */
	char		 reason[CARRIER_REASON_MAX + 1];
	int		 pongs, bad;
	uint8_t		 in[4 * CARRIER_FRAME_MAX];
	size_t		 inlen;
	struct cstream	 st[CAR_STREAMS];
	int		 nst;
	uint32_t	 next_id;	/* ids rise over the carrier's life */
};

/* All of buf to fd (a socket or a pipe) within IO_TIMEOUT_MS.  0 or -1. */
static int
car_write_all(int fd, const void *buf, size_t len)
{
	long deadline = tio_now_ms() + IO_TIMEOUT_MS;
	const uint8_t *p = buf;
	struct pollfd pfd = { fd, POLLOUT, 0 };
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (tio_now_ms() >= deadline ||
		    poll(&pfd, 1, (int)(deadline - tio_now_ms())) < 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

static int
car_send(struct car *c, enum carrier_type type, uint32_t id, const void *p,
    size_t len)
{
	uint8_t fr[CARRIER_FRAME_MAX];
	int n = carrier_encode(fr, sizeof(fr), type, id, p, len);

	if (n < 0)
		abort();	/* a frame of ours: our bug */
	return car_write_all(c->wfd, fr, (size_t)n);
}

/* DATA in frames of at most CARRIER_DATA_MAX. */
static int
car_data(struct car *c, uint32_t id, const uint8_t *p, size_t len)
{
	size_t n;

	for (; len > 0; p += n, len -= n) {
		n = len < CARRIER_DATA_MAX ? len : CARRIER_DATA_MAX;
		if (car_send(c, CARRIER_DATA, id, p, n) != 0)
			return -1;
	}
	return 0;
}

static struct cstream *
car_find(struct car *c, uint32_t id)
{
	int i;

	for (i = 0; i < c->nst; i++)
		if (c->st[i].id == id)
			return &c->st[i];
	return NULL;
}

/* Act on one frame from the server. */
static void
car_frame(struct car *c, const struct carrier_frame *f)
{
	struct cstream *s = car_find(c, f->stream);
	uint8_t *nb;

	switch (f->type) {
	case CARRIER_PING:
		(void)car_send(c, CARRIER_PONG, 0, f->payload, 4);
		return;
	case CARRIER_PONG:
		c->pongs++;
		return;
	case CARRIER_GOAWAY:
		c->goaway = f->payload[0];
		memcpy(c->reason, f->payload + 1, f->len - 1);
		c->reason[f->len - 1] = '\0';
		return;
	case CARRIER_WINDOW_UPDATE:
		return;		/* we never send near a window */
	default:
		break;
	}
	if (s == NULL) {
		c->bad = 1;	/* the server named a stream we never opened */
		return;
	}
	if (f->type == CARRIER_DATA && !s->rst) {
		if (s->len + f->len > s->cap) {
			s->cap = 2 * (s->len + f->len);
			if ((nb = realloc(s->got, s->cap)) == NULL)
				abort();
			s->got = nb;
		}
		memcpy(s->got + s->len, f->payload, f->len);
		s->len += f->len;
		/* Give the window back, as a client does. */
		(void)car_send(c, CARRIER_WINDOW_UPDATE, s->id,
		    (uint8_t[4]){ (uint8_t)(f->len >> 24), (uint8_t)(f->len >> 16),
		    (uint8_t)(f->len >> 8), (uint8_t)f->len }, 4);
	} else if (f->type == CARRIER_FIN)
		s->fin = 1;
	else if (f->type == CARRIER_RESET)
		s->rst = 1;
}

/*
 * Read what the carrier has (waiting up to wait_ms) and act on every whole
 * frame.  Returns 0, or -1 once the carrier has ended (eof or reset).
 */
static int
car_pump(struct car *c, int wait_ms)
{
	struct pollfd pfd = { c->rfd, POLLIN, 0 };
	struct carrier_frame f;
	struct frame hf;
	size_t used = 0;
	ssize_t n;
	int k;

	if (c->eof || c->reset)
		return -1;
	if (poll(&pfd, 1, wait_ms) == 0) {
		if (c->keepalive && c->hello)
			(void)car_send(c, CARRIER_PING, 0, "ping", 4);
		return 0;
	}
	n = read(c->rfd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		if (n == 0)
			c->eof = 1;
		else
			c->reset = 1;
		return -1;
	}
	if (n < 0)
		return 0;
	c->inlen += (size_t)n;
	if (!c->hello) {
		k = frame_decode(c->in, c->inlen, FRAME_REQ_BODY_MAX, &hf);
		if (k == 0)
			return 0;
		if (k < 0 || hf.tag != FRAME_TAG_CARRIER) {
			c->bad = 1;
			c->inlen = 0;
			return 0;
		}
		c->hello = 1;
		used = (size_t)k;
	}
	while ((k = carrier_decode(c->in + used, c->inlen - used, &f)) > 0) {
		car_frame(c, &f);
		used += (size_t)k;
	}
	if (k < 0) {
		c->bad = 1;
		used = c->inlen;
	}
	memmove(c->in, c->in + used, c->inlen - used);
	c->inlen -= used;
	return 0;
}

/* Pump until every stream has ended (FIN or RESET), or the carrier did. */
static int
car_streams_done(struct car *c)
{
	long deadline = tio_now_ms() + IO_TIMEOUT_MS;
	int i, done;

	for (;;) {
		for (done = 1, i = 0; i < c->nst; i++)
			if (!c->st[i].fin && !c->st[i].rst)
				done = 0;
		if (done)
			return 0;
		if (tio_now_ms() >= deadline || car_pump(c, KEEPALIVE_MS) != 0)
			return -1;
	}
}

/* Pump until the carrier ends (EOF or a reset), within timeout_ms. */
static int
car_until_end(struct car *c, long timeout_ms)
{
	long deadline = tio_now_ms() + timeout_ms;

	while (car_pump(c, KEEPALIVE_MS) == 0)
		if (tio_now_ms() >= deadline)
			return -1;
	return 0;
}

/* Start a carrier on rfd/wfd: our CARRIER frame, then the server's. */
static int
car_start(struct car *c, int rfd, int wfd, int keepalive)
{
	static const char body[] = "version=server_load";
	uint8_t hello[FRAME_HDR_LEN + sizeof(body)];
	long deadline = tio_now_ms() + IO_TIMEOUT_MS;
	int n;

	memset(c, 0, sizeof(*c));
	c->rfd = rfd;
	c->wfd = wfd;
	c->keepalive = keepalive;
	c->goaway = -1;
	c->next_id = 1;
	(void)fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);
	(void)fcntl(wfd, F_SETFL, fcntl(wfd, F_GETFL) | O_NONBLOCK);
	n = frame_encode(hello, sizeof(hello), FRAME_TAG_CARRIER, 0, body,
	    sizeof(body) - 1);
	if (n < 0 || car_write_all(wfd, hello, (size_t)n) != 0)
		return -1;
	while (!c->hello && !c->bad)
		if (tio_now_ms() >= deadline || car_pump(c, KEEPALIVE_MS) != 0)
			return -1;
	return c->bad ? -1 : 0;
}

static void
car_free(struct car *c)
{
	int i;

	for (i = 0; i < c->nst; i++)
		free(c->st[i].got);
	c->nst = 0;
}

/* Open a stream: OPEN, then early bytes; FIN after them when fin. */
static struct cstream *
car_open(struct car *c, uint8_t tag, uint16_t port, const void *p,
    size_t len, int fin)
{
	uint8_t op[3] = { tag, (uint8_t)(port >> 8), (uint8_t)port };
	struct cstream *s;

	if (c->nst >= CAR_STREAMS)
		abort();
	s = &c->st[c->nst];
	memset(s, 0, sizeof(*s));
	s->id = c->next_id;
	c->next_id += 2;
	c->nst++;
	if (car_send(c, CARRIER_OPEN, s->id, op, sizeof(op)) != 0 ||
	    (len > 0 && car_data(c, s->id, p, len) != 0) ||
	    (fin && car_send(c, CARRIER_FIN, s->id, NULL, 0) != 0))
		fail("carrier: open %s: %s", frame_tag_name(tag),
		    strerror(errno));
	return s;
}

/*
 * One batch of streams on carrier c, all at once, each checked: INFO,
 * NAMES, PORT_PLEASE2, an ALIVE2 and a DIST to an unlisted port (both
 * ended with at most the server's one line), relays to both echo ports (one
 * over several DATA frames; the listed one opens with a handshake's name
 * message, as the server wants), and one relay we reset halfway.
 */
static void
car_batch(struct car *c, int round)
{
	static const uint8_t names[] = { 0, 1, 'n' };
	static const uint8_t please[] = { 0, 5, 'z', 'e', 'c', 'h', 'o' };
	static const uint8_t alive[] = { 0, 13, 'x', 0x11, 0x12, 77, 0, 0, 6,
	    0, 5, 0, 1, 'a', 0, 0 };
	static uint8_t out[2][3 * CARRIER_DATA_MAX];
	static struct frame_info fi;
	struct cstream *si, *sn, *sp, *sa, *su, *se[2], *sr;
	size_t elen[2];
	struct frame f;
	char want[64];
	int i;

	elen[0] = 1 + (size_t)(round * 977) % PAYLOAD_MAX;
	elen[1] = sizeof(out[1]) - (size_t)(round * 613) % PAYLOAD_MAX;
	fill(out[0], elen[0], (unsigned)round);
	fill(out[1], elen[1], (unsigned)round + 1000);
	memcpy(out[1], name_msg, sizeof(name_msg));
	si = car_open(c, FRAME_TAG_INFO, 0, NULL, 0, 1);
	sn = car_open(c, FRAME_TAG_EPMD, CLIENT_EPMD_PORT, names, sizeof(names),
	    1);
	sp = car_open(c, FRAME_TAG_EPMD, CLIENT_EPMD_PORT, please,
	    sizeof(please), 1);
	sa = car_open(c, FRAME_TAG_EPMD, CLIENT_EPMD_PORT, alive, sizeof(alive),
	    1);
	su = car_open(c, FRAME_TAG_DIST, unlisted_port, name_msg,
	    sizeof(name_msg), 0);
	for (i = 0; i < 2; i++)
		se[i] = car_open(c, FRAME_TAG_DIST, echo_port[i], out[i], elen[i],
		    1);
	sr = car_open(c, FRAME_TAG_DIST, echo_port[1], out[1], 3000, 0);
	(void)car_send(c, CARRIER_RESET, sr->id, (uint8_t[1]){
	    CARRIER_RST_RESET }, 1);
	sr->rst = 1;
	if (car_streams_done(c) != 0) {
		fail("carrier: streams did not end (eof=%d reset=%d goaway=%d "
		    "%s)", c->eof, c->reset, c->goaway, c->reason);
		return;
	}
	counts[K_STREAM]++;	/* the one we reset */

	if (si->rst || frame_decode(si->got, si->len, FRAME_INFO_BODY_MAX,
	    &f) != (int)si->len || f.tag != FRAME_TAG_INFO ||
	    frame_info_parse((const char *)f.body, f.body_len, &fi) != 0 ||
	    !fi.epmd_up || fi.nnodes != 1 || fi.nodes[0].port != echo_port[1])
		fail("carrier: INFO: not one INFO frame (%zu bytes%s)", si->len,
		    si->rst ? ", reset" : "");
	else
		counts[K_STREAM]++;

	snprintf(want, sizeof(want), "name %s at port %u\n", NODE_NAME,
	    (unsigned)echo_port[1]);
	if (sn->rst || sn->len != 4 + strlen(want) || sn->got[0] != 0 ||
	    sn->got[1] != 0 || (sn->got[2] << 8 | sn->got[3]) !=
	    CLIENT_EPMD_PORT || memcmp(sn->got + 4, want, strlen(want)) != 0)
		fail("carrier: NAMES: unexpected reply (%zu bytes%s)", sn->len,
		    sn->rst ? ", reset" : "");
	else
		counts[K_STREAM]++;
	if (sp->rst || sp->len < 4 || sp->got[0] != 'w' || sp->got[1] != 0 ||
	    (sp->got[2] << 8 | sp->got[3]) != echo_port[1])
		fail("carrier: PORT_PLEASE2: unexpected reply (%zu bytes%s)",
		    sp->len, sp->rst ? ", reset" : "");
	else
		counts[K_STREAM]++;
	/* Refused: the stream ends with at most the server's one line, the
	 * carrier lives on. */
	if (!refusal_line(sa->got, sa->len) || !refusal_line(su->got, su->len))
		fail("carrier: ALIVE2 or unlisted DIST got %zu/%zu bytes",
		    sa->len, su->len);
	else
		counts[K_STREAM] += 2;
	for (i = 0; i < 2; i++) {
		size_t head = i == 1 ? sizeof(node_status) : 0;

		if (se[i]->rst || se[i]->len != head + elen[i] ||
		    memcmp(se[i]->got, node_status, head) != 0 ||
		    memcmp(se[i]->got + head, out[i], elen[i]) != 0)
			fail("carrier: relay to echo %d: sent %zu, got %zu%s", i,
			    elen[i], se[i]->len, se[i]->rst ? " and a reset" :
			    "");
		else
			counts[K_STREAM]++;
	}
	if (su->fin && !su->rst)
		(void)car_send(c, CARRIER_FIN, su->id, NULL, 0);
}

/* A carrier with a batch of streams, closed by us with FIN. */
static void
carrier_session(int round)
{
	struct car c;
	int fd = dial();

	if (fd < 0 || car_start(&c, fd, fd, 1) != 0) {
		fail("carrier: start: %s", strerror(errno));
		goto out;
	}
	car_batch(&c, round);
	car_free(&c);
	car_batch(&c, round + 1);	/* ids keep rising on the same carrier */
	(void)shutdown(fd, SHUT_WR);
	if (car_until_end(&c, IO_TIMEOUT_MS) != 0 || !c.eof || c.bad)
		fail("carrier: close: eof=%d reset=%d bad=%d", c.eof, c.reset,
		    c.bad);
	else
		counts[K_CARRIER]++;
out:
	car_free(&c);
	if (fd >= 0)
		close(fd);
}

/* Garbage after the CARRIER frames: GOAWAY (protocol), then EOF. */
static void
carrier_garbage(void)
{
	struct car c;
	int fd = dial();

	if (fd < 0 || car_start(&c, fd, fd, 0) != 0) {
		fail("carrier garbage: start: %s", strerror(errno));
		goto out;
	}
	(void)car_open(&c, FRAME_TAG_INFO, 0, NULL, 0, 0);
	(void)car_write_all(fd, "\x09not a frame at all", 19);
	if (car_until_end(&c, IO_TIMEOUT_MS) != 0 || !c.eof ||
	    c.goaway != CARRIER_GA_PROTOCOL)
		fail("carrier garbage: eof=%d reset=%d goaway=%d (%s)", c.eof,
		    c.reset, c.goaway, c.reason);
	else
		counts[K_CGARBAGE]++;
out:
	car_free(&c);
	if (fd >= 0)
		close(fd);
}

/* A client gone mid-stream, with a FIN or a reset: the server copes. */
static void
carrier_vanish(int round)
{
	static uint8_t buf[2 * CARRIER_DATA_MAX];
	struct linger lg = { 1, 0 };
	struct car c;
	int fd = dial();

	if (fd < 0 || car_start(&c, fd, fd, 0) != 0) {
		fail("carrier vanish: start: %s", strerror(errno));
		goto out;
	}
	fill(buf, sizeof(buf), (unsigned)round);
	(void)car_open(&c, FRAME_TAG_DIST, echo_port[round % 2], buf,
	    sizeof(buf), 0);
	(void)car_open(&c, FRAME_TAG_INFO, 0, NULL, 0, 1);
	/* Half a frame, then gone. */
	(void)car_write_all(fd, "\2\0\0\0\0\0\0\1", 8);
	if (round % 2)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	counts[K_CGONE]++;
out:
	car_free(&c);
	if (fd >= 0)
		close(fd);
}

/*
 * A carrier that answers one PING, then falls silent: --carrier-idle ends
 * it with GOAWAY (idle).  Started at a round's start, checked at its end.
 */
static int
carrier_idle_start(struct car *c)
{
	long deadline = tio_now_ms() + IO_TIMEOUT_MS;
	int fd = dial();

	if (fd < 0 || car_start(c, fd, fd, 0) != 0 ||
	    car_send(c, CARRIER_PING, 0, "idle", 4) != 0) {
		fail("carrier idle: start: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (c->pongs == 0)
		if (tio_now_ms() >= deadline || car_pump(c, KEEPALIVE_MS) != 0) {
			fail("carrier idle: no PONG");
			break;
		}
	return fd;
}

static void
carrier_idle_check(struct car *c, int fd)
{
	if (fd < 0)
		return;
	if (car_until_end(c, CARRIER_IDLE_MS + IO_TIMEOUT_MS) != 0 || !c->eof ||
	    c->goaway != CARRIER_GA_IDLE)
		fail("carrier idle: eof=%d reset=%d goaway=%d (%s)", c->eof,
		    c->reset, c->goaway, c->reason);
	else
		counts[K_CIDLE]++;
	car_free(c);
	close(fd);
}

/* --- the server ---------------------------------------------------------- */

/*
 * Start COMMAND with the server's options appended: listening on
 * server_port, or with --stdio on two pipes (*to: its stdin, *from: its
 * stdout).  Returns its pid, or -1.
 */
static pid_t
start_server(char **cmd, int ncmd, int stdio, int *to, int *from)
{
	char **argv = calloc((size_t)ncmd + 12, sizeof(*argv));
	char listen[32], epmd[8], allow[8], timeout[16], idle[16];
	int i, n = 0, fd, in[2] = { -1, -1 }, out[2] = { -1, -1 };
	pid_t pid;
	long deadline;

	if (argv == NULL)
		return -1;
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)server_port);
	snprintf(epmd, sizeof(epmd), "%u", (unsigned)epmd_port);
	snprintf(allow, sizeof(allow), "%u", (unsigned)echo_port[0]);
	snprintf(timeout, sizeof(timeout), "%d", SETUP_TIMEOUT_MS);
	snprintf(idle, sizeof(idle), "%d", CARRIER_IDLE_MS);
	for (i = 0; i < ncmd; i++)
		argv[n++] = cmd[i];
	if (stdio)
		argv[n++] = "--stdio";
	else {
		argv[n++] = "-l";
		argv[n++] = listen;
	}
	argv[n++] = "-e";
	argv[n++] = epmd;
	argv[n++] = "--allow-port";
	argv[n++] = allow;
	argv[n++] = "--setup-timeout";
	argv[n++] = timeout;
	argv[n++] = "--carrier-idle";
	argv[n++] = idle;
	argv[n] = NULL;
	if (stdio && (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)) {
		free(argv);
		return -1;
	}
	if ((pid = fork()) == 0) {
		if (stdio && (dup2(in[0], STDIN_FILENO) < 0 ||
		    dup2(out[1], STDOUT_FILENO) < 0))
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "server_load: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	free(argv);
	if (stdio) {
		close(in[0]);
		close(out[1]);
		*to = in[1];
		*from = out[0];
		if (pid < 0) {
			close(in[1]);
			close(out[0]);
		}
		return pid;
	}
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

/*
 * --stdio: one carrier on the server's stdin and stdout, a batch of
 * streams per round, then our end closed: the server must exit by itself.
 */
static int
stdio_session(pid_t pid, int to, int from, long rounds)
{
	struct car c;
	long deadline;
	int i, st = 0;

	if (car_start(&c, from, to, 1) != 0)
		fail("stdio: no CARRIER frame from the server");
	else {
		for (i = 0; i < rounds; i++) {
			car_batch(&c, i);
			car_free(&c);
		}
		close(to);
		to = -1;
		if (car_until_end(&c, START_TIMEOUT_MS) != 0 || !c.eof || c.bad)
			fail("stdio: close: eof=%d bad=%d", c.eof, c.bad);
		else
			counts[K_CARRIER]++;
	}
	if (to >= 0)
		close(to);
	close(from);
	/* Its carrier over, the server exits on its own. */
	for (deadline = tio_now_ms() + START_TIMEOUT_MS;
	    waitpid(pid, &st, WNOHANG) != pid; poll(NULL, 0, 20))
		if (tio_now_ms() >= deadline) {
			fail("stdio: the server did not exit");
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
	car_free(&c);
	return st;
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
	pthread_t th[ECHO_THREADS * 2 + EPMD_THREADS];
	long rounds = 10, t0, total = 0;
	int ch, i, st, dead_fd, nth = 0, stdio = 0, to = -1, from = -1, ifd;
	struct car idle;
	pid_t pid;

	while ((ch = getopt(argc, argv, "r:S")) != -1) {
		if (ch == 'S')
			stdio = 1;
		else if (ch != 'r' || (rounds = strtol(optarg, NULL, 10)) < 1) {
			fprintf(stderr, "usage: server_load [-S] [-r ROUNDS] -- "
			    "COMMAND [ARG...]\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: server_load [-S] [-r ROUNDS] -- COMMAND "
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
	for (i = 0; i < EPMD_THREADS; i++)
		if (pthread_create(&th[nth], NULL, epmd_main, NULL) == 0)
			nth++;

	if ((pid = start_server(argv + optind, argc - optind, stdio, &to,
	    &from)) < 0)
		return 1;
	t0 = tio_now_ms();
	if (stdio)
		st = stdio_session(pid, to, from, rounds);
	else {
		for (i = 0; i < rounds; i++) {
			ifd = carrier_idle_start(&idle);
			relays(i);
			epmd_lookups();
			info();
			bad_preambles();
			stalls();
			carrier_session(i);
			carrier_garbage();
			carrier_vanish(i);
			carrier_idle_check(&idle, ifd);
		}
		if (kill(pid, SIGTERM) != 0 || waitpid(pid, &st, 0) != pid) {
			fprintf(stderr, "server_load: stopping the server: %s\n",
			    strerror(errno));
			return 1;
		}
	}
	t0 = tio_now_ms() - t0;
	(void)shutdown(echo_fd[0], SHUT_RDWR);
	(void)shutdown(echo_fd[1], SHUT_RDWR);
	(void)shutdown(epmd_fd, SHUT_RDWR);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	close(dead_fd);

	for (i = 0; i < K_COUNT; i++)
		if (i != K_STREAM)
			total += counts[i];
	printf("server_load: %ld connections and %ld carrier streams in %.1f s (",
	    total, counts[K_STREAM], (double)t0 / 1000);
	for (i = 0, ch = 0; i < K_COUNT; i++)
		if (i != K_STREAM && counts[i] > 0)
			printf("%s %s=%ld", ch++ > 0 ? "," : "", kind_names[i],
			    counts[i]);
	printf("), %ld failures; server exit status %d\n",
	    atomic_load(&failures), WIFEXITED(st) ? WEXITSTATUS(st) :
	    128 + WTERMSIG(st));
	if (atomic_load(&failures) > 0)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
