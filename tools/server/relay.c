/*
 * relay.c: the byte mover between two sockets (relay.h).
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sock.h"
#include "relay.h"

#define SPLICE_FLAGS	(SPLICE_F_MOVE | SPLICE_F_NONBLOCK)

/* 1 when this kernel splices from a stream socket into the pipe p. */
static int
splice_works(int p[2])
{
	int sv[2], ok;
	char c = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) != 0)
		return 0;
	ok = write(sv[0], &c, 1) == 1 &&
	    splice(sv[1], NULL, p[1], NULL, 1, SPLICE_FLAGS) == 1 &&
	    read(p[0], &c, 1) == 1;
	close(sv[0]);
	close(sv[1]);
	return ok;
}

int
relay_ctx_init(struct relay_ctx *ctx, uint8_t *scratch, size_t cap,
    int want_splice)
{
	ctx->scratch = scratch;
	ctx->cap = cap;
	ctx->pipe[0] = ctx->pipe[1] = -1;
	if (!want_splice || pipe2(ctx->pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		return 0;
	if (!splice_works(ctx->pipe))
		relay_ctx_free(ctx);
	return ctx->pipe[0] >= 0;
}

void
relay_ctx_free(struct relay_ctx *ctx)
{
	if (ctx->pipe[0] >= 0) {
		close(ctx->pipe[0]);
		close(ctx->pipe[1]);
	}
	ctx->pipe[0] = ctx->pipe[1] = -1;
}

void
relay_init(struct relay *r, int client, int upstream)
{
	memset(r, 0, sizeof(*r));
	r->fd[RELAY_CLIENT] = client;
	r->fd[RELAY_UPSTREAM] = upstream;
	r->dir[0].pipe[0] = r->dir[0].pipe[1] = -1;
	r->dir[1].pipe[0] = r->dir[1].pipe[1] = -1;
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

static int
would_block(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK;
}

/* Write what direction d holds; give the buffer back once it has drained. */
static int
flush(struct relay *r, int d)
{
	struct relay_dir *dir = &r->dir[d];
	ssize_t n;

	while (dir->len > 0) {
		if (dir->buf != NULL)
			n = sock_send(r->fd[1 - d], dir->buf + dir->off,
			    dir->len);
		else
			n = splice(dir->pipe[0], NULL, r->fd[1 - d], NULL,
			    dir->len, SPLICE_FLAGS);
		if (n < 0)
			return would_block() ? RELAY_OPEN : RELAY_RESET;
		dir->off += (uint32_t)n;
		dir->len -= (uint32_t)n;
	}
	/* A pipe is kept for the next backlog; a heap buffer is not. */
	free(dir->buf);
	dir->buf = NULL;
	dir->off = 0;
	maybe_shut(r, d);
	return RELAY_OPEN;
}

/* Keep len bytes of buf for direction d, which holds nothing. */
static int
keep_bytes(struct relay_dir *dir, const uint8_t *buf, size_t len)
{
	if ((dir->buf = malloc(len)) == NULL)
		return RELAY_NOMEM;
	memcpy(dir->buf, buf, len);
	dir->off = 0;
	dir->len = (uint32_t)len;
	return RELAY_OPEN;
}

/*
 * Write buf (len bytes, just read for direction d, which holds nothing) and
 * keep what the destination would not take.
 */
static int
forward(struct relay *r, int d, const uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = sock_send(r->fd[1 - d], buf, len);
		if (n < 0) {
			if (!would_block())
				return RELAY_RESET;
			break;
		}
		buf += n;
		len -= (size_t)n;
	}
	return len == 0 ? RELAY_OPEN : keep_bytes(&r->dir[d], buf, len);
}

int
relay_prime(struct relay *r, int d, const uint8_t *buf, size_t len)
{
	r->bytes[d] += len;
	return forward(r, d, buf, len);
}

/* Copy mode: read once from side d's source and pass it on. */
static int
pump_copy(struct relay *r, const struct relay_ctx *ctx, int d)
{
	ssize_t n;

	n = sock_recv(r->fd[d], ctx->scratch, ctx->cap);
	if (n > 0) {
		r->bytes[d] += (uint64_t)n;
		return forward(r, d, ctx->scratch, (size_t)n);
	}
	if (n == 0) {
		r->dir[d].eof = 1;
		maybe_shut(r, d);
		return RELAY_OPEN;
	}
	return would_block() ? RELAY_OPEN : RELAY_RESET;
}

/* Throw away what is left in the shared pipe: it must never carry one
 * connection's bytes into another's. */
static void
drain_shared(const struct relay_ctx *ctx)
{
	while (read(ctx->pipe[0], ctx->scratch, ctx->cap) > 0)
		;
}

/*
 * Move the len bytes left in the shared pipe to direction d's own pipe (made
 * now if need be), or, when no pipe can be had, to a heap buffer: the shared
 * pipe must be empty when we return.
 */
static int
keep_pipe(struct relay_dir *dir, const struct relay_ctx *ctx, size_t len)
{
	ssize_t n;

	if (dir->pipe[0] < 0 &&
	    pipe2(dir->pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		dir->pipe[0] = dir->pipe[1] = -1;
	if (dir->pipe[0] >= 0) {
		/* Pipe to pipe moves page references; ours is empty and as
		 * large as the shared one, so it takes everything. */
		n = splice(ctx->pipe[0], NULL, dir->pipe[1], NULL, len,
		    SPLICE_FLAGS);
		if (n == (ssize_t)len) {
			dir->len = (uint32_t)len;
			return RELAY_OPEN;
		}
		if (n > 0) {
			/* Cannot happen; if it did, order would be lost. */
			dir->len = (uint32_t)n;
			drain_shared(ctx);
			return RELAY_NOMEM;
		}
	}
	n = read(ctx->pipe[0], ctx->scratch, len);
	if (n != (ssize_t)len) {
		drain_shared(ctx);
		return RELAY_NOMEM;
	}
	return keep_bytes(dir, ctx->scratch, len);
}

/* Splice mode: move one pipeful from side d's source to its destination. */
static int
pump_splice(struct relay *r, const struct relay_ctx *ctx, int d)
{
	ssize_t n, m;
	size_t left;

	n = splice(r->fd[d], NULL, ctx->pipe[1], NULL, ctx->cap, SPLICE_FLAGS);
	if (n == 0) {
		r->dir[d].eof = 1;
		maybe_shut(r, d);
		return RELAY_OPEN;
	}
	if (n < 0) {
		if (would_block())
			return RELAY_OPEN;
		if (errno == EINVAL) {
			/* These sockets cannot splice: copy, from now on. */
			r->copy = 1;
			return pump_copy(r, ctx, d);
		}
		return RELAY_RESET;
	}
	r->bytes[d] += (uint64_t)n;
	for (left = (size_t)n; left > 0; left -= (size_t)m) {
		m = splice(ctx->pipe[0], NULL, r->fd[1 - d], NULL, left,
		    SPLICE_FLAGS);
		if (m < 0) {
			if (!would_block()) {
				/* Empty the shared pipe before we give up. */
				(void)keep_pipe(&r->dir[d], ctx, left);
				return RELAY_RESET;
			}
			return keep_pipe(&r->dir[d], ctx, left);
		}
	}
	return RELAY_OPEN;
}

int
relay_event(struct relay *r, const struct relay_ctx *ctx, int s, int readable,
    int writable)
{
	int rc, in = 1 - s;	/* the direction that writes to side s */

	if (writable && r->dir[in].len > 0 &&
	    (rc = flush(r, in)) != RELAY_OPEN)
		return rc;
	if (readable && !r->dir[s].eof && r->dir[s].len == 0) {
		rc = ctx->pipe[0] >= 0 && !r->copy ? pump_splice(r, ctx, s) :
		    pump_copy(r, ctx, s);
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
	struct relay_dir *dir;
	int i;

	for (i = 0; i < 2; i++) {
		dir = &r->dir[i];
		free(dir->buf);
		dir->buf = NULL;
		dir->len = 0;
		if (dir->pipe[0] >= 0) {
			close(dir->pipe[0]);
			close(dir->pipe[1]);
			dir->pipe[0] = dir->pipe[1] = -1;
		}
		if (r->fd[i] < 0)
			continue;
		if (reset)
			sock_reset(r->fd[i]);
		else
			close(r->fd[i]);
		r->fd[i] = -1;
	}
}
