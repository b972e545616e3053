/*
 * local.c: the agent's local side (agent_int.h): its listeners, the local
 * connections waiting for their preamble or for the carrier, the
 * library-free mode's ports (agentq.h), and who may use them.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_int.h"
#include "agentq.h"
#include "ep.h"
#include "frame.h"
#include "mux.h"
#include "plat.h"
#include "procnet.h"
#include "safe.h"
#include "sock.h"
#include "tio.h"

void
local_free(struct agent *a, struct pending *p, int reset)
{
	agent_watch(a, &p->h, 0);
	TAILQ_REMOVE(&a->pending, p, entry);
	a->npending--;
	if (p->h.fd >= 0) {
		if (reset)
			sock_reset(p->h.fd);
		else
			close(p->h.fd);
	}
	free(p);
}

/*
 * The local port for DIST(port) streams (agentq.h): the one open already,
 * else a new listener, in place of the least recently asked for when all
 * are taken.  Returns the port, or 0 (out of descriptors).
 */
static uint16_t
fwd_port(struct agent *a, uint16_t port, long now)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct fwd *f, *lru = &a->fwd[0];
	int i;

	for (i = 0; i < FWD_MAX; i++) {
		f = &a->fwd[i];
		if (f->h.fd >= 0 && f->dist_port == port) {
			f->used = now;
			return f->local_port;
		}
		if (f->h.fd < 0 ? lru->h.fd >= 0 : lru->h.fd >= 0 &&
		    f->used < lru->used)
			lru = f;
	}
	if (lru->h.fd >= 0) {
		agent_watch(a, &lru->h, 0);
		close(lru->h.fd);
		lru->h.fd = -1;
	}
	len = sock_loopback(&ss, 0);
	if ((lru->h.fd = sock_listen((struct sockaddr *)&ss, len,
	    SOMAXCONN)) < 0)
		return 0;
	if (getsockname(lru->h.fd, (struct sockaddr *)&ss, &len) != 0) {
		close(lru->h.fd);
		lru->h.fd = -1;
		return 0;
	}
	lru->dist_port = port;
	lru->local_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	lru->used = now;
	if (a->accept_resume == 0)
		agent_watch(a, &lru->h, EP_IN);
	return lru->local_port;
}

/* p's client asked for the port of DIST(port): answer, and done with it. */
static void
pending_agentq(struct agent *a, struct pending *p, uint16_t port)
{
	uint8_t ans[AGENTQ_LEN];
	uint16_t local = fwd_port(a, port, tio_now_ms());

	agentq_answer(ans, local != 0 ? AGENTQ_OK : AGENTQ_REFUSED, local);
	/* A fresh socket's buffer takes seven bytes. */
	(void)sock_send(p->h.fd, ans, sizeof(ans));
	local_free(a, p, 0);
}

/*
 * Read what p's client sent so far: a preamble (the stream is opened in
 * local_serve()), or the agent's own request (answered now).  Bad
 * bytes end it.
 */
void
local_read(struct agent *a, struct pending *p)
{
	ssize_t n;
	uint16_t port;
	int k;

	if (p->inlen == sizeof(p->in)) {
		agent_watch(a, &p->h, 0);	/* enough to open the stream with */
		return;
	}
	n = sock_recv(p->h.fd, p->in + p->inlen, sizeof(p->in) - p->inlen);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		local_free(a, p, 0);
		return;
	}
	if (n < 0)
		return;
	p->inlen += (size_t)n;
	if (p->framelen == 0) {
		if ((k = agentq_decode(p->in, p->inlen, &port)) > 0) {
			pending_agentq(a, p, port);
			return;
		}
		if (k == 0)
			return;		/* "EFW": not yet told apart */
		k = frame_decode(p->in, p->inlen, FRAME_REQ_BODY_MAX, &p->f);
		if (k < 0 || (k > 0 && p->f.tag == FRAME_TAG_CARRIER)) {
			local_free(a, p, 0);
			return;
		}
		p->framelen = (size_t)k;
	}
}

/*
 * The streams we open at once on the carrier: a margin below the limit the
 * server's hello announced, or 0 for none (an older server, which refuses
 * past its limit all the same).
 */
static size_t
stream_cap(const struct agent *a)
{
	size_t limit = mux_peer_max_streams(a->m);
	size_t margin = limit / STREAM_MARGIN > 0 ? limit / STREAM_MARGIN : 1;

	if (limit == 0)
		return 0;
	return limit > margin ? limit - margin : 1;
}

/*
 * The open streams are at the cap: a connection waits for one to end.
 * One line per episode, which lasts until the streams fall to half the cap
 * with none waiting: a program that keeps the carrier at its cap is not a
 * line a connection.
 */
static void
cap_reached(struct agent *a, size_t open)
{
	if (a->capped)
		return;
	a->capped = 1;
	safe_line(stderr, "erlfwd: %zu streams open, near erlfwd-server's "
	    "limit of %zu: new local connections wait for one to end (up to "
	    "%d of them, for %d ms at most; more are refused)", open,
	    mux_peer_max_streams(a->m), PENDING_MAX, a->o->timeout_ms);
}

/*
 * Hand the complete pending connections to the carrier, in order, as long
 * as the streams open stay under the cap; expire those whose time is up
 * (the tunnel is down, or no stream ended in time).
 */
void
local_serve(struct agent *a, long now)
{
	struct pending *p, *next;
	struct mux_stats st;
	size_t cap = 0, open = 0;
	int up = a->up && a->m != NULL, waiting = 0;
	uint32_t id;

	if (up) {
		cap = stream_cap(a);
		mux_stats(a->m, &st);
		open = st.open;
	}
	for (p = TAILQ_FIRST(&a->pending); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->framelen > 0 && up && !waiting &&
		    (cap == 0 || open < cap)) {
			agent_watch(a, &p->h, 0);
			id = mux_open(a->m, p->h.fd, p->f.tag, p->f.port,
			    p->in + p->framelen, p->inlen - p->framelen);
			if (id != 0) {
				p->h.fd = -1;	/* the mux's now */
				open++;
			}
			local_free(a, p, id == 0);
			continue;
		}
		if (p->framelen > 0 && up) {
			/* At the cap; those behind it wait too, so that they
			 * start in order. */
			waiting = 1;
			cap_reached(a, open);
		}
		if (now >= p->deadline)
			local_free(a, p, 1);
	}
	if (a->npending < PENDING_MAX / 2)
		a->pending_full = 0;	/* said again when it fills again */
	if (!waiting && (cap == 0 || open <= cap / 2))
		a->capped = 0;
}

/*
 * Whether the local connection on fd comes from this user: its socket's
 * owner (procnet.h).  Where the kernel cannot tell, there is no verdict
 * and it is served.
 */
static int
peer_is_ours(struct agent *a, int fd)
{
	uid_t uid;

	if (procnet_peer_uid(fd, &uid) != 0)
		return 1;
	if (uid == getuid())
		return 1;
	if (!a->said_foreign)
		safe_line(stderr, "erlfwd: refused a local connection of uid "
		    "%ld: only uid %ld, this session's user, may use it",
		    (long)uid, (long)getuid());
	a->said_foreign = 1;
	return 0;
}

/* Watch every listener for connections, or none (0). */
void
local_watch(struct agent *a, uint32_t events)
{
	int i;

	agent_watch(a, &a->hl, events);
	for (i = 0; i < FWD_MAX; i++)
		agent_watch(a, &a->fwd[i].h, events);
}

/*
 * Take the connections waiting on h: the agent's own port (a preamble
 * comes first), or f's (DIST(f->dist_port), as if that preamble had come).
 */
void
local_accept(struct agent *a, struct ahandle *h, struct fwd *f)
{
	struct pending *p;
	int fd, i, k;

	for (i = 0; i < 64; i++) {
		fd = plat_accept(h->fd);
		if (fd < 0) {
			/* The connection stays in the backlog and the listener
			 * readable: watched, it would wake us in a loop. */
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				local_watch(a, 0);
				a->accept_resume = tio_now_ms() + ACCEPT_PAUSE_MS;
			}
			return;
		}
		/* Another user's process gets nothing: no INFO, no
		 * handshake with the node, no place in the queue. */
		if (!peer_is_ours(a, fd)) {
			sock_reset(fd);
			continue;
		}
		if (a->npending >= PENDING_MAX) {
			/* At the stream cap, its line said so already. */
			if (!a->pending_full && !a->capped)
				safe_line(stderr, "erlfwd: %d local connections "
				    "wait for the tunnel: refusing more until "
				    "they are served", PENDING_MAX);
			a->pending_full = 1;
			sock_reset(fd);
			continue;
		}
		if ((p = calloc(1, sizeof(*p))) == NULL) {
			close(fd);
			continue;
		}
		p->h.kind = H_PENDING;
		p->h.fd = fd;
		p->deadline = tio_now_ms() + a->o->timeout_ms;
		sock_nodelay(fd);
		TAILQ_INSERT_TAIL(&a->pending, p, entry);
		a->npending++;
		if (f != NULL) {
			/* The preamble the preload would have sent. */
			k = frame_encode(p->in, sizeof(p->in), FRAME_TAG_DIST,
			    f->dist_port, NULL, 0);
			if (k <= 0 || frame_decode(p->in, (size_t)k,
			    FRAME_REQ_BODY_MAX, &p->f) != k) {
				local_free(a, p, 1);
				continue;
			}
			p->inlen = p->framelen = (size_t)k;
		}
		agent_watch(a, &p->h, EP_IN);
		local_read(a, p);
	}
}

