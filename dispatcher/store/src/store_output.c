/* SPDX-License-Identifier: MIT */
/* Live output chunks: stored as they come, in the pass's group commit,
 * a duplicate seq or a chunk past the per-stream cap left out; read back
 * by seq for the output view and its followers. */
#include "store_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
store_output_put(void *ud, const char *exec, bool is_stderr, uint64_t seq,
		 const void *data, size_t len, bool *stored)
{
	struct store *s = ud;

	*stored = false;
	if (len > STORE_OUTPUT_CAP)
		return 0;
	/* A chunk lost to a power cut is in the result anyway. */
	int rc = store_tx_join_one(s, SYNC_NORMAL);
	if (rc < 0)
		return rc;
	sqlite3_stmt *st = store_stmt(s, S_OUTPUT_PUT);
	store_bind_text(st, 1, exec);
	store_bind_u64(st, 2, is_stderr ? 1 : 0);
	store_bind_u64(st, 3, seq);
	/* A zero-length blob must not bind as NULL (NOT NULL column). */
	sqlite3_bind_blob(st, 4, len ? data : "", (int)len, SQLITE_STATIC);
	store_bind_u64(st, 5, STORE_OUTPUT_CAP);
	rc = store_run(s, S_OUTPUT_PUT, "output_put");
	if (rc == 0)
		*stored = sqlite3_changes(s->db) == 1;
	return store_tx_leave(s, rc);
}

static int
chunk_row(sqlite3_stmt *st, void *out)
{
	struct chunk_rec *c = out;
	const void *d = sqlite3_column_blob(st, 1);
	int n = sqlite3_column_bytes(st, 1);

	c->seq = store_col_u64(st, 0);
	c->data.len = n > 0 ? (size_t)n : 0;
	/* NUL-terminated, as struct cmdbus_bytes promises. */
	c->data.data = malloc(c->data.len + 1);
	if (!c->data.data)
		return -ENOMEM;
	if (c->data.len)
		memcpy(c->data.data, d, c->data.len);
	c->data.data[c->data.len] = '\0';
	return 0;
}

int
store_output_get(void *ud, const char *exec, bool is_stderr, uint64_t from,
		 struct chunk_list *out)
{
	struct store *s = ud;
	sqlite3_stmt *st = store_stmt(s, S_OUTPUT_GET);
	void *v = NULL;

	out->v = NULL;
	out->n = 0;
	store_bind_text(st, 1, exec);
	store_bind_u64(st, 2, is_stderr ? 1 : 0);
	store_bind_u64(st, 3, from);
	int rc = store_rows(s, st, "output_get", sizeof *out->v, chunk_row, &v,
			    &out->n);
	out->v = v;
	if (rc < 0)
		chunk_list_fini(out);
	return rc;
}
