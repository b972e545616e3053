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
	t->clock = 0;
	t->quota = NAMES_QUOTA;
	t->max = NAMES_MAX;
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
static struct names_entry *
by_slot(const struct names *t, uint32_t slot)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->e[i].slot == slot)
			return &t->e[i];
	return NULL;
}

/*
 * The least recently used entry no connection holds, among uid's when
 * mine is set, else among all; NULL when there is none.
 */
static struct names_entry *
victim(const struct names *t, int mine, uid_t uid)
{
	struct names_entry *v = NULL;
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (t->e[i].refs != 0 || (mine && t->e[i].owner != uid))
			continue;
		if (v == NULL || t->e[i].used < v->used)
			v = &t->e[i];
	}
	return v;
}

uint32_t
names_slot(struct names *t, const char *name, uid_t uid, int *fresh,
    char evicted[CLUSTER_NAME_MAX + 1], enum names_why *why)
{
	struct names_entry *e = NULL;
	size_t i, len = strlen(name), mine = 0;
	uint32_t slot;

	*fresh = 0;
	*why = NAMES_OK;
	evicted[0] = '\0';
	if (!cluster_name_valid(name, len)) {
		*why = NAMES_INVALID;
		return 0;
	}
	for (i = 0; i < t->n; i++) {
		if (strcasecmp(t->e[i].name, name) == 0) {
			t->e[i].used = ++t->clock;
			return t->e[i].slot;
		}
		mine += t->e[i].owner == uid;
	}
	if (mine >= t->quota && (e = victim(t, 1, uid)) == NULL) {
		*why = NAMES_QUOTA_HELD;
		return 0;
	}
	if (e == NULL && t->n >= t->max && (e = victim(t, 0, uid)) == NULL) {
		*why = NAMES_FULL;
		return 0;
	}
	if (e != NULL) {
		/* Replaced in place (held names never move); its slot is
		 * free for the probe below. */
		memcpy(evicted, e->name, strlen(e->name) + 1);
		e->slot = 0;
	} else
		(e = &t->e[t->n++])->slot = 0;
	/* At most NAMES_MAX are taken, far fewer than the slots: this ends. */
	for (slot = cluster_slot_hint(name); by_slot(t, slot) != NULL;
	    slot = slot == CLUSTER_SLOT_MAX ? 1 : slot + 1)
		;
	e->slot = slot;
	e->refs = 0;
	e->owner = uid;
	e->used = ++t->clock;
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

const char *
names_hold(struct names *t, uint32_t slot)
{
	struct names_entry *e = by_slot(t, slot);

	if (e == NULL)
		return NULL;
	e->refs++;
	e->used = ++t->clock;
	return e->name;
}

void
names_release(struct names *t, uint32_t slot)
{
	struct names_entry *e = by_slot(t, slot);

	if (e != NULL && e->refs > 0)
		e->refs--;
}
