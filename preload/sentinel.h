/*
 * sentinel: the addresses that stand for remote hosts.
 *
 * Configuration entry i maps to 127.239.0.(i + 1), and on AF_INET6 to the
 * IPv4-mapped ::ffff:127.239.0.(i + 1).  The mapping depends on the entry's
 * index alone, so every process that parsed the same ERLFWD_HOSTS (beam.smp
 * and its inet_gethost child) agrees without sharing state, and the addresses
 * sit in 127.0.0.0/8: without the library, a connect to one fails on this
 * machine and never leaves it.  Pure functions; no I/O.
 */
#ifndef ERLFWD_SENTINEL_H
#define ERLFWD_SENTINEL_H

#include <sys/socket.h>
#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

#define SENTINEL_NET		0x7fef0000u	/* 127.239.0.0 */
#define SENTINEL_MASK		0xffffff00u
#define SENTINEL_ENTRIES_MAX	254

/* sentinel_v4: entry's IPv4 sentinel in *out; returns 0, or -1 when out of range. */
int	sentinel_v4(size_t entry, struct in_addr *out);

/* sentinel_v6: entry's IPv4-mapped IPv6 sentinel, or -1 when out of range. */
int	sentinel_v6(size_t entry, struct in6_addr *out);

/*
 * sentinel_entry_v4 / _v6: the entry an address stands for, or -1 when it is
 * not a sentinel of one of nentries entries.
 */
int	sentinel_entry_v4(const struct in_addr *a, size_t nentries);
int	sentinel_entry_v6(const struct in6_addr *a, size_t nentries);

/*
 * sentinel_entry_sa: the same for a socket address of len bytes (AF_INET or
 * AF_INET6); stores its port in host order in *port when not NULL.
 */
int	sentinel_entry_sa(const struct sockaddr *sa, socklen_t len,
	    size_t nentries, uint16_t *port);

#endif /* ERLFWD_SENTINEL_H */
