/*
 * sentinel.c: remote hosts' stand-in addresses (sentinel.h).
 */
#include <arpa/inet.h>

#include <string.h>

#include "addr.h"
#include "sentinel.h"

int
sentinel_v4(size_t entry, struct in_addr *out)
{
	if (entry >= SENTINEL_ENTRIES_MAX)
		return -1;
	out->s_addr = htonl(SENTINEL_NET | (uint32_t)(entry + 1));
	return 0;
}

int
sentinel_v6(size_t entry, struct in6_addr *out)
{
	struct in_addr v4;

	if (sentinel_v4(entry, &v4) != 0)
		return -1;
	addr_v4mapped(&v4, out);
	return 0;
}

int
sentinel_entry_v4(const struct in_addr *a, size_t nentries)
{
	uint32_t h = ntohl(a->s_addr), low;

	if ((h & SENTINEL_MASK) != SENTINEL_NET)
		return -1;
	low = h & ~SENTINEL_MASK;
	if (low == 0 || low > nentries || low > SENTINEL_ENTRIES_MAX)
		return -1;
	return (int)(low - 1);
}

int
sentinel_entry_v6(const struct in6_addr *a, size_t nentries)
{
	struct in_addr v4;

	if (!IN6_IS_ADDR_V4MAPPED(a))
		return -1;
	memcpy(&v4.s_addr, &a->s6_addr[12], 4);
	return sentinel_entry_v4(&v4, nentries);
}

int
sentinel_entry_sa(const struct sockaddr *sa, socklen_t len, size_t nentries,
    uint16_t *port)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	int entry;

	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(*sin)) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		entry = sentinel_entry_v4(&sin->sin_addr, nentries);
		if (entry >= 0 && port != NULL)
			*port = ntohs(sin->sin_port);
		return entry;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(*sin6)) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		entry = sentinel_entry_v6(&sin6->sin6_addr, nentries);
		if (entry >= 0 && port != NULL)
			*port = ntohs(sin6->sin6_port);
		return entry;
	}
	return -1;
}
