/*
 * target.c: pick the node (target.h).
 */
#include <stdio.h>
#include <string.h>

#include "target.h"

int
target_pick(const struct frame_info *fi, const struct nodename *given,
    size_t *index)
{
	size_t i;

	if (given != NULL) {
		for (i = 0; i < fi->nnodes; i++)
			if (strcmp(fi->nodes[i].name, given->name) == 0) {
				*index = i;
				return TARGET_OK;
			}
		return TARGET_MISSING;
	}
	if (fi->nnodes == 0)
		return TARGET_NONE;
	if (fi->nnodes > 1)
		return TARGET_MANY;
	*index = 0;
	return TARGET_OK;
}

const char *
target_list(char *buf, size_t cap, const struct frame_info *fi)
{
	size_t i, off = 0;
	int n;

	if (cap == 0)
		return buf;
	buf[0] = '\0';
	if (fi->nnodes == 0) {
		snprintf(buf, cap, "none");
		return buf;
	}
	for (i = 0; i < fi->nnodes; i++) {
		n = snprintf(buf + off, cap - off, "%s%s (port %u)",
		    i > 0 ? ", " : "", fi->nodes[i].name,
		    (unsigned)fi->nodes[i].port);
		if (n < 0 || (size_t)n >= cap - off) {
			/* Cut at a boundary we can still mark. */
			if (cap >= 4)
				strcpy(buf + (off + 4 <= cap ? off : cap - 4),
				    "...");
			break;
		}
		off += (size_t)n;
	}
	return buf;
}
