/* SPDX-License-Identifier: MIT */
/* Request bodies built with cmdbus_jsonw (the --args object copied node
 * by node from its parsed form) and job views read with cmdbus_jsonv. */
#include "rest_req.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/jsonv.h"

/* Copies a parsed value into the writer. Covers what action arguments
 * hold: objects, arrays, strings, non-negative integers and booleans. */
static int
copy_node(struct cmdbus_jsonw *w, const char *key, const struct cmdbus_jnode *n,
	  int depth)
{
	int64_t iv;
	bool bv;

	if (depth > 16)
		return -EINVAL;
	switch (cmdbus_jnode_type(n)) {
	case CMDBUS_JOBJECT:
	case CMDBUS_JARRAY: {
		bool obj = cmdbus_jnode_type(n) == CMDBUS_JOBJECT;
		if (obj)
			cmdbus_jsonw_obj_begin(w, key);
		else
			cmdbus_jsonw_arr_begin(w, key);
		for (size_t i = 0; i < cmdbus_jnode_len(n); i++) {
			const struct cmdbus_jnode *c = cmdbus_jnode_at(n, i);
			int rc = copy_node(w, obj ? cmdbus_jnode_key(c) : NULL,
					   c, depth + 1);
			if (rc)
				return rc;
		}
		if (obj)
			cmdbus_jsonw_obj_end(w);
		else
			cmdbus_jsonw_arr_end(w);
		return 0;
	}
	case CMDBUS_JSTRING: {
		size_t len = 0;
		const char *s = cmdbus_jnode_str(n, &len);
		if (!s || strlen(s) != len)
			return -EINVAL;
		cmdbus_jsonw_str(w, key, s);
		return 0;
	}
	case CMDBUS_JNUMBER:
		if (cmdbus_jnode_int(n, &iv) != 0 || iv < 0)
			return -EINVAL;
		cmdbus_jsonw_u64(w, key, (uint64_t)iv);
		return 0;
	case CMDBUS_JBOOL:
		if (cmdbus_jnode_bool(n, &bv) != 0)
			return -EINVAL;
		cmdbus_jsonw_bool(w, key, bv);
		return 0;
	default:
		return -EINVAL;
	}
}

static int
add_args(struct cmdbus_jsonw *w, const struct lg_rest_opts *o)
{
	struct cmdbus_jsonv *doc = NULL;
	int rc;

	if (cmdbus_jsonv_parse(o->args_json, strlen(o->args_json), &doc, NULL,
			       0) != 0)
		return -EINVAL;
	rc = copy_node(w, "args", cmdbus_jsonv_root(doc), 0);
	cmdbus_jsonv_free(doc);
	return rc;
}

static int
finish(struct cmdbus_jsonw *w, int rc, char **out)
{
	size_t len;

	if (rc == 0)
		rc = cmdbus_jsonw_finish(w, out, &len);
	cmdbus_jsonw_free(w);
	return rc;
}

int
req_job_body(const struct lg_rest_opts *o, const char *device, char **out)
{
	struct cmdbus_jsonw *w = cmdbus_jsonw_new();
	int rc;

	if (!w)
		return -ENOMEM;
	cmdbus_jsonw_obj_begin(w, NULL);
	cmdbus_jsonw_obj_begin(w, "target");
	cmdbus_jsonw_arr_begin(w, "devices");
	cmdbus_jsonw_str(w, NULL, device);
	cmdbus_jsonw_arr_end(w);
	cmdbus_jsonw_obj_end(w);
	cmdbus_jsonw_str(w, "action", o->action);
	rc = add_args(w, o);
	cmdbus_jsonw_u64(w, "timeout_ms", o->timeout_ms);
	cmdbus_jsonw_obj_end(w);
	return finish(w, rc, out);
}

int
req_call_body(const struct lg_rest_opts *o, char **out)
{
	struct cmdbus_jsonw *w = cmdbus_jsonw_new();
	int rc;

	if (!w)
		return -ENOMEM;
	cmdbus_jsonw_obj_begin(w, NULL);
	rc = add_args(w, o);
	cmdbus_jsonw_u64(w, "timeout_ms", o->timeout_ms);
	cmdbus_jsonw_obj_end(w);
	return finish(w, rc, out);
}

int
req_job_read(const char *text, size_t len, char id[CMDBUS_ID_BUF],
	     enum req_job_state *st)
{
	struct cmdbus_jsonv *doc = NULL;
	const struct cmdbus_jnode *root, *counts;
	const char *s;
	size_t n;
	int rc = -1;

	if (cmdbus_jsonv_parse(text, len, &doc, NULL, 0) != 0)
		return -1;
	root = cmdbus_jsonv_root(doc);
	s = cmdbus_jnode_str(cmdbus_jnode_get(root, "id"), &n);
	if (!s || n == 0 || n >= CMDBUS_ID_BUF)
		goto out;
	memcpy(id, s, n + 1);
	s = cmdbus_jnode_str(cmdbus_jnode_get(root, "state"), NULL);
	if (!s)
		goto out;
	rc = 0;
	if (strcmp(s, "RUNNING") == 0) {
		*st = REQ_JOB_RUNNING;
		goto out;
	}
	/* Finished: OK when COMPLETED and SUCCEEDED is the only count. */
	counts = cmdbus_jnode_get(root, "counts");
	*st = strcmp(s, "COMPLETED") == 0 && cmdbus_jnode_len(counts) == 1 &&
		      cmdbus_jnode_get(counts, "SUCCEEDED")
		  ? REQ_JOB_OK
		  : REQ_JOB_FAILED;
out:
	cmdbus_jsonv_free(doc);
	return rc;
}

bool
req_exec_ok(const char *text, size_t len)
{
	struct cmdbus_jsonv *doc = NULL;
	const char *s;
	bool ok;

	if (cmdbus_jsonv_parse(text, len, &doc, NULL, 0) != 0)
		return false;
	s = cmdbus_jnode_str(cmdbus_jnode_get(cmdbus_jsonv_root(doc), "state"),
			     NULL);
	ok = s && strcmp(s, "SUCCEEDED") == 0;
	cmdbus_jsonv_free(doc);
	return ok;
}
