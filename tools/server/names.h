/*
 * names: the cluster helper's table of host names and their sentinels
 * (cluster.h), the one place that says which sentinel stands for which
 * name.  A name gets a slot the first time it is asked for and keeps it for
 * the table's lifetime: its hashed hint (cluster_slot_hint) when free, else
 * the next free one, so no two names ever share a slot and a restarted
 * helper asked for the same names gives them the same sentinels.  Names are
 * kept in lower case (host names ignore case).  No I/O.
 */
#ifndef ERLFWD_NAMES_H
#define ERLFWD_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"

#define NAMES_MAX	4096	/* names one helper hands sentinels to */

struct names_entry {
	uint32_t	slot;
	char		name[CLUSTER_NAME_MAX + 1];
};

struct names {
	size_t			 n;
	struct names_entry	*e;	/* NAMES_MAX of them, allocated once */
};

/* names_init: an empty table.  Returns 0, or -1 when out of memory. */
int	names_init(struct names *t);

/* names_free: release the table. */
void	names_free(struct names *t);

/*
 * names_slot: name's slot, given it now when it has none.  Returns the slot,
 * or 0 when name is not a host name (cluster_name_valid) or the table is
 * full.  *fresh is 1 when the slot was given now.
 */
uint32_t names_slot(struct names *t, const char *name, int *fresh);

/* names_name: the name slot stands for, or NULL. */
const char *names_name(const struct names *t, uint32_t slot);

#endif /* ERLFWD_NAMES_H */
