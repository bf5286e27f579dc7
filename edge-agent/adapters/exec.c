/* SPDX-License-Identifier: MIT */
/* Child processes on the event loop. Each run is a process group led by
 * the spawned command; its pipes are read as they fill so a command is
 * never blocked or killed for writing too much, and only the halves the
 * output keeper retains stay in memory. */
/* pipe2() and posix_spawn_file_actions_addchdir_np() are GNU. */
#define _GNU_SOURCE

#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"

struct exec_run {
	struct exec_run *next;
	struct exec *ex;
	uint64_t token;
	char id[CMDBUS_ID_BUF];
	pid_t pid;
	int out_fd, err_fd, in_fd;
	char *in_buf; /* what is left to write to stdin, owned */
	size_t in_len, in_off;
	struct output out, err;
	bool reaped;
	int wait_status;
	bool killing;
	bool timed_out;
	bool stream;
	uint64_t timeout_timer, kill_timer, drain_timer;
	bool has_timeout_timer, has_kill_timer, has_drain_timer;
};

struct exec {
	struct loop *loop;
	uint64_t kill_grace_ms;
	exec_done_fn *done;
	exec_output_fn *output;
	void *ud;
	struct exec_run *runs;
};

static void on_sigchld(struct loop *l, int signo, void *ud);

int
exec_new(struct loop *l, uint64_t kill_grace_ms, exec_done_fn *done, void *ud,
	 struct exec **out)
{
	struct exec *ex = calloc(1, sizeof(*ex));
	struct sigaction sa;
	int rc;

	*out = NULL;
	if (!ex)
		return -ENOMEM;
	ex->loop = l;
	ex->kill_grace_ms = kill_grace_ms;
	ex->done = done;
	ex->ud = ud;
	/* A child that closes its stdin early must cost a write error, not
	 * the agent's life. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) != 0) {
		rc = -errno;
		free(ex);
		return rc;
	}
	rc = loop_add_signal(l, SIGCHLD, on_sigchld, ex);
	if (rc) {
		free(ex);
		return rc;
	}
	*out = ex;
	return 0;
}

static void
close_fd(struct exec_run *r, int *fd)
{
	if (*fd < 0)
		return;
	loop_del_fd(r->ex->loop, *fd);
	close(*fd);
	*fd = -1;
}

static void
del_timer(struct exec_run *r, uint64_t id, bool *has)
{
	if (*has)
		loop_del_timer(r->ex->loop, id);
	*has = false;
}

static void
run_release(struct exec_run *r)
{
	close_fd(r, &r->out_fd);
	close_fd(r, &r->err_fd);
	close_fd(r, &r->in_fd);
	del_timer(r, r->timeout_timer, &r->has_timeout_timer);
	del_timer(r, r->kill_timer, &r->has_kill_timer);
	del_timer(r, r->drain_timer, &r->has_drain_timer);
	output_fini(&r->out);
	output_fini(&r->err);
	free(r->in_buf);
	free(r);
}

static void
run_unlink(struct exec *ex, struct exec_run *r)
{
	for (struct exec_run **pp = &ex->runs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			return;
		}
	}
}

void
exec_free(struct exec *ex)
{
	if (!ex)
		return;
	while (ex->runs) {
		struct exec_run *r = ex->runs;
		ex->runs = r->next;
		if (!r->reaped) {
			kill(-r->pid, SIGKILL);
			while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
				;
		}
		run_release(r);
	}
	free(ex);
}

void
exec_set_output(struct exec *ex, exec_output_fn *fn)
{
	ex->output = fn;
}

size_t
exec_active(const struct exec *ex)
{
	size_t n = 0;

	for (const struct exec_run *r = ex->runs; r; r = r->next)
		n++;
	return n;
}

/* Ends a run once the leader is reaped and both pipes are closed. */
static void
maybe_finish(struct exec_run *r)
{
	struct exec *ex = r->ex;
	struct core_exit ce;

	if (!r->reaped || r->out_fd >= 0 || r->err_fd >= 0)
		return;
	run_unlink(ex, r);
	memset(&ce, 0, sizeof(ce));
	ce.wait_status = r->wait_status;
	ce.timed_out = r->timed_out;
	ce.out = &r->out;
	ce.err = &r->err;
	log_debug("exec.ended", "exec=%s pid=%ld status=%d timed_out=%d", r->id,
		  (long)r->pid, r->wait_status, r->timed_out);
	ex->done(ex->ud, r->token, &ce);
	run_release(r);
}

static void
on_kill_timer(struct loop *l, uint64_t id, void *ud)
{
	struct exec_run *r = ud;

	r->has_kill_timer = false;
	/* The group outlives its leader when children linger; the kernel
	 * keeps the group's id reserved while any member lives. */
	if (kill(-r->pid, SIGKILL) == 0)
		log_info("exec.sigkill", "exec=%s pid=%ld", r->id,
			 (long)r->pid);
}

static void
start_kill(struct exec_run *r)
{
	if (r->killing)
		return;
	r->killing = true;
	if (r->ex->kill_grace_ms == 0) {
		kill(-r->pid, SIGKILL);
		return;
	}
	kill(-r->pid, SIGTERM);
	if (loop_add_timer(r->ex->loop, r->ex->kill_grace_ms, 0, on_kill_timer,
			   r, &r->kill_timer) == 0)
		r->has_kill_timer = true;
	else
		kill(-r->pid, SIGKILL);
}

static void
on_timeout(struct loop *l, uint64_t id, void *ud)
{
	struct exec_run *r = ud;

	r->has_timeout_timer = false;
	if (r->reaped || r->killing)
		return;
	log_info("exec.timeout", "exec=%s pid=%ld", r->id, (long)r->pid);
	r->timed_out = true;
	start_kill(r);
}

static void
on_drain_timer(struct loop *l, uint64_t id, void *ud)
{
	struct exec_run *r = ud;

	r->has_drain_timer = false;
	log_info("exec.drain_timeout",
		 "exec=%s pid=%ld reason=\"pipes still open after the leader "
		 "exited\"",
		 r->id, (long)r->pid);
	close_fd(r, &r->out_fd);
	close_fd(r, &r->err_fd);
	maybe_finish(r);
}

void
exec_terminate(struct exec *ex, uint64_t token)
{
	for (struct exec_run *r = ex->runs; r; r = r->next) {
		if (r->token != token)
			continue;
		if (!r->reaped)
			start_kill(r);
		return;
	}
}

static void
reap(struct exec_run *r)
{
	pid_t got;
	int st = 0;

	do
		got = waitpid(r->pid, &st, WNOHANG);
	while (got < 0 && errno == EINTR);
	if (got != r->pid)
		return;
	r->reaped = true;
	r->wait_status = st;
	del_timer(r, r->timeout_timer, &r->has_timeout_timer);
	/* Without a kill under way, nothing more is sent to the group. */
	if (!r->killing)
		del_timer(r, r->kill_timer, &r->has_kill_timer);
	if (r->out_fd >= 0 || r->err_fd >= 0) {
		if (loop_add_timer(r->ex->loop, EXEC_DRAIN_MS, 0,
				   on_drain_timer, r, &r->drain_timer) == 0)
			r->has_drain_timer = true;
	}
}

static void
on_sigchld(struct loop *l, int signo, void *ud)
{
	struct exec *ex = ud;
	struct exec_run *r = ex->runs, *next;

	/* Only our own children are reaped: an embedding program may have
	 * others. */
	for (; r; r = next) {
		next = r->next;
		if (r->reaped)
			continue;
		reap(r);
		if (r->reaped)
			maybe_finish(r);
	}
}

static void
on_output(struct loop *l, int fd, unsigned events, void *ud)
{
	struct exec_run *r = ud;
	bool is_out = fd == r->out_fd;
	struct output *o = is_out ? &r->out : &r->err;
	char buf[65536];

	/* A bounded number of reads per wakeup keeps one chatty command
	 * from starving the rest of the loop. */
	for (int i = 0; i < 16; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			if (output_append(o, buf, (size_t)n) != 0)
				log_error("exec.nomem", "exec=%s", r->id);
			if (r->stream && r->ex->output)
				r->ex->output(r->ex->ud, r->token, !is_out, buf,
					      (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		close_fd(r, is_out ? &r->out_fd : &r->err_fd);
		maybe_finish(r);
		return;
	}
}

static void
on_stdin(struct loop *l, int fd, unsigned events, void *ud)
{
	struct exec_run *r = ud;

	while (r->in_off < r->in_len) {
		ssize_t n =
		    write(fd, r->in_buf + r->in_off, r->in_len - r->in_off);
		if (n > 0) {
			r->in_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		break; /* EPIPE: the command stopped reading */
	}
	close_fd(r, &r->in_fd);
}

/* Finds argv0 on `path`: each element tried in order, the first regular
 * executable file wins. Empty elements (the current directory) are
 * skipped on purpose. 0 with out filled, or -ENOENT. */
static int
resolve(const char *argv0, const char *path, char *out, size_t outlen)
{
	const char *p = path;
	struct stat st;

	if (strchr(argv0, '/')) {
		size_t alen = strlen(argv0);
		if (alen >= outlen)
			return -ENAMETOOLONG;
		memcpy(out, argv0, alen + 1);
		return 0;
	}
	if (!argv0[0])
		return -ENOENT;
	while (p && *p) {
		const char *colon = strchr(p, ':');
		size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
		size_t alen = strlen(argv0);
		if (dlen > 0 && dlen + 1 + alen < outlen) {
			memcpy(out, p, dlen);
			out[dlen] = '/';
			memcpy(out + dlen + 1, argv0, alen + 1);
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(out, X_OK) == 0)
				return 0;
		}
		p = colon ? colon + 1 : NULL;
	}
	return -ENOENT;
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static void
close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

int
exec_spawn(struct exec *ex, uint64_t token, const struct core_spawn *sp,
	   long *pid_out)
{
	char path[4096];
	int out_p[2] = {-1, -1}, err_p[2] = {-1, -1}, in_p[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	struct exec_run *r = NULL;
	pid_t pid;
	int rc;

	rc = resolve(sp->argv[0], sp->search_path, path, sizeof(path));
	if (rc)
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->ex = ex;
	r->token = token;
	r->stream = sp->stream;
	r->out_fd = r->err_fd = r->in_fd = -1;
	snprintf(r->id, sizeof(r->id), "%s", sp->id ? sp->id : "");
	output_init(&r->out, sp->max_output);
	output_init(&r->err, sp->max_output);
	if (sp->has_stdin && sp->stdin_len > 0) {
		r->in_buf = malloc(sp->stdin_len);
		if (!r->in_buf) {
			run_release(r);
			return -ENOMEM;
		}
		memcpy(r->in_buf, sp->stdin_data, sp->stdin_len);
		r->in_len = sp->stdin_len;
	}
	if (pipe2(out_p, O_CLOEXEC) < 0 || pipe2(err_p, O_CLOEXEC) < 0 ||
	    (sp->has_stdin && pipe2(in_p, O_CLOEXEC) < 0)) {
		rc = -errno;
		close_pair(out_p);
		close_pair(err_p);
		close_pair(in_p);
		run_release(r);
		return rc;
	}

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_adddup2(&fa, out_p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err_p[1], 2);
	if (sp->has_stdin)
		posix_spawn_file_actions_adddup2(&fa, in_p[0], 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY,
						 0);
	posix_spawn_file_actions_addchdir_np(&fa, sp->cwd ? sp->cwd : "/");
	/* Its own process group, so a timeout reaches everything it
	 * started; signal mask and dispositions back to default, since the
	 * agent blocks or ignores some. */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
					    POSIX_SPAWN_SETSIGMASK |
					    POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, path, &fa, &attr, sp->argv, sp->envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(out_p[1]);
	close(err_p[1]);
	if (in_p[0] >= 0)
		close(in_p[0]);
	if (rc != 0) {
		close(out_p[0]);
		close(err_p[0]);
		if (in_p[1] >= 0)
			close(in_p[1]);
		run_release(r);
		return -rc;
	}
	r->pid = pid;
	r->out_fd = out_p[0];
	r->err_fd = err_p[0];
	r->in_fd = in_p[1];
	r->next = ex->runs;
	ex->runs = r;

	/* From here the run exists: failures below degrade it (the timeout
	 * still applies through the kill path) rather than undo it. */
	set_nonblock(r->out_fd);
	set_nonblock(r->err_fd);
	if (loop_add_fd(ex->loop, r->out_fd, LOOP_READ, on_output, r) != 0)
		close_fd(r, &r->out_fd);
	if (loop_add_fd(ex->loop, r->err_fd, LOOP_READ, on_output, r) != 0)
		close_fd(r, &r->err_fd);
	if (r->in_fd >= 0) {
		set_nonblock(r->in_fd);
		if (r->in_len == 0 || loop_add_fd(ex->loop, r->in_fd,
						  LOOP_WRITE, on_stdin, r) != 0)
			close_fd(r, &r->in_fd);
	}
	if (loop_add_timer(ex->loop, sp->timeout_ms, 0, on_timeout, r,
			   &r->timeout_timer) == 0)
		r->has_timeout_timer = true;
	*pid_out = (long)pid;
	return 0;
}

int
exec_proc_start(long pid, uint64_t *start)
{
	char path[64], buf[1024], *p, *end;
	unsigned long long v;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and parentheses: count
	 * fields from the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	p++;
	for (field = 2; field < 21 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -EIO;
	errno = 0;
	v = strtoull(p + 1, &end, 10);
	if (errno || end == p + 1)
		return -EIO;
	*start = (uint64_t)v;
	return 0;
}

int
exec_kill_stale(long pgid, uint64_t start)
{
	uint64_t now_start = 0;
	int rc;

	if (pgid <= 1)
		return -EINVAL;
	rc = exec_proc_start(pgid, &now_start);
	if (rc == -ENOENT)
		return -ESRCH;
	if (rc)
		return rc;
	if (now_start != start)
		return -ESRCH;
	if (kill(-(pid_t)pgid, SIGKILL) != 0)
		return -errno;
	log_warn("exec.leftover_killed", "pgid=%ld", pgid);
	return 0;
}
