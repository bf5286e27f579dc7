/* SPDX-License-Identifier: MIT */
/* The journal's index, shared by the journal's files: entries added,
 * resized and found again (see struct journal). */
#ifndef CMDBUS_AGENT_JOURNAL_INDEX_H
#define CMDBUS_AGENT_JOURNAL_INDEX_H

#include "journal.h"

/* Builds the table anew for v[0..n) with hcap slots: in place, so that
 * it cannot fail, when the size stays. 0 or -ENOMEM (the old table
 * kept). */
int index_rehash(struct journal *j, size_t hcap);
/* v resized to cap entries and the table to twice as many slots. 0 or
 * -ENOMEM; the old table still indexes v[0..n) on failure. */
int index_resize(struct journal *j, size_t cap);
/* Room for one more entry. 0 or -ENOMEM. */
int index_reserve(struct journal *j);
/* The entry of id, added (zeroed but for its id) when missing; NULL when
 * memory is short. Borrowed until the journal changes. */
struct journal_entry *index_get(struct journal *j, const char *id);
/* Replaces e's pending result by msg (owned from now; NULL: none),
 * keeping the count of pending results. */
void index_set_pending(struct journal *j, struct journal_entry *e, char *msg,
		       size_t len);

#endif
