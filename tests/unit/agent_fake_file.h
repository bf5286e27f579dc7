/* SPDX-License-Identifier: MIT */
/* A journal file in memory for tests: it keeps apart what was synced
 * (what survives a crash) and can fail any write, sync, truncation or
 * replacement, the Nth or all of them. */
#ifndef CMDBUS_TEST_AGENT_FAKE_FILE_H
#define CMDBUS_TEST_AGENT_FAKE_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "journal.h"

struct ff {
	char *data;
	size_t len, cap;
	size_t durable; /* bytes synced: what survives a crash */
	int calls;	/* append, sync, truncate and replace calls */
	int fail_at;	/* the call (from 1) that fails; 0: none */
	bool fail_all;	/* every call fails: a full or read-only disk */
};

/* The io over f (ud is f). */
struct journal_io ff_io(struct ff *f);
/* Appends bytes as they are, outside the io (for building files). */
void ff_put(struct ff *f, const void *p, size_t n);
/* A crash: what was not synced is gone. */
void ff_crash(struct ff *f);
/* A copy of the durable bytes only. */
void ff_durable_copy(const struct ff *f, struct ff *out);
void ff_free(struct ff *f);

#endif
