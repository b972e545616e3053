/*
 * agent: the client end of a carrier (mux.h), for the erlfwd command.  It
 * listens on 127.0.0.1 (an ephemeral port) for the preload's version 1
 * connections, exactly as erlfwd-server accepts them, and carries each as a
 * stream of one carrier to erlfwd-server:
 *
 *   - through a forwarded port (a route HOST:PORT),
 *   - through a SOCKS5 proxy, one CONNECT to erlfwd-server's port on the
 *     remote host (socks5://...?server=PORT),
 *   - or over the stdin and stdout of a command (--via 'COMMAND': run with
 *     sh -c; `erlfwd-server --stdio` at the far end).
 *
 * It keeps the carrier alive (PING every ping_ms) and, when it is lost,
 * ends the streams open at that moment and reconnects with backoff (1, 2,
 * 4 ... 30 s); one line on stderr per loss and per recovery.  Connections
 * that arrive while it is down wait for it up to timeout_ms.  It opens
 * fewer streams at once than the server's hello says it takes (a margin of
 * one in 16): past that, connections wait up to timeout_ms for a stream to
 * end, in order, with one line on stderr each time the cap is reached.
 */
#ifndef ERLFWD_AGENT_H
#define ERLFWD_AGENT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "mux.h"

#define AGENT_PING_MS		15000	/* under HTTP routers' 55 s idle */
#define AGENT_DEAD_PINGS	3
/* While streams are open: a carrier lost under a shell is noticed within
 * 3 x 2 s of its last PING answered, for 30 PINGs a minute (16 bytes each, and
 * as many PONGs). */
#define AGENT_BUSY_PING_MS	2000
#define AGENT_VIA_START_MS	90000	/* heroku run:inside takes 12-51 s */
#define AGENT_BACKOFF_MAX_S	30
/* A lost carrier's session is resumed for as long as erlfwd-server keeps
 * it (--resume-window, 60 s by default, in line with net_ticktime; its
 * hello says window=MS), and a little more; past that, its connections
 * end at once (the local node sees nodedown as the remote one did), and
 * the next carrier starts afresh. */
#define AGENT_RESUME_MS		65000	/* a server that says no window */
#define AGENT_RESUME_SLACK_MS	5000	/* past the window it says */
#define AGENT_RESUME_BACKOFF_S	2

struct agent_opts {
	const char		*via;		/* a command, or NULL */
	const struct route	*route;		/* else this route */
	int			 timeout_ms;	/* connects and waits */
	int			 ping_ms;
	int			 busy_ping_ms;
	int			 dead_pings;
	int			 debug;		/* every line of the command's
						 * stderr, not only warnings */
};

/* What agent_start() found. */
enum agent_result {
	AGENT_UP = 0,		/* running: *port and *pid are set */
	AGENT_V1 = 1,		/* the server speaks only version 1: no agent */
	AGENT_FAILED = -1,	/* err says why, *status is an exit status */
};

/*
 * agent_start: fork an agent that lives as long as this process (or the
 * program it execs) and wait until its first carrier is up.  Returns
 * AGENT_UP with its port and pid, AGENT_V1 (*status 1 when the route took
 * the connection and then gave no carrier, 0 when it refused it), or
 * AGENT_FAILED with a one-line message in err (errlen bytes), the erlfwd
 * exit status in *status and why the carrier ended in *cause.
 */
enum agent_result agent_start(const struct agent_opts *o, uint16_t *port,
	    pid_t *pid, char *err, size_t errlen, int *status,
	    enum mux_end_cause *cause);

/*
 * agent_run: the agent in this process, in the foreground, until SIGINT or
 * SIGTERM; once its first carrier is up it prints
 * "ERLFWD_TUNNEL=127.0.0.1:PORT" on stdout.  Returns an exit status.
 */
int	agent_run(const struct agent_opts *o);

#endif /* ERLFWD_AGENT_H */
