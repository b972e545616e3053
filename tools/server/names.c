/*
 * names.c: the cluster helper's name <-> sentinel table (names.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "names.h"

int
names_init(struct names *t)
{
	t->n = 0;
	t->e = calloc(NAMES_MAX, sizeof(*t->e));
	return t->e != NULL ? 0 : -1;
}

void
names_free(struct names *t)
{
	free(t->e);
	t->e = NULL;
	t->n = 0;
}

/* The entry holding slot, or NULL; a few thousand at most: a plain scan. */
static const struct names_entry *
by_slot(const struct names *t, uint32_t slot)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->e[i].slot == slot)
			return &t->e[i];
	return NULL;
}

uint32_t
names_slot(struct names *t, const char *name, int *fresh)
{
	struct names_entry *e;
	size_t i, len = strlen(name);
	uint32_t slot;

	*fresh = 0;
	if (!cluster_name_valid(name, len))
		return 0;
	for (i = 0; i < t->n; i++)
		if (strcasecmp(t->e[i].name, name) == 0)
			return t->e[i].slot;
	if (t->n == NAMES_MAX)
		return 0;
	/* At most NAMES_MAX are taken, far fewer than the slots: this ends. */
	for (slot = cluster_slot_hint(name); by_slot(t, slot) != NULL;
	    slot = slot == CLUSTER_SLOT_MAX ? 1 : slot + 1)
		;
	e = &t->e[t->n++];
	e->slot = slot;
	for (i = 0; i <= len; i++)
		e->name[i] = name[i] >= 'A' && name[i] <= 'Z' ?
		    (char)(name[i] - 'A' + 'a') : name[i];
	*fresh = 1;
	return slot;
}

const char *
names_name(const struct names *t, uint32_t slot)
{
	const struct names_entry *e = by_slot(t, slot);

	return e != NULL ? e->name : NULL;
}
