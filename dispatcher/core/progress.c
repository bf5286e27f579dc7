/* SPDX-License-Identifier: MIT */
/* Progress coalescing (progress.h): an open-addressing table of the
 * pass's pending progress by execution id, written into the group commit
 * by progress_flush. A change is told to the observer after the commit
 * as before (window_note); only its write waits for the pass's end. */
#include "progress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "lifecycle.h"
#include "window.h"

struct pending {
	bool used;
	char id[CMDBUS_ID_BUF];
	enum cmdbus_state stored; /* what the write starts from */
	enum cmdbus_state state;  /* what it writes */
	uint64_t at;		  /* of the last change */
	uint64_t published_at;	  /* 0: not known to have gone out */
	char boot_id[CMDBUS_ID_BUF];
};

struct progress_tab {
	struct pending *v;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

static uint32_t
hash_id(const char *id)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return h;
}

static struct pending *
find(struct progress_tab *t, const char *id)
{
	if (!t || t->n == 0)
		return NULL;
	for (size_t i = hash_id(id) & (t->cap - 1);;
	     i = (i + 1) & (t->cap - 1)) {
		struct pending *p = &t->v[i];
		if (!p->used)
			return NULL;
		if (strcmp(p->id, id) == 0)
			return p;
	}
}

/* Room for one more at a load of at most one half. */
static int
reserve(struct progress_tab *t)
{
	if ((t->n + 1) * 2 <= t->cap)
		return 0;
	size_t ncap = t->cap ? t->cap * 2 : 256;
	struct pending *nv = calloc(ncap, sizeof *nv);
	if (!nv)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->v[i].used)
			continue;
		size_t j = hash_id(t->v[i].id) & (ncap - 1);
		while (nv[j].used)
			j = (j + 1) & (ncap - 1);
		nv[j] = t->v[i];
	}
	free(t->v);
	t->v = nv;
	t->cap = ncap;
	return 0;
}

/* The entry of id, made when missing; NULL without memory. */
static struct pending *
get(struct core *c, const char *id, enum cmdbus_state stored)
{
	struct progress_tab *t = c->progress;
	if (!t && !(t = c->progress = calloc(1, sizeof *t)))
		return NULL;
	struct pending *p = find(t, id);
	if (p)
		return p;
	if (reserve(t) < 0)
		return NULL;
	size_t i = hash_id(id) & (t->cap - 1);
	while (t->v[i].used)
		i = (i + 1) & (t->cap - 1);
	p = &t->v[i];
	memset(p, 0, sizeof *p);
	p->used = true;
	memcpy(p->id, id, strnlen(id, sizeof p->id - 1));
	p->stored = p->state = stored;
	t->n++;
	return p;
}

/* Removes an entry, moving the ones after it in its cluster back so that
 * every lookup still finds them. */
static void
erase(struct progress_tab *t, struct pending *p)
{
	size_t i = (size_t)(p - t->v);
	t->v[i].used = false;
	t->n--;
	for (size_t j = (i + 1) & (t->cap - 1); t->v[j].used;
	     j = (j + 1) & (t->cap - 1)) {
		struct pending moved = t->v[j];
		t->v[j].used = false;
		size_t k = hash_id(moved.id) & (t->cap - 1);
		while (t->v[k].used)
			k = (k + 1) & (t->cap - 1);
		t->v[k] = moved;
	}
}

void
progress_view(struct core *c, struct exec_rec *e)
{
	struct pending *p = find(c->progress, e->id);
	if (!p)
		return;
	if (p->stored != e->state) {
		/* The store moved on since the entry was made (an assumed
		 * QUEUED that was not, or a change by someone else): the
		 * write starts from what it holds, and a pending state it
		 * has overtaken is dropped. */
		p->stored = e->state;
		if (lifecycle_decide(e->state, p->state) != LC_APPLY)
			p->state = e->state;
	}
	e->state = p->state;
	if (!e->published_at)
		e->published_at = p->published_at;
	if (p->boot_id[0])
		memcpy(e->boot_id, p->boot_id, sizeof e->boot_id);
}

/* Whether writes may wait for the pass's end: only inside a group commit
 * that the pass will commit. */
static bool
coalescing(struct core *c)
{
	/* Joined already (ingest joins for every message): nothing to
	 * toggle, and leaving here would end the caller's join. */
	if (window_joined(c))
		return true;
	bool ok = window_join(c);
	window_leave(c);
	return ok;
}

int
progress_note(struct core *c, const struct exec_rec *e,
	      enum cmdbus_state stored, enum cmdbus_state to, uint64_t at,
	      bool published, const char *boot_id)
{
	if (!coalescing(c))
		return -ERR_UNAVAILABLE;
	struct pending *p = get(c, e->id, stored);
	if (!p)
		return -ENOMEM;
	p->state = to;
	p->at = at;
	if (published && !p->published_at)
		p->published_at = e->published_at ? e->published_at : at;
	if (boot_id && boot_id[0])
		memcpy(p->boot_id, boot_id,
		       strnlen(boot_id, sizeof p->boot_id - 1));
	return 0;
}

int
progress_published(struct core *c, const char *id, uint64_t at)
{
	if (!coalescing(c))
		return -ERR_UNAVAILABLE;
	struct pending *p = find(c->progress, id);
	if (!p) {
		/* Assumed QUEUED; progress_view or the write's compare-and-
		 * set corrects that when the store says otherwise. */
		if (!(p = get(c, id, CMDBUS_STATE_QUEUED)))
			return -ENOMEM;
		p->state = CMDBUS_STATE_PUBLISHED;
		p->at = at;
	}
	if (!p->published_at)
		p->published_at = at;
	return 0;
}

void
progress_drop(struct core *c, const char *id)
{
	struct pending *p = find(c->progress, id);
	if (p)
		erase(c->progress, p);
}

void
progress_flush(struct core *c)
{
	struct progress_tab *t = c->progress;
	if (!t || t->n == 0)
		return;
	window_join(c);
	for (size_t i = 0; i < t->cap; i++) {
		struct pending *p = &t->v[i];
		if (!p->used)
			continue;
		p->used = false;
		if (p->state == p->stored)
			continue;
		struct exec_change chg = {
		    .id = p->id,
		    .from = p->stored,
		    .to = p->state,
		    .at = p->at,
		    .published = p->published_at != 0,
		    .published_at = p->published_at,
		    .boot_id = p->boot_id[0] ? p->boot_id : NULL,
		};
		int rc = c->store.exec_change(c->store.ud, &chg);
		/* A conflict: it moved on meanwhile (an end, a cancel), and
		 * that stands. */
		if (rc < 0 && rc != -ERR_CONFLICT && rc != -ERR_NOT_FOUND) {
			c->stats.store_errors++;
			log_error("exec.store_failed",
				  "exec=%s what=progress rc=%s", p->id,
				  err_str(rc));
		}
	}
	window_leave(c);
	t->n = 0;
}

void
progress_fini(struct core *c)
{
	if (!c->progress)
		return;
	free(c->progress->v);
	free(c->progress);
	c->progress = NULL;
}
