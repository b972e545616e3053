/*
 * ep: an epoll interest, kept with the descriptor it is for, so that the
 * event loops (erlfwd-server, its cluster helper, the carrier engine, the
 * agent) change it only when it changes.
 */
#ifndef ERLFWD_EP_H
#define ERLFWD_EP_H

#include <stdint.h>

/*
 * ep_watch: make the epoll set ep watch fd (ignored when < 0) for events,
 * 0 meaning not at all, with ptr as the event's data.  *cur is the interest
 * registered so far (0: none) and follows the change; a failed epoll_ctl
 * leaves it as it was, so the next call tries again.
 */
void	ep_watch(int ep, int fd, uint32_t *cur, uint32_t events, void *ptr);

#endif /* ERLFWD_EP_H */
