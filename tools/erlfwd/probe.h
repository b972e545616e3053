/*
 * probe: reach a node's distribution port through the tunnel, as the preload
 * would (a DIST preamble), and run the distribution handshake far enough to
 * learn the node's own name, or all the way to prove a cookie.  No BEAM is
 * started; the node sees a hidden peer that leaves.
 */
#ifndef ERLFWD_PROBE_H
#define ERLFWD_PROBE_H

#include <stdint.h>

#include "config.h"
#include "dist.h"
#include "versions.h"

enum probe_status {
	PROBE_OK = 0,		/* the node answered (and took the cookie) */
	PROBE_TUNNEL,		/* no connection to the tunnel */
	PROBE_CLOSED,		/* closed before the node said a word: the
				 * server refused the port or could not reach
				 * it */
	PROBE_TIMEOUT,		/* no answer in time */
	PROBE_REFUSED,		/* the node answered with a status that is not
				 * ok (in status) */
	PROBE_GARBLED,		/* bytes that are not the handshake */
	PROBE_COOKIE,		/* the node closed after our digest, or its
				 * digest was wrong: the cookies differ */
	PROBE_LOCAL,		/* a local failure (errno) */
};

struct probe_result {
	enum probe_status	status;
	int			err;		/* errno, when there is one */
	char			status_text[32];	/* PROBE_REFUSED */
	char			node[DIST_NAME_MAX];	/* the node's name, once
							 * it sent its challenge */
	long			elapsed_ms;
};

/*
 * probe_node: through route r, reach the node listening on port on the
 * remote host; introduce ourselves as self (NAME@HOST).  With cookie NULL,
 * stop after the node's challenge; else finish the handshake with it.  All
 * within timeout_ms.  Returns 0, or -1 with res->status set.
 */
int	probe_node(const struct route *r, uint16_t port, const char *self,
	    const char *cookie, int timeout_ms, struct probe_result *res);

/*
 * probe_versions: as probe_node with a cookie, then ask the node for its OTP
 * release (erlang:system_info(otp_release)) and its Elixir version
 * (application:get_key(elixir, vsn); "" when not loaded) into v, all within timeout_ms.  The node sees
 * a hidden node that calls rex twice and leaves.  Returns 0, or -1 with
 * res->status set (PROBE_GARBLED when the answers are not what rex sends).
 */
int	probe_versions(const struct route *r, uint16_t port, const char *self,
	    const char *cookie, int timeout_ms, struct probe_result *res,
	    struct versions *v);

#endif /* ERLFWD_PROBE_H */
