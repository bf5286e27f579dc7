/* SPDX-License-Identifier: MIT */
/* Live output against a real SQLite store: chunks kept in seq order with
 * duplicates and anything past the per-stream cap left out, removed with
 * their execution; the output view before and after the result; and the
 * Server-Sent Events of a follow, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/log.h"
#include "cmdbus/rest.h"
#include "core.h"
#include "output.h"
#include "store.h"

#define JOB "01JOB0000000000000000000AA"
#define EX1 "01EXE0000000000000000000A1"

/* A result as an agent sends it (tests/vectors/payload/valid). */
#define RESULT                                                                 \
	"{\"type\":\"result\",\"id\":\"" EX1 "\",\"device\":\"dev-1\","        \
	"\"boot_id\":\"01JD3PA7C9E1G3J5K7M9N1Q3S5\",\"state\":\"SUCCEEDED\","  \
	"\"exit_code\":0,\"stdout\":\"a\\nb\\n\",\"stderr\":\"\","             \
	"\"stdout_truncated\":false,\"stderr_truncated\":false,"               \
	"\"stdout_bytes\":4,\"stderr_bytes\":0,\"started_at\":1,"              \
	"\"finished_at\":2}"

struct fx {
	struct store *s;
	struct core c;
};

static void
quiet(enum log_level level, const char *line, void *ud)
{
	(void)level;
	(void)line;
	(void)ud;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256] = "";
	struct job_rec j;
	struct exec_rec e;

	log_set_sink(quiet, NULL);
	assert_int_equal(store_open(":memory:", &f->s, err, sizeof err), 0);
	store_port(f->s, &f->c.store);
	memset(&j, 0, sizeof j);
	memcpy(j.id, JOB, sizeof JOB);
	memcpy(j.action, "exec", 5);
	j.args_json = strdup("{}");
	j.state = CMDBUS_JOB_RUNNING;
	j.created_at = 1000;
	j.timeout_ms = 1000;
	j.ttl_ms = 60000;
	j.stream = true;
	memset(&e, 0, sizeof e);
	memcpy(e.id, EX1, sizeof EX1);
	memcpy(e.device, "dev-1", 6);
	e.state = CMDBUS_STATE_RUNNING;
	e.created_at = e.updated_at = 1000;
	e.exp_at = 61000;
	assert_int_equal(f->c.store.job_create(f->c.store.ud, &j, &e, 1), 0);
	job_rec_fini(&j);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->s);
	free(f);
	log_set_sink(NULL, NULL);
	return 0;
}

static bool
put(struct fx *f, bool err, uint64_t seq, const char *data, size_t len)
{
	bool stored = false;
	assert_int_equal(f->c.store.output_put(f->c.store.ud, EX1, err, seq,
					       data, len, &stored),
			 0);
	return stored;
}

static void
finish(struct fx *f)
{
	struct exec_change chg = {.id = EX1,
				  .from = CMDBUS_STATE_RUNNING,
				  .to = CMDBUS_STATE_SUCCEEDED,
				  .at = 2000,
				  .result = RESULT,
				  .complete_job = true};
	assert_int_equal(f->c.store.exec_change(f->c.store.ud, &chg), 0);
}

static void
test_chunks_order_duplicates(void **state)
{
	struct fx *f = *state;
	struct chunk_list l = {0};

	/* Out of order, and one twice: kept once, read back by seq. */
	assert_true(put(f, false, 1, "b\n", 2));
	assert_true(put(f, false, 0, "a\n", 2));
	assert_false(put(f, false, 1, "X\n", 2));
	assert_true(put(f, true, 0, "e\n", 2));
	assert_int_equal(
	    f->c.store.output_get(f->c.store.ud, EX1, false, 0, &l), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].seq, 0);
	assert_string_equal(l.v[0].data.data, "a\n");
	assert_int_equal(l.v[1].seq, 1);
	assert_string_equal(l.v[1].data.data, "b\n");
	chunk_list_fini(&l);
	/* From a seq on, and the other stream apart. */
	assert_int_equal(
	    f->c.store.output_get(f->c.store.ud, EX1, false, 1, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].seq, 1);
	chunk_list_fini(&l);
	assert_int_equal(f->c.store.output_get(f->c.store.ud, EX1, true, 0, &l),
			 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].data.data, "e\n");
	chunk_list_fini(&l);
}

static void
test_chunks_cap(void **state)
{
	struct fx *f = *state;
	char *big = malloc(16384);
	bool stored = true;

	memset(big, 'x', 16384);
	/* Four full chunks fill the stream to the cap exactly. */
	for (uint64_t i = 0; i < 4; i++)
		assert_true(put(f, false, i, big, 16384));
	assert_false(put(f, false, 4, "y", 1));
	/* The other stream has its own cap. */
	assert_true(put(f, true, 0, big, 16384));
	/* A chunk that is alone larger than the cap is refused. */
	assert_int_equal(f->c.store.output_put(f->c.store.ud, EX1, true, 1, big,
					       STORE_OUTPUT_CAP + 1, &stored),
			 0);
	assert_false(stored);
	free(big);
}

static void
test_chunks_pruned_with_execution(void **state)
{
	struct fx *f = *state;
	struct chunk_list l = {0};
	uint64_t execs = 0, jobs = 0;

	assert_true(put(f, false, 0, "a\n", 2));
	finish(f);
	assert_int_equal(
	    f->c.store.prune(f->c.store.ud, 5000, 100, &execs, &jobs), 0);
	assert_int_equal(execs, 1);
	assert_int_equal(
	    f->c.store.output_get(f->c.store.ud, EX1, false, 0, &l), 0);
	assert_int_equal(l.n, 0);
	chunk_list_fini(&l);
}

static void
test_chunks_group_commit(void **state)
{
	struct fx *f = *state;
	bool committed = false;
	uint64_t us = 0;

	assert_int_equal(f->c.store.batch(f->c.store.ud, true), 0);
	assert_true(put(f, false, 0, "a\n", 2));
	assert_true(put(f, false, 1, "b\n", 2));
	assert_int_equal(f->c.store.batch_end(f->c.store.ud, &committed, &us),
			 0);
	assert_true(committed);
}

static void
test_view_chunks_then_result(void **state)
{
	struct fx *f = *state;
	char *out = NULL;
	size_t len = 0;

	assert_true(put(f, false, 0, "line 1\n", 7));
	assert_true(put(f, false, 1, "line 2\n", 7));
	assert_int_equal(output_view(&f->c, EX1, &out, &len), 0);
	assert_string_equal(
	    out, "{\"id\":\"" EX1 "\",\"state\":\"RUNNING\",\"final\":false,"
		 "\"source\":\"chunks\",\"stdout\":\"line 1\\nline 2\\n\","
		 "\"stderr\":\"\",\"stdout_truncated\":false,"
		 "\"stderr_truncated\":false,\"stdout_bytes\":14,"
		 "\"stderr_bytes\":0}");
	free(out);
	finish(f);
	assert_int_equal(output_view(&f->c, EX1, &out, &len), 0);
	assert_non_null(
	    strstr(out, "\"source\":\"result\",\"stdout\":\"a\\nb\\n\""));
	free(out);
	assert_int_equal(output_view(&f->c, "nope", &out, &len),
			 -ERR_NOT_FOUND);
}

static void
test_follow_events(void **state)
{
	struct fx *f = *state;
	struct output_cursor cur;
	bool end = true;
	char *out = NULL;
	size_t len = 0;

	memset(&cur, 0, sizeof cur);
	assert_int_equal(output_follow(&f->c, EX1, &cur, &end, &out, &len), 0);
	assert_string_equal(out, "");
	assert_false(end);
	free(out);

	/* seq 1 is still on its way: only seq 0 goes now. */
	assert_true(put(f, false, 0, "a\n", 2));
	assert_true(put(f, false, 2, "c\n", 2));
	assert_int_equal(output_follow(&f->c, EX1, &cur, &end, &out, &len), 0);
	assert_string_equal(out, "event: output\ndata: {\"stream\":\"stdout\","
				 "\"seq\":0,\"data\":\"a\\n\"}\n\n");
	assert_int_equal(len, strlen(out));
	free(out);

	assert_true(put(f, false, 1, "b\n", 2));
	assert_true(put(f, true, 0, "\xff", 1));
	assert_int_equal(output_follow(&f->c, EX1, &cur, &end, &out, &len), 0);
	assert_string_equal(
	    out, "event: output\ndata: {\"stream\":\"stdout\",\"seq\":1,"
		 "\"data\":\"b\\n\"}\n\n"
		 "event: output\ndata: {\"stream\":\"stdout\",\"seq\":2,"
		 "\"data\":\"c\\n\"}\n\n"
		 "event: output\ndata: {\"stream\":\"stderr\",\"seq\":0,"
		 "\"data_b64\":\"/w==\"}\n\n");
	assert_false(end);
	free(out);

	/* Terminal: the end event, with the result's exit code. */
	finish(f);
	assert_int_equal(output_follow(&f->c, EX1, &cur, &end, &out, &len), 0);
	assert_string_equal(out, "event: end\ndata: {\"id\":\"" EX1
				 "\",\"state\":\"SUCCEEDED\",\"exit_code\":0}"
				 "\n\n");
	assert_true(end);
	free(out);
}

static void
test_follow_finished_without_chunks(void **state)
{
	struct fx *f = *state;
	struct output_cursor cur;
	bool end = false;
	char *out = NULL;
	size_t len = 0;

	/* Nothing was streamed: the result's output, then the end. */
	finish(f);
	memset(&cur, 0, sizeof cur);
	assert_int_equal(output_follow(&f->c, EX1, &cur, &end, &out, &len), 0);
	assert_string_equal(
	    out, "event: output\ndata: {\"stream\":\"stdout\",\"seq\":0,"
		 "\"data\":\"a\\nb\\n\"}\n\n"
		 "event: end\ndata: {\"id\":\"" EX1
		 "\",\"state\":\"SUCCEEDED\",\"exit_code\":0}\n\n");
	assert_true(end);
	free(out);
	assert_int_equal(output_follow(&f->c, "nope", &cur, &end, &out, &len),
			 -ERR_NOT_FOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_chunks_order_duplicates, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_chunks_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chunks_pruned_with_execution,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chunks_group_commit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_view_chunks_then_result, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_follow_events, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_follow_finished_without_chunks,
					    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
