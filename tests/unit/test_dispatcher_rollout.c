/* SPDX-License-Identifier: MIT */
/* Targeting and rollouts, driven with a fake store, bus and clock: label
 * selectors and the resolution report, unknown devices, batches released
 * as executions end, failure thresholds and their abort, the offline
 * policies, the canary, and a restart carrying a rollout on. */
#include <errno.h>
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
#include "core.h"
#include "jobs.h"
#include "rollout.h"
#include "test_dispatcher_fakes.h"
#include "window.h"

#define T0 1763700000000ull
#define NDEV 6

struct fx {
	struct clock_fake clk;
	struct fake_store fs;
	struct fake_bus bus;
	struct core core;
	char *view; /* the last answer */
};

static void
quiet(enum log_level level, const char *line, void *ud)
{
	(void)level;
	(void)line;
	(void)ud;
}

static void
core_start(struct fx *f)
{
	struct store_port sp;
	struct bus_port bp;
	struct core_config cc = {.prefix = "cmdbus/v1",
				 .session_expiry_ms = 86400000ull};
	fake_store_port(&f->fs, &sp);
	fake_bus_port(&f->bus, &bp);
	assert_int_equal(core_init(&f->core, &cc, &f->clk.clock, &sp, &bp), 0);
}

/* d1..d6: env prod (d1-d3), staging (d4, d5), none (d6); tier db on d2
 * and d4. */
static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	static const char *const l[NDEV][2] = {
	    {"env=prod", "tier=web"},	 {"env=prod", "tier=db"},
	    {"env=prod", "tier=web"},	 {"env=staging", "tier=db"},
	    {"env=staging", "tier=web"}, {"site=lab", "tier=web"},
	};
	assert_non_null(f);
	log_set_sink(quiet, NULL);
	clock_fake_init(&f->clk, T0);
	fake_store_init(&f->fs);
	fake_bus_init(&f->bus);
	f->bus.connected = true;
	core_start(f);
	for (int i = 0; i < NDEV; i++) {
		char id[8];
		snprintf(id, sizeof id, "d%d", i + 1);
		fake_store_add_device(&f->fs, id, l[i], 2);
	}
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
	free(f->view);
	free(f);
	log_set_sink(NULL, NULL);
	return 0;
}

static int
create(struct fx *f, const char *body, struct cmdbus_diag *diag)
{
	size_t len = 0;
	struct cmdbus_diag d;
	free(f->view);
	f->view = NULL;
	return jobs_create(&f->core, body, strlen(body), &f->view, &len,
			   diag ? diag : &d);
}

static void
set_online(struct fx *f, const char *id, bool online)
{
	struct device_rec *d = fake_store_device(&f->fs, id);
	assert_non_null(d);
	d->online = online;
}

/* The execution of the last job on a device. */
static struct exec_rec *
exec_of(struct fx *f, const char *device)
{
	for (size_t i = f->fs.nexecs; i-- > 0;)
		if (strcmp(f->fs.execs[i].device, device) == 0)
			return &f->fs.execs[i];
	fail_msg("no execution on %s", device);
	return NULL;
}

static struct job_rec *
last_job(struct fx *f)
{
	assert_true(f->fs.njobs > 0);
	return &f->fs.jobs[f->fs.njobs - 1];
}

/* Released and unfinished executions of the last job. */
static size_t
in_progress(struct fx *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->fs.nexecs; i++) {
		const struct exec_rec *e = &f->fs.execs[i];
		if (strcmp(e->job, last_job(f)->id) == 0 && !e->held &&
		    !cmdbus_state_is_terminal(e->state))
			n++;
	}
	return n;
}

/* Ends an execution as the ingest path does: a compare-and-set, the
 * note, then the end of the loop pass. */
static void
finish(struct fx *f, struct exec_rec *e, enum cmdbus_state to)
{
	struct exec_change chg = {.id = e->id,
				  .from = e->state,
				  .to = to,
				  .at = clock_now_ms(&f->clk.clock),
				  .complete_job = true};
	struct exec_rec copy = *e;
	assert_int_equal(f->core.store.exec_change(f->core.store.ud, &chg), 0);
	window_note(&f->core, &copy, to);
	core_flush(&f->core);
}

/* Ends the first released and unfinished execution of the last job. */
static void
finish_next(struct fx *f, enum cmdbus_state to)
{
	for (size_t i = 0; i < f->fs.nexecs; i++) {
		struct exec_rec *e = &f->fs.execs[i];
		if (strcmp(e->job, last_job(f)->id) == 0 && !e->held &&
		    !cmdbus_state_is_terminal(e->state)) {
			finish(f, e, to);
			return;
		}
	}
	fail_msg("nothing in progress");
}

static void
test_selector_and_resolution(void **state)
{
	struct fx *f = *state;

	set_online(f, "d3", false);
	assert_int_equal(create(f,
				"{\"target\":{\"labels\":{\"env\":{\"in\":["
				"\"prod\",\"staging\"]},\"tier\":{\"notin\":["
				"\"db\"]}}},\"action\":\"ping\"}",
				NULL),
			 0);
	/* d1, d3, d5: prod or staging and not db. */
	assert_int_equal(f->fs.nexecs, 3);
	assert_string_equal(f->fs.execs[0].device, "d1");
	assert_string_equal(f->fs.execs[1].device, "d3");
	assert_string_equal(f->fs.execs[2].device, "d5");
	assert_non_null(strstr(f->view, "\"targets\":{\"matched\":3,"
					"\"offline\":[\"d3\"],"
					"\"unknown\":[]}"));
	/* notin also picks devices without the label. */
	assert_int_equal(
	    create(f,
		   "{\"target\":{\"labels\":{\"env\":{\"notin\":[\"prod\"]}}},"
		   "\"action\":\"ping\"}",
		   NULL),
	    0);
	assert_int_equal(f->fs.nexecs, 6);
	assert_string_equal(f->fs.execs[5].device, "d6");
}

static void
test_unknown_devices(void **state)
{
	struct fx *f = *state;
	struct cmdbus_diag diag;

	assert_int_equal(create(f,
				"{\"target\":{\"devices\":[\"d1\",\"x9\","
				"\"x8\"]},\"action\":\"ping\"}",
				&diag),
			 -ERR_MALFORMED);
	assert_string_equal(diag.field, "target.devices");
	assert_non_null(strstr(diag.message, "x8, x9"));
	assert_int_equal(f->fs.njobs, 0);
	assert_int_equal(create(f,
				"{\"target\":{\"devices\":[\"d1\",\"x9\"],"
				"\"allow_unknown\":true},\"action\":\"ping\"}",
				NULL),
			 0);
	assert_non_null(strstr(f->view, "\"unknown\":[\"x9\"]"));
	assert_int_equal(f->fs.nexecs, 2);
	/* Nothing matches: 400 naming the target. */
	assert_int_equal(create(f,
				"{\"target\":{\"labels\":{\"env\":\"none\"}},"
				"\"action\":\"ping\"}",
				&diag),
			 -ERR_MALFORMED);
	assert_string_equal(diag.field, "target");
}

static void
test_batch_never_exceeded(void **state)
{
	struct fx *f = *state;

	assert_int_equal(
	    create(f,
		   "{\"target\":{\"all\":true},\"action\":\"ping\","
		   "\"rollout\":{\"batch_size\":\"30%\"}}",
		   NULL),
	    0);
	/* 30% of 6 is 1.8: a batch of 2, published at once. */
	assert_int_equal(last_job(f)->ro.batch, 2);
	assert_int_equal(in_progress(f), 2);
	assert_int_equal(f->bus.n, 2);
	assert_non_null(strstr(f->view, "\"phase\":\"rolling\""));
	assert_non_null(strstr(f->view, "\"waiting\":4"));
	for (int i = 0; i < NDEV; i++) {
		assert_true(in_progress(f) <= 2);
		finish_next(f, CMDBUS_STATE_SUCCEEDED);
	}
	assert_int_equal(f->bus.n, NDEV);
	assert_int_equal(last_job(f)->state, CMDBUS_JOB_COMPLETED);
	/* In the order of the job's executions, numbered as released. */
	for (size_t i = 0; i < f->fs.nexecs; i++)
		assert_int_equal(f->fs.execs[i].release_seq, i + 1);
}

static void
test_max_failures_aborts(void **state)
{
	struct fx *f = *state;

	assert_int_equal(
	    create(f,
		   "{\"target\":{\"all\":true},\"action\":\"ping\","
		   "\"rollout\":{\"batch_size\":2,"
		   "\"max_failures\":1}}",
		   NULL),
	    0);
	finish_next(f, CMDBUS_STATE_FAILED);
	assert_null(last_job(f)->aborted_at ? "aborted" : NULL);
	/* The first failure released d3; the second passes the limit. */
	finish_next(f, CMDBUS_STATE_FAILED);
	struct job_rec *j = last_job(f);
	assert_true(j->aborted_at > 0);
	assert_string_equal(j->abort_reason, "max_failures exceeded: 2 "
					     "failures, at most 1 allowed");
	/* d3 went out: it is sent a cancel and stays until it answers. */
	struct exec_rec *d3 = exec_of(f, "d3");
	assert_int_equal(d3->state, CMDBUS_STATE_QUEUED);
	assert_non_null(d3->command);
	assert_non_null(strstr(f->bus.msgs[f->bus.n - 1].payload, "cancel"));
	for (int i = 4; i <= NDEV; i++) {
		char id[8];
		snprintf(id, sizeof id, "d%d", i);
		struct exec_rec *e = exec_of(f, id);
		assert_int_equal(e->state, CMDBUS_STATE_CANCELED);
		assert_string_equal(e->error_code, "rollout_aborted");
		assert_null(e->command); /* never published */
	}
	assert_int_equal(j->state, CMDBUS_JOB_RUNNING);
	finish(f, d3, CMDBUS_STATE_CANCELED);
	assert_int_equal(last_job(f)->state, CMDBUS_JOB_ABORTED);
}

/* A cancel that could not go (the broker away) goes at a later
 * decision. */
static void
test_abort_cancel_retried(void **state)
{
	struct fx *f = *state;

	assert_int_equal(create(f,
				"{\"target\":{\"devices\":[\"d1\",\"d2\"]},"
				"\"action\":\"ping\",\"rollout\":{"
				"\"batch_size\":2,\"max_failures\":0}}",
				NULL),
			 0);
	f->bus.connected = false;
	fake_bus_clear(&f->bus);
	finish(f, exec_of(f, "d1"), CMDBUS_STATE_FAILED);
	assert_true(last_job(f)->aborted_at > 0);
	assert_int_equal(f->bus.n, 0);
	f->bus.connected = true;
	core_sweep(&f->core);
	core_flush(&f->core);
	/* The sweep re-publishes d2's command, and the cancel follows. */
	assert_true(f->bus.n >= 1);
	assert_non_null(strstr(f->bus.msgs[f->bus.n - 1].payload, "cancel"));
	/* Sent once: the next decision does not repeat it. */
	size_t n = f->bus.n;
	core_sweep(&f->core);
	core_flush(&f->core);
	for (size_t i = n; i < f->bus.n; i++)
		assert_null(strstr(f->bus.msgs[i].payload, "\"cancel\""));
}

static void
test_offline_skip_and_fail(void **state)
{
	struct fx *f = *state;

	set_online(f, "d2", false);
	assert_int_equal(create(f,
				"{\"target\":{\"devices\":[\"d1\",\"d2\"]},"
				"\"action\":\"ping\",\"rollout\":{"
				"\"offline\":\"skip\",\"max_failures\":0}}",
				NULL),
			 0);
	struct exec_rec *e = exec_of(f, "d2");
	assert_int_equal(e->state, CMDBUS_STATE_EXPIRED);
	assert_string_equal(e->error_code, "offline");
	assert_non_null(strstr(f->view, "\"reasons\":{\"offline\":1}"));
	finish_next(f, CMDBUS_STATE_SUCCEEDED);
	/* Skipped is not a failure. */
	assert_int_equal(last_job(f)->state, CMDBUS_JOB_COMPLETED);

	/* With fail it is one: max_failures 0 aborts at once. */
	assert_int_equal(create(f,
				"{\"target\":{\"devices\":[\"d2\",\"d1\"]},"
				"\"action\":\"ping\",\"rollout\":{"
				"\"offline\":\"fail\",\"max_failures\":0,"
				"\"batch_size\":1}}",
				NULL),
			 0);
	assert_true(last_job(f)->aborted_at > 0);
	assert_int_equal(exec_of(f, "d1")->state, CMDBUS_STATE_CANCELED);
	assert_int_equal(last_job(f)->state, CMDBUS_JOB_ABORTED);
	assert_non_null(strstr(f->view, "\"abort_reason\":\"max_failures"));
}

static void
test_offline_turn_comes(void **state)
{
	struct fx *f = *state;

	/* Online at creation, offline when its turn comes: skipped then. */
	assert_int_equal(create(f,
				"{\"target\":{\"devices\":[\"d1\",\"d2\"]},"
				"\"action\":\"ping\",\"rollout\":{"
				"\"offline\":\"skip\",\"batch_size\":1}}",
				NULL),
			 0);
	set_online(f, "d2", false);
	finish_next(f, CMDBUS_STATE_SUCCEEDED);
	assert_int_equal(exec_of(f, "d2")->state, CMDBUS_STATE_EXPIRED);
	assert_string_equal(exec_of(f, "d2")->error_code, "offline");
	assert_int_equal(last_job(f)->state, CMDBUS_JOB_COMPLETED);
}

static void
test_offline_wait(void **state)
{
	struct fx *f = *state;

	set_online(f, "d1", false);
	assert_int_equal(create(f,
				"{\"target\":{\"devices\":[\"d1\",\"d2\","
				"\"d3\"]},\"action\":\"ping\",\"rollout\":{"
				"\"batch_size\":1}}",
				NULL),
			 0);
	/* d1 is passed over; the rollout goes on with d2 then d3. */
	assert_true(exec_of(f, "d1")->held);
	assert_false(exec_of(f, "d2")->held);
	finish_next(f, CMDBUS_STATE_SUCCEEDED);
	finish_next(f, CMDBUS_STATE_SUCCEEDED);
	assert_true(exec_of(f, "d1")->held);
	assert_int_equal(last_job(f)->state, CMDBUS_JOB_RUNNING);
	/* d1 comes online: released at once. */
	set_online(f, "d1", true);
	window_device(&f->core, "d1", true);
	core_flush(&f->core);
	assert_false(exec_of(f, "d1")->held);
	assert_non_null(exec_of(f, "d1")->command);
	finish_next(f, CMDBUS_STATE_SUCCEEDED);
	assert_int_equal(last_job(f)->state, CMDBUS_JOB_COMPLETED);
}

static void
test_canary(void **state)
{
	struct fx *f = *state;

	assert_int_equal(
	    create(f,
		   "{\"target\":{\"all\":true},\"action\":\"ping\","
		   "\"rollout\":{\"batch_size\":3,\"canary\":2}}",
		   NULL),
	    0);
	assert_int_equal(in_progress(f), 2);
	assert_non_null(strstr(f->view, "\"phase\":\"canary\""));
	finish_next(f, CMDBUS_STATE_SUCCEEDED);
	/* Nothing more until the whole canary has ended. */
	assert_int_equal(in_progress(f), 1);
	finish_next(f, CMDBUS_STATE_SUCCEEDED);
	assert_int_equal(in_progress(f), 3);

	/* A canary that fails aborts the rest. */
	assert_int_equal(
	    create(f,
		   "{\"target\":{\"all\":true},\"action\":\"ping\","
		   "\"rollout\":{\"canary\":2}}",
		   NULL),
	    0);
	finish_next(f, CMDBUS_STATE_FAILED);
	assert_int_equal(last_job(f)->aborted_at, 0);
	finish_next(f, CMDBUS_STATE_SUCCEEDED);
	assert_string_equal(last_job(f)->abort_reason,
			    "canary failed: 1 of 2 canary executions did not "
			    "succeed");
	assert_int_equal(last_job(f)->state, CMDBUS_JOB_ABORTED);
}

static void
test_restart_resumes(void **state)
{
	struct fx *f = *state;

	assert_int_equal(
	    create(f,
		   "{\"target\":{\"all\":true},\"action\":\"ping\","
		   "\"rollout\":{\"batch_size\":2}}",
		   NULL),
	    0);
	/* The dispatcher stops; both released executions end meanwhile. */
	core_fini(&f->core);
	f->fs.execs[0].state = CMDBUS_STATE_SUCCEEDED;
	f->fs.execs[1].state = CMDBUS_STATE_SUCCEEDED;
	fake_bus_clear(&f->bus);
	core_start(f);
	core_bus_connected(&f->core);
	core_flush(&f->core);
	assert_int_equal(in_progress(f), 2);
	assert_int_equal(f->bus.n, 2);
	for (int i = 0; i < 4; i++)
		finish_next(f, CMDBUS_STATE_SUCCEEDED);
	assert_int_equal(last_job(f)->state, CMDBUS_JOB_COMPLETED);
}

static void
test_resolve_figures(void **state)
{
	(void)state;
	struct cmdbus_rollout r = {.present = true,
				   .batch_size = 10,
				   .batch_pct = true,
				   .has_max_failure_pct = true,
				   .max_failure_pct = 25};
	struct job_rollout out;

	rollout_resolve(&r, 7, &out);
	assert_int_equal(out.batch, 1);	       /* ceil(0.7), at least 1 */
	assert_int_equal(out.max_failures, 1); /* floor(1.75) */
	rollout_resolve(&r, 100, &out);
	assert_int_equal(out.batch, 10);
	assert_int_equal(out.max_failures, 25);
	r.present = false;
	rollout_resolve(&r, 100, &out);
	assert_int_equal(out.batch, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_selector_and_resolution),
	    T(test_unknown_devices),
	    T(test_batch_never_exceeded),
	    T(test_max_failures_aborts),
	    T(test_abort_cancel_retried),
	    T(test_offline_skip_and_fail),
	    T(test_offline_turn_comes),
	    T(test_offline_wait),
	    T(test_canary),
	    T(test_restart_resumes),
	    cmocka_unit_test(test_resolve_figures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
