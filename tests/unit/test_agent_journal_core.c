/* SPDX-License-Identifier: MIT */
/* The core over a journal on a fake file: failing closed with a failure
 * injected at every write and sync (nothing runs without a durable
 * RECEIVED, no result published that a crash could lose), a full disk
 * and its recovery, and the replay rules after a restart. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent_fake_core.h"
#include "agent_fake_file.h"
#include "common/err.h"
#include "journal.h"

/* ---- the core on the fake file ---- */

struct jc {
	struct clock_fake clk;
	struct core *core;
	struct ff *f;
	int spawn_calls;
	uint64_t last_token;
	int results;	 /* results published, journal_unavailable aside */
	int unavailable; /* journal_unavailable answers */
	int reports;
	char *last_result[16];
	char last_result_id[16][CMDBUS_ID_BUF];
	int kill_stale_calls;
	long stale_pgid;
	uint64_t stale_start;
};

static struct jc J;

/* The durable bytes, opened as a journal of their own. */
static void
durable_journal(struct journal *j, struct ff *copy)
{
	struct journal_io io;

	ff_durable_copy(J.f, copy);
	io = ff_io(copy);
	assert_int_equal(journal_open(j, &io, 0), 0);
}

static int
fake_publish(void *ud, enum cmdbus_kind kind, const char *msg, size_t len,
	     bool retain)
{
	struct cmdbus_envelope env;
	struct cmdbus_diag d;
	struct cmdbus_msg m;

	memset(&d, 0, sizeof(d));
	assert_int_equal(
	    cmdbus_envelope_unwrap(kind, msg, len, NULL, 0, &env, &d), 0);
	assert_int_equal(
	    cmdbus_msg_decode(env.payload, env.payload_len, &m, &d), 0);
	if (m.type == CMDBUS_MSG_REPORT) {
		J.reports++;
	} else if (m.type == CMDBUS_MSG_RESULT && m.u.result.has_error &&
		   strcmp(m.u.result.error_code, "journal_unavailable") == 0) {
		J.unavailable++;
	} else if (m.type == CMDBUS_MSG_RESULT) {
		/* Never a result that the journal could lose. */
		struct journal j;
		struct ff copy;
		char *stored = NULL;
		size_t slen;
		struct journal_entry *e;

		durable_journal(&j, &copy);
		e = journal_find(&j, m.u.result.id);
		assert_non_null(e);
		assert_int_equal(e->state, JREC_FINISHED);
		assert_int_equal(journal_read_msg(&j, e, &stored, &slen), 0);
		assert_int_equal(slen, len);
		assert_memory_equal(stored, msg, len);
		free(stored);
		journal_close(&j);
		ff_free(&copy);
		if (J.results < 16) {
			J.last_result[J.results] = strndup(msg, len);
			snprintf(J.last_result_id[J.results], CMDBUS_ID_BUF,
				 "%s", m.u.result.id);
		}
		J.results++;
	}
	cmdbus_msg_fini(&m);
	cmdbus_envelope_fini(&env);
	return 0;
}

static int
fake_spawn(void *ud, uint64_t token, const struct core_spawn *sp, long *pid)
{
	struct journal j;
	struct ff copy;
	struct journal_entry *e;

	/* Nothing runs unless its RECEIVED is durable. */
	durable_journal(&j, &copy);
	e = journal_find(&j, sp->id);
	assert_non_null(e);
	assert_true(e->state == JREC_RECEIVED || e->state == JREC_STARTED);
	journal_close(&j);
	ff_free(&copy);
	J.spawn_calls++;
	J.last_token = token;
	*pid = 4242;
	return 0;
}

static void
fake_terminate(void *ud, uint64_t token)
{
}

static int
fake_sysinfo(void *ud, struct cmdbus_info *info)
{
	return -ENOSYS;
}

static int
fake_proc_start(void *ud, long pid, uint64_t *start)
{
	*start = 777;
	return 0;
}

static void
fake_kill_stale(void *ud, long pgid, uint64_t start)
{
	J.kill_stale_calls++;
	J.stale_pgid = pgid;
	J.stale_start = start;
}

static int
core_start(struct ff *f)
{
	struct core_config cfg;
	struct core_ports ports;
	struct journal_io io = ff_io(f);
	char err[160];

	memset(&cfg, 0, sizeof(cfg));
	cfg.device_id = "dev-1";
	cfg.prefix = "cmdbus/v1";
	cfg.boot_id = BOOT;
	cfg.exec_enabled = true;
	cfg.clock_skew_ms = SKEW;
	cfg.clock = &J.clk.clock;
	cfg.journal = &io; /* copied by core_new() */
	memset(&ports, 0, sizeof(ports));
	ports.publish = fake_publish;
	ports.spawn = fake_spawn;
	ports.terminate = fake_terminate;
	ports.sysinfo = fake_sysinfo;
	ports.proc_start = fake_proc_start;
	ports.kill_stale = fake_kill_stale;
	J.f = f;
	return core_new(&cfg, &ports, &J.core, err, sizeof(err));
}

static void
tc_reset(void)
{
	for (int i = 0; i < 16; i++)
		free(J.last_result[i]);
	memset(&J, 0, sizeof(J));
	clock_fake_init(&J.clk, NOW);
}

static void
deliver_idem(const char *id, const char *action, const char *args, bool idem)
{
	char payload[1024];

	snprintf(payload, sizeof(payload),
		 "{\"type\":\"command\",\"id\":\"%s\",\"device\":\"dev-1\","
		 "\"iat\":%llu,\"exp\":%llu,\"timeout_ms\":30000,"
		 "\"action\":\"%s\",\"args\":%s,\"idempotent\":%s}",
		 id, (unsigned long long)NOW,
		 (unsigned long long)(NOW + 3600000), action, args,
		 idem ? "true" : "false");
	core_deliver(J.core, "dev-1", payload, NULL);
}

static void
deliver_cancel(const char *id)
{
	core_deliver(J.core, "dev-1", cancel(id), NULL);
}

static void
exit_ok(void)
{
	core_exit_empty(J.core, J.last_token, 0);
}

#define ID_A "01JAAAAAAAAAAAAAAAAAAAAAAA"
#define ID_B "01JBBBBBBBBBBBBBBBBBBBBBBB"
#define ID_C "01JCCCCCCCCCCCCCCCCCCCCCCC"
#define ID_D "01JDDDDDDDDDDDDDDDDDDDDDDD"

/* Everything that writes the journal, once. Returns the calls made. */
static int
scenario(int fail_at)
{
	struct ff f = {0};
	int calls, rc;

	tc_reset();
	f.fail_at = fail_at;
	rc = core_start(&f);
	if (rc) {
		/* Failing to create the journal fails the start. */
		assert_true(fail_at >= 1);
		calls = f.calls;
		ff_free(&f);
		return calls;
	}
	deliver_idem(ID_A, "exec", "{\"argv\":[\"true\"]}",
		     false); /* RECEIVED */
	if (J.spawn_calls)
		exit_ok();			   /* FINISHED */
	deliver_idem(ID_B, "nosuch", "{}", false); /* rejection */
	deliver_cancel(ID_C);			   /* tombstone */
	deliver_idem(ID_C, "ping", "{}", false);   /* CANCELED */
	core_tick(J.core); /* a result that waited is written now */
	deliver_idem(ID_D, "ping", "{}", false);
	core_tick(J.core);
	/* The journal works again: D ran, or, when the failure hit its own
	 * RECEIVED, was refused unremembered and runs when sent again. */
	if (J.results == 0 ||
	    strcmp(J.last_result_id[J.results - 1], ID_D) != 0) {
		assert_true(J.unavailable > 0);
		deliver_idem(ID_D, "ping", "{}", false);
	}
	assert_int_equal(J.results > 0, 1);
	assert_string_equal(J.last_result_id[J.results - 1], ID_D);
	/* A: run once at most, and answered: its result, or (its RECEIVED
	 * not durable) journal_unavailable without running. */
	assert_true(J.spawn_calls <= 1);
	calls = f.calls;

	/* Crash and restart: every result published is still there, byte
	 * for byte, and a re-send gets exactly it. */
	core_free(J.core);
	ff_crash(&f);
	f.fail_at = 0;
	{
		int published = J.results;
		char *saved[16];
		char ids[16][CMDBUS_ID_BUF];

		for (int i = 0; i < published && i < 16; i++) {
			saved[i] = J.last_result[i];
			J.last_result[i] = NULL;
			memcpy(ids[i], J.last_result_id[i], CMDBUS_ID_BUF);
		}
		tc_reset();
		assert_int_equal(core_start(&f), 0);
		core_on_connect(J.core);
		for (int i = 0; i < published && i < 16; i++) {
			int before = J.results, spawns = J.spawn_calls;
			deliver_idem(ids[i], "exec", "{\"argv\":[\"true\"]}",
				     false);
			assert_int_equal(J.spawn_calls, spawns);
			assert_int_equal(J.results, before + 1);
			assert_string_equal(J.last_result[J.results - 1],
					    saved[i]);
			free(saved[i]);
		}
	}
	core_free(J.core);
	J.core = NULL;
	ff_free(&f);
	tc_reset();
	return calls;
}

static void
fails_closed_at_every_write_and_sync(void **state)
{
	int total = scenario(0);

	assert_true(total >= 10);
	for (int n = 1; n <= total; n++)
		scenario(n);
}

static void
full_disk_then_recovery(void **state)
{
	struct ff f = {0};

	tc_reset();
	assert_int_equal(core_start(&f), 0);
	deliver_idem(ID_A, "exec", "{\"argv\":[\"sleep\",\"1\"]}", false);
	assert_int_equal(J.spawn_calls, 1);

	f.fail_all = true;
	deliver_idem(ID_B, "exec", "{\"argv\":[\"true\"]}", false);
	assert_int_equal(J.spawn_calls, 1); /* never ran */
	assert_int_equal(J.unavailable, 1);
	exit_ok(); /* A ends while the disk is full: not published yet */
	assert_int_equal(J.results, 0);
	core_tick(J.core);
	assert_int_equal(J.results, 0);

	f.fail_all = false;
	core_tick(J.core);
	assert_int_equal(J.results, 1);
	assert_string_equal(J.last_result_id[0], ID_A);
	deliver_idem(ID_B, "exec", "{\"argv\":[\"true\"]}", false);
	assert_int_equal(J.spawn_calls, 2); /* B was not remembered */
	core_free(J.core);
	J.core = NULL;
	ff_free(&f);
	tc_reset();
}

static void
replay_after_restart(void **state)
{
	struct ff f = {0};
	char *pong;
	int reports;

	tc_reset();
	assert_int_equal(core_start(&f), 0);
	deliver_idem(ID_A, "exec", "{\"argv\":[\"sleep\",\"9\"]}", false);
	deliver_idem(ID_B, "ping", "{}", false);
	deliver_idem(ID_C, "exec", "{\"argv\":[\"sleep\",\"9\"]}", true);
	assert_int_equal(J.spawn_calls, 2);
	assert_int_equal(J.results, 1);
	pong = J.last_result[0];
	J.last_result[0] = NULL;
	/* kill -9: no results for A and C. */
	core_free(J.core);
	ff_crash(&f);

	tc_reset();
	assert_int_equal(core_start(&f), 0);
	/* The groups left over are killed by pid and start time. */
	assert_int_equal(J.kill_stale_calls, 2);
	assert_int_equal(J.stale_pgid, 4242);
	assert_int_equal(J.stale_start, 777);
	assert_int_equal(J.results + J.reports, 0); /* not before connect */
	core_on_connect(J.core);
	/* A: LOST/interrupted; C (idempotent, valid): a new run. */
	assert_int_equal(J.results, 1);
	assert_string_equal(J.last_result_id[0], ID_A);
	assert_non_null(strstr(J.last_result[0], "interrupted"));
	assert_non_null(strstr(J.last_result[0], "LOST"));
	assert_int_equal(J.spawn_calls, 1);
	reports = J.reports;
	assert_true(reports >= 2); /* ACCEPTED and RUNNING of C */

	/* B again: the stored result, byte for byte, nothing runs. */
	deliver_idem(ID_B, "ping", "{}", false);
	assert_int_equal(J.results, 2);
	assert_string_equal(J.last_result[1], pong);
	/* A again: the same LOST answer. */
	deliver_idem(ID_A, "exec", "{\"argv\":[\"sleep\",\"9\"]}", false);
	assert_int_equal(J.results, 3);
	assert_string_equal(J.last_result[2], J.last_result[0]);
	/* C again while it runs: its latest report, no second run. */
	deliver_idem(ID_C, "exec", "{\"argv\":[\"sleep\",\"9\"]}", true);
	assert_int_equal(J.spawn_calls, 1);
	assert_int_equal(J.reports, reports + 1);
	free(pong);
	core_free(J.core);
	J.core = NULL;

	/* A second restart long after exp: C is LOST, not run again. */
	ff_crash(&f);
	tc_reset();
	clock_fake_init(&J.clk, NOW + 3600000 + SKEW + 1);
	assert_int_equal(core_start(&f), 0);
	core_on_connect(J.core);
	assert_int_equal(J.spawn_calls, 0);
	assert_int_equal(J.results, 1);
	assert_string_equal(J.last_result_id[0], ID_C);
	assert_non_null(strstr(J.last_result[0], "interrupted"));
	core_free(J.core);
	J.core = NULL;
	ff_free(&f);
	tc_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fails_closed_at_every_write_and_sync),
	    cmocka_unit_test(full_disk_then_recovery),
	    cmocka_unit_test(replay_after_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
