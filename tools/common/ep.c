/*
 * ep.c: an epoll interest, changed only when it changes (ep.h).
 */
#include <sys/epoll.h>

#include <stddef.h>

#include "ep.h"

void
ep_watch(int ep, int fd, uint32_t *cur, uint32_t events, void *ptr)
{
	struct epoll_event ev;

	if (fd < 0 || *cur == events)
		return;
	if (events == 0) {
		(void)epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
		*cur = 0;
		return;
	}
	ev.events = events;
	ev.data.ptr = ptr;
	if (epoll_ctl(ep, *cur == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd,
	    &ev) == 0)
		*cur = events;
}
