/* SPDX-License-Identifier: MIT */
/* The CLI's progress line: the counts, the rollout's phase and batch when
 * the job has one, and a plain separator when the terminal is not UTF-8;
 * and the table cells that keep a device's bytes off the terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "render.h"

static void
test_plain(void **state)
{
	struct progress p = {.total = 40,
			     .done = 12,
			     .succeeded = 10,
			     .failed = 1,
			     .offline = 1,
			     .elapsed_ms = 4250};
	char line[256];

	(void)state;
	progress_text(&p, line, sizeof(line));
	assert_string_equal(line, "12/40 done - 10 ok - 1 failed - 1 offline "
				  "- 4.2s");
	p.utf8 = true;
	progress_text(&p, line, sizeof(line));
	assert_string_equal(line, "12/40 done \xc2\xb7 10 ok \xc2\xb7 1 failed "
				  "\xc2\xb7 1 offline \xc2\xb7 4.2s");
}

static void
test_rollout(void **state)
{
	struct progress p = {.total = 40,
			     .done = 12,
			     .succeeded = 10,
			     .failed = 1,
			     .offline = 1,
			     .elapsed_ms = 4250,
			     .phase = "rolling",
			     .batch = 3};
	char line[256];

	(void)state;
	progress_text(&p, line, sizeof(line));
	assert_string_equal(line, "batch 3 - 12/40 done - 10 ok - 1 failed - "
				  "1 offline - 4.2s");
	p.phase = "canary";
	p.batch = 0;
	progress_text(&p, line, sizeof(line));
	assert_string_equal(line, "canary - 12/40 done - 10 ok - 1 failed - "
				  "1 offline - 4.2s");
	p.phase = "done";
	p.batch = 7;
	progress_text(&p, line, sizeof(line));
	assert_non_null(strstr(line, "batch 7 (last) - 12/40"));
	p.phase = "aborted";
	progress_text(&p, line, sizeof(line));
	assert_non_null(strstr(line, "aborted - 12/40"));
}

static void
test_first_line(void **state)
{
	char *s = render_first_line("a\033[2Jb\tc\nsecond", 100);

	(void)state;
	assert_string_equal(s, "a?[2Jb?c");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_rollout),
	    cmocka_unit_test(test_first_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
