/*
 * preload_stress: liberlfwd's hooks from many threads at once, with the
 * library really preloaded, and every result checked.
 *
 *   preload_stress [-t THREADS] [-s SECONDS] [-n OPS] LIB [CHILD_LIB]
 *
 * LIB is the liberlfwd.so to preload ("-": none, for a binary that links the
 * hooks in).  Under a sanitizer it must be built with the same sanitizer as
 * this program, and it cannot be preloaded into programs that are not:
 * CHILD_LIB (default: none) is what the children this program execs get,
 * normally the plain build/liberlfwd.so.
 *
 * The program starts twice.  The first time it opens the listeners that
 * play the other ends (a fake erlfwd-server that checks the preamble and
 * echoes, a fake SOCKS5 proxy, a fake cluster helper, a plain echo server
 * and a port that refuses)
 * on ports the kernel picks, writes the configuration that names them into
 * the environment (the library reads it once, when it loads) and execs
 * itself with LD_PRELOAD=LIB, handing the listeners down.  The second time
 * THREADS workers (16) mix, for SECONDS (3) or OPS operations each:
 *   - connects to sentinels, through the tunnel and through SOCKS5, on
 *     blocking and non-blocking, IPv4 and IPv6 sockets: the far end must
 *     see the preamble (or the SOCKS5 request) for the port asked for, the
 *     call must return 0 leaving errno and the fd's flags as they were, and
 *     the stream must echo;
 *   - connects to a sentinel whose route refuses: -1, ECONNREFUSED, flags
 *     kept;
 *   - names of a socks5h:// glob (cluster.h): getaddrinfo asks the fake
 *     helper and must return the sentinel it gave that name, and a connect
 *     to it must reach the helper with the sentinel and port (EPMD or DIST),
 *     flags and errno kept, and echo;
 *   - plain connects, which the library must not touch (EINPROGRESS on a
 *     non-blocking socket, as libc says);
 *   - gethostbyname(_r), gethostbyname2, gethostbyaddr, getaddrinfo (with
 *     freeaddrinfo) and getnameinfo, on names and sentinels that match and
 *     on some that do not;
 *   - wildcard binds (TCP: deferred, then listen lands on loopback; UDP:
 *     left alone);
 *   - fork+exec and posix_spawn of /bin/true.
 * At the end no file descriptor may have leaked (/proc/self/fd is counted
 * before and after) and no check may have failed.  It prints one summary
 * line and exits 0, or 1 after printing the first failures.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tio.h"

#define STAGE_VAR	"ERLFWD_STRESS_FDS"
#define THREADS_MAX	256
#define SERVER_THREADS	16	/* per listener: one connection each at a time */
#define IO_TIMEOUT_MS	10000
#define PAYLOAD_MAX	4096
#define EPMD_PORT	4369
#define ERRNO_CANARY	EDOM	/* what errno holds before a hooked call */
#define FAILURES_SHOWN	20

/* The configuration entries, in ERLFWD_HOSTS order: entry i is 127.239.0.(i+1). */
enum { E_TUNNEL, E_GLOB, E_SOCKS, E_DEAD };
#define NAME_TUNNEL	"stress-remote"
#define NAME_GLOB	"Node-7.Glob.Remote"	/* matches PATTERN_GLOB: case is ignored */
#define PATTERN_GLOB	"node-*.glob.remote"

enum listener { L_TUNNEL, L_SOCKS, L_PLAIN, L_DEAD, L_HELPER, L_COUNT };
#define CLUSTER_NAMES	8	/* web-0 .. web-7: slot i + 1 in 127.240.0.0/12 */

enum op {
	OP_TUNNEL, OP_TUNNEL_NB, OP_TUNNEL_V6, OP_SOCKS, OP_REFUSED, OP_PLAIN,
	OP_PLAIN_NB, OP_GHBN_R, OP_GHBN, OP_GHBA, OP_GAI, OP_GNI, OP_BIND,
	OP_CLUSTER, OP_SPAWN, OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	"tunnel", "tunnel-nonblock", "tunnel-ipv6", "socks5", "refused",
	"plain", "plain-nonblock", "gethostbyname_r", "gethostbyname",
	"gethostbyaddr", "getaddrinfo", "getnameinfo", "bind", "cluster",
	"spawn",
};

static int		 lfd[L_COUNT];
static uint16_t		 lport[L_COUNT];
static int		 have_v6;
static char		*child_env[8];
static long		 deadline_ms, max_ops;
static atomic_long	 done[OP_COUNT];
static atomic_long	 failures;
static atomic_long	 server_conns;

static void
fail(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	long n = atomic_fetch_add(&failures, 1);

	if (n >= FAILURES_SHOWN)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "preload_stress: FAIL: %s\n", line);
}

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fail(__VA_ARGS__);					\
		goto out;						\
	}								\
} while (0)

/* A per-thread xorshift generator: no shared state, no locks. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* --- byte moving --------------------------------------------------------- */

/*
 * The byte moving is tio's (preload/common/tio.h), the same loops the
 * library and the tools use, bounded by IO_TIMEOUT_MS per call.
 */

/* All of buf to fd, blocking or not.  Returns 0 or -1 with errno. */
static int
send_all(int fd, const void *buf, size_t len)
{
	return tio_write_all(fd, buf, len, tio_now_ms() + IO_TIMEOUT_MS);
}

/* Exactly len bytes from fd.  Returns 0, or -1 with errno (EPIPE at EOF). */
static int
recv_all(int fd, void *buf, size_t len)
{
	ssize_t n = tio_read_full(fd, buf, len, tio_now_ms() + IO_TIMEOUT_MS);

	if (n < 0)
		return -1;
	if ((size_t)n < len) {
		errno = EPIPE;
		return -1;
	}
	return 0;
}

/* 0 when the peer closes without sending another byte. */
static int
recv_eof(int fd)
{
	uint8_t b;

	if (recv_all(fd, &b, 1) == 0) {
		errno = EPROTO;
		return -1;
	}
	return errno == EPIPE ? 0 : -1;
}

/* --- the far ends -------------------------------------------------------- */

/* Echo until EOF, then close. */
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

/* The port a client asked for, sent back first so the client can check it. */
static int
say_port(int fd, uint16_t port)
{
	uint8_t b[2] = { (uint8_t)(port >> 8), (uint8_t)port };

	return send_all(fd, b, 2);
}

/* erlfwd-server's part: "EFWD", 1, tag, port, length 0; the tag must fit. */
static void
serve_tunnel(int fd)
{
	uint8_t pre[10];
	uint16_t port;

	if (recv_all(fd, pre, sizeof(pre)) != 0) {
		fail("tunnel: no whole preamble: %s", strerror(errno));
		return;
	}
	port = (uint16_t)(pre[6] << 8 | pre[7]);
	if (memcmp(pre, "EFWD\1", 5) != 0 || pre[8] != 0 || pre[9] != 0 ||
	    port == 0 || pre[5] != (port == EPMD_PORT ? 1 : 2)) {
		fail("tunnel: bad preamble %02x%02x%02x%02x %02x %02x %u len %u",
		    pre[0], pre[1], pre[2], pre[3], pre[4], pre[5],
		    (unsigned)port, (unsigned)(pre[8] << 8 | pre[9]));
		return;
	}
	if (say_port(fd, port) == 0)
		echo(fd);
}

/* A SOCKS5 proxy's part: no authentication, CONNECT 127.0.0.1:port. */
static void
serve_socks(int fd)
{
	static const uint8_t method[] = { 5, 0 };
	static const uint8_t ok[] = { 5, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
	uint8_t greet[3], req[10];
	uint16_t port;

	if (recv_all(fd, greet, sizeof(greet)) != 0 || greet[0] != 5 ||
	    greet[1] != 1 || greet[2] != 0) {
		fail("socks5: bad greeting");
		return;
	}
	if (send_all(fd, method, sizeof(method)) != 0 ||
	    recv_all(fd, req, sizeof(req)) != 0) {
		fail("socks5: no request: %s", strerror(errno));
		return;
	}
	port = (uint16_t)(req[8] << 8 | req[9]);
	if (memcmp(req, "\5\1\0\1\177\0\0\1", 8) != 0 || port == 0) {
		fail("socks5: bad CONNECT request");
		return;
	}
	if (send_all(fd, ok, sizeof(ok)) == 0 && say_port(fd, port) == 0)
		echo(fd);
}

/*
 * The cluster helper's part (cluster.h): a LOOKUP for web-N is answered with
 * slot N + 1, any other name with none; an EPMD or DIST request must name
 * one of those sentinels and, for EPMD, the local epmd port.
 */
static void
serve_helper(int fd)
{
	uint8_t h[10], body[256], ans[14] = "EFWD\3\5\0\0\0\4\177\360\0";
	uint16_t port, len;
	unsigned n;
	char name[256];

	if (recv_all(fd, h, sizeof(h)) != 0 || memcmp(h, "EFWD\3", 5) != 0) {
		fail("helper: no request");
		return;
	}
	port = (uint16_t)(h[6] << 8 | h[7]);
	len = (uint16_t)(h[8] << 8 | h[9]);
	if (len == 0 || len > 253 || recv_all(fd, body, len) != 0) {
		fail("helper: bad body length %u", (unsigned)len);
		return;
	}
	if (h[5] == 5) {
		memcpy(name, body, len);
		name[len] = '\0';
		if (sscanf(name, "web-%u", &n) == 1 && n < CLUSTER_NAMES) {
			ans[13] = (uint8_t)(n + 1);
			(void)send_all(fd, ans, sizeof(ans));
		} else
			/* "No such name": the header with an empty body. */
			(void)send_all(fd, "EFWD\3\5\0\0\0\0", 10);
		return;
	}
	if ((h[5] != 1 && h[5] != 2) || len != 4 || port == 0 ||
	    (h[5] == 1) != (port == EPMD_PORT) || body[0] != 127 ||
	    body[1] != 240 || body[2] != 0 || body[3] == 0 ||
	    body[3] > CLUSTER_NAMES) {
		fail("helper: bad request tag %u port %u sentinel %u.%u.%u.%u",
		    h[5], (unsigned)port, body[0], body[1], body[2], body[3]);
		return;
	}
	if (say_port(fd, port) == 0)
		echo(fd);
}

static void *
server_main(void *arg)
{
	enum listener l = (enum listener)(intptr_t)arg;
	struct timeval tv = { IO_TIMEOUT_MS / 1000, 0 };
	int fd;

	for (;;) {
		fd = accept4(lfd[l], NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;	/* shut down */
		}
		atomic_fetch_add(&server_conns, 1);
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (l == L_TUNNEL)
			serve_tunnel(fd);
		else if (l == L_SOCKS)
			serve_socks(fd);
		else if (l == L_HELPER)
			serve_helper(fd);
		else
			echo(fd);
		close(fd);
	}
	return NULL;
}

/* --- the operations ------------------------------------------------------ */

static void
sentinel4(int entry, uint16_t port, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(0x7fef0000u | (uint32_t)(entry + 1));
}

static void
sentinel6(int entry, uint16_t port, struct sockaddr_in6 *sin6)
{
	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr.s6_addr[10] = 0xff;
	sin6->sin6_addr.s6_addr[11] = 0xff;
	sin6->sin6_addr.s6_addr[12] = 127;
	sin6->sin6_addr.s6_addr[13] = 239;
	sin6->sin6_addr.s6_addr[15] = (uint8_t)(entry + 1);
}

/* A port to ask a sentinel for: epmd's now and then, else any but 0. */
static uint16_t
pick_port(uint32_t *seed)
{
	uint16_t p;

	if (rnd(seed) % 4 == 0)
		return EPMD_PORT;
	do
		p = (uint16_t)rnd(seed);
	while (p == 0);
	return p;
}

/* Send a random payload and read it back, then see the far end close. */
static int
exchange(int fd, uint32_t *seed)
{
	uint8_t out[PAYLOAD_MAX], in[PAYLOAD_MAX];
	size_t len = 1 + rnd(seed) % PAYLOAD_MAX, i;

	for (i = 0; i < len; i++)
		out[i] = (uint8_t)rnd(seed);
	if (send_all(fd, out, len) != 0 || recv_all(fd, in, len) != 0)
		return -1;
	if (memcmp(in, out, len) != 0) {
		errno = EBADMSG;
		return -1;
	}
	if (shutdown(fd, SHUT_WR) != 0)
		return -1;
	return recv_eof(fd);
}

/*
 * A connect to entry's sentinel on a fresh socket of family af, blocking or
 * not: checks the return value, errno and flags, then the far end's view
 * of the port, then the stream.
 */
static void
op_sentinel(int af, int entry, int nonblock, uint32_t *seed)
{
	struct sockaddr_storage ss;
	socklen_t len;
	uint16_t port = pick_port(seed), got;
	uint8_t b[2];
	int fd, rc, err, fl, fd_fl, fl_after, fd_fl_after;

	fd = socket(af, SOCK_STREAM | SOCK_CLOEXEC |
	    (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		fail("socket: %s", strerror(errno));
		return;
	}
	if (af == AF_INET) {
		sentinel4(entry, port, (struct sockaddr_in *)(void *)&ss);
		len = sizeof(struct sockaddr_in);
	} else {
		sentinel6(entry, port, (struct sockaddr_in6 *)(void *)&ss);
		len = sizeof(struct sockaddr_in6);
	}
	fl = fcntl(fd, F_GETFL);
	fd_fl = fcntl(fd, F_GETFD);
	errno = ERRNO_CANARY;
	rc = connect(fd, (struct sockaddr *)&ss, len);
	err = errno;
	fl_after = fcntl(fd, F_GETFL);
	fd_fl_after = fcntl(fd, F_GETFD);
	CHECK(fl_after == fl && fd_fl_after == fd_fl,
	    "entry %d port %u: flags %#x/%#x became %#x/%#x", entry,
	    (unsigned)port, fl, fd_fl, fl_after, fd_fl_after);
	if (entry == E_DEAD) {
		CHECK(rc == -1 && err == ECONNREFUSED,
		    "refused route: connect gave %d, errno %s", rc,
		    strerror(err));
		goto out;
	}
	CHECK(rc == 0, "entry %d af %d port %u%s: connect: %s", entry, af,
	    (unsigned)port, nonblock ? " nonblock" : "", strerror(err));
	CHECK(err == ERRNO_CANARY, "entry %d: a successful connect changed "
	    "errno to %s", entry, strerror(err));
	CHECK(recv_all(fd, b, 2) == 0, "entry %d port %u: no word from the "
	    "far end: %s", entry, (unsigned)port, strerror(errno));
	got = (uint16_t)(b[0] << 8 | b[1]);
	/* Through SOCKS5, epmd's port is the remote epmd's: 4369 as well. */
	CHECK(got == port, "entry %d: asked for port %u, the far end was told "
	    "%u", entry, (unsigned)port, (unsigned)got);
	CHECK(exchange(fd, seed) == 0, "entry %d port %u: echo: %s", entry,
	    (unsigned)port, strerror(errno));
out:
	close(fd);
}

/*
 * A cluster name: getaddrinfo must give the helper's sentinel (a name
 * outside its table: none), then a connect to it as op_sentinel's.
 */
static void
op_cluster(uint32_t *seed)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_in sin;
	unsigned n = rnd(seed) % (CLUSTER_NAMES + 1);
	uint16_t port = pick_port(seed), got;
	char name[32];
	uint8_t b[2];
	int fd = -1, rc, err, fl, nonblock = (int)(rnd(seed) % 2);

	snprintf(name, sizeof(name), "web-%u", n);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(name, NULL, &hints, &res);
	if (n == CLUSTER_NAMES) {
		CHECK(rc == EAI_NONAME, "%s: not in the helper's table, yet "
		    "getaddrinfo gave %d", name, rc);
		goto out;
	}
	CHECK(rc == 0, "%s: getaddrinfo: %s", name, gai_strerror(rc));
	memcpy(&sin, res->ai_addr, sizeof(sin));
	CHECK(sin.sin_addr.s_addr == htonl(0x7ff00000u | (n + 1)),
	    "%s resolved to %s", name, inet_ntoa(sin.sin_addr));
	sin.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    (nonblock ? SOCK_NONBLOCK : 0), 0);
	CHECK(fd >= 0, "socket: %s", strerror(errno));
	fl = fcntl(fd, F_GETFL);
	errno = ERRNO_CANARY;
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	err = errno;
	CHECK(fcntl(fd, F_GETFL) == fl, "%s: connect changed the flags", name);
	CHECK(rc == 0 && err == ERRNO_CANARY, "%s port %u: connect %d, %s",
	    name, (unsigned)port, rc, strerror(err));
	CHECK(recv_all(fd, b, 2) == 0, "%s: no word from the helper: %s",
	    name, strerror(errno));
	got = (uint16_t)(b[0] << 8 | b[1]);
	CHECK(got == port, "%s: asked for port %u, the helper was told %u",
	    name, (unsigned)port, (unsigned)got);
	CHECK(exchange(fd, seed) == 0, "%s: echo: %s", name, strerror(errno));
out:
	if (res != NULL)
		freeaddrinfo(res);
	if (fd >= 0)
		close(fd);
}

/* A connect the library must pass through untouched. */
static void
op_plain(int nonblock, uint32_t *seed)
{
	struct sockaddr_in sin;
	int fd, rc, err, fl;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		fail("socket: %s", strerror(errno));
		return;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(lport[L_PLAIN]);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fl = fcntl(fd, F_GETFL);
	errno = ERRNO_CANARY;
	rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	err = errno;
	CHECK(fcntl(fd, F_GETFL) == fl, "plain connect changed the flags");
	if (nonblock) {
		CHECK(rc == 0 || (rc == -1 && err == EINPROGRESS),
		    "plain non-blocking connect: %d, %s", rc, strerror(err));
		if (rc == -1)
			CHECK(tio_wait(fd, POLLOUT, tio_now_ms() + IO_TIMEOUT_MS) == 0,
			    "plain non-blocking connect never completed");
	} else
		CHECK(rc == 0, "plain connect: %s", strerror(err));
	CHECK(exchange(fd, seed) == 0, "plain echo: %s", strerror(errno));
out:
	close(fd);
}

/* he holds exactly one address: entry's sentinel in family af. */
static int
is_sentinel_he(const struct hostent *he, int af, int entry)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	if (he == NULL || he->h_addrtype != af || he->h_addr_list[0] == NULL ||
	    he->h_addr_list[1] != NULL)
		return 0;
	if (af == AF_INET) {
		sentinel4(entry, 0, &sin);
		return he->h_length == 4 &&
		    memcmp(he->h_addr_list[0], &sin.sin_addr, 4) == 0;
	}
	sentinel6(entry, 0, &sin6);
	return he->h_length == 16 &&
	    memcmp(he->h_addr_list[0], &sin6.sin6_addr, 16) == 0;
}

static void
op_ghbn_r(uint32_t *seed)
{
	struct hostent he, *res = NULL;
	char buf[1024];
	int herr = 0, rc, err, glob = rnd(seed) % 2;
	const char *name = glob ? NAME_GLOB : NAME_TUNNEL;

	rc = gethostbyname_r(name, &he, buf, sizeof(buf), &res, &herr);
	CHECK(rc == 0 && res == &he && is_sentinel_he(res, AF_INET,
	    glob ? E_GLOB : E_TUNNEL) && strcmp(res->h_name, name) == 0,
	    "gethostbyname_r(%s): rc %d", name, rc);
	rc = gethostbyname2_r(name, AF_INET6, &he, buf, sizeof(buf), &res,
	    &herr);
	CHECK(rc == 0 && is_sentinel_he(res, AF_INET6, glob ? E_GLOB :
	    E_TUNNEL), "gethostbyname2_r(%s, AF_INET6): rc %d", name, rc);
	/* Too small a buffer: ERANGE returned and in errno, h_errno
	 * NETDB_INTERNAL, as glibc does, so that callers that look at errno
	 * retry with a bigger one too. */
	errno = ERRNO_CANARY;
	rc = gethostbyname_r(name, &he, buf, 16, &res, &herr);
	err = errno;
	CHECK(rc == ERANGE && res == NULL && err == ERANGE &&
	    herr == NETDB_INTERNAL, "gethostbyname_r with 16 bytes: rc %d, "
	    "errno %d, h_errno %d", rc, err, herr);
	/* Not ours: libc answers from /etc/hosts. */
	rc = gethostbyname_r("localhost", &he, buf, sizeof(buf), &res, &herr);
	CHECK(rc == 0 && res != NULL && res->h_addrtype == AF_INET &&
	    ((const uint8_t *)res->h_addr_list[0])[0] == 127 &&
	    ((const uint8_t *)res->h_addr_list[0])[1] != 239,
	    "gethostbyname_r(localhost): rc %d", rc);
out:
	return;
}

/* The non-reentrant calls: thread-local answers for names that match. */
static void
op_ghbn(uint32_t *seed)
{
	struct hostent *he;
	int v6 = rnd(seed) % 2;

	he = v6 ? gethostbyname2(NAME_TUNNEL, AF_INET6) :
	    gethostbyname(NAME_TUNNEL);
	CHECK(is_sentinel_he(he, v6 ? AF_INET6 : AF_INET, E_TUNNEL) &&
	    strcmp(he->h_name, NAME_TUNNEL) == 0, "gethostbyname%s(%s)",
	    v6 ? "2" : "", NAME_TUNNEL);
	/* Another thread's call in between must not have changed it. */
	sched_yield();
	CHECK(is_sentinel_he(he, v6 ? AF_INET6 : AF_INET, E_TUNNEL) &&
	    strcmp(he->h_name, NAME_TUNNEL) == 0,
	    "gethostbyname's answer changed under this thread");
out:
	return;
}

static void
op_ghba(uint32_t *seed)
{
	struct sockaddr_in sin;
	struct hostent *he;
	int glob = rnd(seed) % 2;

	sentinel4(glob ? E_GLOB : E_TUNNEL, 0, &sin);
	h_errno = 0;
	he = gethostbyaddr(&sin.sin_addr, 4, AF_INET);
	if (glob)
		CHECK(he == NULL && h_errno == HOST_NOT_FOUND,
		    "gethostbyaddr of a glob's sentinel found a name");
	else
		CHECK(he != NULL && strcmp(he->h_name, NAME_TUNNEL) == 0 &&
		    is_sentinel_he(he, AF_INET, E_TUNNEL),
		    "gethostbyaddr of the sentinel: %s", he != NULL ?
		    he->h_name : hstrerror(h_errno));
out:
	return;
}

static void
op_gai(uint32_t *seed)
{
	static const int fams[] = { AF_UNSPEC, AF_INET, AF_INET6 };
	struct addrinfo hints, *res = NULL, *ai;
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	struct sockaddr_in w4;
	struct sockaddr_in6 w6;
	const char *name;
	int fam = fams[rnd(seed) % 3], rc, n = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = fam;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	rc = getaddrinfo(NAME_TUNNEL, "4369", &hints, &res);
	CHECK(rc == 0 && res != NULL, "getaddrinfo(%s, family %d): %s",
	    NAME_TUNNEL, fam, gai_strerror(rc));
	sentinel4(E_TUNNEL, EPMD_PORT, &w4);
	sentinel6(E_TUNNEL, EPMD_PORT, &w6);
	for (ai = res; ai != NULL; ai = ai->ai_next, n++) {
		if (ai->ai_family == AF_INET) {
			sin = (const void *)ai->ai_addr;
			CHECK(fam != AF_INET6 && sin->sin_addr.s_addr ==
			    w4.sin_addr.s_addr && sin->sin_port == w4.sin_port,
			    "getaddrinfo: not the IPv4 sentinel");
		} else {
			sin6 = (const void *)ai->ai_addr;
			CHECK(fam == AF_INET6 && memcmp(&sin6->sin6_addr,
			    &w6.sin6_addr, 16) == 0,
			    "getaddrinfo: not the IPv6 sentinel");
		}
	}
	freeaddrinfo(res);
	res = NULL;
	CHECK(n == 1, "getaddrinfo(%s): %d answers", NAME_TUNNEL, n);
	/* AI_CANONNAME: the name asked for, not the sentinel's text. */
	name = rnd(seed) % 2 ? NAME_GLOB : NAME_TUNNEL;
	hints.ai_flags = AI_CANONNAME;
	rc = getaddrinfo(name, NULL, &hints, &res);
	CHECK(rc == 0 && res != NULL && res->ai_canonname != NULL &&
	    strcmp(res->ai_canonname, name) == 0,
	    "getaddrinfo(%s, AI_CANONNAME): %s, canonical name %s", name,
	    gai_strerror(rc), rc == 0 && res->ai_canonname != NULL ?
	    res->ai_canonname : "none");
	freeaddrinfo(res);
	res = NULL;
	/* Names that are not ours, numeric and from /etc/hosts (without
	 * AI_ADDRCONFIG, which a host with loopback only would fail). */
	hints.ai_family = AF_INET;
	hints.ai_flags = 0;
	rc = getaddrinfo(rnd(seed) % 2 ? "127.0.0.1" : "localhost", NULL,
	    &hints, &res);
	CHECK(rc == 0 && res != NULL && ((const struct sockaddr_in *)
	    (const void *)res->ai_addr)->sin_addr.s_addr ==
	    htonl(INADDR_LOOPBACK), "getaddrinfo of a local name: %s",
	    gai_strerror(rc));
out:
	if (res != NULL)
		freeaddrinfo(res);
}

static void
op_gni(uint32_t *seed)
{
	struct sockaddr_in sin;
	char host[256], serv[32];
	int rc;

	sentinel4(E_TUNNEL, EPMD_PORT, &sin);
	rc = getnameinfo((struct sockaddr *)&sin, sizeof(sin), host,
	    sizeof(host), serv, sizeof(serv), NI_NUMERICSERV | NI_NAMEREQD);
	CHECK(rc == 0 && strcmp(host, NAME_TUNNEL) == 0 &&
	    strcmp(serv, "4369") == 0, "getnameinfo(sentinel): %s",
	    gai_strerror(rc));
	/* A glob's sentinel has no name. */
	sentinel4(E_GLOB, EPMD_PORT, &sin);
	rc = getnameinfo((struct sockaddr *)&sin, sizeof(sin), host,
	    sizeof(host), NULL, 0, rnd(seed) % 2 ? NI_NAMEREQD : 0);
	CHECK(rc == EAI_NONAME || (rc == 0 && strcmp(host, "127.239.0.2") == 0),
	    "getnameinfo(glob sentinel): %d %s", rc, rc == 0 ? host : "");
	/* Numeric: never ours. */
	sentinel4(E_TUNNEL, EPMD_PORT, &sin);
	rc = getnameinfo((struct sockaddr *)&sin, sizeof(sin), host,
	    sizeof(host), NULL, 0, NI_NUMERICHOST);
	CHECK(rc == 0 && strcmp(host, "127.239.0.1") == 0,
	    "getnameinfo(NI_NUMERICHOST)");
	/* Too small for the name. */
	rc = getnameinfo((struct sockaddr *)&sin, sizeof(sin), host, 4, NULL, 0,
	    0);
	CHECK(rc == EAI_OVERFLOW, "getnameinfo into 4 bytes: %d", rc);
out:
	return;
}

/*
 * A wildcard TCP bind to port 0 leaves the socket unbound and its listen
 * lands on loopback; a UDP one stays where it was put.
 */
static void
op_bind(uint32_t *seed)
{
	struct sockaddr_in sin, got;
	socklen_t len = sizeof(got);
	int udp = rnd(seed) % 2, fd;

	fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail("socket: %s", strerror(errno));
		return;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	CHECK(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0, "bind: %s",
	    strerror(errno));
	CHECK(getsockname(fd, (struct sockaddr *)&got, &len) == 0,
	    "getsockname: %s", strerror(errno));
	CHECK(got.sin_addr.s_addr == htonl(INADDR_ANY) &&
	    (udp ? got.sin_port != 0 : got.sin_port == 0),
	    "%s wildcard bind landed on %s:%u", udp ? "UDP" : "TCP",
	    inet_ntoa(got.sin_addr), (unsigned)ntohs(got.sin_port));
	if (udp)
		goto out;
	CHECK(listen(fd, 1) == 0, "listen: %s", strerror(errno));
	len = sizeof(got);
	CHECK(getsockname(fd, (struct sockaddr *)&got, &len) == 0,
	    "getsockname: %s", strerror(errno));
	CHECK(got.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	    "TCP listen after a wildcard bind landed on %s",
	    inet_ntoa(got.sin_addr));
out:
	close(fd);
}

static void
op_spawn(uint32_t *seed)
{
	char *argv[] = { "true", NULL };
	pid_t pid;
	int st, how = rnd(seed) % 2;

	if (how == 0) {
		pid = fork();
		if (pid == 0) {
			execve("/bin/true", argv, child_env);
			_exit(127);
		}
		if (pid < 0) {
			fail("fork: %s", strerror(errno));
			return;
		}
	} else if ((errno = posix_spawn(&pid, "/bin/true", NULL, NULL, argv,
	    child_env)) != 0) {
		fail("posix_spawn: %s", strerror(errno));
		return;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			fail("waitpid: %s", strerror(errno));
			return;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail("/bin/true (%s) ended with status %#x", how ? "posix_spawn" :
		    "fork", st);
}

static void
run_op(enum op op, uint32_t *seed)
{
	switch (op) {
	case OP_TUNNEL:
		op_sentinel(AF_INET, rnd(seed) % 2 ? E_TUNNEL : E_GLOB, 0, seed);
		break;
	case OP_TUNNEL_NB:
		op_sentinel(AF_INET, E_TUNNEL, 1, seed);
		break;
	case OP_TUNNEL_V6:
		if (have_v6)
			op_sentinel(AF_INET6, E_TUNNEL, (int)(rnd(seed) % 2), seed);
		break;
	case OP_SOCKS:
		op_sentinel(AF_INET, E_SOCKS, (int)(rnd(seed) % 2), seed);
		break;
	case OP_REFUSED:
		op_sentinel(AF_INET, E_DEAD, (int)(rnd(seed) % 2), seed);
		break;
	case OP_PLAIN:
		op_plain(0, seed);
		break;
	case OP_PLAIN_NB:
		op_plain(1, seed);
		break;
	case OP_GHBN_R:
		op_ghbn_r(seed);
		break;
	case OP_GHBN:
		op_ghbn(seed);
		break;
	case OP_GHBA:
		op_ghba(seed);
		break;
	case OP_GAI:
		op_gai(seed);
		break;
	case OP_GNI:
		op_gni(seed);
		break;
	case OP_BIND:
		op_bind(seed);
		break;
	case OP_CLUSTER:
		op_cluster(seed);
		break;
	case OP_SPAWN:
		op_spawn(seed);
		break;
	default:
		abort();
	}
	atomic_fetch_add(&done[op], 1);
}

/* Mostly connects and lookups; a fork now and then (they are slow). */
static enum op
pick_op(uint32_t *seed)
{
	uint32_t r = rnd(seed) % 64;

	if (r == 0)
		return OP_SPAWN;
	return (enum op)(r % (OP_COUNT - 1));
}

static void *
worker_main(void *arg)
{
	uint32_t seed = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
	long n;

	for (n = 0; (max_ops == 0 || n < max_ops) && tio_now_ms() < deadline_ms; n++)
		run_op(pick_op(&seed), &seed);
	return NULL;
}

/* --- setup --------------------------------------------------------------- */

static void list_fds(void);

static long
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Name every open descriptor on stderr: what a leak is made of. */
static void
list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char path[300], target[256];
	ssize_t n;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		fprintf(stderr, "preload_stress: fd %s -> %s\n", e->d_name,
		    target);
	}
	closedir(d);
}

/* A loopback TCP socket on a port the kernel picks; listening unless dead. */
static int
open_listener(int listening, uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

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

static char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL) {
		fprintf(stderr, "preload_stress: out of memory\n");
		exit(1);
	}
	return s;
}

/* The configuration for the ports in lport. */
static void
set_config(char **hosts, char **tunnel)
{
	*hosts = xasprintf("%s,%s,socksy=socks5://127.0.0.1:%u,"
	    "deadhost=127.0.0.1:%u,web-*=socks5h://127.0.0.1:1?helper=%u",
	    NAME_TUNNEL, PATTERN_GLOB, (unsigned)lport[L_SOCKS],
	    (unsigned)lport[L_DEAD], (unsigned)lport[L_HELPER]);
	*tunnel = xasprintf("127.0.0.1:%u", (unsigned)lport[L_TUNNEL]);
}

/* First start: open the listeners, configure, exec ourselves preloaded. */
static int
stage_one(char **argv, const char *lib)
{
	char *hosts, *tunnel, *preload, fds[64], self[4096];
	const char *old = getenv("LD_PRELOAD");
	ssize_t n;
	int i;

	for (i = 0; i < L_COUNT; i++)
		if ((lfd[i] = open_listener(i != L_DEAD, &lport[i])) < 0) {
			fprintf(stderr, "preload_stress: listener: %s\n",
			    strerror(errno));
			return 1;
		}
	set_config(&hosts, &tunnel);
	/* After what is preloaded already (valgrind's own, say). */
	preload = old != NULL && *old != '\0' ?
	    xasprintf("%s:%s", old, lib) : xasprintf("%s", lib);
	snprintf(fds, sizeof(fds), "%d,%d,%d,%d,%d", lfd[0], lfd[1], lfd[2],
	    lfd[3], lfd[4]);
	if (setenv(STAGE_VAR, fds, 1) != 0 ||
	    setenv("ERLFWD_HOSTS", hosts, 1) != 0 ||
	    setenv("ERLFWD_TUNNEL", tunnel, 1) != 0 ||
	    setenv("ERLFWD_TIMEOUT_MS", "5000", 1) != 0 ||
	    unsetenv("ERLFWD_BIND") != 0 || unsetenv("ERLFWD_DEBUG") != 0 ||
	    unsetenv("ERL_EPMD_PORT") != 0 ||
	    (strcmp(lib, "-") != 0 && setenv("LD_PRELOAD", preload, 1) != 0)) {
		fprintf(stderr, "preload_stress: setenv: %s\n", strerror(errno));
		return 1;
	}
	/* Our own path, as readlink says (valgrind keeps that one true). */
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0) {
		fprintf(stderr, "preload_stress: /proc/self/exe: %s\n",
		    strerror(errno));
		return 1;
	}
	self[n] = '\0';
	execv(self, argv);
	fprintf(stderr, "preload_stress: exec: %s\n", strerror(errno));
	return 1;
}

static int
parse_fds(const char *s)
{
	struct sockaddr_in sin;
	socklen_t len;
	int i;

	if (sscanf(s, "%d,%d,%d,%d,%d", &lfd[0], &lfd[1], &lfd[2], &lfd[3],
	    &lfd[4]) != 5)
		return -1;
	for (i = 0; i < L_COUNT; i++) {
		len = sizeof(sin);
		if (getsockname(lfd[i], (struct sockaddr *)&sin, &len) != 0)
			return -1;
		lport[i] = ntohs(sin.sin_port);
		(void)fcntl(lfd[i], F_SETFD, FD_CLOEXEC);
	}
	return 0;
}

/* The environment of the children: the plain library, or none. */
static void
set_child_env(const char *child_lib)
{
	size_t n = 0;

	child_env[n++] = xasprintf("ERLFWD_HOSTS=%s", getenv("ERLFWD_HOSTS"));
	child_env[n++] = xasprintf("ERLFWD_TUNNEL=%s", getenv("ERLFWD_TUNNEL"));
	child_env[n++] = xasprintf("PATH=/usr/bin:/bin");
	if (child_lib != NULL)
		child_env[n++] = xasprintf("LD_PRELOAD=%s", child_lib);
	child_env[n] = NULL;
}

/* Does the library answer?  A stress run without it proves nothing. */
static int
library_active(void)
{
	struct addrinfo hints, *res = NULL;
	int ok;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	if (getaddrinfo(NAME_TUNNEL, NULL, &hints, &res) != 0)
		return 0;
	ok = ((const struct sockaddr_in *)(const void *)res->ai_addr)->
	    sin_addr.s_addr == htonl(0x7fef0001u);
	freeaddrinfo(res);
	return ok;
}

static int
probe_v6(void)
{
	struct sockaddr_in6 sin6;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (fd < 0)
		return 0;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	ok = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	close(fd);
	return ok;
}

static void
usage(void)
{
	fprintf(stderr, "usage: preload_stress [-t THREADS] [-s SECONDS] "
	    "[-n OPS] LIB|- [CHILD_LIB]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	pthread_t workers[THREADS_MAX], servers[L_COUNT][SERVER_THREADS];
	const char *stage;
	long fds_before, fds_after, total = 0, seconds = 3, threads = 16, t0;
	int ch, i, j, e;
	uint32_t seed = 1;

	while ((ch = getopt(argc, argv, "t:s:n:")) != -1) {
		switch (ch) {
		case 't':
			threads = strtol(optarg, NULL, 10);
			break;
		case 's':
			seconds = strtol(optarg, NULL, 10);
			break;
		case 'n':
			max_ops = strtol(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (optind >= argc || optind + 2 < argc || threads < 1 ||
	    threads > THREADS_MAX || seconds < 1 || max_ops < 0)
		usage();
	if ((stage = getenv(STAGE_VAR)) == NULL)
		return stage_one(argv, argv[optind]);

	/* The library is in; what this process starts must not inherit a
	 * sanitized one (the sanitizer's own symbolizer included). */
	(void)unsetenv("LD_PRELOAD");
	signal(SIGPIPE, SIG_IGN);
	/* A hang is a failure too: die well after the run should have ended. */
	alarm((unsigned)seconds + 60);
	if (parse_fds(stage) != 0) {
		fprintf(stderr, "preload_stress: bad %s\n", STAGE_VAR);
		return 1;
	}
	if (!library_active()) {
		fprintf(stderr, "preload_stress: %s does not resolve to its "
		    "sentinel: the library is not loaded or not configured\n",
		    NAME_TUNNEL);
		return 1;
	}
	have_v6 = probe_v6();
	set_child_env(optind + 1 < argc ? argv[optind + 1] : NULL);

	for (i = 0; i < L_COUNT; i++) {
		if (i == L_DEAD)
			continue;
		for (j = 0; j < SERVER_THREADS; j++) {
			if ((e = pthread_create(&servers[i][j], NULL,
			    server_main, (void *)(intptr_t)i)) != 0) {
				fprintf(stderr, "preload_stress: thread: %s\n",
				    strerror(e));
				return 1;
			}
		}
	}
	/* One of each first, alone: whatever libc sets up lazily (NSS,
	 * netlink) is set up before the descriptors are counted. */
	deadline_ms = tio_now_ms() + seconds * 1000;
	for (i = 0; i < OP_COUNT; i++)
		run_op((enum op)i, &seed);
	fds_before = count_fds();

	t0 = tio_now_ms();
	deadline_ms = t0 + seconds * 1000;
	for (i = 0; i < threads; i++)
		if ((e = pthread_create(&workers[i], NULL, worker_main,
		    (void *)(uintptr_t)(i + 1))) != 0) {
			fprintf(stderr, "preload_stress: thread: %s\n",
			    strerror(e));
			return 1;
		}
	for (i = 0; i < threads; i++)
		pthread_join(workers[i], NULL);
	t0 = tio_now_ms() - t0;

	/* Stop the far ends: shutting a listener down wakes its accepts. */
	for (i = 0; i < L_COUNT; i++)
		if (i != L_DEAD)
			(void)shutdown(lfd[i], SHUT_RDWR);
	for (i = 0; i < L_COUNT; i++)
		for (j = 0; i != L_DEAD && j < SERVER_THREADS; j++)
			pthread_join(servers[i][j], NULL);
	fds_after = count_fds();
	if (fds_after != fds_before) {
		list_fds();
		fail("file descriptors: %ld before, %ld after", fds_before,
		    fds_after);
	}

	for (i = 0; i < OP_COUNT; i++)
		total += atomic_load(&done[i]);
	printf("preload_stress: %ld threads, %.1f s: %ld operations (%.0f/s), "
	    "%ld far-end connections, %ld failures, fds %ld -> %ld%s\n",
	    threads, (double)t0 / 1000, total, (double)total * 1000 /
	    (double)(t0 > 0 ? t0 : 1), atomic_load(&server_conns),
	    atomic_load(&failures), fds_before, fds_after,
	    have_v6 ? "" : " (no IPv6: its cases skipped)");
	printf("  ");
	for (i = 0; i < OP_COUNT; i++)
		printf("%s=%ld%s", op_names[i], atomic_load(&done[i]),
		    i + 1 < OP_COUNT ? " " : "\n");
	return atomic_load(&failures) == 0 ? 0 : 1;
}
