/* SPDX-License-Identifier: MIT */
/* The process adapter with real processes on a real loop: exit codes,
 * timeouts that need SIGKILL, large output kept as first and last half,
 * stdin, a scrubbed environment, lookup on the configured path only. Each
 * case takes well under two seconds of real time. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "common/log.h"
#include "common/loop.h"
#include "exec.h"

#define GUARD_MS 5000
#define SEARCH "/usr/local/bin:/usr/bin:/bin"

struct done {
	bool called;
	bool guard_fired;
	uint64_t token;
	int status;
	bool timed_out;
	struct cmdbus_stream out, err;
};

struct fx {
	struct loop *loop;
	struct exec *ex;
	struct done d;
	struct strv *env;
	struct strv *args[4];
	size_t nargs;
};

/* An argv or envp from string literals, owned (the literals are const). */
struct strv {
	char *v[16];
};

static struct strv *
strv(const char *first, ...)
{
	struct strv *a = calloc(1, sizeof(*a));
	const char *s = first;
	va_list ap;
	size_t n = 0;

	assert_non_null(a);
	va_start(ap, first);
	while (s && n < 15) {
		a->v[n++] = strdup(s);
		s = va_arg(ap, const char *);
	}
	va_end(ap);
	return a;
}

static void
strv_free(struct strv *a)
{
	for (size_t i = 0; a && a->v[i]; i++)
		free(a->v[i]);
	free(a);
}

static void
on_done(void *ud, uint64_t token, const struct core_exit *ce)
{
	struct fx *f = ud;

	f->d.called = true;
	f->d.token = token;
	f->d.status = ce->wait_status;
	f->d.timed_out = ce->timed_out;
	assert_int_equal(output_take(ce->out, &f->d.out), 0);
	assert_int_equal(output_take(ce->err, &f->d.err), 0);
	loop_stop(f->loop);
}

static void
on_guard(struct loop *l, uint64_t id, void *ud)
{
	struct fx *f = ud;

	f->d.guard_fired = true;
	loop_stop(l);
}

static struct fx *
fx_new(uint64_t grace_ms)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->loop = loop_new();
	assert_non_null(f->loop);
	assert_int_equal(exec_new(f->loop, grace_ms, on_done, f, &f->ex), 0);
	f->env = strv("PATH=" SEARCH, "LANG=C.UTF-8", NULL);
	return f;
}

static void
fx_free(struct fx *f)
{
	exec_free(f->ex);
	loop_free(f->loop);
	free(f->d.out.kept.data);
	free(f->d.err.kept.data);
	strv_free(f->env);
	for (size_t i = 0; i < f->nargs; i++)
		strv_free(f->args[i]);
	free(f);
}

/* An argv that lives as long as the fixture. */
static char *const *
fx_argv(struct fx *f, struct strv *a)
{
	assert_true(f->nargs < 4);
	f->args[f->nargs++] = a;
	return a->v;
}

static void
spec_init(struct fx *f, struct core_spawn *sp, struct strv *argv)
{
	memset(sp, 0, sizeof(*sp));
	sp->id = "01JTEST0000000000000000000";
	sp->argv = fx_argv(f, argv);
	sp->envp = f->env->v;
	sp->search_path = SEARCH;
	sp->cwd = "/";
	sp->max_output = 65536;
	sp->timeout_ms = 3000;
}

/* Spawns and runs the loop until the run ends (or the guard fires). */
static void
run(struct fx *f, const struct core_spawn *sp)
{
	uint64_t guard;
	long pid = 0;

	assert_int_equal(exec_spawn(f->ex, 7, sp, &pid), 0);
	assert_true(pid > 0);
	assert_int_equal(exec_active(f->ex), 1);
	assert_int_equal(
	    loop_add_timer(f->loop, GUARD_MS, 0, on_guard, f, &guard), 0);
	assert_int_equal(loop_run(f->loop), 0);
	assert_false(f->d.guard_fired);
	assert_true(f->d.called);
	assert_int_equal(f->d.token, 7);
	assert_int_equal(exec_active(f->ex), 0);
	loop_del_timer(f->loop, guard);
}

static void
echo_output(void **state)
{
	struct fx *f = fx_new(1000);
	struct core_spawn sp;

	spec_init(f, &sp, strv("echo", "hello", "world", NULL));
	run(f, &sp);
	assert_true(WIFEXITED(f->d.status));
	assert_int_equal(WEXITSTATUS(f->d.status), 0);
	assert_false(f->d.timed_out);
	assert_string_equal(f->d.out.kept.data, "hello world\n");
	assert_int_equal(f->d.out.bytes, 12);
	assert_int_equal(f->d.err.kept.len, 0);
	fx_free(f);
}

static void
exit_code_and_stderr(void **state)
{
	struct fx *f = fx_new(1000);
	struct core_spawn sp;

	spec_init(f, &sp, strv("/bin/sh", "-c", "echo oops >&2; exit 3", NULL));
	run(f, &sp);
	assert_true(WIFEXITED(f->d.status));
	assert_int_equal(WEXITSTATUS(f->d.status), 3);
	assert_string_equal(f->d.err.kept.data, "oops\n");
	assert_int_equal(f->d.out.kept.len, 0);
	fx_free(f);
}

static void
timeout_escalates_to_sigkill(void **state)
{
	struct fx *f = fx_new(150);
	struct core_spawn sp;

	/* The whole group ignores SIGTERM (an ignored signal survives
	 * exec), so only the SIGKILL after the grace ends it. */
	spec_init(f, &sp,
		  strv("/bin/sh", "-c",
		       "trap '' TERM; echo started; "
		       "while :; do sleep 0.05; done",
		       NULL));
	sp.timeout_ms = 200;
	run(f, &sp);
	assert_true(f->d.timed_out);
	assert_true(WIFSIGNALED(f->d.status));
	assert_int_equal(WTERMSIG(f->d.status), 9);
	assert_string_equal(f->d.out.kept.data, "started\n");
	fx_free(f);
}

static void
timeout_sigterm_suffices(void **state)
{
	struct fx *f = fx_new(1000);
	struct core_spawn sp;

	spec_init(f, &sp, strv("sleep", "10", NULL));
	sp.timeout_ms = 100;
	run(f, &sp);
	assert_true(f->d.timed_out);
	assert_true(WIFSIGNALED(f->d.status));
	assert_int_equal(WTERMSIG(f->d.status), 15);
	fx_free(f);
}

static void
terminate_is_not_a_timeout(void **state)
{
	struct fx *f = fx_new(1000);
	struct core_spawn sp;
	uint64_t guard;
	long pid;

	spec_init(f, &sp, strv("sleep", "10", NULL));
	assert_int_equal(exec_spawn(f->ex, 9, &sp, &pid), 0);
	exec_terminate(f->ex, 9);
	exec_terminate(f->ex, 12345); /* unknown: no-op */
	assert_int_equal(
	    loop_add_timer(f->loop, GUARD_MS, 0, on_guard, f, &guard), 0);
	assert_int_equal(loop_run(f->loop), 0);
	assert_true(f->d.called);
	assert_false(f->d.timed_out);
	assert_true(WIFSIGNALED(f->d.status));
	assert_int_equal(WTERMSIG(f->d.status), 15);
	fx_free(f);
}

static void
large_output_is_truncated_not_killed(void **state)
{
	struct fx *f = fx_new(1000);
	struct core_spawn sp;
	size_t n = 0, cap = 256 * 1024;
	char *expect = malloc(cap);

	/* seq writes about 200 KiB; the command must finish normally. */
	assert_non_null(expect);
	for (int i = 1; i <= 36000; i++)
		n += (size_t)snprintf(expect + n, cap - n, "%d\n", i);
	assert_true(n > 200 * 1000);

	spec_init(f, &sp, strv("seq", "1", "36000", NULL));
	run(f, &sp);
	assert_true(WIFEXITED(f->d.status));
	assert_int_equal(WEXITSTATUS(f->d.status), 0);
	assert_int_equal(f->d.out.bytes, n);
	assert_true(f->d.out.truncated);
	assert_int_equal(f->d.out.kept.len, 65536);
	assert_memory_equal(f->d.out.kept.data, expect, 32768);
	assert_memory_equal(f->d.out.kept.data + 32768, expect + n - 32768,
			    32768);
	free(expect);
	fx_free(f);
}

static void
stdin_is_passed(void **state)
{
	static const char in[] = "line one\nzero\0byte\n";
	struct fx *f = fx_new(1000);
	struct core_spawn sp;

	spec_init(f, &sp, strv("cat", NULL));
	sp.has_stdin = true;
	sp.stdin_data = in;
	sp.stdin_len = sizeof(in) - 1;
	run(f, &sp);
	assert_int_equal(WEXITSTATUS(f->d.status), 0);
	assert_int_equal(f->d.out.kept.len, sizeof(in) - 1);
	assert_memory_equal(f->d.out.kept.data, in, sizeof(in) - 1);
	fx_free(f);
}

static void
large_stdin_through_the_loop(void **state)
{
	enum { N = 300 * 1024 };
	struct fx *f = fx_new(1000);
	struct core_spawn sp;
	char *in = malloc(N);

	/* More than a pipe holds: stdin is written as the child reads,
	 * while its output is read, without deadlock. */
	assert_non_null(in);
	for (size_t i = 0; i < N; i++)
		in[i] = (char)('a' + i % 26);
	spec_init(f, &sp, strv("cat", NULL));
	sp.has_stdin = true;
	sp.stdin_data = in;
	sp.stdin_len = N;
	run(f, &sp);
	assert_int_equal(WEXITSTATUS(f->d.status), 0);
	assert_int_equal(f->d.out.bytes, N);
	assert_memory_equal(f->d.out.kept.data, in, 32768);
	assert_memory_equal(f->d.out.kept.data + 32768, in + N - 32768, 32768);
	free(in);
	fx_free(f);
}

static void
no_stdin_is_dev_null(void **state)
{
	struct fx *f = fx_new(1000);
	struct core_spawn sp;

	spec_init(f, &sp, strv("cat", NULL));
	run(f, &sp);
	assert_int_equal(WEXITSTATUS(f->d.status), 0);
	assert_int_equal(f->d.out.bytes, 0);
	fx_free(f);
}

static void
environment_is_scrubbed(void **state)
{
	struct fx *f = fx_new(1000);
	struct strv *env = strv("PATH=/bin", "LANG=C.UTF-8", "FOO=bar", NULL);
	struct core_spawn sp;

	setenv("CMDBUS_TEST_SECRET", "must-not-leak", 1);
	spec_init(f, &sp, strv("env", NULL));
	sp.envp = env->v;
	run(f, &sp);
	assert_int_equal(WEXITSTATUS(f->d.status), 0);
	assert_string_equal(f->d.out.kept.data,
			    "PATH=/bin\nLANG=C.UTF-8\nFOO=bar\n");
	assert_null(strstr(f->d.out.kept.data, "must-not-leak"));
	unsetenv("CMDBUS_TEST_SECRET");
	strv_free(env);
	fx_free(f);
}

static void
working_directory(void **state)
{
	struct fx *f = fx_new(1000);
	struct core_spawn sp;

	spec_init(f, &sp, strv("pwd", NULL));
	sp.cwd = "/tmp";
	run(f, &sp);
	assert_string_equal(f->d.out.kept.data, "/tmp\n");
	fx_free(f);
}

static void
spawn_failures(void **state)
{
	struct fx *f = fx_new(1000);
	struct core_spawn sp;
	long pid = 0;

	spec_init(f, &sp, strv("cmdbus-no-such-command", NULL));
	assert_int_equal(exec_spawn(f->ex, 1, &sp, &pid), -ENOENT);
	/* Looked up on the configured path only, never the caller's. */
	spec_init(f, &sp, strv("ls", NULL));
	sp.search_path = "/nonexistent:/also/not";
	assert_int_equal(exec_spawn(f->ex, 2, &sp, &pid), -ENOENT);
	/* With a '/', used as it is. */
	spec_init(f, &sp, strv("/nonexistent/dir/tool", NULL));
	assert_int_equal(exec_spawn(f->ex, 3, &sp, &pid), -ENOENT);
	sp.argv = f->args[1]->v;
	sp.cwd = "/nonexistent/cwd";
	assert_int_equal(exec_spawn(f->ex, 4, &sp, &pid), -ENOENT);
	assert_int_equal(exec_active(f->ex), 0);
	fx_free(f);
}

static void
own_process_group(void **state)
{
	struct fx *f = fx_new(1000);
	struct core_spawn sp;
	long pid = 0, pgid = -1;

	/* ps prints the process group of the shell: its own pid. */
	spec_init(f, &sp,
		  strv("/bin/sh", "-c", "echo $$; ps -o pgid= -p $$", NULL));
	run(f, &sp);
	assert_int_equal(sscanf(f->d.out.kept.data, "%ld %ld", &pid, &pgid), 2);
	assert_int_equal(pid, pgid);
	fx_free(f);
}

static void
concurrent_runs(void **state)
{
	struct fx *f = fx_new(1000);
	struct core_spawn sp;
	uint64_t guard;
	long pid;

	spec_init(f, &sp, strv("sh", "-c", "sleep 0.2; echo a", NULL));
	assert_int_equal(exec_spawn(f->ex, 1, &sp, &pid), 0);
	spec_init(f, &sp, strv("echo", "b", NULL));
	assert_int_equal(exec_spawn(f->ex, 2, &sp, &pid), 0);
	assert_int_equal(exec_active(f->ex), 2);
	assert_int_equal(
	    loop_add_timer(f->loop, GUARD_MS, 0, on_guard, f, &guard), 0);
	/* The quick one ends first. */
	assert_int_equal(loop_run(f->loop), 0);
	assert_int_equal(f->d.token, 2);
	assert_string_equal(f->d.out.kept.data, "b\n");
	free(f->d.out.kept.data);
	free(f->d.err.kept.data);
	memset(&f->d, 0, sizeof(f->d));
	assert_int_equal(loop_run(f->loop), 0);
	assert_false(f->d.guard_fired);
	assert_int_equal(f->d.token, 1);
	assert_string_equal(f->d.out.kept.data, "a\n");
	assert_int_equal(exec_active(f->ex), 0);
	fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(echo_output),
	    cmocka_unit_test(exit_code_and_stderr),
	    cmocka_unit_test(timeout_escalates_to_sigkill),
	    cmocka_unit_test(timeout_sigterm_suffices),
	    cmocka_unit_test(terminate_is_not_a_timeout),
	    cmocka_unit_test(large_output_is_truncated_not_killed),
	    cmocka_unit_test(stdin_is_passed),
	    cmocka_unit_test(large_stdin_through_the_loop),
	    cmocka_unit_test(no_stdin_is_dev_null),
	    cmocka_unit_test(environment_is_scrubbed),
	    cmocka_unit_test(working_directory),
	    cmocka_unit_test(spawn_failures),
	    cmocka_unit_test(own_process_group),
	    cmocka_unit_test(concurrent_runs),
	};

	log_init("test_agent_exec", LOG_LVL_ERROR, false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
