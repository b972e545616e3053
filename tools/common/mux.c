/*
 * mux.c: one carrier's streams over one pair of descriptors (mux.h).
 *
 * Bytes from a stream's local socket are read straight into the carrier's
 * output buffer behind DATA headers, one frame per turn, from a queue of
 * streams with data ("ready"), or several in one readv() for a stream alone
 * in it; a stream leaves the queue when its socket has nothing more or its
 * send window is spent, and its socket is watched again.  Bytes from the
 * carrier for a stream are written to its socket as soon as the frames in
 * hand are parsed, a run of them in one sendmsg(); what the socket does not
 * take waits in the stream's buffer, which the window bounds.  WINDOW is
 * sent back once half a window has been delivered.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "carrier.h"
#include "ep.h"
#include "frame.h"
#include "mux.h"
#include "plat.h"
#include "sock.h"

/*
 * A stream that moves data alone on its carrier moves it in big calls;
 * when others move data too (within mix_ms, MIX_MS unless said), each
 * takes small turns.  Big calls and a grown window are what bulk needs: a
 * carrier between two busy processes on two CPUs ran at 0.6x of version 1
 * with 64 KiB a call and 256 KiB in flight, and at 0.8-0.9x with 256 KiB
 * calls and 2 MiB (BENCH_ONLY=carrier make bench).  Small turns are what a
 * shell behind bulk needs: what is queued ahead of its keystroke, here and
 * in the windows (mux.h: MUX_WIN_GROWN), is what it waits for.
 */
#define MIX_MS		1000
/*
 * A window grows only while half of it is delivered within GROW_MS: what
 * it then lets in flight drains within twice that at the rate it moves, so
 * a keystroke that comes behind it waits no longer, on any link (a slow
 * link needs no big window, and would only queue more).
 */
#define GROW_MS		10
#define IN_CAP		(16 * CARRIER_FRAME_MAX)
/* Refill the output below this: alone, or mixed. */
#define OUT_LOW_ALONE	(8 * CARRIER_FRAME_MAX)
#define OUT_LOW		(2 * CARRIER_FRAME_MAX)
/* A stream alone with data reads this many frames at once, or, while others
 * moved data too, PULL_MIXED; with others waiting, one each in turn. */
#define PULL_MAX	16
#define PULL_MIXED	4
/* A run of DATA frames for one stream goes to its socket in one call. */
#define GATHER_MAX	16
/*
 * OPENs acted on per run: the rest wait for the next, after the owner has
 * served its other events.  A burst of a thousand OPENs is then set up a
 * slice at a time, each slice's setup state freed before the next is made
 * (the server's memory per stream is what stays, not the burst's peak),
 * and the owner's other clients are served in between.
 */
#define OPENS_PER_RUN	32
/* Resume: an ACK once this many sequenced bytes came in since the last. */
#define ACK_EVERY	(256 * 1024)
/* A hello body we read: a server's may say more than a request's 64. */
#define HELLO_BODY_MAX	256
#define HELLO_MAX	(FRAME_HDR_LEN + HELLO_BODY_MAX)
#define OUT_MAX		(8 * 1024 * 1024)	/* a peer that never reads */
#define OUT_KEEP	(OUT_MAX / 4 * 3)	/* kept, queued and a turn, at most */
#define OUT_HIGH	(1024 * 1024)	/* stop reading the peer past this */
/* PONGs queued while the carrier's output never drained: a peer that
 * sends PINGs and does not read the answers (the HTTP/2 ping flood,
 * CVE-2019-9512) gets GOAWAY past this many, 4 KiB of them. */
#define PONGS_MAX	256
#define HELD_MAX	(8 * 1024 * 1024)	/* all streams' buffers together */
#define EVENTS_MAX	64
#define DRAIN_MS	1000	/* after GOAWAY: wait this long for EOF */
#define HELLO_QUOTE	80	/* bytes of a stranger's text we quote */

enum hkind { H_CARRIER_R, H_CARRIER_W, H_CARRIER_RW, H_STREAM };

struct handle {
	enum hkind	 kind;
	int		 fd;
	uint32_t	 events;
};

struct stream {
	struct handle		 h;		/* first: the ep set points here */
	TAILQ_ENTRY(stream)	 link;
	TAILQ_ENTRY(stream)	 rlink;
	int			 in_ready;
	uint32_t		 id;
	int			 rd_eof;	/* local EOF read, FIN sent */
	int			 peer_fin;	/* FIN received */
	uint32_t		 send_win;	/* we may send this much */
	uint32_t		 recv_left;	/* the peer may send this much */
	uint32_t		 consumed;	/* delivered since our WINDOW */
	uint32_t		 win;		/* the window we give (grows) */
	long			 win_at;	/* when we last gave some */
	int			 answered;	/* its local end sent the peer
						 * a byte */
	size_t			 pre;		/* bytes at buf's head the peer
						 * did not send through our
						 * window: the open callback's,
						 * or the owner's at a rewire */
	void			*udata;		/* rewired: the owner's */
	uint64_t		 to_local;	/* rewired: bytes written to */
	uint64_t		 from_local;	/* and read from its socket */
	uint8_t			*buf;		/* from the peer, not yet written */
	size_t			 off, len, cap;
};

TAILQ_HEAD(streamq, stream);

struct mux {
	struct mux_opts		 o;
	const struct mux_ops	*ops;
	void			*arg;
	int			 ep;
	struct handle		 hr, hw;
	enum mux_state		 state;
	int			 draining;	/* GOAWAY queued or EOF: ending */
	int			 peer_eof;	/* nothing more to read */
	int			 pending_in;	/* in holds bytes not yet parsed */
	long			 drain_until;
	struct streamq		 streams, ready;
	size_t			 nstreams;
	uint32_t		 next_id;	/* client: the next to open */
	uint32_t		 last_id;	/* server: the highest opened */
	uint8_t			 in[IN_CAP];
	size_t			 inlen;
	uint8_t			*out;
	size_t			 outoff, outlen, outcap;
	long			 now, last_rx, next_ping;
	int			 unanswered;
	int			 pongs_queued;	/* since the output drained */
	uint32_t		 ping_seq;
	size_t			 held;		/* in all streams' buffers */
	size_t			 grown;		/* all windows past CARRIER_WINDOW */
	uint32_t		 rx_last;	/* the last DATA's stream, when */
	long			 rx_last_at;	/* it came, and when one of */
	long			 rx_mixed_at;	/* another came close behind */
	uint32_t		 tx_last;	/* the same for what we send */
	long			 tx_last_at;
	long			 tx_mixed_at;
	long			 tokens;	/* the rapid reset bucket, in
						 * thousandths of a stream */
	long			 tokens_at;	/* when it was last refilled */
	struct mux_stats	 st;
	char			 why[256];
	enum mux_end_cause	 cause;
	char			 quote[4 * HELLO_QUOTE + 8];	/* what came
					 * instead of a hello, escaped */
	int			 goaway_code;	/* theirs, or -1 */
	uint8_t			 peer_hello[HELLO_BODY_MAX];	/* its
					 * CARRIER frame's body (carrier.h) */
	size_t			 peer_hello_len;
	struct ep_event	*evs;		/* mux_run()'s batch, while */
	int			 nevs;		/* it is being served */
	/* Resume (carrier.h: SESSION, ACK). */
	int			 resumable;	/* a session: frames sequenced */
	int			 await_session;	/* server: SESSION may come now */
	int			 resume_tried;	/* server: this carrier sent its
						 * RESUME (one a carrier) */
	int			 new_refused;	/* server: a NEW of this carrier's
						 * was refused (a second ends it) */
	int			 await_accept;	/* client: RESUME sent, no answer */
	int			 replaying;	/* detached, or resuming: our
						 * sequenced frames go to replay */
	struct mux		*adopted_by;	/* server: this carrier went to
						 * that session (a shell now) */
	uint8_t			 sid[CARRIER_SID_LEN];
	uint8_t			 key[CARRIER_KEY_LEN];
	uint8_t			 nonce[CARRIER_NONCE_LEN];	/* this
					 * carrier's server hello's */
	uint64_t		 rx_seq;	/* sequenced bytes received */
	uint64_t		 rx_acked;	/* the last ACK we sent said */
	uint64_t		 tx_acked;	/* the peer has this many */
	size_t			 ackoff;	/* out[ackoff, outoff): written,
						 * not acknowledged */
	uint8_t			*replay;	/* our sequenced frames from
						 * tx_acked on, while replaying */
	size_t			 replaylen, replaycap;
	long			 detached_at;
	uint8_t			 hello[HELLO_MAX];	/* ours, again for each */
	size_t			 hello_len;		/* carrier (clients) */
	struct {			/* DATA for one stream, parsed and */
		struct stream	*s;	/* not yet written: iov points */
		struct iovec	 iov[GATHER_MAX];	/* into in */
		int		 n;
	}			 g;
};

/* ---- descriptors ------------------------------------------------------ */

/*
 * The client's PING interval: busy_ping_ms while streams are open (a shell
 * is waiting on the carrier: a dead one must be noticed in seconds), else
 * ping_ms (an idle carrier only has to stay under routers' idle limits).
 */
static int
ping_interval(const struct mux *m)
{
	return m->nstreams > 0 && m->o.busy_ping_ms > 0 &&
	    m->o.busy_ping_ms < m->o.ping_ms ? m->o.busy_ping_ms : m->o.ping_ms;
}

static void
watch(struct mux *m, struct handle *h, uint32_t events)
{
	ep_watch(m->ep, h->fd, &h->events, events, h);
}

/* Close a socket so that its peer sees a reset (a plain close elsewhere). */
static void
close_reset(int fd)
{
	struct linger lg = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* ---- the output buffer -------------------------------------------------- */

/* Room for len more bytes at the end of out; 0 or -1 (ends the carrier). */
static int
out_room(struct mux *m, size_t len)
{
	/* A session keeps what the peer has not acknowledged. */
	size_t keep = m->resumable && m->ackoff < m->outoff ? m->ackoff :
	    m->outoff, cap;
	uint8_t *nb;

	if (keep > 0 && keep == m->outlen)
		m->outoff = m->outlen = m->ackoff = keep = 0;
	if (m->outlen + len <= m->outcap)
		return 0;
	if (keep > 0) {
		memmove(m->out, m->out + keep, m->outlen - keep);
		m->outlen -= keep;
		m->outoff -= keep;
		m->ackoff = m->ackoff > keep ? m->ackoff - keep : 0;
		if (m->outlen + len <= m->outcap)
			return 0;
	}
	cap = m->outcap == 0 ? 4 * CARRIER_FRAME_MAX : m->outcap;
	while (cap < m->outlen + len)
		cap *= 2;
	if (cap > OUT_MAX || (nb = realloc(m->out, cap)) == NULL)
		return -1;
	m->out = nb;
	m->outcap = cap;
	return 0;
}

static size_t
out_pending(const struct mux *m)
{
	return m->outlen - m->outoff;
}

/* Refill the output below this many bytes queued. */
static size_t
out_low(const struct mux *m)
{
	return m->now - m->tx_mixed_at < m->o.mix_ms ? OUT_LOW :
	    OUT_LOW_ALONE;
}

/*
 * Whether the ready streams may fill the output now: little waits to be
 * written, and what a session keeps besides (written, not acknowledged)
 * leaves room for a whole turn under OUT_KEEP.  Past it they wait for the
 * peer's ACKs: the output never meets OUT_MAX, which would reset the
 * stream that pulled (grown windows let megabytes be in flight, and a
 * loopback socket holds as much).
 */
static int
pull_room(const struct mux *m)
{
	size_t kept = m->resumable && m->ackoff < m->outoff ?
	    m->outoff - m->ackoff : 0;

	return out_pending(m) < out_low(m) && kept + out_pending(m) +
	    (size_t)PULL_MAX * CARRIER_FRAME_MAX <= OUT_KEEP;
}

static void end(struct mux *m, enum mux_end_cause cause, int code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void replay_add(struct mux *m, enum carrier_type type, uint32_t id,
    const void *p, size_t len);

/* Queue a control frame (never DATA: those are read in place). */
static void
send_ctl(struct mux *m, enum carrier_type type, uint32_t id, const void *p,
    size_t len)
{
	int n;

	if (m->state == MUX_ENDED)
		return;
	/* Detached or resuming, our sequenced frames wait their turn
	 * behind those to send again; the carrier's own have no carrier. */
	if (m->replaying && carrier_sequenced(type)) {
		replay_add(m, type, id, p, len);
		return;
	}
	if (m->state == MUX_DETACHED)
		return;
	if (out_room(m, CARRIER_HDR_LEN + len) != 0) {
		/* Only a peer that stopped reading gets here. */
		m->draining = 1;
		snprintf(m->why, sizeof(m->why), "the peer stopped reading "
		    "(%zu bytes queued)", out_pending(m));
		return;
	}
	n = carrier_encode(m->out + m->outlen, m->outcap - m->outlen, type, id,
	    p, len);
	if (n > 0)
		m->outlen += (size_t)n;
}

static void
send_u32(struct mux *m, enum carrier_type type, uint32_t id, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	send_ctl(m, type, id, b, sizeof(b));
}

/* Write what is queued; 0, or -1 when the carrier's write side failed. */
static int
flush(struct mux *m)
{
	ssize_t n;

	while (out_pending(m) > 0) {
		n = write(m->hw.fd, m->out + m->outoff, out_pending(m));
		if (n > 0) {
			m->outoff += (size_t)n;
			if (out_pending(m) == 0)
				m->pongs_queued = 0;	/* the peer reads */
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;
	}
	return 0;
}

/* ---- streams ---------------------------------------------------------- */

static struct stream *
find(struct mux *m, uint32_t id)
{
	struct stream *s;

	/* Streams are few and mostly recent: newest first. */
	TAILQ_FOREACH_REVERSE(s, &m->streams, streamq, link)
		if (s->id == id)
			return s;
	return NULL;
}

/* The interest that s's state calls for. */
static void
stream_watch(struct mux *m, struct stream *s)
{
	uint32_t ev = 0;

	if (!s->rd_eof && !s->in_ready && s->send_win > 0)
		ev |= EP_IN;
	if (s->len > s->off)
		ev |= EP_OUT;
	watch(m, &s->h, ev);
}

static void
make_ready(struct mux *m, struct stream *s)
{
	if (s->in_ready || s->rd_eof || s->send_win == 0)
		return;
	s->in_ready = 1;
	TAILQ_INSERT_TAIL(&m->ready, s, rlink);
}

/* ---- the rapid reset bucket (servers) ------------------------------------ */

/* Refill the bucket for the time since its last refill. */
static void
bucket_refill(struct mux *m)
{
	long full = (long)MUX_RESET_BURST * 1000;

	/* MUX_RESET_RATE a second is as many thousandths a millisecond. */
	if (m->now > m->tokens_at && m->tokens < full) {
		m->tokens += (m->now - m->tokens_at) * MUX_RESET_RATE;
		if (m->tokens > full)
			m->tokens = full;
	}
	m->tokens_at = m->now;
	if (m->st.limited && m->tokens >= (long)MUX_RESET_RESUME * 1000)
		m->st.limited = 0;
}

/*
 * A stream wasted: reset before it answered, or an OPEN refused.  The
 * client's own streams are its owner's business.
 */
static void
bucket_take(struct mux *m)
{
	if (m->o.role != MUX_SERVER)
		return;
	bucket_refill(m);
	m->tokens -= 1000;
	if (m->tokens < 0 && !m->st.limited) {
		m->st.limited = 1;
		m->st.rate_limited++;
	}
}

/*
 * An OPEN while the bucket is empty: refused, and drawn on the bucket too,
 * so that only a peer that stops gets the bucket back.  Returns 1 when it
 * was refused (the carrier may be ending), 0 to go on.
 */
static int
bucket_refuse(struct mux *m, uint32_t id)
{
	uint8_t code = CARRIER_RST_REFUSED;

	bucket_refill(m);
	if (!m->st.limited)
		return 0;
	m->st.refused_rate++;
	m->tokens -= 1000;
	if (m->tokens <= -(long)MUX_RESET_HARD * 1000) {
		end(m, MUX_END_LIMIT, CARRIER_GA_LIMIT, "rapid reset: %llu "
		    "streams reset or refused before an answer (at most %d/s)",
		    (unsigned long long)(m->st.reset_early +
		    m->st.refused_full + m->st.refused_open +
		    m->st.refused_rate), MUX_RESET_RATE);
		return 1;
	}
	send_ctl(m, CARRIER_RESET, id, &code, 1);
	return 1;
}

/*
 * Forget s: its socket closed with a reset when reset is set.  A rewired
 * stream's owner hears how (err: errno for MUX_SE_ERROR).
 */
static void
stream_free(struct mux *m, struct stream *s, int reset,
    enum mux_stream_how how, int err)
{
	struct mux_stream_end e;
	int i;

	/* A frame from the carrier can end s while its own event waits
	 * further on in the batch mux_run() is serving: that one is void. */
	for (i = 0; i < m->nevs; i++)
		if (m->evs[i].ptr == &s->h)
			m->evs[i].ptr = NULL;
	watch(m, &s->h, 0);
	if (s->in_ready)
		TAILQ_REMOVE(&m->ready, s, rlink);
	TAILQ_REMOVE(&m->streams, s, link);
	m->nstreams--;
	/* A reset before the local end answered: wasted, whichever end
	 * reset it (the carrier's own end tears streams down without). */
	if (reset && !s->answered && m->o.role == MUX_SERVER) {
		m->st.reset_early++;
		bucket_take(m);
	}
	if (reset)
		close_reset(s->h.fd);
	else
		close(s->h.fd);
	m->held -= s->len - s->off;
	m->grown -= s->win - CARRIER_WINDOW;
	if (s->udata != NULL && m->ops != NULL && m->ops->closed != NULL) {
		e.how = how;
		e.err = err;
		e.to_local = s->to_local;
		e.from_local = s->from_local;
		m->ops->closed(m->arg, s->udata, &e);
	}
	free(s->buf);
	free(s);
}

/* A rewired stream moved bytes (moved), or a direction of it ended. */
static void
stream_moved(struct mux *m, struct stream *s, int moved)
{
	if (s->udata != NULL && m->ops != NULL && m->ops->moved != NULL)
		m->ops->moved(m->arg, s->udata, s->rd_eof || s->peer_fin,
		    moved);
}

/*
 * End s on our side with RESET (code) to the peer: its socket was reset
 * (CARRIER_RST_RESET) or failed with err.
 */
static void
stream_abort(struct mux *m, struct stream *s, int code, int err)
{
	uint8_t c = (uint8_t)code;

	send_ctl(m, CARRIER_RESET, s->id, &c, 1);
	stream_free(m, s, 1, code == CARRIER_RST_RESET ? MUX_SE_LOCAL_RESET :
	    MUX_SE_ERROR, err);
}

/* The RESET code for a socket's errno. */
static int
reset_code(int err)
{
	return err == ECONNRESET || err == EPIPE ? CARRIER_RST_RESET :
	    CARRIER_RST_ERROR;
}

/*
 * Both directions done and everything delivered: the stream is over.
 * Returns 1 when s was freed.
 */
static int
maybe_done(struct mux *m, struct stream *s)
{
	if (s->rd_eof && s->peer_fin && s->len == s->off) {
		stream_free(m, s, 0, MUX_SE_CLOSED, 0);
		return 1;
	}
	stream_watch(m, s);
	return 0;
}

static struct stream *
stream_new(struct mux *m, uint32_t id, int fd)
{
	struct stream *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->h.kind = H_STREAM;
	s->h.fd = fd;
	s->id = id;
	s->send_win = CARRIER_WINDOW;
	s->recv_left = CARRIER_WINDOW;
	s->win = CARRIER_WINDOW;
	s->win_at = m->now;
	(void)sock_nonblock(fd);
	TAILQ_INSERT_TAIL(&m->streams, s, link);
	m->nstreams++;
	/* A stream is waiting now: the busy interval from here on. */
	if (m->o.role == MUX_CLIENT &&
	    m->next_ping > m->now + ping_interval(m))
		m->next_ping = m->now + ping_interval(m);
	m->st.streams++;
	return s;
}

/* Keep len bytes of p for s's socket; 0 or -1 (out of memory). */
static int
stream_keep(struct mux *m, struct stream *s, const uint8_t *p, size_t len)
{
	size_t cap;
	uint8_t *nb;

	if (s->off > 0 && s->off == s->len)
		s->off = s->len = 0;
	if (s->len + len > s->cap && s->off > 0) {
		memmove(s->buf, s->buf + s->off, s->len - s->off);
		s->len -= s->off;
		s->off = 0;
	}
	if (s->len + len > s->cap) {
		cap = s->cap == 0 ? 16384 : s->cap;
		while (cap < s->len + len)
			cap *= 2;
		if ((nb = realloc(s->buf, cap)) == NULL)
			return -1;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, len);
	s->len += len;
	m->held += len;
	return 0;
}

/*
 * Count n bytes delivered to s's socket; give the peer more window.  While
 * s moves data alone, fast (half its window within grow_ms), and its
 * socket took all it was offered (through), give more than was used: the
 * window grows.  While others move data too, give less, back down to
 * CARRIER_WINDOW.
 */
static void
delivered(struct mux *m, struct stream *s, size_t n, int through)
{
	size_t own = n < s->pre ? n : s->pre;
	uint32_t more = 0, less = 0;

	s->to_local += n;
	/* The open callback's bytes go first, and the peer never sent them:
	 * no window for those. */
	s->pre -= own;
	s->consumed += (uint32_t)(n - own);
	if (s->consumed < s->win / 2)
		return;
	if (m->now - m->rx_mixed_at < m->o.mix_ms) {
		less = s->win - CARRIER_WINDOW < s->consumed ?
		    s->win - CARRIER_WINDOW : s->consumed;
		s->win -= less;
		m->grown -= less;
	} else if (through && m->now - s->win_at <= m->o.grow_ms &&
	    s->win < MUX_WIN_GROWN && m->grown + s->win <= MUX_GROW_BUDGET) {
		more = s->win;
		s->win += more;
		m->grown += more;
	}
	if (s->consumed + more - less > 0)
		send_u32(m, CARRIER_WINDOW_UPDATE, s->id,
		    s->consumed + more - less);
	s->recv_left += s->consumed + more - less;
	s->consumed = 0;
	s->win_at = m->now;
}

/*
 * Write s's buffer to its socket.  Returns 0, or -1 when s was ended (its
 * socket failed).
 */
static int
stream_write(struct mux *m, struct stream *s)
{
	ssize_t n;
	int moved = 0;

	while (s->len > s->off) {
		n = send(s->h.fd, s->buf + s->off, s->len - s->off,
		    MSG_NOSIGNAL);
		if (n > 0) {
			s->off += (size_t)n;
			m->held -= (size_t)n;
			delivered(m, s, (size_t)n, s->len == s->off);
			moved = 1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		stream_abort(m, s, reset_code(errno), errno);
		return -1;
	}
	if (s->len == s->off) {
		free(s->buf);
		s->buf = NULL;
		s->off = s->len = s->cap = 0;
		if (s->peer_fin)
			(void)shutdown(s->h.fd, SHUT_WR);
	}
	if (moved)
		stream_moved(m, s, 1);
	return 0;
}

/*
 * Write the gathered run of DATA to its stream's socket in one call; what
 * the socket does not take goes to the stream's buffer.  Done before
 * anything else happens to the carrier's input, and before in moves.
 */
static void
gather_flush(struct mux *m)
{
	struct stream *s = m->g.s;
	struct msghdr mh;
	size_t left, all = 0;
	ssize_t n;
	int i;

	if (m->g.n == 0)
		return;
	for (i = 0; i < m->g.n; i++)
		all += m->g.iov[i].iov_len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = m->g.iov;
	mh.msg_iovlen = m->g.n;
	m->g.n = 0;
	m->g.s = NULL;
	do
		n = sendmsg(s->h.fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		stream_abort(m, s, reset_code(errno), errno);
		return;
	}
	left = n < 0 ? 0 : (size_t)n;
	delivered(m, s, left, left == all);
	for (i = 0; i < (int)mh.msg_iovlen; i++) {
		if (left >= mh.msg_iov[i].iov_len) {
			left -= mh.msg_iov[i].iov_len;
			continue;
		}
		if (stream_keep(m, s, (uint8_t *)mh.msg_iov[i].iov_base + left,
		    mh.msg_iov[i].iov_len - left) != 0) {
			stream_abort(m, s, CARRIER_RST_ERROR, ENOMEM);
			return;
		}
		left = 0;
	}
	/*
	 * Each window is honest, but a carrier may open many streams whose
	 * local ends take nothing yet (a server's conn still in setup): the
	 * carrier as a whole holds at most HELD_MAX.
	 */
	if (m->held > HELD_MAX + m->grown) {
		end(m, MUX_END_LIMIT, CARRIER_GA_LIMIT, "its streams hold %zu "
		    "bytes their local ends have not taken (at most %zu)",
		    m->held, HELD_MAX + m->grown);
		return;
	}
	stream_moved(m, s, 1);
	stream_watch(m, s);
}

/*
 * Bytes of s's from the peer (p points into in): gathered while s has
 * nothing buffered, to go to its socket with the frames that follow; else
 * behind what it has.
 */
static void
stream_data(struct mux *m, struct stream *s, const uint8_t *p, size_t len)
{
	m->st.bytes_in += len;
	if (m->g.n > 0 && (m->g.s != s || m->g.n == GATHER_MAX))
		gather_flush(m);
	if (s->len == s->off) {
		m->g.s = s;
		m->g.iov[m->g.n].iov_base = (void *)(uintptr_t)p;
		m->g.iov[m->g.n++].iov_len = len;
		return;
	}
	if (stream_keep(m, s, p, len) != 0) {
		stream_abort(m, s, CARRIER_RST_ERROR, ENOMEM);
		return;
	}
	stream_moved(m, s, 1);
	stream_watch(m, s);
}

/*
 * Read up to frames frames' worth of s's socket into the output buffer, in
 * one call: each payload lands behind room for its header.  Returns 1 when
 * s may have more at once, 0 otherwise (s may have been freed).
 */
static int
stream_pull(struct mux *m, struct stream *s, int frames)
{
	struct iovec iov[PULL_MAX];
	size_t want = 0, k, got;
	uint8_t *p;
	ssize_t n;
	int i;

	if (frames > PULL_MAX)
		frames = PULL_MAX;
	if (out_room(m, (size_t)frames * CARRIER_FRAME_MAX) != 0) {
		stream_abort(m, s, CARRIER_RST_ERROR, ENOMEM);
		return 0;
	}
	p = m->out + m->outlen;
	for (i = 0; i < frames && want < s->send_win; i++) {
		k = s->send_win - want < CARRIER_DATA_MAX ?
		    s->send_win - want : CARRIER_DATA_MAX;
		iov[i].iov_base = p + (size_t)i * CARRIER_FRAME_MAX +
		    CARRIER_HDR_LEN;
		iov[i].iov_len = k;
		want += k;
	}
	do
		n = readv(s->h.fd, iov, i);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		/* Whole frames but the last: the slots are back to back. */
		for (got = 0, i = 0; got < (size_t)n; i++) {
			k = (size_t)n - got < iov[i].iov_len ?
			    (size_t)n - got : iov[i].iov_len;
			carrier_put_hdr(p, CARRIER_DATA, s->id, (uint32_t)k);
			p += CARRIER_HDR_LEN + k;
			got += k;
		}
		m->outlen = (size_t)(p - m->out);
		s->send_win -= (uint32_t)n;
		s->answered = 1;
		s->from_local += (uint64_t)n;
		m->st.bytes_out += (uint64_t)n;
		stream_moved(m, s, 1);
		if ((size_t)n == want && s->send_win > 0)
			return 1;
		stream_watch(m, s);	/* drained, or out of window */
		return 0;
	}
	if (n == 0) {
		send_ctl(m, CARRIER_FIN, s->id, NULL, 0);
		s->rd_eof = 1;
		stream_moved(m, s, 0);
		(void)maybe_done(m, s);
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		stream_watch(m, s);
		return 0;
	}
	stream_abort(m, s, errno == ECONNRESET ? CARRIER_RST_RESET :
	    CARRIER_RST_ERROR, errno);
	return 0;
}

/* Fill the output buffer from the ready streams, one frame each in turn. */
static void
pump(struct mux *m)
{
	struct stream *s;
	int alone;

	while (m->state == MUX_OPEN && !m->draining && !m->await_accept &&
	    pull_room(m) && (s = TAILQ_FIRST(&m->ready)) != NULL) {
		TAILQ_REMOVE(&m->ready, s, rlink);
		s->in_ready = 0;
		if (s->id != m->tx_last && m->now - m->tx_last_at <
		    m->o.mix_ms)
			m->tx_mixed_at = m->now;
		m->tx_last = s->id;
		m->tx_last_at = m->now;
		/* Alone, a bulk stream takes several frames a call; with
		 * others ready, one each in turn (fairness). */
		alone = TAILQ_EMPTY(&m->ready);
		if (stream_pull(m, s, !alone ? 1 : m->now - m->tx_mixed_at <
		    m->o.mix_ms ? PULL_MIXED : PULL_MAX))
			make_ready(m, s);
	}
}

/* ---- resume (carrier.h: SESSION, ACK) ------------------------------------ */

static void close_all(struct mux *m);
static void carrier_watch(struct mux *m);

/* The length of the whole carrier frame at p (a well-formed one of ours). */
static size_t
frame_at(const uint8_t *p)
{
	return CARRIER_HDR_LEN + ((size_t)p[8] << 24 | (size_t)p[9] << 16 |
	    (size_t)p[10] << 8 | p[11]);
}

/* Room for len more bytes of replay; 0, or -1 (past OUT_MAX, or no memory). */
static int
replay_room(struct mux *m, size_t len)
{
	size_t cap = m->replaycap == 0 ? 4096 : m->replaycap;
	uint8_t *nb;

	if (m->replaylen + len <= m->replaycap)
		return 0;
	while (cap < m->replaylen + len)
		cap *= 2;
	if (cap > OUT_MAX || (nb = realloc(m->replay, cap)) == NULL)
		return -1;
	m->replay = nb;
	m->replaycap = cap;
	return 0;
}

/* A sequenced frame of ours while replaying: behind those to send again. */
static void
replay_add(struct mux *m, enum carrier_type type, uint32_t id, const void *p,
    size_t len)
{
	int n;

	if (replay_room(m, CARRIER_HDR_LEN + len) != 0) {
		end(m, MUX_END_LIMIT, CARRIER_GA_LIMIT, "more than %d bytes "
		    "to send again", OUT_MAX);
		return;
	}
	n = carrier_encode(m->replay + m->replaylen, m->replaycap -
	    m->replaylen, type, id, p, len);
	if (n > 0)
		m->replaylen += (size_t)n;
}

/* Whole frames (a SESSION, ACK, the hello) at the end of out. */
static void
out_raw(struct mux *m, const void *p, size_t len)
{
	if (out_room(m, len) != 0) {
		m->draining = 1;
		snprintf(m->why, sizeof(m->why), "the peer stopped reading "
		    "(%zu bytes queued)", out_pending(m));
		return;
	}
	memcpy(m->out + m->outlen, p, len);
	m->outlen += len;
}

/* ACK what came in, when enough did (or force: with a PING or PONG). */
static void
maybe_ack(struct mux *m, int force)
{
	uint8_t fr[CARRIER_HDR_LEN + CARRIER_ACK_LEN];
	int n;

	if (!m->resumable || m->state != MUX_OPEN || m->rx_seq == m->rx_acked ||
	    (!force && m->rx_seq - m->rx_acked < ACK_EVERY))
		return;
	if ((n = carrier_ack(fr, sizeof(fr), m->rx_seq)) > 0) {
		out_raw(m, fr, (size_t)n);
		m->rx_acked = m->rx_seq;
	}
}

/*
 * The peer has count of our sequenced bytes: forget them.  Returns 0, or -1
 * when count is behind an earlier one, past what was written, or not
 * between two frames.
 */
static int
acked(struct mux *m, uint64_t count)
{
	size_t flen;

	if (count < m->tx_acked)
		return -1;
	while (m->tx_acked < count) {
		if (m->ackoff + CARRIER_HDR_LEN > m->outoff)
			return -1;
		flen = frame_at(m->out + m->ackoff);
		if (m->ackoff + flen > m->outoff)
			return -1;
		if (carrier_sequenced(m->out[m->ackoff + 1])) {
			if (m->tx_acked + flen > count)
				return -1;
			m->tx_acked += flen;
		}
		m->ackoff += flen;
	}
	return 0;
}

/*
 * The peer resumes having count of our sequenced bytes: the offset in
 * replay of the first frame it has not, or -1 when count is not one it can
 * have (behind what it acknowledged, past what we sent, inside a frame).
 */
static long
replay_from(const struct mux *m, uint64_t count)
{
	uint64_t seq = m->tx_acked;
	size_t off = 0, flen;

	if (count < seq)
		return -1;
	while (seq < count) {
		if (off + CARRIER_HDR_LEN > m->replaylen)
			return -1;
		flen = frame_at(m->replay + off);
		if (off + flen > m->replaylen || seq + flen > count)
			return -1;
		seq += flen;
		off += flen;
	}
	return (long)off;
}

/* Resumed at the peer's count (checked): what it lacks goes out again. */
static void
replay_out(struct mux *m, uint64_t count)
{
	size_t off = (size_t)replay_from(m, count), left = m->replaylen - off;

	m->replaying = 0;
	m->tx_acked = count;
	if (left > 0 && out_room(m, left) != 0) {
		/* Never a session with a hole in it. */
		end(m, MUX_END_LIMIT, CARRIER_GA_LIMIT, "%zu bytes to send "
		    "again: more than %d", left, OUT_MAX);
		return;
	}
	if (left > 0)
		memcpy(m->out + m->outlen, m->replay + off, left);
	m->ackoff = m->outlen;
	m->outlen += left;
	free(m->replay);
	m->replay = NULL;
	m->replaylen = m->replaycap = 0;
	m->st.resumes++;
}

/*
 * The carrier is gone, not the session: keep our sequenced frames the peer
 * has not acknowledged, drop the rest of the carrier's bytes, and wait for
 * another (mux_attach(), mux_adopt()).  The streams stay.
 */
static void
detach(struct mux *m, enum mux_end_cause cause, const char *why)
{
	size_t off, flen;

	if (!m->replaying) {
		for (off = m->ackoff; off + CARRIER_HDR_LEN <= m->outlen;
		    off += flen) {
			flen = frame_at(m->out + off);
			if (!carrier_sequenced(m->out[off + 1]))
				continue;
			if (replay_room(m, flen) != 0) {
				end(m, MUX_END_LIMIT, -1, "more than %d bytes "
				    "to send again", OUT_MAX);
				return;
			}
			memcpy(m->replay + m->replaylen, m->out + off, flen);
			m->replaylen += flen;
		}
		m->replaying = 1;
	}
	m->outoff = m->outlen = m->ackoff = 0;
	m->inlen = 0;
	m->pending_in = 0;
	m->await_accept = 0;
	watch(m, &m->hr, 0);
	watch(m, &m->hw, 0);
	m->hr.fd = m->hw.fd = -1;
	m->cause = cause;
	snprintf(m->why, sizeof(m->why), "%s", why);
	m->state = MUX_DETACHED;
	m->detached_at = m->now;
	m->unanswered = 0;
}

/*
 * The carrier failed (cause, in words): detached when it carries a session,
 * else ended (with GOAWAY code unless code is -1).
 */
static void lost(struct mux *m, enum mux_end_cause cause, int code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
lost(struct mux *m, enum mux_end_cause cause, int code, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (m->resumable && !m->draining && (m->state == MUX_OPEN ||
	    m->state == MUX_STARTING))
		detach(m, cause, why);
	else
		end(m, cause, code, "%s", why);
}

/* A session starts on this carrier (client): NEW with a fresh id and key. */
static void
session_new(struct mux *m)
{
	uint8_t fr[CARRIER_HDR_LEN + CARRIER_SESSION_NEW_LEN];
	int n;

	if (plat_random(m->sid, sizeof(m->sid)) != 0 ||
	    plat_random(m->key, sizeof(m->key)) != 0 ||
	    (n = carrier_session_new(fr, sizeof(fr), m->sid, m->key)) < 0)
		return;		/* no resume, then: the carrier is as good */
	out_raw(m, fr, (size_t)n);
	m->resumable = 1;
	m->rx_seq = m->rx_acked = m->tx_acked = 0;
	m->ackoff = m->outlen;
}

/* The server did not have our session: its streams end here. */
static void
session_gone(struct mux *m)
{
	m->st.sessions_gone++;
	m->st.streams_lost += m->nstreams;
	close_all(m);
	free(m->replay);
	m->replay = NULL;
	m->replaylen = m->replaycap = 0;
	m->replaying = m->resumable = m->await_accept = 0;
	m->rx_seq = m->rx_acked = m->tx_acked = 0;
}

/*
 * The server's hello (client): NEW, or RESUME for the session we hold, when
 * it offers resume; when it does not, a session we held is gone.
 */
static void
client_session(struct mux *m, const uint8_t *body, size_t len)
{
	uint8_t fr[CARRIER_HDR_LEN + CARRIER_SESSION_RESUME_LEN];
	uint8_t proof[CARRIER_PROOF_LEN];
	char hex[CARRIER_NONCE_HEX + 1];
	int offered, n;

	offered = carrier_hello_field(body, len, CARRIER_HELLO_RESUME, hex,
	    sizeof(hex)) == CARRIER_NONCE_HEX &&
	    carrier_hex_decode(hex, CARRIER_NONCE_HEX, m->nonce,
	    sizeof(m->nonce)) == 0;
	if (m->replaying && offered) {
		carrier_resume_proof(m->key, m->sid, m->nonce, proof);
		n = carrier_session_resume(fr, sizeof(fr), m->sid, proof,
		    m->rx_seq);
		if (n > 0) {
			out_raw(m, fr, (size_t)n);
			m->await_accept = 1;
			return;
		}
	}
	if (m->replaying)
		session_gone(m);
	if (offered)
		session_new(m);
}

/* SESSION from the peer. */
static void
on_session(struct mux *m, const struct carrier_frame *f)
{
	uint8_t fr[CARRIER_HDR_LEN + CARRIER_SESSION_REFUSE_LEN];
	struct carrier_session cs;
	int refused, n;

	if (carrier_session_parse(f, &cs) != 0)
		goto bad;
	if (m->o.role == MUX_CLIENT) {
		if (cs.op == CARRIER_SES_ACCEPT && m->await_accept) {
			if (replay_from(m, cs.count) < 0) {
				end(m, MUX_END_PROTOCOL, CARRIER_GA_PROTOCOL,
				    "ACCEPT at %llu: not a count of ours",
				    (unsigned long long)cs.count);
				return;
			}
			m->await_accept = 0;
			replay_out(m, cs.count);
			return;
		}
		if (cs.op == CARRIER_SES_REFUSE) {
			/* A session the server no longer has, or a NEW it did
			 * not take: the carrier goes on without one. */
			if (m->await_accept) {
				session_gone(m);
				session_new(m);
			} else
				m->resumable = 0;
			return;
		}
		goto bad;
	}
	/* One RESUME a carrier: a refused one may be followed by NEW, never
	 * by another RESUME (the owner has one proof; a second would only
	 * be a guess, and each refusal is a log line). */
	if (!m->await_session || (cs.op != CARRIER_SES_NEW &&
	    cs.op != CARRIER_SES_RESUME) ||
	    (cs.op == CARRIER_SES_RESUME && m->resume_tried))
		goto bad;
	if (cs.op == CARRIER_SES_RESUME)
		m->resume_tried = 1;
	refused = m->ops != NULL && m->ops->session != NULL ?
	    m->ops->session(m->arg, m, &cs) : CARRIER_REFUSED_NOT_OFFERED;
	if (refused == 0 && cs.op == CARRIER_SES_NEW) {
		memcpy(m->sid, cs.sid, sizeof(m->sid));
		memcpy(m->key, cs.key, sizeof(m->key));
		m->resumable = 1;
		m->await_session = 0;
		m->rx_seq = m->rx_acked = m->tx_acked = 0;
		m->ackoff = m->outlen;
		return;
	}
	if (refused == 0 && m->adopted_by != NULL)
		return;		/* adopted: parse() hands on the rest */
	if (m->draining || m->state == MUX_ENDED)
		return;		/* the owner ended it (mux_end()) */
	if (refused == 0)
		refused = CARRIER_REFUSED_UNKNOWN;	/* nobody took it */
	/* A refused NEW may be followed by a fresh session's; a second one
	 * refused is a storm (each refusal is a log line): it ends here. */
	if (cs.op == CARRIER_SES_NEW && m->new_refused) {
		end(m, MUX_END_PROTOCOL, CARRIER_GA_PROTOCOL, "SESSION: a "
		    "second NEW refused");
		return;
	}
	if (cs.op == CARRIER_SES_NEW)
		m->new_refused = 1;
	/* Refused: the client may still start a session with NEW. */
	if ((n = carrier_session_refuse(fr, sizeof(fr),
	    (enum carrier_refused)refused)) > 0)
		out_raw(m, fr, (size_t)n);
	return;
bad:
	end(m, MUX_END_PROTOCOL, CARRIER_GA_PROTOCOL, "SESSION (op %u) out "
	    "of turn", f->len > 0 ? f->payload[0] : 0);
}

/* ACK from the peer. */
static void
on_ack(struct mux *m, const struct carrier_frame *f)
{
	uint64_t c = carrier_u64(f);

	if (!m->resumable || m->replaying || acked(m, c) != 0)
		end(m, MUX_END_PROTOCOL, CARRIER_GA_PROTOCOL, "ACK at %llu: "
		    "not a count of ours", (unsigned long long)c);
}

/*
 * The server's hello in m->hello: the owner's, and when offer is set, its
 * body and " resume=NONCE" (the nonce drawn here for this carrier).
 * Returns its length (the owner's hello alone when that cannot be had).
 */
static size_t
server_hello(struct mux *m, int offer)
{
	char body[HELLO_BODY_MAX + 1], hex[CARRIER_NONCE_HEX + 1], win[24] = "";
	struct frame f;
	int n;

	if (m->o.resume_window_ms > 0)
		snprintf(win, sizeof(win), " %s=%d", CARRIER_HELLO_WINDOW,
		    m->o.resume_window_ms);
	if (!offer || frame_decode(m->hello, m->hello_len,
	    HELLO_BODY_MAX, &f) <= 0 ||
	    plat_random(m->nonce, sizeof(m->nonce)) != 0 ||
	    carrier_hex_encode(m->nonce, sizeof(m->nonce), hex,
	    sizeof(hex)) < 0 ||
	    (n = snprintf(body, sizeof(body), "%.*s %s=%s%s", (int)f.body_len,
	    (const char *)f.body, CARRIER_HELLO_RESUME, hex, win)) < 0 ||
	    (size_t)n >= sizeof(body) ||
	    (n = frame_encode(m->hello, sizeof(m->hello), FRAME_TAG_CARRIER,
	    0, body, (size_t)n)) <= 0)
		return m->hello_len;	/* the owner's, as it is */
	m->await_session = 1;
	return m->hello_len = (size_t)n;
}

/* Whether a peer's hello body asks for resume ("resume=1"). */
static int
asks_resume(const uint8_t *body, size_t len)
{
	char v[4];

	return carrier_hello_field(body, len, CARRIER_HELLO_RESUME, v,
	    sizeof(v)) == 1 && v[0] == '1';
}

/* ---- the carrier -------------------------------------------------------- */

/*
 * Start ending the carrier: GOAWAY with code (unless code < 0: the peer is
 * gone or said goaway itself), then a drain.  The first reason is kept.
 */
static void
end(struct mux *m, enum mux_end_cause cause, int code, const char *fmt, ...)
{
	uint8_t ga[CARRIER_CTL_MAX];
	va_list ap;
	size_t n;

	if (m->draining || m->state == MUX_ENDED)
		return;
	if (m->state == MUX_DETACHED) {
		/* No carrier to say goodbye on: over at once. */
		m->cause = cause;
		va_start(ap, fmt);
		vsnprintf(m->why, sizeof(m->why), fmt, ap);
		va_end(ap);
		close_all(m);
		m->state = MUX_ENDED;
		return;
	}
	m->cause = cause;
	va_start(ap, fmt);
	vsnprintf(m->why, sizeof(m->why), fmt, ap);
	va_end(ap);
	if (code >= 0) {
		n = strlen(m->why);
		if (n > CARRIER_REASON_MAX)
			n = CARRIER_REASON_MAX;
		ga[0] = (uint8_t)code;
		for (size_t i = 0; i < n; i++)
			ga[1 + i] = m->why[i] >= 0x20 && m->why[i] <= 0x7e ?
			    (uint8_t)m->why[i] : '?';
		send_ctl(m, CARRIER_GOAWAY, 0, ga, 1 + n);
	}
	m->draining = 1;
}

/* Tear every stream down and stop writing: the drain that follows waits for EOF. */
static void
close_all(struct mux *m)
{
	struct stream *s;

	while ((s = TAILQ_FIRST(&m->streams)) != NULL)
		stream_free(m, s, 0, MUX_SE_CARRIER, 0);
}

static void
quote(char *dst, size_t cap, const uint8_t *p, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 5 < cap; i++) {
		if (p[i] == '\n' || p[i] == '\r')
			break;	/* the first line says enough */
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			dst[o++] = (char)p[i];
		else
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", p[i]);
	}
	dst[o < cap ? o : cap - 1] = '\0';
}

/* The peer's CARRIER frame, at the start of in.  Returns bytes used, 0 for more. */
static size_t
on_hello(struct mux *m)
{
	struct frame f;
	char q[4 * HELLO_QUOTE + 8];
	int n;

	/* A server's hello may say more than a request may. */
	n = frame_decode(m->in, m->inlen, m->o.role == MUX_CLIENT ?
	    HELLO_BODY_MAX : FRAME_REQ_BODY_MAX, &f);
	if (n == 0)
		return 0;
	/* An older server answers in version 1 (INFO, with a long body). */
	if (n < 0 && m->inlen > FRAME_MAGIC_LEN &&
	    memcmp(m->in, FRAME_MAGIC, FRAME_MAGIC_LEN) == 0 &&
	    m->in[FRAME_MAGIC_LEN] == FRAME_VERSION)
		n = FRAME_EVERSION;
	if (n < 0 || f.tag != FRAME_TAG_CARRIER) {
		quote(q, sizeof(q), m->in, m->inlen < HELLO_QUOTE ? m->inlen :
		    HELLO_QUOTE);
		if (n == FRAME_EVERSION || (n > 0 && f.version == 1))
			end(m, MUX_END_V1, -1,
			    "the other end speaks only protocol version 1");
		else {
			end(m, MUX_END_NOT_CARRIER, -1, "the other end sent "
			    "\"%s\" instead of a carrier frame", q);
			snprintf(m->quote, sizeof(m->quote), "%s", q);
		}
		return 0;
	}
	/* Kept for the owner (its fields, mux_peer_hello()); a longer body
	 * than a hello may be is no hello of ours, and says nothing. */
	if (f.body_len <= sizeof(m->peer_hello)) {
		memcpy(m->peer_hello, f.body, f.body_len);
		m->peer_hello_len = f.body_len;
	}
	m->state = MUX_OPEN;
	/* A server that offers resume answers the client's hello: a nonce
	 * only for a client that asks (an older one reads no long hello). */
	if (m->o.role == MUX_SERVER && m->o.resume && m->o.expect_hello)
		out_raw(m, m->hello, server_hello(m, asks_resume(f.body,
		    f.body_len)));
	if (m->o.role == MUX_CLIENT && m->o.resume)
		client_session(m, f.body, f.body_len);
	return (size_t)n;
}

static void
on_open(struct mux *m, const struct carrier_frame *f)
{
	uint8_t pre[MUX_PRE_MAX], tag, code = CARRIER_RST_REFUSED;
	size_t prelen = 0, k;
	ssize_t n;
	uint16_t port;
	struct stream *s;
	int fd;

	if (m->o.role != MUX_SERVER) {
		end(m, MUX_END_PROTOCOL, CARRIER_GA_PROTOCOL,
		    "OPEN from the server side");
		return;
	}
	if ((f->stream & 1) == 0 || f->stream <= m->last_id) {
		end(m, MUX_END_PROTOCOL, CARRIER_GA_PROTOCOL, "OPEN for stream "
		    "%u: ids must be odd and rising", f->stream);
		return;
	}
	m->last_id = f->stream;
	/* Past the rapid reset bucket, refused before the owner does any
	 * work for it (a socket, a connection to the node, a log line). */
	if (bucket_refuse(m, f->stream))
		return;
	/* One stream too many is refused alone, as OpenSSH refuses a channel
	 * past MaxSessions: the carrier's other streams (a victim's shell)
	 * go on. */
	if (m->nstreams >= m->o.max_streams) {
		m->st.refused_full++;
		bucket_take(m);
		send_ctl(m, CARRIER_RESET, f->stream, &code, 1);
		return;
	}
	carrier_open(f, &tag, &port);
	fd = m->ops->open(m->arg, f->stream, tag, port, pre, &prelen);
	if (fd < 0) {
		m->st.refused_open++;
		bucket_take(m);
		send_ctl(m, CARRIER_RESET, f->stream, &code, 1);
		return;
	}
	if ((s = stream_new(m, f->stream, fd)) == NULL) {
		close(fd);
		code = CARRIER_RST_ERROR;
		send_ctl(m, CARRIER_RESET, f->stream, &code, 1);
		return;
	}
	/* A new socket takes the few bytes at once: no buffer for them. */
	n = send(fd, pre, prelen, MSG_NOSIGNAL);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		stream_abort(m, s, reset_code(errno), errno);
		return;
	}
	k = n > 0 ? (size_t)n : 0;
	if (k < prelen && stream_keep(m, s, pre + k, prelen - k) != 0) {
		stream_abort(m, s, CARRIER_RST_ERROR, ENOMEM);
		return;
	}
	s->pre = prelen - k;
	stream_watch(m, s);
}

/* A frame for a stream we do not have: late (ignore) or never opened (error). */
static int
unknown_stream(struct mux *m, const struct carrier_frame *f)
{
	uint32_t newest = m->o.role == MUX_SERVER ? m->last_id :
	    m->next_id > 1 ? m->next_id - 2 : 0;

	if (f->stream <= newest && (f->stream & 1))
		return 0;
	end(m, MUX_END_PROTOCOL, CARRIER_GA_PROTOCOL, "%s for stream %u, "
	    "which was never opened", carrier_type_name(f->type), f->stream);
	return -1;
}

static void
on_frame(struct mux *m, const struct carrier_frame *f)
{
	struct stream *s = NULL;
	uint32_t v;

	switch (f->type) {
	case CARRIER_PING:
		/* Past the bound, a last try to write: a peer that reads is
		 * drained now, and counts from zero again. */
		if (++m->pongs_queued > PONGS_MAX && (flush(m) != 0 ||
		    m->pongs_queued > PONGS_MAX)) {
			end(m, MUX_END_LIMIT, CARRIER_GA_LIMIT, "more than %d "
			    "PINGs whose PONGs it does not read", PONGS_MAX);
			return;
		}
		send_ctl(m, CARRIER_PONG, 0, f->payload, 4);
		maybe_ack(m, 1);
		return;
	case CARRIER_PONG:
		m->unanswered = 0;
		return;
	case CARRIER_SESSION:
		on_session(m, f);
		return;
	case CARRIER_ACK:
		on_ack(m, f);
		return;
	case CARRIER_GOAWAY:
		end(m, MUX_END_GOAWAY, -1, "the other end said goodbye (%.*s)",
		    (int)f->len - 1, (const char *)f->payload + 1);
		m->goaway_code = f->len > 0 ? f->payload[0] : -1;
		return;
	case CARRIER_OPEN:
		on_open(m, f);
		return;
	default:
		break;
	}
	if ((s = find(m, f->stream)) == NULL) {
		(void)unknown_stream(m, f);
		return;
	}
	switch (f->type) {
	case CARRIER_DATA:
		if (s->peer_fin) {
			end(m, MUX_END_PROTOCOL, CARRIER_GA_PROTOCOL,
			    "DATA after FIN on stream %u", s->id);
			return;
		}
		if (f->len > s->recv_left) {
			end(m, MUX_END_LIMIT, CARRIER_GA_LIMIT,
			    "stream %u sent past its window (%u > %u)",
			    s->id, f->len, s->recv_left);
			return;
		}
		s->recv_left -= f->len;
		if (s->id != m->rx_last && m->now - m->rx_last_at <
		    m->o.mix_ms)
			m->rx_mixed_at = m->now;
		m->rx_last = s->id;
		m->rx_last_at = m->now;
		stream_data(m, s, f->payload, f->len);
		return;
	case CARRIER_WINDOW_UPDATE:
		v = carrier_u32(f);
		if ((uint64_t)s->send_win + v > CARRIER_WINDOW_MAX) {
			end(m, MUX_END_PROTOCOL, CARRIER_GA_PROTOCOL,
			    "window of stream %u past %u", s->id,
			    CARRIER_WINDOW_MAX);
			return;
		}
		s->send_win += v;
		stream_watch(m, s);
		return;
	case CARRIER_FIN:
		if (s->peer_fin) {
			end(m, MUX_END_PROTOCOL, CARRIER_GA_PROTOCOL,
			    "second FIN on stream %u", s->id);
			return;
		}
		s->peer_fin = 1;
		if (s->len == s->off)
			(void)shutdown(s->h.fd, SHUT_WR);
		stream_moved(m, s, 0);
		(void)maybe_done(m, s);
		return;
	case CARRIER_RESET:
		/* A rewired stream's socket carries the reset itself. */
		v = s->udata != NULL;
		stream_free(m, s, 1, MUX_SE_PEER_RESET, 0);
		if (!v && m->ops != NULL && m->ops->reset != NULL)
			m->ops->reset(m->arg, f->stream);
		return;
	}
}

static void parse(struct mux *m);

/* Read the carrier and act on every whole frame. */
static void
on_carrier_read(struct mux *m)
{
	/* Draining, what comes is discarded: read it anywhere. */
	size_t off = m->draining ? 0 : m->inlen;
	ssize_t n;

	if (off == sizeof(m->in))
		return;		/* frames to act on first (pending_in) */
	n = read(m->hr.fd, m->in + off, sizeof(m->in) - off);
	if (n == 0) {
		m->peer_eof = 1;
		if (m->state == MUX_STARTING && !m->resumable)
			end(m, MUX_END_EARLY_EOF, -1,
			    "closed before the carrier started");
		else
			lost(m, MUX_END_PEER_CLOSED, -1,
			    "the other end closed the carrier");
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			m->peer_eof = 1;
			lost(m, MUX_END_IO, -1, "reading the carrier: %s",
			    strerror(errno));
		}
		return;
	}
	if (m->draining)
		return;		/* discarded: only EOF matters now */
	m->inlen += (size_t)n;
	parse(m);
}

/* Act on every whole frame in the input buffer. */
static void
parse(struct mux *m)
{
	struct carrier_frame f;
	size_t used = 0;
	int k, opens = 0;

	m->pending_in = 0;
	if (m->state == MUX_STARTING) {
		used = on_hello(m);
		if (used == 0)
			return;
		m->last_rx = m->now;
	}
	while (!m->draining && m->state == MUX_OPEN) {
		k = carrier_decode(m->in + used, m->inlen - used, &f);
		if (k == 0)
			break;
		if (k < 0) {
			end(m, MUX_END_PROTOCOL, CARRIER_GA_PROTOCOL,
			    "bad frame: %s", carrier_strerror(k));
			break;
		}
		/* Whole frames show the peer alive, bytes do not: a byte of
		 * an unfinished frame now and then would keep a carrier past
		 * its idle limit forever.  Any whole frame answers a PING: a
		 * PONG queued behind bulk data on a slow link is not a dead
		 * carrier. */
		m->last_rx = m->now;
		m->unanswered = 0;
		/* A gathered run ends at any other frame: it may be about
		 * the same stream (FIN), whose bytes must go first. */
		if (m->g.n > 0 && (f.type != CARRIER_DATA ||
		    f.stream != m->g.s->id))
			gather_flush(m);
		/* SESSION comes first or not at all; while a RESUME waits
		 * for its answer, the server sends no stream's frame. */
		if (m->await_session && f.type != CARRIER_SESSION)
			m->await_session = 0;
		if (m->await_accept && carrier_sequenced(f.type)) {
			end(m, MUX_END_PROTOCOL, CARRIER_GA_PROTOCOL, "%s "
			    "before the answer to RESUME",
			    carrier_type_name(f.type));
			break;
		}
		on_frame(m, &f);
		used += (size_t)k;
		if (m->resumable && carrier_sequenced(f.type))
			m->rx_seq += (size_t)k;
		if (m->adopted_by != NULL) {
			/* This carrier is that session's now, and so is
			 * what came behind the RESUME. */
			memcpy(m->adopted_by->in, m->in + used, m->inlen - used);
			m->adopted_by->inlen = m->inlen - used;
			m->adopted_by->pending_in = 1;
			m->inlen = 0;
			return;
		}
		if (f.type == CARRIER_OPEN && ++opens == OPENS_PER_RUN) {
			m->pending_in = used < m->inlen;
			break;
		}
	}
	gather_flush(m);
	maybe_ack(m, 0);
	memmove(m->in, m->in + used, m->inlen - used);
	m->inlen -= used;
}

static void
on_stream(struct mux *m, struct stream *s, uint32_t ev)
{
	int err;
	socklen_t len = sizeof(err);

	if (ev & EP_OUT) {
		if (stream_write(m, s) != 0)
			return;
		if (s->peer_fin && s->len == s->off && maybe_done(m, s))
			return;
	}
	if (ev & (EP_IN | EP_HUP | EP_ERR)) {
		if ((ev & EP_ERR) && !(ev & EP_IN) &&
		    getsockopt(s->h.fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
		    err != 0) {
			stream_abort(m, s, err == ECONNRESET ?
			    CARRIER_RST_RESET : CARRIER_RST_ERROR, err);
			return;
		}
		make_ready(m, s);
	}
	stream_watch(m, s);
}

/*
 * The carrier's interest: written while anything is queued; read unless
 * more than OUT_HIGH waits.  Past that, only frames the peer sent and does
 * not read the answers to (PONG, RESET, WINDOW) can have queued it: reading
 * on would let one peer hold up to OUT_MAX of a server that serves others,
 * and a peer left unread meets the idle limit instead.  A drain reads on:
 * it waits for EOF.
 */
static void
carrier_watch(struct mux *m)
{
	uint32_t w = out_pending(m) > 0 ? EP_OUT : 0;
	uint32_t r = out_pending(m) <= OUT_HIGH || m->draining ? EP_IN : 0;

	/* Frames still to act on: mux_timeout() says 0, not the socket. */
	if (m->pending_in && !m->draining)
		r = 0;

	if (m->hr.kind == H_CARRIER_RW)
		watch(m, &m->hr, r | w);
	else if (!m->draining || out_pending(m) > 0) {
		watch(m, &m->hr, r);
		watch(m, &m->hw, w);
	}
}

static void
timers(struct mux *m)
{
	if (m->draining || m->state == MUX_DETACHED)
		return;
	if (m->o.role == MUX_CLIENT && m->state == MUX_OPEN &&
	    m->o.ping_ms > 0 && m->now >= m->next_ping) {
		if (m->unanswered >= m->o.dead_pings) {
			lost(m, MUX_END_IDLE, -1, "no answer to %d pings in "
			    "%ld s", m->unanswered,
			    (m->now - m->last_rx + 500) / 1000);
			return;
		}
		send_u32(m, CARRIER_PING, 0, ++m->ping_seq);
		maybe_ack(m, 1);
		m->unanswered++;
		m->next_ping = m->now + ping_interval(m);
	}
	if (m->o.role == MUX_SERVER && m->o.idle_ms > 0 &&
	    m->now - m->last_rx >= m->o.idle_ms)
		lost(m, MUX_END_IDLE, CARRIER_GA_IDLE, "silent for %d s",
		    m->o.idle_ms / 1000);
}

/* Draining: send what is queued, stop writing, wait for EOF or the deadline. */
static void
drain(struct mux *m)
{
	if (m->drain_until == 0) {
		close_all(m);
		m->drain_until = m->now + DRAIN_MS;
	}
	if (flush(m) != 0)
		m->outoff = m->outlen = 0;
	if (out_pending(m) == 0) {
		/* FIN, never a reset: a port-forward may die of one.  A pipe
		 * is its owner's to close, and carries no reset: all is said
		 * once it is written (waiting for the peer's EOF there would
		 * wait for a peer that waits for ours). */
		if (m->hr.kind == H_CARRIER_RW)
			(void)shutdown(m->hw.fd, SHUT_WR);
		else {
			watch(m, &m->hw, 0);
			m->state = MUX_ENDED;
		}
	}
	if (m->now >= m->drain_until || m->peer_eof)
		m->state = MUX_ENDED;
}

enum mux_state
mux_run(struct mux *m, long now)
{
	struct ep_event evs[EVENTS_MAX];
	struct handle *h;
	int n, i;

	m->now = now;
	if (m->state == MUX_ENDED)
		return m->state;
	if (m->pending_in)
		parse(m);
	n = ep_wait(m->ep, evs, EVENTS_MAX, 0);
	m->evs = evs;
	m->nevs = n > 0 ? n : 0;
	for (i = 0; i < n && m->state != MUX_ENDED; i++) {
		if ((h = evs[i].ptr) == NULL)
			continue;	/* its stream is gone */
		switch (h->kind) {
		case H_CARRIER_RW:
		case H_CARRIER_R:
			if (m->state == MUX_DETACHED)
				break;	/* gone since the batch was taken */
			if (evs[i].events & (EP_IN | EP_HUP | EP_ERR))
				on_carrier_read(m);
			if (h->kind == H_CARRIER_R)
				break;
			/* FALLTHROUGH */
		case H_CARRIER_W:
			if (m->state != MUX_DETACHED &&
			    (evs[i].events & (EP_OUT | EP_ERR)) &&
			    flush(m) != 0)
				lost(m, MUX_END_IO, -1,
				    "writing the carrier: %s", strerror(errno));
			break;
		case H_STREAM:
			if (!m->draining)
				on_stream(m, (struct stream *)h, evs[i].events);
			break;
		}
	}
	m->nevs = 0;
	/* No carrier: the streams' sockets are served, nothing else. */
	if (m->state == MUX_DETACHED)
		return m->state;
	timers(m);
	pump(m);
	if (!m->draining && flush(m) != 0)
		lost(m, MUX_END_IO, -1, "writing the carrier: %s",
		    strerror(errno));
	if (m->draining)
		drain(m);
	if (m->state != MUX_ENDED)
		carrier_watch(m);
	return m->state;
}

int
mux_timeout(const struct mux *m, long now)
{
	long t = 0;
	int timer = 1;

	if (m->state == MUX_ENDED || m->pending_in)
		return 0;
	if (m->state == MUX_DETACHED)
		return -1;	/* the owner's window, not ours */
	if (m->draining)
		t = m->drain_until == 0 ? 0 : m->drain_until - now;
	else if (m->o.role == MUX_CLIENT && m->o.ping_ms > 0 &&
	    m->state == MUX_OPEN)
		t = m->next_ping - now;
	else if (m->o.role == MUX_SERVER && m->o.idle_ms > 0)
		t = m->last_rx + m->o.idle_ms - now;
	else
		timer = 0;
	/* Streams with data and room to send it: come back at once, when
	 * pump() may send it.  Not before the peer's hello on a carrier that
	 * resumes a session, nor while RESUME waits for ACCEPT: the next
	 * frame from the peer is what lets them go, and coming back at once
	 * until it arrives is a loop that spins for a round trip or more. */
	if (m->state == MUX_OPEN && !m->draining && !m->await_accept &&
	    !TAILQ_EMPTY(&m->ready) && pull_room(m))
		return 0;
	if (!timer)
		return -1;
	/* A timer past due is due now: -1 would be "none", and an owner
	 * waiting for it would sleep until some other event. */
	return t <= 0 ? 0 : t > INT_MAX ? INT_MAX : (int)t;
}

struct mux *
mux_new(const struct mux_opts *o, const struct mux_ops *ops, void *arg,
    long now)
{
	struct mux *m;
	int err;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->o = *o;
	m->ops = ops;
	m->arg = arg;
	m->now = m->last_rx = m->tokens_at = now;
	if (m->o.mix_ms <= 0)
		m->o.mix_ms = MIX_MS;
	if (m->o.grow_ms <= 0)
		m->o.grow_ms = GROW_MS;
	m->rx_mixed_at = m->tx_mixed_at = now - m->o.mix_ms;	/* alone */
	m->rx_last_at = m->tx_last_at = now - m->o.mix_ms;
	m->tokens = (long)MUX_RESET_BURST * 1000;
	m->next_ping = now + o->ping_ms;
	m->next_id = 1;
	m->goaway_code = -1;
	m->state = o->expect_hello ? MUX_STARTING : MUX_OPEN;
	TAILQ_INIT(&m->streams);
	TAILQ_INIT(&m->ready);
	m->hr.fd = o->rfd;
	m->hw.fd = o->wfd;
	/* One socket both ways is watched through hr alone. */
	m->hr.kind = o->rfd == o->wfd ? H_CARRIER_RW : H_CARRIER_R;
	m->hw.kind = H_CARRIER_W;
	(void)sock_nonblock(o->rfd);
	(void)sock_nonblock(o->wfd);
	if ((m->ep = ep_create()) < 0)
		goto fail;
	if (o->hello_len > sizeof(m->hello)) {
		errno = EMSGSIZE;
		goto fail;
	}
	memcpy(m->hello, o->hello, o->hello_len);
	m->hello_len = o->hello_len;
	m->o.hello = NULL;	/* the owner's may not outlive this call */
	/* A server that offers resume answers the client's hello (on_hello)
	 * or, when the client's came first (a TCP carrier's preamble, whose
	 * owner asked whether it asks for resume), at once, with a nonce. */
	if (o->role == MUX_SERVER && o->resume && !o->expect_hello)
		(void)server_hello(m, 1);
	if (m->hello_len > 0 && !(o->role == MUX_SERVER && o->resume &&
	    o->expect_hello)) {
		if (out_room(m, m->hello_len) != 0)
			goto fail;
		memcpy(m->out, m->hello, m->hello_len);
		m->outlen = m->hello_len;
	}
	if (o->early_len > 0) {
		if (o->early_len > MUX_EARLY_MAX) {
			errno = EMSGSIZE;
			goto fail;
		}
		memcpy(m->in, o->early, o->early_len);
		m->inlen = o->early_len;
		m->pending_in = 1;
	}
	(void)flush(m);
	carrier_watch(m);
	return m;
fail:
	err = errno;
	if (m->ep >= 0)
		ep_close(m->ep);
	free(m->out);
	free(m);
	errno = err;
	return NULL;
}

int
mux_fd(const struct mux *m)
{
	return m->ep;
}

uint32_t
mux_open(struct mux *m, int fd, uint8_t tag, uint16_t port,
    const void *early, size_t len)
{
	uint8_t op[3] = { tag, (uint8_t)(port >> 8), (uint8_t)port };
	const uint8_t *p = early;
	struct stream *s;
	size_t n;

	if (m->state != MUX_OPEN || m->draining || m->await_accept ||
	    m->next_id > 0x7ffffffe) {
		errno = ENOTCONN;
		return 0;
	}
	if (len > CARRIER_WINDOW) {
		errno = EMSGSIZE;
		return 0;
	}
	if ((s = stream_new(m, m->next_id, fd)) == NULL)
		return 0;
	m->next_id += 2;
	send_ctl(m, CARRIER_OPEN, s->id, op, sizeof(op));
	while (len > 0) {
		n = len < CARRIER_DATA_MAX ? len : CARRIER_DATA_MAX;
		send_ctl(m, CARRIER_DATA, s->id, p, n);
		s->send_win -= (uint32_t)n;
		m->st.bytes_out += n;
		p += n;
		len -= n;
	}
	make_ready(m, s);
	stream_watch(m, s);
	return s->id;
}

/* Queue n bytes of p as s's DATA frames now; the window must allow them. */
static void
send_data(struct mux *m, struct stream *s, const uint8_t *p, size_t n)
{
	size_t k;

	while (n > 0) {
		k = n < CARRIER_DATA_MAX ? n : CARRIER_DATA_MAX;
		send_ctl(m, CARRIER_DATA, s->id, p, k);
		s->send_win -= (uint32_t)k;
		s->from_local += k;
		m->st.bytes_out += k;
		p += k;
		n -= k;
	}
}

int
mux_rewire(struct mux *m, uint32_t id, int fd, const void *to_local,
    size_t n_local, const void *to_peer, size_t n_peer, void *udata)
{
	struct stream *s = find(m, id);
	uint8_t held[CARRIER_DATA_MAX], *nb;
	size_t have = 0;
	ssize_t n;

	if (s == NULL || s->udata != NULL || udata == NULL) {
		errno = s == NULL ? ENOENT : EINVAL;
		return -1;
	}
	/* What the owner wrote to the pair before: ahead of to_peer.  A
	 * setup writes nothing there before its relay, so this is room
	 * enough; more is refused rather than reordered. */
	while (have < sizeof(held)) {
		n = read(s->h.fd, held + have, sizeof(held) - have);
		if (n > 0)
			have += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else
			break;
	}
	if (have == sizeof(held) || have + n_peer > s->send_win ||
	    s->pre > 0) {
		errno = EMSGSIZE;
		return -1;
	}
	/* to_local goes ahead of what the stream still holds for the pair:
	 * the owner read it from the pair, so it came first.  The peer's
	 * window was given back for it when the pair took it. */
	if (n_local > 0) {
		if ((nb = malloc(n_local + (s->len - s->off))) == NULL)
			return -1;
		memcpy(nb, to_local, n_local);
		if (s->len > s->off)
			memcpy(nb + n_local, s->buf + s->off, s->len - s->off);
		free(s->buf);
		s->buf = nb;
		s->len = s->cap = n_local + (s->len - s->off);
		s->off = 0;
		s->pre = n_local;
		m->held += n_local;
	}
	watch(m, &s->h, 0);
	close(s->h.fd);
	s->h.fd = fd;
	(void)sock_nonblock(fd);
	s->udata = udata;
	s->to_local = s->from_local = 0;
	send_data(m, s, held, have);
	send_data(m, s, to_peer, n_peer);
	if (have + n_peer > 0)
		s->answered = 1;
	if (s->len == s->off && s->peer_fin)
		(void)shutdown(fd, SHUT_WR);
	make_ready(m, s);
	stream_watch(m, s);
	if (flush(m) != 0)
		lost(m, MUX_END_IO, -1, "writing the carrier: %s",
		    strerror(errno));
	carrier_watch(m);
	return 0;
}

void
mux_stream_close(struct mux *m, uint32_t id)
{
	struct stream *s = find(m, id);
	uint8_t code = CARRIER_RST_RESET;

	if (s == NULL)
		return;
	send_ctl(m, CARRIER_RESET, s->id, &code, 1);
	stream_free(m, s, 0, MUX_SE_OWNER, 0);
	if (flush(m) != 0)
		lost(m, MUX_END_IO, -1, "writing the carrier: %s",
		    strerror(errno));
	carrier_watch(m);
}

void
mux_reset(struct mux *m, uint32_t id)
{
	struct stream *s = find(m, id);

	if (s == NULL)
		return;
	stream_abort(m, s, CARRIER_RST_RESET, 0);
	/* Outside mux_run(): send the RESET now, or have the carrier's
	 * writability wake the owner.  Queued alone, it would wait for the
	 * next frame in, which a stalled stream may never bring before the
	 * next PING. */
	if (flush(m) != 0)
		lost(m, MUX_END_IO, -1, "writing the carrier: %s",
		    strerror(errno));
	carrier_watch(m);
}

void
mux_end(struct mux *m, enum mux_end_cause cause, int code, const char *reason)
{
	end(m, cause, code, "%s", reason);
}

const char *
mux_why(const struct mux *m)
{
	return m->why;
}

enum mux_end_cause
mux_end_cause(const struct mux *m)
{
	return m->cause;
}

const char *
mux_not_carrier(const struct mux *m)
{
	return m->quote;
}

const uint8_t *
mux_peer_hello(const struct mux *m, size_t *len)
{
	*len = m->peer_hello_len;
	return m->peer_hello;
}

size_t
mux_peer_max_streams(const struct mux *m)
{
	return carrier_hello_streams(m->peer_hello, m->peer_hello_len);
}

long
mux_peer_resume_window(const struct mux *m)
{
	return (long)carrier_hello_number(m->peer_hello, m->peer_hello_len,
	    CARRIER_HELLO_WINDOW);
}

int
mux_goaway_code(const struct mux *m)
{
	return m->cause == MUX_END_GOAWAY ? m->goaway_code : -1;
}

static const char *const end_names[] = {
	[MUX_END_NONE] = "none",
	[MUX_END_PEER_CLOSED] = "peer-closed",
	[MUX_END_GOAWAY] = "goaway",
	[MUX_END_NOT_CARRIER] = "not-carrier",
	[MUX_END_V1] = "v1",
	[MUX_END_EARLY_EOF] = "early-eof",
	[MUX_END_IDLE] = "idle",
	[MUX_END_LIMIT] = "limit",
	[MUX_END_PROTOCOL] = "protocol",
	[MUX_END_IO] = "io",
	[MUX_END_NO_ANSWER] = "no-answer",
	[MUX_END_LOCAL] = "local",
};

const char *
mux_end_name(enum mux_end_cause c)
{
	return (size_t)c < sizeof(end_names) / sizeof(end_names[0]) &&
	    end_names[c] != NULL ? end_names[c] : "none";
}

enum mux_end_cause
mux_end_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(end_names) / sizeof(end_names[0]); i++)
		if (end_names[i] != NULL && strcmp(name, end_names[i]) == 0)
			return (enum mux_end_cause)i;
	return MUX_END_NONE;
}

void
mux_stats(const struct mux *m, struct mux_stats *st)
{
	*st = m->st;
	st->open = m->nstreams;
	st->grown = m->grown;
	st->retained = m->replaylen + (m->resumable && m->ackoff < m->outoff ?
	    m->outoff - m->ackoff : 0);
	/* The bucket is refilled when it is drawn on: a peer that stopped
	 * has it back by now. */
	if (st->limited && m->tokens + (m->now - m->tokens_at) *
	    MUX_RESET_RATE >= (long)MUX_RESET_RESUME * 1000)
		st->limited = 0;
}

/* Take rfd and wfd as this mux's carrier, non-blocking. */
static void
carrier_take(struct mux *m, int rfd, int wfd)
{
	m->hr.fd = rfd;
	m->hw.fd = wfd;
	m->hr.kind = rfd == wfd ? H_CARRIER_RW : H_CARRIER_R;
	m->hw.kind = H_CARRIER_W;
	m->hr.events = m->hw.events = 0;
	(void)sock_nonblock(rfd);
	(void)sock_nonblock(wfd);
	m->peer_eof = m->draining = 0;
	m->cause = MUX_END_NONE;	/* the lost carrier's words go with it */
	m->why[0] = '\0';
	m->last_rx = m->now;
	m->unanswered = m->pongs_queued = 0;
	m->next_ping = m->now + ping_interval(m);
}

void
mux_drop(struct mux *m, const char *why)
{
	lost(m, MUX_END_LOCAL, -1, "%s", why);
}

int
mux_attach(struct mux *m, int rfd, int wfd, long now)
{
	if (m->o.role != MUX_CLIENT || m->state != MUX_DETACHED) {
		errno = EINVAL;
		return -1;
	}
	m->now = now;
	carrier_take(m, rfd, wfd);
	m->state = MUX_STARTING;
	out_raw(m, m->hello, m->hello_len);
	if (flush(m) != 0) {
		detach(m, MUX_END_IO, "writing the carrier failed");
		return -1;
	}
	carrier_watch(m);
	return 0;
}

int
mux_session_check(const struct mux *old, const struct mux *tmp,
    const uint8_t *sid, const uint8_t *proof)
{
	return memcmp(old->sid, sid, sizeof(old->sid)) == 0 &&
	    carrier_resume_check(old->key, old->sid, tmp->nonce, proof);
}

int
mux_adopt(struct mux *old, struct mux *tmp, uint64_t count)
{
	uint8_t fr[CARRIER_HDR_LEN + CARRIER_SESSION_ACCEPT_LEN];
	int n;

	if (old->o.role != MUX_SERVER || old->state != MUX_DETACHED ||
	    tmp->adopted_by != NULL) {
		errno = EBUSY;
		return -1;
	}
	if (replay_from(old, count) < 0) {
		errno = EINVAL;
		return -1;
	}
	watch(tmp, &tmp->hr, 0);
	watch(tmp, &tmp->hw, 0);
	old->now = tmp->now;
	carrier_take(old, tmp->hr.fd, tmp->hw.fd);
	tmp->hr.fd = tmp->hw.fd = -1;
	tmp->adopted_by = old;
	tmp->state = MUX_ENDED;
	tmp->cause = MUX_END_LOCAL;
	snprintf(tmp->why, sizeof(tmp->why), "the carrier resumed a session");
	old->state = MUX_OPEN;
	/* ACCEPT says what we have of the client's: an ACK as well. */
	if ((n = carrier_session_accept(fr, sizeof(fr), old->rx_seq)) > 0)
		out_raw(old, fr, (size_t)n);
	old->rx_acked = old->rx_seq;
	replay_out(old, count);
	if (flush(old) != 0)
		lost(old, MUX_END_IO, -1, "writing the carrier: %s",
		    strerror(errno));
	if (old->state == MUX_OPEN)
		carrier_watch(old);
	return 0;
}

const uint8_t *
mux_session_id(const struct mux *m)
{
	return m->resumable ? m->sid : NULL;
}

struct mux *
mux_adopted_by(const struct mux *m)
{
	return m->adopted_by;
}

long
mux_detached_at(const struct mux *m)
{
	return m->state == MUX_DETACHED ? m->detached_at : 0;
}

void
mux_free(struct mux *m)
{
	if (m == NULL)
		return;
	close_all(m);
	ep_close(m->ep);
	free(m->replay);
	free(m->out);
	free(m);
}
