/*
 * ep: the readiness sets of the event loops (erlfwd-server, its cluster
 * helper, the carrier engine, the agent), with each descriptor's interest
 * kept beside it so that it is changed only when it changes.
 *
 * Two backends behind one interface, chosen by the Makefile: epoll
 * (ep_epoll.c: Linux, the default build, erlfwd-server) and poll(2)
 * (ep_poll.c: the POSIX build of erlfwd).  Both are level-triggered: a
 * descriptor that stays ready is reported again by the next ep_wait().
 * A set is a descriptor, and a set watched in another set for EP_IN is
 * reported readable there when one of its own descriptors is ready: the
 * mux's set inside the agent's or the server's.
 */
#ifndef ERLFWD_EP_H
#define ERLFWD_EP_H

#include <stdint.h>

/* epoll's own values, so that the epoll backend passes them through. */
#define EP_IN		0x001u	/* readable (a read sees data or EOF) */
#define EP_OUT		0x004u	/* writable */
#define EP_ERR		0x008u	/* an error is pending: always reported */
#define EP_HUP		0x010u	/* hung up: always reported */
#define EP_RDHUP	0x2000u	/* the peer shut down its writing */

/* One ready descriptor: what it is ready for, and its ep_watch() ptr. */
struct ep_event {
	uint32_t	 events;
	void		*ptr;
};

/*
 * ep_create: a new, empty set, close-on-exec.  Returns its descriptor, or
 * -1 with errno.
 */
int	ep_create(void);

/*
 * ep_watch: make the set ep watch fd (ignored when < 0) for events, 0
 * meaning not at all, with ptr as the event's data.  *cur is the interest
 * registered so far (0: none) and follows the change; a failed change
 * leaves it as it was, so the next call tries again.  Watch a descriptor
 * no more before closing it: the poll backend cannot see a close.
 */
void	ep_watch(int ep, int fd, uint32_t *cur, uint32_t events, void *ptr);

/*
 * ep_wait: wait up to timeout_ms (-1: no limit, 0: not at all) for a
 * descriptor of ep to be ready, and fill evs with at most max of them.
 * Returns how many, 0 when the time ran out, or -1 with errno (EINTR: a
 * signal came).
 */
int	ep_wait(int ep, struct ep_event *evs, int max, int timeout_ms);

/* ep_close: close the set ep (ignored when < 0). */
void	ep_close(int ep);

#endif /* ERLFWD_EP_H */
