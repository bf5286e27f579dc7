/* SPDX-License-Identifier: MIT */
/* The seen-table as a flat array scanned linearly: a few thousand short
 * ids compare in microseconds, and a flat array has no rehashing or
 * deletion corner cases to get wrong. */
#include "seen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
seen_init(struct seen *s, size_t cap, size_t budget)
{
	memset(s, 0, sizeof(*s));
	if (cap < 1)
		cap = 1;
	s->v = calloc(cap, sizeof(*s->v));
	if (!s->v)
		return -ENOMEM;
	s->cap = cap;
	s->budget = budget;
	return 0;
}

void
seen_fini(struct seen *s)
{
	if (!s->v)
		return;
	for (size_t i = 0; i < s->cap; i++)
		free(s->v[i].msg);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

struct seen_entry *
seen_find(struct seen *s, const char *id)
{
	for (size_t i = 0; i < s->cap; i++) {
		struct seen_entry *e = &s->v[i];
		if (e->state != SEEN_FREE && strcmp(e->id, id) == 0)
			return e;
	}
	return NULL;
}

static void
entry_clear(struct seen *s, struct seen_entry *e)
{
	if (e->msg) {
		s->bytes -= e->len;
		free(e->msg);
	}
	e->msg = NULL;
	e->len = 0;
}

struct seen_entry *
seen_add(struct seen *s, const char *id)
{
	struct seen_entry *pick = NULL;
	size_t n = strlen(id);

	if (n >= sizeof(pick->id))
		return NULL;
	for (size_t i = 0; i < s->cap; i++) {
		struct seen_entry *e = &s->v[i];
		if (e->state == SEEN_FREE) {
			pick = e;
			break;
		}
		/* Running entries are never evicted: their id must stay
		 * known until the result is out. */
		if (e->state == SEEN_ACTIVE)
			continue;
		if (!pick || e->seq < pick->seq)
			pick = e;
	}
	if (!pick)
		return NULL;
	entry_clear(s, pick);
	memcpy(pick->id, id, n + 1);
	pick->state = SEEN_ACTIVE;
	pick->seq = ++s->seq;
	return pick;
}

static struct seen_entry *
oldest_done(struct seen *s, const struct seen_entry *except)
{
	struct seen_entry *pick = NULL;

	for (size_t i = 0; i < s->cap; i++) {
		struct seen_entry *e = &s->v[i];
		if (e == except || e->state != SEEN_DONE || !e->msg)
			continue;
		if (!pick || e->seq < pick->seq)
			pick = e;
	}
	return pick;
}

int
seen_set(struct seen *s, struct seen_entry *e, const char *msg, size_t len,
	 bool done)
{
	char *copy = malloc(len + 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, msg, len);
	copy[len] = '\0';
	entry_clear(s, e);
	e->msg = copy;
	e->len = len;
	s->bytes += len;
	if (done)
		e->state = SEEN_DONE;
	while (s->bytes > s->budget) {
		struct seen_entry *old = oldest_done(s, e);
		if (!old)
			break;
		entry_clear(s, old);
		old->state = SEEN_FORGOTTEN;
	}
	return 0;
}

size_t
seen_count(const struct seen *s, enum seen_state st)
{
	size_t n = 0;

	for (size_t i = 0; i < s->cap; i++)
		n += s->v[i].state == st;
	return n;
}
