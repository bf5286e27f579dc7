/* SPDX-License-Identifier: MIT */
/* The REST adapter's tokens and request-target checks, without a server:
 * the api_tokens_file format and its errors, the lookup of a bearer
 * token against the table, and the normal form of a path. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "cmdbus/msg.h"
#include "http_priv.h"

#define HEX_A "a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3"

static void
test_parse_ok(void **state)
{
	struct http_tokens t = {0};
	char err[256] = "";
	char sha[CMDBUS_SHA256_HEX + 1];
	cmdbus_sha256_hex("s3cret-token-for-ops", 20, sha);
	char text[512];
	snprintf(
	    text, sizeof text,
	    "# name role digest\n"
	    "\n"
	    "  ci-read read " HEX_A "  \r\n"
	    "ops\toperate\t%s\n"
	    "root admin %s",
	    sha,
	    "B3A8E0E1F9AB1BFE3A36F231F676F78BB30A519D2B21E6C530C0EEE8EBB4A5D0");
	(void)state;
	assert_int_equal(
	    http_tokens_parse(&t, text, strlen(text), "f", err, sizeof err), 0);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.v[0].name, "ci-read");
	assert_int_equal(t.v[0].role, HTTP_ROLE_READ);
	assert_int_equal(t.v[1].role, HTTP_ROLE_OPERATE);
	assert_int_equal(t.v[2].role, HTTP_ROLE_ADMIN);
	/* Digests are kept lower-case, whatever the file said. */
	assert_string_equal(
	    t.v[2].sha256,
	    "b3a8e0e1f9ab1bfe3a36f231f676f78bb30a519d2b21e6c530c0eee8ebb4a5d0");

	const struct http_token *k =
	    http_auth_find(&t, "Bearer s3cret-token-for-ops");
	assert_non_null(k);
	assert_string_equal(k->name, "ops");
	assert_non_null(http_auth_find(&t, "bearer  s3cret-token-for-ops "));
	assert_null(http_auth_find(&t, "Bearer s3cret-token-for-op"));
	assert_null(http_auth_find(&t, "Basic s3cret-token-for-ops"));
	assert_null(http_auth_find(&t, "Bearer "));
	assert_null(http_auth_find(&t, NULL));
	http_tokens_fini(&t);
	assert_int_equal(t.n, 0);
}

static void
expect_error(const char *text, const char *want)
{
	struct http_tokens t = {0};
	char err[256] = "";

	assert_int_equal(
	    http_tokens_parse(&t, text, strlen(text), "tok", err, sizeof err),
	    -ERR_CONFIG);
	if (!strstr(err, want))
		fail_msg("'%s': got '%s', wanted '%s'", text, err, want);
	http_tokens_fini(&t);
}

static void
test_parse_errors(void **state)
{
	(void)state;
	expect_error("a read\n", "tok:1: expected NAME ROLE SHA256HEX");
	expect_error("\n# c\na read " HEX_A " x\n", "tok:3: expected");
	expect_error("a root " HEX_A "\n", "tok:1: role 'root'");
	expect_error("a Read " HEX_A "\n", "tok:1: role");
	expect_error("a read abc\n", "tok:1: the digest is 64 hex digits");
	expect_error("a read " HEX_A "0\n", "tok:1: the digest");
	expect_error("a/b read " HEX_A "\n", "tok:1: a token name is");
	expect_error(
	    "a read " HEX_A "\na admin "
	    "b3a8e0e1f9ab1bfe3a36f231f676f78bb30a519d2b21e6c530c0eee8eb"
	    "b4a5d0\n",
	    "tok:2: token name 'a' given twice");
	expect_error("a read " HEX_A "\nb admin " HEX_A "\n",
		     "tok:2: the same token as 'a'");
	char nul[] = "a read " HEX_A "\nb\0 read x\n";
	struct http_tokens t = {0};
	char err[128];
	assert_int_equal(
	    http_tokens_parse(&t, nul, sizeof nul - 1, "tok", err, sizeof err),
	    -ERR_CONFIG);
	assert_non_null(strstr(err, "tok:2: a NUL byte"));
	http_tokens_fini(&t);
}

/* The options that predate roles are admin tokens; names and tokens
 * stay unique across all sources. */
static void
test_build(void **state)
{
	struct http_tokens table = {0}, all = {0};
	char err[128], sha[CMDBUS_SHA256_HEX + 1];
	const char *list[1] = {HEX_A};

	(void)state;
	cmdbus_sha256_hex("legacy", 6, sha);
	assert_int_equal(http_tokens_add(&table, "ro", HTTP_ROLE_READ,
					 "b3a8e0e1f9ab1bfe3a36f231f676f78bb30a"
					 "519d2b21e6c530c0eee8ebb4a5d0",
					 err, sizeof err),
			 0);
	assert_int_equal(http_auth_build("legacy", list, 1, &table, &all), 0);
	assert_int_equal(all.n, 3);
	assert_string_equal(all.v[0].name, "api_token_file");
	assert_int_equal(all.v[0].role, HTTP_ROLE_ADMIN);
	assert_string_equal(all.v[1].name, "api_token_sha256.1");
	assert_int_equal(all.v[1].role, HTTP_ROLE_ADMIN);
	assert_int_equal(all.v[2].role, HTTP_ROLE_READ);
	assert_ptr_equal(http_auth_find(&all, "Bearer legacy"), &all.v[0]);
	http_tokens_fini(&all);
	/* The same token in the table and in api_token_sha256. */
	const char *dup[1] = {
	    "B3A8E0E1F9AB1BFE3A36F231F676F78BB30A519D2B21E6C53"
	    "0C0EEE8EBB4A5D0"};
	assert_int_equal(http_auth_build(NULL, dup, 1, &table, &all), -EINVAL);
	assert_int_equal(all.n, 0);
	const char *bad[1] = {"xyz"};
	assert_int_equal(http_auth_build(NULL, bad, 1, NULL, &all), -EINVAL);
	http_tokens_fini(&table);
}

static void
test_roles(void **state)
{
	enum http_role r;

	(void)state;
	assert_int_equal(http_role_parse("read", &r), 0);
	assert_int_equal(r, HTTP_ROLE_READ);
	assert_int_equal(http_role_parse("operate", &r), 0);
	assert_int_equal(r, HTTP_ROLE_OPERATE);
	assert_int_equal(http_role_parse("admin", &r), 0);
	assert_int_equal(r, HTTP_ROLE_ADMIN);
	assert_int_equal(http_role_parse("none", &r), -ERR_CONFIG);
	assert_int_equal(http_role_parse("", &r), -ERR_CONFIG);
	assert_string_equal(http_role_name(HTTP_ROLE_OPERATE), "operate");
	/* The order is the inclusion: admin can do what operate can. */
	assert_true(HTTP_ROLE_NONE < HTTP_ROLE_READ &&
		    HTTP_ROLE_READ < HTTP_ROLE_OPERATE &&
		    HTTP_ROLE_OPERATE < HTTP_ROLE_ADMIN);
}

static void
test_uri_normal(void **state)
{
	static const char *const good[] = {
	    "/",
	    "/healthz",
	    "/v1/jobs",
	    "/v1/jobs?limit=5&state=RUNNING",
	    "/v1/jobs/01HZX-abc_def",
	    "/v1/devices/dev.1/actions/sys.info",
	    "/v1/devices/a..b",
	    "/v1/devices?label=a%3Ab",
	};
	static const char *const bad[] = {
	    "",
	    "v1/jobs",
	    "/v1/jobs/",
	    "//v1/jobs",
	    "/v1//jobs",
	    "/v1/./jobs",
	    "/v1/jobs/..",
	    "/v1/jobs/../devices",
	    "/v1/jobs%2Fx",
	    "/v1/jobs/%2e%2e",
	    "/v1/jobs;x",
	    "/v1/jobs#frag",
	    "/v1/jobs\\x",
	    "/v1/job s",
	    "http://host/v1/jobs",
	    "/v1/jobs/\xc3\xa9",
	};
	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!http_uri_normal(good[i]))
			fail_msg("refused '%s'", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (http_uri_normal(bad[i]))
			fail_msg("accepted '%s'", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ok),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_build),
	    cmocka_unit_test(test_roles),
	    cmocka_unit_test(test_uri_normal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
