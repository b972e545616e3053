/*
 * addr: address arithmetic the preload needs in more than one place.  Pure
 * functions; no I/O.
 */
#ifndef ERLFWD_ADDR_H
#define ERLFWD_ADDR_H

#include <netinet/in.h>

/*
 * addr_v4mapped: v4 as the IPv4-mapped IPv6 address ::ffff:a.b.c.d (RFC
 * 4291, 2.5.5.2) in *out, the form an AF_INET6 socket uses for IPv4.
 */
void	addr_v4mapped(const struct in_addr *v4, struct in6_addr *out);

#endif /* ERLFWD_ADDR_H */
