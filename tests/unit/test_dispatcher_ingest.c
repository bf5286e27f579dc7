/* SPDX-License-Identifier: MIT */
/* Ingest of agent messages with fake ports: reports and results move
 * executions only forward and only when topic, payload and execution
 * agree on the device and the command digest; everything else is
 * dropped, counted and logged at warn; presence follows status
 * messages, ignoring stale ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/log.h"
#include "cmdbus/envelope.h"
#include "cmdbus/proto.h"
#include "core.h"
#include "ingest.h"
#include "jobs.h"
#include "test_dispatcher_fakes.h"

#define T0 1763700000000ull
#define BOOT "01JD3BOOTAAAAAAAAAAAAAAAAA"
#define BOOT2 "01JD3BOOTBBBBBBBBBBBBBBBBB"

struct fx {
	struct clock_fake clk;
	struct fake_store fs;
	struct fake_bus bus;
	struct core core;
	unsigned warns;
	char job[CMDBUS_ID_BUF];
	char ex1[CMDBUS_ID_BUF], ex2[CMDBUS_ID_BUF]; /* dev-1, dev-2 */
	char sha1[CMDBUS_SHA256_HEX + 1];
};

static void
count_warns(enum log_level level, const char *line, void *ud)
{
	struct fx *f = ud;
	if (level == LOG_LVL_WARN && strstr(line, "ingest.drop"))
		f->warns++;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct store_port sp;
	struct bus_port bp;
	char *view = NULL;
	size_t len;
	struct cmdbus_diag diag;
	static const char body[] = "{\"target\":{\"devices\":[\"dev-1\",\"dev-"
				   "2\"],\"allow_unknown\":true},"
				   "\"action\":\"ping\"}";

	log_set_sink(count_warns, f);
	clock_fake_init(&f->clk, T0);
	fake_store_init(&f->fs);
	fake_bus_init(&f->bus);
	fake_store_port(&f->fs, &sp);
	fake_bus_port(&f->bus, &bp);
	struct core_config cc = {.prefix = "cmdbus/v1",
				 .session_expiry_ms = 7 * 86400000ull};
	assert_int_equal(core_init(&f->core, &cc, &f->clk.clock, &sp, &bp), 0);
	assert_int_equal(
	    jobs_create(&f->core, body, sizeof body - 1, &view, &len, &diag),
	    0);
	free(view);
	assert_int_equal(f->fs.nexecs, 2);
	memcpy(f->job, f->fs.jobs[0].id, sizeof f->job);
	memcpy(f->ex1, f->fs.execs[0].id, sizeof f->ex1);
	memcpy(f->ex2, f->fs.execs[1].id, sizeof f->ex2);
	memcpy(f->sha1, f->fs.execs[0].cmd_sha256, sizeof f->sha1);
	assert_int_equal(strlen(f->sha1), 64);
	clock_fake_advance(&f->clk, 1000);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	core_fini(&f->core);
	fake_store_fini(&f->fs);
	fake_bus_fini(&f->bus);
	log_set_sink(NULL, NULL);
	free(f);
	return 0;
}

/* Wraps a payload in an unsigned envelope and hands it to ingest. */
static void
deliver(struct fx *f, const char *topic, const char *payload)
{
	char *env = NULL;
	size_t len = 0;

	assert_int_equal(cmdbus_envelope_wrap(CMDBUS_KIND_RESULT, payload,
					      strlen(payload), NULL, &env,
					      &len),
			 0);
	ingest_message(&f->core, topic, env, len);
	free(env);
}

static void
report(struct fx *f, const char *topic_dev, const char *id, const char *dev,
       const char *state, const char *sha)
{
	char p[1024], topic[128];
	char shafield[100] = "";

	if (sha)
		snprintf(shafield, sizeof shafield, ",\"cmd_sha256\":\"%s\"",
			 sha);
	snprintf(p, sizeof p,
		 "{\"type\":\"report\",\"id\":\"%s\",\"device\":\"%s\","
		 "\"boot_id\":\"" BOOT "\",\"state\":\"%s\",\"at\":1%s%s}",
		 id, dev, state,
		 strcmp(state, "RUNNING") == 0 ? ",\"pid\":42" : "", shafield);
	snprintf(topic, sizeof topic, "cmdbus/v1/%s/result", topic_dev);
	deliver(f, topic, p);
}

static void
result(struct fx *f, const char *topic_dev, const char *id, const char *dev,
       const char *state, const char *sha)
{
	char p[1024], topic[128];
	char shafield[100] = "";

	if (sha)
		snprintf(shafield, sizeof shafield, ",\"cmd_sha256\":\"%s\"",
			 sha);
	if (strcmp(state, "REJECTED") == 0)
		snprintf(p, sizeof p,
			 "{\"type\":\"result\",\"id\":\"%s\",\"device\":\"%s\","
			 "\"boot_id\":\"" BOOT "\",\"state\":\"REJECTED\"%s,"
			 "\"finished_at\":5,\"error\":{\"code\":"
			 "\"unknown_action\",\"message\":\"no such action\"}}",
			 id, dev, shafield);
	else
		snprintf(
		    p, sizeof p,
		    "{\"type\":\"result\",\"id\":\"%s\",\"device\":\"%s\","
		    "\"boot_id\":\"" BOOT "\",\"state\":\"%s\"%s,"
		    "\"exit_code\":0,\"stdout\":\"pong\",\"stderr\":\"\","
		    "\"stdout_truncated\":false,\"stderr_truncated\":false,"
		    "\"stdout_bytes\":4,\"stderr_bytes\":0,"
		    "\"finished_at\":5}",
		    id, dev, state, shafield);
	snprintf(topic, sizeof topic, "cmdbus/v1/%s/result", topic_dev);
	deliver(f, topic, p);
}

static void
test_reports_move_forward_only(void **state)
{
	struct fx *f = *state;
	struct exec_rec *e = fake_store_exec(&f->fs, f->ex1);

	report(f, "dev-1", f->ex1, "dev-1", "ACCEPTED", f->sha1);
	assert_int_equal(e->state, CMDBUS_STATE_DELIVERED);
	assert_string_equal(e->boot_id, BOOT);
	/* The report beat the PUBACK: it was published all the same. */
	assert_int_equal(e->published_at, T0 + 1000);
	clock_fake_advance(&f->clk, 10);
	report(f, "dev-1", f->ex1, "dev-1", "RUNNING", f->sha1);
	assert_int_equal(e->state, CMDBUS_STATE_RUNNING);
	assert_int_equal(e->updated_at, T0 + 1010);
	/* Duplicate and late reports change nothing. */
	unsigned changes = f->fs.exec_changes;
	report(f, "dev-1", f->ex1, "dev-1", "RUNNING", f->sha1);
	report(f, "dev-1", f->ex1, "dev-1", "ACCEPTED", f->sha1);
	assert_int_equal(e->state, CMDBUS_STATE_RUNNING);
	assert_int_equal(f->fs.exec_changes, changes);
	assert_int_equal(f->core.stats.duplicates, 2);
	/* A PUBACK now is older news too. */
	core_bus_published(&f->core, f->bus.msgs[0].mid, true);
	assert_int_equal(e->state, CMDBUS_STATE_RUNNING);
	assert_int_equal(f->warns, 0);
}

static void
test_result_finishes_and_job_completes(void **state)
{
	struct fx *f = *state;
	struct exec_rec *e1 = fake_store_exec(&f->fs, f->ex1);
	struct exec_rec *e2 = fake_store_exec(&f->fs, f->ex2);
	struct job_rec *j = fake_store_job(&f->fs, f->job);

	/* A result may come without any report. */
	result(f, "dev-1", f->ex1, "dev-1", "SUCCEEDED", f->sha1);
	assert_int_equal(e1->state, CMDBUS_STATE_SUCCEEDED);
	assert_int_equal(e1->finished_at, T0 + 1000);
	assert_non_null(e1->result);
	assert_non_null(strstr(e1->result, "\"stdout\":\"pong\""));
	assert_int_equal(j->state, CMDBUS_JOB_RUNNING);

	clock_fake_advance(&f->clk, 500);
	/* Without cmd_sha256 the digest cannot be checked; the device
	 * still must agree. */
	result(f, "dev-2", f->ex2, "dev-2", "REJECTED", NULL);
	assert_int_equal(e2->state, CMDBUS_STATE_REJECTED);
	assert_string_equal(e2->error_code, "unknown_action");
	assert_string_equal(e2->error_message, "no such action");
	assert_int_equal(j->state, CMDBUS_JOB_COMPLETED);
	assert_int_equal(j->finished_at, T0 + 1500);
}

static void
test_late_and_duplicate_results_counted(void **state)
{
	struct fx *f = *state;
	struct exec_rec *e = fake_store_exec(&f->fs, f->ex1);

	result(f, "dev-1", f->ex1, "dev-1", "SUCCEEDED", f->sha1);
	char *first = strdup(e->result);
	unsigned changes = f->fs.exec_changes;
	result(f, "dev-1", f->ex1, "dev-1", "SUCCEEDED", f->sha1);
	result(f, "dev-1", f->ex1, "dev-1", "FAILED", f->sha1);
	report(f, "dev-1", f->ex1, "dev-1", "RUNNING", f->sha1);
	assert_int_equal(e->state, CMDBUS_STATE_SUCCEEDED);
	assert_string_equal(e->result, first);
	assert_int_equal(e->late_results, 2);
	assert_int_equal(f->core.stats.late_results, 2);
	assert_int_equal(f->fs.exec_changes, changes);
	free(first);
}

/* REJECTED/journal_unavailable (an agent whose disk is full) is not an
 * end: the command goes again on its retry timer, and the answer to a
 * later send ends it. Found by the fault suite, which saw such
 * executions end REJECTED for good. */
static void
test_journal_unavailable_is_not_an_end(void **state)
{
	struct fx *f = *state;
	struct exec_rec *e = fake_store_exec(&f->fs, f->ex1);
	char p[512];

	enum cmdbus_state before = e->state;
	unsigned changes = f->fs.exec_changes;
	snprintf(p, sizeof p,
		 "{\"type\":\"result\",\"id\":\"%s\",\"device\":\"dev-1\","
		 "\"boot_id\":\"" BOOT "\",\"state\":\"REJECTED\","
		 "\"cmd_sha256\":\"%s\",\"finished_at\":5,\"error\":{"
		 "\"code\":\"journal_unavailable\",\"message\":\"full\"}}",
		 f->ex1, f->sha1);
	deliver(f, "cmdbus/v1/dev-1/result", p);
	assert_int_equal(e->state, before);
	assert_false(cmdbus_state_is_terminal(e->state));
	assert_int_equal(f->fs.exec_changes, changes);
	assert_int_equal(f->core.stats.refusals, 1);
	assert_int_equal(f->core.stats.late_results, 0);
	result(f, "dev-1", f->ex1, "dev-1", "SUCCEEDED", f->sha1);
	assert_int_equal(e->state, CMDBUS_STATE_SUCCEEDED);
	/* After the end it is one more late answer, nothing else. */
	deliver(f, "cmdbus/v1/dev-1/result", p);
	assert_int_equal(e->state, CMDBUS_STATE_SUCCEEDED);
	assert_int_equal(f->core.stats.refusals, 1);
	assert_int_equal(f->core.stats.late_results, 1);
}

static void
test_device_mismatch_dropped(void **state)
{
	struct fx *f = *state;
	struct exec_rec *e = fake_store_exec(&f->fs, f->ex1);

	/* Another device's topic, claiming to be dev-1. */
	result(f, "dev-2", f->ex1, "dev-1", "SUCCEEDED", f->sha1);
	/* Another device answering dev-1's execution on its own topic. */
	result(f, "dev-2", f->ex1, "dev-2", "SUCCEEDED", f->sha1);
	report(f, "dev-2", f->ex1, "dev-2", "ACCEPTED", NULL);
	assert_int_equal(e->state, CMDBUS_STATE_QUEUED);
	assert_int_equal(f->core.stats.drop_device, 3);
	assert_int_equal(f->core.stats.dropped, 3);
	assert_int_equal(f->warns, 3);
}

static void
test_sha_mismatch_dropped(void **state)
{
	struct fx *f = *state;
	struct exec_rec *e = fake_store_exec(&f->fs, f->ex1);
	char forged[CMDBUS_SHA256_HEX + 1];

	memcpy(forged, f->sha1, sizeof forged);
	forged[0] = forged[0] == 'a' ? 'b' : 'a';
	result(f, "dev-1", f->ex1, "dev-1", "SUCCEEDED", forged);
	report(f, "dev-1", f->ex1, "dev-1", "ACCEPTED", forged);
	assert_int_equal(e->state, CMDBUS_STATE_QUEUED);
	assert_null(e->result);
	assert_int_equal(f->core.stats.drop_sha, 2);
	assert_int_equal(f->warns, 2);
	/* The genuine one still counts afterwards. */
	result(f, "dev-1", f->ex1, "dev-1", "SUCCEEDED", f->sha1);
	assert_int_equal(e->state, CMDBUS_STATE_SUCCEEDED);
}

static void
test_unknown_and_unsent_executions_dropped(void **state)
{
	struct fx *f = *state;

	result(f, "dev-1", "01JD3NOSUCHEXECUTION000000", "dev-1", "SUCCEEDED",
	       NULL);
	assert_int_equal(f->core.stats.drop_unknown, 1);

	/* A job created while the broker is down has sent nothing: no
	 * genuine agent can answer for it yet. */
	char *view = NULL;
	size_t len;
	struct cmdbus_diag diag;
	static const char body[] =
	    "{\"target\":{\"devices\":[\"dev-1\"],\"allow_unknown\":true},"
	    "\"action\":\"ping\"}";
	f->bus.connected = false;
	assert_int_equal(
	    jobs_create(&f->core, body, sizeof body - 1, &view, &len, &diag),
	    0);
	free(view);
	const char *id = f->fs.execs[2].id;
	result(f, "dev-1", id, "dev-1", "SUCCEEDED", NULL);
	assert_int_equal(f->fs.execs[2].state, CMDBUS_STATE_QUEUED);
	assert_int_equal(f->core.stats.drop_unknown, 2);
	assert_int_equal(f->warns, 2);
}

static void
test_garbage_dropped_and_counted(void **state)
{
	struct fx *f = *state;
	static char big[CMDBUS_MAX_MESSAGE + 1];
	const char *t = "cmdbus/v1/dev-1/result";

	memset(big, '{', sizeof big);
	ingest_message(&f->core, t, big, sizeof big);
	assert_int_equal(f->core.stats.drop_too_large, 1);

	static const char notjson[] = "not json";
	static const char v2[] =
	    "{\"v\":2,\"alg\":\"none\",\"payload\":\"{}\"}";
	ingest_message(&f->core, t, notjson, sizeof notjson - 1);
	ingest_message(&f->core, t, v2, sizeof v2 - 1);
	assert_int_equal(f->core.stats.drop_envelope, 2);

	deliver(f, t, "{\"type\":\"result\",\"id\":\"x\"}");
	deliver(f, t, "[1,2");
	assert_int_equal(f->core.stats.drop_payload, 2);

	/* Wrong topics: another prefix, a cmd topic, a bad device id. */
	ingest_message(&f->core, "other/dev-1/result", "{}", 2);
	ingest_message(&f->core, "cmdbus/v1/dev-1/cmd", "{}", 2);
	ingest_message(&f->core, "cmdbus/v1/dev 1/result", "{}", 2);
	assert_int_equal(f->core.stats.drop_topic, 3);

	/* A type not allowed on the topic's kind: a status on result, a
	 * report on status. */
	deliver(f, t,
		"{\"type\":\"status\",\"device\":\"dev-1\",\"online\":false,"
		"\"boot_id\":\"" BOOT "\"}");
	char p[512];
	snprintf(p, sizeof p,
		 "{\"type\":\"report\",\"id\":\"%s\",\"device\":\"dev-1\","
		 "\"boot_id\":\"" BOOT "\",\"state\":\"ACCEPTED\",\"at\":1}",
		 f->ex1);
	deliver(f, "cmdbus/v1/dev-1/status", p);
	assert_int_equal(f->core.stats.drop_type, 2);

	/* A cleared retained status (empty payload). */
	ingest_message(&f->core, "cmdbus/v1/dev-1/status", "", 0);

	assert_int_equal(f->core.stats.received, 11);
	assert_int_equal(f->core.stats.dropped, 11);
	assert_int_equal(f->warns, 10); /* the empty one is only debug */
	assert_int_equal(fake_store_exec(&f->fs, f->ex1)->state,
			 CMDBUS_STATE_QUEUED);
	assert_int_equal(f->fs.ndevs, 0);
}

static void
test_conflict_is_retried(void **state)
{
	struct fx *f = *state;

	f->fs.conflict_once = 1;
	result(f, "dev-1", f->ex1, "dev-1", "SUCCEEDED", f->sha1);
	assert_int_equal(fake_store_exec(&f->fs, f->ex1)->state,
			 CMDBUS_STATE_SUCCEEDED);
}

static void
test_store_error_counted(void **state)
{
	struct fx *f = *state;

	f->fs.fail_exec_change = -ERR_UNAVAILABLE;
	result(f, "dev-1", f->ex1, "dev-1", "SUCCEEDED", f->sha1);
	assert_int_equal(fake_store_exec(&f->fs, f->ex1)->state,
			 CMDBUS_STATE_QUEUED);
	assert_int_equal(f->core.stats.store_errors, 1);
}

static void
status(struct fx *f, const char *dev, bool online, const char *boot,
       uint64_t at)
{
	char p[1024], topic[128];

	if (online)
		snprintf(p, sizeof p,
			 "{\"type\":\"status\",\"device\":\"%s\",\"online\":"
			 "true,\"boot_id\":\"%s\",\"agent\":"
			 "\"cmdbus-agent/0.1.0\",\"at\":%llu,\"labels\":{"
			 "\"site\":\"sz\",\"role\":\"web\"},\"actions\":[{"
			 "\"name\":\"ping\"},{\"name\":\"restart\",\"params\":"
			 "{\"service\":\"^(nginx|sshd)$\"}}],\"health\":{"
			 "\"uptime_s\":100,\"load1\":0.25,\"mem_avail_kb\":"
			 "1000,\"disk_avail_kb\":2000}}",
			 dev, boot, (unsigned long long)at);
	else
		snprintf(p, sizeof p,
			 "{\"type\":\"status\",\"device\":\"%s\",\"online\":"
			 "false,\"boot_id\":\"%s\"}",
			 dev, boot);
	snprintf(topic, sizeof topic, "cmdbus/v1/%s/status", dev);
	deliver(f, topic, p);
}

static void
test_status_presence(void **state)
{
	struct fx *f = *state;

	status(f, "dev-7", true, BOOT, 100);
	struct device_rec *d = fake_store_device(&f->fs, "dev-7");
	assert_non_null(d);
	assert_true(d->online);
	assert_string_equal(d->boot_id, BOOT);
	assert_string_equal(d->agent, "cmdbus-agent/0.1.0");
	assert_int_equal(d->last_seen, T0 + 1000);
	assert_string_equal(d->labels_json,
			    "{\"site\":\"sz\",\"role\":\"web\"}");
	assert_string_equal(d->actions_json,
			    "[{\"name\":\"ping\"},{\"name\":\"restart\","
			    "\"params\":{\"service\":\"^(nginx|sshd)$\"}}]");
	assert_string_equal(d->health_json,
			    "{\"uptime_s\":100,\"load1\":0.25,"
			    "\"mem_avail_kb\":1000,\"disk_avail_kb\":2000}");
	assert_non_null(strstr(d->status, "\"type\":\"status\""));

	/* An older online status of the same run is a late duplicate. */
	status(f, "dev-7", true, BOOT, 50);
	d = fake_store_device(&f->fs, "dev-7");
	assert_int_equal(d->status_at, 100);
	assert_int_equal(f->core.stats.stale_status, 1);

	/* The device restarted (new boot id); the old run's will comes
	 * late and must not mark it offline. */
	clock_fake_advance(&f->clk, 1000);
	status(f, "dev-7", true, BOOT2, 10);
	status(f, "dev-7", false, BOOT, 0);
	d = fake_store_device(&f->fs, "dev-7");
	assert_true(d->online);
	assert_string_equal(d->boot_id, BOOT2);
	assert_int_equal(f->core.stats.stale_status, 2);

	/* The current run going offline does. Labels stay known. */
	clock_fake_advance(&f->clk, 1000);
	status(f, "dev-7", false, BOOT2, 0);
	d = fake_store_device(&f->fs, "dev-7");
	assert_false(d->online);
	assert_int_equal(d->last_seen, T0 + 3000);
	assert_string_equal(d->labels_json,
			    "{\"site\":\"sz\",\"role\":\"web\"}");

	/* A status naming another device than its topic is dropped. */
	deliver(f, "cmdbus/v1/dev-8/status",
		"{\"type\":\"status\",\"device\":\"dev-7\",\"online\":false,"
		"\"boot_id\":\"" BOOT2 "\"}");
	assert_null(fake_store_device(&f->fs, "dev-8"));
	assert_int_equal(f->core.stats.drop_device, 1);
}

static void
test_offline_for_unknown_device_recorded(void **state)
{
	struct fx *f = *state;

	status(f, "dev-9", false, BOOT, 0);
	struct device_rec *d = fake_store_device(&f->fs, "dev-9");
	assert_non_null(d);
	assert_false(d->online);
	assert_string_equal(d->boot_id, BOOT);
}

/* ---- progress coalescing, with a group commit ---- */

static void
test_progress_written_with_the_end(void **state)
{
	struct fx *f = *state;
	struct exec_rec *e = fake_store_exec(&f->fs, f->ex1);
	unsigned before = f->fs.exec_changes;

	f->fs.group_commit = true;
	core_bus_published(&f->core, f->bus.msgs[0].mid, true);
	clock_fake_advance(&f->clk, 5);
	report(f, "dev-1", f->ex1, "dev-1", "ACCEPTED", f->sha1);
	report(f, "dev-1", f->ex1, "dev-1", "RUNNING", f->sha1);
	/* Kept for the pass's end: nothing written yet. */
	assert_int_equal(f->fs.exec_changes, before);
	assert_int_equal(e->state, CMDBUS_STATE_QUEUED);
	/* A duplicate of an earlier report is judged on the pending state:
	 * it changes nothing. */
	report(f, "dev-1", f->ex1, "dev-1", "ACCEPTED", f->sha1);
	assert_int_equal(f->core.stats.duplicates, 1);

	clock_fake_advance(&f->clk, 5);
	result(f, "dev-1", f->ex1, "dev-1", "SUCCEEDED", f->sha1);
	/* One write for the whole way, from the stored state, with the
	 * PUBACK's time as published_at and the reporting boot. */
	assert_int_equal(f->fs.exec_changes, before + 1);
	assert_int_equal(e->state, CMDBUS_STATE_SUCCEEDED);
	assert_int_equal(e->published_at, T0 + 1000);
	assert_string_equal(e->boot_id, BOOT);
	assert_int_equal(f->fs.jobs[0].state, CMDBUS_JOB_RUNNING);
	core_flush(&f->core);
	assert_int_equal(f->fs.exec_changes, before + 1);
}

static void
test_progress_written_at_the_pass_end(void **state)
{
	struct fx *f = *state;
	struct exec_rec *e = fake_store_exec(&f->fs, f->ex1);
	unsigned before = f->fs.exec_changes;

	f->fs.group_commit = true;
	report(f, "dev-1", f->ex1, "dev-1", "ACCEPTED", f->sha1);
	report(f, "dev-1", f->ex1, "dev-1", "RUNNING", f->sha1);
	assert_int_equal(e->state, CMDBUS_STATE_QUEUED);
	core_flush(&f->core);
	/* The last state only, in the pass's commit. */
	assert_int_equal(f->fs.exec_changes, before + 1);
	assert_int_equal(f->fs.batch_ends, 1);
	assert_int_equal(e->state, CMDBUS_STATE_RUNNING);
	assert_int_equal(e->published_at, T0 + 1000);
	assert_string_equal(e->boot_id, BOOT);
	/* Nothing is left pending for the next pass. */
	core_flush(&f->core);
	assert_int_equal(f->fs.exec_changes, before + 1);
}

static void
test_progress_loses_to_an_end_made_meanwhile(void **state)
{
	struct fx *f = *state;
	struct exec_rec *e = fake_store_exec(&f->fs, f->ex1);

	f->fs.group_commit = true;
	report(f, "dev-1", f->ex1, "dev-1", "RUNNING", f->sha1);
	/* Someone else (a cancel, the sweep) ends it in the store. */
	e->state = CMDBUS_STATE_CANCELED;
	core_flush(&f->core);
	assert_int_equal(e->state, CMDBUS_STATE_CANCELED);
	assert_int_equal(f->core.stats.store_errors, 0);
}

static void
test_puback_assumed_queued_is_corrected(void **state)
{
	struct fx *f = *state;
	struct exec_rec *e = fake_store_exec(&f->fs, f->ex1);

	/* The store already holds RUNNING (a re-publish's PUBACK). */
	e->state = CMDBUS_STATE_RUNNING;
	f->fs.group_commit = true;
	core_bus_published(&f->core, f->bus.msgs[0].mid, true);
	/* The pending PUBLISHED assumed QUEUED: a report read through it
	 * sees RUNNING, so a late ACCEPTED changes nothing... */
	report(f, "dev-1", f->ex1, "dev-1", "ACCEPTED", f->sha1);
	assert_int_equal(f->core.stats.duplicates, 1);
	core_flush(&f->core);
	assert_int_equal(e->state, CMDBUS_STATE_RUNNING);
	/* ...and the result is written from RUNNING. */
	result(f, "dev-1", f->ex1, "dev-1", "SUCCEEDED", f->sha1);
	assert_int_equal(e->state, CMDBUS_STATE_SUCCEEDED);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_reports_move_forward_only),
	    T(test_result_finishes_and_job_completes),
	    T(test_late_and_duplicate_results_counted),
	    T(test_journal_unavailable_is_not_an_end),
	    T(test_device_mismatch_dropped),
	    T(test_sha_mismatch_dropped),
	    T(test_unknown_and_unsent_executions_dropped),
	    T(test_garbage_dropped_and_counted),
	    T(test_conflict_is_retried),
	    T(test_store_error_counted),
	    T(test_status_presence),
	    T(test_offline_for_unknown_device_recorded),
	    T(test_progress_written_with_the_end),
	    T(test_progress_written_at_the_pass_end),
	    T(test_progress_loses_to_an_end_made_meanwhile),
	    T(test_puback_assumed_queued_is_corrected),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
