/* SPDX-License-Identifier: MIT */
/* The in-memory table of execution ids this process has seen, so that a
 * QoS 1 duplicate is answered from memory and never runs twice. It is
 * bounded in entries and in stored bytes; across restarts the on-disk
 * journal (a later milestone) takes its place. */
#ifndef CMDBUS_AGENT_SEEN_H
#define CMDBUS_AGENT_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdbus/proto.h"

enum seen_state {
	SEEN_FREE,	/* slot unused */
	SEEN_ACTIVE,	/* accepted, not finished: msg is the latest report */
	SEEN_DONE,	/* finished: msg is the result, byte for byte */
	SEEN_FORGOTTEN, /* finished, result dropped to stay in budget */
};

struct seen_entry {
	char id[CMDBUS_ID_BUF];
	enum seen_state state;
	uint64_t seq; /* insertion order, for eviction */
	char *msg;    /* owned envelope text, or NULL */
	size_t len;
};

struct seen {
	struct seen_entry *v;
	size_t cap;
	uint64_t seq;
	size_t bytes;  /* sum of msg lengths held */
	size_t budget; /* most bytes of messages kept */
};

/* 0 or -ENOMEM. cap >= 1 entries; budget in bytes. */
int seen_init(struct seen *s, size_t cap, size_t budget);
void seen_fini(struct seen *s);

/* The entry for id, or NULL. Borrowed until the table changes. */
struct seen_entry *seen_find(struct seen *s, const char *id);

/* A new ACTIVE entry for id (which must not be present), evicting the
 * oldest finished entry when full; NULL when every slot is active. */
struct seen_entry *seen_add(struct seen *s, const char *id);

/* Stores a copy of msg in e, DONE when `done`, and drops the stored
 * results of the oldest other finished entries while over budget.
 * 0 or -ENOMEM (e keeps its previous message). */
int seen_set(struct seen *s, struct seen_entry *e, const char *msg, size_t len,
	     bool done);

/* Counts entries in a state. */
size_t seen_count(const struct seen *s, enum seen_state st);

#endif
