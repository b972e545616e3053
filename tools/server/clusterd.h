/*
 * clusterd: erlfwd-server --cluster, the cluster helper beside a node whose
 * peers are reached through an overlay's SOCKS5 proxy by their host names
 * (socks5h:// routes; the protocol and the sentinels are cluster.h).
 *
 * It listens on 127.0.0.1 only and serves the preload of the processes on
 * this host: a LOOKUP gets the name's sentinel (for names that match its
 * routes, and no others); an EPMD or DIST request for a sentinel gets a
 * SOCKS5 CONNECT to that name and port through the route's proxy, run in
 * this one event loop while the caller's connect has long returned, then
 * the bytes relayed both ways.  A proxy that refuses, fails or stays silent
 * past the setup timeout ends the stream with a reset and one log line
 * with the proxy's reply code.  A name that is this host's own (its host
 * name, one given with --self: the name the overlay knows it by, or the
 * host part of a node registered in the local epmd: selfnames.h) gets
 * 127.0.0.1, never a sentinel: it must not leave the host through the
 * proxy, which may not even reach the host itself.  It is a process of its
 * own, apart from the remote-shell listener: neither's policy can leak into
 * the other's.
 */
#ifndef ERLFWD_CLUSTERD_H
#define ERLFWD_CLUSTERD_H

#include <stdint.h>

#include "config.h"

#define CLUSTERD_SELF_MAX	16	/* --self names */

struct clusterd_opts {
	struct config	cfg;		/* every entry has a socks5h route */
	int		max_conns;
	int		setup_timeout_ms; /* request, proxy connect, CONNECT */
	int		idle_ms;	/* a relay quiet both ways this long
					 * is closed; 0: never */
	int		linger_ms;	/* a half-closed relay quiet this
					 * long is closed; 0: never */
	int		copy;		/* 1: never splice(2) */
	uint16_t	epmd_port;	/* this host's epmd: its nodes' names */
	const char	*self[CLUSTERD_SELF_MAX + 1];	/* --self names, NULL-ended */
};

/*
 * clusterd_check: whether cfg is a cluster helper's configuration: at least
 * one entry, each with its own socks5h route.  Returns 0 or -1 with a
 * message in err.
 */
int	clusterd_check(const struct config *cfg, char *err, size_t errlen);

/*
 * clusterd_run: serve on 127.0.0.1:(the routes' helper port) until SIGTERM
 * or SIGINT.  Returns 0 after a clean stop, 1 when it could not start
 * (reported on stderr).
 */
int	clusterd_run(const struct clusterd_opts *o);

#endif /* ERLFWD_CLUSTERD_H */
