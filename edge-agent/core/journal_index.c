/* SPDX-License-Identifier: MIT */
/* The journal's index: its entries in one array, found through an open
 * addressing hash table over their ids, so that a lookup costs the same
 * however many ids are remembered; and the count of results waiting for
 * a durable write. */
#include "journal_index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a over the id: ids are short, and ULIDs that share their time
 * prefix still spread over the whole table. */
static uint32_t
id_hash(const char *id)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return h;
}

/* Puts v[i] into the table, which has a free slot. */
static void
slot_insert(struct journal *j, size_t i)
{
	size_t mask = j->hcap - 1, k = id_hash(j->v[i].id) & mask;

	while (j->slot[k])
		k = (k + 1) & mask;
	j->slot[k] = (uint32_t)(i + 1);
}

/* Builds the table anew for v[0..n) with hcap slots: in place when the
 * size stays, so that it cannot fail then. */
int
index_rehash(struct journal *j, size_t hcap)
{
	if (hcap != j->hcap) {
		uint32_t *t = calloc(hcap, sizeof(*t));
		if (!t)
			return -ENOMEM;
		free(j->slot);
		j->slot = t;
		j->hcap = hcap;
	} else if (hcap) {
		memset(j->slot, 0, hcap * sizeof(*j->slot));
	}
	for (size_t i = 0; i < j->n; i++)
		slot_insert(j, i);
	return 0;
}

/* v and the table resized to cap entries and twice as many slots (the
 * table at most half full keeps probes short). */
int
index_resize(struct journal *j, size_t cap)
{
	struct journal_entry *v;

	if (cap > UINT32_MAX / 2)
		return -ENOMEM;
	v = realloc(j->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	j->v = v;
	j->cap = cap;
	/* On failure the old table still indexes v[0..n): only its size
	 * did not change. */
	return index_rehash(j, cap * 2);
}

struct journal_entry *
journal_find(struct journal *j, const char *id)
{
	size_t mask, k;

	if (j->hcap == 0)
		return NULL;
	mask = j->hcap - 1;
	for (k = id_hash(id) & mask; j->slot[k]; k = (k + 1) & mask) {
		struct journal_entry *e = &j->v[j->slot[k] - 1];
		if (strcmp(e->id, id) == 0)
			return e;
	}
	return NULL;
}

/* Room for one more entry, in v and in the table. */
int
index_reserve(struct journal *j)
{
	if (j->n == j->cap)
		return index_resize(j, j->cap ? j->cap * 2 : 64);
	if (j->hcap < 2 * j->cap)
		return index_rehash(j,
				    2 * j->cap); /* an earlier resize failed */
	return 0;
}

struct journal_entry *
index_get(struct journal *j, const char *id)
{
	struct journal_entry *e = journal_find(j, id);

	if (e)
		return e;
	if (index_reserve(j) != 0)
		return NULL;
	e = &j->v[j->n];
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", id);
	slot_insert(j, j->n++);
	return e;
}

void
index_set_pending(struct journal *j, struct journal_entry *e, char *msg,
		  size_t len)
{
	if (!e->pending && msg)
		j->npending++;
	else if (e->pending && !msg)
		j->npending--;
	free(e->pending);
	e->pending = msg;
	e->pending_len = msg ? len : 0;
}

void
journal_drop_pending(struct journal *j, struct journal_entry *e)
{
	index_set_pending(j, e, NULL, 0);
}
