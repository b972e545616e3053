/*
 * policy: what erlfwd-server lets through and what it says about the host,
 * as pure functions of what it knows (server.c asks them; check_policy
 * tests them).  A DIST stream reaches only a port the host's epmd lists
 * (server.c checks that first); then never the server's own port nor
 * epmd's, and never a port whose listener is another uid's.
 */
#ifndef ERLFWD_POLICY_H
#define ERLFWD_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "frame_info.h"

/*
 * policy_dist: the refusal for a DIST stream to port, once epmd lists it:
 * "own-port", "epmd-port", "other-uid" (owner: a procnet.h verdict), or
 * NULL when it may go on.  A port whose owner cannot be told is let
 * through: the tables are unreadable, and epmd lists it.
 */
const char *policy_dist(uint16_t port, uint16_t own_port, uint16_t epmd_port,
	    int owner);

/*
 * policy_info: the INFO answer into fi: version, host, epmd's port, and
 * from epmd's NAMES text (names, len; NULL: epmd is down) its nodes, as
 * many as fit.  Returns the lines of the text that are no node's (counted
 * in fi->skipped too, at most 65535).
 */
size_t	policy_info(struct frame_info *fi, const char *version,
	    const char *host, uint16_t epmd_port, const char *names,
	    size_t len);

#endif /* ERLFWD_POLICY_H */
