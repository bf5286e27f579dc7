/* SPDX-License-Identifier: MIT */
/* The journal's index: many ids each found, at open too; forgetting
 * only what is past its keep-until time, in sweeps a minute apart, with
 * the index rebuilt and its memory given back; a replay answered from the
 * journal after older ids were forgotten around it; RECEIVED and the
 * result of a ping in one write; zeros after the last record read as
 * room, not loss, and a file of zeros only as a new journal. */
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
#include "journal.h"

static void
make_id(char *id, size_t n, const char *prefix, int i)
{
	snprintf(id, n, "%s%020d", prefix, i);
}

static void
finish(struct journal *j, const char *id, uint64_t keep)
{
	assert_int_equal(journal_finished(j, id, keep, "{\"r\":1}", 7), 0);
}

/* ---- lookups ---- */

static void
many_ids_each_found(void **state)
{
	enum { N = 50000 };
	struct ff f = {0};
	struct journal_io io = ff_io(&f);
	struct journal j;
	char id[CMDBUS_ID_BUF];

	assert_int_equal(journal_open(&j, &io, 0), 0);
	for (int i = 0; i < N; i++) {
		make_id(id, sizeof(id), "01JMANY", i);
		finish(&j, id, 90000);
	}
	assert_int_equal(j.n, N);
	/* At most half full, so a probe stays short. */
	assert_true(j.hcap >= 2 * j.n);
	journal_close(&j);

	/* Built again from the file at open: every id found, once. */
	assert_int_equal(journal_open(&j, &io, 0), 0);
	assert_int_equal(j.n, N);
	for (int i = 0; i < N; i++) {
		struct journal_entry *e;
		make_id(id, sizeof(id), "01JMANY", i);
		e = journal_find(&j, id);
		assert_non_null(e);
		assert_string_equal(e->id, id);
		assert_int_equal(e->state, JREC_FINISHED);
	}
	for (int i = 0; i < 1000; i++) {
		make_id(id, sizeof(id), "01JNONE", i);
		assert_null(journal_find(&j, id));
	}
	/* A record for a known id updates its entry, adds none. */
	make_id(id, sizeof(id), "01JMANY", 77);
	assert_int_equal(journal_tombstone(&j, id, 95000), 0);
	assert_int_equal(j.n, N);
	assert_int_equal(journal_find(&j, id)->state, JREC_TOMBSTONE);
	journal_close(&j);
	ff_free(&f);
}

/* ---- forgetting ---- */

static void
sweep_forgets_only_what_is_past_keep(void **state)
{
	enum { N = 4000 };
	struct journal j;
	char id[CMDBUS_ID_BUF];
	size_t cap;

	assert_int_equal(journal_open(&j, NULL, 0), 0);
	for (int i = 0; i < N; i++) {
		make_id(id, sizeof(id), "01JKEEP", i);
		/* One in a hundred is remembered for long. */
		finish(&j, id, i % 100 == 0 ? 900000 : 1000);
	}
	assert_int_equal(journal_received(&j, "01JRUNNINGRUNNINGRUNNING00",
					  "ab", 10, 1, false, NULL, 0),
			 0);
	cap = j.cap;

	/* Nothing is forgotten before its keep_until. */
	assert_int_equal(journal_maintain(&j, 1000), 0);
	assert_int_equal(j.n, N + 1);

	assert_int_equal(journal_maintain(&j, 1000 + JOURNAL_SWEEP_MS), 0);
	/* The forty kept for long and the run, which is never forgotten. */
	assert_int_equal(j.n, N / 100 + 1);
	assert_true(j.cap < cap);
	assert_true(j.hcap >= 2 * j.n);
	for (int i = 0; i < N; i++) {
		make_id(id, sizeof(id), "01JKEEP", i);
		if (i % 100 == 0)
			assert_non_null(journal_find(&j, id));
		else
			assert_null(journal_find(&j, id));
	}
	assert_non_null(journal_find(&j, "01JRUNNINGRUNNINGRUNNING00"));
	/* The index takes new ids after the sweep. */
	finish(&j, "01JAFTERAFTERAFTERAFTER000", 900000);
	assert_non_null(journal_find(&j, "01JAFTERAFTERAFTERAFTER000"));
	journal_close(&j);
}

static void
sweeps_are_a_minute_apart(void **state)
{
	struct journal j;

	assert_int_equal(journal_open(&j, NULL, 0), 0);
	finish(&j, "01JFIRSTFIRSTFIRSTFIRST000", 1000);
	assert_int_equal(journal_maintain(&j, 2000), 0);
	assert_null(journal_find(&j, "01JFIRSTFIRSTFIRSTFIRST000"));

	finish(&j, "01JSECONDSECONDSECONDSEC00", 2500);
	finish(&j, "01JLONGLONGLONGLONGLONG000", 900000);
	/* Due, but the last sweep was less than a minute ago: remembered a
	 * little longer than promised, never less. */
	assert_int_equal(journal_maintain(&j, 3000), 0);
	assert_non_null(journal_find(&j, "01JSECONDSECONDSECONDSEC00"));
	assert_int_equal(journal_maintain(&j, 2000 + JOURNAL_SWEEP_MS), 0);
	assert_null(journal_find(&j, "01JSECONDSECONDSECONDSEC00"));
	assert_non_null(journal_find(&j, "01JLONGLONGLONGLONGLONG000"));
	journal_close(&j);
}

static void
pending_results_counted(void **state)
{
	struct ff f = {0};
	struct journal_io io = ff_io(&f);
	struct journal j;

	assert_int_equal(journal_open(&j, &io, 0), 0);
	assert_int_equal(journal_received(&j, "01JPENDPENDPENDPENDPEND000",
					  "ab", 10, 90000, false, NULL, 0),
			 0);
	f.fail_all = true;
	assert_int_not_equal(journal_finished(&j, "01JPENDPENDPENDPENDPEND000",
					      90000, "{\"r\":1}", 7),
			     0);
	assert_int_equal(j.npending, 1);
	/* Not forgettable while its result waits (the repair of the file
	 * fails meanwhile). */
	assert_int_not_equal(journal_maintain(&j, 100000), 0);
	assert_non_null(journal_find(&j, "01JPENDPENDPENDPENDPEND000"));
	f.fail_all = false;
	journal_retry(&j, NULL, NULL);
	assert_int_equal(j.npending, 0);
	assert_int_equal(journal_find(&j, "01JPENDPENDPENDPENDPEND000")->state,
			 JREC_FINISHED);
	journal_close(&j);
	ff_free(&f);
}

/* ---- a replay after forgetting ---- */

static void
replay_within_window_after_older_ids_are_forgotten(void **state)
{
	char id[CMDBUS_ID_BUF], *first = NULL;
	size_t first_len = 0;
	uint64_t runs;

	tc_start(false, NULL, 0, 0);
	/* Old ids valid for a minute, the one replayed later for a day,
	 * interleaved so that it moves when the index is compacted. */
	for (int i = 0; i < 300; i++) {
		make_id(id, sizeof(id), "01JOLD", i);
		deliver(
		    command(id, "dev-1", NOW, NOW + 60000, 1000, "ping", "{}"));
		if (i == 150) {
			tc_clear_pubs(&T);
			deliver(command("01JREPLAYREPLAYREPLAYREP00", "dev-1",
					NOW, NOW + 86400000, 1000, "ping",
					"{}"));
			assert_int_equal(T.npubs, 2);
			expect_report(0, CMDBUS_STATE_ACCEPTED);
			first_len = T.pubs[1].len;
			first = malloc(first_len);
			assert_non_null(first);
			memcpy(first, T.pubs[1].msg, first_len);
		}
		tc_clear_pubs(&T);
	}
	runs = core_get_stats(T.core)->runs;
	assert_int_equal(runs, 301);

	/* Past the old ids' window (exp + skew + margin) and a sweep. */
	clock_fake_advance(&T.clk, 60000 + SKEW + CORE_KEEP_MARGIN_MS + 1);
	core_tick(T.core);
	clock_fake_advance(&T.clk, JOURNAL_SWEEP_MS);
	core_tick(T.core);

	/* Still within its window: answered from the journal, byte for
	 * byte, and not run again. */
	deliver(command("01JREPLAYREPLAYREPLAYREP00", "dev-1", NOW,
			NOW + 86400000, 1000, "ping", "{}"));
	assert_int_equal(T.npubs, 1);
	assert_int_equal(T.pubs[0].len, first_len);
	assert_memory_equal(T.pubs[0].msg, first, first_len);
	assert_int_equal(core_get_stats(T.core)->runs, runs);
	assert_int_equal(core_get_stats(T.core)->duplicates, 1);
	tc_clear_pubs(&T);

	/* An old id was forgotten: past its exp now, it is answered
	 * EXPIRED, not with its stored result. */
	make_id(id, sizeof(id), "01JOLD", 7);
	deliver(command(id, "dev-1", NOW, NOW + 60000, 1000, "ping", "{}"));
	assert_int_equal(T.npubs, 1);
	expect_error(0, CMDBUS_STATE_EXPIRED, "expired");
	assert_int_equal(core_get_stats(T.core)->runs, runs);
	free(first);
}

/* ---- one write for a ping ---- */

static void
ran_is_one_write(void **state)
{
	struct ff f = {0};
	struct journal_io io = ff_io(&f);
	struct journal j;
	struct journal_entry *e;
	char *buf = NULL;
	size_t len;
	int calls;

	assert_int_equal(journal_open(&j, &io, 0), 0);
	calls = f.calls;
	assert_int_equal(journal_ran(&j, "01JRANRANRANRANRANRANRAN00", "ab",
				     5000, 9000, true, "{cmd}", 5, "{result}",
				     8),
			 0);
	/* One append and one sync. */
	assert_int_equal(f.calls - calls, 2);
	journal_close(&j);

	assert_int_equal(journal_open(&j, &io, 0), 0);
	assert_int_equal(j.stats.loaded, 2);
	e = journal_find(&j, "01JRANRANRANRANRANRANRAN00");
	assert_non_null(e);
	assert_int_equal(e->state, JREC_FINISHED);
	assert_int_equal(e->exp, 5000);
	assert_int_equal(e->keep_until, 9000);
	assert_int_equal(journal_read_cmd(&j, e, &buf, &len), 0);
	assert_memory_equal(buf, "{cmd}", 5);
	free(buf);
	assert_int_equal(journal_read_msg(&j, e, &buf, &len), 0);
	assert_memory_equal(buf, "{result}", 8);
	free(buf);
	journal_close(&j);

	/* Neither record when the write fails. */
	f.fail_all = true;
	assert_int_equal(journal_open(&j, &io, 0), 0);
	assert_int_not_equal(journal_ran(&j, "01JFAILFAILFAILFAILFAIL000", "ab",
					 5000, 9000, false, NULL, 0, "{result}",
					 8),
			     0);
	assert_null(journal_find(&j, "01JFAILFAILFAILFAILFAIL000"));
	journal_close(&j);
	ff_free(&f);
}

/* ---- zeros after the last record ---- */

static void
zero_tail_is_room(void **state)
{
	char zeros[4096] = {0};
	struct ff f = {0};
	struct journal_io io = ff_io(&f);
	struct journal j;
	size_t good;

	io.zero_tail = true;
	assert_int_equal(journal_open(&j, &io, 0), 0);
	finish(&j, "01JZEROZEROZEROZEROZERO000", 9000);
	good = (size_t)j.size;
	journal_close(&j);

	/* What the file was grown with: no loss. */
	ff_put(&f, zeros, sizeof(zeros));
	assert_int_equal(journal_open(&j, &io, 0), 0);
	assert_int_equal(j.stats.dropped_tail, 0);
	assert_int_equal(j.stats.corrupt, 0);
	assert_non_null(journal_find(&j, "01JZEROZEROZEROZEROZERO000"));
	assert_int_equal(f.len, good);
	journal_close(&j);

	/* A record torn over the zeros: a torn tail of its own bytes. */
	ff_put(&f, "\x40\x00\x00\x00\x01\x02", 6);
	ff_put(&f, zeros, sizeof(zeros));
	assert_int_equal(journal_open(&j, &io, 0), 0);
	assert_int_equal(j.stats.dropped_tail, 6);
	assert_int_equal(j.stats.corrupt, 0);
	assert_non_null(journal_find(&j, "01JZEROZEROZEROZEROZERO000"));
	journal_close(&j);
	ff_free(&f);

	/* Grown, then a crash before its magic reached the disk: nothing
	 * was ever recorded in it, so it starts again. */
	memset(&f, 0, sizeof(f));
	io = ff_io(&f);
	ff_put(&f, zeros, sizeof(zeros));
	assert_int_equal(journal_open(&j, &io, 0), 0);
	assert_int_equal(j.n, 0);
	assert_int_equal(f.len, JOURNAL_MAGIC_LEN);
	assert_memory_equal(f.data, JOURNAL_MAGIC, JOURNAL_MAGIC_LEN);
	journal_close(&j);
	ff_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(many_ids_each_found),
	    cmocka_unit_test(sweep_forgets_only_what_is_past_keep),
	    cmocka_unit_test(sweeps_are_a_minute_apart),
	    cmocka_unit_test(pending_results_counted),
	    cmocka_unit_test_teardown(
		replay_within_window_after_older_ids_are_forgotten,
		tc_teardown),
	    cmocka_unit_test(ran_is_one_write),
	    cmocka_unit_test(zero_tail_is_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
