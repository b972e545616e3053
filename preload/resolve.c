/*
 * resolve.c: sentinel answers in resolver shapes (resolve.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "resolve.h"
#include "sentinel.h"

/* The layout inside buf: pointer arrays first (aligned), then the address,
 * then the name. */
struct hostent_store {
	char	*aliases[1];
	char	*addrs[2];
	union {
		struct in_addr	v4;
		struct in6_addr	v6;
	} addr;
};

int
resolve_hostent(struct hostent *he, char *buf, size_t buflen, const char *name,
    int af, int entry)
{
	struct in_addr v4;

	if (sentinel_v4((size_t)entry, &v4) != 0)
		return EAFNOSUPPORT;
	return resolve_hostent_v4(he, buf, buflen, name, af, &v4);
}

int
resolve_hostent_v4(struct hostent *he, char *buf, size_t buflen,
    const char *name, int af, const struct in_addr *v4)
{
	struct hostent_store *st;
	uintptr_t p = (uintptr_t)buf;
	size_t pad, namelen = strlen(name);

	pad = (alignof(struct hostent_store) - p % alignof(struct hostent_store)) %
	    alignof(struct hostent_store);
	if (buflen < pad || buflen - pad < sizeof(*st) + namelen + 1)
		return ERANGE;
	st = (struct hostent_store *)(void *)(buf + pad);
	memset(st, 0, sizeof(*st));
	if (af == AF_INET) {
		st->addr.v4 = *v4;
		he->h_length = (int)sizeof(st->addr.v4);
	} else if (af == AF_INET6) {
		addr_v4mapped(v4, &st->addr.v6);
		he->h_length = (int)sizeof(st->addr.v6);
	} else
		return EAFNOSUPPORT;
	he->h_name = (char *)(st + 1);
	memcpy(he->h_name, name, namelen + 1);
	st->aliases[0] = NULL;
	st->addrs[0] = (char *)&st->addr;
	st->addrs[1] = NULL;
	he->h_aliases = st->aliases;
	he->h_addrtype = af;
	he->h_addr_list = st->addrs;
	return 0;
}

int
resolve_sentinel_text(char *buf, size_t buflen, int af, int entry)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (af == AF_INET)
		return sentinel_v4((size_t)entry, &v4) == 0 &&
		    inet_ntop(AF_INET, &v4, buf, (socklen_t)buflen) != NULL ?
		    0 : -1;
	if (af == AF_INET6)
		return sentinel_v6((size_t)entry, &v6) == 0 &&
		    inet_ntop(AF_INET6, &v6, buf, (socklen_t)buflen) != NULL ?
		    0 : -1;
	return -1;
}

int
resolve_v4_text(char *buf, size_t buflen, int af, const struct in_addr *v4)
{
	struct in6_addr v6;

	if (af == AF_INET)
		return inet_ntop(AF_INET, v4, buf, (socklen_t)buflen) != NULL ?
		    0 : -1;
	if (af != AF_INET6)
		return -1;
	addr_v4mapped(v4, &v6);
	return inet_ntop(AF_INET6, &v6, buf, (socklen_t)buflen) != NULL ? 0 : -1;
}

int
resolve_addr_entry(const void *addr, size_t len, int af, size_t nentries)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (addr == NULL)
		return -1;
	if (af == AF_INET && len >= sizeof(v4)) {
		memcpy(&v4, addr, sizeof(v4));
		return sentinel_entry_v4(&v4, nentries);
	}
	if (af == AF_INET6 && len >= sizeof(v6)) {
		memcpy(&v6, addr, sizeof(v6));
		return sentinel_entry_v6(&v6, nentries);
	}
	return -1;
}

int
resolve_canonname(struct addrinfo *ai, const char *name)
{
	char *copy;

	if (ai == NULL || ai->ai_canonname == NULL)
		return 0;
	if ((copy = strdup(name)) == NULL)
		return -1;
	/* freeaddrinfo() frees ai_canonname with free(): ours is malloc'd. */
	free(ai->ai_canonname);
	ai->ai_canonname = copy;
	return 0;
}
