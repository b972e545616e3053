/*
 * relay.c: the byte mover between two sockets (relay.h).
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "relay.h"

void
relay_init(struct relay *r, int a, int b)
{
	memset(r, 0, sizeof(*r));
	r->fd[0] = a;
	r->fd[1] = b;
}

/* Pass an EOF on once everything before it is written. */
static void
maybe_shut(struct relay *r, int d)
{
	struct relay_dir *dir = &r->dir[d];

	if (dir->eof && !dir->shut && dir->len == 0) {
		(void)shutdown(r->fd[1 - d], SHUT_WR);
		dir->shut = 1;
	}
}

static int
status(const struct relay *r)
{
	return r->dir[0].shut && r->dir[1].shut ? RELAY_DONE : RELAY_OPEN;
}

/* Write what direction d holds; free the buffer once it has drained. */
static int
flush(struct relay *r, int d)
{
	struct relay_dir *dir = &r->dir[d];
	ssize_t n;

	while (dir->len > 0) {
		n = io_send(r->fd[1 - d], dir->pending + dir->off, dir->len);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ?
			    RELAY_OPEN : RELAY_RESET;
		dir->off += (uint32_t)n;
		dir->len -= (uint32_t)n;
	}
	free(dir->pending);
	dir->pending = NULL;
	dir->off = 0;
	maybe_shut(r, d);
	return RELAY_OPEN;
}

/*
 * Write buf (len bytes, just read for direction d, which holds nothing) and
 * keep what the destination would not take.
 */
static int
forward(struct relay *r, int d, const uint8_t *buf, size_t len)
{
	struct relay_dir *dir = &r->dir[d];
	ssize_t n;

	while (len > 0) {
		n = io_send(r->fd[1 - d], buf, len);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return RELAY_RESET;
			break;
		}
		buf += n;
		len -= (size_t)n;
	}
	if (len == 0)
		return RELAY_OPEN;
	if ((dir->pending = malloc(len)) == NULL)
		return RELAY_NOMEM;
	memcpy(dir->pending, buf, len);
	dir->off = 0;
	dir->len = (uint32_t)len;
	return RELAY_OPEN;
}

int
relay_prime(struct relay *r, int d, const uint8_t *buf, size_t len)
{
	r->bytes[d] += len;
	return forward(r, d, buf, len);
}

/* Read once from side d's source and pass it on. */
static int
pump(struct relay *r, int d, uint8_t *scratch, size_t cap)
{
	ssize_t n;

	n = io_recv(r->fd[d], scratch, cap);
	if (n > 0) {
		r->bytes[d] += (uint64_t)n;
		return forward(r, d, scratch, (size_t)n);
	}
	if (n == 0) {
		r->dir[d].eof = 1;
		maybe_shut(r, d);
		return RELAY_OPEN;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return RELAY_OPEN;
	return RELAY_RESET;
}

int
relay_event(struct relay *r, int s, int readable, int writable,
    uint8_t *scratch, size_t cap)
{
	int rc, in = 1 - s;	/* the direction that writes to side s */

	if (writable && r->dir[in].len > 0 &&
	    (rc = flush(r, in)) != RELAY_OPEN)
		return rc;
	if (readable && !r->dir[s].eof && r->dir[s].len == 0) {
		rc = pump(r, s, scratch, cap);
		if (rc != RELAY_OPEN)
			return rc;
	}
	return status(r);
}

void
relay_wants(const struct relay *r, int s, int *rd, int *wr)
{
	/* Read only what the other side can take now: that is backpressure. */
	*rd = !r->dir[s].eof && r->dir[s].len == 0;
	*wr = r->dir[1 - s].len > 0;
}

void
relay_close(struct relay *r, int reset)
{
	int i;

	for (i = 0; i < 2; i++) {
		free(r->dir[i].pending);
		r->dir[i].pending = NULL;
		r->dir[i].len = 0;
		if (r->fd[i] < 0)
			continue;
		if (reset)
			io_reset(r->fd[i]);
		else
			close(r->fd[i]);
		r->fd[i] = -1;
	}
}
