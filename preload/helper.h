/*
 * helper: the preload's side of the cluster helper (cluster.h): ask it
 * which sentinel stands for a name, and open a stream to a cluster host
 * through it.  Both are one local connection to 127.0.0.1: the proxy, and
 * anything slow behind it, is the helper's business, never the caller's.
 */
#ifndef ERLFWD_HELPER_H
#define ERLFWD_HELPER_H

#include <netinet/in.h>

#include <stdint.h>

#include "runtime.h"

/* How long a LOOKUP may take at most (less when ERLFWD_TIMEOUT_MS is). */
#define HELPER_LOOKUP_MS	1000

/*
 * helper_lookup: the sentinel the helper hands out for name, in *out, or
 * 127.0.0.1 when the helper says name is this host's own.  Returns 0, or ENOENT when there is none: the helper said "no such name",
 * is not running (said once per process), or did not answer in time.  A
 * lookup fails closed: never an address the helper did not give.
 */
int	helper_lookup(const struct runtime *rt, const char *name,
	    struct in_addr *out);

/*
 * helper_connect: connect fd (a TCP socket of family af) to the helper and
 * ask it for the cluster host behind slot, on the local epmd port (EPMD) or
 * port (DIST).  Waits only for that local connect and a 14-byte write,
 * whatever fd's O_NONBLOCK says, and leaves fd's flags as they were; the
 * proxy's answer reaches the caller as its bytes, or as the stream's end.
 * Returns 0 or a positive errno (ECONNREFUSED: no helper).
 */
int	helper_connect(const struct runtime *rt, int fd, int af, uint32_t slot,
	    uint16_t port);

#endif /* ERLFWD_HELPER_H */
