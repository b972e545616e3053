/*
 * check_mux.c: the carrier engine (tools/common/mux.h), one Check suite.
 *
 * Two muxes in one process, a MUX_CLIENT and a MUX_SERVER, over a socketpair
 * (or two pipes, as --via and --stdio have it), both run with mux_run() in
 * one loop that polls their descriptors with a deadline: no sleeps.  The
 * server's open callback hands back one end of a socketpair and keeps the
 * other as "the node"; the client's streams are socketpairs (or TCP pairs
 * where a reset must show) whose other end "the app" holds.  Every local
 * end is driven without blocking by the same loop (struct lend).
 *
 * Where the frames themselves matter, a tap sits between the two muxes and
 * decodes what crosses it (flow control, fairness); where a peer must break
 * the protocol, a raw peer writes frames by hand with carrier_encode().
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "carrier.h"
#include "frame.h"
#include "mux.h"
#include "tio.h"

#define SPIN_MS		20000	/* a deadline, not a wait: valgrind is slow */
#define MAX_ENDS	256
#define MAX_NODES	96
#define BULK		(4u * 1024 * 1024)

/* ---- local ends, driven without blocking ------------------------------- */

/*
 * One local socket end the test holds: bytes queued for it are written as
 * the socket takes them (then SHUT_WR when shut is set); what it reads is
 * kept, up to EOF or an error.
 */
struct lend {
	int	 fd;
	uint8_t	*out;
	size_t	 outlen, outoff, outcap;
	int	 shut, shut_done;
	uint8_t	*in;
	size_t	 inlen, incap;
	int	 eof, err;	/* err: errno of the recv that failed */
	int	 stalled;	/* read nothing for now */
	size_t	 rd_step;	/* read at most this much per turn (0: all) */
};

static void
lend_queue(struct lend *e, const void *p, size_t len)
{
	if (e->outlen + len > e->outcap) {
		e->outcap = e->outlen + len + 4096;
		e->out = realloc(e->out, e->outcap);
		ck_assert_ptr_nonnull(e->out);
	}
	memcpy(e->out + e->outlen, p, len);
	e->outlen += len;
}

/* Move what the socket allows, both ways. */
static void
lend_step(struct lend *e)
{
	uint8_t buf[65536];
	size_t want;
	ssize_t n;

	if (e->fd < 0)
		return;
	while (e->outoff < e->outlen) {
		n = send(e->fd, e->out + e->outoff, e->outlen - e->outoff,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n <= 0)
			break;
		e->outoff += (size_t)n;
	}
	if (e->shut && !e->shut_done && e->outoff == e->outlen) {
		(void)shutdown(e->fd, SHUT_WR);
		e->shut_done = 1;
	}
	while (!e->eof && !e->err && !e->stalled) {
		want = e->rd_step > 0 && e->rd_step < sizeof(buf) ? e->rd_step :
		    sizeof(buf);
		n = recv(e->fd, buf, want, MSG_DONTWAIT);
		if (n == 0) {
			e->eof = 1;
			break;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				e->err = errno;
			break;
		}
		if (e->inlen + (size_t)n > e->incap) {
			e->incap = 2 * (e->inlen + (size_t)n);
			e->in = realloc(e->in, e->incap);
			ck_assert_ptr_nonnull(e->in);
		}
		memcpy(e->in + e->inlen, buf, (size_t)n);
		e->inlen += (size_t)n;
		if (e->rd_step > 0)
			break;
	}
}

static void
lend_free(struct lend *e)
{
	if (e->fd >= 0)
		close(e->fd);
	free(e->out);
	free(e->in);
	free(e);
}

/* ---- the tap: decodes what crosses between the two muxes ---------------- */

#define TAP_LOG_MAX	4096

struct tap_dir {
	int	 from, to;	/* our ends of the two carriers' socketpairs */
	uint8_t	 pend[65536];	/* read, not yet forwarded */
	size_t	 pendoff, pendlen;
	uint8_t	 parse[4 * CARRIER_FRAME_MAX];
	size_t	 parselen;
	int	 hello_done;
	int	 bad;		/* a frame the tap could not decode */
	size_t	 step;		/* a slow link: at most this much */
	long	 gap_ms;	/* every gap_ms (0: as fast as it goes) */
	long	 last;		/* when it last took some */
};

struct tap {
	struct tap_dir	 cs, sc;	/* client to server, and back */
	uint64_t	 data[MAX_NODES];	/* c->s DATA bytes per stream */
	uint64_t	 granted[MAX_NODES];	/* s->c WINDOW per stream */
	uint64_t	 inflight_max[MAX_NODES];
	int64_t		 credit_max[MAX_NODES];	/* the most the client
					 * could send, right after a WINDOW */
	int64_t		 credit_last[MAX_NODES];	/* after the last */
	int		 over;		/* the window was overrun */
	int		 overgrant;	/* a window given past MUX_WIN_GROWN */
	uint32_t	 log[TAP_LOG_MAX];	/* c->s DATA frames' streams */
	size_t		 nlog;
	int		 types[2][CARRIER_ACK + 1];	/* frames seen per way */
};

/* A stream's slot in the tap's arrays: ids 1, 3, 5 ... */
static size_t
slot(uint32_t id)
{
	return id / 2 < MAX_NODES ? id / 2 : MAX_NODES - 1;
}

static void
tap_frame(struct tap *t, int cs, const struct carrier_frame *f)
{
	size_t k = slot(f->stream);
	uint64_t inflight;
	int64_t credit;

	t->types[cs ? 0 : 1][f->type]++;
	if (cs && f->type == CARRIER_DATA) {
		t->data[k] += f->len;
		if (t->nlog < TAP_LOG_MAX)
			t->log[t->nlog++] = f->stream;
	} else if (!cs && f->type == CARRIER_WINDOW_UPDATE) {
		t->granted[k] += carrier_u32(f);
		/* A receiver gives back what it was sent, and more only while
		 * the window grows: never past MUX_WIN_GROWN in all. */
		if (t->granted[k] > t->data[k] + MUX_WIN_GROWN - CARRIER_WINDOW)
			t->overgrant = 1;
		credit = (int64_t)CARRIER_WINDOW + (int64_t)t->granted[k] -
		    (int64_t)t->data[k];
		if (credit > t->credit_max[k])
			t->credit_max[k] = credit;
		t->credit_last[k] = credit;
	}
	if (cs && f->type == CARRIER_DATA) {
		/* What the client sent that the server had not yet granted
		 * back, as the tap sees it: never past what the initial window
		 * and the WINDOW frames gave. */
		inflight = t->data[k] > t->granted[k] ? t->data[k] -
		    t->granted[k] : 0;
		if (inflight > t->inflight_max[k])
			t->inflight_max[k] = inflight;
		if (t->data[k] > CARRIER_WINDOW + t->granted[k])
			t->over = 1;
	}
}

/* Decode whatever whole frames the parse buffer of d holds. */
static void
tap_parse(struct tap *t, struct tap_dir *d, int cs)
{
	struct carrier_frame f;
	struct frame hf;
	size_t used = 0;
	int n;

	if (!d->hello_done) {
		n = frame_decode(d->parse, d->parselen, FRAME_REQ_BODY_MAX, &hf);
		if (n == 0)
			return;
		if (n < 0 || hf.tag != FRAME_TAG_CARRIER) {
			d->bad = 1;
			return;
		}
		d->hello_done = 1;
		used = (size_t)n;
	}
	while (!d->bad && (n = carrier_decode(d->parse + used,
	    d->parselen - used, &f)) != 0) {
		if (n < 0) {
			d->bad = 1;
			break;
		}
		tap_frame(t, cs, &f);
		used += (size_t)n;
	}
	memmove(d->parse, d->parse + used, d->parselen - used);
	d->parselen -= used;
}

static void
tap_dir_step(struct tap *t, struct tap_dir *d, int cs)
{
	size_t room;
	ssize_t n;

	if (d->from < 0)
		return;
	for (;;) {
		if (d->pendoff < d->pendlen) {
			n = send(d->to, d->pend + d->pendoff,
			    d->pendlen - d->pendoff, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n <= 0)
				return;
			d->pendoff += (size_t)n;
			continue;
		}
		d->pendoff = d->pendlen = 0;
		room = sizeof(d->parse) - d->parselen;
		if (d->gap_ms > 0) {
			if (tio_now_ms() - d->last < d->gap_ms)
				return;
			d->last = tio_now_ms();
			if (room > d->step)
				room = d->step;
		}
		n = recv(d->from, d->pend, room < sizeof(d->pend) ? room :
		    sizeof(d->pend), MSG_DONTWAIT);
		if (n == 0) {
			(void)shutdown(d->to, SHUT_WR);
			d->from = -1;	/* still closed by its owner */
			return;
		}
		if (n < 0)
			return;
		d->pendlen = (size_t)n;
		memcpy(d->parse + d->parselen, d->pend, (size_t)n);
		d->parselen += (size_t)n;
		tap_parse(t, d, cs);
	}
}

/* ---- the world: two muxes, their local ends, a tap or a raw peer ---------- */

static const uint8_t HELLO_BODY[] = "version=test";

struct world {
	struct mux	*cm, *sm;
	int		 cfrozen, sfrozen;	/* skip mux_run() */
	int		 fds[16];		/* ours to close */
	int		 nfds;
	struct lend	*ends[MAX_ENDS];
	int		 nends;
	struct tap	*tap;
	int		 tapfd[4];
	/* The server's open callback. */
	int		 refuse;
	int		 refuse_9;	/* refuse the ids that end in 9 */
	int		 tcp_nodes;	/* nodes over TCP (resets show) */
	int		 node_sndbuf;	/* a small buffer toward the node */
	int		 stall_nodes;	/* nodes read nothing at first */
	int		 one_node;	/* keep only the newest node (slot 0),
					 * for thousands of streams */
	int		 nnodes;
	struct lend	*node[MAX_NODES];
	uint32_t	 node_id[MAX_NODES];
	uint8_t		 node_tag[MAX_NODES];
	uint16_t	 node_port[MAX_NODES];
	int		 opens;		/* open callbacks, refused ones too */
	int		 resets;	/* reset callbacks */
	uint32_t	 reset_id;	/* the last one's stream */
	int		 busy_ping_ms;	/* the client's, for start() */
	/* The server's callbacks for rewired streams. */
	int		 moved, halves;	/* moved() calls, with half set */
	int		 closed;	/* closed() calls */
	struct mux_stream_end	 end;	/* the last one's */
	void		*closed_udata;
	size_t		 smax;		/* the server's max_streams, and its
					 * hello's streams= (0: 64, unsaid) */
	/* Resume: the server's session table, of one. */
	struct mux	*session;	/* the mux that took NEW */
	int		 sessions;	/* session callbacks */
	int		 refusals;
	int		 no_resume;	/* the server offers none */
	size_t		 grown_max;	/* the server's windows' growth, at
					 * most, while a spin watched it */
	int		 mix_ms;	/* both muxes' mix_ms (0: theirs) */
	int		 grow_ms;	/* and grow_ms: the cases that watch
					 * windows grow give a minute, for
					 * valgrind's pace (0: theirs) */
};

static struct world	 W;
static uint8_t		 hello[FRAME_HDR_LEN + sizeof(HELLO_BODY)];
static size_t		 hello_len;
static uint8_t		 shello[FRAME_HDR_LEN + CARRIER_HELLO_MAX];

static struct lend *
end_add(int fd)
{
	struct lend *e = calloc(1, sizeof(*e));

	ck_assert_ptr_nonnull(e);
	ck_assert_int_lt(W.nends, MAX_ENDS);
	e->fd = fd;
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	W.ends[W.nends++] = e;
	return e;
}

static void
keep_fd(int fd)
{
	ck_assert_int_ge(fd, 0);
	ck_assert_int_lt(W.nfds, (int)(sizeof(W.fds) / sizeof(W.fds[0])));
	W.fds[W.nfds++] = fd;
}

/* A connected TCP pair on loopback: reset semantics, as the agent's sockets. */
static void
tcp_pair(int sv[2])
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int l, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(sv[0], 0);
	ck_assert_int_eq(connect(sv[0], (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	sv[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(sv[1], 0);
	(void)setsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(sv[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	close(l);
}

static void
pair(int tcp, int sv[2])
{
	if (tcp)
		tcp_pair(sv);
	else
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM |
		    SOCK_CLOEXEC, 0, sv), 0);
}

/* The server's open callback: a socketpair; the node keeps one end. */
static int
node_open(void *arg, uint32_t id, uint8_t tag, uint16_t port, uint8_t *pre,
    size_t *prelen)
{
	struct world *w = arg;
	int sv[2], k;

	w->opens++;
	if (w->refuse || (w->nnodes >= MAX_NODES && !w->one_node) ||
	    (w->refuse_9 && id % 10 == 9))
		return -1;
	pair(w->tcp_nodes, sv);
	if (w->node_sndbuf > 0)
		(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &w->node_sndbuf,
		    sizeof(w->node_sndbuf));
	if (w->one_node && w->nnodes > 0) {
		/* The older node goes, its lend is the new one's. */
		k = 0;
		if (w->node[0]->fd >= 0)
			close(w->node[0]->fd);
		free(w->node[0]->out);
		free(w->node[0]->in);
		memset(w->node[0], 0, sizeof(*w->node[0]));
		w->node[0]->fd = sv[1];
		(void)fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
	} else {
		k = w->nnodes++;
		w->node[k] = end_add(sv[1]);
	}
	w->node[k]->stalled = w->stall_nodes;
	w->node_id[k] = id;
	w->node_tag[k] = tag;
	w->node_port[k] = port;
	/* Written to the node before the stream's bytes, as the server's
	 * version 1 preamble is. */
	*prelen = (size_t)snprintf((char *)pre, MUX_PRE_MAX, "pre:%u;", id);
	return sv[0];
}

/* The server's reset callback: the peer reset stream id. */
static void
node_reset(void *arg, uint32_t id)
{
	struct world *w = arg;

	w->resets++;
	w->reset_id = id;
}

/* The server's moved callback: a rewired stream moved bytes. */
static void
node_moved(void *arg, void *udata, int half, int moved)
{
	struct world *w = arg;

	ck_assert_ptr_eq(udata, &W.closed_udata);
	w->moved += moved;
	w->halves += half;
}

/* The server's closed callback: a rewired stream is over. */
static void
node_closed(void *arg, void *udata, const struct mux_stream_end *e)
{
	struct world *w = arg;

	ck_assert_ptr_eq(udata, &W.closed_udata);
	w->closed++;
	w->end = *e;
}

/*
 * The server's session callback: NEW is taken (one session at a time);
 * RESUME is adopted by that session when the proof is its key's.
 */
static int
node_session(void *arg, struct mux *m, const struct carrier_session *cs)
{
	struct world *w = arg;

	w->sessions++;
	if (cs->op == CARRIER_SES_NEW) {
		w->session = m;
		return 0;
	}
	if (w->session == NULL || w->session == m) {
		w->refusals++;
		return CARRIER_REFUSED_UNKNOWN;
	}
	if (!mux_session_check(w->session, m, cs->sid, cs->proof)) {
		w->refusals++;
		return CARRIER_REFUSED_PROOF;
	}
	if (mux_adopt(w->session, m, cs->count) != 0) {
		w->refusals++;
		return CARRIER_REFUSED_BUSY;
	}
	return 0;
}

static const struct mux_ops node_ops = {
	.open = node_open, .reset = node_reset, .moved = node_moved,
	.closed = node_closed, .session = node_session,
};

static void
opts(struct mux_opts *o, enum mux_role role, int rfd, int wfd)
{
	memset(o, 0, sizeof(*o));
	o->role = role;
	o->rfd = rfd;
	o->wfd = wfd;
	o->hello = hello;
	o->hello_len = hello_len;
	o->dead_pings = 3;
	o->max_streams = 64;
	o->mix_ms = W.mix_ms;
	o->grow_ms = W.grow_ms;
}

static void
setup(void)
{
	int n;

	memset(&W, 0, sizeof(W));
	n = frame_encode(hello, sizeof(hello), FRAME_TAG_CARRIER, 0,
	    HELLO_BODY, sizeof(HELLO_BODY) - 1);
	ck_assert_int_gt(n, 0);
	hello_len = (size_t)n;
}

static void
teardown(void)
{
	int i;

	mux_free(W.cm);
	mux_free(W.sm);
	for (i = 0; i < W.nends; i++)
		lend_free(W.ends[i]);
	for (i = 0; i < W.nfds; i++)
		close(W.fds[i]);
	free(W.tap);
	memset(&W, 0, sizeof(W));
}

/*
 * The client's CARRIER frame is a TCP carrier's preamble: erlfwd-server reads
 * it before it starts the mux, with what follows as early bytes.  Do the
 * same from fd; returns the early bytes' count (in early).
 */
static size_t
take_hello(int fd, uint8_t *early, size_t cap)
{
	uint8_t buf[256];
	struct frame f;
	size_t len = 0;
	ssize_t n;
	int k = 0;

	while (k == 0) {
		ck_assert_int_eq(tio_wait(fd, POLLIN, tio_now_ms() + SPIN_MS), 0);
		n = recv(fd, buf + len, sizeof(buf) - len, MSG_DONTWAIT);
		ck_assert_int_gt(n, 0);
		len += (size_t)n;
		k = frame_decode(buf, len, FRAME_REQ_BODY_MAX, &f);
	}
	ck_assert_int_gt(k, 0);
	ck_assert_int_eq(f.version, FRAME_VERSION_CARRIER);
	ck_assert_int_eq(f.tag, FRAME_TAG_CARRIER);
	ck_assert_uint_le(len - (size_t)k, cap);
	memcpy(early, buf + k, len - (size_t)k);
	return len - (size_t)k;
}

/*
 * Start both muxes.  how: 0 over one socketpair, the server started as
 * erlfwd-server starts a TCP carrier (the client's hello already read);
 * 1 over two pipes, both expecting the other's hello (--via, --stdio);
 * 2 over two socketpairs with the tap between them.
 */
static void
start(int how, int ping_ms, int idle_ms)
{
	struct mux_opts co, so;
	uint8_t early[256];
	int a[2], b[2], small = 4096, n;

	if (how == 1) {
		ck_assert_int_eq(pipe2(a, O_CLOEXEC), 0);	/* c -> s */
		ck_assert_int_eq(pipe2(b, O_CLOEXEC), 0);	/* s -> c */
		keep_fd(a[0]);
		keep_fd(a[1]);
		keep_fd(b[0]);
		keep_fd(b[1]);
		opts(&co, MUX_CLIENT, b[0], a[1]);
		opts(&so, MUX_SERVER, a[0], b[1]);
		so.expect_hello = 1;
	} else if (how == 2) {
		pair(0, a);
		pair(0, b);
		keep_fd(a[0]);
		keep_fd(a[1]);
		keep_fd(b[0]);
		keep_fd(b[1]);
		/* Little room in the kernel between client and tap, so what
		 * the tap sees is close to what the client chose to send. */
		(void)setsockopt(a[0], SOL_SOCKET, SO_SNDBUF, &small,
		    sizeof(small));
		W.tap = calloc(1, sizeof(*W.tap));
		ck_assert_ptr_nonnull(W.tap);
		W.tap->cs.from = a[1];
		W.tap->cs.to = b[1];
		W.tap->sc.from = b[1];
		W.tap->sc.to = a[1];
		(void)fcntl(a[1], F_SETFL, O_NONBLOCK);
		(void)fcntl(b[1], F_SETFL, O_NONBLOCK);
		opts(&co, MUX_CLIENT, a[0], a[0]);
		opts(&so, MUX_SERVER, b[0], b[0]);
		so.expect_hello = 1;
	} else {
		pair(0, a);
		keep_fd(a[0]);
		keep_fd(a[1]);
		opts(&co, MUX_CLIENT, a[0], a[0]);
		opts(&so, MUX_SERVER, a[1], a[1]);
	}
	co.expect_hello = 1;
	co.ping_ms = ping_ms;
	co.busy_ping_ms = W.busy_ping_ms;
	so.idle_ms = idle_ms;
	if (W.smax > 0) {
		/* As erlfwd-server: its hello says what its mux takes. */
		n = carrier_hello(shello, sizeof(shello), "test",
		    (uint32_t)W.smax, 0);
		ck_assert_int_gt(n, 0);
		so.hello = shello;
		so.hello_len = (size_t)n;
		so.max_streams = W.smax;
	}
	W.cm = mux_new(&co, NULL, NULL, tio_now_ms());
	ck_assert_ptr_nonnull(W.cm);
	if (how == 0) {
		so.early_len = take_hello(a[1], early, sizeof(early));
		so.early = early;
	}
	W.sm = mux_new(&so, &node_ops, &W, tio_now_ms());
	ck_assert_ptr_nonnull(W.sm);
}

typedef int (*done_fn)(void *arg);

/*
 * Run everything until done(arg) or ms pass.  Returns 1 when done, 0 at the
 * deadline.  Between turns, poll every descriptor with work to wait for.
 */
static int
spin(done_fn done, void *arg, long ms)
{
	struct pollfd pfd[MAX_ENDS + 8];
	long deadline = tio_now_ms() + ms, now;
	int i, n, t, wait;

	for (;;) {
		now = tio_now_ms();
		for (i = 0; i < W.nends; i++)
			lend_step(W.ends[i]);
		if (W.tap != NULL) {
			tap_dir_step(W.tap, &W.tap->cs, 1);
			tap_dir_step(W.tap, &W.tap->sc, 0);
		}
		if (W.cm != NULL && !W.cfrozen)
			(void)mux_run(W.cm, now);
		if (W.sm != NULL && !W.sfrozen)
			(void)mux_run(W.sm, now);
		for (i = 0; i < W.nends; i++)
			lend_step(W.ends[i]);
		if (done(arg))
			return 1;
		if ((now = tio_now_ms()) >= deadline)
			return 0;
		wait = (int)(deadline - now);
		n = 0;
		if (W.cm != NULL && !W.cfrozen) {
			pfd[n].fd = mux_fd(W.cm);
			pfd[n++].events = POLLIN;
			t = mux_timeout(W.cm, now);
			if (t >= 0 && t < wait)
				wait = t;
		}
		if (W.sm != NULL && !W.sfrozen) {
			pfd[n].fd = mux_fd(W.sm);
			pfd[n++].events = POLLIN;
			t = mux_timeout(W.sm, now);
			if (t >= 0 && t < wait)
				wait = t;
		}
		if (W.tap != NULL) {
			if (W.tap->cs.from >= 0) {
				pfd[n].fd = W.tap->cs.from;
				pfd[n++].events = POLLIN;
			}
			if (W.tap->sc.from >= 0) {
				pfd[n].fd = W.tap->sc.from;
				pfd[n++].events = POLLIN;
			}
			if (W.tap->cs.pendoff < W.tap->cs.pendlen ||
			    W.tap->sc.pendoff < W.tap->sc.pendlen)
				wait = wait > 1 ? 1 : wait;
		}
		for (i = 0; i < W.nends; i++) {
			struct lend *e = W.ends[i];

			if (e->fd < 0)
				continue;
			pfd[n].fd = e->fd;
			pfd[n].events = 0;
			if (!e->eof && !e->err && !e->stalled)
				pfd[n].events |= POLLIN;
			if (e->outoff < e->outlen)
				pfd[n].events |= POLLOUT;
			n++;
		}
		(void)poll(pfd, (nfds_t)n, wait);
	}
}

/* ---- conditions to spin for ----------------------------------------------- */

static int
until_open(void *arg)
{
	(void)arg;
	return mux_run(W.cm, tio_now_ms()) == MUX_OPEN &&
	    mux_run(W.sm, tio_now_ms()) == MUX_OPEN;
}

static int
until_nodes(void *arg)
{
	return W.nnodes >= *(int *)arg;
}

static int
until_opens(void *arg)
{
	return W.opens >= *(int *)arg;
}

/* Every end in the NULL-terminated list has read EOF or failed. */
static int
until_eof(void *arg)
{
	struct lend **e;

	for (e = arg; *e != NULL; e++)
		if (!(*e)->eof && !(*e)->err)
			return 0;
	return 1;
}

struct want {
	struct lend	*e;
	size_t		 len;
};

static int
until_len(void *arg)
{
	struct want *w = arg;

	return w->e->inlen >= w->len || w->e->eof || w->e->err;
}

static int
until_ended(void *arg)
{
	struct mux *m = arg;

	return mux_run(m, tio_now_ms()) == MUX_ENDED;
}

static int
until_both_ended(void *arg)
{
	(void)arg;
	return mux_run(W.cm, tio_now_ms()) == MUX_ENDED &&
	    mux_run(W.sm, tio_now_ms()) == MUX_ENDED;
}

static int
never(void *arg)
{
	(void)arg;
	return 0;
}

static size_t
open_now(struct mux *m)
{
	struct mux_stats st;

	mux_stats(m, &st);
	return st.open;
}

static int
until_no_streams(void *arg)
{
	(void)arg;
	return open_now(W.cm) == 0 && open_now(W.sm) == 0;
}

/* ---- helpers ----------------------------------------------------------- */

static void
fill(uint8_t *p, size_t len, unsigned seed)
{
	size_t i;
	uint32_t x = seed * 2654435761u + 1;

	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

/* A client stream over a socketpair (tcp: a TCP pair); the app's end. */
static struct lend *
app_open(uint8_t tag, uint16_t port, int tcp, uint32_t *id)
{
	int sv[2];
	uint32_t k;

	pair(tcp, sv);
	k = mux_open(W.cm, sv[0], tag, port, NULL, 0);
	ck_assert_uint_ne(k, 0);
	if (id != NULL)
		*id = k;
	return end_add(sv[1]);
}

/* W.one_node: the newest node is that of stream *(uint32_t *)arg. */
static int
until_node_id(void *arg)
{
	return W.nnodes > 0 && W.node_id[0] == *(uint32_t *)arg;
}

/* The node for stream id, once the server opened it. */
static struct lend *
node_of(uint32_t id)
{
	int i, want;

	for (i = 0; i < W.nnodes; i++)
		if (W.node_id[i] == id)
			return W.node[i];
	if (W.one_node) {
		ck_assert_msg(spin(until_node_id, &id, SPIN_MS), "stream %u "
		    "never reached the server", id);
		return W.node[0];
	}
	want = W.nnodes + 1;
	ck_assert_msg(spin(until_nodes, &want, SPIN_MS), "stream %u never "
	    "reached the server", id);
	return node_of(id);
}

/* The node's bytes after its "pre:ID;" prefix, checked. */
static const uint8_t *
node_bytes(struct lend *n, uint32_t id, size_t *len)
{
	char pre[32];
	size_t k = (size_t)snprintf(pre, sizeof(pre), "pre:%u;", id);

	ck_assert_uint_ge(n->inlen, k);
	ck_assert_msg(memcmp(n->in, pre, k) == 0, "the node's first bytes "
	    "are not the open callback's prefix");
	*len = n->inlen - k;
	return n->in + k;
}

static void
check_bytes(const uint8_t *got, size_t gotlen, const uint8_t *want,
    size_t wantlen, const char *what)
{
	size_t i;

	ck_assert_msg(gotlen == wantlen, "%s: %zu bytes, want %zu", what,
	    gotlen, wantlen);
	for (i = 0; i < wantlen; i++)
		if (got[i] != want[i])
			ck_abort_msg("%s: byte %zu is %u, want %u", what, i,
			    got[i], want[i]);
}

/*
 * A stream from an app over TCP whose first byte, "x", its node has read
 * (behind the open callback's "pre:ID;").  Returns the app's end.
 */
static struct lend *
app_with_x(uint32_t *id, struct lend **node)
{
	struct lend *app = app_open(FRAME_TAG_DIST, 7, 1, id);
	char pre[32];
	struct want w;

	lend_queue(app, "x", 1);
	*node = node_of(*id);
	w.e = *node;
	w.len = (size_t)snprintf(pre, sizeof(pre), "pre:%u;", *id) + 1;
	ck_assert(spin(until_len, &w, SPIN_MS));
	return app;
}

/* ---- end causes ---------------------------------------------------------- */

/* Every cause has a one-word name that reads back as itself. */
START_TEST(end_names)
{
	int c;

	for (c = MUX_END_NONE; c <= MUX_END_LOCAL; c++) {
		const char *name = mux_end_name((enum mux_end_cause)c);

		ck_assert_ptr_null(strchr(name, ' '));
		ck_assert_int_eq(mux_end_parse(name), c);
	}
	ck_assert_str_eq(mux_end_name(MUX_END_NOT_CARRIER), "not-carrier");
	ck_assert_int_eq(mux_end_parse("no-such-cause"), MUX_END_NONE);
	ck_assert_str_eq(mux_end_name((enum mux_end_cause)999), "none");
}
END_TEST

/* ---- the hello --------------------------------------------------------- */

START_TEST(hello_socketpair)
{
	start(0, 0, 0);
	ck_assert_int_eq(mux_run(W.sm, tio_now_ms()), MUX_OPEN);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	ck_assert_str_eq(mux_why(W.cm), "");
	ck_assert_str_eq(mux_why(W.sm), "");
	ck_assert_int_eq(mux_end_cause(W.cm), MUX_END_NONE);
	ck_assert_int_eq(mux_goaway_code(W.cm), -1);
}
END_TEST

START_TEST(hello_pipes)
{
	/* Both wait for the other's CARRIER frame. */
	start(1, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
}
END_TEST

/*
 * A server whose hello says it takes 2 streams: the client knows it before
 * it opens one, and the third it opens anyway is refused alone.  The
 * server never saw its client's hello (read before the mux, as a TCP
 * carrier's is): it knows nothing of it.
 */
START_TEST(hello_streams)
{
	struct lend *app[3], *one[2] = { NULL, NULL };
	const uint8_t *body;
	size_t len;
	int i;

	W.smax = 2;
	start(0, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	ck_assert_uint_eq(mux_peer_max_streams(W.cm), 2);
	body = mux_peer_hello(W.cm, &len);
	ck_assert_uint_eq(len, strlen("version=test streams=2"));
	ck_assert(memcmp(body, "version=test streams=2", len) == 0);
	ck_assert_uint_eq(mux_peer_max_streams(W.sm), 0);
	(void)mux_peer_hello(W.sm, &len);
	ck_assert_uint_eq(len, 0);
	for (i = 0; i < 3; i++) {
		app[i] = app_open(FRAME_TAG_DIST, 7, 1, NULL);
		lend_queue(app[i], "hello?", 6);
	}
	one[0] = app[2];
	ck_assert(spin(until_eof, one, SPIN_MS));
	ck_assert_int_eq(app[2]->err, ECONNRESET);
	ck_assert_int_eq(W.nnodes, 2);
	ck_assert_uint_eq(open_now(W.sm), 2);
	ck_assert_int_eq(mux_run(W.cm, tio_now_ms()), MUX_OPEN);
}
END_TEST

/*
 * An older server's hello has no streams= (and the pipes' server read its
 * client's, which has none either): no limit said, as before.
 */
START_TEST(hello_streams_unsaid)
{
	size_t len;

	start(1, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	ck_assert_uint_eq(mux_peer_max_streams(W.cm), 0);
	ck_assert_uint_eq(mux_peer_max_streams(W.sm), 0);
	(void)mux_peer_hello(W.sm, &len);
	ck_assert_uint_eq(len, sizeof(HELLO_BODY) - 1);
}
END_TEST

/* A raw server end: the client mux over a socketpair whose other end is ours. */
static int
raw_client_mux(int ping_ms)
{
	struct mux_opts co;
	int sv[2];

	pair(1, sv);
	keep_fd(sv[0]);
	opts(&co, MUX_CLIENT, sv[0], sv[0]);
	co.expect_hello = 1;
	co.ping_ms = ping_ms;
	W.cm = mux_new(&co, NULL, NULL, tio_now_ms());
	ck_assert_ptr_nonnull(W.cm);
	return sv[1];
}

START_TEST(hello_banner)
{
	static const char banner[] = "Welcome to bastion\r\nLast login: ...";
	struct lend *r = end_add(raw_client_mux(0));

	lend_queue(r, banner, sizeof(banner) - 1);
	ck_assert(spin(until_ended, W.cm, SPIN_MS));
	ck_assert_msg(strstr(mux_why(W.cm), "the other end sent \"Welcome to "
	    "bastion\" instead of a carrier frame") != NULL, "why: %s",
	    mux_why(W.cm));
	ck_assert_int_eq(mux_end_cause(W.cm), MUX_END_NOT_CARRIER);
	ck_assert_str_eq(mux_not_carrier(W.cm), "Welcome to bastion");
}
END_TEST

START_TEST(hello_v1)
{
	uint8_t v1[FRAME_HDR_LEN + 8];
	struct lend *r = end_add(raw_client_mux(0));
	int n = frame_encode(v1, sizeof(v1), FRAME_TAG_INFO, 0, "a=b\n", 4);

	ck_assert_int_gt(n, 0);
	lend_queue(r, v1, (size_t)n);
	ck_assert(spin(until_ended, W.cm, SPIN_MS));
	ck_assert_str_eq(mux_why(W.cm), "the other end speaks only protocol "
	    "version 1");
	ck_assert_int_eq(mux_end_cause(W.cm), MUX_END_V1);
	ck_assert_str_eq(mux_not_carrier(W.cm), "");
}
END_TEST

/* ---- streams end to end ------------------------------------------------ */

/*
 * Three streams (DIST, EPMD, INFO) at once, each with its own bytes both
 * ways, each half-closed by the app, then by the node: every byte arrives,
 * in order, and the streams are gone on both sides.
 */
static void
end_to_end(int how)
{
	static const struct { uint8_t tag; uint16_t port; size_t up, down; }
	    sp[3] = {
		{ FRAME_TAG_DIST, 40001, 300000, 200000 },
		{ FRAME_TAG_EPMD, 4369, 1, 70000 },
		{ FRAME_TAG_INFO, 0, 17, 1 },
	};
	struct lend *app[3], *node[3], *all[7];
	uint8_t *up[3], *down[3];
	const uint8_t *got;
	struct mux_stats st;
	uint32_t id[3];
	size_t len;
	int i;

	start(how, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	for (i = 0; i < 3; i++) {
		up[i] = malloc(sp[i].up);
		down[i] = malloc(sp[i].down);
		fill(up[i], sp[i].up, (unsigned)i);
		fill(down[i], sp[i].down, (unsigned)i + 100);
		app[i] = app_open(sp[i].tag, sp[i].port, 0, &id[i]);
		ck_assert_uint_eq(id[i], 1 + 2 * (uint32_t)i);
		lend_queue(app[i], up[i], sp[i].up);
		app[i]->shut = 1;
	}
	for (i = 0; i < 3; i++) {
		node[i] = node_of(id[i]);
		ck_assert_uint_eq(W.node_tag[i], sp[i].tag);
		ck_assert_uint_eq(W.node_port[i], sp[i].port);
		lend_queue(node[i], down[i], sp[i].down);
		node[i]->shut = 1;
		all[2 * i] = app[i];
		all[2 * i + 1] = node[i];
	}
	all[6] = NULL;
	ck_assert(spin(until_eof, all, SPIN_MS));
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(app[i]->err, 0);
		ck_assert_int_eq(node[i]->err, 0);
		got = node_bytes(node[i], id[i], &len);
		check_bytes(got, len, up[i], sp[i].up, "client to node");
		check_bytes(app[i]->in, app[i]->inlen, down[i], sp[i].down,
		    "node to client");
		free(up[i]);
		free(down[i]);
	}
	ck_assert(spin(until_no_streams, NULL, SPIN_MS));
	mux_stats(W.cm, &st);
	ck_assert_uint_eq(st.streams, 3);
	ck_assert_uint_eq(st.bytes_out, 300000 + 1 + 17);
	ck_assert_uint_eq(st.bytes_in, 200000 + 70000 + 1);
	mux_stats(W.sm, &st);
	ck_assert_uint_eq(st.streams, 3);
	ck_assert_uint_eq(st.bytes_in, 300000 + 1 + 17);
	ck_assert_uint_eq(st.open, 0);
}

START_TEST(stream_socketpair)
{
	end_to_end(0);
}
END_TEST

START_TEST(stream_pipes)
{
	end_to_end(1);
}
END_TEST

/*
 * Forty streams at once, of sizes from 1 byte to 300 KiB each way (past the
 * window), half-closed in either order: every byte of every stream arrives
 * where it belongs.
 */
START_TEST(many_streams)
{
	int how_many = _i;	/* a socketpair, then two pipes */
	enum { N = 40 };
	struct lend *app[N], *node[N], *all[2 * N + 1];
	uint8_t *up[N], *down[N];
	size_t uplen[N], downlen[N], len;
	const uint8_t *got;
	uint32_t id[N];
	int i;

	start(how_many, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	for (i = 0; i < N; i++) {
		uplen[i] = 1 + (size_t)(i * 7919) % (300 * 1024);
		downlen[i] = 1 + (size_t)((N - i) * 15401) % (300 * 1024);
		up[i] = malloc(uplen[i]);
		down[i] = malloc(downlen[i]);
		fill(up[i], uplen[i], (unsigned)i * 2);
		fill(down[i], downlen[i], (unsigned)i * 2 + 1);
		app[i] = app_open(FRAME_TAG_DIST, (uint16_t)(1000 + i), 0, &id[i]);
		lend_queue(app[i], up[i], uplen[i]);
		app[i]->shut = 1;
	}
	for (i = 0; i < N; i++) {
		node[i] = node_of(id[i]);
		lend_queue(node[i], down[i], downlen[i]);
		node[i]->shut = 1;
		all[2 * i] = app[i];
		all[2 * i + 1] = node[i];
	}
	all[2 * N] = NULL;
	ck_assert(spin(until_eof, all, 3 * SPIN_MS));
	for (i = 0; i < N; i++) {
		got = node_bytes(node[i], id[i], &len);
		check_bytes(got, len, up[i], uplen[i], "many: up");
		check_bytes(app[i]->in, app[i]->inlen, down[i], downlen[i],
		    "many: down");
		free(up[i]);
		free(down[i]);
	}
	ck_assert(spin(until_no_streams, NULL, SPIN_MS));
}
END_TEST

static void reset_close(struct lend *e);

static int
until_nodes_have(void *arg)
{
	size_t want = *(size_t *)arg;
	int i;

	for (i = 0; i < W.nnodes; i++)
		if (W.node[i]->inlen < want && !W.node[i]->eof)
			return 0;
	return 1;
}

/*
 * Sixty streams at once, five fates in turn: a plain exchange; the app
 * resets its TCP socket midway; the server side resets it (mux_reset());
 * the app half-closes at once while the node talks on; the server refuses
 * it.  Each ends as it should, the others are untouched, and nothing is
 * left open on either side.
 */
START_TEST(mixed_fates)
{
	enum { N = 60 };
	struct lend *app[N], *node[N], *all[2 * N + 1];
	uint8_t *up, *down;
	size_t len, some = 20;
	const uint8_t *got;
	uint32_t id[N];
	int i, n = 0, k, want;

	W.refuse_9 = 1;
	start(_i, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	up = malloc(200000);
	down = malloc(200000);
	fill(up, 200000, 1);
	fill(down, 200000, 2);
	for (i = 0; i < N; i++) {
		app[i] = app_open(FRAME_TAG_DIST, (uint16_t)(2000 + i),
		    i % 5 == 1 || i % 5 == 2 || i % 5 == 4, &id[i]);
		ck_assert_uint_eq(id[i] % 10 == 9, i % 5 == 4);
		lend_queue(app[i], up, 1000 + (size_t)i * 3000);
		app[i]->shut = i % 5 == 0 || i % 5 == 3;
		all[n++] = app[i];
	}
	want = N - N / 5;
	ck_assert(spin(until_nodes, &want, SPIN_MS));
	for (i = 0, k = 0; i < N; i++) {
		if (i % 5 == 4) {
			node[i] = NULL;
			continue;
		}
		ck_assert_uint_eq(W.node_id[k], id[i]);
		node[i] = W.node[k++];
		if (i % 5 == 0 || i % 5 == 3) {
			lend_queue(node[i], down, 200000 - (size_t)i * 1000);
			node[i]->shut = 1;
		}
		all[n++] = node[i];
	}
	all[n] = NULL;
	/* Every node has heard from its app before the resets. */
	ck_assert(spin(until_nodes_have, &some, SPIN_MS));
	for (i = 0; i < N; i++) {
		if (i % 5 == 1)
			reset_close(app[i]);
		else if (i % 5 == 2)
			mux_reset(W.sm, id[i]);
	}
	/* The reset ones' node ends are done with: the others must end. */
	ck_assert(spin(until_eof, all, 3 * SPIN_MS));
	for (i = 0; i < N; i++) {
		switch (i % 5) {
		case 0:
		case 3:
			got = node_bytes(node[i], id[i], &len);
			check_bytes(got, len, up, 1000 + (size_t)i * 3000,
			    "mixed: up");
			check_bytes(app[i]->in, app[i]->inlen, down,
			    200000 - (size_t)i * 1000, "mixed: down");
			ck_assert_int_eq(app[i]->err, 0);
			break;
		case 1:
			ck_assert_int_eq(node[i]->err, 0);	/* a socketpair */
			break;
		case 2:
		case 4:
			ck_assert_msg(app[i]->err == ECONNRESET, "stream %u: "
			    "%s", id[i], strerror(app[i]->err));
			break;
		}
	}
	ck_assert_int_eq(W.opens, N);
	ck_assert_int_eq(W.resets, N / 5);	/* the apps' resets */
	ck_assert(spin(until_no_streams, NULL, SPIN_MS));
	ck_assert_int_eq(mux_run(W.cm, tio_now_ms()), MUX_OPEN);
	ck_assert_int_eq(mux_run(W.sm, tio_now_ms()), MUX_OPEN);
	free(up);
	free(down);
}
END_TEST

/* Early bytes given to mux_open() go first, inside the stream's window. */
START_TEST(stream_early)
{
	uint8_t early[40000], more[5000];
	struct lend *app, *node;
	const uint8_t *got;
	uint8_t *all;
	size_t len;
	int sv[2];
	uint32_t id;

	start(0, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	fill(early, sizeof(early), 7);
	fill(more, sizeof(more), 8);
	pair(0, sv);
	id = mux_open(W.cm, sv[0], FRAME_TAG_DIST, 9, early, sizeof(early));
	ck_assert_uint_eq(id, 1);
	app = end_add(sv[1]);
	lend_queue(app, more, sizeof(more));
	app->shut = 1;
	node = node_of(id);
	{
		struct lend *eofs[] = { node, NULL };

		ck_assert(spin(until_eof, eofs, SPIN_MS));
	}
	all = malloc(sizeof(early) + sizeof(more));
	memcpy(all, early, sizeof(early));
	memcpy(all + sizeof(early), more, sizeof(more));
	got = node_bytes(node, id, &len);
	check_bytes(got, len, all, sizeof(early) + sizeof(more), "early");
	free(all);
}
END_TEST

/* ---- flow control -------------------------------------------------------- */

static int
until_inflight_full(void *arg)
{
	(void)arg;
	return W.tap->inflight_max[slot(1)] >= CARRIER_WINDOW;
}

/*
 * A stream from an app with len bytes of seed's pattern queued on it: its
 * node; *data is the caller's to free.
 */
static struct lend *
bulk_open(size_t len, int seed, uint8_t **data, struct lend **app,
    uint32_t *id)
{
	*data = malloc(len);
	ck_assert_ptr_nonnull(*data);
	fill(*data, len, seed);
	*app = app_open(FRAME_TAG_DIST, 1234, 0, id);
	lend_queue(*app, *data, len);
	return node_of(*id);
}

/* All len bytes of data reach node, behind the preamble, in order. */
static void
bulk_arrives(struct lend *node, uint32_t id, const uint8_t *data, size_t len,
    const char *what)
{
	struct want w = { node, len + 6 };
	const uint8_t *got;
	size_t glen;

	ck_assert(spin(until_len, &w, 10 * SPIN_MS));
	got = node_bytes(node, id, &glen);
	check_bytes(got, glen, data, len, what);
}

/*
 * 4 MiB through one stream to a node that reads nothing at first, then
 * slowly: the client never sends past its window (the tap counts DATA one
 * way and WINDOW the other), uses all of it while the node stalls, and every
 * byte arrives.  The window grows only while the node's socket takes all it
 * is offered, and never past MUX_WIN_GROWN.
 */
START_TEST(window_slow_reader)
{
	struct lend *app, *node;
	const uint8_t *got;
	uint8_t *data;
	size_t len;
	uint32_t id;
	struct want w;

	W.stall_nodes = 1;
	start(2, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	node = bulk_open(BULK, 42, &data, &app, &id);
	app->shut = 1;
	ck_assert_msg(spin(until_inflight_full, NULL, SPIN_MS), "the sender "
	    "stopped at %llu bytes in flight", (unsigned long long)
	    W.tap->inflight_max[slot(1)]);
	/* A stalled reader holds the sender at the window: nothing more. */
	(void)spin(never, NULL, 200);
	ck_assert_uint_eq(W.tap->data[slot(1)], CARRIER_WINDOW +
	    W.tap->granted[slot(1)]);
	ck_assert_uint_le(W.tap->data[slot(1)] - W.tap->granted[slot(1)],
	    MUX_WIN_GROWN);
	ck_assert_int_eq(W.tap->over, 0);
	node->stalled = 0;
	node->rd_step = 7000;
	w.e = node;
	w.len = BULK + 6;
	ck_assert(spin(until_len, &w, 10 * SPIN_MS));
	/* The app's FIN came long before the node took the last bytes: it
	 * reaches the node after them. */
	{
		struct lend *one[2] = { node, NULL };

		ck_assert(spin(until_eof, one, SPIN_MS));
		ck_assert_int_eq(node->err, 0);
	}
	got = node_bytes(node, id, &len);
	check_bytes(got, len, data, BULK, "4 MiB to a slow reader");
	ck_assert_int_eq(W.tap->over, 0);
	ck_assert_uint_ge(W.tap->inflight_max[slot(1)], CARRIER_WINDOW);
	ck_assert_uint_le(W.tap->inflight_max[slot(1)], MUX_WIN_GROWN);
	ck_assert_int_le(W.tap->credit_max[slot(1)], MUX_WIN_GROWN);
	ck_assert_msg(!W.tap->overgrant, "the server granted %llu bytes of "
	    "window for %llu sent", (unsigned long long)W.tap->granted[slot(1)],
	    (unsigned long long)W.tap->data[slot(1)]);
	ck_assert_int_eq(W.tap->cs.bad, 0);
	ck_assert_int_eq(W.tap->sc.bad, 0);
	free(data);
}
END_TEST

/* No window was overrun, and none given past MUX_WIN_GROWN (the tap's). */
static void
windows_kept(void)
{
	ck_assert_int_eq(W.tap->over, 0);
	ck_assert_int_eq(W.tap->overgrant, 0);
}

/*
 * A node that takes everything at once: the stream's window grows past
 * CARRIER_WINDOW (a WINDOW leaves the client free to send more than the
 * initial window), never past MUX_WIN_GROWN, and every byte arrives in
 * order.
 */
START_TEST(window_grows)
{
	struct lend *app, *node;
	uint8_t *data;
	uint32_t id;

	W.grow_ms = 60000;
	start(2, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	node = bulk_open(BULK, 17, &data, &app, &id);
	bulk_arrives(node, id, data, BULK, "4 MiB to a fast reader");
	ck_assert_msg(W.tap->credit_max[slot(1)] > CARRIER_WINDOW, "the "
	    "window never grew: %lld bytes at most",
	    (long long)W.tap->credit_max[slot(1)]);
	ck_assert_int_le(W.tap->credit_max[slot(1)], MUX_WIN_GROWN);
	windows_kept();
	free(data);
}
END_TEST

/*
 * Eight streams of 1 MiB one after the other, each alone while it moves
 * (a mix time of 5 ms), none closed, every node taking all: each one's
 * window grows, and all of them together by MUX_GROW_BUDGET at most (the
 * server's count, read as it goes).
 */
static int
until_len_grown(void *arg)
{
	struct mux_stats st;

	mux_stats(W.sm, &st);
	if (st.grown > W.grown_max)
		W.grown_max = st.grown;
	return until_len(arg);
}

START_TEST(window_budget)
{
	struct lend *app;
	struct want w;
	uint8_t *data;
	uint32_t id;
	int i;

	W.mix_ms = 5;
	W.grow_ms = 60000;
	start(2, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	data = malloc(BULK / 4);
	fill(data, BULK / 4, 5);
	for (i = 0; i < 8; i++) {
		app = app_open(FRAME_TAG_DIST, (uint16_t)(1000 + i), 0, &id);
		lend_queue(app, data, BULK / 4);
		w.e = node_of(id);
		w.len = BULK / 4 + 6;
		ck_assert(spin(until_len_grown, &w, 10 * SPIN_MS));
		ck_assert_int_eq(w.e->err, 0);
		(void)spin(never, NULL, 20);
	}
	/* Past what one stream may grow by: several grew. */
	ck_assert_uint_gt(W.grown_max, MUX_WIN_GROWN - CARRIER_WINDOW);
	ck_assert_uint_le(W.grown_max, MUX_GROW_BUDGET);
	windows_kept();
	free(data);
}
END_TEST

/*
 * A slow link (the tap takes 16 KiB every 5 ms from the client: 3.2 MB/s)
 * to a node that takes everything: half a window takes 40 ms to come, so
 * the window never grows (a slow link needs none, and would only queue
 * more ahead of a keystroke), and every byte arrives.
 */
START_TEST(window_slow_link)
{
	struct lend *app, *node;
	uint8_t *data;
	uint32_t id;

	W.grow_ms = 10;	/* the engine's own */
	start(2, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	W.tap->cs.step = 16384;
	W.tap->cs.gap_ms = 5;
	node = bulk_open(BULK / 4, 23, &data, &app, &id);
	bulk_arrives(node, id, data, BULK / 4, "1 MiB over a slow link");
	ck_assert_msg(W.tap->credit_max[slot(1)] <= CARRIER_WINDOW, "the "
	    "window grew on a slow link: %lld bytes",
	    (long long)W.tap->credit_max[slot(1)]);
	windows_kept();
	free(data);
}
END_TEST

static int
until_grown(void *arg)
{
	(void)arg;
	return W.tap->credit_max[slot(1)] > CARRIER_WINDOW;
}

/*
 * A bulk stream's window grows while it moves data alone; once another
 * stream moves some (a shell's keystroke), it shrinks back to
 * CARRIER_WINDOW: what is queued ahead of the next keystroke is bounded as
 * it was before windows grew.  A mix time of a minute keeps it mixed.
 */
START_TEST(window_shrinks_mixed)
{
	static const char key[] = "x";
	struct lend *bulk, *tiny, *node;
	uint8_t *data;
	uint32_t ib, is;
	struct want w;

	W.mix_ms = 60000;
	W.grow_ms = 60000;
	start(2, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	data = malloc(2 * BULK);
	fill(data, 2 * BULK, 9);
	bulk = app_open(FRAME_TAG_DIST, 1111, 0, &ib);
	ck_assert_uint_eq(ib, 1);
	lend_queue(bulk, data, 2 * BULK);
	node = node_of(ib);
	ck_assert_msg(spin(until_grown, NULL, SPIN_MS), "never grew");
	tiny = app_open(FRAME_TAG_DIST, 2222, 0, &is);
	lend_queue(tiny, key, 1);
	w.e = node_of(is);
	w.len = 6 + 1;
	ck_assert(spin(until_len, &w, SPIN_MS));
	w.e = node;
	/* 2 MiB down to 256 KiB: WINDOWs that give nothing back for 1 MiB,
	 * 512 and 256 KiB consumed, then one that gives 128 KiB. */
	w.len = node->inlen + 3 * 1024 * 1024;
	ck_assert(w.len < 2 * BULK);
	ck_assert(spin(until_len, &w, SPIN_MS));
	ck_assert_msg(W.tap->credit_last[slot(ib)] <= CARRIER_WINDOW, "the "
	    "bulk stream may still send %lld bytes after a WINDOW",
	    (long long)W.tap->credit_last[slot(ib)]);
	ck_assert_int_eq(W.tap->over, 0);
	free(data);
}
END_TEST

/* ---- fairness ------------------------------------------------------------ */

static int
until_bulk_flows(void *arg)
{
	(void)arg;
	return W.tap->data[slot(1)] >= 8 * CARRIER_DATA_MAX;
}

static int
until_small_seen(void *arg)
{
	(void)arg;
	return W.tap->data[slot(3)] > 0;
}

/*
 * A bulk stream and a small one: once the small one's bytes are written by
 * its app, at most a few of the bulk one's frames cross before them.
 */
START_TEST(fairness)
{
	static const char small[] = "net_adm:ping() tick";
	struct lend *bulk, *tiny;
	uint8_t *data;
	size_t mark, i, before = 0;
	uint32_t ib, is;

	start(2, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	data = malloc(BULK);
	fill(data, BULK, 1);
	bulk = app_open(FRAME_TAG_DIST, 1111, 0, &ib);
	tiny = app_open(FRAME_TAG_DIST, 2222, 0, &is);
	(void)node_of(ib);
	(void)node_of(is);
	lend_queue(bulk, data, BULK);
	ck_assert(spin(until_bulk_flows, NULL, SPIN_MS));
	mark = W.tap->nlog;
	lend_queue(tiny, small, sizeof(small) - 1);
	ck_assert(spin(until_small_seen, NULL, SPIN_MS));
	for (i = mark; i < W.tap->nlog && W.tap->log[i] != is; i++)
		if (W.tap->log[i] == ib)
			before++;
	/*
	 * What the client had queued at the mark (less than OUT_LOW plus one
	 * frame), what the kernel held between it and the tap (one frame or
	 * so: a small SO_SNDBUF), and the bulk stream's turn.
	 */
	ck_assert_msg(before <= 5, "%zu frames of the bulk stream before the "
	    "small one's", before);
	ck_assert_msg(W.tap->data[slot(1)] < BULK / 2, "the bulk stream "
	    "was nearly done (%llu bytes) before the small one went",
	    (unsigned long long)W.tap->data[slot(1)]);
	free(data);
}
END_TEST

/* ---- half-close ----------------------------------------------------------- */

/*
 * FIN each way: the side that shuts down first still gets the other way's
 * bytes, after the EOF it caused.
 */
static void
half_close(int app_first)
{
	uint8_t a[100000], b[90000];
	struct lend *app, *node, *first, *second;
	struct lend *one[2] = { NULL, NULL };
	struct want w;
	const uint8_t *got;
	size_t len;
	uint32_t id;

	start(0, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	fill(a, sizeof(a), 3);
	fill(b, sizeof(b), 4);
	app = app_open(FRAME_TAG_DIST, 5555, 0, &id);
	node = node_of(id);
	first = app_first ? app : node;
	second = app_first ? node : app;
	first->shut = 1;
	one[0] = second;
	ck_assert(spin(until_eof, one, SPIN_MS));
	ck_assert_int_eq(second->err, 0);
	/* The stream lives on the other way. */
	ck_assert_uint_eq(open_now(W.cm), 1);
	ck_assert_uint_eq(open_now(W.sm), 1);
	lend_queue(second, app_first ? b : a, app_first ? sizeof(b) :
	    sizeof(a));
	w.e = first;
	w.len = (app_first ? sizeof(b) : sizeof(a)) + (app_first ? 0 :
	    node->inlen);
	ck_assert(spin(until_len, &w, SPIN_MS));
	ck_assert_int_eq(first->eof, 0);
	second->shut = 1;
	one[0] = first;
	ck_assert(spin(until_eof, one, SPIN_MS));
	ck_assert_int_eq(first->err, 0);
	if (app_first) {
		check_bytes(app->in, app->inlen, b, sizeof(b), "after app FIN");
	} else {
		got = node_bytes(node, id, &len);
		check_bytes(got, len, a, sizeof(a), "after node FIN");
	}
	ck_assert(spin(until_no_streams, NULL, SPIN_MS));
}

START_TEST(half_close_app)
{
	half_close(1);
}
END_TEST

START_TEST(half_close_node)
{
	half_close(0);
}
END_TEST

/* ---- rewired streams (erlfwd-server past a stream's setup) ---------------- */

static void reset_close(struct lend *e);

static int
until_closed(void *arg)
{
	(void)arg;
	return W.closed > 0;
}

/*
 * What erlfwd-server does when a stream's setup is over: read what is left
 * in the pair (behind the "pre:ID;" the open callback wrote), and hand the
 * mux a TCP socket to the upstream with that and the upstream's first
 * answer.  Returns the upstream's end.
 */
static struct lend *
rewire(uint32_t id, struct lend *node, const char *answer)
{
	char pre[32];
	size_t k = (size_t)snprintf(pre, sizeof(pre), "pre:%u;", id);
	uint8_t *left = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int up[2];

	/* The open callback's prefix is there (or in the pair, stalled). */
	if (!node->stalled) {
		struct want w = { node, k };

		ck_assert(spin(until_len, &w, SPIN_MS));
	}
	/* What the node end read so far, then what the pair still holds. */
	for (;;) {
		if (len + 65536 > cap) {
			cap = 2 * (len + 65536);
			ck_assert_ptr_nonnull(left = realloc(left, cap));
		}
		if (len == 0 && node->inlen > 0) {
			memcpy(left, node->in, node->inlen);
			len = node->inlen;
			continue;
		}
		n = recv(node->fd, left + len, cap - len, MSG_DONTWAIT);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	ck_assert_uint_ge(len, k);
	ck_assert(memcmp(left, pre, k) == 0);
	tcp_pair(up);
	ck_assert_int_eq(mux_rewire(W.sm, id, up[0], left + k, len - k,
	    answer, strlen(answer), &W.closed_udata), 0);
	free(left);
	close(node->fd);	/* the owner's end of the pair, done with */
	node->fd = -1;
	node->eof = 1;
	return end_add(up[1]);
}

/*
 * Bytes the server's mux still held for a stalled pair, bytes in the pair,
 * and bytes still coming from the app all reach the upstream in order; the
 * upstream's answer reaches the app first; a clean close on both sides is
 * MUX_SE_CLOSED with the counts.
 */
START_TEST(rewire_order)
{
	struct lend *app, *node, *up, *two[3] = { NULL, NULL, NULL };
	static uint8_t a[BULK], b[BULK / 4];
	uint8_t *got;
	struct want w;
	uint32_t id;

	W.stall_nodes = 1;
	start(0, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	fill(a, sizeof(a), 1);
	fill(b, sizeof(b), 2);
	app = app_open(FRAME_TAG_DIST, 7, 1, &id);
	lend_queue(app, a, sizeof(a));
	node = node_of(id);
	/* The pair fills, then the stream's window: the rest waits. */
	(void)spin(never, NULL, 300);
	up = rewire(id, node, "ANSWER");
	lend_queue(up, b, sizeof(b));
	w.e = up;
	w.len = sizeof(a);
	ck_assert(spin(until_len, &w, SPIN_MS));
	check_bytes(up->in, up->inlen, a, sizeof(a), "upstream");
	w.e = app;
	w.len = 6 + sizeof(b);
	ck_assert(spin(until_len, &w, SPIN_MS));
	ck_assert_uint_eq(app->inlen, 6 + sizeof(b));
	ck_assert(memcmp(app->in, "ANSWER", 6) == 0);
	got = app->in + 6;
	check_bytes(got, app->inlen - 6, b, sizeof(b), "app");
	ck_assert_int_gt(W.moved, 0);
	ck_assert_int_eq(W.closed, 0);
	app->shut = 1;
	up->shut = 1;
	two[0] = app;
	two[1] = up;
	ck_assert(spin(until_eof, two, SPIN_MS));
	ck_assert(spin(until_closed, NULL, SPIN_MS));
	ck_assert_int_eq(W.closed, 1);
	ck_assert_int_eq(W.end.how, MUX_SE_CLOSED);
	ck_assert_uint_eq(W.end.from_local, 6 + sizeof(b));
	/* Everything the pair had not passed on, and everything after. */
	ck_assert_uint_le(W.end.to_local, sizeof(a));
	ck_assert_uint_gt(W.end.to_local, 0);
	ck_assert_int_gt(W.halves, 0);
	ck_assert_int_eq(W.resets, 0);
	ck_assert_int_eq(mux_run(W.sm, tio_now_ms()), MUX_OPEN);
}
END_TEST

/* The app resets: the upstream reads a reset; closed(), not reset(). */
START_TEST(rewire_peer_reset)
{
	struct lend *app, *node, *up, *one[2] = { NULL, NULL };
	struct want w;
	uint32_t id;

	start(0, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	app = app_with_x(&id, &node);
	up = rewire(id, node, "");
	w.e = up;
	w.len = 1;
	ck_assert(spin(until_len, &w, SPIN_MS));
	ck_assert(up->in[0] == 'x');
	reset_close(app);
	one[0] = up;
	ck_assert(spin(until_eof, one, SPIN_MS));
	ck_assert_int_eq(up->err, ECONNRESET);
	ck_assert(spin(until_closed, NULL, SPIN_MS));
	ck_assert_int_eq(W.end.how, MUX_SE_PEER_RESET);
	ck_assert_uint_eq(W.end.to_local, 1);
	ck_assert_int_eq(W.resets, 0);
}
END_TEST

/* The upstream resets: the app reads a reset; MUX_SE_LOCAL_RESET. */
START_TEST(rewire_upstream_reset)
{
	struct lend *app, *node, *up, *one[2] = { NULL, NULL };
	uint32_t id;

	start(0, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	app = app_open(FRAME_TAG_DIST, 7, 1, &id);
	node = node_of(id);
	up = rewire(id, node, "hi");
	reset_close(up);
	one[0] = app;
	ck_assert(spin(until_eof, one, SPIN_MS));
	ck_assert_int_eq(app->err, ECONNRESET);
	ck_assert_uint_eq(app->inlen, 2);
	ck_assert(spin(until_closed, NULL, SPIN_MS));
	ck_assert_int_eq(W.end.how, MUX_SE_LOCAL_RESET);
	ck_assert_uint_eq(W.end.from_local, 2);
}
END_TEST

/* The owner's quiet limit: RESET to the app, a FIN to the upstream. */
START_TEST(rewire_owner_close)
{
	struct lend *app, *node, *up, *two[3] = { NULL, NULL, NULL };
	uint32_t id;

	start(0, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	app = app_open(FRAME_TAG_DIST, 7, 1, &id);
	node = node_of(id);
	up = rewire(id, node, "");
	mux_stream_close(W.sm, id);
	ck_assert_int_eq(W.closed, 1);
	ck_assert_int_eq(W.end.how, MUX_SE_OWNER);
	mux_stream_close(W.sm, id);	/* gone: nothing */
	ck_assert_int_eq(W.closed, 1);
	two[0] = app;
	two[1] = up;
	ck_assert(spin(until_eof, two, SPIN_MS));
	ck_assert_int_eq(app->err, ECONNRESET);
	ck_assert_int_eq(up->err, 0);
	ck_assert(spin(until_no_streams, NULL, SPIN_MS));
	ck_assert_int_eq(mux_run(W.sm, tio_now_ms()), MUX_OPEN);
}
END_TEST

/* The carrier goes: each rewired stream hears MUX_SE_CARRIER. */
START_TEST(rewire_carrier_end)
{
	struct lend *node, *up, *one[2] = { NULL, NULL };
	uint32_t id;

	start(0, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	(void)app_open(FRAME_TAG_DIST, 7, 1, &id);
	node = node_of(id);
	up = rewire(id, node, "");
	mux_free(W.sm);
	W.sm = NULL;
	ck_assert_int_eq(W.closed, 1);
	ck_assert_int_eq(W.end.how, MUX_SE_CARRIER);
	one[0] = up;
	ck_assert(spin(until_eof, one, SPIN_MS));
}
END_TEST

/* What cannot be rewired is refused, and the stream goes on as it was. */
START_TEST(rewire_refused)
{
	static uint8_t big[CARRIER_WINDOW + 1];
	struct lend *app, *node;
	struct want w;
	uint32_t id;
	int up[2];

	start(0, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	app = app_open(FRAME_TAG_DIST, 7, 1, &id);
	node = node_of(id);
	tcp_pair(up);
	keep_fd(up[0]);
	keep_fd(up[1]);
	ck_assert_int_eq(mux_rewire(W.sm, id + 2, up[0], NULL, 0, NULL, 0,
	    &W.closed_udata), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(mux_rewire(W.sm, id, up[0], NULL, 0, NULL, 0, NULL),
	    -1);
	ck_assert_int_eq(mux_rewire(W.sm, id, up[0], NULL, 0, big,
	    sizeof(big), &W.closed_udata), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	lend_queue(app, "z", 1);
	w.e = node;
	w.len = 7;	/* "pre:1;z" */
	ck_assert(spin(until_len, &w, SPIN_MS));
	ck_assert_int_eq(W.closed, 0);
}
END_TEST

/*
 * A burst of OPENs in one read is acted on a slice per mux_run(): the owner
 * frees one slice's setup state before the next is made.  Every one is
 * opened in the end, in order, and the frames behind them too.
 */
#define BURST	90	/* nodes: at most MAX_NODES */

START_TEST(open_burst_slices)
{
	struct mux_opts so;
	struct lend *r, *node;
	struct want w;
	uint8_t burst[BURST * (CARRIER_HDR_LEN + 3) + 64];
	size_t len = 0;
	int sv[2], n, i, before, most = 0;
	static const uint8_t op[3] = { FRAME_TAG_DIST, 0, 7 };

	for (i = 0; i < BURST; i++) {
		n = carrier_encode(burst + len, sizeof(burst) - len,
		    CARRIER_OPEN, (uint32_t)(2 * i + 1), op, sizeof(op));
		ck_assert_int_gt(n, 0);
		len += (size_t)n;
	}
	n = carrier_encode(burst + len, sizeof(burst) - len, CARRIER_DATA,
	    2 * BURST - 1, "end", 3);
	len += (size_t)n;
	pair(1, sv);
	keep_fd(sv[0]);
	opts(&so, MUX_SERVER, sv[0], sv[0]);
	so.max_streams = 200;
	W.sm = mux_new(&so, &node_ops, &W, tio_now_ms());
	ck_assert_ptr_nonnull(W.sm);
	r = end_add(sv[1]);
	ck_assert_int_eq(send(sv[1], burst, len, 0), (ssize_t)len);
	ck_assert_int_eq(tio_wait(mux_fd(W.sm), POLLIN, tio_now_ms() + SPIN_MS),
	    0);
	for (i = 0; i < 50 && W.opens < BURST; i++) {
		before = W.opens;
		(void)mux_run(W.sm, tio_now_ms());
		if (W.opens - before > most)
			most = W.opens - before;
		/* Unparsed frames: come back at once. */
		if (W.opens < BURST)
			ck_assert_msg(mux_timeout(W.sm, tio_now_ms()) == 0,
			    "%d opens, %d this run", W.opens, W.opens - before);
	}
	ck_assert_int_eq(W.opens, BURST);
	ck_assert_int_le(most, 32);
	ck_assert_int_gt(most, 0);
	node = node_of(2 * BURST - 1);
	w.e = node;
	w.len = 11;	/* "pre:179;end" */
	ck_assert(spin(until_len, &w, SPIN_MS));
	ck_assert_int_eq(memcmp(node->in, "pre:179;end", 11), 0);
	(void)r;
}
END_TEST

/* ---- resume ------------------------------------------------------------ */

static const uint8_t RESUME_BODY[] = "version=test resume=1";

/*
 * A client that asks for resume and a server that offers it, over a
 * socketpair, both expecting the other's hello (as --via and --stdio).
 * *cfd, *sfd: the two ends, closed by the caller to drop the carrier.
 */
static void
start_resume(int *cfd, int *sfd)
{
	uint8_t h[FRAME_HDR_LEN + sizeof(RESUME_BODY)];
	struct mux_opts co, so;
	int a[2], n;

	n = frame_encode(h, sizeof(h), FRAME_TAG_CARRIER, 0, RESUME_BODY,
	    sizeof(RESUME_BODY) - 1);
	ck_assert_int_gt(n, 0);
	pair(0, a);
	opts(&co, MUX_CLIENT, a[0], a[0]);
	co.hello = h;
	co.hello_len = (size_t)n;
	co.expect_hello = 1;
	co.resume = 1;
	opts(&so, MUX_SERVER, a[1], a[1]);
	so.expect_hello = 1;
	so.resume = !W.no_resume;
	so.resume_window_ms = 45000;
	W.cm = mux_new(&co, NULL, NULL, tio_now_ms());
	W.sm = mux_new(&so, &node_ops, &W, tio_now_ms());
	ck_assert_ptr_nonnull(W.cm);
	ck_assert_ptr_nonnull(W.sm);
	*cfd = a[0];
	*sfd = a[1];
}

/*
 * The carrier drops: what was in flight either way is lost (read here and
 * thrown away), both ends read EOF and their writes fail (the fds stay
 * ours).  Returns how many bytes were lost.
 */
static size_t
drop(int cfd, int sfd)
{
	uint8_t junk[65536];
	size_t lost = 0;
	ssize_t n;

	while ((n = recv(cfd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		lost += (size_t)n;
	while ((n = recv(sfd, junk, sizeof(junk), MSG_DONTWAIT)) > 0)
		lost += (size_t)n;
	(void)shutdown(cfd, SHUT_RDWR);
	(void)shutdown(sfd, SHUT_RDWR);
	keep_fd(cfd);
	keep_fd(sfd);
	return lost;
}

static int
until_detached(void *arg)
{
	(void)arg;
	return mux_run(W.cm, tio_now_ms()) == MUX_DETACHED &&
	    mux_run(W.sm, tio_now_ms()) == MUX_DETACHED;
}

/*
 * The client comes back on a new socketpair: attach it, and give the
 * server's end to a fresh server mux, as erlfwd-server does with a new
 * carrier; its session callback hands it to the detached one.  Returns the
 * fresh mux (a shell once adopted; the caller frees it) and the ends.
 */
static struct mux *
come_back(int *cfd, int *sfd)
{
	struct mux_opts so;
	struct mux *tmp;
	int a[2];

	pair(0, a);
	ck_assert_int_eq(mux_attach(W.cm, a[0], a[0], tio_now_ms()), 0);
	opts(&so, MUX_SERVER, a[1], a[1]);
	so.expect_hello = 1;
	so.resume = !W.no_resume;
	tmp = mux_new(&so, &node_ops, &W, tio_now_ms());
	ck_assert_ptr_nonnull(tmp);
	*cfd = a[0];
	*sfd = a[1];
	return tmp;
}

/* Run the fresh server mux until it is adopted or ended. */
static void
run_tmp(struct mux *tmp, long ms)
{
	long deadline = tio_now_ms() + ms;
	struct pollfd p;

	while (tio_now_ms() < deadline && mux_adopted_by(tmp) == NULL &&
	    mux_run(tmp, tio_now_ms()) != MUX_ENDED) {
		(void)mux_run(W.cm, tio_now_ms());
		p.fd = mux_fd(tmp);
		p.events = POLLIN;
		(void)poll(&p, 1, 5);
	}
}

/*
 * The carrier drops in the middle of bulk both ways: both ends keep the
 * session; the client comes back on a new carrier, resumes, and every
 * byte arrives once, in order, with no stream lost.
 */
START_TEST(resume_bulk)
{
	static uint8_t a[BULK], b[BULK / 4];
	struct lend *app, *node;
	struct mux_stats st;
	struct mux *tmp;
	struct want w;
	uint32_t id;
	int cfd, sfd;

	start_resume(&cfd, &sfd);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	ck_assert_int_eq(W.sessions, 1);
	fill(a, sizeof(a), 3);
	fill(b, sizeof(b), 4);
	app = app_open(FRAME_TAG_DIST, 7, 1, &id);
	lend_queue(app, a, sizeof(a));
	node = node_of(id);
	lend_queue(node, b, sizeof(b));
	w.e = node;
	w.len = sizeof(a) / 3;
	ck_assert(spin(until_len, &w, SPIN_MS));
	/* The carrier goes, bytes in flight with it: the server stops
	 * reading first, so that some are. */
	W.sfrozen = 1;
	(void)spin(never, NULL, 50);
	W.sfrozen = 0;
	ck_assert_uint_gt(drop(cfd, sfd), 0);
	ck_assert(spin(until_detached, NULL, SPIN_MS));
	tmp = come_back(&cfd, &sfd);
	keep_fd(cfd);
	keep_fd(sfd);
	run_tmp(tmp, SPIN_MS);
	ck_assert_ptr_eq(mux_adopted_by(tmp), W.sm);
	mux_free(tmp);
	w.len = 6 + sizeof(a);	/* "pre:1;" and the bulk */
	ck_assert(spin(until_len, &w, SPIN_MS));
	check_bytes(node->in + 6, node->inlen - 6, a, sizeof(a), "node");
	w.e = app;
	w.len = sizeof(b);
	ck_assert(spin(until_len, &w, SPIN_MS));
	check_bytes(app->in, app->inlen, b, sizeof(b), "app");
	mux_stats(W.cm, &st);
	ck_assert_uint_eq(st.resumes, 1);
	ck_assert_uint_eq(st.sessions_gone, 0);
	ck_assert_uint_eq(st.open, 1);
	mux_stats(W.sm, &st);
	ck_assert_uint_eq(st.resumes, 1);
	ck_assert_int_eq(mux_run(W.cm, tio_now_ms()), MUX_OPEN);
	ck_assert_int_eq(mux_run(W.sm, tio_now_ms()), MUX_OPEN);
}
END_TEST

/*
 * ACKs keep what each side retains small: after 4 MiB one way, what the
 * client keeps for sending again is at most about the ACK interval and
 * what is in flight, not the bulk.
 */
START_TEST(resume_acks_bound)
{
	static uint8_t a[BULK];
	struct lend *app, *node;
	struct mux_stats st;
	struct want w;
	uint32_t id;
	int cfd, sfd;

	start_resume(&cfd, &sfd);
	keep_fd(cfd);
	keep_fd(sfd);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	fill(a, sizeof(a), 5);
	app = app_open(FRAME_TAG_DIST, 7, 1, &id);
	lend_queue(app, a, sizeof(a));
	node = node_of(id);
	w.e = node;
	w.len = 6 + sizeof(a);
	ck_assert(spin(until_len, &w, SPIN_MS));
	(void)spin(never, NULL, 100);
	mux_stats(W.cm, &st);
	/* mux.c's ACK_EVERY, twice, and a window. */
	ck_assert_uint_le(st.retained, 2 * 256 * 1024 + CARRIER_WINDOW);
}
END_TEST

/*
 * Send RESUME for W.sm's session with proof on r (tmp's carrier) and take
 * tmp's first frame after it into *cf.
 */
static void
resume_answer(struct mux *tmp, struct lend *r, const uint8_t *proof,
    struct carrier_frame *cf)
{
	uint8_t fr[CARRIER_HDR_LEN + CARRIER_SESSION_RESUME_LEN];
	int n, i;

	r->inlen = 0;
	n = carrier_session_resume(fr, sizeof(fr), mux_session_id(W.sm),
	    proof, 0);
	lend_queue(r, fr, (size_t)n);
	for (i = 0, n = 0; i < 200 && n <= 0; i++) {
		(void)mux_run(tmp, tio_now_ms());
		lend_step(r);
		n = r->inlen > 0 ? carrier_decode(r->in, r->inlen, cf) : 0;
		if (n == 0)
			(void)poll(NULL, 0, 5);
	}
	ck_assert_int_gt(n, 0);
}

/*
 * A RESUME for a real session with a proof that is not its key's answer to
 * this carrier's nonce is refused (REFUSE, reason proof); the session stays
 * detached for its owner, who resumes it.
 */
START_TEST(resume_wrong_proof)
{
	uint8_t h[FRAME_HDR_LEN + sizeof(RESUME_BODY)];
	uint8_t key[CARRIER_KEY_LEN], nonce[CARRIER_NONCE_LEN];
	uint8_t proof[CARRIER_PROOF_LEN];
	char hex[CARRIER_NONCE_HEX + 1];
	struct lend *app, *node, *r;
	struct carrier_frame cf;
	struct carrier_session cs;
	struct mux_opts so;
	struct mux *tmp;
	struct frame f;
	struct want w;
	uint32_t id;
	int cfd, sfd, n, x[2], i, refusals;

	start_resume(&cfd, &sfd);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	app = app_open(FRAME_TAG_DIST, 7, 1, &id);
	node = node_of(id);
	(void)drop(cfd, sfd);
	ck_assert(spin(until_detached, NULL, SPIN_MS));
	/* A stranger who learned the session's id, not its key. */
	pair(0, x);
	keep_fd(x[1]);
	opts(&so, MUX_SERVER, x[1], x[1]);
	so.expect_hello = 1;
	so.resume = 1;
	tmp = mux_new(&so, &node_ops, &W, tio_now_ms());
	ck_assert_ptr_nonnull(tmp);
	r = end_add(x[0]);
	n = frame_encode(h, sizeof(h), FRAME_TAG_CARRIER, 0, RESUME_BODY,
	    sizeof(RESUME_BODY) - 1);
	lend_queue(r, h, (size_t)n);
	for (i = 0, n = 0; i < 200 && n <= 0; i++) {
		(void)mux_run(tmp, tio_now_ms());
		lend_step(r);
		n = r->inlen > 0 ? frame_decode(r->in, r->inlen, 256, &f) : 0;
		if (n == 0)
			(void)poll(NULL, 0, 5);
	}
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(carrier_hello_field(f.body, f.body_len, "resume",
	    hex, sizeof(hex)), CARRIER_NONCE_HEX);
	ck_assert_int_eq(carrier_hex_decode(hex, CARRIER_NONCE_HEX, nonce,
	    sizeof(nonce)), 0);
	memset(key, 7, sizeof(key));
	carrier_resume_proof(key, mux_session_id(W.sm), nonce, proof);
	resume_answer(tmp, r, proof, &cf);
	ck_assert_int_eq(cf.type, CARRIER_SESSION);
	ck_assert_int_eq(carrier_session_parse(&cf, &cs), 0);
	ck_assert_int_eq(cs.op, CARRIER_SES_REFUSE);
	ck_assert_int_eq(cs.reason, CARRIER_REFUSED_PROOF);
	ck_assert_ptr_null(mux_adopted_by(tmp));
	ck_assert_int_eq(mux_run(W.sm, tio_now_ms()), MUX_DETACHED);
	/* One RESUME a carrier: a second guess ends it (GOAWAY protocol),
	 * never reaching the owner's check (a server logs each refusal). */
	refusals = W.refusals;
	resume_answer(tmp, r, proof, &cf);
	ck_assert_int_eq(cf.type, CARRIER_GOAWAY);
	ck_assert_int_eq(cf.payload[0], CARRIER_GA_PROTOCOL);
	ck_assert_int_eq(W.refusals, refusals);
	ck_assert_int_eq(mux_run(W.sm, tio_now_ms()), MUX_DETACHED);
	mux_free(tmp);
	/* The owner comes back: resumed, its stream alive. */
	tmp = come_back(&cfd, &sfd);
	keep_fd(cfd);
	keep_fd(sfd);
	run_tmp(tmp, SPIN_MS);
	ck_assert_ptr_eq(mux_adopted_by(tmp), W.sm);
	mux_free(tmp);
	lend_queue(app, "after", 5);
	w.e = node;
	w.len = 6 + 5;
	ck_assert(spin(until_len, &w, SPIN_MS));
	ck_assert_int_eq(memcmp(node->in + 6, "after", 5), 0);
}
END_TEST

/* Whether W.cm's mux_timeout() would have its owner come back at once. */
static int
client_at_once(void)
{
	return mux_timeout(W.cm, tio_now_ms()) == 0;
}

/*
 * Bytes a local connection sent while no carrier held the session cannot
 * go before the server's hello on the next carrier, nor while RESUME waits
 * for ACCEPT: mux_timeout() must not ask for another run at once then, or
 * its owner's loop spins through the whole handshake (an agent resuming
 * through a --via command that takes seconds to answer would burn a CPU
 * for those seconds).  The bytes go once the session is resumed.
 */
START_TEST(resume_no_spin)
{
	uint8_t sh[FRAME_HDR_LEN + CARRIER_HELLO_MAX], buf[512];
	uint8_t nonce[CARRIER_NONCE_LEN];
	char body[CARRIER_HELLO_MAX + 1], hex[CARRIER_NONCE_HEX + 1];
	struct carrier_frame cf;
	struct lend *app, *node;
	struct mux *tmp;
	struct want w;
	size_t got = 0, off;
	uint32_t id;
	ssize_t n;
	int cfd, sfd, a[2], k, i, resumed = 0;

	start_resume(&cfd, &sfd);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	app = app_open(FRAME_TAG_DIST, 7, 1, &id);
	node = node_of(id);
	(void)drop(cfd, sfd);
	ck_assert(spin(until_detached, NULL, SPIN_MS));
	/* The app writes while the session has no carrier. */
	lend_queue(app, "late", 4);
	for (i = 0; i < 5; i++) {
		lend_step(app);
		ck_assert_int_eq(mux_run(W.cm, tio_now_ms()), MUX_DETACHED);
		(void)poll(NULL, 0, 2);
	}
	ck_assert(!client_at_once());
	/* A new carrier, whose server has not answered yet. */
	pair(0, a);
	keep_fd(a[0]);
	keep_fd(a[1]);
	ck_assert_int_eq(mux_attach(W.cm, a[0], a[0], tio_now_ms()), 0);
	ck_assert_int_eq(mux_run(W.cm, tio_now_ms()), MUX_STARTING);
	ck_assert_msg(!client_at_once(), "spins before the server's hello");
	/* Its hello, with a nonce: the client sends RESUME, and waits. */
	memset(nonce, 0x5a, sizeof(nonce));
	ck_assert_int_eq(carrier_hex_encode(nonce, sizeof(nonce), hex,
	    sizeof(hex)), CARRIER_NONCE_HEX);
	k = snprintf(body, sizeof(body), "version=test resume=%s", hex);
	k = frame_encode(sh, sizeof(sh), FRAME_TAG_CARRIER, 0, body,
	    (size_t)k);
	ck_assert_int_gt(k, 0);
	ck_assert_int_eq(send(a[1], sh, (size_t)k, MSG_NOSIGNAL), k);
	for (i = 0; i < 200 && !resumed; i++) {
		(void)mux_run(W.cm, tio_now_ms());
		n = recv(a[1], buf + got, sizeof(buf) - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		/* The client's hello, then its RESUME. */
		k = frame_decode(buf, got, FRAME_REQ_BODY_MAX,
		    &(struct frame){ 0 });
		off = k > 0 ? (size_t)k : 0;
		if (off > 0 && carrier_decode(buf + off, got - off, &cf) > 0) {
			ck_assert_int_eq(cf.type, CARRIER_SESSION);
			ck_assert_int_eq(cf.payload[0], CARRIER_SES_RESUME);
			resumed = 1;
		} else
			(void)poll(NULL, 0, 2);
	}
	ck_assert(resumed);
	ck_assert_int_eq(mux_run(W.cm, tio_now_ms()), MUX_OPEN);
	ck_assert_msg(!client_at_once(), "spins while RESUME waits");
	/* That carrier goes too; the next one's server resumes the session,
	 * and the bytes arrive. */
	(void)drop(a[0], a[1]);
	ck_assert(spin(until_detached, NULL, SPIN_MS));
	tmp = come_back(&cfd, &sfd);
	keep_fd(cfd);
	keep_fd(sfd);
	run_tmp(tmp, SPIN_MS);
	ck_assert_ptr_eq(mux_adopted_by(tmp), W.sm);
	mux_free(tmp);
	w.e = node;
	w.len = 6 + 4;	/* "pre:1;late" */
	ck_assert(spin(until_len, &w, SPIN_MS));
	ck_assert_int_eq(memcmp(node->in + 6, "late", 4), 0);
}
END_TEST

/*
 * The server no longer has the session: the client's streams end, it says
 * so in its counters, and a new session starts on the same carrier.
 */
START_TEST(resume_gone)
{
	struct lend *app, *one[2] = { NULL, NULL };
	struct mux_stats st;
	struct mux *tmp;
	uint32_t id;
	int cfd, sfd;

	start_resume(&cfd, &sfd);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	app = app_open(FRAME_TAG_DIST, 7, 1, &id);
	(void)node_of(id);
	(void)drop(cfd, sfd);
	ck_assert(spin(until_detached, NULL, SPIN_MS));
	/* Its window passed: the server's owner ends it. */
	mux_end(W.sm, MUX_END_LOCAL, -1, "the resume window passed");
	ck_assert_int_eq(mux_run(W.sm, tio_now_ms()), MUX_ENDED);
	mux_free(W.sm);
	W.sm = NULL;
	W.session = NULL;
	tmp = come_back(&cfd, &sfd);
	keep_fd(cfd);
	keep_fd(sfd);
	W.sm = tmp;
	one[0] = app;
	ck_assert(spin(until_eof, one, SPIN_MS));
	ck_assert(spin(until_open, NULL, SPIN_MS));
	mux_stats(W.cm, &st);
	ck_assert_uint_eq(st.sessions_gone, 1);
	ck_assert_uint_eq(st.streams_lost, 1);
	ck_assert_ptr_nonnull(mux_session_id(W.cm));
	ck_assert_ptr_eq(W.session, W.sm);	/* a new NEW */
	app = app_open(FRAME_TAG_DIST, 7, 1, &id);
	(void)node_of(id);
}
END_TEST

/*
 * A server that offers no resume: the client's session cannot be kept, and
 * a drop ends the carrier as before (no detach).  Its hello is no longer
 * than an older client reads.
 */
/* A server that offers resume says how long it keeps a lost carrier's
 * session (window=MS), and the client reads it. */
START_TEST(resume_window_said)
{
	int cfd, sfd;

	start_resume(&cfd, &sfd);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	ck_assert_ptr_nonnull(mux_session_id(W.cm));
	ck_assert_int_eq(mux_peer_resume_window(W.cm), 45000);
	(void)drop(cfd, sfd);
}
END_TEST

START_TEST(resume_not_offered)
{
	int cfd, sfd;

	W.no_resume = 1;
	start_resume(&cfd, &sfd);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	ck_assert_ptr_null(mux_session_id(W.cm));
	/* No offer, no window: the agent's own bound applies. */
	ck_assert_int_eq(mux_peer_resume_window(W.cm), 0);
	(void)drop(cfd, sfd);
	ck_assert(spin(until_ended, W.cm, SPIN_MS));
}
END_TEST


/* ---- resets and refusals ----------------------------------------------- */

static void
reset_close(struct lend *e)
{
	struct linger lg = { 1, 0 };

	(void)setsockopt(e->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(e->fd);
	e->fd = -1;
	e->eof = 1;	/* gone: nothing more to wait for */
}

/* The app resets its TCP socket: RESET; the node's TCP socket reads a reset. */
START_TEST(reset_from_app)
{
	struct lend *app, *node, *one[2] = { NULL, NULL };
	uint32_t id;

	W.tcp_nodes = 1;
	start(0, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	app = app_with_x(&id, &node);
	reset_close(app);
	one[0] = node;
	ck_assert(spin(until_eof, one, SPIN_MS));
	ck_assert_int_eq(node->err, ECONNRESET);
	ck_assert_int_eq(W.resets, 1);
	ck_assert_uint_eq(W.reset_id, id);
	ck_assert(spin(until_no_streams, NULL, SPIN_MS));
	ck_assert_int_eq(mux_run(W.cm, tio_now_ms()), MUX_OPEN);
	ck_assert_int_eq(mux_run(W.sm, tio_now_ms()), MUX_OPEN);
}
END_TEST

/* The node resets its TCP socket: RESET; the app's TCP socket reads a reset. */
START_TEST(reset_from_node)
{
	struct lend *app, *node, *one[2] = { NULL, NULL };
	struct want w;
	uint32_t id;

	W.tcp_nodes = 1;
	start(0, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	app = app_open(FRAME_TAG_DIST, 7, 1, &id);
	node = node_of(id);
	lend_queue(node, "y", 1);
	w.e = app;
	w.len = 1;
	ck_assert(spin(until_len, &w, SPIN_MS));
	reset_close(node);
	one[0] = app;
	ck_assert(spin(until_eof, one, SPIN_MS));
	ck_assert_int_eq(app->err, ECONNRESET);
	ck_assert(spin(until_no_streams, NULL, SPIN_MS));
	ck_assert_int_eq(mux_run(W.cm, tio_now_ms()), MUX_OPEN);
}
END_TEST

/*
 * erlfwd-server's local sockets are socketpairs, which cannot carry a reset:
 * it calls mux_reset().  The app reads a reset; the node's end is closed; a
 * stream opened afterwards works.
 */
START_TEST(reset_mux_reset)
{
	struct lend *app, *node, *app2, *node2, *one[3] = { NULL, NULL, NULL };
	struct want w;
	uint32_t id, id2;

	start(0, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	app = app_open(FRAME_TAG_DIST, 7, 1, &id);
	node = node_of(id);
	mux_reset(W.sm, id);
	mux_reset(W.sm, 99);	/* no such stream: nothing */
	one[0] = app;
	one[1] = node;
	ck_assert(spin(until_eof, one, SPIN_MS));
	ck_assert_int_eq(app->err, ECONNRESET);
	ck_assert_int_eq(node->err, 0);
	ck_assert(spin(until_no_streams, NULL, SPIN_MS));
	app2 = app_open(FRAME_TAG_DIST, 8, 1, &id2);
	ck_assert_uint_eq(id2, 3);
	node2 = node_of(id2);
	lend_queue(app2, "ok", 2);
	w.e = node2;
	w.len = 8;
	ck_assert(spin(until_len, &w, SPIN_MS));
	ck_assert_int_eq(memcmp(node2->in, "pre:3;ok", 8), 0);
}
END_TEST

/*
 * mux_reset() comes from the server's own loop, outside mux_run(): the RESET
 * leaves at once, with no frame in to carry it out.  (The server's mux is
 * not run again here; before, the RESET waited in its buffer for the next
 * frame in, which a stalled stream only brought with the next PING.)
 */
START_TEST(reset_mux_reset_at_once)
{
	struct lend *app, *one[2] = { NULL, NULL };
	uint32_t id;

	start(0, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	app = app_open(FRAME_TAG_DIST, 7, 1, &id);
	(void)node_of(id);
	(void)spin(never, NULL, 20);
	mux_reset(W.sm, id);
	W.sfrozen = 1;
	one[0] = app;
	ck_assert(spin(until_eof, one, 2000));
	ck_assert_int_eq(app->err, ECONNRESET);
}
END_TEST

/*
 * A RESET and the local socket's own event in one batch of the client's
 * epoll: the carrier's RESET frees the stream before its event is served.
 */
START_TEST(reset_and_local_data_at_once)
{
	struct lend *app, *one[2] = { NULL, NULL };
	uint32_t id;

	start(0, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	app = app_open(FRAME_TAG_DIST, 7, 1, &id);
	(void)node_of(id);
	(void)spin(never, NULL, 20);
	/* The RESET reaches the client's carrier first, then the app writes:
	 * epoll hands the client both at once, in that order. */
	mux_reset(W.sm, id);
	ck_assert_int_eq(mux_run(W.sm, tio_now_ms()), MUX_OPEN);
	ck_assert_int_eq(send(app->fd, "x", 1, MSG_NOSIGNAL), 1);
	ck_assert_int_eq(mux_run(W.cm, tio_now_ms()), MUX_OPEN);
	one[0] = app;
	ck_assert(spin(until_eof, one, SPIN_MS));
	ck_assert_int_eq(app->err, ECONNRESET);
	ck_assert(spin(until_no_streams, NULL, SPIN_MS));
}
END_TEST

/* The server refuses (open returns -1): RESET refused; the app's socket ends. */
START_TEST(refused)
{
	struct lend *app, *one[2] = { NULL, NULL };
	int want = 1;

	W.refuse = 1;
	start(0, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	app = app_open(FRAME_TAG_DIST, 7, 1, NULL);
	lend_queue(app, "hello?", 6);
	ck_assert(spin(until_opens, &want, SPIN_MS));
	one[0] = app;
	ck_assert(spin(until_eof, one, SPIN_MS));
	ck_assert_uint_eq(app->inlen, 0);
	ck_assert_int_eq(app->err, ECONNRESET);
	ck_assert(spin(until_no_streams, NULL, SPIN_MS));
	ck_assert_int_eq(mux_run(W.cm, tio_now_ms()), MUX_OPEN);
	ck_assert_int_eq(mux_run(W.sm, tio_now_ms()), MUX_OPEN);
}
END_TEST

/* ---- liveness ------------------------------------------------------------ */

/*
 * PING every 2 s when idle, every 40 ms once a stream is open: before the
 * stream, 300 ms pass with at most one PING; with it, at least four.  Then
 * the server goes silent and the client gives up on the busy PINGs (the
 * e2e scenarios time it: t_heroku_fir).
 */
START_TEST(ping_busy)
{
	struct lend *app;
	int want = 1;

	W.busy_ping_ms = 40;
	start(2, 2000, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	(void)spin(never, NULL, 300);
	ck_assert_int_le(W.tap->types[0][CARRIER_PING], 1);
	app = app_open(FRAME_TAG_DIST, 7, 1, NULL);
	lend_queue(app, "hello?", 6);
	ck_assert(spin(until_opens, &want, SPIN_MS));
	(void)spin(never, NULL, 300);
	ck_assert_int_ge(W.tap->types[0][CARRIER_PING], 4);
	ck_assert_int_eq(mux_run(W.cm, tio_now_ms()), MUX_OPEN);
	W.sfrozen = 1;
	ck_assert(spin(until_ended, W.cm, SPIN_MS));
	ck_assert_msg(strstr(mux_why(W.cm), "no answer to 3 pings") != NULL,
	    "why: %s", mux_why(W.cm));
	ck_assert_int_eq(mux_end_cause(W.cm), MUX_END_IDLE);
}
END_TEST

/*
 * PINGs every 30 ms are answered: after ten intervals the client is still
 * open and the tap saw both PINGs and PONGs.  Then the server stops
 * answering: the client gives up after dead_pings.
 */
START_TEST(ping_dead)
{
	long t0;

	start(2, 30, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	(void)spin(never, NULL, 300);
	ck_assert_int_eq(mux_run(W.cm, tio_now_ms()), MUX_OPEN);
	ck_assert_int_ge(W.tap->types[0][CARRIER_PING], 3);
	ck_assert_int_ge(W.tap->types[1][CARRIER_PONG], 3);
	W.sfrozen = 1;
	t0 = tio_now_ms();
	ck_assert(spin(until_ended, W.cm, SPIN_MS));
	ck_assert_msg(strstr(mux_why(W.cm), "no answer to 3 pings") != NULL,
	    "why: %s", mux_why(W.cm));
	ck_assert_int_eq(mux_end_cause(W.cm), MUX_END_IDLE);
	/* Three unanswered PINGs, one of which may have been in flight
	 * when the server stopped: at least two intervals. */
	ck_assert_int_ge(tio_now_ms() - t0, 2 * 30);
}
END_TEST

/* Parse a carrier byte stream the mux wrote (its hello first when hello). */
struct rx {
	int		 goaway;	/* code, or -1 */
	char		 reason[CARRIER_REASON_MAX + 1];
	int		 resets;
	uint8_t		 reset_code;
	uint32_t	 reset_id;
	int		 pongs;
	uint32_t	 pong;
	int		 data;
	int		 bad;
};

static void
rx_parse(const uint8_t *p, size_t len, int with_hello, struct rx *rx)
{
	struct carrier_frame f;
	struct frame hf;
	size_t used = 0;
	int n;

	memset(rx, 0, sizeof(*rx));
	rx->goaway = -1;
	if (with_hello) {
		n = frame_decode(p, len, FRAME_REQ_BODY_MAX, &hf);
		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(hf.tag, FRAME_TAG_CARRIER);
		used = (size_t)n;
	}
	while ((n = carrier_decode(p + used, len - used, &f)) > 0) {
		switch (f.type) {
		case CARRIER_GOAWAY:
			rx->goaway = f.payload[0];
			memcpy(rx->reason, f.payload + 1, f.len - 1);
			rx->reason[f.len - 1] = '\0';
			break;
		case CARRIER_RESET:
			rx->resets++;
			rx->reset_id = f.stream;
			rx->reset_code = f.payload[0];
			break;
		case CARRIER_PONG:
			rx->pongs++;
			rx->pong = carrier_u32(&f);
			break;
		case CARRIER_DATA:
			rx->data++;
			break;
		default:
			break;
		}
		used += (size_t)n;
	}
	rx->bad = n < 0 || used != len;
}

START_TEST(ping_answered_raw)
{
	uint8_t fr[32];
	struct lend *r = end_add(raw_client_mux(0));
	struct want w;
	struct rx rx;
	int n;

	/* Hello, then a PING from the "server": the client answers too. */
	lend_queue(r, hello, hello_len);
	n = carrier_encode(fr, sizeof(fr), CARRIER_PING, 0, "\1\2\3\4", 4);
	lend_queue(r, fr, (size_t)n);
	w.e = r;
	w.len = hello_len + CARRIER_HDR_LEN + 4;
	ck_assert(spin(until_len, &w, SPIN_MS));
	rx_parse(r->in, r->inlen, 1, &rx);
	ck_assert_int_eq(rx.pongs, 1);
	ck_assert_uint_eq(rx.pong, 0x01020304);
	ck_assert_int_eq(mux_run(W.cm, tio_now_ms()), MUX_OPEN);
}
END_TEST

/*
 * A peer that sends PINGs and never reads the PONGs (the HTTP/2 ping flood,
 * CVE-2019-9512): GOAWAY "limit" once a few KiB of PONGs wait, rather than
 * holding a megabyte per carrier for as long as it keeps it open.  The
 * GOAWAY comes after the PONGs the socket took.
 */
START_TEST(ping_flood_unread)
{
	enum { PINGS = 262144 };	/* 4 MB of PONGs unread */
	const size_t flen = CARRIER_HDR_LEN + 4;
	struct mux_opts so;
	struct lend *r, *one[2] = { NULL, NULL };
	struct rx rx;
	uint8_t *all;
	int sv[2], i;

	pair(0, sv);
	keep_fd(sv[0]);
	opts(&so, MUX_SERVER, sv[0], sv[0]);
	W.sm = mux_new(&so, &node_ops, &W, tio_now_ms());
	ck_assert_ptr_nonnull(W.sm);
	r = end_add(sv[1]);
	r->stalled = 1;
	all = malloc(PINGS * flen);
	ck_assert_ptr_nonnull(all);
	for (i = 0; i < PINGS; i++)
		ck_assert_int_eq(carrier_encode(all + (size_t)i * flen, flen,
		    CARRIER_PING, 0, "\0\0\0\1", 4), (int)flen);
	lend_queue(r, all, PINGS * flen);
	free(all);
	(void)spin(never, NULL, 500);
	ck_assert_int_ne(mux_end_cause(W.sm), MUX_END_NONE);
	ck_assert_int_eq(mux_end_cause(W.sm), MUX_END_LIMIT);
	ck_assert_msg(strstr(mux_why(W.sm), "PINGs whose PONGs it does not "
	    "read") != NULL, "why: %s", mux_why(W.sm));
	r->stalled = 0;
	one[0] = r;
	r->shut = 1;
	(void)spin(until_eof, one, SPIN_MS);
	rx_parse(r->in, r->inlen, 1, &rx);
	ck_assert_int_eq(rx.bad, 0);
	ck_assert_int_eq(rx.goaway, CARRIER_GA_LIMIT);
	/* What the kernel's buffer took, and no more: not the 262144. */
	ck_assert_int_lt(rx.pongs, PINGS / 8);
}
END_TEST

/*
 * A raw client end: a server mux over a TCP pair (resets would show),
 * started as erlfwd-server starts a TCP carrier.  Returns the raw end.
 */
static struct lend *
raw_server(int idle_ms)
{
	struct mux_opts so;
	int sv[2];

	pair(1, sv);
	keep_fd(sv[0]);
	opts(&so, MUX_SERVER, sv[0], sv[0]);
	so.idle_ms = idle_ms;
	W.sm = mux_new(&so, &node_ops, &W, tio_now_ms());
	ck_assert_ptr_nonnull(W.sm);
	return end_add(sv[1]);
}

static void
raw_frame(struct lend *r, enum carrier_type type, uint32_t id,
    const void *p, size_t len)
{
	uint8_t fr[CARRIER_FRAME_MAX];
	int n = carrier_encode(fr, sizeof(fr), type, id, p, len);

	ck_assert_int_gt(n, 0);
	lend_queue(r, fr, (size_t)n);
}

static const uint8_t OPEN_DIST[3] = { FRAME_TAG_DIST, 0x12, 0x34 };

/*
 * The mux ends: GOAWAY (code, reason containing want) is the last thing the
 * raw end reads, then EOF, never a reset; when the raw end then closes, the
 * mux reports MUX_ENDED; every node the mux had sees EOF.
 */
static void
expect_goaway(struct lend *r, int code, const char *want)
{
	struct lend *one[2] = { r, NULL };
	struct rx rx;
	int i;

	ck_assert_msg(spin(until_eof, one, SPIN_MS), "no EOF: sent %zu of "
	    "%zu, got %zu; the mux says \"%s\"", r->outoff, r->outlen,
	    r->inlen, mux_why(W.sm));
	ck_assert_msg(r->err == 0, "the carrier was reset (%s), not closed",
	    strerror(r->err));
	rx_parse(r->in, r->inlen, 1, &rx);
	ck_assert_int_eq(rx.bad, 0);
	ck_assert_int_eq(rx.goaway, code);
	ck_assert_msg(strstr(rx.reason, want) != NULL, "GOAWAY \"%s\", want "
	    "\"%s\"", rx.reason, want);
	r->shut = 1;
	ck_assert(spin(until_ended, W.sm, SPIN_MS));
	ck_assert_msg(strstr(mux_why(W.sm), want) != NULL, "why: %s",
	    mux_why(W.sm));
	/* The cause, typed, follows the code sent. */
	ck_assert_int_eq(mux_end_cause(W.sm), code == CARRIER_GA_LIMIT ?
	    MUX_END_LIMIT : code == CARRIER_GA_IDLE ? MUX_END_IDLE :
	    MUX_END_PROTOCOL);
	for (i = 0; i < W.nnodes; i++) {
		one[0] = W.node[i];
		W.node[i]->stalled = 0;
		ck_assert(spin(until_eof, one, SPIN_MS));
		ck_assert_int_eq(W.node[i]->err, 0);
	}
	ck_assert_uint_eq(open_now(W.sm), 0);
}

START_TEST(idle_goaway)
{
	long t0 = tio_now_ms();
	struct lend *r = raw_server(100);

	expect_goaway(r, CARRIER_GA_IDLE, "silent for");
	ck_assert_int_ge(tio_now_ms() - t0, 100);
}
END_TEST

/*
 * A byte of an unfinished frame now and then is not traffic: the carrier
 * ends at its idle limit all the same (hardening III finding 10).
 */
START_TEST(idle_dribble)
{
	struct lend *r = raw_server(150);
	uint8_t fr[CARRIER_FRAME_MAX];
	long t0 = tio_now_ms();
	int n, i;

	n = carrier_encode(fr, sizeof(fr), CARRIER_PING, 0, "\0\0\0\1", 4);
	ck_assert_int_gt(n, 8);
	for (i = 0; i < 8 && mux_end_cause(W.sm) == MUX_END_NONE; i++) {
		lend_queue(r, fr + i, 1);
		(void)spin(never, NULL, 40);
	}
	ck_assert_int_eq(mux_end_cause(W.sm), MUX_END_IDLE);
	ck_assert_int_lt(tio_now_ms() - t0, 8 * 40);
}
END_TEST

/* Traffic keeps an idle limit away; silence after it does not. */
START_TEST(idle_after_traffic)
{
	struct lend *r = raw_server(150);
	struct want w;
	uint32_t i;
	uint8_t ping[4];

	for (i = 0; i < 6; i++) {
		ping[0] = ping[1] = ping[2] = 0;
		ping[3] = (uint8_t)i;
		raw_frame(r, CARRIER_PING, 0, ping, 4);
		w.e = r;
		w.len = hello_len + (i + 1) * (CARRIER_HDR_LEN + 4);
		ck_assert(spin(until_len, &w, SPIN_MS));
		(void)spin(never, NULL, 50);
	}
	ck_assert_int_eq(mux_run(W.sm, tio_now_ms()), MUX_OPEN);
	expect_goaway(r, CARRIER_GA_IDLE, "silent for");
}
END_TEST

/*
 * mux_timeout() says when mux_run() has a timer to serve: a timer that is
 * past due is due now (0), never "no timer" (-1), or an owner that sleeps
 * until the next event (erlfwd-server, the agent) never serves it.
 */
START_TEST(timeout_overdue)
{
	long t0 = tio_now_ms();
	struct mux_opts o;
	int sv[2], cv[2];

	pair(0, sv);
	keep_fd(sv[0]);
	keep_fd(sv[1]);
	opts(&o, MUX_SERVER, sv[0], sv[0]);
	o.idle_ms = 100;
	W.sm = mux_new(&o, &node_ops, &W, t0);
	ck_assert_ptr_nonnull(W.sm);
	ck_assert_int_eq(mux_timeout(W.sm, t0 + 40), 60);
	ck_assert_int_eq(mux_timeout(W.sm, t0 + 100), 0);
	ck_assert_int_eq(mux_timeout(W.sm, t0 + 150), 0);

	pair(0, cv);
	keep_fd(cv[0]);
	keep_fd(cv[1]);
	opts(&o, MUX_CLIENT, cv[0], cv[0]);
	o.ping_ms = 30;
	W.cm = mux_new(&o, NULL, NULL, t0);
	ck_assert_ptr_nonnull(W.cm);
	ck_assert_int_eq(mux_timeout(W.cm, t0 + 10), 20);
	ck_assert_int_eq(mux_timeout(W.cm, t0 + 31), 0);

	/* A drain past its deadline. */
	mux_end(W.sm, MUX_END_LOCAL, CARRIER_GA_NORMAL, "bye");
	ck_assert_int_eq(mux_run(W.sm, t0 + 50), MUX_OPEN);
	ck_assert_int_eq(mux_timeout(W.sm, t0 + 60), 990);
	ck_assert_int_eq(mux_timeout(W.sm, t0 + 5000), 0);
	ck_assert_int_eq(mux_run(W.sm, t0 + 5000), MUX_ENDED);
}
END_TEST

/* ---- protocol errors from a raw peer ----------------------------------- */

START_TEST(bad_garbage)
{
	struct lend *r = raw_server(0);

	lend_queue(r, "\x09garbage, not a frame", 21);
	expect_goaway(r, CARRIER_GA_PROTOCOL, "bad frame");
}
END_TEST

START_TEST(bad_never_opened)
{
	struct lend *r = raw_server(0);

	raw_frame(r, CARRIER_DATA, 5, "hi", 2);
	expect_goaway(r, CARRIER_GA_PROTOCOL, "data for stream 5, which was "
	    "never opened");
}
END_TEST

START_TEST(bad_never_opened_after_one)
{
	struct lend *r = raw_server(0);

	raw_frame(r, CARRIER_OPEN, 1, OPEN_DIST, 3);
	raw_frame(r, CARRIER_WINDOW_UPDATE, 3, "\0\0\1\0", 4);
	expect_goaway(r, CARRIER_GA_PROTOCOL, "window for stream 3, which was "
	    "never opened");
}
END_TEST

/*
 * The node reads nothing and has little buffer, so the server grants no
 * WINDOW: the 256 KiB + 1st byte is past the window.
 */
START_TEST(bad_past_window)
{
	static uint8_t chunk[CARRIER_DATA_MAX];
	struct lend *r;
	int i;

	W.node_sndbuf = 4096;
	W.stall_nodes = 1;
	r = raw_server(0);
	raw_frame(r, CARRIER_OPEN, 1, OPEN_DIST, 3);
	for (i = 0; i < CARRIER_WINDOW / CARRIER_DATA_MAX; i++)
		raw_frame(r, CARRIER_DATA, 1, chunk, sizeof(chunk));
	raw_frame(r, CARRIER_DATA, 1, "!", 1);
	expect_goaway(r, CARRIER_GA_LIMIT, "stream 1 sent past its window "
	    "(1 > 0)");
}
END_TEST

/*
 * Every window honest, but 40 streams whose nodes take nothing: 10 MiB the
 * server would hold for one carrier.  Past 8 MiB it is a limit, not memory.
 */
START_TEST(bad_held_too_much)
{
	static uint8_t chunk[CARRIER_DATA_MAX];
	struct lend *r;
	uint32_t id;
	int i;

	W.node_sndbuf = 4096;
	W.stall_nodes = 1;
	r = raw_server(0);
	for (id = 1; id < 80; id += 2) {
		raw_frame(r, CARRIER_OPEN, id, OPEN_DIST, 3);
		for (i = 0; i < CARRIER_WINDOW / CARRIER_DATA_MAX; i++)
			raw_frame(r, CARRIER_DATA, id, chunk, sizeof(chunk));
	}
	expect_goaway(r, CARRIER_GA_LIMIT, "local ends have not taken");
}
END_TEST

START_TEST(bad_second_fin)
{
	struct lend *r = raw_server(0);

	raw_frame(r, CARRIER_OPEN, 1, OPEN_DIST, 3);
	raw_frame(r, CARRIER_FIN, 1, NULL, 0);
	raw_frame(r, CARRIER_FIN, 1, NULL, 0);
	expect_goaway(r, CARRIER_GA_PROTOCOL, "second FIN on stream 1");
}
END_TEST

START_TEST(bad_data_after_fin)
{
	struct lend *r = raw_server(0);

	raw_frame(r, CARRIER_OPEN, 1, OPEN_DIST, 3);
	raw_frame(r, CARRIER_FIN, 1, NULL, 0);
	raw_frame(r, CARRIER_DATA, 1, "late", 4);
	expect_goaway(r, CARRIER_GA_PROTOCOL, "DATA after FIN on stream 1");
}
END_TEST

START_TEST(bad_even_id)
{
	struct lend *r = raw_server(0);

	raw_frame(r, CARRIER_OPEN, 2, OPEN_DIST, 3);
	expect_goaway(r, CARRIER_GA_PROTOCOL, "OPEN for stream 2: ids must be "
	    "odd and rising");
}
END_TEST

START_TEST(bad_falling_id)
{
	struct lend *r = raw_server(0);

	raw_frame(r, CARRIER_OPEN, 5, OPEN_DIST, 3);
	raw_frame(r, CARRIER_OPEN, 3, OPEN_DIST, 3);
	expect_goaway(r, CARRIER_GA_PROTOCOL, "OPEN for stream 3: ids must be "
	    "odd and rising");
}
END_TEST

START_TEST(bad_same_id)
{
	struct lend *r = raw_server(0);

	raw_frame(r, CARRIER_OPEN, 1, OPEN_DIST, 3);
	raw_frame(r, CARRIER_OPEN, 1, OPEN_DIST, 3);
	expect_goaway(r, CARRIER_GA_PROTOCOL, "OPEN for stream 1: ids must be "
	    "odd and rising");
}
END_TEST

START_TEST(bad_window_overflow)
{
	struct lend *r = raw_server(0);

	raw_frame(r, CARRIER_OPEN, 1, OPEN_DIST, 3);
	raw_frame(r, CARRIER_WINDOW_UPDATE, 1, "\x40\0\0\0", 4);
	expect_goaway(r, CARRIER_GA_PROTOCOL, "window of stream 1 past");
}
END_TEST

/* Streams open on the server mux: until 1. */
static int
until_open_streams_1(void *arg)
{
	struct mux_stats st;

	(void)arg;
	mux_stats(W.sm, &st);
	return st.open == 1;
}

START_TEST(bad_too_many_streams)
{
	struct mux_stats st;
	struct mux_opts so;
	struct lend *r;
	struct want w;
	struct rx rx;
	int sv[2], want;

	pair(1, sv);
	keep_fd(sv[0]);
	opts(&so, MUX_SERVER, sv[0], sv[0]);
	so.max_streams = 2;
	W.sm = mux_new(&so, &node_ops, &W, tio_now_ms());
	ck_assert_ptr_nonnull(W.sm);
	r = end_add(sv[1]);
	raw_frame(r, CARRIER_OPEN, 1, OPEN_DIST, 3);
	raw_frame(r, CARRIER_OPEN, 3, OPEN_DIST, 3);
	raw_frame(r, CARRIER_OPEN, 5, OPEN_DIST, 3);
	/* The third is refused alone; the carrier and the two go on. */
	w.e = r;
	w.len = hello_len + CARRIER_HDR_LEN + 1;
	ck_assert(spin(until_len, &w, SPIN_MS));
	rx_parse(r->in, r->inlen, 1, &rx);
	ck_assert_int_eq(rx.bad, 0);
	ck_assert_int_eq(rx.goaway, -1);
	ck_assert_int_eq(rx.resets, 1);
	ck_assert_uint_eq(rx.reset_id, 5);
	ck_assert_int_eq(rx.reset_code, CARRIER_RST_REFUSED);
	ck_assert_int_eq(W.nnodes, 2);
	ck_assert_int_eq(mux_run(W.sm, tio_now_ms()), MUX_OPEN);
	mux_stats(W.sm, &st);
	ck_assert_uint_eq(st.refused_full, 1);
	ck_assert_uint_eq(st.open, 2);
	/* One closes: the next OPEN is taken again. */
	raw_frame(r, CARRIER_FIN, 1, NULL, 0);
	W.node[0]->shut = 1;
	ck_assert(spin(until_open_streams_1, NULL, SPIN_MS));
	raw_frame(r, CARRIER_OPEN, 7, OPEN_DIST, 3);
	want = 3;
	ck_assert(spin(until_nodes, &want, SPIN_MS));
}
END_TEST

/* The client side: a server that opens a stream breaks the protocol. */
START_TEST(bad_open_from_server)
{
	struct lend *r = end_add(raw_client_mux(0));
	struct lend *one[2] = { r, NULL };
	struct rx rx;

	lend_queue(r, hello, hello_len);
	raw_frame(r, CARRIER_OPEN, 1, OPEN_DIST, 3);
	ck_assert(spin(until_eof, one, SPIN_MS));
	ck_assert_int_eq(r->err, 0);
	rx_parse(r->in, r->inlen, 1, &rx);
	ck_assert_int_eq(rx.goaway, CARRIER_GA_PROTOCOL);
	ck_assert_str_eq(rx.reason, "OPEN from the server side");
	r->shut = 1;
	ck_assert(spin(until_ended, W.cm, SPIN_MS));
}
END_TEST

/*
 * The resume frames (SESSION, ACK) decode now, but this engine has no
 * session: from a newer peer, or a broken one, each ends the carrier with a
 * protocol GOAWAY and a clean close, as any frame it has no use for would,
 * and a stream open at the time ends with EOF at its node.  Never a crash,
 * never a frame taken for a stream's: this server offered no resume, so
 * no SESSION is in turn and there is no session to ACK.
 */
START_TEST(bad_resume_frames)
{
	static const uint8_t sid[CARRIER_SID_LEN], key[CARRIER_KEY_LEN];
	uint8_t fr[CARRIER_HDR_LEN + CARRIER_CTL_MAX];
	struct lend *r = raw_server(0);
	int n;

	if (_i >= 2) {
		raw_frame(r, CARRIER_OPEN, 1, OPEN_DIST, 3);
		(void)node_of(1);
	}
	n = _i % 2 == 0 ? carrier_ack(fr, sizeof(fr), 42) :
	    carrier_session_new(fr, sizeof(fr), sid, key);
	ck_assert_int_gt(n, 0);
	lend_queue(r, fr, (size_t)n);
	expect_goaway(r, CARRIER_GA_PROTOCOL, _i % 2 == 0 ?
	    "ACK at " :
	    "SESSION (op ");
}
END_TEST

/* The same on the client side: an ACCEPT or an ACK from the server. */
START_TEST(bad_resume_frames_client)
{
	uint8_t fr[CARRIER_HDR_LEN + CARRIER_CTL_MAX];
	struct lend *r = end_add(raw_client_mux(0));
	struct lend *one[2] = { r, NULL };
	struct rx rx;
	int n;

	lend_queue(r, hello, hello_len);
	n = _i == 0 ? carrier_ack(fr, sizeof(fr), 0) :
	    carrier_session_accept(fr, sizeof(fr), 0);
	ck_assert_int_gt(n, 0);
	lend_queue(r, fr, (size_t)n);
	ck_assert(spin(until_eof, one, SPIN_MS));
	ck_assert_int_eq(r->err, 0);
	rx_parse(r->in, r->inlen, 1, &rx);
	ck_assert_int_eq(rx.bad, 0);
	ck_assert_int_eq(rx.goaway, CARRIER_GA_PROTOCOL);
	ck_assert_ptr_nonnull(strstr(rx.reason, _i == 0 ? "ACK at " :
	    "SESSION (op "));
	r->shut = 1;
	ck_assert(spin(until_ended, W.cm, SPIN_MS));
	ck_assert_int_eq(mux_end_cause(W.cm), MUX_END_PROTOCOL);
}
END_TEST

/*
 * A GOAWAY ends the mux without one of its own; a stream open at that
 * moment sees its local end closed with EOF.
 */
START_TEST(goaway_received)
{
	struct lend *r = raw_server(0);
	struct lend *one[2] = { r, NULL };
	struct rx rx;

	raw_frame(r, CARRIER_OPEN, 1, OPEN_DIST, 3);
	(void)node_of(1);
	raw_frame(r, CARRIER_GOAWAY, 0, "\0bye now", 8);
	r->shut = 1;
	ck_assert(spin(until_eof, one, SPIN_MS));
	ck_assert(spin(until_ended, W.sm, SPIN_MS));
	ck_assert_str_eq(mux_why(W.sm), "the other end said goodbye (bye now)");
	ck_assert_int_eq(mux_end_cause(W.sm), MUX_END_GOAWAY);
	ck_assert_int_eq(mux_goaway_code(W.sm), 0);
	rx_parse(r->in, r->inlen, 1, &rx);
	ck_assert_int_eq(rx.goaway, -1);
	one[0] = W.node[0];
	ck_assert(spin(until_eof, one, SPIN_MS));
}
END_TEST

/* mux_end() on a healthy pair: GOAWAY crosses, both end, nodes see EOF. */
START_TEST(mux_end_both)
{
	struct lend *app, *node, *one[3] = { NULL, NULL, NULL };
	uint32_t id;

	start(0, 0, 0);
	ck_assert(spin(until_open, NULL, SPIN_MS));
	app = app_open(FRAME_TAG_DIST, 7, 0, &id);
	node = node_of(id);
	mux_end(W.sm, MUX_END_LOCAL, CARRIER_GA_NORMAL, "shutting down");
	ck_assert(spin(until_both_ended, NULL, SPIN_MS));
	ck_assert_str_eq(mux_why(W.sm), "shutting down");
	ck_assert_str_eq(mux_why(W.cm), "the other end said goodbye "
	    "(shutting down)");
	ck_assert_int_eq(mux_end_cause(W.sm), MUX_END_LOCAL);
	ck_assert_int_eq(mux_end_cause(W.cm), MUX_END_GOAWAY);
	ck_assert_int_eq(mux_goaway_code(W.cm), CARRIER_GA_NORMAL);
	one[0] = app;
	one[1] = node;
	ck_assert(spin(until_eof, one, SPIN_MS));
	ck_assert_uint_eq(mux_open(W.cm, -1, FRAME_TAG_INFO, 0, NULL, 0), 0);
}
END_TEST

/*
 * Frames still in flight for a stream the receiver reset are ignored: the
 * carrier lives on and answers a PING after them.
 */
START_TEST(late_after_reset)
{
	struct lend *r = raw_server(0);
	struct want w;
	struct rx rx;
	int want = 1;

	raw_frame(r, CARRIER_OPEN, 1, OPEN_DIST, 3);
	ck_assert(spin(until_opens, &want, SPIN_MS));
	mux_reset(W.sm, 1);
	raw_frame(r, CARRIER_DATA, 1, "late", 4);
	raw_frame(r, CARRIER_WINDOW_UPDATE, 1, "\0\0\1\0", 4);
	raw_frame(r, CARRIER_FIN, 1, NULL, 0);
	raw_frame(r, CARRIER_RESET, 1, "\1", 1);
	raw_frame(r, CARRIER_PING, 0, "pong", 4);
	w.e = r;
	w.len = hello_len + (CARRIER_HDR_LEN + 1) + (CARRIER_HDR_LEN + 4);
	ck_assert(spin(until_len, &w, SPIN_MS));
	rx_parse(r->in, r->inlen, 1, &rx);
	ck_assert_int_eq(rx.bad, 0);
	ck_assert_int_eq(rx.resets, 1);
	ck_assert_uint_eq(rx.reset_id, 1);
	ck_assert_uint_eq(rx.reset_code, CARRIER_RST_RESET);
	ck_assert_int_eq(rx.pongs, 1);
	ck_assert_int_eq(rx.goaway, -1);
	/* Its own reset, not the peer's: the owner is not told. */
	ck_assert_int_eq(W.resets, 0);
	ck_assert_int_eq(mux_run(W.sm, tio_now_ms()), MUX_OPEN);
}
END_TEST

/*
 * Frames read with the preamble (erlfwd-server's early bytes) are acted on
 * before anything is read from the carrier.
 */
START_TEST(early_frames)
{
	uint8_t early[128];
	struct mux_opts so;
	struct lend *r, *node;
	struct want w;
	struct rx rx;
	size_t len = 0;
	int sv[2], n;

	n = carrier_encode(early, sizeof(early), CARRIER_OPEN, 1, OPEN_DIST, 3);
	len += (size_t)n;
	n = carrier_encode(early + len, sizeof(early) - len, CARRIER_DATA, 1,
	    "abc", 3);
	len += (size_t)n;
	n = carrier_encode(early + len, sizeof(early) - len, CARRIER_PING, 0,
	    "\0\0\0\7", 4);
	len += (size_t)n;
	pair(1, sv);
	keep_fd(sv[0]);
	opts(&so, MUX_SERVER, sv[0], sv[0]);
	so.early = early;
	so.early_len = len;
	W.sm = mux_new(&so, &node_ops, &W, tio_now_ms());
	ck_assert_ptr_nonnull(W.sm);
	r = end_add(sv[1]);
	node = node_of(1);
	ck_assert_uint_eq(W.node_port[0], 0x1234);
	w.e = node;
	w.len = 9;
	ck_assert(spin(until_len, &w, SPIN_MS));
	ck_assert_int_eq(memcmp(node->in, "pre:1;abc", 9), 0);
	w.e = r;
	w.len = hello_len + CARRIER_HDR_LEN + 4;
	ck_assert(spin(until_len, &w, SPIN_MS));
	rx_parse(r->in, r->inlen, 1, &rx);
	ck_assert_int_eq(rx.pongs, 1);
	ck_assert_uint_eq(rx.pong, 7);
}
END_TEST

/* ---- rapid reset (hardening III finding 8) ------------------------------ */

/* OPEN then RESET, n times from id, queued at once on raw end r. */
static uint32_t
open_reset(struct lend *r, uint32_t id, int n)
{
	uint8_t *all, *p;
	size_t cap = (size_t)n * (2 * CARRIER_HDR_LEN + 4);
	int i, k;

	all = p = malloc(cap);
	ck_assert_ptr_nonnull(all);
	for (i = 0; i < n; i++, id += 2) {
		k = carrier_encode(p, cap - (size_t)(p - all), CARRIER_OPEN, id,
		    OPEN_DIST, 3);
		ck_assert_int_gt(k, 0);
		p += k;
		k = carrier_encode(p, cap - (size_t)(p - all), CARRIER_RESET,
		    id, "\1", 1);
		ck_assert_int_gt(k, 0);
		p += k;
	}
	lend_queue(r, all, (size_t)(p - all));
	free(all);
	return id;
}

/* The raw end the conditions below read. */
static struct lend *rx_end;

/* rx_end has read a PONG: whatever it was sent before the PING is answered. */
static int
until_pong(void *arg)
{
	struct rx rx;

	(void)arg;
	rx_parse(rx_end->in, rx_end->inlen, 1, &rx);
	return rx.pongs > 0 || rx_end->eof || rx_end->err;
}

/* rx_end has read at least *(int *)arg DATA frames. */
static int
until_data(void *arg)
{
	struct rx rx;

	rx_parse(rx_end->in, rx_end->inlen, 1, &rx);
	return rx.data >= *(int *)arg;
}

/* The server mux has no stream open. */
static int
until_no_streams_s(void *arg)
{
	(void)arg;
	return open_now(W.sm) == 0;
}

/*
 * The attack: OPEN and RESET at once, without end.  Past MUX_RESET_BURST
 * such streams the OPENs are refused without reaching the owner, and past
 * MUX_RESET_HARD refusals the carrier ends with GOAWAY (limit) naming rapid
 * reset; not one stream in a thousand of it reached the open callback.
 */
START_TEST(rapid_reset_goaway)
{
	struct lend *r;
	int n = MUX_RESET_BURST + MUX_RESET_HARD + 500;

	W.one_node = 1;
	r = raw_server(0);
	(void)open_reset(r, 1, n);
	expect_goaway(r, CARRIER_GA_LIMIT, "rapid reset");
	ck_assert_msg(W.opens <= MUX_RESET_BURST + 50, "%d of %d OPENs "
	    "reached the open callback", W.opens, n);
}
END_TEST

/*
 * A burst past MUX_RESET_BURST: the excess is refused (RESET refused), the
 * carrier lives on, and the counters say so.  Once the peer stops, OPENs
 * are taken again after a while.
 */
START_TEST(rapid_reset_refused)
{
	struct mux_stats st;
	struct lend *r;
	struct rx rx;
	uint32_t id;
	int n = MUX_RESET_BURST + 60, want;
	long wait;

	W.one_node = 1;
	r = raw_server(0);
	id = open_reset(r, 1, n);
	/* The peer's own RESETs of the refused streams are late frames,
	 * ignored: a PING after them is answered. */
	raw_frame(r, CARRIER_PING, 0, "last", 4);
	rx_end = r;
	ck_assert(spin(until_pong, NULL, SPIN_MS));
	rx_parse(r->in, r->inlen, 1, &rx);
	ck_assert_int_eq(rx.bad, 0);
	ck_assert_int_eq(rx.goaway, -1);
	ck_assert_int_eq(rx.pongs, 1);
	ck_assert_int_eq(rx.reset_code, CARRIER_RST_REFUSED);
	ck_assert_int_eq(mux_run(W.sm, tio_now_ms()), MUX_OPEN);
	mux_stats(W.sm, &st);
	ck_assert_int_ge(W.opens, MUX_RESET_BURST + 1);
	ck_assert_int_le(W.opens, MUX_RESET_BURST + 25);
	ck_assert_uint_eq(st.reset_early, (uint64_t)W.opens);
	ck_assert_uint_eq(st.refused_rate, (uint64_t)(n - W.opens));
	ck_assert_int_eq(rx.resets, n - W.opens);
	ck_assert_uint_eq(st.rate_limited, 1);
	ck_assert_int_eq(st.limited, 1);
	ck_assert_uint_eq(st.streams, (uint64_t)W.opens);
	ck_assert_uint_eq(st.open, 0);
	/* The bucket refills at MUX_RESET_RATE: the debt of the refused,
	 * then MUX_RESET_RESUME, and OPENs are taken again. */
	wait = (long)(st.refused_rate + MUX_RESET_RESUME + 5) * 1000 /
	    MUX_RESET_RATE;
	(void)spin(never, NULL, wait);
	mux_stats(W.sm, &st);
	ck_assert_int_eq(st.limited, 0);
	want = W.opens + 1;
	raw_frame(r, CARRIER_OPEN, id, OPEN_DIST, 3);
	ck_assert(spin(until_opens, &want, SPIN_MS));
	ck_assert_uint_eq(W.node_id[0], id);
	mux_stats(W.sm, &st);
	ck_assert_uint_eq(st.open, 1);
	ck_assert_uint_eq(st.refused_rate, (uint64_t)(n - W.opens + 1));
}
END_TEST

/*
 * Normal use: streams the client resets after their node answered are not
 * counted, however many: a thousand of them, one after the other, are all
 * taken.
 */
START_TEST(rapid_reset_answered)
{
	struct mux_stats st;
	struct lend *r, *node;
	uint32_t id = 1;
	int i, n = 1000, want;

	W.one_node = 1;
	r = raw_server(0);
	rx_end = r;
	for (i = 0; i < n; i++, id += 2) {
		raw_frame(r, CARRIER_OPEN, id, OPEN_DIST, 3);
		node = node_of(id);
		lend_queue(node, "x", 1);
		want = i + 1;
		ck_assert(spin(until_data, &want, SPIN_MS));
		raw_frame(r, CARRIER_RESET, id, "\1", 1);
	}
	want = n;
	ck_assert(spin(until_opens, &want, SPIN_MS));
	ck_assert(spin(until_no_streams_s, NULL, SPIN_MS));
	mux_stats(W.sm, &st);
	ck_assert_uint_eq(st.streams, (uint64_t)n);
	ck_assert_uint_eq(st.reset_early, 0);
	ck_assert_uint_eq(st.refused_rate, 0);
	ck_assert_uint_eq(st.rate_limited, 0);
	ck_assert_int_eq(mux_run(W.sm, tio_now_ms()), MUX_OPEN);
}
END_TEST

/*
 * OPENs the owner refuses count as well: a peer that goes on opening
 * whatever the answer is ended the same way.
 */
START_TEST(rapid_reset_owner_refuses)
{
	struct lend *r;
	uint8_t *all, *p;
	int i, n = MUX_RESET_BURST + MUX_RESET_HARD + 500, k;
	size_t cap = (size_t)n * (CARRIER_HDR_LEN + 3);

	W.refuse = 1;
	r = raw_server(0);
	all = p = malloc(cap);
	ck_assert_ptr_nonnull(all);
	for (i = 0; i < n; i++) {
		k = carrier_encode(p, cap - (size_t)(p - all), CARRIER_OPEN,
		    (uint32_t)(2 * i + 1), OPEN_DIST, 3);
		ck_assert_int_gt(k, 0);
		p += k;
	}
	lend_queue(r, all, (size_t)(p - all));
	free(all);
	expect_goaway(r, CARRIER_GA_LIMIT, "rapid reset");
	ck_assert_int_le(W.opens, MUX_RESET_BURST + 50);
}
END_TEST

/* ---- the suite ------------------------------------------------------------ */

static Suite *
mux_suite(void)
{
	Suite *s = suite_create("mux");
	TCase *tc;

	tc = tcase_create("hello");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, end_names);
	tcase_add_test(tc, hello_socketpair);
	tcase_add_test(tc, hello_pipes);
	tcase_add_test(tc, hello_banner);
	tcase_add_test(tc, hello_v1);
	tcase_add_test(tc, hello_streams);
	tcase_add_test(tc, hello_streams_unsaid);
	suite_add_tcase(s, tc);

	tc = tcase_create("streams");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, stream_socketpair);
	tcase_add_test(tc, stream_pipes);
	tcase_add_test(tc, stream_early);
	tcase_add_loop_test(tc, many_streams, 0, 2);
	tcase_add_loop_test(tc, mixed_fates, 0, 2);
	tcase_add_test(tc, window_slow_reader);
	tcase_add_test(tc, window_grows);
	tcase_add_test(tc, window_budget);
	tcase_add_test(tc, window_slow_link);
	tcase_add_test(tc, window_shrinks_mixed);
	tcase_add_test(tc, fairness);
	tcase_add_test(tc, half_close_app);
	tcase_add_test(tc, half_close_node);
	suite_add_tcase(s, tc);

	tc = tcase_create("resets");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reset_from_app);
	tcase_add_test(tc, reset_from_node);
	tcase_add_test(tc, reset_mux_reset);
	tcase_add_test(tc, reset_mux_reset_at_once);
	tcase_add_test(tc, reset_and_local_data_at_once);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, late_after_reset);
	tcase_add_test(tc, early_frames);
	tcase_add_test(tc, open_burst_slices);
	suite_add_tcase(s, tc);

	tc = tcase_create("rewire");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, rewire_order);
	tcase_add_test(tc, rewire_peer_reset);
	tcase_add_test(tc, rewire_upstream_reset);
	tcase_add_test(tc, rewire_owner_close);
	tcase_add_test(tc, rewire_carrier_end);
	tcase_add_test(tc, rewire_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("resume");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, resume_bulk);
	tcase_add_test(tc, resume_acks_bound);
	tcase_add_test(tc, resume_wrong_proof);
	tcase_add_test(tc, resume_no_spin);
	tcase_add_test(tc, resume_gone);
	tcase_add_test(tc, resume_not_offered);
	tcase_add_test(tc, resume_window_said);
	suite_add_tcase(s, tc);

	tc = tcase_create("liveness");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, ping_dead);
	tcase_add_test(tc, ping_busy);
	tcase_add_test(tc, ping_answered_raw);
	tcase_add_test(tc, ping_flood_unread);
	tcase_add_test(tc, idle_goaway);
	tcase_add_test(tc, idle_after_traffic);
	tcase_add_test(tc, idle_dribble);
	tcase_add_test(tc, timeout_overdue);
	tcase_add_test(tc, goaway_received);
	tcase_add_test(tc, mux_end_both);
	suite_add_tcase(s, tc);

	tc = tcase_create("protocol");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, bad_garbage);
	tcase_add_test(tc, bad_never_opened);
	tcase_add_test(tc, bad_never_opened_after_one);
	tcase_add_test(tc, bad_past_window);
	tcase_add_test(tc, bad_held_too_much);
	tcase_add_test(tc, bad_second_fin);
	tcase_add_test(tc, bad_data_after_fin);
	tcase_add_test(tc, bad_even_id);
	tcase_add_test(tc, bad_falling_id);
	tcase_add_test(tc, bad_same_id);
	tcase_add_test(tc, bad_window_overflow);
	tcase_add_test(tc, bad_too_many_streams);
	tcase_add_test(tc, bad_open_from_server);
	tcase_add_loop_test(tc, bad_resume_frames, 0, 4);
	tcase_add_loop_test(tc, bad_resume_frames_client, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("rapid_reset");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, rapid_reset_goaway);
	tcase_add_test(tc, rapid_reset_refused);
	tcase_add_test(tc, rapid_reset_answered);
	tcase_add_test(tc, rapid_reset_owner_refuses);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(mux_suite());
	int failed;

	/* The carrier is written with write(2): a closed peer must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
