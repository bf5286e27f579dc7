/* SPDX-License-Identifier: MIT */
/* Tests of the log module: the line a sink receives, escaping of control
 * and non-ASCII bytes, the length cap, the threshold (arguments not
 * evaluated below it), level names, and the stderr line format. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"

struct capture {
	int calls;
	enum log_level level;
	char line[8192];
};

static void
sink(enum log_level level, const char *line, void *ud)
{
	struct capture *c = ud;

	c->calls++;
	c->level = level;
	snprintf(c->line, sizeof(c->line), "%s", line);
}

static int evaluated;

static int
counted(void)
{
	return ++evaluated;
}

static int
setup(void **state)
{
	(void)state;
	log_init("test", LOG_LVL_INFO, false);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	log_set_sink(NULL, NULL);
	return 0;
}

static void
test_sink_line(void **state)
{
	struct capture c = {0};

	(void)state;
	log_set_sink(sink, &c);
	log_info("job.created", "job=%s devices=%d", "01ABC", 3);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.level, LOG_LVL_INFO);
	assert_string_equal(c.line, "job.created job=01ABC devices=3");
	log_error("shutdown", "%s", "");
	assert_string_equal(c.line, "shutdown");
	assert_int_equal(c.level, LOG_LVL_ERROR);
}

static void
test_escaping(void **state)
{
	struct capture c = {0};

	(void)state;
	log_set_sink(sink, &c);
	log_warn("msg.bad", "device=%s", "evil\nfake 1970 info x: forged\r\t");
	assert_string_equal(
	    c.line,
	    "msg.bad device=evil\\x0afake 1970 info x: forged\\x0d\\x09");
	log_warn("msg.bad", "v=%s", "caf\xc3\xa9 \x1b[31m \x7f");
	assert_string_equal(c.line, "msg.bad v=caf\\xc3\\xa9 \\x1b[31m \\x7f");
	/* The event name is escaped too. */
	log_warn("a\nb", "k=v");
	assert_string_equal(c.line, "a\\x0ab k=v");
	assert_null(strchr(c.line, '\n'));
}

static void
test_cap(void **state)
{
	struct capture c = {0};
	char big[5000];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_set_sink(sink, &c);
	log_info("big", "v=%s", big);
	assert_int_equal(strlen(c.line), 2048);
	assert_string_equal(c.line + 2045, "...");
	assert_memory_equal(c.line, "big v=aaaa", 10);

	/* Escapes count against the cap and are never cut in half. */
	memset(big, '\n', sizeof(big) - 1);
	log_info("big", "v=%s", big);
	assert_true(strlen(c.line) <= 2048);
	assert_string_equal(c.line + strlen(c.line) - 7, "\\x0a...");
}

static void
test_threshold(void **state)
{
	struct capture c = {0};

	(void)state;
	log_set_sink(sink, &c);
	evaluated = 0;
	log_set_level(LOG_LVL_WARN);
	assert_int_equal(log_threshold, LOG_LVL_WARN);
	log_info("skipped", "n=%d", counted());
	log_debug("skipped", "n=%d", counted());
	assert_int_equal(evaluated, 0);
	assert_int_equal(c.calls, 0);
	log_warn("kept", "n=%d", counted());
	assert_int_equal(evaluated, 1);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.line, "kept n=1");
	/* Direct calls below the threshold are dropped as well. */
	log_write(LOG_LVL_DEBUG, "direct", "x=1");
	assert_int_equal(c.calls, 1);
	log_set_level(LOG_LVL_DEBUG);
	log_debug("now", "n=%d", counted());
	assert_int_equal(evaluated, 2);
	assert_int_equal(c.calls, 2);
	assert_int_equal(c.level, LOG_LVL_DEBUG);
	log_set_level(LOG_LVL_INFO);
}

static void
test_level_parse(void **state)
{
	enum log_level l = LOG_LVL_INFO;

	(void)state;
	assert_int_equal(log_level_parse("error", &l), 0);
	assert_int_equal(l, LOG_LVL_ERROR);
	assert_int_equal(log_level_parse("warn", &l), 0);
	assert_int_equal(l, LOG_LVL_WARN);
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_LVL_DEBUG);
	assert_int_equal(log_level_parse("info", &l), 0);
	assert_int_equal(l, LOG_LVL_INFO);
	assert_int_equal(log_level_parse("warning", &l), -EINVAL);
	assert_int_equal(log_level_parse("", &l), -EINVAL);
	assert_int_equal(log_level_parse("INFO", &l), -EINVAL);
	assert_int_equal(log_level_parse(NULL, &l), -EINVAL);
	assert_int_equal(l, LOG_LVL_INFO);
}

/* Points stderr at a temporary file for the duration of one log call
 * and returns what was written. */
static void
test_stderr_format(void **state)
{
	char path[] = "/tmp/cmdbus-log-XXXXXX";
	char out[4096], expect_tail[128];
	int fd, saved, errno_before;
	ssize_t n;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	errno = EAGAIN;
	log_info("job.created", "job=%s", "J1\n");
	errno_before = errno;
	log_debug("hidden", "x=1");
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	assert_int_equal(errno_before, EAGAIN); /* logging keeps errno */
	n = pread(fd, out, sizeof(out) - 1, 0);
	close(fd);
	assert_true(n > 0);
	out[n] = '\0';
	/* 2026-11-21T05:56:00.123Z info test[PID]: job.created job=J1\x0a */
	assert_int_equal(strlen(out), (size_t)n);
	assert_int_equal(out[4], '-');
	assert_int_equal(out[10], 'T');
	assert_int_equal(out[19], '.');
	assert_int_equal(out[23], 'Z');
	assert_memory_equal(out + 24, " info test[", 11);
	snprintf(expect_tail, sizeof(expect_tail),
		 "[%ld]: job.created job=J1\\x0a\n", (long)getpid());
	assert_non_null(strstr(out, expect_tail));
	/* Exactly one line: the debug line was below the threshold. */
	assert_ptr_equal(strchr(out, '\n'), out + n - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sink_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threshold, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_level_parse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stderr_format, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
