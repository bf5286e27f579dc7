/* SPDX-License-Identifier: MIT */
/* The execution state machine: rank order, monotonic transitions,
 * terminal states that never change, and the derived job state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lifecycle.h"

static const enum cmdbus_state terminals[] = {
    CMDBUS_STATE_SUCCEEDED, CMDBUS_STATE_FAILED,   CMDBUS_STATE_TIMED_OUT,
    CMDBUS_STATE_CANCELED,  CMDBUS_STATE_REJECTED, CMDBUS_STATE_EXPIRED,
    CMDBUS_STATE_LOST,
};
#define NTERMINALS (sizeof terminals / sizeof terminals[0])

static void
test_rank_order(void **state)
{
	(void)state;
	assert_true(lifecycle_rank(CMDBUS_STATE_QUEUED) <
		    lifecycle_rank(CMDBUS_STATE_PUBLISHED));
	assert_true(lifecycle_rank(CMDBUS_STATE_PUBLISHED) <
		    lifecycle_rank(CMDBUS_STATE_DELIVERED));
	assert_int_equal(lifecycle_rank(CMDBUS_STATE_DELIVERED),
			 lifecycle_rank(CMDBUS_STATE_ACCEPTED));
	assert_true(lifecycle_rank(CMDBUS_STATE_DELIVERED) <
		    lifecycle_rank(CMDBUS_STATE_RUNNING));
	for (size_t i = 0; i < NTERMINALS; i++)
		assert_true(lifecycle_rank(CMDBUS_STATE_RUNNING) <
			    lifecycle_rank(terminals[i]));
}

static void
test_report_mapping(void **state)
{
	(void)state;
	assert_int_equal(lifecycle_from_report(CMDBUS_STATE_ACCEPTED),
			 CMDBUS_STATE_DELIVERED);
	assert_int_equal(lifecycle_from_report(CMDBUS_STATE_RUNNING),
			 CMDBUS_STATE_RUNNING);
}

static void
test_forward_moves_apply(void **state)
{
	(void)state;
	assert_int_equal(
	    lifecycle_decide(CMDBUS_STATE_QUEUED, CMDBUS_STATE_PUBLISHED),
	    LC_APPLY);
	/* A report may beat the PUBACK; a result may come without any
	 * report. */
	assert_int_equal(
	    lifecycle_decide(CMDBUS_STATE_QUEUED, CMDBUS_STATE_ACCEPTED),
	    LC_APPLY);
	assert_int_equal(
	    lifecycle_decide(CMDBUS_STATE_PUBLISHED, CMDBUS_STATE_RUNNING),
	    LC_APPLY);
	for (size_t i = 0; i < NTERMINALS; i++) {
		assert_int_equal(
		    lifecycle_decide(CMDBUS_STATE_QUEUED, terminals[i]),
		    LC_APPLY);
		assert_int_equal(
		    lifecycle_decide(CMDBUS_STATE_RUNNING, terminals[i]),
		    LC_APPLY);
	}
}

static void
test_backward_and_same_change_nothing(void **state)
{
	(void)state;
	/* A PUBACK after the agent's report, an ACCEPTED after RUNNING. */
	assert_int_equal(
	    lifecycle_decide(CMDBUS_STATE_DELIVERED, CMDBUS_STATE_PUBLISHED),
	    LC_STALE);
	assert_int_equal(
	    lifecycle_decide(CMDBUS_STATE_RUNNING, CMDBUS_STATE_ACCEPTED),
	    LC_STALE);
	/* A report sent twice. */
	assert_int_equal(
	    lifecycle_decide(CMDBUS_STATE_RUNNING, CMDBUS_STATE_RUNNING),
	    LC_SAME);
	assert_int_equal(
	    lifecycle_decide(CMDBUS_STATE_DELIVERED, CMDBUS_STATE_ACCEPTED),
	    LC_SAME);
}

static void
test_terminal_never_changes(void **state)
{
	(void)state;
	for (size_t i = 0; i < NTERMINALS; i++) {
		for (size_t k = 0; k < NTERMINALS; k++)
			assert_int_equal(
			    lifecycle_decide(terminals[i], terminals[k]),
			    LC_LATE);
		assert_int_equal(
		    lifecycle_decide(terminals[i], CMDBUS_STATE_RUNNING),
		    LC_STALE);
		assert_int_equal(
		    lifecycle_decide(terminals[i], CMDBUS_STATE_ACCEPTED),
		    LC_STALE);
		assert_int_equal(
		    lifecycle_decide(terminals[i], CMDBUS_STATE_PUBLISHED),
		    LC_STALE);
	}
}

static void
test_job_state(void **state)
{
	uint64_t counts[CMDBUS_STATE_COUNT] = {0};

	(void)state;
	counts[CMDBUS_STATE_SUCCEEDED] = 2;
	counts[CMDBUS_STATE_RUNNING] = 1;
	assert_int_equal(lifecycle_job_state(counts), CMDBUS_JOB_RUNNING);
	counts[CMDBUS_STATE_RUNNING] = 0;
	counts[CMDBUS_STATE_FAILED] = 1;
	counts[CMDBUS_STATE_LOST] = 1;
	assert_int_equal(lifecycle_job_state(counts), CMDBUS_JOB_COMPLETED);
	counts[CMDBUS_STATE_QUEUED] = 1;
	assert_int_equal(lifecycle_job_state(counts), CMDBUS_JOB_RUNNING);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rank_order),
	    cmocka_unit_test(test_report_mapping),
	    cmocka_unit_test(test_forward_moves_apply),
	    cmocka_unit_test(test_backward_and_same_change_nothing),
	    cmocka_unit_test(test_terminal_never_changes),
	    cmocka_unit_test(test_job_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
