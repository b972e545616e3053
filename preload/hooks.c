/*
 * hooks.c: the only symbols liberlfwd.so exports.  Each hook asks whether the
 * call concerns a remote host; if not, it hands the call to libc untouched.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <string.h>

#include "cluster.h"
#include "confine.h"
#include "helper.h"
#include "libc.h"
#include "log.h"
#include "redirect.h"
#include "resolve.h"
#include "runtime.h"
#include "sentinel.h"

#define EXPORT	__attribute__((visibility("default")))

/* The result of the non-reentrant calls, one per thread as glibc does. */
#define STATIC_BUF	1024
static _Thread_local struct hostent tls_he;
static _Thread_local char tls_buf[STATIC_BUF];

/* 1 when fd is a stream socket; errno untouched. */
static int
is_stream(int fd)
{
	int type = 0, saved = errno;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
		type = 0;
	errno = saved;
	return type == SOCK_STREAM;
}

/* The cluster sentinel's slot of a socket address, its port in *port; or 0. */
static uint32_t
cluster_slot_sa(const struct sockaddr *sa, socklen_t len, uint16_t *port)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	if (sa == NULL || len < (socklen_t)sizeof(sa->sa_family))
		return 0;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(*sin)) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		*port = ntohs(sin->sin_port);
		return cluster_slot_v4(&sin->sin_addr);
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(*sin6)) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		*port = ntohs(sin6->sin6_port);
		return cluster_slot_v6(&sin6->sin6_addr);
	}
	return 0;
}

EXPORT int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct runtime *rt = runtime_get();
	uint16_t port = 0;
	uint32_t slot;
	int entry, err, saved = errno;

	if (!rt->active || rt->cfg.nentries == 0)
		return libc.connect(fd, sa, len);
	if ((entry = sentinel_entry_sa(sa, len, rt->cfg.nentries, &port)) >= 0) {
		if (!is_stream(fd))
			return libc.connect(fd, sa, len);
		err = redirect_connect(rt, fd, sa->sa_family, entry, port);
	} else if (rt->cluster && (slot = cluster_slot_sa(sa, len, &port)) != 0 &&
	    is_stream(fd))
		/* Only the local helper: the proxy is its business. */
		err = helper_connect(rt, fd, sa->sa_family, slot, port);
	else
		return libc.connect(fd, sa, len);
	/* The steps inside leave EINPROGRESS and the like behind. */
	errno = err != 0 ? err : saved;
	return err != 0 ? -1 : 0;
}

/* ERLFWD_BIND=loopback: see confine.h for the rule and why. */
EXPORT int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct runtime *rt = runtime_get();

	if (!rt->active || rt->cfg.bind_any)
		return libc.bind(fd, sa, len);
	return confine_bind(fd, sa, len);
}

EXPORT int
listen(int fd, int backlog)
{
	const struct runtime *rt = runtime_get();

	if (!rt->active || rt->cfg.bind_any)
		return libc.listen(fd, backlog);
	return confine_listen(fd, backlog);
}

/*
 * The IPv4 address name stands for (entry >= 0): the entry's sentinel, or
 * for a socks5h entry the one the cluster helper hands out.  Returns 0, or
 * ENOENT: no such name (the helper said so, or is not there).
 */
static int
where(const struct runtime *rt, int entry, const char *name,
    struct in_addr *v4)
{
	if (config_route(&rt->cfg, (size_t)entry)->kind == ROUTE_SOCKS5H)
		return helper_lookup(rt, name, v4);
	return sentinel_v4((size_t)entry, v4) == 0 ? 0 : ENOENT;
}

/* The shared body of the gethostbyname family; entry >= 0. */
static int
answer_r(const char *name, int af, int entry, struct hostent *ret, char *buf,
    size_t buflen, struct hostent **result, int *h_errnop)
{
	struct in_addr v4;
	int err = where(runtime_get(), entry, name, &v4);

	if (err == 0)
		err = resolve_hostent_v4(ret, buf, buflen, name, af, &v4);
	*result = err == 0 ? ret : NULL;
	*h_errnop = err == 0 ? 0 : err == ERANGE ? NETDB_INTERNAL :
	    err == ENOENT ? HOST_NOT_FOUND : NO_RECOVERY;
	/* glibc sets errno too, and callers that see NETDB_INTERNAL look
	 * there for ERANGE before they retry with a bigger buffer. */
	if (err != 0)
		errno = err;
	log_debug("resolve %s -> sentinel %d (%s)%s", name, entry,
	    af == AF_INET6 ? "inet6" : "inet", err != 0 ? " failed" : "");
	return err;
}

static struct hostent *
answer_static(const char *name, int af, int entry)
{
	struct hostent *res;
	int herr;

	if (answer_r(name, af, entry, &tls_he, tls_buf, sizeof(tls_buf), &res,
	    &herr) != 0) {
		h_errno = herr;
		return NULL;
	}
	return res;
}

EXPORT struct hostent *
gethostbyname(const char *name)
{
	const struct runtime *rt = runtime_get();
	int entry = runtime_match(rt, name);

	if (entry < 0)
		return libc.gethostbyname(name);
	return answer_static(name, AF_INET, entry);
}

EXPORT struct hostent *
gethostbyname2(const char *name, int af)
{
	const struct runtime *rt = runtime_get();
	int entry;

	if ((af != AF_INET && af != AF_INET6) ||
	    (entry = runtime_match(rt, name)) < 0)
		return libc.gethostbyname2(name, af);
	return answer_static(name, af, entry);
}

EXPORT int
gethostbyname_r(const char *name, struct hostent *ret, char *buf,
    size_t buflen, struct hostent **result, int *h_errnop)
{
	const struct runtime *rt = runtime_get();
	int entry = runtime_match(rt, name);

	if (entry < 0)
		return libc.gethostbyname_r(name, ret, buf, buflen, result,
		    h_errnop);
	return answer_r(name, AF_INET, entry, ret, buf, buflen, result,
	    h_errnop);
}

EXPORT int
gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf,
    size_t buflen, struct hostent **result, int *h_errnop)
{
	const struct runtime *rt = runtime_get();
	int entry;

	if ((af != AF_INET && af != AF_INET6) ||
	    (entry = runtime_match(rt, name)) < 0)
		return libc.gethostbyname2_r(name, af, ret, buf, buflen, result,
		    h_errnop);
	return answer_r(name, af, entry, ret, buf, buflen, result, h_errnop);
}

/*
 * A sentinel resolves back to its pattern when that is a plain name; a glob
 * stands for many names, so its sentinels have none.
 */
EXPORT struct hostent *
gethostbyaddr(const void *addr, socklen_t len, int type)
{
	const struct runtime *rt = runtime_get();
	int entry = -1;

	if (rt->active)
		entry = resolve_addr_entry(addr, len, type, rt->cfg.nentries);
	if (entry < 0)
		return libc.gethostbyaddr(addr, len, type);
	if (rt->cfg.entries[entry].is_glob) {
		h_errno = HOST_NOT_FOUND;
		return NULL;
	}
	return answer_static(rt->cfg.entries[entry].pattern, type, entry);
}

/*
 * Let libc build the answer from the sentinel's numeric form, so that the
 * caller's freeaddrinfo() frees what libc allocated.
 */
EXPORT int
getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	const struct runtime *rt = runtime_get();
	struct addrinfo h;
	struct in_addr v4;
	char text[INET6_ADDRSTRLEN];
	int entry, af, rc;

	if (node == NULL ||
	    (hints != NULL && (hints->ai_flags & AI_NUMERICHOST)) ||
	    (entry = runtime_match(rt, node)) < 0)
		return libc.getaddrinfo(node, service, hints, res);
	af = hints != NULL ? hints->ai_family : AF_UNSPEC;
	if (af != AF_INET && af != AF_INET6 && af != AF_UNSPEC)
		return libc.getaddrinfo(node, service, hints, res);
	if (hints != NULL)
		h = *hints;
	else {
		memset(&h, 0, sizeof(h));
		h.ai_flags = AI_V4MAPPED | AI_ADDRCONFIG;
	}
	/* AI_ADDRCONFIG ignores loopback, where every sentinel lives. */
	h.ai_flags = (h.ai_flags | AI_NUMERICHOST) & ~AI_ADDRCONFIG;
	if (where(rt, entry, node, &v4) != 0) {
		log_debug("resolve %s: no such name (cluster helper)", node);
		return EAI_NONAME;
	}
	if (resolve_v4_text(text, sizeof(text),
	    af == AF_INET6 ? AF_INET6 : AF_INET, &v4) != 0)
		return EAI_FAIL;
	log_debug("resolve %s -> %s (getaddrinfo)", node, text);
	if ((rc = libc.getaddrinfo(text, service, &h, res)) != 0)
		return rc;
	/* AI_CANONNAME: the name asked for, not the sentinel's text. */
	if ((h.ai_flags & AI_CANONNAME) &&
	    resolve_canonname(*res, node) != 0) {
		freeaddrinfo(*res);
		*res = NULL;
		return EAI_MEMORY;
	}
	return 0;
}

EXPORT int
getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
    socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
	const struct runtime *rt = runtime_get();
	const char *name;
	size_t namelen;
	int entry, rc;

	if (!rt->active || host == NULL || hostlen == 0 ||
	    (flags & NI_NUMERICHOST) ||
	    (entry = sentinel_entry_sa(sa, salen, rt->cfg.nentries, NULL)) < 0)
		return libc.getnameinfo(sa, salen, host, hostlen, serv,
		    servlen, flags);
	if (rt->cfg.entries[entry].is_glob) {
		if (flags & NI_NAMEREQD)
			return EAI_NONAME;
		return libc.getnameinfo(sa, salen, host, hostlen, serv,
		    servlen, flags | NI_NUMERICHOST);
	}
	name = rt->cfg.entries[entry].pattern;
	namelen = strlen(name);
	if (namelen >= hostlen)
		return EAI_OVERFLOW;
	if (serv != NULL && servlen > 0 &&
	    (rc = libc.getnameinfo(sa, salen, NULL, 0, serv, servlen,
	    flags)) != 0)
		return rc;
	memcpy(host, name, namelen + 1);
	return 0;
}
