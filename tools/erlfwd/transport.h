/*
 * transport: how the agent reaches erlfwd-server for a carrier, as
 * libevent's backends are chosen: one interface (open, read its errors,
 * stop, describe) and one implementation each:
 *
 *   transport_tcp     a TCP connection to a forwarded port (HOST:PORT);
 *   transport_socks5  the same through a SOCKS5 proxy, one CONNECT to
 *                     erlfwd-server's port on the remote host (?server=);
 *   transport_via     a command's stdin and stdout (--via; via.c).
 *
 * Each gives the agent a byte pipe, rfd and wfd (one socket, or two
 * pipes); the carrier's frames are the mux's business, not the
 * transport's.
 */
#ifndef ERLFWD_TRANSPORT_H
#define ERLFWD_TRANSPORT_H

#include <sys/types.h>

#include <stddef.h>

#include "config.h"

#define TRANSPORT_ERRLINE_MAX	1024

struct transport;

struct transport_ops {
	const char	*name;		/* "tcp", "socks5", "via" */
	/*
	 * open: make the byte pipe before the deadline (tio_now_ms()): set
	 * t->rfd and t->wfd, and t->errfd when there is a stream of
	 * diagnostics to watch.  Returns 0, or -1 with a one-line why.
	 */
	int	(*open)(struct transport *t, long deadline, char *why,
		    size_t cap);
	/*
	 * read_err (may be NULL): read what errfd has; returns 1 once it has
	 * ended (errfd closed and -1), else 0.
	 */
	int	(*read_err)(struct transport *t);
	/*
	 * stop: close what open made, rfd and wfd first; a command is
	 * given time to end by itself, then signalled and reaped.  Returns
	 * its wait status (0 where there is none).
	 */
	int	(*stop)(struct transport *t);
};

struct transport {
	const struct transport_ops *ops;
	const struct route	*route;		/* tcp, socks5 */
	const char		*command;	/* via */
	int			 debug;		/* via: every line of its stderr */
	int			 quiet;		/* via: its stderr not shown, the
						 * last line kept in quieted
						 * (while a session waits to
						 * resume: tries every 2 s) */
	char			 quieted[160];
	int			 rfd, wfd, errfd;
	pid_t			 pid;		/* via: the command */
	char			 errline[TRANSPORT_ERRLINE_MAX];
	size_t			 errlen;
};

extern const struct transport_ops transport_tcp;
extern const struct transport_ops transport_socks5;
extern const struct transport_ops transport_via;

/*
 * transport_init: t for --via command (when not NULL), else for route r:
 * SOCKS5 routes through the proxy, the rest straight to the port.
 */
void	transport_init(struct transport *t, const struct route *r,
	    const char *command, int debug);

/* transport_open, transport_read_err, transport_stop: t->ops's, or 0. */
int	transport_open(struct transport *t, long deadline, char *why,
	    size_t cap);
int	transport_read_err(struct transport *t);
int	transport_stop(struct transport *t);

/*
 * transport_describe: where t goes, for people: "--via" or the route's
 * text (no password), into buf (cap bytes).  Returns buf.
 */
const char *transport_describe(const struct transport *t, char *buf,
	    size_t cap);

#endif /* ERLFWD_TRANSPORT_H */
