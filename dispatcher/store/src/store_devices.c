/* SPDX-License-Identifier: MIT */
/* The store's device presence: upserts from status messages, reads, and
 * target resolution by labels. */
#include "store_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/* ---- devices ---- */

int
store_device_put(void *ud, const struct device_rec *d)
{
	struct store *s = ud;
	int rc = store_tx_join_one(s, SYNC_NORMAL);
	if (rc < 0)
		return rc;
	sqlite3_stmt *st = store_stmt(s, S_DEVICE_PUT);
	store_bind_text(st, 1, d->id);
	sqlite3_bind_int(st, 2, d->online ? 1 : 0);
	store_bind_text(st, 3, d->boot_id);
	store_bind_text(st, 4, d->agent);
	store_bind_u64(st, 5, d->last_seen);
	store_bind_u64(st, 6, d->status_at);
	store_bind_text(st, 7, d->labels_json ? d->labels_json : "{}");
	store_bind_text(st, 8, d->actions_json ? d->actions_json : "[]");
	store_bind_text(st, 9, d->health_json);
	store_bind_text(st, 10, d->status);
	return store_tx_leave(s, store_run(s, S_DEVICE_PUT, "device_put"));
}

static int
store_device_row(sqlite3_stmt *st, void *out)
{
	struct device_rec *d = out;
	int rc = 0;

	memset(d, 0, sizeof *d);
	store_col_copy(st, 0, d->id, sizeof d->id);
	d->online = sqlite3_column_int(st, 1) != 0;
	store_col_copy(st, 2, d->boot_id, sizeof d->boot_id);
	store_col_copy(st, 3, d->agent, sizeof d->agent);
	d->last_seen = store_col_u64(st, 4);
	d->status_at = store_col_u64(st, 5);
	d->labels_json = store_col_dup(st, 6, &rc);
	d->actions_json = store_col_dup(st, 7, &rc);
	d->health_json = store_col_dup(st, 8, &rc);
	d->status = store_col_dup(st, 9, &rc);
	if (rc < 0)
		device_rec_fini(d);
	return rc;
}

int
store_device_get(void *ud, const char *id, struct device_rec *out)
{
	return store_get(ud, S_DEVICE_GET, id, "device_get", store_device_row,
			 out, sizeof *out);
}

int
store_device_list(void *ud, struct device_list *out)
{
	struct store *s = ud;
	void *v = NULL;
	int rc = store_rows(s, store_stmt(s, S_DEVICE_LIST), "device_list",
			    sizeof *out->v, store_device_row, &v, &out->n);

	out->v = v;
	if (rc < 0)
		device_list_fini(out);
	return rc;
}

int
store_name_row(sqlite3_stmt *st, void *out)
{
	store_col_copy(st, 0, out, CMDBUS_NAME_BUF);
	return 0;
}

int
store_devices_match(void *ud, const char *labels_json, struct name_list *out)
{
	struct store *s = ud;
	sqlite3_stmt *st;
	void *v = NULL;
	int rc;

	if (labels_json) {
		st = store_stmt(s, S_DEVICES_MATCH);
		store_bind_text(st, 1, labels_json);
	} else {
		st = store_stmt(s, S_DEVICES_ALL);
	}
	rc = store_rows(s, st, "devices_match", sizeof *out->v, store_name_row,
			&v, &out->n);
	out->v = v;
	if (rc < 0)
		name_list_fini(out);
	return rc;
}
