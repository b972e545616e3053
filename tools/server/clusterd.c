/*
 * clusterd.c: the cluster helper's event loop (clusterd.h).
 *
 * A connection from the preload goes through these states:
 *
 *   REQ     reading its request (cluster.h); a LOOKUP is answered at once
 *           and closed
 *   OWN     a LOOKUP of a route's name, waiting for this host's nodes to
 *           say whether it is theirs (selfnames.h: at most
 *           SELFNAMES_WAIT_MS, once every SELFNAMES_TTL_MS)
 *   PROXY   connecting to the route's SOCKS5 proxy
 *   SOCKS   the SOCKS5 CONNECT for the name and port (socks5.h's state
 *           machine: exactly socks5_need() bytes read before each step)
 *   RELAY   moving bytes both ways (relay.c), the bytes the client sent
 *           behind its request first
 *
 * Every state but RELAY is bounded by the setup timeout, counted from
 * accept (a LOOKUP's client that stays silent included); the timeout is the
 * same for all, so the connections in setup form a queue ordered by
 * deadline.  The client is not read while its proxy is being set up: what
 * it sends waits in its socket.  A relay is bounded by its quiet time, as
 * the server's are: two queues ordered by the last byte moved, the open
 * relays (closed after --idle-timeout) and the half-closed ones (closed
 * after --linger), so that a peer that hung or a node that gave up on one
 * cannot hold a slot of --max-conns for good.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cluster.h"
#include "clusterd.h"
#include "daemon.h"
#include "ep.h"
#include "frame.h"
#include "logfmt.h"
#include "names.h"
#include "procnet.h"
#include "relay.h"
#include "selfnames.h"
#include "sock.h"
#include "socks5.h"
#include "tio.h"

#define EARLY_MAX	512	/* bytes taken behind a request, kept for the relay */

enum kstate { K_REQ, K_OWN, K_PROXY, K_SOCKS, K_RELAY };

enum { K_CLIENT = RELAY_CLIENT, K_UPSTREAM = RELAY_UPSTREAM };

struct kconn;

struct khandle {
	int		 fd;
	uint32_t	 events;
	struct kconn	*c;
};

struct kconn {
	struct dconn	 d;			/* first: the daemon's queues */
	struct khandle	 h[2];
	enum kstate	 state;
	struct cluster_req req;
	const struct route *route;
	const char	*name;			/* the table's, held (names.h) */
	uint16_t	 port;			/* asked of the proxy */
	uint8_t		 in[CLUSTER_REQ_MAX + EARLY_MAX];
	size_t		 inlen, framelen;
	struct socks5	 s5;
	uint8_t		 out[SOCKS5_MSG_MAX];
	size_t		 outlen, outoff;
	uint8_t		 s5in[256 + 2];
	size_t		 s5got;
	struct relay	 relay;
	char		 peer[64];
};

struct clusterd {
	const struct clusterd_opts *o;
	struct daemon	 dmn;			/* the loop, the listener, the
						 * queues (daemon.h) */
	char		 hostname[256];
	const char	*skip[2];
	struct names	 names;
	struct selfnames self;			/* its nodes' host names */
	struct relay_ctx rctx;
	uint8_t		 scratch[RELAY_SCRATCH];
};

int
clusterd_check(const struct config *cfg, char *err, size_t errlen)
{
	size_t i;

	if (cfg->nentries == 0) {
		snprintf(err, errlen, "--cluster needs PATTERN=socks5h://... "
		    "entries");
		return -1;
	}
	for (i = 0; i < cfg->nentries; i++)
		if (!cfg->entries[i].has_route ||
		    cfg->entries[i].route.kind != ROUTE_SOCKS5H) {
			snprintf(err, errlen, "--cluster: '%s' needs a "
			    "socks5h:// route of its own", cfg->entries[i].pattern);
			return -1;
		}
	return 0;
}

static void
watch(struct clusterd *d, struct khandle *h, uint32_t events)
{
	daemon_watch(&d->dmn, h->fd, &h->events, events, h);
}

/*
 * End a connection: one log line (none for a LOOKUP that went well), then
 * close both sides, with a reset when reset is set: a refusal reaches the
 * client's next read as ECONNRESET, never as a clean end of stream.  rep:
 * the proxy's reply code, or -1.
 */
static void
kconn_end(struct clusterd *d, struct kconn *c, const char *outcome,
    const char *reason, int rep, int reset)
{
	char rq[160], target[CLUSTER_NAME_MAX + 16], reptext[16] = "";
	int i;

	if (c->name != NULL)
		snprintf(target, sizeof(target), "%s:%u", c->name,
		    (unsigned)c->port);
	else
		strcpy(target, "none");
	if (rep >= 0)
		snprintf(reptext, sizeof(reptext), " rep=%d", rep);
	if (outcome != NULL)
		logfmt(strcmp(outcome, "closed") == 0 ? "info" : "warn",
		    "cluster", "peer=%s tag=%s target=%s via=%s in=%llu "
		    "out=%llu dur_ms=%ld outcome=%s%s%s%s", c->peer,
		    c->framelen == 0 ? "none" : c->req.tag == CLUSTER_TAG_EPMD ?
		    "epmd" : c->req.tag == CLUSTER_TAG_DIST ? "dist" : "lookup",
		    target, c->route != NULL ? c->route->text : "none",
		    (unsigned long long)c->relay.bytes[RELAY_C2U],
		    (unsigned long long)c->relay.bytes[RELAY_U2C],
		    tio_now_ms() - c->d.started, outcome,
		    reason != NULL ? " reason=" : "",
		    reason != NULL ? logfmt_value(reason, rq, sizeof(rq)) : "",
		    reptext);
	if (c->name != NULL)
		names_release(&d->names, c->req.slot);
	for (i = 0; i < 2; i++)
		watch(d, &c->h[i], 0);
	if (c->state == K_RELAY)
		relay_close(&c->relay, reset);
	else
		for (i = 0; i < 2; i++)
			if (c->h[i].fd >= 0) {
				if (reset)
					sock_reset(c->h[i].fd);
				else
					close(c->h[i].fd);
			}
	/* Freed after the batch: later events of it may point at c. */
	daemon_conn_end(&d->dmn, &c->d);
}

/* Whether name is this host's own by its host name or a --self name. */
static int
is_self(const struct clusterd *d, const char *name)
{
	size_t i;

	if (d->hostname[0] != '\0' && strcasecmp(name, d->hostname) == 0)
		return 1;
	for (i = 0; d->o->self[i] != NULL; i++)
		if (strcasecmp(name, d->o->self[i]) == 0)
			return 1;
	return 0;
}

/*
 * Answer a LOOKUP: 127.0.0.1 for this host's own name, the name's sentinel
 * when it matches a route, else none.  A route's name is also this host's
 * own when one of its nodes goes by it (selfnames.h), which is asked again
 * first when the last answer is stale: a node that left takes its name
 * with it.
 * A new name counts against the asking uid's share of the table (names.h);
 * a uid the kernel will not tell shares one with the others it will not.
 */
static void
answer_lookup(struct clusterd *d, struct kconn *c)
{
	uint8_t ans[CLUSTER_ANSWER_LEN];
	char text[INET_ADDRSTRLEN], evicted[CLUSTER_NAME_MAX + 1];
	enum names_why why = NAMES_INVALID;
	struct in_addr a;
	uint32_t slot = 0;
	uid_t uid;
	int n, fresh = 0;

	if (is_self(d, c->req.name))
		slot = CLUSTER_SLOT_SELF;
	else if (config_match(&d->o->cfg, c->req.name, d->skip) >= 0) {
		if (selfnames_stale(&d->self, tio_now_ms())) {
			/* Not read meanwhile: a LOOKUP has said all it says.
			 * Answered by own_done(), maybe before this returns. */
			watch(d, &c->h[K_CLIENT], 0);
			c->state = K_OWN;
			selfnames_refresh(&d->self, tio_now_ms());
			return;
		}
		if (procnet_peer_uid(c->h[K_CLIENT].fd, &uid) != 0)
			uid = (uid_t)-1;
		slot = selfnames_has(&d->self, c->req.name) ?
		    CLUSTER_SLOT_SELF : names_slot(&d->names, c->req.name, uid,
		    &fresh, evicted, &why);
	}
	if (fresh && cluster_v4(slot, &a) == 0)
		logfmt("info", "sentinel", "name=%s addr=%s names=%zu uid=%ld%s%s",
		    names_name(&d->names, slot),
		    inet_ntop(AF_INET, &a, text, sizeof(text)), d->names.n,
		    uid == (uid_t)-1 ? -1L : (long)uid,
		    evicted[0] != '\0' ? " evicted=" : "", evicted);
	n = cluster_encode_answer(ans, sizeof(ans), slot);
	/* 14 bytes into a fresh socket's empty buffer: all or nothing. */
	if (n < 0 || sock_send(c->h[K_CLIENT].fd, ans, (size_t)n) != n) {
		kconn_end(d, c, "error", "cannot answer", -1, 1);
		return;
	}
	if (slot == 0) {
		kconn_end(d, c, "refused", why == NAMES_FULL ? "name table "
		    "full, every name in use" : why == NAMES_QUOTA_HELD ?
		    "this uid's names all in use" : "name matches no route",
		    -1, 0);
		return;
	}
	kconn_end(d, c, NULL, NULL, -1, 0);
}

/* This host's nodes' names are fresh: answer the LOOKUPs that waited. */
static void
own_done(void *arg)
{
	struct clusterd *d = arg;
	struct dconn *dc, *next;
	struct kconn *c;

	/* An answer ends its conn, off this list: take the next first. */
	for (dc = TAILQ_FIRST(&d->dmn.conns); dc != NULL; dc = next) {
		next = TAILQ_NEXT(dc, entry);
		c = (struct kconn *)dc;
		if (!c->d.dead && c->state == K_OWN) {
			c->state = K_REQ;
			answer_lookup(d, c);
		}
	}
}

/* Send what is left of c->out to the proxy; then wait for its answer. */
static void
socks_send(struct clusterd *d, struct kconn *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = sock_send(c->h[K_UPSTREAM].fd, c->out + c->outoff,
		    c->outlen - c->outoff);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			watch(d, &c->h[K_UPSTREAM], EP_OUT);
			return;
		}
		if (n <= 0) {
			kconn_end(d, c, "error", "cannot write to the proxy",
			    -1, 1);
			return;
		}
		c->outoff += (size_t)n;
	}
	watch(d, &c->h[K_UPSTREAM], EP_IN);
}

/* Start an EPMD or DIST request: find its name and route, dial the proxy. */
static void
start_proxy(struct clusterd *d, struct kconn *c)
{
	const struct route *r;
	char why[96];
	int entry;

	/* Held until the connection ends: never given to another name. */
	if ((c->name = names_hold(&d->names, c->req.slot)) == NULL) {
		kconn_end(d, c, "refused", "unknown sentinel", -1, 1);
		return;
	}
	if ((entry = config_match(&d->o->cfg, c->name, d->skip)) < 0) {
		kconn_end(d, c, "refused", "unknown sentinel", -1, 1);
		return;
	}
	r = c->route = config_route(&d->o->cfg, (size_t)entry);
	c->port = c->req.tag == CLUSTER_TAG_EPMD ? r->epmd_port : c->req.port;
	/* Not read until relayed: what it sends waits in its socket. */
	watch(d, &c->h[K_CLIENT], 0);
	c->state = K_PROXY;
	if ((c->h[K_UPSTREAM].fd = sock_connect((const struct sockaddr *)
	    &r->addr, r->addrlen)) < 0) {
		snprintf(why, sizeof(why), "proxy: %s", strerror(errno));
		kconn_end(d, c, "error", why, -1, 1);
		return;
	}
	watch(d, &c->h[K_UPSTREAM], EP_OUT);
}

static void
on_request(struct clusterd *d, struct kconn *c)
{
	ssize_t n;
	int rc;

	n = sock_recv(c->h[K_CLIENT].fd, c->in + c->inlen,
	    sizeof(c->in) - c->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		kconn_end(d, c, "closed", "no complete request", -1, 0);
		return;
	}
	c->inlen += (size_t)n;
	if ((rc = cluster_decode_req(c->in, c->inlen, &c->req)) < 0) {
		kconn_end(d, c, "rejected", frame_strerror(rc), -1, 1);
		return;
	}
	if (rc == 0)
		return;
	c->framelen = (size_t)rc;
	if (c->req.tag == CLUSTER_TAG_LOOKUP)
		answer_lookup(d, c);
	else
		start_proxy(d, c);
}

static void
start_relay(struct clusterd *d, struct kconn *c)
{
	int i, rd, wr;

	c->state = K_RELAY;
	/* From now on bounded by its quiet time. */
	daemon_setup_done(&d->dmn, &c->d);
	daemon_relay_queue(&d->dmn, &c->d, DAEMON_RQ_IDLE);
	watch(d, &c->h[K_UPSTREAM], 0);
	relay_init(&c->relay, c->h[K_CLIENT].fd, c->h[K_UPSTREAM].fd);
	if (relay_prime(&c->relay, RELAY_C2U, c->in + c->framelen,
	    c->inlen - c->framelen) != RELAY_OPEN) {
		kconn_end(d, c, "error", "early bytes", -1, 1);
		return;
	}
	for (i = 0; i < 2; i++) {
		relay_wants(&c->relay, i, &rd, &wr);
		watch(d, &c->h[i], (rd ? EP_IN : 0) | (wr ? EP_OUT : 0));
	}
}

/* The proxy said no (step < 0): one line with its reply code. */
static void
socks_failed(struct clusterd *d, struct kconn *c, int step)
{
	char why[96];

	snprintf(why, sizeof(why), "proxy: %s", step == SOCKS5_EREPLY ?
	    socks5_rep_text(c->s5.rep) : step == SOCKS5_EAUTH ?
	    "authentication refused" : "not a SOCKS5 reply");
	kconn_end(d, c, "refused", why, step == SOCKS5_EREPLY ? c->s5.rep : -1,
	    1);
}

static void
on_proxy(struct clusterd *d, struct kconn *c, uint32_t ev)
{
	const struct route *r = c->route;
	size_t need;
	ssize_t n;
	char why[96];
	int err, step;

	if (c->state == K_PROXY) {
		if ((err = sock_connect_result(c->h[K_UPSTREAM].fd)) != 0) {
			snprintf(why, sizeof(why), "proxy: connect: %s",
			    strerror(err));
			kconn_end(d, c, "error", why, -1, 1);
			return;
		}
		if ((n = socks5_begin(&c->s5, c->name, c->port, r->user[0] !=
		    '\0' ? r->user : NULL, r->pass, c->out, sizeof(c->out))) < 0) {
			kconn_end(d, c, "error", "name or credentials too long",
			    -1, 1);
			return;
		}
		c->state = K_SOCKS;
		c->outlen = (size_t)n;
		c->outoff = 0;
		socks_send(d, c);
		return;
	}
	if (c->outoff < c->outlen) {
		if (ev & (EP_OUT | EP_ERR | EP_HUP))
			socks_send(d, c);
		return;
	}
	need = socks5_need(&c->s5);
	n = sock_recv(c->h[K_UPSTREAM].fd, c->s5in + c->s5got, need - c->s5got);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		/* heroku ps:socks refuses with VER REP alone, then closes. */
		if (n == 0 && c->s5.state == S5_REPLY && c->s5got >= 2 &&
		    c->s5in[0] == SOCKS5_VERSION &&
		    c->s5in[1] != SOCKS5_REP_SUCCEEDED) {
			c->s5.rep = c->s5in[1];
			socks_failed(d, c, SOCKS5_EREPLY);
			return;
		}
		kconn_end(d, c, "refused", "proxy: the proxy closed the "
		    "connection", -1, 1);
		return;
	}
	if ((c->s5got += (size_t)n) < need)
		return;
	c->s5got = 0;
	step = socks5_feed(&c->s5, c->s5in, need, c->out, sizeof(c->out),
	    &c->outlen);
	if (step == SOCKS5_DONE) {
		start_relay(d, c);
		return;
	}
	if (step < 0) {
		socks_failed(d, c, step);
		return;
	}
	c->outoff = 0;
	socks_send(d, c);
}

/*
 * After a relay event: bytes moved (then: before, both ways) make c the most
 * recently active relay; an EOF from either side moves it to the
 * half-closed queue, whose limit is the linger.
 */
static void
relay_activity(struct clusterd *d, struct kconn *c, const uint64_t then[2])
{
	daemon_relay_moved(&d->dmn, &c->d, c->relay.dir[RELAY_C2U].eof ||
	    c->relay.dir[RELAY_U2C].eof,
	    c->relay.bytes[RELAY_C2U] != then[RELAY_C2U] ||
	    c->relay.bytes[RELAY_U2C] != then[RELAY_U2C]);
}

static void
on_relay(struct clusterd *d, struct kconn *c, int side, uint32_t ev)
{
	uint64_t then[2] = { c->relay.bytes[0], c->relay.bytes[1] };
	int rc, rd, wr, i, err;

	rc = relay_event(&c->relay, &d->rctx, side, (ev & (EP_IN | EP_HUP |
	    EP_ERR)) != 0, (ev & EP_OUT) != 0);
	if (rc == RELAY_OPEN)
		relay_activity(d, c, then);
	if (rc == RELAY_DONE) {
		kconn_end(d, c, "closed", NULL, -1, 0);
		return;
	}
	if (rc != RELAY_OPEN) {
		kconn_end(d, c, rc == RELAY_NOMEM ? "error" : "reset",
		    rc == RELAY_NOMEM ? "out of memory" : NULL, -1, 1);
		return;
	}
	for (i = 0; i < 2; i++) {
		relay_wants(&c->relay, i, &rd, &wr);
		/* A hung-up side we are not reading would wake us forever. */
		if (i == side && (ev & (EP_HUP | EP_ERR)) && !rd && !wr) {
			if ((err = sock_connect_result(c->h[i].fd)) != 0) {
				kconn_end(d, c, "reset", strerror(err), -1, 1);
				return;
			}
			watch(d, &c->h[i], 0);
			continue;
		}
		watch(d, &c->h[i], (rd ? EP_IN : 0) | (wr ? EP_OUT : 0));
	}
}

/* The daemon's accept: a connection of ours, its request read at once. */
static void
on_accept(void *arg, int fd, const char *peer)
{
	struct clusterd *d = arg;
	struct kconn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		logfmt("warn", "cluster", "peer=%s outcome=refused "
		    "reason=\"out of memory\"", peer);
		sock_reset(fd);
		return;
	}
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->h[K_CLIENT].fd = fd;
	c->h[K_UPSTREAM].fd = -1;
	c->h[K_CLIENT].c = c->h[K_UPSTREAM].c = c;
	daemon_conn_add(&d->dmn, &c->d);
	sock_nodelay(fd);
	watch(d, &c->h[K_CLIENT], EP_IN);
	/* The request follows the handshake at once: usually here. */
	on_request(d, c);
}

/* Past --max-conns: a reset, which the preload reports as such. */
static void
on_refuse(void *arg, int fd, const char *peer)
{
	(void)arg;
	logfmt("warn", "cluster", "peer=%s outcome=refused reason=max-conns",
	    peer);
	sock_reset(fd);
}

static void
on_expired(void *arg, struct dconn *dc)
{
	struct kconn *c = (struct kconn *)dc;

	kconn_end(arg, c, "timeout", c->state == K_REQ ?
	    "no complete request in time" : c->state == K_OWN ?
	    "this host's names: no answer in time" : c->state == K_PROXY ?
	    "proxy: no connection in time" : "proxy: no answer in time", -1, 1);
}

static void
on_quiet(void *arg, struct dconn *dc, const char *reason)
{
	kconn_end(arg, (struct kconn *)dc, "timeout", reason, -1, 0);
}

static void
on_release(void *arg, struct dconn *dc)
{
	(void)arg;
	free(dc);
}

/* An event on a connection's side. */
static void
on_event(void *arg, void *ptr, uint32_t ev)
{
	struct clusterd *d = arg;
	struct khandle *h = ptr;
	struct kconn *c;
	int side;

	if (selfnames_owns(&d->self, ptr)) {
		selfnames_event(&d->self, ptr, ev);
		return;
	}
	c = h->c;
	side = h == &c->h[K_CLIENT] ? K_CLIENT : K_UPSTREAM;
	if (c->d.dead)
		return;
	if (c->state == K_RELAY)
		on_relay(d, c, side, ev);
	else if (side == K_CLIENT && c->state == K_REQ)
		on_request(d, c);
	else if (side == K_UPSTREAM)
		on_proxy(d, c, ev);
}

/* The daemon's timers: a refresh of this host's nodes' names ends in time. */
static int
on_due(void *arg)
{
	struct clusterd *d = arg;

	return selfnames_due(&d->self, tio_now_ms());
}

static const struct daemon_ops clusterd_ops = {
	.accept = on_accept, .refuse = on_refuse, .event = on_event,
	.expired = on_expired, .quiet = on_quiet, .release = on_release,
	.due = on_due,
};

static int
setup(struct clusterd *d)
{
	struct daemon_limits lim = {
		.max_conns = d->o->max_conns,
		.setup_timeout_ms = d->o->setup_timeout_ms,
		.idle_ms = d->o->idle_ms, .linger_ms = d->o->linger_ms,
	};
	struct sockaddr_storage ss;
	socklen_t len;
	char why[64], addr[64];
	size_t i;
	int splice;

	if (gethostname(d->hostname, sizeof(d->hostname) - 1) == 0 &&
	    d->hostname[0] != '\0')
		d->skip[0] = d->hostname;
	if (names_init(&d->names) != 0 ||
	    daemon_init(&d->dmn, &clusterd_ops, d, &lim) != 0) {
		logfmt("error", "cannot start", "reason=%s",
		    logfmt_value(strerror(errno), why, sizeof(why)));
		return -1;
	}
	splice = relay_ctx_init(&d->rctx, d->scratch, sizeof(d->scratch),
	    !d->o->copy);
	/* Loopback only: the helper serves this host's processes, no one else. */
	len = sock_loopback(&ss, d->o->cfg.entries[0].route.helper_port);
	sock_addr_text((struct sockaddr *)&ss, addr, sizeof(addr));
	if (daemon_listen(&d->dmn, (struct sockaddr *)&ss, len) != 0) {
		logfmt("error", "cannot listen", "addr=%s reason=%s", addr,
		    logfmt_value(strerror(errno), why, sizeof(why)));
		return -1;
	}
	for (i = 0; d->o->self[i] != NULL; i++)
		logfmt("info", "cluster self", "name=%s", d->o->self[i]);
	for (i = 0; i < d->o->cfg.nentries; i++)
		logfmt("info", "cluster route", "pattern=%s via=%s epmd_port=%u",
		    d->o->cfg.entries[i].pattern, d->o->cfg.entries[i].route.text,
		    (unsigned)d->o->cfg.entries[i].route.epmd_port);
	logfmt("info", "listening", "addr=%s role=cluster max_conns=%d "
	    "setup_timeout_ms=%d idle_ms=%d linger_ms=%d relay=%s epmd_port=%u "
	    "version=%s", addr, d->o->max_conns, d->o->setup_timeout_ms,
	    d->o->idle_ms, d->o->linger_ms, splice ? "splice" : "copy",
	    (unsigned)d->o->epmd_port, ERLFWD_VERSION);
	return 0;
}

int
clusterd_run(const struct clusterd_opts *o)
{
	struct clusterd *d;
	struct dconn *dc;
	int rc = 1;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		logfmt("error", "cannot start", "reason=\"out of memory\"");
		return 1;
	}
	d->o = o;
	d->rctx.pipe[0] = d->rctx.pipe[1] = -1;
	/* Before anything can fail: its sockets are -1 from here on. */
	selfnames_init(&d->self, &d->dmn, o->epmd_port, own_done, d);
	if (setup(d) != 0 || daemon_run(&d->dmn) != 0)
		goto out;
	logfmt("info", "stopping", "signal=%s conns=%d",
	    d->dmn.stopping == SIGTERM ? "TERM" : "INT", d->dmn.nconns);
	while ((dc = TAILQ_FIRST(&d->dmn.conns)) != NULL)
		kconn_end(d, (struct kconn *)dc, "shutdown", NULL, -1, 0);
	daemon_bury(&d->dmn);
	rc = 0;
out:
	selfnames_fini(&d->self);
	daemon_fini(&d->dmn);
	relay_ctx_free(&d->rctx);
	names_free(&d->names);
	free(d);
	return rc;
}
