/*
 * confine: ERLFWD_BIND=loopback, the rule that keeps the program's TCP
 * listeners (the node's distribution port, the epmd it starts) off the
 * network without touching its client sockets.
 *
 * A bind cannot be undone, and at bind time a socket does not say whether it
 * will listen or connect.  So the rule is decided where the role is known:
 *   - bind(wildcard, port 0) on a TCP socket binds nothing and succeeds; the
 *     socket stays unbound, as if the call had not been made.  A connect then
 *     lets the kernel pick the source address for the destination (what the
 *     wildcard asked for), a listen is caught below.  OTP's socket backend
 *     (gen_tcp_socket, 24+) binds every client socket this way.
 *   - listen() on an unbound TCP socket (which the kernel would bind to the
 *     wildcard) first binds it to loopback, port 0.
 *   - bind(wildcard, port N != 0) binds loopback, port N: a fixed port is
 *     what listeners ask for (epmd's 4369, inet_dist_listen_min), and a
 *     client that wants a fixed source port on the wildcard is rare enough
 *     to be told to use ERLFWD_BIND=any.
 * The one thing a program can see: getsockname() between the deferred bind
 * and the listen or connect reports port 0, not an ephemeral port.
 *
 * Only SOCK_STREAM sockets of AF_INET and AF_INET6 are concerned; everything
 * else goes to libc untouched.  errno is left as it was on success.
 */
#ifndef ERLFWD_CONFINE_H
#define ERLFWD_CONFINE_H

#include <sys/socket.h>

/*
 * confine_bind: bind(2) under the rule.  Returns what bind(2) returns, with
 * errno set as bind(2) sets it.
 */
int	confine_bind(int fd, const struct sockaddr *sa, socklen_t len);

/*
 * confine_listen: listen(2) under the rule.  Returns what listen(2) returns;
 * when the loopback bind fails, -1 with that bind's errno (EADDRINUSE when
 * no port is left, EADDRNOTAVAIL when the loopback has no such address).
 */
int	confine_listen(int fd, int backlog);

#endif /* ERLFWD_CONFINE_H */
