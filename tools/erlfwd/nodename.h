/*
 * nodename: Erlang node names as the erlfwd command handles them: split
 * NAME@HOST, tell short names from long ones, and name the local node so that
 * the library never mistakes it for the remote host.  Pure: no I/O.
 */
#ifndef ERLFWD_NODENAME_H
#define ERLFWD_NODENAME_H

#include <stddef.h>

#define NODENAME_MAX	256	/* a part, including the NUL */

struct nodename {
	char	name[NODENAME_MAX];	/* before '@' */
	char	host[NODENAME_MAX];	/* after '@'; "" when not given */
};

/*
 * nodename_parse: split text ("app" or "app@host") into n.  Returns 0, or -1
 * when a part is empty, too long or has characters a node name cannot have
 * (the host must also be usable as an ERLFWD_HOSTS pattern: letters, digits,
 * '.', '-' and '_').
 */
int	nodename_parse(struct nodename *n, const char *text);

/*
 * nodename_is_long: 1 when host calls for -name (it has a dot, as in
 * web.1, app.example.com or 127.0.0.1), 0 for -sname.
 */
int	nodename_is_long(const char *host);

/*
 * nodename_local: the local node's name for talking to a remote host: prefix
 * and pid ("remsh-4242"), with "@127.0.0.1" for long names.  A short name
 * takes this machine's host name (erl adds it).  127.0.0.1 is never captured
 * by the library unless it is the remote host's own pattern, and then the
 * local node only uses it as its name: it registers with the local epmd by
 * address.  Returns 0, or -1 when buf (cap bytes) is too small.
 */
int	nodename_local(char *buf, size_t cap, const char *prefix, long pid,
	    int longnames);

/*
 * nodename_remote_host: 0 when host, a name the other side sent (the host
 * name in an INFO reply), may serve as the remote host's ERLFWD_HOSTS
 * pattern: a plain host name (letters, digits, '.', '-', '_'; no glob, no
 * '=' or ',' that would add a route or an entry), not an IPv4 literal, not
 * localhost, and not this machine's own name self (nor its first label, nor
 * the reverse).  -1 otherwise: whatever answers the forwarded port must not
 * be able to send this machine's other traffic into the tunnel.
 */
int	nodename_remote_host(const char *host, const char *self);

/* nodename_join: "NAME@HOST" into buf; returns 0 or -1 when it does not fit. */
int	nodename_join(char *buf, size_t cap, const char *name, const char *host);

#endif /* ERLFWD_NODENAME_H */
