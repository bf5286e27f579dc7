/* SPDX-License-Identifier: MIT */
/* Answers from the journal: a known id gets its stored result again (or
 * CANCELED for a tombstone, or its latest report while it runs), and the
 * runs an earlier process left unfinished are reported LOST/interrupted
 * once the broker is reachable, or run again when idempotent and valid. */
#include "core_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

uint64_t
keep_until(const struct core *c, uint64_t exp)
{
	uint64_t now = clock_now_ms(c->clock);

	return (exp > now ? exp : now) + c->clock_skew_ms + CORE_KEEP_MARGIN_MS;
}

void
kill_leftovers(struct core *c)
{
	for (size_t i = 0; i < c->journal.n; i++) {
		const struct journal_entry *e = &c->journal.v[i];

		if (!e->old || e->state != JREC_STARTED || e->pid <= 1 ||
		    e->pid_start == 0 || !c->ports.kill_stale)
			continue;
		log_warn("exec.leftover",
			 "exec=%s pgid=%ld reason=\"left running by an earlier "
			 "agent; killed when still the same process\"",
			 e->id, e->pid);
		c->ports.kill_stale(c->ports.ud, e->pid, e->pid_start);
	}
}

/* Publishes the journal's stored result of e. */
static void
resend(struct core *c, const struct journal_entry *e)
{
	char id[CMDBUS_ID_BUF], *msg = NULL;
	size_t len = 0;
	int rc;

	snprintf(id, sizeof(id), "%s", e->id);
	rc = journal_read_msg(&c->journal, e, &msg, &len);
	if (rc) {
		log_error("journal.read_failed", "exec=%s error=\"%s\"", id,
			  err_str(rc));
		return;
	}
	core_answer(c, id, msg, len);
}

/* A result with no run behind it (LOST, or CANCELED by a tombstone),
 * journaled and then published. */
static void
finish_without_run(struct core *c, const char *id, const char *sha,
		   enum cmdbus_state state, uint64_t keep)
{
	struct journal_entry *e;
	struct run_end re;
	char *msg = NULL;
	size_t len = 0;
	int rc;

	memset(&re, 0, sizeof(re));
	re.state = state;
	if (state == CMDBUS_STATE_LOST) {
		re.error_code = CMDBUS_E_INTERRUPTED;
		re.error_message = "the agent restarted during the run";
	} else {
		re.has_streams = true; /* empty: nothing ran */
	}
	rc = result_build(c, id, sha, &re, &msg, &len);
	if (rc) {
		log_error("agent.encode_failed", "exec=%s error=\"%s\"", id,
			  err_str(rc));
		return;
	}
	rc = journal_finished(&c->journal, id, keep, msg, len);
	free(msg);
	e = journal_find(&c->journal, id);
	if (rc == 0 && e)
		resend(c, e);
	else
		log_error("result.pending", "exec=%s state=%s error=\"%s\"", id,
			  cmdbus_state_name(state), err_str(rc));
}

/* An unfinished run of an earlier process: run again or LOST. */
static void
resolve_old(struct core *c, const char *id)
{
	struct journal_entry *e = journal_find(&c->journal, id);
	uint64_t now = clock_now_ms(c->clock);
	char sha[CMDBUS_SHA256_HEX + 1], *payload = NULL;
	size_t plen = 0;

	if (!e || !e->old ||
	    (e->state != JREC_RECEIVED && e->state != JREC_STARTED))
		return;
	snprintf(sha, sizeof(sha), "%s", e->sha);
	if (e->idempotent && !c->stopping && now <= e->exp + c->clock_skew_ms &&
	    journal_read_cmd(&c->journal, e, &payload, &plen) == 0) {
		struct cmdbus_msg m;
		struct cmdbus_diag d;

		memset(&m, 0, sizeof(m));
		memset(&d, 0, sizeof(d));
		if (cmdbus_msg_decode(payload, plen, &m, &d) == 0) {
			if (m.type == CMDBUS_MSG_COMMAND) {
				log_info(
				    "cmd.rerun",
				    "exec=%s device=%s reason=\"idempotent, "
				    "interrupted by a restart\"",
				    id, c->device_id);
				core_rerun(c, &m.u.command, sha, payload, plen);
				cmdbus_msg_fini(&m);
				free(payload);
				return;
			}
			cmdbus_msg_fini(&m);
		}
	}
	free(payload);
	log_info("cmd.lost",
		 "exec=%s device=%s reason=\"the agent restarted "
		 "during the run\"",
		 id, c->device_id);
	e = journal_find(&c->journal, id);
	finish_without_run(c, id, sha, CMDBUS_STATE_LOST,
			   e ? e->keep_until : keep_until(c, 0));
}

bool
replay_known(struct core *c, const struct cmdbus_command *cmd, const char *sha)
{
	struct journal_entry *e = journal_find(&c->journal, cmd->id);
	uint64_t keep;

	if (!e)
		return false;
	c->stats.duplicates++;
	log_info("cmd.duplicate", "exec=%s device=%s journal=%d old=%d",
		 cmd->id, c->device_id, (int)e->state, e->old);
	switch (e->state) {
	case JREC_FINISHED:
		resend(c, e);
		break;
	case JREC_TOMBSTONE:
		keep = keep_until(c, cmd->exp);
		if (e->keep_until > keep)
			keep = e->keep_until;
		finish_without_run(c, cmd->id, sha, CMDBUS_STATE_CANCELED,
				   keep);
		break;
	case JREC_RECEIVED:
	case JREC_STARTED:
		if (e->old && !e->pending) {
			resolve_old(c, cmd->id);
			break;
		}
		/* Still running here (or its result waits for the journal):
		 * the latest report again. */
		if (e->state == JREC_STARTED)
			send_report(c, cmd->id, e->sha, CMDBUS_STATE_RUNNING,
				    e->pid);
		else
			send_report(c, cmd->id, e->sha, CMDBUS_STATE_ACCEPTED,
				    -1);
		break;
	}
	return true;
}

void
core_on_connect(struct core *c)
{
	char(*ids)[CMDBUS_ID_BUF];
	size_t n = 0;

	if (c->recovered)
		return;
	c->recovered = true;
	ids = calloc(c->journal.n + 1, sizeof(*ids));
	if (!ids) {
		c->recovered = false; /* tried again at the next connect */
		return;
	}
	/* Ids first: resolving writes to the journal, which may move its
	 * entries. */
	for (size_t i = 0; i < c->journal.n; i++) {
		const struct journal_entry *e = &c->journal.v[i];
		if (e->old &&
		    (e->state == JREC_RECEIVED || e->state == JREC_STARTED))
			snprintf(ids[n++], CMDBUS_ID_BUF, "%s", e->id);
	}
	for (size_t i = 0; i < n; i++)
		resolve_old(c, ids[i]);
	free(ids);
}

static void
on_retried(void *ud, const char *id, const char *msg, size_t len)
{
	struct core *c = ud;

	log_info("result.written", "exec=%s device=%s", id, c->device_id);
	core_publish(c, id, msg, len);
}

void
core_tick(struct core *c)
{
	uint64_t now = clock_now_ms(c->clock);

	for (struct run *r = c->runs; r; r = r->next)
		stream_flush(c, r, false);
	journal_retry(&c->journal, on_retried, c);
	journal_maintain(&c->journal, now);
}

bool
core_busy(const struct core *c)
{
	return c->runs || c->queue || c->journal.npending > 0;
}

const struct journal_stats *
core_journal_stats(const struct core *c)
{
	return &c->journal.stats;
}
