/*
 * daemon.c: the event loop erlfwd-server's roles share (daemon.h).
 */
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "ep.h"
#include "logfmt.h"
#include "plat.h"
#include "sock.h"
#include "tio.h"

int
daemon_init(struct daemon *d, const struct daemon_ops *ops, void *arg,
    const struct daemon_limits *lim)
{
	sigset_t mask;

	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->arg = arg;
	d->lim = *lim;
	d->ep = d->lh.fd = d->sh.fd = -1;
	TAILQ_INIT(&d->conns);
	TAILQ_INIT(&d->setupq);
	TAILQ_INIT(&d->idleq);
	TAILQ_INIT(&d->lingerq);
	TAILQ_INIT(&d->graveyard);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if ((d->ep = ep_create()) < 0 || (d->sh.fd = plat_sigfd(&mask)) < 0)
		return -1;
	ep_watch(d->ep, d->sh.fd, &d->sh.events, EP_IN, &d->sh);
	return 0;
}

int
daemon_listen(struct daemon *d, const struct sockaddr *sa, socklen_t len)
{
	if ((d->lh.fd = sock_listen(sa, len, SOMAXCONN)) < 0)
		return -1;
	ep_watch(d->ep, d->lh.fd, &d->lh.events, EP_IN, &d->lh);
	return 0;
}

int
daemon_listen_fd(struct daemon *d, int fd)
{
	if (sock_nonblock(fd) != 0)	/* and close-on-exec */
		return -1;
	d->lh.fd = fd;
	ep_watch(d->ep, d->lh.fd, &d->lh.events, EP_IN, &d->lh);
	return 0;
}

void
daemon_watch(struct daemon *d, int fd, uint32_t *cur, uint32_t events,
    void *ptr)
{
	ep_watch(d->ep, fd, cur, events, ptr);
}

void
daemon_conn_add(struct daemon *d, struct dconn *c)
{
	c->started = tio_now_ms();
	/* Every deadline is started + the same timeout: the tail is latest. */
	c->deadline = c->started + d->lim.setup_timeout_ms;
	TAILQ_INSERT_HEAD(&d->conns, c, entry);
	TAILQ_INSERT_TAIL(&d->setupq, c, qentry);
	c->queued = 1;
	d->nconns++;
}

void
daemon_setup_done(struct daemon *d, struct dconn *c)
{
	if (!c->queued)
		return;
	TAILQ_REMOVE(&d->setupq, c, qentry);
	c->queued = 0;
}

void
daemon_relay_queue(struct daemon *d, struct dconn *c, enum daemon_rq q)
{
	struct dconn_list *l = q == DAEMON_RQ_IDLE ? &d->idleq :
	    q == DAEMON_RQ_LINGER ? &d->lingerq : NULL;

	if (c->rq != NULL)
		TAILQ_REMOVE(c->rq, c, rentry);
	c->rq = l;
	if (l == NULL)
		return;
	/* Its last byte moved now, the latest of all: the tail. */
	c->active = tio_now_ms();
	TAILQ_INSERT_TAIL(l, c, rentry);
}

void
daemon_relay_moved(struct daemon *d, struct dconn *c, int half, int moved)
{
	if (half && c->rq != &d->lingerq)
		daemon_relay_queue(d, c, DAEMON_RQ_LINGER);
	else if (moved)
		daemon_relay_queue(d, c, c->rq == &d->lingerq ?
		    DAEMON_RQ_LINGER : DAEMON_RQ_IDLE);
}

void
daemon_conn_end(struct daemon *d, struct dconn *c)
{
	daemon_setup_done(d, c);
	daemon_relay_queue(d, c, DAEMON_RQ_NONE);
	TAILQ_REMOVE(&d->conns, c, entry);
	d->nconns--;
	c->dead = 1;
	TAILQ_INSERT_TAIL(&d->graveyard, c, entry);
}

void
daemon_bury(struct daemon *d)
{
	struct dconn *c;

	while ((c = TAILQ_FIRST(&d->graveyard)) != NULL) {
		TAILQ_REMOVE(&d->graveyard, c, entry);
		d->ops->release(d->arg, c);
	}
}

void
daemon_stop(struct daemon *d, int why)
{
	if (d->stopping == 0)
		d->stopping = why;
}

/* Out of descriptors: leave the listener alone for a while, said once. */
static void
accept_pause(struct daemon *d, int err)
{
	if (!d->accept_short)
		logfmt("warn", "accept paused", "reason=%s conns=%d pause_ms=%d",
		    err == EMFILE ? "EMFILE" : err == ENFILE ? "ENFILE" :
		    "ENOMEM", d->nconns, DAEMON_ACCEPT_PAUSE_MS);
	d->accept_short = 1;
	/* Level-triggered: watched, the backlog would wake us in a loop. */
	ep_watch(d->ep, d->lh.fd, &d->lh.events, 0, &d->lh);
	d->accept_resume = tio_now_ms() + DAEMON_ACCEPT_PAUSE_MS;
}

static void
on_accept(struct daemon *d)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char peer[64];
	int fd, i;

	for (i = 0; i < DAEMON_ACCEPT_BURST && d->stopping == 0; i++) {
		len = sizeof(ss);
		/* erlfwd-server is a Linux program: accept4 takes the flags
		 * and the peer's address in one call. */
		if ((fd = accept4(d->lh.fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				accept_pause(d, errno);
			return;
		}
		if (d->accept_short) {
			logfmt("info", "accept resumed", "conns=%d", d->nconns);
			d->accept_short = 0;
		}
		sock_addr_text((struct sockaddr *)&ss, peer, sizeof(peer));
		if (d->nconns >= d->lim.max_conns)
			d->ops->refuse(d->arg, fd, peer);
		else
			d->ops->accept(d->arg, fd, peer);
	}
}

/*
 * End the relays of q that moved no byte for limit ms (0: never), with
 * reason; lower *wait (-1: none) to the ms until the next one is due.
 */
static void
quiet(struct daemon *d, struct dconn_list *q, int limit, const char *reason,
    long now, long *wait)
{
	struct dconn *c;

	if (limit <= 0)
		return;
	while ((c = TAILQ_FIRST(q)) != NULL && c->active + limit <= now)
		d->ops->quiet(d->arg, c, reason);	/* ends it: off q */
	if (c != NULL && (*wait < 0 || c->active + limit - now < *wait))
		*wait = c->active + limit - now;
}

/*
 * End the setups whose deadline passed and the relays quiet too long,
 * resume accepting when its pause is over.  Returns ms until the next of
 * these, or -1.
 */
static long
expire(struct daemon *d)
{
	long now = tio_now_ms(), wait = -1;
	struct dconn *c;

	while ((c = TAILQ_FIRST(&d->setupq)) != NULL && c->deadline <= now)
		d->ops->expired(d->arg, c);	/* ends it: off setupq */
	if ((c = TAILQ_FIRST(&d->setupq)) != NULL)
		wait = c->deadline - now;
	quiet(d, &d->idleq, d->lim.idle_ms, "idle", now, &wait);
	quiet(d, &d->lingerq, d->lim.linger_ms, "half-closed", now, &wait);
	if (d->accept_resume != 0) {
		if (d->accept_resume <= now) {
			d->accept_resume = 0;
			ep_watch(d->ep, d->lh.fd, &d->lh.events, EP_IN,
			    &d->lh);
		} else if (wait < 0 || d->accept_resume - now < wait)
			wait = d->accept_resume - now;
	}
	return wait;
}

int
daemon_run(struct daemon *d)
{
	struct ep_event evs[DAEMON_EVENTS_MAX];
	long wait;
	int n, i, t, sig;

	while (d->stopping == 0) {
		wait = expire(d);
		if (d->ops->due != NULL && (t = d->ops->due(d->arg)) >= 0 &&
		    (wait < 0 || t < wait))
			wait = t;
		if (d->stopping != 0)
			break;
		n = ep_wait(d->ep, evs, DAEMON_EVENTS_MAX, (int)wait);
		if (n < 0 && errno != EINTR) {
			logfmt("error", "epoll_wait failed", "reason=%s",
			    strerror(errno));
			return -1;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].ptr == &d->lh)
				on_accept(d);
			else if (evs[i].ptr == &d->sh) {
				if ((sig = plat_sigfd_read(d->sh.fd)) > 0)
					daemon_stop(d, sig);
			} else
				d->ops->event(d->arg, evs[i].ptr,
				    evs[i].events);
		}
		daemon_bury(d);
	}
	daemon_bury(d);		/* what the last round ended */
	return 0;
}

void
daemon_fini(struct daemon *d)
{
	if (d->lh.fd >= 0)
		close(d->lh.fd);
	plat_sigfd_close(d->sh.fd);
	if (d->ep >= 0)
		ep_close(d->ep);
	d->lh.fd = d->sh.fd = d->ep = -1;
}
