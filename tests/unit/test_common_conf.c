/* SPDX-License-Identifier: MIT */
/* Tests of the table-driven configuration parser: a good file with every
 * type, each kind of bad file with its file:line message, flags through
 * conf_set, check hooks, and freeing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/conf.h"
#include "common/err.h"

struct cfg {
	char *name;
	char *token_file;
	uint64_t port;
	bool verbose;
	uint64_t keepalive;
	uint64_t max_output;
	struct conf_list labels;
	int proto;
	char *checked;
};

static int
check_no_x(const char *value, char *err, size_t errlen)
{
	if (strchr(value, 'x') != NULL) {
		snprintf(err, errlen, "must not contain 'x'");
		return -EINVAL;
	}
	return 0;
}

static const char *const protos[] = {"5", "311", NULL};

#define OPT(n, t, f, lo, hi, d)                                                \
	{                                                                      \
		.name = n, .type = t, .offset = offsetof(struct cfg, f),       \
		.min = lo, .max = hi, .def = d, .help = "help for " n,         \
	}

static const struct conf_option table[] = {
    OPT("name", CONF_STRING, name, 0, 16, "default-name"),
    OPT("token_file", CONF_STRING, token_file, 0, 255, NULL),
    OPT("port", CONF_U64, port, 1, 65535, "8080"),
    OPT("verbose", CONF_BOOL, verbose, 0, 0, "false"),
    OPT("keepalive", CONF_DURATION, keepalive, 1000, 3600000, "30s"),
    OPT("max_output", CONF_SIZE, max_output, 1024, 16777216, "64k"),
    OPT("label", CONF_LIST, labels, 0, 32, NULL),
    {.name = "protocol",
     .type = CONF_ENUM,
     .offset = offsetof(struct cfg, proto),
     .def = "5",
     .choices = protos,
     .help = "MQTT protocol"},
    {.name = "checked",
     .type = CONF_STRING,
     .offset = offsetof(struct cfg, checked),
     .max = 64,
     .check = check_no_x,
     .help = "a checked string"},
    {.name = NULL},
};

static void
cfg_defaults(struct cfg *c)
{
	char err[256] = "";

	memset(c, 0, sizeof(*c));
	assert_int_equal(conf_defaults(table, c, err, sizeof(err)), 0);
}

static int
load(struct cfg *c, const char *text, char *err, size_t errlen)
{
	return conf_load_text(table, c, "test.conf", text, strlen(text), err,
			      errlen);
}

/* Writes text to a new temporary file; the caller unlinks it. */
static void
write_temp(char *path, size_t pathlen, const void *text, size_t len)
{
	const char *dir = getenv("TMPDIR");
	FILE *f;
	int fd;

	snprintf(path, pathlen, "%s/cmdbus-conf-XXXXXX",
		 dir != NULL ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
test_defaults(void **state)
{
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	assert_string_equal(c.name, "default-name");
	assert_null(c.token_file); /* def NULL stays NULL */
	assert_null(c.checked);
	assert_int_equal(c.port, 8080);
	assert_false(c.verbose);
	assert_int_equal(c.keepalive, 30000);
	assert_int_equal(c.max_output, 65536);
	assert_int_equal(c.labels.n, 0);
	assert_null(c.labels.v);
	assert_int_equal(c.proto, 0);
	conf_free(table, &c);
	assert_null(c.name);
}

static void
test_good_file(void **state)
{
	static const char text[] = "# a comment\n"
				   "\n"
				   "   # an indented comment\n"
				   "name  my name  \r\n"
				   "\t\n"
				   "port 1883\r\n"
				   "  verbose yes\n"
				   "keepalive\t5m\n"
				   "max_output 1MiB\n"
				   "label site=north\n"
				   "label rack=a b # not a comment\n"
				   "protocol 311\n"
				   "token_file /etc/cmdbus/token";
	struct cfg c;
	char err[256] = "";
	char path[256];

	(void)state;
	write_temp(path, sizeof(path), text, sizeof(text) - 1);
	cfg_defaults(&c);
	assert_int_equal(conf_load_file(table, &c, path, err, sizeof(err)), 0);
	unlink(path);
	assert_string_equal(err, "");
	assert_string_equal(c.name, "my name");
	assert_int_equal(c.port, 1883);
	assert_true(c.verbose);
	assert_int_equal(c.keepalive, 300000);
	assert_int_equal(c.max_output, 1048576);
	assert_int_equal(c.labels.n, 2);
	assert_string_equal(c.labels.v[0], "site=north");
	assert_string_equal(c.labels.v[1], "rack=a b # not a comment");
	assert_int_equal(c.proto, 1);
	assert_string_equal(c.token_file, "/etc/cmdbus/token");
	conf_free(table, &c);
	assert_null(c.name);
	assert_null(c.token_file);
	assert_null(c.labels.v);
	assert_int_equal(c.labels.n, 0);
}

static void
test_empty_file(void **state)
{
	struct cfg c;
	char err[128] = "";

	(void)state;
	cfg_defaults(&c);
	assert_int_equal(
	    conf_load_text(table, &c, "e.conf", "", 0, err, sizeof(err)), 0);
	assert_int_equal(load(&c, "\n\n# only comments\n", err, sizeof(err)),
			 0);
	assert_int_equal(c.port, 8080);
	conf_free(table, &c);
}

/* Loads text that must fail with -ERR_CONFIG and exactly `want`. */
static void
expect_bad(const char *text, size_t len, const char *want)
{
	struct cfg c;
	char err[256] = "";

	cfg_defaults(&c);
	assert_int_equal(
	    conf_load_text(table, &c, "test.conf", text, len, err, sizeof(err)),
	    -ERR_CONFIG);
	assert_string_equal(err, want);
	conf_free(table, &c);
}

#define BAD(text, want) expect_bad(text, sizeof(text) - 1, want)

static void
test_bad_files(void **state)
{
	(void)state;
	BAD("port 1\n\nfoo bar\n", "test.conf:3: unknown option 'foo'");
	BAD("port 0\n",
	    "test.conf:1: option 'port': value out of range [1, 65535]");
	BAD("# c\nport 65536\n",
	    "test.conf:2: option 'port': value out of range [1, 65535]");
	BAD("port 99999999999999999999999\n",
	    "test.conf:1: option 'port': value out of range [1, 65535]");
	BAD("port 80x\n", "test.conf:1: option 'port': '80x' is not a number");
	BAD("port -1\n", "test.conf:1: option 'port': '-1' is not a number");
	BAD("keepalive 2h\n", "test.conf:1: option 'keepalive': value out of "
			      "range [1s, 1h]");
	BAD("keepalive 10\n",
	    "test.conf:1: option 'keepalive': '10' is not a duration (e.g. "
	    "250ms, 30s, 5m, 2h, 7d)");
	BAD("max_output 17M\n", "test.conf:1: option 'max_output': value out "
				"of range [1024, 16777216]");
	BAD("port 1\nname a\nport 2\n",
	    "test.conf:3: option 'port' given twice (first on line 1)");
	BAD("name 0123456789abcdefX\n",
	    "test.conf:1: option 'name': value longer than 16 bytes");
	BAD("label 0123456789012345678901234567890123\n",
	    "test.conf:1: option 'label': value longer than 32 bytes");
	BAD("port\n", "test.conf:1: option 'port' needs a value");
	BAD("port   \t \r\n", "test.conf:1: option 'port' needs a value");
	BAD("verbose maybe\n",
	    "test.conf:1: option 'verbose': 'maybe' is not a boolean "
	    "(true/false, yes/no, on/off, 1/0)");
	BAD("protocol 4\n",
	    "test.conf:1: option 'protocol': '4' is not one of 5, 311");
	BAD("port 1\nna\0me x\n", "test.conf:2: NUL byte in line");
	BAD("port 1\rname x\n", "test.conf:1: control character 0x0d in line");
	BAD("name a\x1b[31m\n", "test.conf:1: control character 0x1b in line");
	BAD("checked axb\n",
	    "test.conf:1: option 'checked': must not contain 'x'");
	/* Keys are case-sensitive and spelled as in the table. */
	BAD("Port 1\n", "test.conf:1: unknown option 'Port'");
	BAD("max-output 1k\n", "test.conf:1: unknown option 'max-output'");
}

static void
test_failure_keeps_value(void **state)
{
	struct cfg c;
	char err[256];

	(void)state;
	cfg_defaults(&c);
	assert_int_equal(load(&c, "checked fine\n", err, sizeof(err)), 0);
	/* A rejected value leaves the previous one in place. */
	assert_int_equal(conf_set(table, &c, "checked", "xx", err, sizeof(err)),
			 -ERR_CONFIG);
	assert_string_equal(c.checked, "fine");
	assert_int_equal(conf_set(table, &c, "port", "0", err, sizeof(err)),
			 -ERR_CONFIG);
	assert_int_equal(c.port, 8080);
	conf_free(table, &c);
}

static void
test_file_errors(void **state)
{
	struct cfg c;
	char err[256] = "";
	char path[256];
	char *big;
	size_t bigsz = 1024 * 1024 + 1;

	(void)state;
	cfg_defaults(&c);
	assert_int_equal(conf_load_file(table, &c, "/nonexistent/cmdbus.conf",
					err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/cmdbus.conf"));

	/* A comment line of just over 1 MiB: refused for its size. */
	big = malloc(bigsz);
	assert_non_null(big);
	memset(big, ' ', bigsz);
	big[0] = '#';
	write_temp(path, sizeof(path), big, bigsz);
	assert_int_equal(conf_load_file(table, &c, path, err, sizeof(err)),
			 -ERR_CONFIG);
	assert_non_null(strstr(err, "file too large"));
	assert_int_equal(
	    conf_load_text(table, &c, "big", big, bigsz, err, sizeof(err)),
	    -ERR_CONFIG);
	unlink(path);
	/* Exactly at the cap is accepted. */
	write_temp(path, sizeof(path), big, bigsz - 1);
	assert_int_equal(conf_load_file(table, &c, path, err, sizeof(err)), 0);
	unlink(path);
	free(big);

	/* A duplicate in a real file names the path. */
	write_temp(path, sizeof(path), "verbose on\nverbose off\n", 22);
	assert_int_equal(conf_load_file(table, &c, path, err, sizeof(err)),
			 -ERR_CONFIG);
	assert_non_null(strstr(err, path));
	assert_non_null(
	    strstr(err, ":2: option 'verbose' given twice (first on line 1)"));
	unlink(path);
	conf_free(table, &c);
}

static void
test_conf_set(void **state)
{
	struct cfg c;
	char err[256] = "";

	(void)state;
	cfg_defaults(&c);
	assert_int_equal(load(&c, "name from-file\nport 1883\nlabel a=1\n", err,
			      sizeof(err)),
			 0);
	/* Flags replace file values; the old string is freed (LeakSanitizer
	 * would see it otherwise). */
	assert_int_equal(
	    conf_set(table, &c, "name", "from-flag", err, sizeof(err)), 0);
	assert_string_equal(c.name, "from-flag");
	assert_int_equal(conf_set(table, &c, "port", "2000", err, sizeof(err)),
			 0);
	assert_int_equal(c.port, 2000);
	/* Flags may be spelled with dashes. */
	assert_int_equal(
	    conf_set(table, &c, "max-output", "2k", err, sizeof(err)), 0);
	assert_int_equal(c.max_output, 2048);
	assert_non_null(conf_find(table, "token-file"));
	assert_ptr_equal(conf_find(table, "token_file"), &table[1]);
	assert_null(conf_find(table, "token"));
	assert_null(conf_find(table, "token_file_"));
	/* A list gains the value. */
	assert_int_equal(conf_set(table, &c, "label", "b=2", err, sizeof(err)),
			 0);
	assert_int_equal(c.labels.n, 2);
	assert_string_equal(c.labels.v[1], "b=2");
	assert_int_equal(
	    conf_set(table, &c, "protocol", "311", err, sizeof(err)), 0);
	assert_int_equal(c.proto, 1);

	assert_int_equal(conf_set(table, &c, "nope", "1", err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "unknown option 'nope'");
	assert_int_equal(conf_set(table, &c, "port", "70000", err, sizeof(err)),
			 -ERR_CONFIG);
	assert_string_equal(err,
			    "option 'port': value out of range [1, 65535]");
	assert_int_equal(conf_set(table, &c, "port", "", err, sizeof(err)),
			 -ERR_CONFIG);
	assert_int_equal(c.port, 2000);
	/* A NULL or short error buffer is allowed. */
	assert_int_equal(conf_set(table, &c, "port", "x", NULL, 0),
			 -ERR_CONFIG);
	assert_int_equal(conf_set(table, &c, "port", "x", err, 8), -ERR_CONFIG);
	assert_int_equal(strlen(err), 7);
	conf_free(table, &c);
	assert_null(c.name);
	assert_null(c.labels.v);
	/* Freeing twice is harmless: the pointers were cleared. */
	conf_free(table, &c);
}

static void
test_bad_default(void **state)
{
	static const struct conf_option bad[] = {
	    {.name = "n",
	     .type = CONF_U64,
	     .offset = 0,
	     .min = 1,
	     .max = 10,
	     .def = "11"},
	    {.name = NULL},
	};
	uint64_t v = 0;
	char err[128] = "";

	(void)state;
	assert_int_equal(conf_defaults(bad, &v, err, sizeof(err)), -ERR_CONFIG);
	assert_string_equal(err, "option 'n': value out of range [1, 10]");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_good_file),
	    cmocka_unit_test(test_empty_file),
	    cmocka_unit_test(test_bad_files),
	    cmocka_unit_test(test_failure_keeps_value),
	    cmocka_unit_test(test_file_errors),
	    cmocka_unit_test(test_conf_set),
	    cmocka_unit_test(test_bad_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
