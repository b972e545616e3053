/*
 * agent_int: what the agent's files share (agent.h is its face): agent.c
 * (the loop and the carrier: dialing, reconnecting), local.c (the local
 * side: listeners and connections waiting to become streams) and
 * agent_proc.c (the process, and the line it reports to its parent).
 */
#ifndef ERLFWD_AGENT_INT_H
#define ERLFWD_AGENT_INT_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "frame.h"
#include "mux.h"
#include "transport.h"

#define PENDING_IN	1024	/* a preamble and the first bytes behind it */
#define EVENTS_MAX	32
#define ACCEPT_PAUSE_MS	100	/* out of descriptors: let some free up */
/* Local connections waiting for the carrier (a BEAM opens a few), or for
 * a stream to end when the server's limit is reached: past this, new ones
 * are reset, so that a carrier down for a while is not a way to make us
 * hold thousands of descriptors. */
#define PENDING_MAX	128
/* Streams kept free below the server's limit (its hello's streams=), one
 * in this many: a stream that ended here is still counted there until our
 * FIN or RESET arrives and its node took the last bytes. */
#define STREAM_MARGIN	16
/* Ports the library-free mode's nodes connect to, one per remote node
 * (agentq.h): past this, the least recently asked for is closed (its
 * connections stay). */
#define FWD_MAX		32

enum hkind { H_LISTEN, H_MUX, H_ERR, H_SIG, H_PENDING, H_FWD };

struct ahandle {
	enum hkind	 kind;
	int		 fd;
	uint32_t	 events;
};

/* A local connection that has not become a stream yet. */
struct pending {
	struct ahandle		 h;	/* first: the ep set points here */
	TAILQ_ENTRY(pending)	 entry;
	uint8_t			 in[PENDING_IN];
	size_t			 inlen, framelen;
	struct frame		 f;
	long			 deadline;
};

/* A 127.0.0.1 port whose connections are DIST(dist_port) streams. */
struct fwd {
	struct ahandle		 h;	/* first: the ep set points here */
	uint16_t		 dist_port, local_port;
	long			 used;	/* last asked for */
};

struct agent {
	const struct agent_opts	*o;
	int			 ep;
	struct ahandle		 hl, hm, he, hs;
	uint16_t		 port;
	int			 report_fd;	/* to agent_start()'s parent */
	int			 foreground;
	struct mux		*m;
	struct transport	 t;		/* the carrier's byte pipe */
	int			 up, ever_up;
	int			 detached;	/* the mux keeps the session
						 * while a carrier is made */
	int			 resuming;	/* attached to one: resumed? */
	uint64_t		 resumes0, gone0, lost0;	/* mux_stats()
						 * when it was attached */
	long			 start_deadline, lost_at, retry_at;
	long			 resume_ms;	/* a lost session is tried for */
	long			 accept_resume;	/* 0: accepting */
	int			 backoff_s;
	TAILQ_HEAD(, pending)	 pending;
	struct fwd		 fwd[FWD_MAX];
	int			 npending;
	int			 pending_full;	/* said so since the last serve */
	int			 capped;	/* at the server's stream limit:
						 * said so, and connections wait */
	int			 said_foreign;	/* another uid's connection: said */
	int			 quit;
	int			 status;	/* exit status when it quits */
};

/* agent_watch: the ep set watches h for events (0: not at all). */
void	agent_watch(struct agent *a, struct ahandle *h, uint32_t events);

/*
 * agent_report: the one line for agent_start()'s parent (agent_proc.c),
 * once; nothing in the foreground.
 */
void	agent_report(struct agent *a, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* agent_init: the listener, the ep set, the signals; 0 or -1 with why. */
int	agent_init(struct agent *a, const struct agent_opts *o, char *why,
	    size_t cap);

/* agent_loop: until SIGINT, SIGTERM or the first carrier's failure. */
void	agent_loop(struct agent *a);

/* agent_fini: the carrier left, every descriptor closed. */
void	agent_fini(struct agent *a);

/* ---- local.c -------------------------------------------------------------- */

/* local_accept: take the connections waiting on listener h (f: a
 * library-free port's, NULL: the agent's own). */
void	local_accept(struct agent *a, struct ahandle *h, struct fwd *f);

/* local_read: read what p's client sent; its preamble, or the agent's own
 * request (answered now); bad bytes end it. */
void	local_read(struct agent *a, struct pending *p);

/* local_serve: hand the complete ones to the carrier; expire the rest. */
void	local_serve(struct agent *a, long now);

/* local_free: p is done (reset: with a reset), out of the queue. */
void	local_free(struct agent *a, struct pending *p, int reset);

/* local_watch: every listener watched for events, or none (0). */
void	local_watch(struct agent *a, uint32_t events);

#endif /* ERLFWD_AGENT_INT_H */
