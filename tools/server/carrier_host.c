/*
 * carrier_host.c: the carriers erlfwd-server hosts (server_int.h): each
 * client connection that starts with a version 2 preamble, or stdin and
 * stdout with --stdio, becomes a mux (mux.h) whose streams are opened by
 * the peer.  Each stream becomes a connection of server.c's, whose client
 * side is one end of a socketpair, the mux holding the other: every
 * stream goes through the same states, policy and log line as a version 1
 * connection.  When its setup is over, the pair has done its job: the
 * upstream socket goes to the mux (host_stream_direct()), and the bulk of
 * the stream's bytes cross no hop of ours.  A struct hstream is what is
 * left of the connection: its slot, its quiet limits, its log line.  The
 * streams' share of --max-conns is decided here.
 */
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "carrier.h"
#include "ep.h"
#include "frame.h"
#include "keeper.h"
#include "logfmt.h"
#include "mux.h"
#include "server_int.h"
#include "sock.h"
#include "tio.h"

/*
 * One carrier's streams at most: a quarter of --max-conns (256 of the
 * default 1024; a remote shell uses a handful), so that a carrier or two
 * that open all they may leave room for the others.
 */
static int
host_stream_share(const struct server *s)
{
	return s->o->max_conns > 3 ? s->o->max_conns / 4 : 1;
}

/* All carriers' streams at most: three quarters of --max-conns. */
static int
host_carriers_share(const struct server *s)
{
	return s->o->max_conns - s->o->max_conns / 4;
}

/* Whether car's first refused OPEN is still to be logged (now it is). */
static int
first_refusal(struct carrier *car)
{
	if (car->said_refused)
		return 0;
	car->said_refused = 1;
	return 1;
}

/*
 * A stream the carrier's peer opened: a socketpair, one end for the mux and
 * the other a new conn, which reads the version 1 preamble (in pre) the mux
 * writes first.  Returns the mux's end, or -1 to refuse the stream.
 */
static int
host_stream_open(void *arg, uint32_t id, uint8_t tag, uint16_t port,
    uint8_t *pre, size_t *prelen)
{
	struct carrier *car = arg;
	struct server *s = car->s;
	struct conn *c;
	char peer[64];
	int sv[2], n;

	snprintf(peer, sizeof(peer), "%.48s#%u", car->peer, id);
	/* A refused OPEN is logged once per carrier; the mux counts the
	 * rest (refused_open on the carrier's line): a storm of OPENs is
	 * not a storm of lines. */
	if (s->dmn.nconns >= s->o->max_conns) {
		if (first_refusal(car))
			logfmt("warn", "conn", "peer=%s tag=%s target=none in=0 "
			    "out=0 dur_ms=0 outcome=refused reason=max-conns "
			    "max_conns=%d", peer, frame_tag_name(tag),
			    s->o->max_conns);
		return -1;
	}
	/* One carrier's streams take at most a quarter of --max-conns (its
	 * mux refuses past that), all carriers' at most three quarters: a
	 * quarter stays for everyone else (version 1 clients, a new
	 * carrier), however many carriers a peer opens. */
	if (s->nstreamed >= host_carriers_share(s)) {
		if (first_refusal(car))
			logfmt("warn", "conn", "peer=%s tag=%s target=none in=0 "
			    "out=0 dur_ms=0 outcome=refused "
			    "reason=carriers-share max_streams=%d", peer,
			    frame_tag_name(tag), host_carriers_share(s));
		return -1;
	}
	n = frame_encode(pre, MUX_PRE_MAX, (enum frame_tag)tag, port, NULL, 0);
	if (n < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	if ((c = server_conn_new(s, sv[1], peer)) == NULL) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	c->car = car;
	c->stream = id;
	c->streamed = 1;
	s->nstreamed++;
	*prelen = (size_t)n;
	return sv[0];
}

/* The client reset stream id: carry it to the node as a reset. */
static void
host_stream_reset(void *arg, uint32_t id)
{
	struct carrier *car = arg;
	struct dconn *d;
	struct conn *c;

	TAILQ_FOREACH(d, &car->s->dmn.conns, entry) {
		c = (struct conn *)d;
		if (d->kind == DK_CONN && c->car == car && c->stream == id) {
			server_conn_end(car->s, c, "reset", "reset by the client", 1);
			return;
		}
	}
}

int
host_stream_direct(struct server *s, struct conn *c, const uint8_t *to_peer,
    size_t n)
{
	struct hstream *hs;
	size_t len = c->inlen - c->framelen;
	uint8_t *left = NULL;
	int up = c->h[H_UPSTREAM].fd, avail = 0;
	ssize_t got;

	/* The early bytes behind the preamble, then what the pair holds:
	 * both are the client's, read before what the mux still holds.
	 * Usually nothing: no buffer then (a thousand streams set up at
	 * once would leave their buffers' holes in the heap). */
	if (ioctl(c->h[H_CLIENT].fd, FIONREAD, &avail) != 0 || avail < 0)
		avail = 0;
	if ((hs = calloc(1, sizeof(*hs))) == NULL ||
	    (len + (size_t)avail > 0 &&
	    (left = malloc(len + (size_t)avail)) == NULL))
		goto fail;
	if (len > 0)
		memcpy(left, c->in + c->framelen, len);
	if (avail > 0) {
		do
			got = read(c->h[H_CLIENT].fd, left + len, (size_t)avail);
		while (got < 0 && errno == EINTR);
		if (got != avail)
			goto fail;
		len += (size_t)avail;
	}
	server_watch(s, &c->h[H_UPSTREAM], 0);
	server_watch(s, &c->h[H_CLIENT], 0);
	if (mux_rewire(c->car->m, c->stream, up, left, len, to_peer, n,
	    hs) != 0)
		goto fail;
	free(left);
	hs->d.kind = DK_STREAM;
	hs->car = c->car;
	hs->id = c->stream;
	hs->tag = c->tag;
	hs->port = c->port;
	hs->started = c->d.started;
	hs->base_in = c->gate_sent;
	daemon_conn_add(&s->dmn, &hs->d);
	daemon_setup_done(&s->dmn, &hs->d);
	daemon_relay_queue(&s->dmn, &hs->d, DAEMON_RQ_IDLE);
	s->nstreamed++;
	/* The conn is over; its upstream socket is the mux's now. */
	c->h[H_UPSTREAM].fd = -1;
	c->car = NULL;
	server_conn_end(s, c, NULL, NULL, 0);
	return 0;
fail:
	free(left);
	free(hs);
	return -1;
}

/* A rewired stream moved bytes, or one of its ways ended. */
static void
host_stream_moved(void *arg, void *udata, int half, int moved)
{
	struct carrier *car = arg;
	struct hstream *hs = udata;

	daemon_relay_moved(&car->s->dmn, &hs->d, half, moved);
}

/* A rewired stream is over: its line, as its conn's would have been. */
static void
host_stream_closed(void *arg, void *udata, const struct mux_stream_end *e)
{
	struct carrier *car = arg;
	struct server *s = car->s;
	struct hstream *hs = udata;
	const char *outcome = "closed", *reason = NULL;
	char rq[160];

	switch (e->how) {
	case MUX_SE_CLOSED:
		break;
	case MUX_SE_PEER_RESET:
		outcome = "reset";
		reason = "reset by the client";
		break;
	case MUX_SE_LOCAL_RESET:
		outcome = "reset";
		break;
	case MUX_SE_ERROR:
		outcome = "error";
		reason = strerror(e->err);
		break;
	case MUX_SE_CARRIER:
		/* The carrier's end is the stream's: a shutdown's, a session
		 * kept past --resume-window, or the carrier closed under it. */
		if (car->closing != NULL && strcmp(car->closing, "shutdown") == 0)
			outcome = "shutdown";
		else if (car->closing != NULL &&
		    strcmp(car->closing, "expired") == 0) {
			outcome = "timeout";
			reason = "its session was not resumed in time";
		} else
			reason = "the carrier ended";
		break;
	case MUX_SE_OWNER:
		outcome = "timeout";
		reason = hs->quiet;
		break;
	}
	/* A stream reset before it sent its peer a byte is counted on the
	 * carrier's line (reset_early), as a conn's is. */
	if (!(e->how == MUX_SE_PEER_RESET && e->from_local == 0))
		logfmt(strcmp(outcome, "closed") == 0 ? "info" : "warn", "conn",
		    "peer=%.48s#%u tag=%s target=127.0.0.1:%u in=%llu out=%llu "
		    "dur_ms=%ld outcome=%s%s%s", car->peer, hs->id,
		    frame_tag_name(hs->tag), (unsigned)hs->port,
		    (unsigned long long)(hs->base_in + e->to_local),
		    (unsigned long long)e->from_local,
		    tio_now_ms() - hs->started, outcome,
		    reason != NULL ? " reason=" : "",
		    reason != NULL ? logfmt_value(reason, rq, sizeof(rq)) : "");
	s->nstreamed--;
	daemon_conn_end(&s->dmn, &hs->d);
}

void
host_stream_quiet(struct server *s, struct hstream *hs, const char *reason)
{
	(void)s;
	hs->quiet = reason;
	mux_stream_close(hs->car->m, hs->id);
}

static int host_session(void *arg, struct mux *m,
    const struct carrier_session *cs);

static const struct mux_ops host_stream_ops = {
	.open = host_stream_open, .reset = host_stream_reset,
	.moved = host_stream_moved, .closed = host_stream_closed,
	.session = host_session,
};

/*
 * Start a carrier on rfd/wfd (the same socket, or stdin and stdout) for
 * peer, with early bytes already read from it.  expect_hello: the peer's
 * CARRIER frame is still to come (--stdio).  Returns 0, or -1 (logged; the
 * descriptors are still the caller's).
 */
static void host_lost(struct server *s, struct carrier *car,
    const struct mux_stats *st);

/* The first bytes of a session's id, for logs: never the whole id. */
static const char *
sid_text(const uint8_t *sid, char *buf, size_t cap)
{
	if (sid == NULL || carrier_hex_encode(sid, 4, buf, cap) < 0)
		snprintf(buf, cap, "none");
	return buf;
}

/* The carrier whose session is sid, or NULL. */
static struct carrier *
host_find_session(struct server *s, const uint8_t *sid)
{
	struct carrier *car;
	const uint8_t *id;

	TAILQ_FOREACH(car, &s->carriers, entry)
		if ((id = mux_session_id(car->m)) != NULL &&
		    memcmp(id, sid, CARRIER_SID_LEN) == 0)
			return car;
	return NULL;
}

/*
 * A client's SESSION on carrier m (mux_ops.session): NEW is taken; RESUME
 * goes to the session it names, when its proof is that session's key's
 * answer to this carrier's nonce.  A session whose carrier still looks
 * alive is taken from it: the proof says its owner is on this one now.
 */
static int
host_session(void *arg, struct mux *m, const struct carrier_session *cs)
{
	struct carrier *tmp = arg, *old;
	struct server *s = tmp->s;
	struct mux_stats st;
	char sid[16];
	long away;

	/* A NEW that names a session we hold is no new session: whoever
	 * sent it would stand between that session and its owner.  (Two
	 * lines a carrier at most: the mux ends a carrier at its second
	 * refused NEW.) */
	if (cs->op == CARRIER_SES_NEW) {
		if (host_find_session(s, cs->sid) == NULL)
			return 0;
		logfmt("warn", "carrier session refused", "peer=%s session=%s "
		    "reason=\"a session of that id is held\"", tmp->peer,
		    sid_text(cs->sid, sid, sizeof(sid)));
		return CARRIER_REFUSED_BUSY;
	}
	if ((old = host_find_session(s, cs->sid)) == NULL || old == tmp) {
		/* Past the window, or a restarted server: the agent starts
		 * afresh, and the log says why its connections ended. */
		logfmt("info", "carrier resume refused", "peer=%s session=%s "
		    "reason=\"no such session (past --resume-window, or the "
		    "server restarted)\"", tmp->peer, sid_text(cs->sid, sid,
		    sizeof(sid)));
		return CARRIER_REFUSED_UNKNOWN;
	}
	if (!mux_session_check(old->m, m, cs->sid, cs->proof)) {
		logfmt("warn", "carrier resume refused", "peer=%s session=%s "
		    "reason=\"wrong proof\"", tmp->peer,
		    sid_text(cs->sid, sid, sizeof(sid)));
		return CARRIER_REFUSED_PROOF;
	}
	if (!old->said_lost) {
		/* Not noticed dead yet (a path that went silent): the proof
		 * says its owner is here now. */
		mux_drop(old->m, "a newer carrier took the session");
		if (mux_run(old->m, tio_now_ms()) != MUX_DETACHED)
			return CARRIER_REFUSED_BUSY;
		mux_stats(old->m, &st);
		host_lost(s, old, &st);
	}
	if (mux_adopt(old->m, m, cs->count) != 0) {
		/* A count that is none of ours: the owner's client is wrong,
		 * not the session, which stays detached for a right one. */
		mux_end(m, MUX_END_PROTOCOL, CARRIER_GA_PROTOCOL, "RESUME: a "
		    "count that was never sent");
		return CARRIER_REFUSED_UNKNOWN;
	}
	away = tio_now_ms() - old->lost_at;
	/* The old carrier's struct goes on with the new descriptors; the new
	 * one's, a shell, lets go of them (host_end()). */
	old->rfd = tmp->rfd;
	old->wfd = tmp->wfd;
	tmp->rfd = tmp->wfd = -1;
	memcpy(old->fl, tmp->fl, sizeof(old->fl));
	tmp->fl[0] = tmp->fl[1] = -1;
	if (tmp->ctl.fd >= 0) {
		server_watch(s, &tmp->ctl, 0);
		old->ctl.fd = tmp->ctl.fd;
		tmp->ctl.fd = -1;
		server_watch(s, &old->ctl, EP_IN);
	}
	old->said_lost = 0;
	logfmt("info", "carrier resumed", "peer=%s was=%s session=%s "
	    "away_ms=%ld", tmp->peer, old->peer, sid_text(cs->sid, sid,
	    sizeof(sid)), away);
	snprintf(old->peer, sizeof(old->peer), "%s", tmp->peer);
	return 0;
}

struct carrier *
host_start(struct server *s, int rfd, int wfd, const char *peer,
    const uint8_t *early, size_t early_len, int expect_hello, int resume_asked)
{
	uint8_t hello[FRAME_HDR_LEN + CARRIER_HELLO_MAX];
	struct mux_opts mo = { 0 };
	struct carrier *car;
	int n;

	/* Our hello says how many streams the mux takes (below): the agent
	 * keeps under that, rather than meet refusals. */
	n = carrier_hello(hello, sizeof(hello), ERLFWD_VERSION,
	    (uint32_t)host_stream_share(s), 0);
	if (n < 0 || (car = calloc(1, sizeof(*car))) == NULL)
		goto fail;
	car->s = s;
	car->rfd = rfd;
	car->wfd = wfd;
	car->fl[0] = car->fl[1] = -1;
	car->started = tio_now_ms();
	car->h.car = car;
	car->ctl.fd = -1;
	car->ctl.car = car;
	snprintf(car->peer, sizeof(car->peer), "%s", peer);
	mo.role = MUX_SERVER;
	mo.rfd = rfd;
	mo.wfd = wfd;
	mo.expect_hello = expect_hello;
	mo.hello = hello;
	mo.hello_len = (size_t)n;
	mo.early = early;
	mo.early_len = early_len;
	mo.idle_ms = s->o->carrier_idle_ms;
	/* Resume is offered where the session can outlive the carrier: in
	 * this process, unless --stdio ends it with its carrier (the keeper
	 * is where --stdio sessions can resume).  The client's hello was
	 * the preamble of a TCP carrier (expect_hello is 0): it asked for
	 * resume, or host_take() said no; the keeper's mux offers it to a
	 * hello that asks. */
	mo.resume = s->o->resume_ms > 0 && !s->o->stdio &&
	    (expect_hello || resume_asked);
	mo.resume_window_ms = s->o->resume_ms;
	/* One carrier holds at most a quarter of --max-conns: an OPEN past
	 * that is refused alone (the mux's RESET), and the rest stays for
	 * everyone else. */
	mo.max_streams = (size_t)host_stream_share(s);
	if ((car->m = mux_new(&mo, &host_stream_ops, car, car->started)) == NULL) {
		free(car);
		goto fail;
	}
	car->h.fd = mux_fd(car->m);
	TAILQ_INSERT_TAIL(&s->carriers, car, entry);
	/* A carrier holds a descriptor and buffers: it counts against
	 * --max-conns like a connection, and so does each of its streams. */
	s->dmn.nconns++;
	server_watch(s, &car->h, EP_IN);
	return car;
fail:
	logfmt("warn", "carrier", "peer=%s outcome=error reason=%s", peer,
	    logfmt_value(strerror(errno), (char[64]){ 0 }, 64));
	return NULL;
}

/*
 * car's descriptors closed: their flags first put back as they came, when
 * they are shared with another process (--stdio's stdin and stdout, or a
 * pair handed over by a --stdio: the open file descriptions are sshd's,
 * or whoever started it), then its --stdio's connection, which lets that
 * process end.
 */
static void
host_close(struct server *s, struct carrier *car)
{
	if (car->fl[0] >= 0 && car->rfd >= 0)
		(void)fcntl(car->rfd, F_SETFL, car->fl[0]);
	if (car->fl[1] >= 0 && car->wfd >= 0)
		(void)fcntl(car->wfd, F_SETFL, car->fl[1]);
	car->fl[0] = car->fl[1] = -1;
	if (car->wfd != car->rfd && car->wfd >= 0)
		close(car->wfd);
	if (car->rfd >= 0)
		close(car->rfd);
	car->rfd = car->wfd = -1;
	if (car->ctl.fd >= 0) {
		server_watch(s, &car->ctl, 0);
		close(car->ctl.fd);
		car->ctl.fd = -1;
	}
}

/* One line for the carrier, its streams let go of it, its descriptors closed. */
void
host_end(struct server *s, struct carrier *car, const char *outcome)
{
	struct mux_stats st;
	struct dconn *d;
	char rq[300];

	mux_stats(car->m, &st);
	/* Streams refused for being one too many: counted here, not one
	 * line each (a storm of them would be a storm of lines).  A carrier
	 * that resumed an older session (outcome NULL) is a shell: no line. */
	if (outcome != NULL)
		logfmt(strcmp(outcome, "closed") == 0 ? "info" : "warn",
		    "carrier", "peer=%s streams=%llu refused=%llu in=%llu "
		    "out=%llu refused_open=%llu refused_rate=%llu "
		    "reset_early=%llu resumed=%llu dur_ms=%ld outcome=%s "
		    "reason=%s", car->peer, (unsigned long long)st.streams,
		    (unsigned long long)st.refused_full,
		    (unsigned long long)st.bytes_in,
		    (unsigned long long)st.bytes_out,
		    (unsigned long long)st.refused_open,
		    (unsigned long long)st.refused_rate,
		    (unsigned long long)st.reset_early,
		    (unsigned long long)st.resumes,
		    tio_now_ms() - car->started, outcome,
		    logfmt_value(mux_why(car->m)[0] != '\0' ? mux_why(car->m) :
		    "server stopping", rq, sizeof(rq)));
	/* Its streams' conns see their socketpair close and end as usual;
	 * its rewired streams end in mux_free(), with outcome's word. */
	TAILQ_FOREACH(d, &s->dmn.conns, entry)
		if (d->kind == DK_CONN && ((struct conn *)d)->car == car)
			((struct conn *)d)->car = NULL;
	car->closing = outcome;
	server_watch(s, &car->h, 0);
	mux_free(car->m);
	host_close(s, car);
	TAILQ_REMOVE(&s->carriers, car, entry);
	s->dmn.nconns--;
	free(car);
	if (s->o->stdio && s->dmn.stopping == 0) {
		daemon_stop(&s->dmn, -1);
		/* The session's end: what is still open ends with it. */
		s->stdio_closed = outcome != NULL &&
		    strcmp(outcome, "closed") == 0;
	}
}

/*
 * car's session lost its carrier: close the carrier's descriptors (the mux
 * let go of them), say so once, and keep the session and its streams for
 * --resume-window.
 */
static void
host_lost(struct server *s, struct carrier *car, const struct mux_stats *st)
{
	char sid[16], rq[300];

	host_close(s, car);
	car->said_lost = 1;
	car->lost_at = tio_now_ms();
	logfmt("warn", "carrier lost", "peer=%s session=%s streams=%zu "
	    "kept_ms=%d reason=%s", car->peer, sid_text(mux_session_id(car->m),
	    sid, sizeof(sid)), st->open, s->o->resume_ms,
	    logfmt_value(mux_why(car->m), rq, sizeof(rq)));
}

void
host_run(struct server *s, struct carrier *car)
{
	struct mux_stats st;
	enum mux_state ms = mux_run(car->m, tio_now_ms());

	/* One line each time the rapid reset bucket runs empty, with the
	 * counts so far: what the peer does past it is counted, not logged. */
	mux_stats(car->m, &st);
	if (st.rate_limited != car->limited_seen) {
		car->limited_seen = st.rate_limited;
		logfmt("warn", "carrier limited", "peer=%s reset_early=%llu "
		    "refused_rate=%llu refused_open=%llu", car->peer,
		    (unsigned long long)st.reset_early,
		    (unsigned long long)st.refused_rate,
		    (unsigned long long)st.refused_open);
	}
	if (ms == MUX_DETACHED && !car->said_lost) {
		host_lost(s, car, &st);
		return;
	}
	if (ms != MUX_ENDED)
		return;
	/* A carrier that resumed an older session is that session's now:
	 * nothing of it to end or say. */
	if (mux_adopted_by(car->m) != NULL) {
		host_end(s, car, NULL);
		return;
	}
	/* Every cause named: a new one is a compiler warning here. */
	switch (mux_end_cause(car->m)) {
	case MUX_END_PEER_CLOSED:
	case MUX_END_GOAWAY:
	case MUX_END_LOCAL:
		host_end(s, car, "closed");
		break;
	case MUX_END_NONE:
	case MUX_END_NOT_CARRIER:
	case MUX_END_V1:
	case MUX_END_EARLY_EOF:
	case MUX_END_IDLE:
	case MUX_END_LIMIT:
	case MUX_END_PROTOCOL:
	case MUX_END_IO:
	case MUX_END_NO_ANSWER:
		host_end(s, car, "error");
		break;
	}
}

/* A version 2 preamble: the conn's client becomes a carrier. */
void
host_take(struct server *s, struct conn *c)
{
	int fd = c->h[H_CLIENT].fd;
	char v[4];

	server_watch(s, &c->h[H_CLIENT], 0);
	/* The preamble is the client's hello: does it ask for resume? */
	if (host_start(s, fd, fd, c->peer, c->in + c->framelen,
	    c->inlen - c->framelen, 0, carrier_hello_field(c->in +
	    FRAME_HDR_LEN, c->framelen - FRAME_HDR_LEN, CARRIER_HELLO_RESUME,
	    v, sizeof(v)) == 1 && v[0] == '1') == NULL) {
		server_conn_end(s, c, "error", "cannot start a carrier", 0);
		return;
	}
	c->h[H_CLIENT].fd = -1;
	server_conn_end(s, c, NULL, NULL, 0);
}

void
host_handoff(struct server *s, struct conn *c)
{
	static const uint8_t taken = KEEPER_TAKEN;
	struct carrier *car;
	const char *why;
	int fds[2], fd = c->h[H_CLIENT].fd, fl0, fl1;

	switch (keeper_recv(fd, fds, &why)) {
	case 0:
		return;
	case -1:
		server_conn_end(s, c, "rejected", why, 0);
		return;
	}
	/* As they came: put back when the keeper is done with them. */
	fl0 = fcntl(fds[0], F_GETFL);
	fl1 = fcntl(fds[1], F_GETFL);
	if ((car = host_start(s, fds[0], fds[1], c->peer, NULL, 0, 1, 0)) ==
	    NULL) {
		close(fds[0]);
		close(fds[1]);
		server_conn_end(s, c, "error", "cannot start a carrier", 0);
		return;
	}
	car->fl[0] = fl0;
	car->fl[1] = fl1;
	server_watch(s, &c->h[H_CLIENT], 0);
	car->ctl.fd = fd;
	c->h[H_CLIENT].fd = -1;
	server_watch(s, &car->ctl, EP_IN);
	s->keeper_took = 1;
	/* Its --stdio waits for this before it waits for our close. */
	(void)sock_send(fd, &taken, 1);
	server_conn_end(s, c, NULL, NULL, 0);
}

void
host_ctl(struct server *s, struct carrier *car)
{
	uint8_t b[64];
	ssize_t n;

	/* It says nothing after its handoff: anything else is its end. */
	do
		n = sock_recv(car->ctl.fd, b, sizeof(b));
	while (n > 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	mux_drop(car->m, "its erlfwd-server --stdio ended");
	host_run(s, car);
}

/* Serve the carriers with work due; returns ms until the next (-1: none). */
int
host_due(void *arg)
{
	struct server *s = arg;
	struct carrier *car, *next;
	long now = tio_now_ms();
	int t, wait = -1;

	for (car = TAILQ_FIRST(&s->carriers); car != NULL; car = next) {
		next = TAILQ_NEXT(car, entry);
		/* A lost carrier's session not resumed in time: over, and
		 * its streams' lines say so. */
		if (car->said_lost && now - car->lost_at >= s->o->resume_ms) {
			car->closing = "expired";
			mux_end(car->m, MUX_END_IDLE, -1, "not resumed in time");
		}
		if (mux_timeout(car->m, now) == 0)
			host_run(s, car);
	}
	TAILQ_FOREACH(car, &s->carriers, entry) {
		t = car->said_lost ? (int)(car->lost_at + s->o->resume_ms -
		    now) : mux_timeout(car->m, now);
		if (t < 0 && car->said_lost)
			t = 0;
		if (t >= 0 && (wait < 0 || t < wait))
			wait = t;
	}
	return wait;
}

