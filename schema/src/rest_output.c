/* SPDX-License-Identifier: MIT */
/* The output view of an execution (GET /v1/executions/{id}/output): the
 * streams of its stored result, taken from the agent's result payload
 * and written as text or base64 as the wire does. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmdbus/rest.h"
#include "encode.h"
#include "msg_priv.h"

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
	memset(&m, 0, sizeof(m));
	memset(&none, 0, sizeof(none));
	/* The stored result passed the strict decoder when it arrived. */
	if (result_json &&
	    cmdbus_msg_decode(result_json, strlen(result_json), &m, NULL) ==
		0 &&
	    m.type == CMDBUS_MSG_RESULT && m.u.result.has_streams) {
		o = &m.u.result.out;
		e = &m.u.result.err;
	}
	schema_sbuf_init(&b);
	schema_sbuf_putc(&b, '{');
	schema_enc_text(&b, "id", id);
	schema_enc_str(&b, "state", st);
	schema_enc_bool(&b, "final", cmdbus_state_is_terminal(state));
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
