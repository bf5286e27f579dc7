/* SPDX-License-Identifier: MIT */
/* Human output of the CLI: aligned tables, the live progress line, and
 * times. Control bytes from the server are shown as '?', so that a
 * device's output cannot move the cursor of the operator's terminal. */
#ifndef CMDBUS_CLI_RENDER_H
#define CMDBUS_CLI_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TABLE_MAX_COLS 8

/* Rows of copied cells; printed with each column as wide as its widest
 * cell (the last column is never padded). */
struct table {
	size_t ncols, nrows;
	char **cells; /* nrows * ncols, owned */
	int err;      /* -ENOMEM, sticky */
};
void table_init(struct table *t, size_t ncols);
/* Adds one row of ncols strings (NULL shows as "-"), copied. */
void table_row(struct table *t, const char *const *cells);
void table_print(const struct table *t, FILE *f);
void table_fini(struct table *t);

/* The text of s up to its first newline (or max bytes), control bytes as
 * '?'; the caller frees. NULL on ENOMEM. */
char *render_first_line(const char *s, size_t max);

/* A millisecond Unix time as "2026-11-21 07:44:29" (UTC), "-" for 0. */
void render_time(uint64_t ms, char *buf, size_t len);

struct progress {
	uint64_t total, done, succeeded, failed, offline;
	uint64_t elapsed_ms;
	/* The job's rollout, when it has one: its phase ("canary",
	 * "rolling", "done", "aborted") and the batch in progress. */
	const char *phase;
	uint64_t batch;
	bool utf8; /* the terminal takes UTF-8: '·' between the parts */
};
/* The progress line's text, without any control sequence, e.g.
 * "batch 3 · 12/40 done · 10 ok · 1 failed · 1 offline · 4.2s". */
void progress_text(const struct progress *p, char *buf, size_t len);
/* Redraws the one progress line in place (\r, erase to end of line). */
void progress_draw(const struct progress *p, FILE *f);
/* Erases the progress line. */
void progress_clear(FILE *f);

#endif
