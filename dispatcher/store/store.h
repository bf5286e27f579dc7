/* SPDX-License-Identifier: MIT */
/* The dispatcher's SQLite store: the source of truth for jobs,
 * executions and device presence. It implements the core's store port.
 * Single-threaded: use it from the event loop only. */
#ifndef DISPATCHER_STORE_H
#define DISPATCHER_STORE_H

#include <stddef.h>

#include "ports.h"

#define STORE_SCHEMA_VERSION 6

struct store;

/* Opens the database at `path` (created when missing; ":memory:" for
 * tests), switches it to WAL and brings its schema to the current
 * version. 0, or a negative code with a sentence in err. *out is the
 * caller's to close with store_close(). */
int store_open(const char *path, struct store **out, char *err, size_t errlen);
/* Finalises every statement and closes the database. NULL is a no-op. */
void store_close(struct store *s);

/* Fills the port with this store's functions (ud = s). */
void store_port(struct store *s, struct store_port *out);

/* The schema version recorded in the database (PRAGMA user_version), or
 * a negative code. */
int store_schema_version(struct store *s);
/* How many checkpoints of the write-ahead log copied pages into the
 * database so far. A store on a file checkpoints from a thread of its own
 * every 250 ms, never in the caller's commits; one in memory does not. */
unsigned long store_checkpoints(const struct store *s);

/* A read snapshot (ud = the store): the reads until store_snapshot_end()
 * share one read transaction instead of one each. For a run of
 * read-only requests; the caller ends it before anything may write, and
 * before the loop goes on. 0 when begun; -EBUSY when a transaction is
 * open already (the reads then go through it, as they would anyway), or
 * a store failure. */
int store_snapshot_begin(void *ud);
void store_snapshot_end(void *ud);

#endif
