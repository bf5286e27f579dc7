/* SPDX-License-Identifier: MIT */
/* The output view and the events of a follow, from the live chunks and
 * the result in the store. Chunks are shown in seq order; a follower
 * waits at a gap (a chunk still on its way) until the execution ends. */
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "cmdbus/rest.h"

/* Bounds the text built at once: two streams of STORE_OUTPUT_CAP bytes,
 * even as escaped JSON or base64, stay well under it. */
#define OUTPUT_TEXT_MAX (1u << 20)

/* One stream's stored chunks joined, in *out (owned by the caller). */
static int
stream_join(struct core *c, const char *id, bool is_stderr,
	    struct cmdbus_bytes *out)
{
	struct chunk_list l = {0};
	struct buf b;
	int rc = 0;

	memset(out, 0, sizeof *out);
	buf_init(&b, OUTPUT_TEXT_MAX);
	if (c->store.output_get)
		rc = c->store.output_get(c->store.ud, id, is_stderr, 0, &l);
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = buf_append(&b, l.v[i].data.data, l.v[i].data.len);
	chunk_list_fini(&l);
	/* buf_steal's text is NUL-terminated, as struct cmdbus_bytes
	 * promises. */
	if (rc == 0 && !(out->data = buf_steal(&b, &out->len)))
		rc = -ENOMEM;
	buf_fini(&b);
	return rc;
}

int
output_view(struct core *c, const char *id, char **out, size_t *outlen)
{
	struct exec_rec e;
	struct cmdbus_bytes so = {0}, se = {0};

	*out = NULL;
	if (!cmdbus_valid_id(id))
		return -ERR_NOT_FOUND;
	memset(&e, 0, sizeof e);
	int rc = c->store.exec_get(c->store.ud, id, &e);
	if (rc == 0 && e.result) {
		rc = cmdbus_output_view_encode(e.id, e.state, e.result, out,
					       outlen);
	} else if (rc == 0) {
		/* No result (yet, or the dispatcher ended it): what the
		 * agent streamed is all there is. */
		rc = stream_join(c, e.id, false, &so);
		if (rc == 0)
			rc = stream_join(c, e.id, true, &se);
		if (rc == 0)
			rc = cmdbus_output_chunks_view_encode(
			    e.id, e.state, &so, &se, out, outlen);
	}
	free(so.data);
	free(se.data);
	exec_rec_fini(&e);
	return rc;
}

/* Appends the events of one stream's chunks from the cursor on: only
 * those without a gap before them, unless `all`. */
static int
stream_events(struct core *c, const char *id, bool is_stderr, bool all,
	      struct output_cursor *cur, struct buf *b)
{
	struct chunk_list l = {0};
	uint64_t *next = &cur->next[is_stderr ? 1 : 0];
	int rc = 0;

	if (!c->store.output_get)
		return 0;
	rc = c->store.output_get(c->store.ud, id, is_stderr, *next, &l);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		char *ev = NULL;
		size_t len = 0;
		if (!all && l.v[i].seq != *next)
			break;
		rc = cmdbus_output_event_encode(is_stderr, l.v[i].seq,
						l.v[i].data.data,
						l.v[i].data.len, &ev, &len);
		if (rc == 0)
			rc = buf_append(b, ev, len);
		free(ev);
		if (rc == 0) {
			*next = l.v[i].seq + 1;
			cur->sent_any = true;
		}
	}
	chunk_list_fini(&l);
	return rc;
}

static int
append_owned(struct buf *b, int rc, char *s, size_t len)
{
	if (rc == 0)
		rc = buf_append(b, s, len);
	free(s);
	return rc;
}

int
output_follow(struct core *c, const char *id, struct output_cursor *cur,
	      bool *end, char **out, size_t *outlen)
{
	struct exec_rec e;
	struct buf b;
	char *s = NULL;
	size_t len = 0;

	*out = NULL;
	*end = false;
	if (!cmdbus_valid_id(id))
		return -ERR_NOT_FOUND;
	memset(&e, 0, sizeof e);
	/* The state first: chunks are committed before the result that
	 * ends them, so once it is terminal every chunk is there. */
	int rc = c->store.exec_get(c->store.ud, id, &e);
	if (rc < 0)
		return rc;
	bool terminal = cmdbus_state_is_terminal(e.state);
	buf_init(&b, OUTPUT_TEXT_MAX);
	rc = stream_events(c, id, false, terminal, cur, &b);
	if (rc == 0)
		rc = stream_events(c, id, true, terminal, cur, &b);
	if (rc == 0 && terminal && !cur->sent_any && e.result) {
		rc = cmdbus_output_result_events_encode(e.result, &s, &len);
		rc = append_owned(&b, rc, s, len);
	}
	if (rc == 0 && terminal) {
		s = NULL;
		rc = cmdbus_output_end_event_encode(e.id, e.state, e.result, &s,
						    &len);
		rc = append_owned(&b, rc, s, len);
		*end = rc == 0;
	}
	if (rc == 0 && !(*out = buf_steal(&b, outlen)))
		rc = -ENOMEM;
	exec_rec_fini(&e);
	buf_fini(&b);
	if (rc < 0)
		*end = false;
	return rc;
}
