/*
 * probe.c: the distribution handshake through the tunnel (probe.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dial.h"
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

int
probe_node(const struct route *r, uint16_t port, const char *self,
    const char *cookie, int timeout_ms, struct probe_result *res)
{
	uint8_t out[DIST_LEN_HDR + DIST_BODY_MAX];
	uint8_t body[DIST_BODY_MAX], digest[MD5_LEN];
	struct dist_challenge ch;
	long start = tio_now_ms(), deadline = start + timeout_ms;
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
	if ((m = dist_name(out, sizeof(out), self,
	    (uint32_t)getpid() | 4)) < 0) {
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
	if (strcmp(res->status_text, "ok") != 0 &&
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
	if (fd >= 0)
		close(fd);
	res->elapsed_ms = tio_now_ms() - start;
	return res->status == PROBE_OK ? 0 : -1;
}
