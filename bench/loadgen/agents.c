/* SPDX-License-Identifier: MIT */
/* The agents mode: N simulated devices split over J processes, each
 * process one epoll loop over its devices' libmosquitto sockets (no
 * libmosquitto thread). Connections open in batches so that the broker's
 * accept queue never overflows; the parent reports when every device of
 * every process is ready and passes SIGINT/SIGTERM on. */
#include <errno.h>
#include <mosquitto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agents.h"

#define TAG_SIGNAL UINT32_MAX
#define MISC_EVERY_US 1000000u
#define RETRY_EVERY_US 1000000u
#define GOODBYE_US 3000000u
#define MAX_EVENTS 512

static int
signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void
on_socket(struct dev *d, uint32_t ev)
{
	int rc = MOSQ_ERR_SUCCESS;

	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
		rc = mosquitto_loop_read(d->m, 1);
	/* Answers queued inside the callbacks go out now, not one epoll
	 * round later. */
	if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(d->m) >= 0 &&
	    ((ev & EPOLLOUT) || mosquitto_want_write(d->m)))
		rc = mosquitto_loop_write(d->m, 1);
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
		dev_lost(d);
	else if (rc == MOSQ_ERR_NO_CONN || mosquitto_socket(d->m) < 0)
		dev_lost(d);
	else
		dev_sync(d);
}

static void
print_stats(const struct lg_proc *p)
{
	/* Numbers only under fixed keys: nothing to escape. */
	printf("{\"event\":\"stats\",\"commands\":%llu,\"results\":%llu,"
	       "\"cancels\":%llu,\"errors\":%llu}\n",
	       (unsigned long long)p->commands, (unsigned long long)p->results,
	       (unsigned long long)p->cancels, (unsigned long long)p->errors);
	fflush(stdout);
}

/* Opens more connections while fewer than --batch are waiting. */
static void
connect_more(struct lg_proc *p)
{
	while (p->next_connect < p->ndev && p->pending < p->o->batch) {
		struct dev *d = &p->devs[p->next_connect++];
		(void)dev_connect(d);
	}
}

static void
housekeeping(struct lg_proc *p)
{
	uint32_t n = p->nretry;

	for (uint32_t i = 0; i < p->ndev; i++) {
		struct dev *d = &p->devs[i];
		if (d->fd >= 0 && mosquitto_loop_misc(d->m) == MOSQ_ERR_SUCCESS)
			dev_sync(d);
	}
	/* Reconnect the ones lost since the last pass. */
	p->nretry = 0;
	for (uint32_t i = 0; i < n; i++)
		(void)dev_connect(&p->devs[p->retry[i]]);
}

/* Runs one process's devices [first, first + count) until a signal.
 * ready_fd, when >= 0, gets one byte once all are ready (the parent
 * prints the ready line); else this process prints it. */
static int
proc_run(const struct lg_agents_opts *o, uint64_t first, uint64_t count,
	 int ready_fd)
{
	struct lg_proc p;
	struct lg_agents_opts mine = *o;
	struct epoll_event evs[MAX_EVENTS], sev;
	uint64_t t0 = lg_mono_us(), next_misc, next_retry;
	bool ready_told = false;
	int sfd, rc = 0;

	memset(&p, 0, sizeof(p));
	mine.first = first;
	mine.count = count;
	p.o = &mine;
	p.pid = (uint64_t)getpid();
	p.ndev = (uint32_t)count;
	mosquitto_lib_init();
	p.epfd = epoll_create1(EPOLL_CLOEXEC);
	sfd = signal_fd();
	p.devs = calloc(count, sizeof(*p.devs));
	p.retry = calloc(count, sizeof(*p.retry));
	if (p.epfd < 0 || sfd < 0 || !p.devs || !p.retry) {
		fprintf(stderr, "loadgen: setup: %s\n", strerror(errno));
		return 1;
	}
	memset(&sev, 0, sizeof(sev));
	sev.events = EPOLLIN;
	sev.data.u32 = TAG_SIGNAL;
	epoll_ctl(p.epfd, EPOLL_CTL_ADD, sfd, &sev);
	for (uint32_t i = 0; i < p.ndev; i++) {
		if (dev_setup(&p, i) != 0) {
			fprintf(stderr, "loadgen: device %u: setup failed\n",
				i);
			p.ndev = i + 1;
			rc = 1;
			goto out;
		}
	}
	next_misc = lg_mono_us() + MISC_EVERY_US;
	next_retry = lg_mono_us() + RETRY_EVERY_US;
	connect_more(&p);
	while (!p.stopping) {
		uint64_t now = lg_mono_us();
		int timeout = 100, n;

		if (p.runs_len > 0) {
			uint64_t due = p.runs[p.runs_head].due_us;
			timeout = due <= now ? 0
				  : (due - now + 999) / 1000 < 100
				      ? (int)((due - now + 999) / 1000)
				      : 100;
		}
		n = epoll_wait(p.epfd, evs, MAX_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "loadgen: epoll_wait: %s\n",
				strerror(errno));
			rc = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 == TAG_SIGNAL) {
				p.stopping = true;
				continue;
			}
			on_socket(&p.devs[evs[i].data.u32], evs[i].events);
		}
		now = lg_mono_us();
		dev_finish_due(&p, now);
		connect_more(&p);
		if (!ready_told && p.nready == p.ndev) {
			ready_told = true;
			if (ready_fd >= 0) {
				if (write(ready_fd, "R", 1) != 1)
					rc = 1;
			} else {
				printf("{\"event\":\"ready\",\"devices\":%u,"
				       "\"ms\":%llu}\n",
				       p.ndev,
				       (unsigned long long)((now - t0) / 1000));
				fflush(stdout);
			}
		}
		if (now >= next_retry && p.nretry > 0) {
			next_retry = now + RETRY_EVERY_US;
			housekeeping(&p);
			next_misc = now + MISC_EVERY_US;
		} else if (now >= next_misc) {
			next_misc = now + MISC_EVERY_US;
			housekeeping(&p);
		}
	}
	print_stats(&p);
	/* A clean shutdown: offline status, DISCONNECT, then a short wait
	 * for the sockets to drain. */
	for (uint32_t i = 0; i < p.ndev; i++)
		dev_goodbye(&p.devs[i]);
	for (uint64_t end = lg_mono_us() + GOODBYE_US; lg_mono_us() < end;) {
		uint32_t open = 0;
		int n;

		for (uint32_t i = 0; i < p.ndev; i++)
			open += p.devs[i].fd >= 0;
		if (open == 0)
			break;
		n = epoll_wait(p.epfd, evs, MAX_EVENTS, 50);
		for (int i = 0; i < n; i++)
			if (evs[i].data.u32 != TAG_SIGNAL)
				on_socket(&p.devs[evs[i].data.u32],
					  evs[i].events);
	}
out:
	for (uint32_t i = 0; i < p.ndev; i++)
		dev_teardown(&p.devs[i]);
	free(p.devs);
	free(p.retry);
	free(p.runs);
	close(sfd);
	close(p.epfd);
	mosquitto_lib_cleanup();
	return rc;
}

/* The parent of --procs J: forks, waits for every child's ready byte,
 * prints the ready line, and passes SIGINT/SIGTERM on. */
static int
parent_run(const struct lg_agents_opts *o)
{
	uint64_t J = o->procs, t0 = lg_mono_us(), nready = 0;
	pid_t *pids = calloc(J, sizeof(*pids));
	int *fds = calloc(J, sizeof(*fds));
	int ep = epoll_create1(EPOLL_CLOEXEC), sfd, rc = 0;
	bool stop = false;
	struct epoll_event ev;

	sfd = signal_fd();
	if (!pids || !fds || ep < 0 || sfd < 0) {
		fprintf(stderr, "loadgen: setup: %s\n", strerror(errno));
		free(pids);
		free(fds);
		return 1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = UINT64_MAX;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	for (uint64_t j = 0; j < J; j++) {
		uint64_t first = o->first + o->count * j / J;
		uint64_t next = o->first + o->count * (j + 1) / J;
		int pfd[2];

		fds[j] = -1;
		if (pipe(pfd) != 0)
			goto fail;
		pids[j] = fork();
		if (pids[j] < 0) {
			close(pfd[0]);
			close(pfd[1]);
			goto fail;
		}
		if (pids[j] == 0) {
			close(pfd[0]);
			close(sfd);
			close(ep);
			_exit(proc_run(o, first, next - first, pfd[1]));
		}
		close(pfd[1]);
		fds[j] = pfd[0];
		ev.data.u64 = j;
		epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &ev);
	}
	while (!stop) {
		struct epoll_event evs[16];
		int n = epoll_wait(ep, evs, 16, -1);

		for (int i = 0; i < n; i++) {
			uint64_t j = evs[i].data.u64;
			char c;

			if (j == UINT64_MAX) {
				stop = true;
				continue;
			}
			if (read(fds[j], &c, 1) == 1) {
				if (++nready == J) {
					printf(
					    "{\"event\":\"ready\","
					    "\"devices\":%llu,\"ms\":%llu}"
					    "\n",
					    (unsigned long long)o->count,
					    (unsigned long long)((lg_mono_us() -
								  t0) /
								 1000));
					fflush(stdout);
				}
				continue;
			}
			/* EOF: the child ended. A child ends cleanly only on
			 * a stop signal, and a signal to the whole group (as
			 * killpg sends) may end it before this process reads
			 * its own: then it is the stop, not a failure. */
			int st = 0;
			if (waitpid(pids[j], &st, 0) == pids[j]) {
				pids[j] = -1;
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
					fprintf(stderr,
						"loadgen: process %llu ended "
						"early\n",
						(unsigned long long)j);
					rc = 1;
				}
			}
			epoll_ctl(ep, EPOLL_CTL_DEL, fds[j], NULL);
			stop = true;
		}
	}
	goto reap;
fail:
	fprintf(stderr, "loadgen: fork: %s\n", strerror(errno));
	rc = 1;
reap:
	for (uint64_t j = 0; j < J; j++)
		if (pids[j] > 0)
			kill(pids[j], SIGTERM);
	for (uint64_t j = 0; j < J; j++) {
		int st = 0;
		if (pids[j] > 0 && waitpid(pids[j], &st, 0) == pids[j] &&
		    (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
			rc = 1;
		if (fds[j] >= 0)
			close(fds[j]);
	}
	close(sfd);
	close(ep);
	free(pids);
	free(fds);
	return rc;
}

int
agents_run(const struct lg_agents_opts *o)
{
	if (o->procs <= 1)
		return proc_run(o, o->first, o->count, -1);
	return parent_run(o);
}
