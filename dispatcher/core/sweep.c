/* SPDX-License-Identifier: MIT */
/* The periodic sweep: the states only the dispatcher can declare, the
 * retry timer of sent commands, and retention. It reads the clock it is
 * given, so that tests move time instead of waiting. */
#include "core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "hearing.h"
#include "outbox.h"
#include "progress.h"
#include "rollout.h"
#include "window.h"

#define RETRY_JITTER_PCT 20 /* each retry interval grows by up to this */

bool
core_device_stale(const struct core *c, const struct device_rec *d)
{
	uint64_t now = clock_now_ms(c->clock);
	return d->online && c->cfg.device_stale_ms > 0 &&
	       now > d->last_seen + c->cfg.device_stale_ms;
}

/* A stable jitter per execution, from its id: retries of many commands
 * sent together spread out, and the same command keeps its rhythm. */
static unsigned
jitter_pct(const char *id)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *p = id; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % (RETRY_JITTER_PCT + 1);
}

/* Whether a retry point of a command sent at `base` falls in (prev, now].
 * The points are base + d1, + d2, ... with d doubling from `initial` up
 * to `max`, each stretched by the jitter. No state is kept per command:
 * a restarted dispatcher keeps the same rhythm. */
static bool
retry_due(uint64_t base, uint64_t prev, uint64_t now, uint64_t initial,
	  uint64_t max, unsigned jitter)
{
	uint64_t t = base, d = initial;
	if (initial == 0 || now <= base)
		return false;
	for (;;) {
		uint64_t step = d + d * jitter / 100;
		if (step == 0)
			return false;
		if (d >= max && t + step <= prev) {
			/* Constant steps from here: skip ahead. */
			t += (prev - t) / step * step;
		}
		t += step;
		if (t > now)
			return false;
		if (t > prev)
			return true;
		if (d < max)
			d = d * 2 > max ? max : d * 2;
	}
}

struct job_timeout {
	char id[CMDBUS_ID_BUF];
	uint64_t timeout_ms;
	bool have;
};

static uint64_t
timeout_of(struct core *c, struct job_timeout *jt, const char *job)
{
	if (jt->have && strcmp(jt->id, job) == 0)
		return jt->timeout_ms;
	struct job_rec j;
	memset(&j, 0, sizeof j);
	if (c->store.job_get(c->store.ud, job, &j) < 0)
		return 0;
	memcpy(jt->id, j.id, sizeof jt->id);
	jt->timeout_ms = j.timeout_ms;
	jt->have = true;
	job_rec_fini(&j);
	return jt->timeout_ms;
}

bool
core_device_online(struct core *c, const char *device)
{
	struct device_rec d;
	memset(&d, 0, sizeof d);
	if (!c->store.device_get ||
	    c->store.device_get(c->store.ud, device, &d) < 0)
		return false; /* never seen */
	bool online = d.online;
	device_rec_fini(&d);
	return online;
}

/* Ends an execution on the dispatcher's own authority. */
static bool
declare(struct core *c, struct exec_rec *e, enum cmdbus_state to,
	const char *code, const char *message, uint64_t now)
{
	struct exec_change chg = {
	    .id = e->id,
	    .from = e->state,
	    .to = to,
	    .at = now,
	    .error_code = code,
	    .error_message = message,
	    .complete_job = true,
	};
	int rc = c->store.exec_change(c->store.ud, &chg);
	if (rc < 0) {
		/* A conflict: news arrived first; the next sweep sees it. */
		if (rc != -ERR_CONFLICT && rc != -ERR_NOT_FOUND)
			c->stats.store_errors++;
		return false;
	}
	window_note(c, e, to);
	log_info("exec.declared", "exec=%s job=%s device=%s from=%s state=%s",
		 e->id, e->job, e->device, cmdbus_state_name(e->state),
		 cmdbus_state_name(to));
	e->state = to;
	return true;
}

/* What the sweep decides for one unfinished execution: a state of its
 * own, or a retry (true: send it again). */
static bool
judge(struct core *c, struct exec_rec *e, struct job_timeout *jt, uint64_t prev,
      uint64_t now)
{
	uint64_t grace = c->cfg.timeout_grace_ms;

	switch (e->state) {
	case CMDBUS_STATE_QUEUED:
	case CMDBUS_STATE_PUBLISHED:
		/* Never started by exp. One never sent cannot have started;
		 * one sent gets the grace, for an agent whose clock lags
		 * and whose ACCEPTED may still be on its way, and is judged
		 * only when that answer could have been heard. */
		if ((!e->command && now >= e->exp_at) ||
		    (e->command && now > e->exp_at + grace &&
		     hearing_ok(c, e->device, now))) {
			/* Offline, or never seen: told as such, never as
			 * a silent expiry. */
			bool off = !core_device_online(c, e->device);
			if (declare(c, e, CMDBUS_STATE_EXPIRED,
				    off ? CORE_E_OFFLINE : CMDBUS_E_EXPIRED,
				    off ? "the device was offline until exp"
					: "not started before exp",
				    now))
				c->stats.expired++;
			return false;
		}
		break;
	case CMDBUS_STATE_DELIVERED:
	case CMDBUS_STATE_RUNNING: {
		const char *boot = window_watch_due(c, e->device, now);
		if (boot && e->boot_id[0] && strcmp(e->boot_id, boot) != 0) {
			if (declare(c, e, CMDBUS_STATE_LOST,
				    CMDBUS_E_INTERRUPTED,
				    "the device restarted and did not answer "
				    "for this run",
				    now))
				c->stats.lost++;
			return false;
		}
		uint64_t timeout = timeout_of(c, jt, e->job);
		/* Accepted but queued on the agent: it may start as late
		 * as exp, and timeout_ms counts from its start. */
		uint64_t start =
		    e->state == CMDBUS_STATE_RUNNING
			? e->updated_at
			: (e->updated_at > e->exp_at ? e->updated_at
						     : e->exp_at);
		if (timeout && now > start + timeout + grace &&
		    hearing_ok(c, e->device, now)) {
			if (declare(c, e, CMDBUS_STATE_TIMED_OUT, NULL, NULL,
				    now))
				c->stats.timed_out++;
			return false;
		}
		break;
	}
	default:
		return false;
	}
	/* A sent command goes again until it ends, exp or not: an answer
	 * lost with a broker's sessions comes back from the agent's
	 * journal (EXPIRED if it never had it). */
	if (!e->command)
		return false;
	uint64_t base = e->published_at ? e->published_at : e->updated_at;
	return retry_due(base, prev, now, c->cfg.retry_initial_ms,
			 c->cfg.retry_max_ms, jitter_pct(e->id));
}

static void
prune(struct core *c, uint64_t now)
{
	uint64_t ne = 0, nj = 0;
	if (!c->store.prune || c->cfg.retention_ms == 0 ||
	    now <= c->cfg.retention_ms)
		return;
	int rc = c->store.prune(c->store.ud, now - c->cfg.retention_ms,
				c->cfg.prune_batch, &ne, &nj);
	if (rc < 0) {
		log_warn("retention.failed", "rc=%s", err_str(rc));
		return;
	}
	c->stats.pruned_execs += ne;
	c->stats.pruned_jobs += nj;
	if (ne || nj)
		log_info("retention.pruned", "executions=%llu jobs=%llu",
			 (unsigned long long)ne, (unsigned long long)nj);
}

void
core_sweep(struct core *c)
{
	uint64_t now = clock_now_ms(c->clock);
	uint64_t prev = c->last_sweep ? c->last_sweep : now;
	struct job_timeout jt = {.have = false};
	struct exec_list l = {0};

	c->last_sweep = now;
	hearing_tick(c, now);
	/* Decided on what the store holds, pending progress included. */
	progress_flush(c);
	int rc = c->store.exec_unfinished(c->store.ud, &l);
	if (rc < 0) {
		log_warn("sweep.failed", "rc=%s", err_str(rc));
		return;
	}
	window_join(c);
	size_t nretry = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (!judge(c, &l.v[i], &jt, prev, now))
			continue;
		/* Compacted to the front for one send. */
		if (i != nretry) {
			struct exec_rec tmp = l.v[nretry];
			l.v[nretry] = l.v[i];
			l.v[i] = tmp;
		}
		nretry++;
	}
	window_leave(c);
	window_watch_done(c, now);
	if (nretry > 0) {
		int sent = outbox_send(c, l.v, nretry, NULL, true);
		log_info("outbox.retry", "due=%zu sent=%d", nretry, sent);
	}
	exec_list_fini(&l);
	prune(c, now);
	/* A safety net under the news-driven decisions: every running
	 * rollout is looked at once a sweep (and read back after a
	 * restart). */
	rollout_touch_all(c);
}
