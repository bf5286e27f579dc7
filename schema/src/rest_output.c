/* SPDX-License-Identifier: MIT */
/* The output of an execution (GET /v1/executions/{id}/output): the
 * streams of its stored result, or the live chunks stored so far, written
 * as text or base64 as the wire does; and the Server-Sent Events of a
 * follow, one per chunk and a last one with the terminal state. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmdbus/rest.h"
#include "encode.h"
#include "msg_priv.h"

/* Decodes a stored result; false when there is none or it is no result.
 * m is to be released with cmdbus_msg_fini either way. */
static bool
result_decode(const char *result_json, struct cmdbus_msg *m)
{
	memset(m, 0, sizeof(*m));
	/* The stored result passed the strict decoder when it arrived. */
	return result_json &&
	       cmdbus_msg_decode(result_json, strlen(result_json), m, NULL) ==
		   0 &&
	       m->type == CMDBUS_MSG_RESULT;
}

static void
view_head(struct sbuf *b, const char *id, const char *st,
	  enum cmdbus_state state, const char *source)
{
	schema_sbuf_putc(b, '{');
	schema_enc_text(b, "id", id);
	schema_enc_str(b, "state", st);
	schema_enc_bool(b, "final", cmdbus_state_is_terminal(state));
	schema_enc_str(b, "source", source);
}

int
cmdbus_output_view_encode(const char *id, enum cmdbus_state state,
			  const char *result_json, char **out, size_t *outlen)
{
	struct cmdbus_msg m;
	struct cmdbus_stream none;
	const struct cmdbus_stream *o = &none, *e = &none;
	struct sbuf b;
	const char *st = cmdbus_state_name(state);

	if (!id || !st)
		return -EINVAL;
	memset(&none, 0, sizeof(none));
	if (result_decode(result_json, &m) && m.u.result.has_streams) {
		o = &m.u.result.out;
		e = &m.u.result.err;
	}
	schema_sbuf_init(&b);
	view_head(&b, id, st, state, "result");
	schema_enc_bytes(&b, "stdout", &o->kept);
	schema_enc_bytes(&b, "stderr", &e->kept);
	schema_enc_bool(&b, "stdout_truncated", o->truncated);
	schema_enc_bool(&b, "stderr_truncated", e->truncated);
	schema_enc_u64(&b, "stdout_bytes", o->bytes);
	schema_enc_u64(&b, "stderr_bytes", e->bytes);
	schema_sbuf_putc(&b, '}');
	cmdbus_msg_fini(&m);
	return schema_enc_finish(&b, 0, out, outlen);
}

int
cmdbus_output_chunks_view_encode(const char *id, enum cmdbus_state state,
				 const struct cmdbus_bytes *sout,
				 const struct cmdbus_bytes *serr, char **out,
				 size_t *outlen)
{
	struct sbuf b;
	const char *st = cmdbus_state_name(state);

	if (!id || !st || !sout || !serr)
		return -EINVAL;
	schema_sbuf_init(&b);
	view_head(&b, id, st, state, "chunks");
	schema_enc_bytes(&b, "stdout", sout);
	schema_enc_bytes(&b, "stderr", serr);
	schema_enc_bool(&b, "stdout_truncated", false);
	schema_enc_bool(&b, "stderr_truncated", false);
	schema_enc_u64(&b, "stdout_bytes", sout->len);
	schema_enc_u64(&b, "stderr_bytes", serr->len);
	schema_sbuf_putc(&b, '}');
	return schema_enc_finish(&b, 0, out, outlen);
}

/* One event frame: its data is a single line of JSON, so one "data:"
 * field carries it (JSON text never holds a raw newline). */
static void
event_open(struct sbuf *b, const char *name)
{
	schema_sbuf_puts(b, "event: ");
	schema_sbuf_puts(b, name);
	schema_sbuf_puts(b, "\ndata: {");
}

static void
output_event(struct sbuf *b, bool is_stderr, uint64_t seq,
	     const struct cmdbus_bytes *by)
{
	event_open(b, "output");
	schema_enc_str(b, "stream", is_stderr ? "stderr" : "stdout");
	schema_enc_u64(b, "seq", seq);
	schema_enc_bytes(b, "data", by);
	schema_sbuf_puts(b, "}\n\n");
}

int
cmdbus_output_event_encode(bool is_stderr, uint64_t seq, const void *data,
			   size_t len, char **out, size_t *outlen)
{
	struct sbuf b;
	/* schema_enc_bytes only reads the bytes. */
	struct cmdbus_bytes by = {.data = (char *)(uintptr_t)data, .len = len};

	if (!data && len)
		return -EINVAL;
	if (!data)
		by.data = (char *)(uintptr_t) "";
	schema_sbuf_init(&b);
	output_event(&b, is_stderr, seq, &by);
	return schema_enc_finish(&b, 0, out, outlen);
}

int
cmdbus_output_result_events_encode(const char *result_json, char **out,
				   size_t *outlen)
{
	struct cmdbus_msg m;
	struct sbuf b;

	schema_sbuf_init(&b);
	if (result_decode(result_json, &m) && m.u.result.has_streams) {
		if (m.u.result.out.kept.len)
			output_event(&b, false, 0, &m.u.result.out.kept);
		if (m.u.result.err.kept.len)
			output_event(&b, true, 0, &m.u.result.err.kept);
	}
	cmdbus_msg_fini(&m);
	return schema_enc_finish(&b, 0, out, outlen);
}

int
cmdbus_output_end_event_encode(const char *id, enum cmdbus_state state,
			       const char *result_json, char **out,
			       size_t *outlen)
{
	struct cmdbus_msg m;
	struct sbuf b;
	const char *st = cmdbus_state_name(state);

	if (!id || !st)
		return -EINVAL;
	schema_sbuf_init(&b);
	event_open(&b, "end");
	schema_enc_text(&b, "id", id);
	schema_enc_str(&b, "state", st);
	if (result_decode(result_json, &m) && m.u.result.has_exit_code)
		schema_enc_u64(&b, "exit_code", m.u.result.exit_code);
	cmdbus_msg_fini(&m);
	schema_sbuf_puts(&b, "}\n\n");
	return schema_enc_finish(&b, 0, out, outlen);
}
