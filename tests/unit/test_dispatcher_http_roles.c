/* SPDX-License-Identifier: MIT */
/* The REST adapter's bearer tokens end to end on a loopback port: 401 for
 * a missing or wrong token, digests set at run time, and roles (a read
 * token gets every GET and 403 elsewhere; the admin route lists names
 * and roles). The token file format is test_dispatcher_http_auth.c's. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cmdbus/msg.h"
#include "test_dispatcher_http_fx.h"

static void
test_auth(void **state)
{
	struct fx *f = *state;
	struct call c;
	const char *body;

	assert_int_equal(fx_call(f, &c,
				 "GET /v1/devices HTTP/1.1\r\nHost: t\r\n"
				 "Connection: close\r\n\r\n",
				 &body),
			 401);
	assert_non_null(strstr(body, "\"code\":\"unauthorized\""));
	assert_non_null(strstr(c.resp, "WWW-Authenticate: Bearer"));
	assert_int_equal(fx_call(f, &c,
				 "GET /v1/devices HTTP/1.1\r\nHost: t\r\n"
				 "Authorization: Bearer " TOKEN "x\r\n"
				 "Connection: close\r\n\r\n",
				 &body),
			 401);
	assert_int_equal(fx_call(f, &c,
				 "GET /v1/devices HTTP/1.1\r\nHost: t\r\n"
				 "Authorization: Basic " TOKEN "\r\n"
				 "Connection: close\r\n\r\n",
				 &body),
			 401);
	/* Unknown paths say nothing to a caller without the token. */
	assert_int_equal(fx_call(f, &c,
				 "GET /v1/secret HTTP/1.1\r\nHost: t\r\n"
				 "Connection: close\r\n\r\n",
				 &body),
			 401);
	assert_int_equal(fx_call(f, &c,
				 "GET /v1/devices HTTP/1.1\r\nHost: t\r\n" AUTH
				 "Connection: close\r\n\r\n",
				 &body),
			 200);
	assert_string_equal(body, "{\"devices\":[],\"next_cursor\":null}");
}

static void
test_token_digests(void **state)
{
	struct fx *f = *state;
	struct call c;
	const char *body;
	char sha[CMDBUS_SHA256_HEX + 1];
	const char *list[1] = {sha};

	cmdbus_sha256_hex("other", 5, sha);
	assert_int_equal(http_set_tokens(f->http, NULL, list, 1, NULL), 0);
	assert_int_equal(fx_get(f, &c, "/v1/devices", &body), 401);
	assert_int_equal(fx_call(f, &c,
				 "GET /v1/devices HTTP/1.1\r\nHost: t\r\n"
				 "Authorization: Bearer other\r\n"
				 "Connection: close\r\n\r\n",
				 &body),
			 200);
	const char *bad[1] = {"abc"};
	assert_int_equal(http_set_tokens(f->http, TOKEN, bad, 1, NULL),
			 -EINVAL);
	assert_int_equal(fx_get(f, &c, "/v1/devices", &body), 401);
	assert_int_equal(http_set_tokens(f->http, TOKEN, list, 1, NULL), 0);
	assert_int_equal(fx_get(f, &c, "/v1/devices", &body), 200);
}

/* A read token gets every GET and 403 elsewhere; the admin route lists
 * names and roles. (Paths and revocation: test_dispatcher_http_auth.c
 * and the integration test rest_auth.) */
static void
test_roles(void **state)
{
	struct fx *f = *state;
	struct http_tokens t = {0};
	struct call c;
	const char *body;
	char sha[CMDBUS_SHA256_HEX + 1], err[128];

	cmdbus_sha256_hex("reader-token", 12, sha);
	assert_int_equal(
	    http_tokens_add(&t, "ro", HTTP_ROLE_READ, sha, err, sizeof err), 0);
	assert_int_equal(http_set_tokens(f->http, TOKEN, NULL, 0, &t), 0);
#define RO "Authorization: Bearer reader-token\r\n"
	assert_int_equal(fx_call(f, &c,
				 "GET /v1/jobs HTTP/1.1\r\nHost: t\r\n" RO
				 "Connection: close\r\n\r\n",
				 &body),
			 200);
	assert_int_equal(fx_call(f, &c,
				 "POST /v1/jobs/abcdefgh/cancel HTTP/1.1\r\n"
				 "Host: t\r\n" RO "Connection: close\r\n\r\n",
				 &body),
			 403);
	assert_non_null(strstr(body, "\"code\":\"forbidden\""));
	assert_int_equal(fx_call(f, &c,
				 "GET /v1/tokens HTTP/1.1\r\nHost: t\r\n" RO
				 "Connection: close\r\n\r\n",
				 &body),
			 403);
	assert_int_equal(fx_get(f, &c, "/v1/tokens", &body), 200);
	assert_string_equal(body, "{\"tokens\":[{\"name\":\"api_token_file\","
				  "\"role\":\"admin\"},{\"name\":\"ro\","
				  "\"role\":\"read\"}]}");
#undef RO
	http_tokens_fini(&t);
}

/* A token that was accepted loses its access, or changes its role, the
 * moment the tokens are reloaded (SIGHUP). */
static void
test_reload_takes_effect(void **state)
{
	struct fx *f = *state;
	struct http_tokens t = {0};
	struct call c;
	const char *body;
	char sha[CMDBUS_SHA256_HEX + 1], err[128];
	const char *list[1] = {sha};

	assert_int_equal(fx_get(f, &c, "/v1/devices", &body), 200);
	assert_int_equal(fx_get(f, &c, "/v1/devices", &body), 200);
	cmdbus_sha256_hex("other", 5, sha);
	assert_int_equal(http_set_tokens(f->http, NULL, list, 1, NULL), 0);
	assert_int_equal(fx_get(f, &c, "/v1/devices", &body), 401);

	/* The same token again, now with the read role only. */
	cmdbus_sha256_hex(TOKEN, strlen(TOKEN), sha);
	assert_int_equal(
	    http_tokens_add(&t, "ro", HTTP_ROLE_READ, sha, err, sizeof err), 0);
	assert_int_equal(http_set_tokens(f->http, NULL, NULL, 0, &t), 0);
	assert_int_equal(fx_get(f, &c, "/v1/tokens", &body), 403);
	assert_int_equal(fx_get(f, &c, "/v1/tokens", &body), 403);
	assert_int_equal(fx_get(f, &c, "/v1/devices", &body), 200);
	http_tokens_fini(&t);
	assert_int_equal(http_set_tokens(f->http, TOKEN, NULL, 0, NULL), 0);
	assert_int_equal(fx_get(f, &c, "/v1/tokens", &body), 200);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_auth),
	    T(test_token_digests),
	    T(test_roles),
	    T(test_reload_takes_effect),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
