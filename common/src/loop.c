/* SPDX-License-Identifier: MIT */
/* The event loop: poll(2) over a small array of descriptors, timers on the
 * monotonic clock, signals delivered through a self-pipe, and prepare hooks
 * that bound each wait. Callbacks may add and remove descriptors, timers and
 * hooks, their own included: removal only marks an entry, and dead entries
 * are swept between iterations, never while a dispatch walks the arrays. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/loop.h"

struct loop_fd {
	int fd; /* -1 once removed */
	unsigned events;
	loop_io_fn *cb;
	void *ud;
};

struct loop_timer {
	uint64_t id;  /* 0 once removed */
	uint64_t due; /* monotonic ms */
	uint64_t every;
	loop_timer_fn *cb;
	void *ud;
};

struct loop_sig {
	int signo;
	loop_signal_fn *cb;
	void *ud;
	struct sigaction old; /* restored by loop_free */
};

struct loop_prepare {
	loop_prepare_fn *cb; /* NULL once removed */
	void *ud;
};

struct loop {
	struct loop_fd *fds;
	size_t nfds, capfds;
	struct pollfd *pfds; /* this iteration's poll set */
	size_t *pidx;	     /* pfds[i] belongs to fds[pidx[i]] */
	size_t cappfds;

	struct loop_timer *timers;
	size_t ntimers, captimers;
	uint64_t next_timer_id;

	struct loop_sig *sigs;
	size_t nsigs;
	int sigpipe[2]; /* self-pipe, -1 until the first signal is added */

	struct loop_prepare *prepares;
	size_t nprepares;

	uint64_t now;
	int dispatching; /* >0 while callbacks run: no sweeping */
	bool dead_entries;
	volatile sig_atomic_t stop;
};

/* The signal handler can only reach a global; one loop owns signals. */
static volatile sig_atomic_t sig_write_fd = -1;
static struct loop *sig_owner;

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Returns p grown to hold at least n+1 elements of size sz (*cap is
 * updated), or NULL with p untouched when out of memory. */
static void *
grow(void *p, size_t *cap, size_t n, size_t sz)
{
	size_t ncap;
	void *q;

	if (n < *cap)
		return p;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap > SIZE_MAX / sz)
		return NULL;
	q = realloc(p, ncap * sz);
	if (q != NULL)
		*cap = ncap;
	return q;
}

struct loop *
loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->sigpipe[0] = l->sigpipe[1] = -1;
	l->next_timer_id = 1;
	l->now = mono_ms();
	return l;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	assert(l->dispatching == 0);
	if (sig_owner == l) {
		for (size_t i = 0; i < l->nsigs; i++)
			sigaction(l->sigs[i].signo, &l->sigs[i].old, NULL);
		sig_write_fd = -1;
		sig_owner = NULL;
	}
	if (l->sigpipe[0] >= 0) {
		close(l->sigpipe[0]);
		close(l->sigpipe[1]);
	}
	free(l->fds);
	free(l->pfds);
	free(l->pidx);
	free(l->timers);
	free(l->sigs);
	free(l->prepares);
	free(l);
}

/* Drops removed entries; only between dispatches, so that indices held
 * by a running dispatch stay valid. Order is kept. */
static void
sweep(struct loop *l)
{
	size_t i, j;

	if (!l->dead_entries || l->dispatching)
		return;
	for (i = j = 0; i < l->nfds; i++) {
		if (l->fds[i].fd >= 0)
			l->fds[j++] = l->fds[i];
	}
	l->nfds = j;
	for (i = j = 0; i < l->ntimers; i++) {
		if (l->timers[i].id != 0)
			l->timers[j++] = l->timers[i];
	}
	l->ntimers = j;
	for (i = j = 0; i < l->nprepares; i++) {
		if (l->prepares[i].cb != NULL)
			l->prepares[j++] = l->prepares[i];
	}
	l->nprepares = j;
	l->dead_entries = false;
}

static struct loop_fd *
find_fd(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->nfds; i++) {
		if (l->fds[i].fd == fd)
			return &l->fds[i];
	}
	return NULL;
}

int
loop_add_fd(struct loop *l, int fd, unsigned events, loop_io_fn *cb, void *ud)
{
	struct loop_fd *e;

	if (fd < 0 || cb == NULL)
		return -EINVAL;
	if (find_fd(l, fd) != NULL)
		return -EEXIST;
	e = grow(l->fds, &l->capfds, l->nfds, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	l->fds = e;
	e = &l->fds[l->nfds++];
	e->fd = fd;
	e->events = events & (LOOP_READ | LOOP_WRITE);
	e->cb = cb;
	e->ud = ud;
	return 0;
}

int
loop_mod_fd(struct loop *l, int fd, unsigned events)
{
	struct loop_fd *e = fd >= 0 ? find_fd(l, fd) : NULL;

	if (e == NULL)
		return -ENOENT;
	e->events = events & (LOOP_READ | LOOP_WRITE);
	return 0;
}

int
loop_del_fd(struct loop *l, int fd)
{
	struct loop_fd *e = fd >= 0 ? find_fd(l, fd) : NULL;

	if (e == NULL)
		return -ENOENT;
	e->fd = -1;
	e->cb = NULL;
	l->dead_entries = true;
	sweep(l);
	return 0;
}

int
loop_add_timer(struct loop *l, uint64_t after_ms, uint64_t every_ms,
	       loop_timer_fn *cb, void *ud, uint64_t *id)
{
	struct loop_timer *t;
	/* Inside a callback the iteration's time is the reference, as for
	 * every other timer; outside, the loop's time may be stale. */
	uint64_t base = l->dispatching ? l->now : mono_ms();

	if (cb == NULL)
		return -EINVAL;
	t = grow(l->timers, &l->captimers, l->ntimers, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	l->timers = t;
	t = &l->timers[l->ntimers++];
	t->id = l->next_timer_id++;
	t->due = after_ms > UINT64_MAX - base ? UINT64_MAX : base + after_ms;
	t->every = every_ms;
	t->cb = cb;
	t->ud = ud;
	if (id != NULL)
		*id = t->id;
	return 0;
}

int
loop_del_timer(struct loop *l, uint64_t id)
{
	for (size_t i = 0; id != 0 && i < l->ntimers; i++) {
		if (l->timers[i].id == id) {
			l->timers[i].id = 0;
			l->timers[i].cb = NULL;
			l->dead_entries = true;
			sweep(l);
			return 0;
		}
	}
	return -ENOENT;
}

static void
signal_handler(int signo)
{
	int saved_errno = errno;
	unsigned char b = (unsigned char)signo;
	int fd = sig_write_fd;

	/* A full pipe already holds a wake-up; losing this byte only merges
	 * two deliveries of a signal into one, as the kernel does too. */
	if (fd >= 0 && write(fd, &b, 1) < 0)
		(void)0;
	errno = saved_errno;
}

static void
signal_readable(struct loop *l, int fd, unsigned events, void *ud)
{
	unsigned char bytes[64];
	ssize_t n;

	(void)events;
	(void)ud;
	while ((n = read(fd, bytes, sizeof(bytes))) > 0 ||
	       (n < 0 && errno == EINTR)) {
		for (ssize_t i = 0; i < n; i++) {
			for (size_t j = 0; j < l->nsigs; j++) {
				if (l->sigs[j].signo != bytes[i])
					continue;
				l->sigs[j].cb(l, bytes[i], l->sigs[j].ud);
				break;
			}
			if (l->stop)
				return;
		}
	}
}

static int
set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	if ((fl = fcntl(fd, F_GETFD)) < 0 ||
	    fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

static int
open_sigpipe(struct loop *l)
{
	int rc;

	if (l->sigpipe[0] >= 0)
		return 0;
	if (pipe(l->sigpipe) < 0)
		return -errno;
	if ((rc = set_flags(l->sigpipe[0])) < 0 ||
	    (rc = set_flags(l->sigpipe[1])) < 0 ||
	    (rc = loop_add_fd(l, l->sigpipe[0], LOOP_READ, signal_readable,
			      NULL)) < 0) {
		close(l->sigpipe[0]);
		close(l->sigpipe[1]);
		l->sigpipe[0] = l->sigpipe[1] = -1;
		return rc;
	}
	return 0;
}

int
loop_add_signal(struct loop *l, int signo, loop_signal_fn *cb, void *ud)
{
	struct sigaction sa;
	struct loop_sig *s;
	int rc;

	/* The self-pipe carries the number in one byte. */
	if (cb == NULL || signo <= 0 || signo > UCHAR_MAX || signo == SIGKILL ||
	    signo == SIGSTOP)
		return -EINVAL;
	if (sig_owner != NULL && sig_owner != l)
		return -EBUSY;
	for (size_t i = 0; i < l->nsigs; i++) {
		if (l->sigs[i].signo == signo)
			return -EEXIST;
	}
	s = realloc(l->sigs, (l->nsigs + 1) * sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	l->sigs = s;
	if ((rc = open_sigpipe(l)) < 0)
		return rc;
	s = &l->sigs[l->nsigs];
	s->signo = signo;
	s->cb = cb;
	s->ud = ud;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = signal_handler;
	sigemptyset(&sa.sa_mask);
	/* Restart other system calls; poll(2) still returns EINTR, which
	 * the loop treats as a wake-up, and the byte in the pipe tells it
	 * what arrived. */
	sa.sa_flags = SA_RESTART;
	sig_write_fd = l->sigpipe[1];
	sig_owner = l;
	if (sigaction(signo, &sa, &s->old) < 0) {
		rc = -errno;
		if (l->nsigs == 0) {
			sig_write_fd = -1;
			sig_owner = NULL;
		}
		return rc;
	}
	l->nsigs++;
	return 0;
}

int
loop_add_prepare(struct loop *l, loop_prepare_fn *cb, void *ud)
{
	struct loop_prepare *p;

	if (cb == NULL)
		return -EINVAL;
	p = realloc(l->prepares, (l->nprepares + 1) * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	l->prepares = p;
	p[l->nprepares].cb = cb;
	p[l->nprepares].ud = ud;
	l->nprepares++;
	return 0;
}

int
loop_del_prepare(struct loop *l, loop_prepare_fn *cb, void *ud)
{
	for (size_t i = 0; cb != NULL && i < l->nprepares; i++) {
		if (l->prepares[i].cb == cb && l->prepares[i].ud == ud) {
			l->prepares[i].cb = NULL;
			l->dead_entries = true;
			sweep(l);
			return 0;
		}
	}
	return -ENOENT;
}

static short
to_poll(unsigned events)
{
	short ev = 0;

	if (events & LOOP_READ)
		ev |= POLLIN;
	if (events & LOOP_WRITE)
		ev |= POLLOUT;
	return ev;
}

/* Builds this iteration's poll set from the live entries. */
static int
build_pollset(struct loop *l, size_t *n)
{
	size_t k = 0;

	if (l->nfds > l->cappfds) {
		struct pollfd *p = realloc(l->pfds, l->nfds * sizeof(*p));
		size_t *x;

		if (p == NULL)
			return -ENOMEM;
		l->pfds = p;
		x = realloc(l->pidx, l->nfds * sizeof(*x));
		if (x == NULL)
			return -ENOMEM;
		l->pidx = x;
		l->cappfds = l->nfds;
	}
	for (size_t i = 0; i < l->nfds; i++) {
		if (l->fds[i].fd < 0)
			continue;
		l->pfds[k].fd = l->fds[i].fd;
		l->pfds[k].events = to_poll(l->fds[i].events);
		l->pfds[k].revents = 0;
		l->pidx[k] = i;
		k++;
	}
	*n = k;
	return 0;
}

static void
dispatch_fds(struct loop *l, size_t n)
{
	for (size_t i = 0; i < n && !l->stop; i++) {
		short re = l->pfds[i].revents;
		struct loop_fd *e;
		unsigned ev = 0;

		if (re == 0)
			continue;
		/* Re-read the entry each time: a previous callback may have
		 * removed it, changed its events or grown the array. */
		e = &l->fds[l->pidx[i]];
		if (e->fd != l->pfds[i].fd)
			continue;
		if ((re & POLLIN) && (e->events & LOOP_READ))
			ev |= LOOP_READ;
		if ((re & POLLOUT) && (e->events & LOOP_WRITE))
			ev |= LOOP_WRITE;
		if (re & (POLLERR | POLLHUP | POLLNVAL))
			ev |= LOOP_ERROR;
		if (ev == 0)
			continue;
		e->cb(l, e->fd, ev, e->ud);
	}
}

/* Fires the due timers, earliest first (ties in creation order). Timers
 * created by these callbacks wait for the next iteration, so a callback
 * that re-arms itself with 0 ms cannot starve the descriptors. */
static void
dispatch_timers(struct loop *l)
{
	uint64_t id_limit = l->next_timer_id;

	while (!l->stop) {
		struct loop_timer *t = NULL;
		uint64_t id;

		for (size_t i = 0; i < l->ntimers; i++) {
			struct loop_timer *c = &l->timers[i];

			if (c->id == 0 || c->id >= id_limit || c->due > l->now)
				continue;
			if (t == NULL || c->due < t->due ||
			    (c->due == t->due && c->id < t->id)) {
				t = c;
			}
		}
		if (t == NULL)
			return;
		id = t->id;
		if (t->every == 0) {
			/* Removed before the call, so the callback sees it
			 * gone and its own loop_del_timer gets -ENOENT. */
			t->id = 0;
			l->dead_entries = true;
		} else {
			/* Keep the cadence, but never fire twice in a row
			 * to catch up after a long stall. */
			t->due += t->every;
			if (t->due <= l->now)
				t->due = l->now + t->every;
		}
		t->cb(l, id, t->ud);
	}
}

static int
poll_timeout(struct loop *l, uint64_t limit)
{
	for (size_t i = 0; i < l->ntimers; i++) {
		const struct loop_timer *t = &l->timers[i];
		uint64_t wait;

		if (t->id == 0)
			continue;
		wait = t->due > l->now ? t->due - l->now : 0;
		if (wait < limit)
			limit = wait;
	}
	if (limit == UINT64_MAX)
		return -1;
	return limit > INT_MAX ? INT_MAX : (int)limit;
}

int
loop_run(struct loop *l)
{
	int rc = 0;

	l->stop = 0;
	l->now = mono_ms();
	while (!l->stop) {
		uint64_t limit = UINT64_MAX;
		size_t n;
		int timeout, pr;

		sweep(l);
		l->dispatching++;
		for (size_t i = 0; i < l->nprepares && !l->stop; i++) {
			uint64_t w;

			if (l->prepares[i].cb == NULL)
				continue;
			w = l->prepares[i].cb(l, l->prepares[i].ud);
			if (w < limit)
				limit = w;
		}
		l->dispatching--;
		if (l->stop)
			break;
		sweep(l);
		if ((rc = build_pollset(l, &n)) < 0)
			break;
		timeout = poll_timeout(l, limit);
		pr = poll(l->pfds, (nfds_t)n, timeout);
		if (pr < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		l->now = mono_ms();
		l->dispatching++;
		if (pr > 0)
			dispatch_fds(l, n);
		dispatch_timers(l);
		l->dispatching--;
	}
	sweep(l);
	return rc;
}

void
loop_stop(struct loop *l)
{
	l->stop = 1;
}

uint64_t
loop_now_ms(const struct loop *l)
{
	return l->now;
}
