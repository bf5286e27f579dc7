/* SPDX-License-Identifier: MIT */
/* Tests of the event loop. This is the one place a real clock is used:
 * timers of a few milliseconds, so the whole file runs well under a
 * second. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/loop.h"

struct ctx {
	int pipefd[2];
	int reads;
	unsigned last_events;
	char got[16];
	char order[32];
	size_t norder;
	uint64_t periodic_id;
	uint64_t oneshot_id;
	int periodic_fires;
	int signals;
	int last_signo;
	int prepares;
	uint64_t times[8];
	struct loop *loop;
};

static uint64_t
wall_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
note(struct ctx *c, char ch)
{
	if (c->norder < sizeof(c->order) - 1)
		c->order[c->norder++] = ch;
}

/* A safety net: a broken loop must fail the test, not hang it. */
static void
watchdog(struct loop *l, uint64_t id, void *ud)
{
	(void)id;
	(void)ud;
	fail_msg("loop did not stop in time");
	loop_stop(l);
}

static void
on_readable(struct loop *l, int fd, unsigned events, void *ud)
{
	struct ctx *c = ud;
	ssize_t n;

	c->reads++;
	c->last_events = events;
	n = read(fd, c->got, sizeof(c->got) - 1);
	assert_true(n > 0);
	c->got[n] = '\0';
	loop_stop(l);
}

static void
test_pipe_readable(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = {0};
	uint64_t wd;

	(void)state;
	assert_non_null(l);
	assert_int_equal(pipe(c.pipefd), 0);
	assert_int_equal(
	    loop_add_fd(l, c.pipefd[0], LOOP_READ, on_readable, &c), 0);
	assert_int_equal(
	    loop_add_fd(l, c.pipefd[0], LOOP_READ, on_readable, &c), -EEXIST);
	assert_int_equal(loop_mod_fd(l, c.pipefd[1], LOOP_WRITE), -ENOENT);
	assert_int_equal(loop_add_timer(l, 2000, 0, watchdog, NULL, &wd), 0);
	assert_int_equal(write(c.pipefd[1], "hi", 2), 2);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(c.reads, 1);
	assert_int_equal(c.last_events, LOOP_READ);
	assert_string_equal(c.got, "hi");
	loop_free(l);
	close(c.pipefd[0]);
	close(c.pipefd[1]);
}

static void
on_oneshot(struct loop *l, uint64_t id, void *ud)
{
	struct ctx *c = ud;

	assert_true(id == c->oneshot_id);
	/* A one-shot timer is gone by the time it runs. */
	assert_int_equal(loop_del_timer(l, id), -ENOENT);
	note(c, 'o');
}

static void
on_periodic(struct loop *l, uint64_t id, void *ud)
{
	struct ctx *c = ud;

	assert_true(id == c->periodic_id);
	c->times[c->periodic_fires] = loop_now_ms(l);
	c->periodic_fires++;
	note(c, 'p');
	if (c->periodic_fires == 4) {
		/* Removing itself from its own callback is allowed. */
		assert_int_equal(loop_del_timer(l, id), 0);
		assert_int_equal(loop_del_timer(l, id), -ENOENT);
	}
}

static void
on_finish(struct loop *l, uint64_t id, void *ud)
{
	struct ctx *c = ud;

	(void)id;
	note(c, 'f');
	loop_stop(l);
}

static void
test_timers_in_order(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = {0};
	uint64_t start, fin, wd;

	(void)state;
	assert_non_null(l);
	start = wall_mono_ms();
	/* Periodic every 10 ms from 10 ms: 10, 20, 30, 40; one-shot at 25.
	 * A stall past 30 reschedules the periodic timer from the time it
	 * fired, which keeps the order below. */
	assert_int_equal(
	    loop_add_timer(l, 10, 10, on_periodic, &c, &c.periodic_id), 0);
	assert_int_equal(
	    loop_add_timer(l, 25, 0, on_oneshot, &c, &c.oneshot_id), 0);
	assert_true(c.oneshot_id != c.periodic_id);
	assert_int_equal(loop_add_timer(l, 80, 0, on_finish, &c, &fin), 0);
	assert_int_equal(loop_add_timer(l, 2000, 0, watchdog, NULL, &wd), 0);
	assert_int_equal(loop_run(l), 0);
	c.order[c.norder] = '\0';
	assert_string_equal(c.order, "ppoppf");
	assert_int_equal(c.periodic_fires, 4);
	/* Never early: fire i is due at start + 10 * (i + 1) or later. */
	for (int i = 0; i < 4; i++) {
		assert_true(c.times[i] >= start + 10 * (uint64_t)(i + 1));
		if (i > 0)
			assert_true(c.times[i] > c.times[i - 1]);
	}
	assert_true(loop_now_ms(l) >= start + 80);
	assert_true(wall_mono_ms() - start < 1000);
	assert_int_equal(loop_del_timer(l, fin), -ENOENT);
	assert_int_equal(loop_del_timer(l, wd), 0);
	loop_free(l);
}

static void
on_self_remove(struct loop *l, int fd, unsigned events, void *ud)
{
	struct ctx *c = ud;
	char b;

	(void)events;
	c->reads++;
	assert_int_equal(read(fd, &b, 1), 1);
	assert_int_equal(loop_del_fd(l, fd), 0);
	assert_int_equal(loop_del_fd(l, fd), -ENOENT);
	/* Re-adding the same fd from the callback is allowed too: the
	 * removed entry no longer owns it. */
	assert_int_equal(loop_add_fd(l, fd, LOOP_READ, on_self_remove, c), 0);
	assert_int_equal(loop_del_fd(l, fd), 0);
}

static void
stop_after(struct loop *l, uint64_t id, void *ud)
{
	(void)id;
	(void)ud;
	loop_stop(l);
}

static void
test_fd_removes_itself(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = {0};

	(void)state;
	assert_non_null(l);
	assert_int_equal(pipe(c.pipefd), 0);
	assert_int_equal(
	    loop_add_fd(l, c.pipefd[0], LOOP_READ, on_self_remove, &c), 0);
	/* Two bytes: a second callback would follow if removal failed. */
	assert_int_equal(write(c.pipefd[1], "ab", 2), 2);
	assert_int_equal(loop_add_timer(l, 20, 0, stop_after, NULL, NULL), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(c.reads, 1);
	assert_int_equal(loop_del_fd(l, c.pipefd[0]), -ENOENT);
	loop_free(l);
	close(c.pipefd[0]);
	close(c.pipefd[1]);
}

/* The first callback removes the second descriptor, which is also ready
 * in the same iteration: it must not be called. */
struct pair {
	int a[2], b[2];
	int calls_a, calls_b;
};

static void
on_b(struct loop *l, int fd, unsigned events, void *ud)
{
	struct pair *p = ud;

	(void)l;
	(void)fd;
	(void)events;
	p->calls_b++;
}

static void
on_a(struct loop *l, int fd, unsigned events, void *ud)
{
	struct pair *p = ud;
	char ch;

	(void)events;
	p->calls_a++;
	assert_int_equal(read(fd, &ch, 1), 1);
	assert_int_equal(loop_del_fd(l, p->b[0]), 0);
	assert_int_equal(loop_del_fd(l, fd), 0);
}

static void
test_remove_other_fd(void **state)
{
	struct loop *l = loop_new();
	struct pair p = {0};

	(void)state;
	assert_non_null(l);
	assert_int_equal(pipe(p.a), 0);
	assert_int_equal(pipe(p.b), 0);
	assert_int_equal(loop_add_fd(l, p.a[0], LOOP_READ, on_a, &p), 0);
	assert_int_equal(loop_add_fd(l, p.b[0], LOOP_READ, on_b, &p), 0);
	assert_int_equal(write(p.a[1], "x", 1), 1);
	assert_int_equal(write(p.b[1], "y", 1), 1);
	assert_int_equal(loop_add_timer(l, 10, 0, stop_after, NULL, NULL), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(p.calls_a, 1);
	assert_int_equal(p.calls_b, 0);
	loop_free(l);
	close(p.a[0]);
	close(p.a[1]);
	close(p.b[0]);
	close(p.b[1]);
}

static void
on_writable_then_mod(struct loop *l, int fd, unsigned events, void *ud)
{
	struct ctx *c = ud;

	c->reads++;
	c->last_events = events;
	/* No more interest in writing: no further calls should follow. */
	assert_int_equal(loop_mod_fd(l, fd, 0), 0);
}

static void
test_write_and_mod(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = {0};

	(void)state;
	assert_non_null(l);
	assert_int_equal(pipe(c.pipefd), 0);
	assert_int_equal(
	    loop_add_fd(l, c.pipefd[1], LOOP_WRITE, on_writable_then_mod, &c),
	    0);
	assert_int_equal(loop_add_timer(l, 15, 0, stop_after, NULL, NULL), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(c.reads, 1);
	assert_int_equal(c.last_events, LOOP_WRITE);
	loop_free(l);
	close(c.pipefd[0]);
	close(c.pipefd[1]);
}

static void
on_signal(struct loop *l, int signo, void *ud)
{
	struct ctx *c = ud;

	c->signals++;
	c->last_signo = signo;
	loop_stop(l);
}

static void
raise_usr1(struct loop *l, uint64_t id, void *ud)
{
	(void)l;
	(void)id;
	(void)ud;
	raise(SIGUSR1);
}

static void
test_signal(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = {0};
	struct sigaction sa;

	(void)state;
	assert_non_null(l);
	assert_int_equal(loop_add_signal(l, SIGUSR1, on_signal, &c), 0);
	assert_int_equal(loop_add_signal(l, SIGUSR1, on_signal, &c), -EEXIST);
	assert_int_equal(loop_add_signal(l, SIGKILL, on_signal, &c), -EINVAL);
	assert_int_equal(loop_add_timer(l, 1, 0, raise_usr1, NULL, NULL), 0);
	assert_int_equal(loop_add_timer(l, 2000, 0, watchdog, NULL, NULL), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(c.signals, 1);
	assert_int_equal(c.last_signo, SIGUSR1);

	/* A signal raised before the loop runs is not lost either. */
	raise(SIGUSR1);
	assert_int_equal(c.signals, 1); /* not from the handler */
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(c.signals, 2);
	loop_free(l);
	/* The previous disposition is back. */
	assert_int_equal(sigaction(SIGUSR1, NULL, &sa), 0);
	assert_ptr_equal(sa.sa_handler, SIG_DFL);
}

static uint64_t
prepare_hook(struct loop *l, void *ud)
{
	struct ctx *c = ud;

	c->prepares++;
	if (c->prepares == 3)
		loop_stop(l);
	/* Without this bound the loop would sleep until the watchdog. */
	return 2;
}

static void
test_prepare_bounds_wait(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = {0};
	uint64_t start = wall_mono_ms();

	(void)state;
	assert_non_null(l);
	assert_int_equal(loop_add_prepare(l, prepare_hook, &c), 0);
	assert_int_equal(loop_add_timer(l, 2000, 0, watchdog, NULL, NULL), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(c.prepares, 3);
	assert_true(wall_mono_ms() - start < 500);
	loop_free(l);
}

struct hook {
	int calls;
	int stop_at;	     /* stops the loop on this call; 0: never */
	struct hook *victim; /* removed, with this hook, on its second call */
	int del_self, del_victim;
};

static uint64_t
counting_hook(struct loop *l, void *ud)
{
	struct hook *h = ud;

	h->calls++;
	if (h->victim != NULL && h->calls == 2) {
		h->del_self = loop_del_prepare(l, counting_hook, h);
		h->del_victim = loop_del_prepare(l, counting_hook, h->victim);
	}
	if (h->calls == h->stop_at)
		loop_stop(l);
	return 2;
}

static void
test_prepare_removed(void **state)
{
	struct loop *l = loop_new();
	struct hook c = {0}, b = {.stop_at = 4}, a = {.victim = &c};

	(void)state;
	assert_non_null(l);
	/* One function, three hooks told apart by their user data. */
	assert_int_equal(loop_add_prepare(l, counting_hook, &a), 0);
	assert_int_equal(loop_add_prepare(l, counting_hook, &b), 0);
	assert_int_equal(loop_add_prepare(l, counting_hook, &c), 0);
	assert_int_equal(loop_add_timer(l, 2000, 0, watchdog, NULL, NULL), 0);
	assert_int_equal(loop_run(l), 0);
	/* a removed itself and c in the second iteration, before c's turn
	 * in it; b ran on alone. */
	assert_int_equal(a.del_self, 0);
	assert_int_equal(a.del_victim, 0);
	assert_int_equal(a.calls, 2);
	assert_int_equal(c.calls, 1);
	assert_int_equal(b.calls, 4);
	assert_int_equal(loop_del_prepare(l, counting_hook, &a), -ENOENT);
	assert_int_equal(loop_del_prepare(l, counting_hook, &c), -ENOENT);
	assert_int_equal(loop_del_prepare(l, counting_hook, &b), 0);
	assert_int_equal(loop_del_prepare(l, counting_hook, &b), -ENOENT);
	assert_int_equal(loop_del_prepare(l, NULL, NULL), -ENOENT);
	loop_free(l);
}

static void
stop_from_cb(struct loop *l, uint64_t id, void *ud)
{
	struct ctx *c = ud;

	(void)id;
	note(c, 's');
	loop_stop(l);
}

static void
test_stop_after_current_callback(void **state)
{
	struct loop *l = loop_new();
	struct ctx c = {0};

	(void)state;
	assert_non_null(l);
	/* Both due in the same iteration: the stop wins over the second. */
	assert_int_equal(loop_add_timer(l, 0, 0, stop_from_cb, &c, NULL), 0);
	assert_int_equal(loop_add_timer(l, 0, 0, stop_from_cb, &c, NULL), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(c.norder, 1);
	/* The remaining one fires on the next run. */
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(c.norder, 2);
	loop_free(l);
	loop_free(NULL);
}

static void
test_bad_args(void **state)
{
	struct loop *l = loop_new();

	(void)state;
	assert_non_null(l);
	assert_int_equal(loop_add_fd(l, -1, LOOP_READ, on_b, NULL), -EINVAL);
	assert_int_equal(loop_del_fd(l, 5), -ENOENT);
	assert_int_equal(loop_del_timer(l, 12345), -ENOENT);
	assert_int_equal(loop_del_timer(l, 0), -ENOENT);
	loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pipe_readable),
	    cmocka_unit_test(test_timers_in_order),
	    cmocka_unit_test(test_fd_removes_itself),
	    cmocka_unit_test(test_remove_other_fd),
	    cmocka_unit_test(test_write_and_mod),
	    cmocka_unit_test(test_signal),
	    cmocka_unit_test(test_prepare_bounds_wait),
	    cmocka_unit_test(test_prepare_removed),
	    cmocka_unit_test(test_stop_after_current_callback),
	    cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
