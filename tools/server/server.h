/*
 * server: erlfwd-server's event loop.  One thread, one epoll set: accept,
 * read each client's preamble, then relay it to the host's epmd (lookups
 * only) or to a node's port that epmd lists, or answer INFO.
 */
#ifndef ERLFWD_SERVER_H
#define ERLFWD_SERVER_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define SERVER_ALLOW_MAX	64
#define SERVER_IDLE_MS		600000	/* above any distribution tick */
#define SERVER_LINGER_MS	30000

struct server_opts {
	struct sockaddr_storage	listen;
	socklen_t		listen_len;
	char			listen_text[ROUTE_TEXT_MAX];
	uint16_t		epmd_port;
	uint16_t		allow[SERVER_ALLOW_MAX];	/* --allow-port */
	size_t			nallow;
	int			max_conns;
	int			setup_timeout_ms;	/* preamble to relay */
	int			idle_ms;	/* a relay quiet both ways this
						 * long is closed; 0: never */
	int			linger_ms;	/* a half-closed relay quiet
						 * this long is closed; 0: never */
	int			copy;		/* 1: never splice(2) */
	int			stdio;		/* 1: one carrier on stdin/out */
	int			carrier_idle_ms; /* end a carrier silent so long */
	int			resume_ms;	/* keep a lost carrier's session
						 * so long (0: offer no resume) */
	int			keeper_fd;	/* >= 0: be the keeper of --stdio
						 * sessions (keeper.h), taking
						 * them on this Unix listener */
};

/*
 * server_run: serve until SIGTERM or SIGINT (with stdio, until the carrier on
 * stdin and stdout ends).  Returns 0 after a clean stop,
 * or 1 when the server could not start (reported on stderr).
 */
int	server_run(const struct server_opts *o);

#endif /* ERLFWD_SERVER_H */
