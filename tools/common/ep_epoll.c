/*
 * ep_epoll.c: the ep sets over epoll (ep.h), for Linux: erlfwd-server and
 * the default build of erlfwd.  EP_* are epoll's values and pass through.
 */
#include <sys/epoll.h>

#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "ep.h"

_Static_assert(EP_IN == EPOLLIN && EP_OUT == EPOLLOUT && EP_ERR == EPOLLERR &&
    EP_HUP == EPOLLHUP && EP_RDHUP == EPOLLRDHUP, "EP_* are epoll's values");
/* ep_wait() lets the kernel fill the caller's array, then widens in place. */
_Static_assert(sizeof(struct epoll_event) <= sizeof(struct ep_event),
    "an epoll_event fits in an ep_event");

int
ep_create(void)
{
	return epoll_create1(EPOLL_CLOEXEC);
}

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

int
ep_wait(int ep, struct ep_event *evs, int max, int timeout_ms)
{
	struct epoll_event ee;
	struct ep_event e;
	char *raw = (char *)evs;
	int n, i;

	/*
	 * No copy through a second array: the kernel writes epoll_events
	 * packed at the start of evs, and each is widened into its ep_event
	 * from the last one down, so that none is overwritten before it is
	 * read (the i-th ep_event starts at or after the i-th epoll_event).
	 */
	n = epoll_wait(ep, (struct epoll_event *)(void *)evs, max, timeout_ms);
	for (i = n - 1; i >= 0; i--) {
		memcpy(&ee, raw + (size_t)i * sizeof(ee), sizeof(ee));
		e.events = ee.events;
		e.ptr = ee.data.ptr;
		memcpy(raw + (size_t)i * sizeof(e), &e, sizeof(e));
	}
	return n;
}

void
ep_close(int ep)
{
	if (ep >= 0)
		(void)close(ep);
}
