/*
 * frame_info: the body of erlfwd-server's INFO reply (frame.h), text, one
 * "key=value" per line:
 *
 *   version=0.1.0          the server's version
 *   host=web.1             the remote host's name
 *   epmd_port=4369         its epmd's port
 *   epmd=up | down         whether that epmd answered
 *   node=NAME PORT         one line per node epmd lists
 *
 * The server writes it, the erlfwd command reads it; the preload never
 * does, so it lives with the tools.  Pure functions on buffers.
 */
#ifndef ERLFWD_FRAME_INFO_H
#define ERLFWD_FRAME_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define FRAME_INFO_BODY_MAX	24576	/* an INFO reply's text: the largest fits */

/* The INFO reply, decoded.  Sizes bound what a hostile server can make us hold. */
#define FRAME_INFO_NODES_MAX	64
#define FRAME_INFO_NAME_MAX	256	/* including the NUL */

struct frame_info_node {
	char		name[FRAME_INFO_NAME_MAX];
	uint16_t	port;
};

struct frame_info {
	char			version[32];
	char			host[FRAME_INFO_NAME_MAX];
	uint16_t		epmd_port;
	int			epmd_up;	/* 1 when the host's epmd answered */
	size_t			nnodes;
	struct frame_info_node	nodes[FRAME_INFO_NODES_MAX];
	uint16_t		skipped;	/* names epmd listed that are
						 * not nodes': "skipped=N" */
};

/*
 * frame_info_format: write fi as an INFO body (text) into buf of cap bytes,
 * which must leave room for a terminating NUL.  A node that the parser would
 * refuse (a control byte or a space in its name, an empty name, a port 0)
 * is left out and counted in "skipped=N", with fi->skipped: one odd name
 * registered with epmd must not stop INFO for everyone.  Returns the body's
 * length, FRAME_ESPACE, or FRAME_EFIELD when the version or host has a
 * control byte or the epmd port is 0.
 */
int	frame_info_format(char *buf, size_t cap, const struct frame_info *fi);

/*
 * frame_info_parse: parse an INFO body of len bytes into out.  Unknown keys
 * are skipped so that newer servers stay readable.  Returns 0, or
 * FRAME_EFIELD for a malformed line, an oversized value or too many nodes.
 */
int	frame_info_parse(const char *body, size_t len, struct frame_info *out);

#endif /* ERLFWD_FRAME_INFO_H */
