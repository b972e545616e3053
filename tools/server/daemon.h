/*
 * daemon: the event loop both of erlfwd-server's roles share: the relay
 * server (server.c) and the cluster helper (clusterd.c).  One thread, one
 * ep set.  It owns what was written twice before:
 *
 *   - the listener: accepted in bursts of DAEMON_ACCEPT_BURST; out of
 *     descriptors (EMFILE, ENFILE, ENOMEM), the listener is left alone for
 *     DAEMON_ACCEPT_PAUSE_MS rather than woken again at once, said once
 *     per shortage; past max_conns, the role's refuse() (the server says so
 *     in a line and a FIN, the helper resets);
 *   - SIGTERM and SIGINT, through a descriptor (plat_sigfd());
 *   - the connections in setup, a queue ordered by deadline: the setup
 *     timeout is the same for all, so the loop looks at its head only;
 *   - the relays, two queues ordered by their last byte moved: the open
 *     ones (ended after idle_ms) and the half-closed ones (after linger_ms);
 *   - the graveyard: a connection ended during a batch of events is freed
 *     after it, since later events of the batch may still point at it.
 *
 * A role's connection starts with a struct dconn (first member: the role
 * casts back); its handles are the role's, and events on them reach the
 * role's event().  The roles keep only their own states.
 */
#ifndef ERLFWD_DAEMON_H
#define ERLFWD_DAEMON_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdint.h>

#define DAEMON_ACCEPT_BURST	64
#define DAEMON_ACCEPT_PAUSE_MS	100	/* after EMFILE: let fds free up */
#define DAEMON_EVENTS_MAX	256

struct dconn {
	TAILQ_ENTRY(dconn)	 entry;		/* conns, then graveyard */
	TAILQ_ENTRY(dconn)	 qentry;	/* setupq */
	int			 queued;	/* on setupq */
	TAILQ_ENTRY(dconn)	 rentry;	/* idleq or lingerq */
	struct dconn_list	*rq;		/* which of them; NULL: none */
	long			 active;	/* relaying: last byte moved */
	long			 started, deadline;
	int			 dead;		/* ended: freed after the batch */
	int			 kind;		/* the role's: which of its
						 * structs this is */
};

TAILQ_HEAD(dconn_list, dconn);

/* Which relay queue (daemon_relay_queue()). */
enum daemon_rq {
	DAEMON_RQ_NONE = 0,
	DAEMON_RQ_IDLE,		/* both ways open: idle_ms */
	DAEMON_RQ_LINGER,	/* one side left: linger_ms */
};

struct daemon_ops {
	/*
	 * accept: a new connection fd (non-blocking, close-on-exec) from peer
	 * ("ADDR:PORT"), with a slot of max_conns for it.  The role makes its
	 * connection and daemon_conn_add()s it, or closes fd.
	 */
	void	(*accept)(void *arg, int fd, const char *peer);
	/* refuse: fd from peer finds every slot taken; the role closes it. */
	void	(*refuse)(void *arg, int fd, const char *peer);
	/* event: ev (EP_*) on ptr, a handle of the role's. */
	void	(*event)(void *arg, void *ptr, uint32_t ev);
	/* expired: c's setup deadline passed; the role ends it. */
	void	(*expired)(void *arg, struct dconn *c);
	/* quiet: relay c moved nothing for its queue's limit (reason
	 * "idle" or "half-closed"); the role ends it. */
	void	(*quiet)(void *arg, struct dconn *c, const char *reason);
	/* release: c is out of the graveyard; the role frees it. */
	void	(*release)(void *arg, struct dconn *c);
	/* due (may be NULL): serve work with timers (the server's carriers);
	 * returns ms until the next (-1: none). */
	int	(*due)(void *arg);
};

struct daemon_limits {
	int	max_conns;
	int	setup_timeout_ms;
	int	idle_ms;		/* 0: never */
	int	linger_ms;		/* 0: never */
};

struct daemon {
	const struct daemon_ops	*ops;
	void			*arg;
	struct daemon_limits	 lim;
	int			 ep;
	struct {			/* the daemon's own descriptors */
		int		 fd;
		uint32_t	 events;
	}			 lh, sh;
	struct dconn_list	 conns;		/* every live connection */
	struct dconn_list	 setupq;	/* in setup, by deadline */
	struct dconn_list	 idleq;		/* open relays, by activity */
	struct dconn_list	 lingerq;	/* half-closed relays, likewise */
	struct dconn_list	 graveyard;	/* ended in this batch */
	int			 nconns;	/* slots taken; a role may take
						 * more (a carrier) */
	long			 accept_resume;	/* 0: accepting */
	int			 accept_short;	/* said so, once per shortage */
	int			 stopping;	/* the signal, or -1: the role's */
};

/*
 * daemon_init: an ep set and the signals' descriptor for ops and arg.
 * Returns 0, or -1 with errno.  daemon_fini() in either case.
 */
int	daemon_init(struct daemon *d, const struct daemon_ops *ops, void *arg,
	    const struct daemon_limits *lim);

/* daemon_listen: listen on sa (SOMAXCONN).  Returns 0, or -1 with errno. */
int	daemon_listen(struct daemon *d, const struct sockaddr *sa,
	    socklen_t len);

/* daemon_listen_fd: take fd, listening already, as the listener. */
int	daemon_listen_fd(struct daemon *d, int fd);

/* daemon_watch: the role's handle (fd, *cur, ptr) in the ep set (ep.h). */
void	daemon_watch(struct daemon *d, int fd, uint32_t *cur, uint32_t events,
	    void *ptr);

/* daemon_conn_add: c is live and in setup from now, for the timeout. */
void	daemon_conn_add(struct daemon *d, struct dconn *c);

/* daemon_setup_done: c is out of setup (relaying, or a role's own). */
void	daemon_setup_done(struct daemon *d, struct dconn *c);

/* daemon_relay_queue: relay c moved a byte now; on queue q from now. */
void	daemon_relay_queue(struct daemon *d, struct dconn *c,
	    enum daemon_rq q);

/*
 * daemon_relay_moved: after a relay's event: half (a side has sent its
 * EOF) puts it on the linger queue; else bytes moved (moved) make it the
 * most recently active of its queue.
 */
void	daemon_relay_moved(struct daemon *d, struct dconn *c, int half,
	    int moved);

/*
 * daemon_conn_end: c is over (the role has closed its descriptors): off
 * every queue, its slot given back, into the graveyard.
 */
void	daemon_conn_end(struct daemon *d, struct dconn *c);

/*
 * daemon_run: the loop, until a signal or daemon_stop().  Returns 0, or -1
 * when waiting failed (logged).
 */
int	daemon_run(struct daemon *d);

/* daemon_stop: end the loop after this batch (why: -1, the role's own). */
void	daemon_stop(struct daemon *d, int why);

/* daemon_bury: free the graveyard now (after a shutdown's ends). */
void	daemon_bury(struct daemon *d);

/* daemon_fini: close the listener, the signals' descriptor, the ep set. */
void	daemon_fini(struct daemon *d);

#endif /* ERLFWD_DAEMON_H */
