/* SPDX-License-Identifier: MIT */
/* Topic names: prefixes, building, subscription filters, and parsing that
 * accepts exactly PREFIX/DEVICE/KIND with a valid device id. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmdbus/topic.h"
#include "common/err.h"

static void
test_prefix(void **state)
{
	char long_prefix[130];

	(void)state;
	assert_true(cmdbus_prefix_valid("cmdbus/v1"));
	assert_true(cmdbus_prefix_valid("a"));
	assert_true(cmdbus_prefix_valid("site/lab/cmdbus/v1"));
	assert_false(cmdbus_prefix_valid(NULL));
	assert_false(cmdbus_prefix_valid(""));
	assert_false(cmdbus_prefix_valid("/cmdbus"));
	assert_false(cmdbus_prefix_valid("cmdbus/"));
	assert_false(cmdbus_prefix_valid("cmdbus//v1"));
	assert_false(cmdbus_prefix_valid("cmdbus/+/v1"));
	assert_false(cmdbus_prefix_valid("cmdbus/#"));
	memset(long_prefix, 'p', 128);
	long_prefix[128] = '\0';
	assert_true(cmdbus_prefix_valid(long_prefix));
	long_prefix[128] = 'p';
	long_prefix[129] = '\0';
	assert_false(cmdbus_prefix_valid(long_prefix));
}

static void
test_build(void **state)
{
	char t[128];

	(void)state;
	assert_int_equal(cmdbus_topic_build(t, sizeof(t), "cmdbus/v1", "dev-1",
					    CMDBUS_KIND_CMD),
			 0);
	assert_string_equal(t, "cmdbus/v1/dev-1/cmd");
	assert_int_equal(
	    cmdbus_topic_build(t, sizeof(t), "p", "d", CMDBUS_KIND_RESULT), 0);
	assert_string_equal(t, "p/d/result");
	assert_int_equal(
	    cmdbus_topic_build(t, sizeof(t), "p", "d", CMDBUS_KIND_STATUS), 0);
	assert_string_equal(t, "p/d/status");
	assert_int_equal(
	    cmdbus_topic_build(t, sizeof(t), "p", "a/b", CMDBUS_KIND_CMD),
	    -EINVAL);
	assert_int_equal(
	    cmdbus_topic_build(t, sizeof(t), "p", "+", CMDBUS_KIND_CMD),
	    -EINVAL);
	assert_int_equal(
	    cmdbus_topic_build(t, sizeof(t), "p/", "d", CMDBUS_KIND_CMD),
	    -EINVAL);
	/* "p/d/cmd" needs 8 bytes with its NUL. */
	assert_int_equal(cmdbus_topic_build(t, 7, "p", "d", CMDBUS_KIND_CMD),
			 -ENOBUFS);
	assert_int_equal(cmdbus_topic_build(t, 8, "p", "d", CMDBUS_KIND_CMD),
			 0);
	assert_int_equal(
	    cmdbus_topic_filter(t, sizeof(t), "cmdbus/v1", CMDBUS_KIND_RESULT),
	    0);
	assert_string_equal(t, "cmdbus/v1/+/result");
	assert_int_equal(
	    cmdbus_topic_filter(t, sizeof(t), "cmdbus/#", CMDBUS_KIND_RESULT),
	    -EINVAL);
	assert_int_equal(
	    cmdbus_topic_filter(t, 10, "cmdbus/v1", CMDBUS_KIND_STATUS),
	    -ENOBUFS);
}

static void
test_parse(void **state)
{
	static const char *const bad[] = {
	    "cmdbus/v1/dev-1",
	    "cmdbus/v1/dev-1/",
	    "cmdbus/v1/dev-1/cmdx",
	    "cmdbus/v1/dev-1/Cmd",
	    "cmdbus/v1//cmd",
	    "cmdbus/v1/dev/1/cmd",
	    "cmdbus/v1/+/cmd",
	    "cmdbus/v1/-dev/cmd",
	    "cmdbus/v10/dev-1/cmd",
	    "cmdbus/v2/dev-1/cmd",
	    "cmdbus/v1",
	    "cmdbus/v1/",
	    "",
	    "x/cmdbus/v1/dev-1/cmd",
	};
	char dev[CMDBUS_NAME_BUF];
	enum cmdbus_kind k = CMDBUS_KIND_CMD;

	(void)state;
	assert_int_equal(
	    cmdbus_topic_parse("cmdbus/v1/dev-1/result", "cmdbus/v1", dev, &k),
	    0);
	assert_string_equal(dev, "dev-1");
	assert_int_equal(k, CMDBUS_KIND_RESULT);
	assert_int_equal(cmdbus_topic_parse("cmdbus/v1/D.e_v-9/status",
					    "cmdbus/v1", dev, &k),
			 0);
	assert_string_equal(dev, "D.e_v-9");
	assert_int_equal(k, CMDBUS_KIND_STATUS);
	/* The longest device id, 64 bytes, and one more. */
	{
		char t[128] = "p/";
		memset(t + 2, 'd', 64);
		memcpy(t + 66, "/cmd", 5);
		assert_int_equal(cmdbus_topic_parse(t, "p", dev, &k), 0);
		assert_int_equal(strlen(dev), 64);
		assert_int_equal(k, CMDBUS_KIND_CMD);
		memset(t + 2, 'd', 65);
		memcpy(t + 67, "/cmd", 5);
		assert_int_equal(cmdbus_topic_parse(t, "p", dev, &k),
				 -ERR_MALFORMED);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cmdbus_topic_parse(bad[i], "cmdbus/v1", dev, &k) !=
		    -ERR_MALFORMED)
			fail_msg("accepted '%s'", bad[i]);
	}
	assert_int_equal(cmdbus_topic_parse("a/b/cmd", "a/", dev, &k),
			 -ERR_MALFORMED);
	assert_int_equal(cmdbus_topic_parse(NULL, "a", dev, &k),
			 -ERR_MALFORMED);
}

static void
test_roundtrip(void **state)
{
	char t[256], dev[CMDBUS_NAME_BUF];
	enum cmdbus_kind kinds[] = {CMDBUS_KIND_CMD, CMDBUS_KIND_RESULT,
				    CMDBUS_KIND_STATUS};

	(void)state;
	for (int i = 0; i < 3; i++) {
		enum cmdbus_kind k;
		assert_int_equal(cmdbus_topic_build(t, sizeof(t), "a/b/c",
						    "edge.gw-7", kinds[i]),
				 0);
		assert_int_equal(cmdbus_topic_parse(t, "a/b/c", dev, &k), 0);
		assert_string_equal(dev, "edge.gw-7");
		assert_int_equal(k, kinds[i]);
		assert_string_equal(cmdbus_kind_name(kinds[i]),
				    t + strlen("a/b/c/edge.gw-7/"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prefix),
	    cmocka_unit_test(test_build),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
