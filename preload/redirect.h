/*
 * redirect: send a connect aimed at a sentinel to its route instead, on the
 * caller's own socket, and open the stream with the preamble that says where
 * it is going.
 */
#ifndef ERLFWD_REDIRECT_H
#define ERLFWD_REDIRECT_H

#include <sys/socket.h>

#include <stdint.h>

#include "runtime.h"

/*
 * redirect_connect: connect fd (a TCP socket of family af) to the route of
 * configuration entry `entry` and write the preamble for `port`, the port the
 * caller asked for on the sentinel: the local epmd port becomes EPMD, any
 * other DIST(port).  Waits at most the configured timeout, whatever fd's
 * O_NONBLOCK says, and leaves fd's flags as they were.
 *
 * Returns 0 when the stream is ready, or a positive errno: ECONNREFUSED when
 * nothing answers on the route (reported on stderr once per process),
 * ETIMEDOUT when it does not answer in time, EAFNOSUPPORT for an IPv6 route
 * on an IPv4 socket, or what the kernel said.
 */
int	redirect_connect(const struct runtime *rt, int fd, int af, int entry,
	    uint16_t port);

/*
 * redirect_local: connect fd (family af) to r's address, a local one, and
 * write the prelen bytes of pre, within timeout_ms, whatever fd's
 * O_NONBLOCK says; fd's flags are left as they were.  Returns 0 or a
 * positive errno.
 */
int	redirect_local(const struct route *r, int fd, int af,
	    const uint8_t *pre, size_t prelen, int timeout_ms);

#endif /* ERLFWD_REDIRECT_H */
