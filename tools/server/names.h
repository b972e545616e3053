/*
 * names: the cluster helper's table of host names and their sentinels
 * (cluster.h), the one place that says which sentinel stands for which
 * name.  A name gets a slot the first time it is asked for: its hashed hint
 * (cluster_slot_hint) when free, else the next free one, so no two names
 * ever share a slot and a helper asked for the same names gives them the
 * same sentinels.  Names are kept in lower case (host names ignore case).
 *
 * The table is bounded (NAMES_MAX) and so is each asker's share of it: the
 * names a uid brought in (NAMES_QUOTA at most).  A new name past either
 * bound takes the place of the least recently used name that no live
 * connection holds (names_hold): the asker's own past its quota, anyone's
 * when the table is full.  So one process that asks for thousands of names
 * churns through its own share and never locks the host's other peers
 * out; a name in use is never given away under a connection.  No I/O.
 */
#ifndef ERLFWD_NAMES_H
#define ERLFWD_NAMES_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "cluster.h"

#define NAMES_MAX	4096	/* names one helper hands sentinels to */
#define NAMES_QUOTA	1024	/* names one uid brings in, at most */

struct names_entry {
	uint32_t	slot;
	uint32_t	refs;		/* live connections that use it */
	uid_t		owner;		/* the uid that brought it in */
	uint64_t	used;		/* the table's clock when last asked */
	char		name[CLUSTER_NAME_MAX + 1];
};

struct names {
	size_t			 n;
	size_t			 quota;	/* NAMES_QUOTA; lower in tests */
	size_t			 max;	/* NAMES_MAX; likewise */
	uint64_t		 clock;
	struct names_entry	*e;	/* NAMES_MAX of them, allocated once */
};

/* Why names_slot() gave no slot. */
enum names_why {
	NAMES_OK = 0,
	NAMES_INVALID,		/* not a host name (cluster_name_valid) */
	NAMES_FULL,		/* full, every name held by a connection */
	NAMES_QUOTA_HELD,	/* the uid's share full and all of it held */
};

/* names_init: an empty table.  Returns 0, or -1 when out of memory. */
int	names_init(struct names *t);

/* names_free: release the table. */
void	names_free(struct names *t);

/*
 * names_slot: name's slot, given it now (for uid) when it has none, in the
 * place of an unheld name when a bound is reached.  Returns the slot, or 0
 * with *why set.  *fresh is 1 when the slot was given now; *evicted then
 * holds the name it replaced ("" when none).
 */
uint32_t names_slot(struct names *t, const char *name, uid_t uid, int *fresh,
	    char evicted[CLUSTER_NAME_MAX + 1], enum names_why *why);

/* names_name: the name slot stands for, or NULL. */
const char *names_name(const struct names *t, uint32_t slot);

/*
 * names_hold / names_release: a connection starts or stops using slot's
 * name; a held name is never replaced.  names_hold returns the name (it
 * stays put while held), or NULL when slot stands for none.
 */
const char *names_hold(struct names *t, uint32_t slot);
void	names_release(struct names *t, uint32_t slot);

#endif /* ERLFWD_NAMES_H */
