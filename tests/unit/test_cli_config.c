/* SPDX-License-Identifier: MIT */
/* Where the CLI takes its URL and token from: the flag first, then the
 * environment, then ~/.config/cmdbus/config; a bad file or no URL at all
 * is a clear error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "args.h"
#include "common/err.h"

static char path[64];

static int
setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/cmdbus-cli-conf-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void
write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_order(void **state)
{
	struct cli_config c;
	char err[256];

	(void)state;
	write_file("# operator defaults\nurl http://file:1\ntoken ftok\n");
	/* The file alone. */
	assert_int_equal(cli_config_resolve(NULL, NULL, NULL, NULL, path, &c,
					    err, sizeof(err)),
			 0);
	assert_string_equal(c.url, "http://file:1");
	assert_string_equal(c.token, "ftok");
	cli_config_fini(&c);
	/* The environment beats the file. */
	assert_int_equal(cli_config_resolve(NULL, NULL, "http://env:2", "etok",
					    path, &c, err, sizeof(err)),
			 0);
	assert_string_equal(c.url, "http://env:2");
	assert_string_equal(c.token, "etok");
	cli_config_fini(&c);
	/* Flags beat both, each value on its own. */
	assert_int_equal(cli_config_resolve("http://flag:3", NULL,
					    "http://env:2", NULL, path, &c, err,
					    sizeof(err)),
			 0);
	assert_string_equal(c.url, "http://flag:3");
	assert_string_equal(c.token, "ftok");
	cli_config_fini(&c);
}

static void
test_missing_file(void **state)
{
	struct cli_config c;
	char err[256];

	(void)state;
	assert_int_equal(cli_config_resolve(NULL, NULL, "http://env:2", NULL,
					    "/nonexistent/cmdbus/config", &c,
					    err, sizeof(err)),
			 0);
	assert_string_equal(c.url, "http://env:2");
	assert_null(c.token);
	cli_config_fini(&c);
	/* No URL anywhere. */
	err[0] = '\0';
	assert_int_equal(cli_config_resolve(NULL, NULL, NULL, NULL,
					    "/nonexistent/cmdbus/config", &c,
					    err, sizeof(err)),
			 -ERR_CONFIG);
	assert_non_null(strstr(err, "CMDBUS_URL"));
}

static void
test_bad_file(void **state)
{
	struct cli_config c;
	char err[256];

	(void)state;
	write_file("url http://file:1\ncolour yes\n");
	err[0] = '\0';
	assert_int_equal(cli_config_resolve("http://flag:3", NULL, NULL, NULL,
					    path, &c, err, sizeof(err)),
			 -ERR_CONFIG);
	/* The message names the file and line. */
	assert_non_null(strstr(err, ":2"));
	assert_null(c.url);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
