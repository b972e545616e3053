/*
 * procnet: who owns a TCP socket on this host, from /proc/net/tcp and
 * /proc/net/tcp6 (Linux; elsewhere the tables are missing and there is no
 * verdict).  erlfwd-server relays a DIST stream only to a port whose
 * listener runs under the server's own uid (the uid the nodes beside it
 * run as), so that a process of another user on the host cannot offer its
 * port (a database, an agent) through epmd; the erlfwd agent serves only
 * local connections of its own user.
 */
#ifndef ERLFWD_PROCNET_H
#define ERLFWD_PROCNET_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

enum procnet_verdict {
	PROCNET_UNKNOWN = 0,	/* the tables cannot be read: no verdict */
	PROCNET_SAME = 1,	/* nothing of another uid listens there */
	PROCNET_OTHER = 2,	/* a listener of another uid */
};

/* One socket of the tables. */
struct procnet_sock {
	uint16_t	port;		/* local */
	uint16_t	rport;		/* remote (0 for a listener) */
	uid_t		uid;
	int		listening;	/* state 0A */
};

/*
 * procnet_line: parse one line of /proc/net/tcp or tcp6 (len bytes, no
 * newline).  Returns 1 with *s, or 0 for a line that is not a socket's
 * (the header).
 */
int	procnet_line(const char *line, size_t len, struct procnet_sock *s);

/*
 * procnet_peer_uid: the uid of the local process at the other end of fd, a
 * TCP connection accepted on 127.0.0.1: the kernel's sock_diag answer for
 * that one socket (netlink, no table to read), else procnet_conn_owner()
 * on /proc/net.  Returns 0 with *uid, or -1 when neither can tell.
 */
int	procnet_peer_uid(int fd, uid_t *uid);

/*
 * procnet_conn_owner: the uid of the connected socket whose local port is
 * port and remote port rport (a local client of ours: its port, ours),
 * from dir's "tcp" and "tcp6".  Returns 0 with *uid, or -1 when no such
 * socket is listed or the tables cannot be read.
 */
int	procnet_conn_owner(const char *dir, uint16_t port, uint16_t rport,
	    uid_t *uid);

/*
 * procnet_port_owner: whether a socket listening on port (any address)
 * belongs to another uid than self, reading dir's "tcp" and "tcp6"
 * ("/proc/net" in use; a test's directory otherwise).  Returns an enum
 * procnet_verdict: PROCNET_UNKNOWN only when neither table can be read.
 */
int	procnet_port_owner(const char *dir, uint16_t port, uid_t self);

#endif /* ERLFWD_PROCNET_H */
