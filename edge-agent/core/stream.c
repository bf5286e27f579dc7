/* SPDX-License-Identifier: MIT */
/* Output chunks of streaming runs. The chunks are a courtesy to a human
 * watching: they are never journaled or re-sent, and the result, which
 * carries the kept output, is what counts. */
#include "core_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

void
live_fini(struct live *l)
{
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

static void
send_chunk(struct core *c, struct run *r, bool is_err, struct live *l)
{
	struct cmdbus_msg m;
	struct cmdbus_output *o = &m.u.output;
	size_t n = l->len > CMDBUS_MAX_CHUNK ? CMDBUS_MAX_CHUNK : l->len;
	char *payload = NULL, *msg = NULL;
	size_t plen = 0, mlen = 0;
	int rc;

	memset(&m, 0, sizeof(m));
	m.type = CMDBUS_MSG_OUTPUT;
	snprintf(o->id, sizeof(o->id), "%s", r->id);
	snprintf(o->device, sizeof(o->device), "%s", c->device_id);
	o->is_stderr = is_err;
	o->seq = l->seq;
	o->data.data = l->buf;
	o->data.len = n;
	rc = cmdbus_msg_encode(&m, &payload, &plen);
	if (rc == 0)
		rc = cmdbus_envelope_wrap(CMDBUS_KIND_RESULT, payload, plen,
					  c->sign_key, &msg, &mlen);
	free(payload);
	if (rc == 0)
		core_publish(c, r->id, msg, mlen);
	else
		log_warn("output.encode_failed", "exec=%s error=\"%s\"", r->id,
			 err_str(rc));
	free(msg);
	/* A chunk that could not go is skipped, never re-sent: seq still
	 * counts it so a reader sees the gap. */
	memmove(l->buf, l->buf + n, l->len - n);
	l->len -= n;
	l->seq++;
	l->sent_any = true;
	l->last_ms = clock_now_ms(c->clock);
}

void
stream_flush(struct core *c, struct run *r, bool all)
{
	uint64_t now = clock_now_ms(c->clock);

	if (!r->stream)
		return;
	for (int s = 0; s < 2; s++) {
		struct live *l = &r->live[s];
		if (all) {
			while (l->len > 0)
				send_chunk(c, r, s == 1, l);
		} else if (l->len > 0 &&
			   (!l->sent_any ||
			    now - l->last_ms >= STREAM_INTERVAL_MS)) {
			send_chunk(c, r, s == 1, l);
		}
	}
}

void
stream_feed(struct core *c, struct run *r, bool is_err, const void *p, size_t n)
{
	struct live *l = &r->live[is_err ? 1 : 0];
	size_t room;

	if (!r->stream || l->taken >= r->max_output)
		return;
	room = r->max_output - (size_t)l->taken;
	if (n > room)
		n = room;
	if (!l->buf) {
		l->buf = malloc(r->max_output);
		if (!l->buf) {
			l->taken = r->max_output; /* no live output then */
			return;
		}
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
	l->taken += n;
	stream_flush(c, r, false);
}

void
core_on_output(struct core *c, uint64_t token, bool is_err, const void *p,
	       size_t n)
{
	for (struct run *r = c->runs; r; r = r->next) {
		if (r->token == token) {
			stream_feed(c, r, is_err, p, n);
			return;
		}
	}
}
