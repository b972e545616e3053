/*
 * resolve: answers for names that stand for remote hosts, in the shapes the
 * resolver functions return.  The answers are sentinels (sentinel.h).
 */
#ifndef ERLFWD_RESOLVE_H
#define ERLFWD_RESOLVE_H

#include <sys/socket.h>
#include <netinet/in.h>

#include <netdb.h>
#include <stddef.h>

/*
 * resolve_hostent: fill he, with its strings and arrays in buf (buflen
 * bytes), for name as entry's sentinel of family af (AF_INET or AF_INET6).
 * Returns 0, ERANGE when buf is too small, or EAFNOSUPPORT.
 */
int	resolve_hostent(struct hostent *he, char *buf, size_t buflen,
	    const char *name, int af, int entry);

/*
 * resolve_hostent_v4: the same for the IPv4 address *v4 (IPv4-mapped when af
 * is AF_INET6): a cluster sentinel the helper handed out.
 */
int	resolve_hostent_v4(struct hostent *he, char *buf, size_t buflen,
	    const char *name, int af, const struct in_addr *v4);

/*
 * resolve_v4_text: *v4 as numeric text of family af (IPv4-mapped for
 * AF_INET6) in buf (INET6_ADDRSTRLEN bytes).  Returns 0 or -1.
 */
int	resolve_v4_text(char *buf, size_t buflen, int af,
	    const struct in_addr *v4);

/*
 * resolve_sentinel_text: entry's sentinel of family af as numeric text in
 * buf (INET6_ADDRSTRLEN bytes).  Returns 0 or -1.
 */
int	resolve_sentinel_text(char *buf, size_t buflen, int af, int entry);

/*
 * resolve_addr_entry: the entry that the address addr (len bytes, family af)
 * stands for, or -1.
 */
int	resolve_addr_entry(const void *addr, size_t len, int af, size_t nentries);

/*
 * resolve_canonname: put name in place of the canonical name of getaddrinfo's
 * answer ai (its first entry carries it, when AI_CANONNAME was asked for);
 * the sentinel's numeric text is no name the caller asked about.  ai's old
 * name is freed, the new one malloc'd, as freeaddrinfo() expects.  Returns
 * 0 (also when ai has no canonical name), or -1 when out of memory (ai is
 * left as it was).
 */
int	resolve_canonname(struct addrinfo *ai, const char *name);

#endif /* ERLFWD_RESOLVE_H */
