/*
 * ep_poll.c: the ep sets over poll(2) (ep.h), for the POSIX build of erlfwd.
 *
 * A set is a table of (descriptor, interest, pointer) in this process,
 * found by its own descriptor: the read end of a pipe that is never
 * written, so that the number is a real descriptor of ours, close-on-exec,
 * that nothing else gets while the set lives.  ep_wait() polls the whole
 * table in one poll().  An entry whose descriptor is itself a set (the
 * mux's set watched in the agent's) puts that set's descriptors in the same
 * poll() and is reported EP_IN when one of them is ready; the inner set's
 * own ep_wait(..., 0) then says which.  The laptop's sets hold a handful of
 * descriptors: a table searched in order is enough.
 *
 * Where epoll forgets a descriptor that is closed, poll() says POLLNVAL:
 * such an entry is dropped here without a word, as epoll would have, since
 * its pointer may be gone with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ep.h"

#define NEST_MAX	4	/* sets within sets, followed this deep */

struct entry {
	int		 fd;		/* -1: found closed, to drop */
	uint32_t	 events;
	void		*ptr;
	uint32_t	 got;		/* this wait's readiness */
};

struct set {
	int		 wfd;		/* the pipe's other end, kept open */
	struct entry	*e;
	size_t		 n, cap;
	size_t		 next;		/* where the next report starts */
	int		 dead;		/* entries to drop after this wait */
	struct pollfd	*pfd;		/* a wait's array, kept for the next */
	size_t		 pcap;
};

static struct set	**sets;		/* by the set's descriptor */
static size_t		  nsets;

static struct set *
set_of(int fd)
{
	return fd >= 0 && (size_t)fd < nsets ? sets[fd] : NULL;
}

/* The set that entry e of a set at depth stands for, if it is followed. */
static struct set *
inner_of(const struct set *s, const struct entry *e, int depth)
{
	struct set *in = set_of(e->fd);

	return in != NULL && in != s && depth < NEST_MAX ? in : NULL;
}

static int
cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

int
ep_create(void)
{
	struct set *s, **grown;
	int p[2], err;
	size_t n;

	if (pipe(p) != 0)
		return -1;
	if (cloexec(p[0]) != 0 || cloexec(p[1]) != 0)
		goto fail;
	if ((size_t)p[0] >= nsets) {
		n = (size_t)p[0] + 16;
		if ((grown = realloc(sets, n * sizeof(*sets))) == NULL)
			goto fail;
		memset(grown + nsets, 0, (n - nsets) * sizeof(*sets));
		sets = grown;
		nsets = n;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto fail;
	s->wfd = p[1];
	sets[p[0]] = s;
	return p[0];
fail:
	err = errno;
	(void)close(p[0]);
	(void)close(p[1]);
	errno = err;
	return -1;
}

static struct entry *
find(struct set *s, int fd)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->e[i].fd == fd)
			return &s->e[i];
	return NULL;
}

void
ep_watch(int ep, int fd, uint32_t *cur, uint32_t events, void *ptr)
{
	struct set *s = set_of(ep);
	struct entry *e, *grown;
	size_t cap;

	if (s == NULL || fd < 0 || *cur == events)
		return;
	e = find(s, fd);
	if (events == 0) {
		if (e != NULL)
			*e = s->e[--s->n];
		*cur = 0;
		return;
	}
	/* An entry found while *cur is 0 is a closed descriptor's, whose
	 * number came back: it is this one's now. */
	if (e == NULL) {
		if (s->n == s->cap) {
			cap = s->cap == 0 ? 8 : 2 * s->cap;
			if ((grown = realloc(s->e, cap * sizeof(*grown))) ==
			    NULL)
				return;
			s->e = grown;
			s->cap = cap;
		}
		e = &s->e[s->n++];
		e->fd = fd;
	}
	e->events = events;
	e->ptr = ptr;
	*cur = events;
}

/* How many pollfds s needs, its nested sets' included. */
static size_t
count(const struct set *s, int depth)
{
	const struct set *in;
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		n += (in = inner_of(s, &s->e[i], depth)) != NULL ?
		    count(in, depth + 1) : 1;
	return n;
}

/* Lay s's descriptors out in p from *k on, in entry order. */
static void
fill(const struct set *s, struct pollfd *p, size_t *k, int depth)
{
	const struct set *in;
	const struct entry *e;
	size_t i;

	for (i = 0; i < s->n; i++) {
		e = &s->e[i];
		if ((in = inner_of(s, e, depth)) != NULL) {
			fill(in, p, k, depth + 1);
			continue;
		}
		p[*k].fd = e->fd;
		p[*k].events = ((e->events & (EP_IN | EP_RDHUP)) ? POLLIN : 0) |
		    ((e->events & EP_OUT) ? POLLOUT : 0);
		p[*k].revents = 0;
		(*k)++;
	}
}

/*
 * Read poll()'s answers back into s's entries (->got) in fill()'s order.
 * Returns 1 when any entry of s is ready.  A peer's shutdown is POLLIN:
 * the read that follows sees EOF, which is all EP_RDHUP is used for.
 */
static int
collect(struct set *s, const struct pollfd *p, size_t *k, int depth)
{
	struct set *in;
	struct entry *e;
	short re;
	size_t i;
	int any = 0;

	for (i = 0; i < s->n; i++) {
		e = &s->e[i];
		e->got = 0;
		if ((in = inner_of(s, e, depth)) != NULL) {
			if (collect(in, p, k, depth + 1) &&
			    (e->events & EP_IN))
				e->got = EP_IN;
		} else {
			re = p[(*k)++].revents;
			if (re & POLLNVAL) {
				e->fd = -1;
				s->dead = 1;
				continue;
			}
			if (re & POLLIN)
				e->got |= EP_IN;
			if (re & POLLOUT)
				e->got |= EP_OUT;
			if (re & POLLERR)
				e->got |= EP_ERR;
			if (re & POLLHUP)
				e->got |= EP_HUP;
		}
		if (e->got != 0)
			any = 1;
	}
	return any;
}

/* Drop the entries collect() found closed, in s and the sets within. */
static void
sweep(struct set *s, int depth)
{
	struct set *in;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->e[i].fd >= 0 && (in = inner_of(s, &s->e[i], depth)) !=
		    NULL)
			sweep(in, depth + 1);
	if (!s->dead)
		return;
	for (i = 0; i < s->n;)
		if (s->e[i].fd < 0)
			s->e[i] = s->e[--s->n];
		else
			i++;
	s->dead = 0;
}

int
ep_wait(int ep, struct ep_event *evs, int max, int timeout_ms)
{
	struct set *s = set_of(ep);
	struct pollfd *grown;
	size_t need, k = 0, i, j;
	int n, got = 0;

	if (s == NULL || max <= 0) {
		errno = s == NULL ? EBADF : EINVAL;
		return -1;
	}
	if ((need = count(s, 0)) > s->pcap) {
		if ((grown = realloc(s->pfd, need * sizeof(*grown))) == NULL)
			return -1;
		s->pfd = grown;
		s->pcap = need;
	}
	fill(s, s->pfd, &k, 0);
	if ((n = poll(s->pfd, (nfds_t)need, timeout_ms)) <= 0)
		return n;
	k = 0;
	(void)collect(s, s->pfd, &k, 0);
	/* More ready than max: the next wait starts after the last one
	 * reported, so that none waits behind the others for ever. */
	for (i = 0; i < s->n && got < max; i++) {
		j = (s->next + i) % s->n;
		if (s->e[j].fd < 0 || s->e[j].got == 0)
			continue;
		evs[got].events = s->e[j].got;
		evs[got].ptr = s->e[j].ptr;
		got++;
		if (got == max)
			s->next = j + 1;
	}
	sweep(s, 0);
	if (s->next >= s->n)
		s->next = 0;
	return got;
}

void
ep_close(int ep)
{
	struct set *s = set_of(ep);

	if (s == NULL)
		return;
	sets[ep] = NULL;
	(void)close(ep);
	(void)close(s->wfd);
	free(s->pfd);
	free(s->e);
	free(s);
}
