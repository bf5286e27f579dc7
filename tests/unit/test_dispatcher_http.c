/* SPDX-License-Identifier: MIT */
/* The REST adapter end to end on a loopback port (the fixture is
 * test_dispatcher_http_fx.c): health, routes and methods, bodies, job and
 * device views, lists, cancels and idempotency, waits and followers.
 * Tokens and roles: test_dispatcher_http_roles.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmdbus/envelope.h"
#include "ingest.h"
#include "test_dispatcher_http_fx.h"

static void
test_healthz(void **state)
{
	struct fx *f = *state;
	struct call c;
	const char *body;

	/* No token needed. */
	assert_int_equal(fx_call(f, &c,
				 "GET /healthz HTTP/1.1\r\nHost: t\r\n"
				 "Connection: close\r\n\r\n",
				 &body),
			 200);
	assert_string_equal(body, "{\"status\":\"ok\",\"database\":true,"
				  "\"broker\":true}");
	assert_non_null(strstr(c.resp, "Content-Type: application/json"));
	f->bus.connected = false;
	assert_int_equal(fx_call(f, &c,
				 "GET /healthz HTTP/1.1\r\nHost: t\r\n"
				 "Connection: close\r\n\r\n",
				 &body),
			 503);
	assert_string_equal(body,
			    "{\"status\":\"unavailable\",\"database\":true,"
			    "\"broker\":false}");
}

static void
test_not_found_and_method(void **state)
{
	struct fx *f = *state;
	struct call c;
	const char *body;

	assert_int_equal(fx_call(f, &c,
				 "GET /v1/nope HTTP/1.1\r\nHost: t\r\n" AUTH
				 "Connection: close\r\n\r\n",
				 &body),
			 404);
	assert_non_null(strstr(body, "\"code\":\"not_found\""));
	assert_int_equal(fx_call(f, &c,
				 "GET /v1/jobs/01UNKNOWNJOB00000000000000 "
				 "HTTP/1.1\r\nHost: t\r\n" AUTH
				 "Connection: close\r\n\r\n",
				 &body),
			 404);
	/* No name needs percent-encoding: the path is refused unread. */
	assert_int_equal(fx_call(f, &c,
				 "GET /v1/executions/no%21pe HTTP/1.1\r\n"
				 "Host: t\r\n" AUTH "Connection: close\r\n\r\n",
				 &body),
			 400);
	assert_int_equal(
	    fx_call(f, &c,
		    "GET /v1/devices/dev-1 HTTP/1.1\r\nHost: t\r\n" AUTH
		    "Connection: close\r\n\r\n",
		    &body),
	    404);
	assert_int_equal(fx_call(f, &c,
				 "DELETE /v1/jobs HTTP/1.1\r\nHost: t\r\n" AUTH
				 "Connection: close\r\n\r\n",
				 &body),
			 405);
	assert_non_null(strstr(body, "\"code\":\"method_not_allowed\""));
	assert_non_null(strstr(c.resp, "Allow: POST"));
	assert_int_equal(
	    fx_call(f, &c,
		    "POST /v1/devices HTTP/1.1\r\nHost: t\r\n" AUTH
		    "Content-Length: 0\r\nConnection: close\r\n\r\n",
		    &body),
	    405);
	assert_non_null(strstr(c.resp, "Allow: GET, HEAD"));
}

static void
test_post_checks(void **state)
{
	struct fx *f = *state;
	struct call c;
	const char *body;

	assert_int_equal(fx_post(f, &c, "text/plain", "{}", &body), 415);
	assert_non_null(strstr(body, "\"code\":\"unsupported_media_type\""));
	assert_int_equal(fx_call(f, &c,
				 "POST /v1/jobs HTTP/1.1\r\nHost: t\r\n" AUTH
				 "Content-Type: application/json\r\n"
				 "Content-Length: 2000000\r\n"
				 "Connection: close\r\n\r\n",
				 &body),
			 413);
	assert_non_null(strstr(body, "\"code\":\"too_large\""));
	assert_int_equal(fx_post(f, &c, "application/json; charset=utf-8",
				 "{\"target\":{\"all\":true}}  ", &body),
			 400);
	assert_non_null(strstr(body, "\"code\":\"malformed\""));
	assert_non_null(strstr(body, "\"field\":\"action\""));
	/* Nobody known: the target resolves to nothing. */
	assert_int_equal(
	    fx_post(f, &c, "application/json",
		    "{\"target\":{\"all\":true},\"action\":\"ping\"}", &body),
	    400);
	assert_non_null(strstr(body, "\"field\":\"target\""));
}

/* The store's execution reads, counted around the real store. */
static int (*real_exec_get)(void *ud, const char *id, struct exec_rec *out);
static unsigned exec_gets;

static int
counting_exec_get(void *ud, const char *id, struct exec_rec *out)
{
	exec_gets++;
	return real_exec_get(ud, id, out);
}

static void
test_create_and_read(void **state)
{
	struct fx *f = *state;
	struct call c;
	const char *body;
	char id[64], req[512];

	assert_int_equal(
	    fx_post(
		f, &c, "application/json",
		"{\"target\":{\"devices\":[\"dev-1\"],\"allow_unknown\":true},"
		"\"action\":\"ping\"}",
		&body),
	    201);
	assert_int_equal(sscanf(body, "{\"id\":\"%26[0-9A-Z]\"", id), 1);
	assert_non_null(strstr(body, "\"state\":\"RUNNING\""));
	assert_non_null(strstr(body, "\"device\":\"dev-1\""));
	/* Committed and published. */
	assert_int_equal(f->bus.n, 1);

	snprintf(req, sizeof req,
		 "GET /v1/jobs/%s HTTP/1.1\r\nHost: t\r\n" AUTH
		 "Connection: close\r\n\r\n",
		 id);
	assert_int_equal(fx_call(f, &c, req, &body), 200);
	assert_non_null(strstr(body, id));
	assert_non_null(strstr(body, "\"counts\":{\"QUEUED\":1}"));

	char ex[64];
	const char *e = strstr(body, "\"executions\":[{\"id\":\"");
	assert_non_null(e);
	assert_int_equal(
	    sscanf(e, "\"executions\":[{\"id\":\"%26[0-9A-Z]\"", ex), 1);
	snprintf(req, sizeof req,
		 "GET /v1/executions/%s HTTP/1.1\r\nHost: t\r\n" AUTH
		 "Connection: close\r\n\r\n",
		 ex);
	/* One read of the execution answers it (not one for its state and
	 * another for its view), and it leaves the command payload out. */
	real_exec_get = f->core.store.exec_view_get;
	f->core.store.exec_view_get = counting_exec_get;
	exec_gets = 0;
	assert_int_equal(fx_call(f, &c, req, &body), 200);
	f->core.store.exec_view_get = real_exec_get;
	assert_int_equal(exec_gets, 1);
	assert_non_null(strstr(body, "\"job\":\""));
	assert_non_null(strstr(body, id));
}

/* Reads share a read snapshot, which a write ends first: pipelined on
 * one connection, a write between reads succeeds and the read after it
 * sees it. */
static void
test_snapshot(void **state)
{
	struct fx *f = *state;
	struct call c;
	const char *body;
	static const char job[] =
	    "{\"target\":{\"devices\":[\"dev-1\"],\"allow_unknown\":true},"
	    "\"action\":\"ping\"}";
	char req[2048];

	/* No transaction open: begun; one open: refused; ended twice. */
	assert_int_equal(store_snapshot_begin(f->store), 0);
	assert_int_equal(store_snapshot_begin(f->store), -EBUSY);
	store_snapshot_end(f->store);
	store_snapshot_end(f->store);
	assert_int_equal(store_snapshot_begin(f->store), 0);
	store_snapshot_end(f->store);

	snprintf(req, sizeof req,
		 "GET /v1/jobs HTTP/1.1\r\nHost: t\r\n" AUTH "\r\n"
		 "POST /v1/jobs HTTP/1.1\r\nHost: t\r\n" AUTH
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		 "\r\n%s"
		 "GET /v1/jobs HTTP/1.1\r\nHost: t\r\n" AUTH
		 "Connection: close\r\n\r\n",
		 strlen(job), job);
	assert_int_equal(fx_call(f, &c, req, &body), 200);
	assert_true(strncmp(body, "{\"jobs\":[]", 10) == 0);
	const char *second = strstr(body, "HTTP/1.1 ");
	assert_non_null(second);
	assert_true(strncmp(second, "HTTP/1.1 201", 12) == 0);
	const char *third = strstr(second + 1, "HTTP/1.1 ");
	assert_non_null(third);
	assert_true(strncmp(third, "HTTP/1.1 200", 12) == 0);
	const char *list = strstr(third, "\r\n\r\n");
	assert_non_null(list);
	assert_non_null(strstr(list, "\"action\":\"ping\""));
}

static void
test_device_views(void **state)
{
	struct fx *f = *state;
	struct call c;
	const char *body;
	char *env = NULL;
	size_t len = 0;
	static const char st[] =
	    "{\"type\":\"status\",\"device\":\"dev-1\",\"online\":true,"
	    "\"boot_id\":\"01JD3BOOTAAAAAAAAAAAAAAAAA\",\"agent\":"
	    "\"cmdbus-agent/0.1.0\",\"at\":5,\"labels\":{\"role\":\"web\"},"
	    "\"actions\":[{\"name\":\"ping\"}],\"health\":{\"uptime_s\":9,"
	    "\"load1\":1.5,\"mem_avail_kb\":3,\"disk_avail_kb\":4}}";

	assert_int_equal(cmdbus_envelope_wrap(CMDBUS_KIND_STATUS, st,
					      sizeof st - 1, NULL, &env, &len),
			 0);
	ingest_message(&f->core, "cmdbus/v1/dev-1/status", env, len);
	free(env);

	assert_int_equal(
	    fx_call(f, &c,
		    "GET /v1/devices/dev-1 HTTP/1.1\r\nHost: t\r\n" AUTH
		    "Connection: close\r\n\r\n",
		    &body),
	    200);
	assert_non_null(strstr(body, "{\"id\":\"dev-1\",\"online\":true,"
				     "\"last_seen\":"));
	assert_non_null(strstr(body,
			       "\"boot_id\":\"01JD3BOOTAAAAAAAAAAAAAAAAA\""
			       ",\"agent\":\"cmdbus-agent/0.1.0\","
			       "\"labels\":{\"role\":\"web\"},"
			       "\"actions\":[{\"name\":\"ping\"}],"
			       "\"health\":{\"uptime_s\":9,\"load1\":1.5,"
			       "\"mem_avail_kb\":3,\"disk_avail_kb\":4}}"));
	assert_int_equal(fx_call(f, &c,
				 "GET /v1/devices HTTP/1.1\r\nHost: t\r\n" AUTH
				 "Connection: close\r\n\r\n",
				 &body),
			 200);
	assert_non_null(strstr(body, "{\"devices\":[{\"id\":\"dev-1\""));

	/* Now a labels target resolves, through the real store. */
	assert_int_equal(fx_post(f, &c, "application/json",
				 "{\"target\":{\"labels\":{\"role\":\"web\"}},"
				 "\"action\":\"ping\"}",
				 &body),
			 201);
	assert_non_null(strstr(body, "\"device\":\"dev-1\""));
}

/* GETs a path with the token. */
/* POSTs with no body. */
static unsigned
post_empty(struct fx *f, struct call *c, const char *path, const char **body)
{
	static char req[1024];
	snprintf(req, sizeof req,
		 "POST %s HTTP/1.1\r\nHost: t\r\n" AUTH
		 "Connection: close\r\n\r\n",
		 path);
	return fx_call(f, c, req, body);
}

/* Copies the string value that follows `after` (e.g. "\"id\":\"") in
 * body into out[32]. */
static void
field(const char *body, const char *after, char out[32])
{
	const char *p = strstr(body, after);
	assert_non_null(p);
	p += strlen(after);
	size_t n = strcspn(p, "\"");
	assert_true(n < 32);
	memcpy(out, p, n);
	out[n] = '\0';
}

static void
make_job(struct fx *f, const char *extra, char job[32], char exec[32])
{
	struct call c;
	const char *body;
	char json[512];

	snprintf(json, sizeof json,
		 "{\"target\":{\"devices\":[\"dev-x\"],\"allow_unknown\":true},"
		 "\"action\":\"ping\"%s}",
		 extra);
	assert_int_equal(fx_post(f, &c, "application/json", json, &body), 201);
	field(body, "{\"id\":\"", job);
	field(body, "\"executions\":[{\"id\":\"", exec);
}

static void
test_lists_and_params(void **state)
{
	struct fx *f = *state;
	struct call c;
	const char *body;
	char jobs[3][32], ex[32], path[256], cur[32];

	for (int i = 0; i < 3; i++)
		make_job(f, "", jobs[i], ex);
	assert_int_equal(fx_get(f, &c, "/v1/jobs?limit=2", &body), 200);
	/* Newest first, without executions, and a cursor. */
	field(body, "{\"jobs\":[{\"id\":\"", cur);
	assert_string_equal(cur, jobs[2]);
	assert_null(strstr(body, "\"executions\""));
	field(body, "\"next_cursor\":\"", cur);
	assert_string_equal(cur, jobs[1]);
	snprintf(path, sizeof path, "/v1/jobs?limit=2&cursor=%s", cur);
	assert_int_equal(fx_get(f, &c, path, &body), 200);
	field(body, "{\"jobs\":[{\"id\":\"", cur);
	assert_string_equal(cur, jobs[0]);
	assert_non_null(strstr(body, "\"next_cursor\":null}"));
	assert_int_equal(fx_get(f, &c, "/v1/jobs?state=COMPLETED", &body), 200);
	assert_string_equal(body, "{\"jobs\":[],\"next_cursor\":null}");
	assert_int_equal(
	    fx_get(f, &c, "/v1/devices/dev-x/executions?limit=1", &body), 200);
	field(body, "\"job\":\"", cur);
	assert_string_equal(cur, jobs[2]);
	assert_int_equal(fx_get(f, &c, "/v1/devices/dev-y/executions", &body),
			 404);

	static const struct {
		const char *path, *field;
	} bad[] = {
	    {"/v1/jobs?limit=0", "limit"},
	    {"/v1/jobs?limit=501", "limit"},
	    {"/v1/jobs?limit=1x", "limit"},
	    {"/v1/jobs?cursor=%2F", "cursor"},
	    {"/v1/jobs?state=QUEUED", "state"},
	    {"/v1/jobs?action=A", "action"},
	    {"/v1/jobs?since=x", "since"},
	    {"/v1/jobs?since=9&until=8", "until"},
	    {"/v1/devices/dev-x/executions?state=ACCEPTED", "state"},
	    {"/v1/devices?online=1", "online"},
	    {"/v1/devices?label=k", "label"},
	    {"/v1/devices?label=k:v&label=k:w", "label"},
	    {"/v1/devices?cursor=a%2Bb", "cursor"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char want[64];
		assert_int_equal(fx_get(f, &c, bad[i].path, &body), 400);
		snprintf(want, sizeof want, "\"field\":\"%s\"", bad[i].field);
		if (!strstr(body, want))
			fail_msg("%s: %s", bad[i].path, body);
	}
	snprintf(path, sizeof path, "/v1/jobs/%s?wait=x", jobs[0]);
	assert_int_equal(fx_get(f, &c, path, &body), 400);
	assert_non_null(strstr(body, "\"field\":\"wait\""));
	snprintf(path, sizeof path, "/v1/executions/%s/output?follow=yes", ex);
	assert_int_equal(fx_get(f, &c, path, &body), 400);
	/* /metrics is Prometheus text. */
	assert_int_equal(fx_get(f, &c, "/metrics", &body), 200);
	assert_non_null(strstr(c.resp, "Content-Type: text/plain"));
}

static void
test_cancel_and_idempotency(void **state)
{
	struct fx *f = *state;
	struct call c;
	const char *body;
	char job[32], ex[32], job2[32], ex2[32], path[256];

	/* Never published (the broker is away): CANCELED at once. */
	f->bus.connected = false;
	make_job(f, "", job, ex);
	snprintf(path, sizeof path, "/v1/executions/%s/cancel", ex);
	assert_int_equal(post_empty(f, &c, path, &body), 200);
	assert_non_null(strstr(body, "\"state\":\"CANCELED\""));
	assert_int_equal(post_empty(f, &c, path, &body), 200);
	snprintf(path, sizeof path, "/v1/jobs/%s", job);
	assert_int_equal(fx_get(f, &c, path, &body), 200);
	assert_non_null(strstr(body, "\"state\":\"COMPLETED\""));

	/* Published: a cancel message goes out, the state stays. */
	f->bus.connected = true;
	make_job(f, "", job2, ex2);
	fake_bus_clear(&f->bus);
	snprintf(path, sizeof path, "/v1/jobs/%s/cancel", job2);
	assert_int_equal(post_empty(f, &c, path, &body), 200);
	assert_non_null(strstr(body, "\"state\":\"RUNNING\""));
	assert_int_equal(f->bus.n, 1);
	assert_string_equal(f->bus.msgs[0].topic, "cmdbus/v1/dev-x/cmd");
	assert_non_null(strstr(f->bus.msgs[0].payload, "cancel"));
	assert_non_null(strstr(f->bus.msgs[0].payload, ex2));
	/* The broker away: that cancel cannot be told, 503. */
	f->bus.connected = false;
	snprintf(path, sizeof path, "/v1/executions/%s/cancel", ex2);
	assert_int_equal(post_empty(f, &c, path, &body), 503);
	f->bus.connected = true;
	assert_int_equal(
	    post_empty(f, &c, "/v1/jobs/0123456789ABCDEF/cancel", &body), 404);

	/* Idempotency: the same request again is the same job (200);
	 * another under the same key is 409. */
	make_job(f, ",\"idempotency_key\":\"k-1\"", job, ex);
	assert_int_equal(
	    fx_post(
		f, &c, "application/json",
		"{\"idempotency_key\":\"k-1\",\"action\":\"ping\","
		"\"target\":{\"devices\":[\"dev-x\"],\"allow_unknown\":true}}",
		&body),
	    200);
	field(body, "{\"id\":\"", job2);
	assert_string_equal(job, job2);
	assert_int_equal(
	    fx_post(
		f, &c, "application/json",
		"{\"idempotency_key\":\"k-1\",\"action\":\"info\","
		"\"target\":{\"devices\":[\"dev-x\"],\"allow_unknown\":true}}",
		&body),
	    409);
	assert_non_null(strstr(body, "\"field\":\"idempotency_key\""));
}

/* Ends an execution the way ingest does, from a loop timer, while a
 * request waits for it. */
struct finish {
	struct fx *f;
	char exec[32];
};

static void
on_finish(struct loop *l, uint64_t id, void *ud)
{
	struct finish *fin = ud;
	struct exec_change chg = {.id = fin->exec,
				  .from = CMDBUS_STATE_QUEUED,
				  .to = CMDBUS_STATE_SUCCEEDED,
				  .at = 1,
				  .complete_job = true};
	(void)l;
	(void)id;
	assert_int_equal(
	    fin->f->core.store.exec_change(fin->f->core.store.ud, &chg), 0);
	core_notify_change(&fin->f->core, fin->exec, NULL,
			   CMDBUS_STATE_SUCCEEDED);
}

static void
test_wait_woken(void **state)
{
	struct fx *f = *state;
	struct call c;
	const char *body;
	char job[32], path[256];
	struct finish fin = {.f = f};

	make_job(f, "", job, fin.exec);
	assert_int_equal(loop_add_timer(f->loop, 20, 0, on_finish, &fin, NULL),
			 0);
	/* Waits up to 60 s; answered when the result lands. */
	snprintf(path, sizeof path, "/v1/executions/%s?wait=3600", fin.exec);
	uint64_t t0 = clock_now_ms(&clock_system);
	assert_int_equal(fx_get(f, &c, path, &body), 200);
	assert_true(clock_now_ms(&clock_system) - t0 < 10000);
	assert_non_null(strstr(body, "\"state\":\"SUCCEEDED\""));
	/* The job finished with it. */
	snprintf(path, sizeof path, "/v1/jobs/%s?wait=5", job);
	assert_int_equal(fx_get(f, &c, path, &body), 200);
	assert_non_null(strstr(body, "\"state\":\"COMPLETED\""));
}

/* A chunk stored the way ingest stores it, with its notification. */
static void
on_chunk(struct loop *l, uint64_t id, void *ud)
{
	struct finish *fin = ud;
	bool stored = false;
	(void)l;
	(void)id;
	assert_int_equal(fin->f->core.store.output_put(fin->f->core.store.ud,
						       fin->exec, false, 0,
						       "hi\n", 3, &stored),
			 0);
	assert_true(stored);
	core_notify_change(&fin->f->core, fin->exec, NULL, CMDBUS_STATE_QUEUED);
}

static void
test_follow_events(void **state)
{
	struct fx *f = *state;
	struct call c;
	const char *body;
	char job[32], req[512];
	struct finish fin = {.f = f};

	make_job(f, "", job, fin.exec);
	assert_int_equal(loop_add_timer(f->loop, 20, 0, on_chunk, &fin, NULL),
			 0);
	assert_int_equal(loop_add_timer(f->loop, 60, 0, on_finish, &fin, NULL),
			 0);
	snprintf(req, sizeof req,
		 "GET /v1/executions/%s/output?follow=1 HTTP/1.1\r\nHost: "
		 "t\r\n" AUTH "Accept: text/event-stream\r\n"
		 "Connection: close\r\n\r\n",
		 fin.exec);
	uint64_t t0 = clock_now_ms(&clock_system);
	assert_int_equal(fx_call(f, &c, req, &body), 200);
	/* Woken by the notifications, not by the once-a-second poll. */
	assert_true(clock_now_ms(&clock_system) - t0 < 900);
	assert_non_null(strstr(c.resp, "Content-Type: text/event-stream"));
	assert_non_null(strstr(c.resp, "Transfer-Encoding: chunked"));
	/* The chunk as it came, then the end with the terminal state. */
	const char *ev = strstr(body, "event: output\ndata: {\"stream\":"
				      "\"stdout\",\"seq\":0,\"data\":"
				      "\"hi\\n\"}\n\n");
	char end[128];
	snprintf(end, sizeof end,
		 "event: end\ndata: {\"id\":\"%s\",\"state\":"
		 "\"SUCCEEDED\"}\n\n",
		 fin.exec);
	const char *e = strstr(body, end);
	if (!ev || !e || e < ev)
		fail_msg("events: %s", body);
	/* Without Accept: text/event-stream, one JSON answer at the end. */
	char path[256];
	snprintf(path, sizeof path, "/v1/executions/%s/output?follow=1",
		 fin.exec);
	assert_int_equal(fx_get(f, &c, path, &body), 200);
	assert_non_null(strstr(body, "\"source\":\"chunks\""));
	assert_non_null(strstr(body, "\"stdout\":\"hi\\n\""));
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_healthz),	      T(test_not_found_and_method),
	    T(test_post_checks),      T(test_create_and_read),
	    T(test_snapshot),	      T(test_device_views),
	    T(test_lists_and_params), T(test_cancel_and_idempotency),
	    T(test_wait_woken),	      T(test_follow_events),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
