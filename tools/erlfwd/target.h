/*
 * target: which of the remote host's nodes a command is about, from the
 * node list of its INFO reply and the NODE the user gave (if any).  Pure.
 */
#ifndef ERLFWD_TARGET_H
#define ERLFWD_TARGET_H

#include <stddef.h>

#include "frame_info.h"
#include "nodename.h"

enum target_pick {
	TARGET_OK = 0,		/* *index is the node */
	TARGET_NONE,		/* no node is registered */
	TARGET_MANY,		/* several, and no NODE given */
	TARGET_MISSING,		/* NODE's name is not registered */
};

/*
 * target_pick: the node named by given (NULL: none given) in fi, or the only
 * one.  Returns an enum target_pick; *index is set with TARGET_OK.
 */
int	target_pick(const struct frame_info *fi, const struct nodename *given,
	    size_t *index);

/*
 * target_list: "app (port 4242), worker (port 4343)" into buf (cap bytes),
 * cut with "..." when it does not fit; "none" for no nodes.  Returns buf.
 */
const char *target_list(char *buf, size_t cap, const struct frame_info *fi);

#endif /* ERLFWD_TARGET_H */
