/*
 * mux: one carrier's streams over one pair of descriptors (a socket, or a
 * command's stdout and stdin), in the frames of carrier.h.  The same engine
 * serves both ends: the client (the erlfwd command's agent) opens streams for
 * local sockets; the server (erlfwd-server) is asked to open them and hands
 * each a local socket through mux_ops.open (a socketpair to its setup), then
 * the upstream socket itself once the setup is done (mux_rewire()).
 *
 * It owns an epoll set of its own, so that its owner watches one descriptor
 * (mux_fd()) for readability and calls mux_run() when it wakes or when
 * mux_timeout() expires.  Nothing here blocks.
 *
 * What it guarantees:
 * - flow control: at most CARRIER_WINDOW bytes of a stream in flight each
 *   way, so a stream whose local end is slow holds back only itself;
 * - fairness: DATA frames of at most CARRIER_DATA_MAX bytes, taken from the
 *   streams with data in turn, and only while less than a few frames wait
 *   to be written: a bulk stream delays another by a few frames (a stream
 *   that moves data alone takes bigger turns, and a bigger window, until
 *   another moves data too: MUX_WIN_GROWN);
 * - a stream's end travels as FIN (each way) or RESET; a stream's failure
 *   never ends the carrier;
 * - bounded memory: a stream buffers at most its window, all of a
 *   carrier's streams together at most 8 MiB and what their windows grew
 *   by (past that, GOAWAY: a limit),
 *   and a peer that does not read the answers to its frames (PONG, RESET)
 *   is not read either once about a megabyte of them waits;
 * - bounded waste (servers): streams that end with RESET, from either end,
 *   before their local end sent the peer a byte, and OPENs refused, draw on
 *   a bucket of MUX_RESET_BURST refilled at MUX_RESET_RATE a second.  Once
 *   it is empty, every OPEN is refused (RESET refused, the owner never
 *   asked) until it holds MUX_RESET_RESUME again, each refusal drawing on
 *   it too; MUX_RESET_HARD refusals past empty end the carrier with GOAWAY
 *   (limit, "rapid reset"): the HTTP/2 rapid reset, CVE-2023-44487;
 * - liveness: the client sends PING every ping_ms and gives up after
 *   dead_pings unanswered; the server ends a carrier silent for idle_ms;
 * - a carrier that ends says why (mux_end_cause(), and mux_why() in words),
 *   and closes its own
 *   descriptors with FIN after a short drain, never with a reset;
 * - resume (opts.resume, carrier.h's SESSION and ACK): a session's carrier
 *   lost without GOAWAY leaves it MUX_DETACHED, its streams open and what
 *   the peer has not acknowledged kept (about what was in flight); on
 *   another carrier (mux_attach(), mux_adopt()) each side sends again what
 *   the other lacks, once and in order.
 */
#ifndef ERLFWD_MUX_H
#define ERLFWD_MUX_H

#include <stddef.h>
#include <stdint.h>

#include "carrier.h"

enum mux_role {
	MUX_CLIENT = 1,
	MUX_SERVER = 2,
};

enum mux_state {
	MUX_STARTING = 0,	/* waiting for the peer's CARRIER frame */
	MUX_OPEN = 1,
	MUX_ENDED = 2,		/* mux_why() says why; only mux_free() is left */
	MUX_DETACHED = 3,	/* a session's carrier was lost (mux_why()
				 * says how): its streams wait for another
				 * (mux_attach(), mux_adopt()) or mux_end() */
};

/*
 * Why a carrier ended: what callers decide on (exit codes, doctor's hints,
 * the server's log outcome).  mux_why() has the words, for people only.
 */
enum mux_end_cause {
	MUX_END_NONE = 0,	/* it has not ended */
	MUX_END_PEER_CLOSED,	/* EOF from the other end */
	MUX_END_GOAWAY,		/* the other end's GOAWAY: mux_goaway_code() */
	MUX_END_NOT_CARRIER,	/* its first bytes were not a carrier frame */
	MUX_END_V1,		/* it speaks only protocol version 1 */
	MUX_END_EARLY_EOF,	/* EOF before its first frame */
	MUX_END_IDLE,		/* silent past the idle limit, or no PONGs */
	MUX_END_LIMIT,		/* it went past one of our limits */
	MUX_END_PROTOCOL,	/* a malformed frame, or one out of order */
	MUX_END_IO,		/* reading or writing the carrier failed */
	MUX_END_NO_ANSWER,	/* our owner: no first frame in time */
	MUX_END_LOCAL,		/* our owner ended it (the session is over) */
};

struct mux;

/* How a rewired stream ended (mux_ops.closed). */
enum mux_stream_how {
	MUX_SE_CLOSED = 1,	/* both ways finished */
	MUX_SE_PEER_RESET,	/* the peer's RESET (its socket reset too) */
	MUX_SE_LOCAL_RESET,	/* its socket was reset: RESET sent */
	MUX_SE_ERROR,		/* its socket failed, or out of memory */
	MUX_SE_CARRIER,		/* the carrier ended under it */
	MUX_SE_OWNER,		/* mux_stream_close() */
};

struct mux_stream_end {
	enum mux_stream_how	 how;
	int			 err;		/* errno, for MUX_SE_ERROR */
	uint64_t		 to_local;	/* bytes written to its socket */
	uint64_t		 from_local;	/* bytes read from it */
};

struct mux_ops {
	/*
	 * open (servers): the peer opened stream id for tag and port (as in a
	 * version 1 preamble).  Return a connected, non-blocking local socket
	 * for the stream; bytes in pre (*prelen of at most MUX_PRE_MAX) are
	 * written to it before the stream's own.  Return -1 to refuse it: the
	 * peer gets RESET (refused).
	 */
	int	(*open)(void *arg, uint32_t id, uint8_t tag, uint16_t port,
		    uint8_t *pre, size_t *prelen);
	/*
	 * reset (servers, may be NULL): the peer reset stream id, whose local
	 * socket is already closed: a socketpair cannot carry a reset, so
	 * the owner passes it on (to the node) itself.  Not called for a
	 * stream mux_rewire()d to its upstream: its socket carries it.
	 */
	void	(*reset)(void *arg, uint32_t id);
	/*
	 * moved (servers, may be NULL): bytes moved on a rewired stream
	 * (moved), or one of its directions has ended (half): for the
	 * owner's idle and linger limits.  udata is mux_rewire()'s.
	 */
	void	(*moved)(void *arg, void *udata, int half, int moved);
	/*
	 * closed (servers, may be NULL): a rewired stream is over, how e
	 * says; its socket is closed.  The last call with its udata.
	 */
	void	(*closed)(void *arg, void *udata, const struct mux_stream_end *e);
	/*
	 * session (servers that offer resume, may be NULL): the client's
	 * SESSION on carrier m.  NEW: return 0 to take it (m's session from
	 * now), or an enum carrier_refused.  RESUME: find the detached mux
	 * whose mux_session_id() is s->sid, check the proof
	 * (mux_session_check()) and mux_adopt() it with s->count; return 0
	 * when adopted, else the reason refused.  The session stays as it
	 * was for a refused RESUME.  Called for one RESUME a carrier at
	 * most: a second ends the carrier (out of turn) unasked.  The owner
	 * may end m instead (mux_end()): then nothing is answered.
	 */
	int	(*session)(void *arg, struct mux *m,
		    const struct carrier_session *s);
};

#define MUX_PRE_MAX	64
#define MUX_EARLY_MAX	4096

/*
 * The rapid reset bounds, per carrier.  A client resets a stream before
 * its node answered only when it gives up on it: a BEAM's connection setup
 * timing out (7 s), a tool killed mid-lookup, a node that is not there
 * (the server's own reset).  Even libcluster polling a hundred dead nodes
 * every 5 s is 20 a second, so 100 a second is never reached in normal use,
 * and 800 times below the 80k a second an attacker managed.  The burst
 * lets a topology of 30 nodes fail its lookup and its connection at the
 * same moment; it is also what an attacker who reconnects at once gets
 * per carrier, so it is kept small: with 500 (and 1000 refusals),
 * t_bystander's asks took 49-62 ms (median) during the attack, with 64
 * (and 256) 3 ms.  Past empty, refusals go on for half a second of the
 * rate at least; a peer that goes on opening after 256 refusals is not
 * backing off.
 */
#define MUX_RESET_RATE		100	/* a second, sustained */
#define MUX_RESET_BURST		64
#define MUX_RESET_RESUME	50	/* held again: OPENs are taken again */
#define MUX_RESET_HARD		256	/* refusals past empty: GOAWAY */

/*
 * A stream's window grows while it moves data alone on its carrier, fast
 * (half its window delivered within 10 ms), and its local end takes
 * everything the peer sends (a bulk transfer): each WINDOW frame then
 * gives back what was consumed and as much again, up to MUX_WIN_GROWN.  CARRIER_WINDOW alone keeps at most 256 KiB in flight,
 * and a carrier between two busy processes then waits on the other end's
 * turn to run.  Once another stream moves data too (within mux_opts'
 * mix_ms), WINDOW frames give back less, down to CARRIER_WINDOW: what a
 * window lets in flight is what a shell's keystroke on another stream
 * waits behind.  All of a carrier's streams grow by MUX_GROW_BUDGET at most:
 * that is all the more a peer may make us hold (the carrier's limit on
 * held bytes grows by what was given).  Every peer takes a WINDOW that
 * gives more than was consumed (up to CARRIER_WINDOW_MAX): older ones too.
 */
#define MUX_WIN_GROWN		(2 * 1024 * 1024)
#define MUX_GROW_BUDGET		(8 * 1024 * 1024)

struct mux_opts {
	enum mux_role	 role;
	int		 rfd, wfd;	/* the same socket, or two pipes */
	int		 expect_hello;	/* the peer's CARRIER frame comes first */
	const uint8_t	*hello;		/* ours, sent first (may be NULL) */
	size_t		 hello_len;
	const uint8_t	*early;		/* already read from rfd: taken as */
	size_t		 early_len;	/* its first bytes (at most MUX_EARLY_MAX) */
	int		 ping_ms;	/* client: PING interval */
	int		 busy_ping_ms;	/* client: the same while streams are
					 * open (0: ping_ms) */
	int		 dead_pings;	/* client: unanswered PINGs to give up */
	int		 idle_ms;	/* server: silence to give up */
	size_t		 max_streams;	/* server: open at once; RESET
					 * refused past */
	int		 resume;	/* client: ask for resume (the hello
					 * says resume=1); server: offer it
					 * to a client that asks (with
					 * expect_hello; else the owner saw
					 * the client ask) */
	int		 resume_window_ms; /* server: how long it keeps a
					 * lost carrier's session, said in
					 * its offer (window=MS); 0: unsaid */
	int		 mix_ms;	/* a stream moves data alone once no
					 * other did for this long (0: the
					 * engine's own, a second) */
	int		 grow_ms;	/* a window grows only while half of
					 * it is delivered within this (0:
					 * the engine's own, 10 ms) */
};

struct mux_stats {
	uint64_t	 streams;	/* opened in all */
	uint64_t	 bytes_in;	/* stream bytes received */
	uint64_t	 bytes_out;	/* stream bytes sent */
	size_t		 open;		/* open now */
	uint64_t	 refused_full;	/* OPENs refused: max_streams open */
	uint64_t	 refused_open;	/* OPENs the owner's open refused */
	uint64_t	 refused_rate;	/* OPENs refused: the rapid reset
					 * bucket was empty */
	uint64_t	 reset_early;	/* streams ended by RESET (either
					 * end's) before their local end
					 * sent the peer a byte */
	uint64_t	 rate_limited;	/* times the bucket ran empty */
	int		 limited;	/* OPENs are refused now */
	uint64_t	 resumes;	/* carriers that resumed the session */
	uint64_t	 sessions_gone;	/* clients: sessions the server did
					 * not have when we came back */
	uint64_t	 streams_lost;	/* streams those held */
	size_t		 retained;	/* bytes kept to send again, not
					 * yet acknowledged */
	size_t		 grown;		/* windows given past CARRIER_WINDOW,
					 * all open streams' */
};

struct mux;

/*
 * mux_new: a carrier over o->rfd and o->wfd (made non-blocking; they stay
 * the caller's to close after mux_free()), with ops and arg for callbacks,
 * started at now (ms, tio_now_ms()).  Returns NULL with errno on failure.
 */
struct mux *mux_new(const struct mux_opts *o, const struct mux_ops *ops,
	    void *arg, long now);

/*
 * mux_fd: the descriptor to watch for readability: an ep set (ep.h), to be
 * watched for EP_IN in the owner's set or waited on with ep_wait(), not
 * poll()ed (the poll backend's set is never readable by itself).
 */
int	mux_fd(const struct mux *m);

/*
 * mux_run: do what the descriptors and timers allow, without blocking.
 * Returns the state afterwards.
 */
enum mux_state mux_run(struct mux *m, long now);

/* mux_timeout: ms until mux_run() has a timer to serve (-1: none). */
int	mux_timeout(const struct mux *m, long now);

/*
 * mux_open (clients, once MUX_OPEN): carry the local socket fd (connected,
 * non-blocking; the mux owns it from now on) as a new stream to tag and
 * port, early (len bytes, may be NULL) first.  Returns the stream's id, or
 * 0 with errno when it cannot.
 */
uint32_t mux_open(struct mux *m, int fd, uint8_t tag, uint16_t port,
	    const void *early, size_t len);

/*
 * mux_rewire (servers): stream id's local end, a socketpair whose other
 * end the owner held during setup, becomes fd (connected, non-blocking;
 * the mux owns it from now on): no hop between the carrier and the
 * upstream for the bulk of the stream.  to_local (n_local bytes) are what
 * the owner read from the pair and did not pass on yet: they go to fd
 * first.  to_peer (n_peer) are what fd's peer already answered: they go
 * to the carrier first, behind whatever the pair still held.  udata is
 * passed to ops->moved and ops->closed from now on.  Returns 0, or -1 with
 * errno (the stream and fd are untouched: the owner resets the stream).
 */
int	mux_rewire(struct mux *m, uint32_t id, int fd, const void *to_local,
	    size_t n_local, const void *to_peer, size_t n_peer, void *udata);

/*
 * mux_stream_close (servers): end rewired stream id on the owner's word
 * (a quiet limit): RESET to the peer, its socket closed with a FIN;
 * ops->closed is called (MUX_SE_OWNER) before this returns.
 */
void	mux_stream_close(struct mux *m, uint32_t id);

/*
 * mux_reset: the far end of stream id was reset: send RESET and close its
 * local socket.  For servers, whose local sockets cannot carry a reset.
 */
void	mux_reset(struct mux *m, uint32_t id);

/*
 * mux_end: end the carrier for cause (MUX_END_LOCAL, MUX_END_NO_ANSWER),
 * with GOAWAY (code, reason) unless code is -1, and close every stream;
 * mux_run() then drains and reports MUX_ENDED.
 */
void	mux_end(struct mux *m, enum mux_end_cause cause, int code,
	    const char *reason);

/* mux_why: why the carrier ended, in words ("" while it has not). */
const char *mux_why(const struct mux *m);

/* mux_end_cause: why the carrier ended (MUX_END_NONE while it has not). */
enum mux_end_cause mux_end_cause(const struct mux *m);

/*
 * mux_not_carrier: what the other end sent instead of a carrier frame, its
 * first bytes escaped for a terminal (MUX_END_NOT_CARRIER), else "".
 */
const char *mux_not_carrier(const struct mux *m);

/*
 * mux_peer_hello: the body of the other end's CARRIER frame, its hello
 * fields (carrier.h), *len bytes: empty before it came, and when the owner
 * read that frame itself (a server's TCP carrier, expect_hello 0).
 */
const uint8_t *mux_peer_hello(const struct mux *m, size_t *len);

/*
 * mux_peer_max_streams (clients): the streams the other end takes open at
 * once on this carrier (its hello's streams=); 0 when it did not say (an
 * older server, which refuses past its limit all the same).
 */
size_t	mux_peer_max_streams(const struct mux *m);

/*
 * mux_peer_resume_window (clients): how long the server keeps this
 * session when its carrier is lost, in ms (its offer's window=); 0 when
 * it did not say.
 */
long	mux_peer_resume_window(const struct mux *m);

/* mux_goaway_code: the other end's GOAWAY code (MUX_END_GOAWAY), else -1. */
int	mux_goaway_code(const struct mux *m);

/* mux_end_name: a cause as one word ("not-carrier"), for logs and pipes. */
const char *mux_end_name(enum mux_end_cause c);

/* mux_end_parse: the cause a mux_end_name() names, or MUX_END_NONE. */
enum mux_end_cause mux_end_parse(const char *name);

/*
 * mux_attach (clients, MUX_DETACHED): carry the session over rfd and wfd
 * (the owner's, as mux_new()'s): our hello, then RESUME when the server
 * offers it; what the server lacks goes again once it accepts.  A server
 * that does not have the session: its streams end (mux_stats()'s
 * sessions_gone, streams_lost) and a new one starts.  Returns 0, or -1.
 */
int	mux_attach(struct mux *m, int rfd, int wfd, long now);

/*
 * mux_drop: the owner knows the carrier is gone (a newer one took its
 * session): detached when it carries a session, else ended, as a lost
 * carrier is.
 */
void	mux_drop(struct mux *m, const char *why);

/*
 * mux_session_check (servers): whether proof (a RESUME's, for session sid)
 * is old's key's answer to the nonce of tmp, the carrier it came on.
 */
int	mux_session_check(const struct mux *old, const struct mux *tmp,
	    const uint8_t *sid, const uint8_t *proof);

/*
 * mux_adopt (servers, from ops->session): detached old takes tmp's carrier
 * (and what came on it behind the RESUME), answers ACCEPT and sends again
 * what the client lacks past count.  tmp is MUX_ENDED, a shell whose
 * descriptors are old's now: mux_adopted_by(tmp) says so; mux_free() it.
 * Returns 0, or -1 (count is not one the client can have: refuse).
 */
int	mux_adopt(struct mux *old, struct mux *tmp, uint64_t count);

/* mux_adopted_by: the session that took m's carrier, or NULL. */
struct mux *mux_adopted_by(const struct mux *m);

/* mux_session_id: the session's id (CARRIER_SID_LEN bytes), or NULL. */
const uint8_t *mux_session_id(const struct mux *m);

/* mux_detached_at: when the carrier was lost (MUX_DETACHED), else 0. */
long	mux_detached_at(const struct mux *m);

/* mux_stats: counters so far. */
void	mux_stats(const struct mux *m, struct mux_stats *st);

/*
 * mux_free: close every stream's socket (ops->closed for each rewired one,
 * MUX_SE_CARRIER) and the epoll set; free m.
 */
void	mux_free(struct mux *m);

#endif /* ERLFWD_MUX_H */
