/* SPDX-License-Identifier: MIT */
/* Tests of err_str: errno text, every project code, and unknown values. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"

static void
test_errno(void **state)
{
	(void)state;
	assert_string_equal(err_str(0), "success");
	assert_string_equal(err_str(-ENOENT), strerror(ENOENT));
	assert_string_equal(err_str(-ENOMEM), strerror(ENOMEM));
	assert_string_equal(err_str(-EINVAL), "Invalid argument");
}

static void
test_project_codes(void **state)
{
	(void)state;
	assert_string_equal(err_str(-ERR_CONFIG), "invalid configuration");
	assert_string_equal(err_str(-ERR_MALFORMED), "malformed message");
	/* Every code has its own sentence. */
	for (int a = ERR_BASE + 1; a < ERR_LAST; a++) {
		const char *s = err_str(-a);

		assert_non_null(s);
		assert_true(strlen(s) > 0);
		assert_string_not_equal(s, "unknown error");
		for (int b = a + 1; b < ERR_LAST; b++)
			assert_string_not_equal(s, err_str(-b));
	}
	assert_string_equal(err_str(-ERR_BASE), "unknown error");
	assert_string_equal(err_str(-ERR_LAST), "unknown error");
	assert_string_equal(err_str(INT_MIN), "unknown error");
	assert_non_null(err_str(-9999));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errno),
	    cmocka_unit_test(test_project_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
