/*
 * probe.c: the distribution handshake through the tunnel (probe.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dial.h"
#include "etf.h"
#include "frame.h"
#include "probe.h"
#include "tio.h"

/*
 * Read one handshake message into body (DIST_BODY_MAX bytes).  Returns its
 * length, 0 when the peer closed before a whole message, or -1.
 */
static ssize_t
read_msg(int fd, uint8_t *body, long deadline)
{
	uint8_t hdr[DIST_LEN_HDR];
	size_t len;
	ssize_t n;

	if ((n = tio_read_full(fd, hdr, sizeof(hdr), deadline)) != sizeof(hdr))
		return n < 0 ? -1 : 0;
	len = (size_t)hdr[0] << 8 | hdr[1];
	if (len == 0 || len > DIST_BODY_MAX) {
		errno = EPROTO;
		return -1;
	}
	if ((n = tio_read_full(fd, body, len, deadline)) != (ssize_t)len)
		return n < 0 ? -1 : 0;
	return (ssize_t)len;
}

/* The status message that answers "alive": go on (erl_dist_protocol, 3B). */
static const uint8_t keep_going[] = { 0, 5, 's', 't', 'r', 'u', 'e' };

/* A challenge of our own: random enough for a handshake nobody replays. */
static uint32_t
own_challenge(void)
{
	uint32_t v = 0;
	struct timespec ts;
	int fd;

	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) >= 0) {
		if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
			v = 0;
		close(fd);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	return v ^ (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() << 16;
}

/* Set res from a failed read of the message we waited for (n: 0 or -1). */
static void
read_failed(struct probe_result *res, ssize_t n, enum probe_status closed)
{
	if (n == 0)
		res->status = closed;
	else if (errno == ETIMEDOUT)
		res->status = PROBE_TIMEOUT;
	else if (errno == EPROTO)
		res->status = PROBE_GARBLED;
	else if (errno == ECONNRESET || errno == EPIPE)
		res->status = closed;
	else
		res->status = PROBE_LOCAL;
	res->err = n < 0 ? errno : 0;
}

/*
 * handshake: reach the node on port through r as self (with creation) and
 * run the handshake until deadline: up to the node's challenge when cookie
 * is NULL, else all the way.  Returns the connected socket with res->status
 * PROBE_OK, or -1 with res->status set.
 */
static int
handshake(const struct route *r, uint16_t port, const char *self,
    uint32_t creation, const char *cookie, long deadline,
    struct probe_result *res)
{
	uint8_t out[DIST_LEN_HDR + DIST_BODY_MAX];
	uint8_t body[DIST_BODY_MAX], digest[MD5_LEN];
	struct dist_challenge ch;
	enum dial_stage stage;
	uint32_t ours;
	ssize_t n;
	int fd, m;

	memset(res, 0, sizeof(*res));
	res->status = PROBE_LOCAL;
	fd = dial_route(r, FRAME_TAG_DIST, port, deadline, &stage);
	if (fd < 0) {
		res->err = errno;
		/* A SOCKS5 proxy that cannot reach the port: as the server
		 * closing a port it will not relay. */
		res->status = stage == DIAL_TARGET ? PROBE_CLOSED :
		    errno == ETIMEDOUT ? PROBE_TIMEOUT : PROBE_TUNNEL;
		goto out;
	}
	if ((m = dist_name(out, sizeof(out), self, creation)) < 0) {
		res->err = EINVAL;
		goto out;
	}
	if (tio_write_all(fd, out, (size_t)m, deadline) != 0) {
		read_failed(res, -1, PROBE_CLOSED);
		goto out;
	}
	if ((n = read_msg(fd, body, deadline)) <= 0) {
		read_failed(res, n, PROBE_CLOSED);
		goto out;
	}
	if (dist_status(body, (size_t)n, res->status_text,
	    sizeof(res->status_text)) != 0) {
		res->status = PROBE_GARBLED;
		goto out;
	}
	/*
	 * "alive": the node still holds a connection from a node of our name,
	 * typically our own previous probe, whose close has not reached it
	 * yet.  Answering "true" tells it to drop that one and go on.
	 */
	if (strcmp(res->status_text, "alive") == 0) {
		if (tio_write_all(fd, keep_going, sizeof(keep_going),
		    deadline) != 0) {
			read_failed(res, -1, PROBE_CLOSED);
			goto out;
		}
	} else if (strcmp(res->status_text, "ok") != 0 &&
	    strcmp(res->status_text, "ok_simultaneous") != 0) {
		res->status = PROBE_REFUSED;
		goto out;
	}
	if ((n = read_msg(fd, body, deadline)) <= 0) {
		read_failed(res, n, PROBE_CLOSED);
		goto out;
	}
	if (dist_challenge(body, (size_t)n, &ch) != 0) {
		res->status = PROBE_GARBLED;
		goto out;
	}
	memcpy(res->node, ch.node, sizeof(res->node));
	if (cookie == NULL) {
		res->status = PROBE_OK;
		goto out;
	}
	ours = own_challenge();
	dist_digest(cookie, ch.challenge, digest);
	if ((m = dist_reply(out, sizeof(out), ours, digest)) < 0 ||
	    tio_write_all(fd, out, (size_t)m, deadline) != 0) {
		read_failed(res, -1, PROBE_COOKIE);
		goto out;
	}
	/* A node that rejects our digest closes without a word. */
	if ((n = read_msg(fd, body, deadline)) <= 0) {
		read_failed(res, n, PROBE_COOKIE);
		goto out;
	}
	dist_digest(cookie, ours, digest);
	res->status = dist_ack(body, (size_t)n, digest) ? PROBE_OK :
	    PROBE_COOKIE;
out:
	if (res->status == PROBE_OK)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The creation we announce: any value but 0..3, which mean "none" to OTP. */
static uint32_t
own_creation(void)
{
	return (uint32_t)getpid() | 4;
}

int
probe_node(const struct route *r, uint16_t port, const char *self,
    const char *cookie, int timeout_ms, struct probe_result *res)
{
	long start = tio_now_ms();
	int fd;

	fd = handshake(r, port, self, own_creation(), cookie,
	    start + timeout_ms, res);
	if (fd >= 0)
		close(fd);
	res->elapsed_ms = tio_now_ms() - start;
	return fd >= 0 ? 0 : -1;
}

/*
 * read_dist_msg: the body of the next message that is not a tick, into buf
 * (cap bytes); a longer one is read and dropped (*len 0).  Returns 0, or -1
 * with res->status set.
 */
static int
read_dist_msg(int fd, uint8_t *buf, size_t cap, size_t *len, long deadline,
    struct probe_result *res)
{
	uint8_t hdr[ETF_MSG_HDR], sink[512];
	size_t want, part;
	ssize_t n;

	do {
		n = tio_read_full(fd, hdr, sizeof(hdr), deadline);
		if (n != (ssize_t)sizeof(hdr)) {
			read_failed(res, n < 0 ? -1 : 0, PROBE_CLOSED);
			return -1;
		}
		want = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
		    (size_t)hdr[2] << 8 | hdr[3];
	} while (want == 0);
	*len = want <= cap ? want : 0;
	while (want > 0) {
		part = want <= cap ? want : want < sizeof(sink) ? want :
		    sizeof(sink);
		n = tio_read_full(fd, want <= cap ? buf : sink, part,
		    deadline);
		if (n != (ssize_t)part) {
			read_failed(res, n < 0 ? -1 : 0, PROBE_CLOSED);
			return -1;
		}
		want -= part;
	}
	return 0;
}

/*
 * call: M:F(Args) on the node through rex on fd, as self; the answer's text
 * in out (cap bytes, "" when it is not text).  Returns 0, or -1
 * with res->status set.
 */
static int
call(int fd, struct etf_self *self, const char *mod, const char *fun,
    const char *const *args, int nargs, char *out, size_t cap, long deadline,
    struct probe_result *res)
{
	uint8_t buf[4096];
	size_t len;
	int m;

	self->ref[0] = own_challenge() & 0x3ffff;
	self->ref[1] = own_challenge();
	self->ref[2] = own_challenge();
	if ((m = etf_rpc(buf, sizeof(buf), self, mod, fun, args, nargs)) < 0) {
		res->status = PROBE_LOCAL;
		res->err = EINVAL;
		return -1;
	}
	if (tio_write_all(fd, buf, (size_t)m, deadline) != 0) {
		read_failed(res, -1, PROBE_CLOSED);
		return -1;
	}
	for (;;) {
		if (read_dist_msg(fd, buf, sizeof(buf), &len, deadline,
		    res) != 0)
			return -1;
		/* Anything else the node sends meanwhile is not for us. */
		switch (etf_reply(buf, len, self, out, cap)) {
		case ETF_TEXT:
			return 0;
		case ETF_OTHER:
			out[0] = '\0';
			return 0;
		default:
			break;
		}
	}
}

int
probe_versions(const struct route *r, uint16_t port, const char *self,
    const char *cookie, int timeout_ms, struct probe_result *res,
    struct versions *v)
{
	static const char *const otp_release[] = { "otp_release" };
	static const char *const elixir_vsn[] = { "elixir", "vsn" };
	struct etf_self me = { .node = self, .creation = own_creation(),
	    .pid_id = 1 };
	long start = tio_now_ms(), deadline = start + timeout_ms;
	int fd;

	memset(v, 0, sizeof(*v));
	fd = handshake(r, port, self, me.creation, cookie, deadline, res);
	if (fd < 0)
		goto out;
	if (call(fd, &me, "erlang", "system_info", otp_release, 1, v->otp,
	    sizeof(v->otp), deadline, res) != 0 ||
	    call(fd, &me, "application", "get_key", elixir_vsn, 2, v->elixir,
	    sizeof(v->elixir), deadline, res) != 0)
		goto out;
	if (v->otp[0] == '\0') {
		res->status = PROBE_GARBLED;
		goto out;
	}
	res->status = PROBE_OK;
out:
	if (fd >= 0)
		close(fd);
	res->elapsed_ms = tio_now_ms() - start;
	return res->status == PROBE_OK ? 0 : -1;
}
