/* SPDX-License-Identifier: MIT */
/* One event loop per program: poll(2) over registered descriptors, timers
 * on the monotonic clock, signals turned into callbacks through a
 * self-pipe, and prepare hooks that run before each wait (an adapter uses
 * them to say whether it wants to write and how long it may sleep). */
#ifndef CMDBUS_COMMON_LOOP_H
#define CMDBUS_COMMON_LOOP_H

#include <stdint.h>

struct loop;

enum {
	LOOP_READ = 1u << 0,
	LOOP_WRITE = 1u << 1,
	LOOP_ERROR = 1u << 2, /* reported only: POLLERR, POLLHUP, POLLNVAL */
};

typedef void loop_io_fn(struct loop *l, int fd, unsigned events, void *ud);
typedef void loop_timer_fn(struct loop *l, uint64_t timer_id, void *ud);
typedef void loop_signal_fn(struct loop *l, int signo, void *ud);
/* Runs before each wait; returns the longest the loop may sleep, in ms
 * (UINT64_MAX: no limit from this hook). */
typedef uint64_t loop_prepare_fn(struct loop *l, void *ud);

/* A new loop, or NULL when out of memory. */
struct loop *loop_new(void);
/* Frees the loop; descriptors are not closed. NULL is a no-op. */
void loop_free(struct loop *l);

/* Watches fd for `events` (LOOP_READ | LOOP_WRITE). One registration per
 * fd: -EEXIST if it is watched already. */
int loop_add_fd(struct loop *l, int fd, unsigned events, loop_io_fn *cb,
		void *ud);
/* Changes what fd is watched for. -ENOENT if it is not watched. */
int loop_mod_fd(struct loop *l, int fd, unsigned events);
/* Stops watching fd; safe from inside its own callback. */
int loop_del_fd(struct loop *l, int fd);

/* A timer that fires after `after_ms` and then every `every_ms` (0: once;
 * a one-shot timer is removed after it fires). Its id goes to *id. */
int loop_add_timer(struct loop *l, uint64_t after_ms, uint64_t every_ms,
		   loop_timer_fn *cb, void *ud, uint64_t *id);
/* Removes a timer; safe from inside its own callback. -ENOENT if gone. */
int loop_del_timer(struct loop *l, uint64_t id);

/* Calls cb from the loop, not from the signal handler, when signo arrives.
 * The signal's previous disposition is replaced for the process. */
int loop_add_signal(struct loop *l, int signo, loop_signal_fn *cb, void *ud);

/* Adds a hook that runs before every wait. */
int loop_add_prepare(struct loop *l, loop_prepare_fn *cb, void *ud);
/* Removes the hook added with this cb and ud; safe from inside a hook,
 * its own included. -ENOENT if there is none. */
int loop_del_prepare(struct loop *l, loop_prepare_fn *cb, void *ud);

/* Runs until loop_stop(); 0, or -errno if poll fails for good. */
int loop_run(struct loop *l);
/* Makes loop_run return after the current callback; safe anywhere. */
void loop_stop(struct loop *l);

/* The loop's monotonic time in ms, read once per iteration. */
uint64_t loop_now_ms(const struct loop *l);

#endif
