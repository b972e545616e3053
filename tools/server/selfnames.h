/*
 * selfnames: the host names this host's nodes go by, for the cluster helper
 * (clusterd.h), which answers each of them with 127.0.0.1 as it does the
 * host name and the --self names: a name of this host must never leave it
 * through the overlay's proxy.
 *
 * epmd knows a node only by the part of its name before the @ ("name app
 * at port 37449"), never by its host part, which is whatever the node was
 * started with (-sname app@web-1): not the host name on Fir, nor the name
 * an overlay knows the host by.  Only the node says it: the challenge of
 * its distribution handshake carries its full name.  So a refresh asks the
 * local epmd for NAMES, then each node registered since the last refresh
 * (a name on a port not asked yet) for the first two messages of a
 * handshake, as erlfwd's probe does, and closes.  OTP's dist_util ends such
 * an attempt without a word: the node logs nothing and monitor_nodes
 * reports nothing.  (A node with TLS distribution cannot answer so: it logs
 * one TLS notice, "Unexpected Message", and says no name.)  Only
 * listeners of the helper's own uid are asked (procnet.h): any local process
 * may register any name with epmd and claim any host.  An answer, or a
 * refusal, is kept while epmd lists the node on that port; a node that did
 * not answer in time is asked again SELFNAMES_RETRY_MS later, so that one
 * that never answers does not hold every refresh to its deadline.
 *
 * The owner drives it from its event loop (daemon.h): selfnames_refresh()
 * starts a refresh, whose sockets join the daemon's set and whose events
 * the owner hands to selfnames_event(); selfnames_due() ends one at its
 * deadline; done() is called when one ends, either way.  The names count
 * as fresh for SELFNAMES_TTL_MS after.  Its sockets are the helper's own,
 * not connections: they take no slot of --max-conns.
 */
#ifndef ERLFWD_SELFNAMES_H
#define ERLFWD_SELFNAMES_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "daemon.h"
#include "dist.h"
#include "frame_info.h"

#define SELFNAMES_NODES		FRAME_INFO_NODES_MAX	/* remembered */
#define SELFNAMES_PROBES	8	/* nodes asked at once */
#define SELFNAMES_TTL_MS	2000	/* a refresh holds this long */
/* A refresh's bound: the LOOKUPs that wait for it must be answered well
 * within the preload's second. */
#define SELFNAMES_WAIT_MS	500
#define SELFNAMES_RETRY_MS	30000	/* a node silent past the deadline */
#define SELFNAMES_PROBE_NAME	"erlfwd_self@localhost"	/* who asks */
#define SELFNAMES_EPMD_MAX	8192	/* of a NAMES reply, read */

enum selfnames_state {
	SELFNAMES_NEW = 0,	/* to ask */
	SELFNAMES_ASKING,
	SELFNAMES_DONE,		/* answered, refused, or not ours */
};

struct selfnames_node {
	char			 alive[FRAME_INFO_NAME_MAX];
	uint16_t		 port;
	enum selfnames_state	 state;
	long			 retry_at;	/* NEW: not asked before */
	char			 host[CLUSTER_NAME_MAX + 1];	/* "": none */
};

/* A socket of a refresh: epmd's (node -1) or a node's. */
struct selfnames_conn {
	int		 fd;
	uint32_t	 events;
	int		 node;
	int		 sent;		/* our request is written */
	uint8_t		 in[2 * (DIST_LEN_HDR + DIST_BODY_MAX)];
	size_t		 inlen;
};

struct selfnames {
	struct daemon		*dmn;
	uint16_t		 epmd_port;
	void			(*done)(void *arg);
	void			*arg;
	long			 fresh_until;	/* 0: never refreshed */
	long			 deadline;	/* of the refresh under way;
						 * 0: none */
	struct selfnames_node	 nodes[SELFNAMES_NODES];
	size_t			 nnodes;
	struct selfnames_conn	 conns[1 + SELFNAMES_PROBES];
	uint8_t			 names[SELFNAMES_EPMD_MAX];
	size_t			 nameslen;
	struct frame_info	 fi;		/* NAMES, parsed */
};

/*
 * selfnames_init: no names yet, none fresh; refreshes ask the epmd on
 * 127.0.0.1:epmd_port and add their sockets to dmn; done(arg) after each.
 */
void	selfnames_init(struct selfnames *t, struct daemon *dmn,
	    uint16_t epmd_port, void (*done)(void *), void *arg);

/* selfnames_fini: close what a refresh under way holds (no done()). */
void	selfnames_fini(struct selfnames *t);

/* selfnames_has: 1 when a node of this host goes by host name (any case). */
int	selfnames_has(const struct selfnames *t, const char *name);

/*
 * selfnames_stale: 1 when the names are to be refreshed before they are
 * trusted at now (never refreshed, older than the TTL, or under way).
 */
int	selfnames_stale(const struct selfnames *t, long now);

/*
 * selfnames_refresh: start a refresh at now, unless one is under way.
 * done() may be called before it returns (epmd cannot be reached).
 */
void	selfnames_refresh(struct selfnames *t, long now);

/* selfnames_owns: 1 when ptr (an event's) is a handle of t's. */
int	selfnames_owns(const struct selfnames *t, const void *ptr);

/* selfnames_event: ev (EP_*) on t's handle ptr. */
void	selfnames_event(struct selfnames *t, void *ptr, uint32_t ev);

/*
 * selfnames_due: end the refresh under way if its deadline has come (its
 * nodes not answered yet are asked again SELFNAMES_RETRY_MS later).
 * Returns ms until that deadline, or -1 when none is under way.
 */
int	selfnames_due(struct selfnames *t, long now);

/*
 * selfnames_merge: epmd's NAMES text (the reply after its 4-byte port)
 * into the table: the nodes it still lists on the same port are kept with
 * what they said, the others forgotten, the new ones to ask.  Pure.
 */
void	selfnames_merge(struct selfnames *t, const char *text, size_t len);

/*
 * selfnames_learn: node i answered with its full name (NAME@HOST): keep
 * HOST when it is a host name.  Returns the host kept, or NULL.  Pure.
 */
const char *selfnames_learn(struct selfnames *t, size_t i, const char *full);

#endif /* ERLFWD_SELFNAMES_H */
