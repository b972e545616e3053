/*
 * server_int: what server.c (the connections' states and policy) and
 * carrier_host.c (the carriers it hosts) share: the server's state and
 * its connections'.  Internal to erlfwd-server; server.h is its face.
 */
#ifndef ERLFWD_SERVER_INT_H
#define ERLFWD_SERVER_INT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "epmd.h"
#include "frame.h"
#include "keeper.h"
#include "relay.h"
#include "server.h"

#define EPMD_REPLY_MAX	65536	/* a NAMES reply for a very busy host */
#define INBUF_MAX	(FRAME_HDR_LEN + FRAME_REQ_BODY_MAX + EPMD_REQ_MAX)
#define OWNER_CACHE	8	/* node ports whose owner we know */
#define OWNER_TTL_MS	1000	/* how long we trust that */

enum conn_state {
	CS_PREAMBLE, CS_EPMD, CS_GATE, CS_CONNECT, CS_RELAY, CS_REPLY,
	CS_DRAIN,
	CS_HANDOFF,	/* the keeper's: a --stdio handing over its carrier */
};

enum { H_CLIENT = RELAY_CLIENT, H_UPSTREAM = RELAY_UPSTREAM };

struct conn;
struct carrier;

/* What epoll's data points at: one side of one connection, or a carrier. */
struct handle {
	int		 fd;
	uint32_t	 events;	/* registered interest; 0: not in epoll */
	struct conn	*c;
	struct carrier	*car;
};

/*
 * A carrier (mux.h): many streams over one client connection, or over
 * stdin and stdout (--stdio).  Each stream it opens becomes a conn whose
 * client side is one end of a socketpair, the mux holding the other: every
 * stream goes through the same states, policy and log line as a version 1
 * connection.
 */
struct carrier {
	struct handle		 h;	/* the mux's epoll descriptor */
	struct handle		 ctl;	/* the keeper's: the connection of
					 * the --stdio whose stdin and stdout
					 * rfd and wfd are (-1: none) */
	int			 fl[2];	/* rfd's and wfd's file status flags
					 * as handed over, -1: not ours */
	TAILQ_ENTRY(carrier)	 entry;
	struct server		*s;
	struct mux		*m;
	int			 rfd, wfd;
	long			 started;
	int			 said_refused;	/* a refused OPEN logged: the
						 * rest are counted */
	uint64_t		 limited_seen;	/* mux_stats.rate_limited said */
	const char		*closing;	/* host_end()'s outcome, for
						 * the streams it ends */
	int			 said_lost;	/* its mux detached: logged, and
						 * its descriptors closed */
	long			 lost_at;
	char			 peer[64];
};

TAILQ_HEAD(carrier_list, carrier);

/* What a struct dconn of the server's is (its kind). */
enum { DK_CONN = 0, DK_STREAM = 1 };

/*
 * A carrier's stream past its setup: its upstream socket is the mux's
 * (mux_rewire()), and this is what is left of its conn: a slot, the quiet
 * limits' queues, and what its log line needs.
 */
struct hstream {
	struct dconn	 d;		/* first; d.kind is DK_STREAM */
	struct carrier	*car;
	uint32_t	 id;
	uint8_t		 tag;
	uint16_t	 port;
	long		 started;
	uint64_t	 base_in;	/* sent upstream before the rewire */
	const char	*quiet;		/* the quiet limit ending it */
};

struct conn {
	struct dconn	 d;			/* first: the daemon's queues */
	const char	*end_outcome;		/* a refusal being written */
	char		 end_reason[64];
	int		 connecting;		/* RELAY: the node's port not yet up */
	struct handle	 h[2];
	enum conn_state	 state;
	uint8_t		 tag;
	uint16_t	 port;
	int		 epmd_code;
	int		 verify;		/* DIST: asking epmd the name it
						 * lists on the port for its port */
	uint8_t		 vreq[EPMD_REQ_MAX];	/* that PORT_PLEASE2_REQ */
	uint8_t		 in[INBUF_MAX];		/* preamble and early bytes */
	size_t		 inlen, framelen;
	const uint8_t	*req;			/* the request for epmd */
	size_t		 reqlen, reqsent;
	uint8_t		*gate;			/* GATE: the name message, then
						 * the port's answer */
	size_t		 gate_need, gate_have;	/* the name message's length,
						 * and how much of it is here */
	size_t		 gate_sent, gate_got;	/* sent to the port; answered */
	uint8_t		*buf;			/* epmd's reply, then ours */
	size_t		 buflen, bufcap, bufoff;
	struct relay	 relay;
	uint64_t	 bytes_in, bytes_out;
	char		 peer[64];
	char		 upstream_addr[64];	/* "ADDR:PORT"; "" before */
	int		 streamed;		/* came from a carrier */
	struct carrier	*car;			/* a carrier's stream: its */
	uint32_t	 stream;		/* carrier and stream id */
};

struct server {
	const struct server_opts *o;
	struct daemon	 dmn;			/* the loop, the listener, the
						 * queues (daemon.h) */
	uid_t		 uid;			/* ours: a node's port must be */
	uint16_t	 own_port;		/* never a DIST target */
	int		 odd_logged;		/* epmd listed a non-node line */
	struct {				/* procnet verdicts, briefly */
		uint16_t port;
		int	 verdict;
		long	 at;
	}		 owners[OWNER_CACHE];
	struct carrier_list carriers;
	int		 nstreamed;	/* conns that are carriers' streams */
	int		 stdio_closed;	/* --stdio: its carrier closed cleanly */
	char		 hostname[256];
	struct keeper_paths kp;			/* the keeper's: its files, */
	ino_t		 keeper_ino;		/* its socket's inode, */
	long		 started;		/* when it started, */
	int		 keeper_took;		/* and whether it took a carrier */
	uint8_t		 names_req[EPMD_NAMES_REQ_LEN];	/* ours, for DIST and INFO */
	struct relay_ctx rctx;
	uint8_t		 scratch[RELAY_SCRATCH];
};

/* server_watch: the ep set watches h for events (0: not at all). */
void	server_watch(struct server *s, struct handle *h, uint32_t events);

/*
 * server_conn_new: a connection for client fd from peer, reading its
 * preamble from now, in setup.  Returns it, or NULL (out of memory).
 */
struct conn *server_conn_new(struct server *s, int fd, const char *peer);

/*
 * server_conn_end: end c: one log line (none when outcome is NULL: it
 * lives on as a carrier), close both sides (with a reset when reset is
 * set; a carrier's stream sends RESET), free what it held.
 */
void	server_conn_end(struct server *s, struct conn *c, const char *outcome,
	    const char *reason, int reset);

/* ---- carrier_host.c ----------------------------------------------------- */

/*
 * host_start: host a carrier on rfd/wfd (the same socket, or stdin and
 * stdout) for peer, with early bytes already read from it; expect_hello:
 * the peer's CARRIER frame is still to come (--stdio, and the keeper's
 * carriers, whose mux offers resume to a hello that asks); resume_asked:
 * its hello (a TCP carrier's preamble) asked for resume.  Returns it, or
 * NULL (logged; the descriptors are still the caller's).
 */
struct carrier *host_start(struct server *s, int rfd, int wfd, const char *peer,
	    const uint8_t *early, size_t early_len, int expect_hello,
	    int resume_asked);

/*
 * host_stream_direct: carrier stream c's setup is over: its upstream socket
 * (connected) goes to the mux, with to_peer (n bytes the upstream already
 * answered) first, and c is ended without a line; a struct hstream lives
 * on for it.  Returns 0, or -1: c is still the caller's to end (with a
 * reset: bytes of it may be lost).
 */
int	host_stream_direct(struct server *s, struct conn *c,
	    const uint8_t *to_peer, size_t n);

/* host_stream_quiet: hs moved nothing for its quiet limit (reason). */
void	host_stream_quiet(struct server *s, struct hstream *hs,
	    const char *reason);

/* host_take: c's preamble was version 2: its client becomes a carrier. */
void	host_take(struct server *s, struct conn *c);

/*
 * host_handoff: the keeper's c (CS_HANDOFF) is readable: a --stdio's
 * stdin and stdout become a carrier, c's connection its ctl; or c ends.
 */
void	host_handoff(struct server *s, struct conn *c);

/* host_ctl: car's --stdio closed its connection (it ended): so did the
 * carrier. */
void	host_ctl(struct server *s, struct carrier *car);

/* host_run: serve car's mux; its end when it ended. */
void	host_run(struct server *s, struct carrier *car);

/* host_end: one line for car, its streams let go of it, it is closed. */
void	host_end(struct server *s, struct carrier *car, const char *outcome);

/* host_due: the daemon's due(): carriers with timers due served; ms
 * until the next (-1: none). */
int	host_due(void *arg);

#endif /* ERLFWD_SERVER_INT_H */
