/* SPDX-License-Identifier: MIT */
/* Live output of a streaming run: chunked, capped at max_output,
 * rate limited, and flushed before the result that ends it. */
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

/* Output chunk i: its stream, seq and data length. */
static void
expect_chunk(size_t i, bool is_err, uint64_t seq, size_t len)
{
	struct cmdbus_msg m;

	pub_decode(i, &m);
	assert_int_equal(m.type, CMDBUS_MSG_OUTPUT);
	assert_int_equal(m.u.output.is_stderr, is_err);
	assert_int_equal(m.u.output.seq, seq);
	assert_int_equal(m.u.output.data.len, len);
	cmdbus_msg_fini(&m);
}

static void
live_output_is_chunked_capped_and_rate_limited(void **state)
{
	static char big[70000];
	char p[512];
	size_t n;

	memset(big, 'x', sizeof(big));
	tc_start(true, NULL, 0, 3600000);
	snprintf(p, sizeof(p),
		 "{\"type\":\"command\",\"id\":\"01JEXEC0000000000000000061\","
		 "\"device\":\"dev-1\",\"iat\":%llu,\"exp\":%llu,"
		 "\"timeout_ms\":30000,\"action\":\"exec\","
		 "\"args\":{\"argv\":[\"yes\"]},\"max_output\":40000,"
		 "\"stream\":true}",
		 (unsigned long long)NOW, (unsigned long long)(NOW + 60000));
	deliver(p);
	assert_int_equal(T.npubs, 2); /* ACCEPTED, RUNNING */
	/* The first bytes go at once. */
	core_on_output(T.core, T.last_token, false, "hello", 5);
	assert_int_equal(T.npubs, 3);
	expect_chunk(2, false, 0, 5);
	/* Within 100 ms more is held and coalesced. */
	clock_fake_advance(&T.clk, 50);
	core_on_output(T.core, T.last_token, false, " wor", 4);
	core_on_output(T.core, T.last_token, false, "ld", 2);
	core_on_output(T.core, T.last_token, true, "err", 3);
	assert_int_equal(T.npubs, 4); /* stderr's first chunk only */
	expect_chunk(3, true, 0, 3);
	clock_fake_advance(&T.clk, 50);
	core_tick(T.core);
	assert_int_equal(T.npubs, 5);
	expect_chunk(4, false, 1, 6);
	/* A flood: at most one chunk of at most 16 KiB per interval, and
	 * nothing past max_output (40000, 11 bytes of it sent). */
	core_on_output(T.core, T.last_token, false, big, sizeof(big));
	assert_int_equal(T.npubs, 5);
	for (uint64_t seq = 2; seq <= 4; seq++) {
		clock_fake_advance(&T.clk, 100);
		core_tick(T.core);
		core_tick(T.core); /* no second chunk in the same interval */
		assert_int_equal(T.npubs, 4 + seq);
	}
	expect_chunk(5, false, 2, 16384);
	expect_chunk(6, false, 3, 16384);
	expect_chunk(7, false, 4, 40000 - 11 - 2 * 16384);
	clock_fake_advance(&T.clk, 100);
	core_on_output(T.core, T.last_token, false, "more", 4);
	core_tick(T.core);
	assert_int_equal(T.npubs, 8);
	/* What is held when the run ends goes before the result. */
	core_on_output(T.core, T.last_token, true, "late", 4); /* due */
	core_on_output(T.core, T.last_token, true, "r", 1);    /* held */
	n = T.npubs;
	expect_chunk(n - 1, true, 1, 4);
	exit_last(0);
	expect_chunk(n, true, 2, 1);
	pub_decode(n + 1, &T.msg_scratch);
	assert_int_equal(T.msg_scratch.type, CMDBUS_MSG_RESULT);
	cmdbus_msg_fini(&T.msg_scratch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(
		live_output_is_chunked_capped_and_rate_limited, tc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
