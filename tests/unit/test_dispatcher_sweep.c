/* SPDX-License-Identifier: MIT */
/* The dispatcher's own decisions, driven by a fake clock and fake ports:
 * EXPIRED, TIMED_OUT and LOST from the sweep, re-publishes on the retry
 * timer, the per-device outbox window, observers told only after the
 * group commit, presence staleness and retention. */
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
#include "cmdbus/envelope.h"
#include "cmdbus/proto.h"
#include "core.h"
#include "ingest.h"
#include "jobs.h"
#include "outbox.h"
#include "test_dispatcher_fakes.h"

#define T0 1763700000000ull
#define BOOT "01JD3BOOTAAAAAAAAAAAAAAAAA"
#define BOOT2 "01JD3BOOTBBBBBBBBBBBBBBBBB"

struct fx {
	struct clock_fake clk;
	struct fake_store fs;
	struct fake_bus bus;
	struct core core;
	/* What the test's store extensions saw. */
	bool batch_on, batch_open;
	unsigned batch_ends, commits;
	uint64_t prune_before;
	size_t prune_limit;
	int acked_to; /* PUBACKs given up to this message id */
	/* Observer calls. */
	unsigned notes;
	enum cmdbus_state last_note;
};

/* ---- store extensions over the fake store ----
 * The core calls them with the fake store as ud; the tests that install
 * them point a static at their fixture. */

static int
dev_unfinished(void *ud, const char *device, size_t limit,
	       struct exec_list *out)
{
	struct fx *f = ud;
	out->v = calloc(f->fs.nexecs + 1, sizeof *out->v);
	out->n = 0;
	for (size_t i = 0; i < f->fs.nexecs && out->n < limit; i++) {
		const struct exec_rec *e = &f->fs.execs[i];
		if (strcmp(e->device, device) != 0 ||
		    cmdbus_state_is_terminal(e->state))
			continue;
		struct exec_rec *d = &out->v[out->n++];
		*d = *e;
		d->command = e->command ? strdup(e->command) : NULL;
		d->result = e->result ? strdup(e->result) : NULL;
		d->error_message =
		    e->error_message ? strdup(e->error_message) : NULL;
	}
	return 0;
}

static int
batch(void *ud, bool on)
{
	struct fx *f = ud;
	f->batch_on = on;
	if (on)
		f->batch_open = true;
	return 0;
}

static int
batch_end(void *ud, bool *committed, uint64_t *us)
{
	struct fx *f = ud;
	f->batch_ends++;
	*committed = f->batch_open;
	*us = 1500;
	if (f->batch_open)
		f->commits++;
	f->batch_open = f->batch_on = false;
	return 0;
}

static int
prune(void *ud, uint64_t before, size_t limit, uint64_t *execs, uint64_t *jobs)
{
	struct fx *f = ud;
	f->prune_before = before;
	f->prune_limit = limit;
	*execs = 3;
	*jobs = 1;
	return 0;
}

static void
on_change(void *ud, const char *exec, const char *job, enum cmdbus_state s)
{
	struct fx *f = ud;
	(void)exec;
	(void)job;
	f->notes++;
	f->last_note = s;
}

static struct fx *
fx_new(const struct core_config *extra)
{
	struct fx *f = calloc(1, sizeof *f);
	struct store_port sp;
	struct bus_port bp;

	clock_fake_init(&f->clk, T0);
	fake_store_init(&f->fs);
	fake_bus_init(&f->bus);
	fake_bus_port(&f->bus, &bp);
	fake_store_port(&f->fs, &sp);
	struct core_config cc = {.prefix = "cmdbus/v1",
				 .session_expiry_ms = 7 * 86400000ull};
	if (extra) {
		cc = *extra;
		cc.prefix = "cmdbus/v1";
		cc.session_expiry_ms = 7 * 86400000ull;
	}
	assert_int_equal(core_init(&f->core, &cc, &f->clk.clock, &sp, &bp), 0);
	/* Connected at T0, as the dispatcher is before its first sweep. */
	core_bus_connected(&f->core);
	return f;
}

static void
fx_free(struct fx *f)
{
	core_fini(&f->core);
	fake_store_fini(&f->fs);
	fake_bus_fini(&f->bus);
	free(f);
}

/* Creates a job on the devices of a JSON array text; returns nothing,
 * the executions are in f->fs. */
static void
make_job(struct fx *f, const char *devices, unsigned timeout_ms,
	 unsigned ttl_ms)
{
	char body[512];
	char *view = NULL;
	size_t len = 0;
	struct cmdbus_diag diag;

	snprintf(body, sizeof body,
		 "{\"target\":{\"devices\":%s,\"allow_unknown\":true},"
		 "\"action\":\"ping\","
		 "\"timeout_ms\":%u,\"ttl_ms\":%u}",
		 devices, timeout_ms, ttl_ms);
	memset(&diag, 0, sizeof diag);
	assert_int_equal(
	    jobs_create(&f->core, body, strlen(body), &view, &len, &diag), 0);
	free(view);
}

static void
set_state(struct fx *f, size_t i, enum cmdbus_state s, const char *boot)
{
	struct exec_rec *e = &f->fs.execs[i];
	e->state = s;
	e->updated_at = clock_now_ms(&f->clk.clock);
	if (boot)
		snprintf(e->boot_id, sizeof e->boot_id, "%s", boot);
}

static void
deliver_status(struct fx *f, const char *dev, const char *boot, bool online)
{
	char p[512], topic[128];
	char *env = NULL;
	size_t len = 0;

	if (online)
		snprintf(p, sizeof p,
			 "{\"type\":\"status\",\"device\":\"%s\","
			 "\"online\":true,\"boot_id\":\"%s\","
			 "\"agent\":\"cmdbus-agent/0.1.0\",\"at\":%llu}",
			 dev, boot,
			 (unsigned long long)clock_now_ms(&f->clk.clock));
	else
		snprintf(p, sizeof p,
			 "{\"type\":\"status\",\"device\":\"%s\","
			 "\"online\":false,\"boot_id\":\"%s\"}",
			 dev, boot);
	snprintf(topic, sizeof topic, "cmdbus/v1/%s/status", dev);
	assert_int_equal(cmdbus_envelope_wrap(CMDBUS_KIND_STATUS, p, strlen(p),
					      NULL, &env, &len),
			 0);
	ingest_message(&f->core, topic, env, len);
	free(env);
}

static size_t
sends_of(struct fx *f, const char *exec_id)
{
	size_t n = 0;
	for (size_t i = 0; i < f->bus.n; i++)
		if (strstr(f->bus.msgs[i].payload, exec_id))
			n++;
	return n;
}

/* A sweep after the broker has acknowledged everything published so
 * far, as a live broker does within milliseconds. */
static void
sweep(struct fx *f)
{
	for (int m = f->acked_to + 1; m < f->bus.next_mid; m++)
		core_bus_published(&f->core, m, true);
	f->acked_to = f->bus.next_mid - 1;
	core_sweep(&f->core);
}

/* Execution i keeps its state for ms - 1 more, and is `to` at ms. */
static void
ends_after(struct fx *f, size_t i, uint64_t ms, enum cmdbus_state to)
{
	enum cmdbus_state before = f->fs.execs[i].state;
	clock_fake_advance(&f->clk, ms - 1);
	sweep(f);
	assert_int_equal(f->fs.execs[i].state, before);
	clock_fake_advance(&f->clk, 1);
	sweep(f);
	assert_int_equal(f->fs.execs[i].state, to);
}

/* ---- tests ---- */

/* Never sent by exp: EXPIRED at exp. Sent: only after exp + grace. */
static void
test_expired(void **state)
{
	(void)state;
	struct core_config cc = {.timeout_grace_ms = 5000};
	struct fx *f = fx_new(&cc);
	static const char *const none[] = {"site=x"};
	/* dev-1 is known and online, dev-2 was never seen. */
	fake_store_add_device(&f->fs, "dev-1", none, 1);
	f->bus.connected = false; /* the device's command waits */
	make_job(f, "[\"dev-1\",\"dev-2\"]", 1000, 10000);
	f->bus.connected = true;
	/* dev-2's command went out (as if); dev-1's stays unsent. */
	f->fs.execs[1].command = strdup("{}");
	snprintf(f->fs.execs[1].cmd_sha256, sizeof f->fs.execs[1].cmd_sha256,
		 "%064d", 0);
	set_state(f, 1, CMDBUS_STATE_PUBLISHED, NULL);

	clock_fake_advance(&f->clk, 9999);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_QUEUED);
	clock_fake_advance(&f->clk, 1);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_EXPIRED);
	assert_string_equal(f->fs.execs[0].error_code, "expired");
	assert_int_equal(f->fs.execs[1].state, CMDBUS_STATE_PUBLISHED);
	clock_fake_advance(&f->clk, 5000);
	sweep(f);
	assert_int_equal(f->fs.execs[1].state, CMDBUS_STATE_PUBLISHED);
	clock_fake_advance(&f->clk, 1);
	sweep(f);
	assert_int_equal(f->fs.execs[1].state, CMDBUS_STATE_EXPIRED);
	/* Never seen, so offline: told as such, not as a silent expiry. */
	assert_string_equal(f->fs.execs[1].error_code, "offline");
	assert_int_equal(f->core.stats.expired, 2);
	/* Terminal states never change. */
	clock_fake_advance(&f->clk, 100000);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_EXPIRED);
	fx_free(f);
}

/* RUNNING past start + timeout_ms + grace with no result: TIMED_OUT. */
static void
test_timed_out(void **state)
{
	(void)state;
	struct core_config cc = {.timeout_grace_ms = 500};
	struct fx *f = fx_new(&cc);
	f->bus.connected = true;
	make_job(f, "[\"dev-1\"]", 1000, 3600000);
	clock_fake_advance(&f->clk, 100);
	set_state(f, 0, CMDBUS_STATE_RUNNING, BOOT);
	clock_fake_advance(&f->clk, 1500);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_RUNNING);
	clock_fake_advance(&f->clk, 1);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_TIMED_OUT);
	assert_int_equal(f->core.stats.timed_out, 1);
	assert_true(f->fs.jobs[0].state == CMDBUS_JOB_COMPLETED);
	fx_free(f);
}

/* DELIVERED (queued on the agent) counts from exp, not from ACCEPTED. */
static void
test_delivered_waits_for_exp(void **state)
{
	(void)state;
	struct core_config cc = {.timeout_grace_ms = 500};
	struct fx *f = fx_new(&cc);
	f->bus.connected = true;
	make_job(f, "[\"dev-1\"]", 1000, 60000);
	set_state(f, 0, CMDBUS_STATE_DELIVERED, BOOT);
	clock_fake_advance(&f->clk, 60000 + 1500);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_DELIVERED);
	clock_fake_advance(&f->clk, 1);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_TIMED_OUT);
	fx_free(f);
}

/* A new boot: runs of the old one get lost_grace to be answered, are
 * never sent again to the new boot, then are LOST/interrupted. A queued
 * command of the same device goes again at once. */
static void
test_lost_after_new_boot(void **state)
{
	(void)state;
	struct core_config cc = {.lost_grace_ms = 2000};
	struct fx *f = fx_new(&cc);
	f->bus.connected = true;
	deliver_status(f, "dev-1", BOOT, true);
	make_job(f, "[\"dev-1\"]", 600000, 3600000);
	make_job(f, "[\"dev-1\"]", 600000, 3600000);
	set_state(f, 0, CMDBUS_STATE_RUNNING, BOOT);
	set_state(f, 1, CMDBUS_STATE_PUBLISHED, NULL);
	fake_bus_clear(&f->bus);

	clock_fake_advance(&f->clk, 1000);
	deliver_status(f, "dev-1", BOOT2, true);
	core_flush(&f->core);
	/* The device extension is absent here: the re-publish on a new
	 * boot goes through outbox_device, which needs it; the connect
	 * path shows the same rule. */
	outbox_republish(&f->core);
	assert_int_equal(sends_of(f, f->fs.execs[0].id), 0);
	assert_int_equal(sends_of(f, f->fs.execs[1].id), 1);

	clock_fake_advance(&f->clk, 1999);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_RUNNING);
	clock_fake_advance(&f->clk, 1);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_LOST);
	assert_string_equal(f->fs.execs[0].error_code, "interrupted");
	assert_int_equal(f->core.stats.lost, 1);
	/* The PUBLISHED one is not the old boot's run: untouched. */
	assert_int_equal(f->fs.execs[1].state, CMDBUS_STATE_PUBLISHED);
	fx_free(f);
}

/* The agent answers from its journal within the grace: no LOST. */
static void
test_no_lost_when_answered(void **state)
{
	(void)state;
	struct core_config cc = {.lost_grace_ms = 2000};
	struct fx *f = fx_new(&cc);
	f->bus.connected = true;
	deliver_status(f, "dev-1", BOOT, true);
	make_job(f, "[\"dev-1\"]", 600000, 3600000);
	set_state(f, 0, CMDBUS_STATE_RUNNING, BOOT);
	deliver_status(f, "dev-1", BOOT2, true);
	set_state(f, 0, CMDBUS_STATE_SUCCEEDED, NULL);
	clock_fake_advance(&f->clk, 5000);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_SUCCEEDED);
	assert_int_equal(f->core.stats.lost, 0);
	fx_free(f);
}

/* Retries: after initial, then doubling to max, each stretched by at
 * most 20%: 1000..1200, +2000..2400, +4000..4800, +4000..4800. */
static void
test_retry_backoff(void **state)
{
	(void)state;
	struct core_config cc = {.retry_initial_ms = 1000,
				 .retry_max_ms = 4000};
	struct fx *f = fx_new(&cc);
	f->bus.connected = true;
	make_job(f, "[\"dev-1\"]", 600000, 3600000);
	assert_int_equal(sends_of(f, f->fs.execs[0].id), 1);
	set_state(f, 0, CMDBUS_STATE_PUBLISHED, NULL);
	f->fs.execs[0].published_at = clock_now_ms(&f->clk.clock);
	sweep(f);	      /* the first sweep only sets its mark */
	size_t at[133] = {0}; /* sends seen at each 100 ms */
	for (unsigned t = 100; t <= 13200; t += 100) {
		clock_fake_advance(&f->clk, 100);
		sweep(f);
		at[t / 100] = sends_of(f, f->fs.execs[0].id);
	}
	assert_int_equal(at[9], 1);  /* nothing before 1000 ms */
	assert_int_equal(at[12], 2); /* one by 1200 ms */
	assert_int_equal(at[29], 2); /* the next not before 3000 ms */
	assert_int_equal(at[36], 3); /* ... and by 3600 ms */
	assert_int_equal(at[69], 3);
	assert_int_equal(at[84], 4);
	assert_int_equal(at[109], 4); /* then 4000..4800 apart (max) */
	assert_int_equal(at[132], 5);
	assert_int_equal(f->core.stats.retries,
			 sends_of(f, f->fs.execs[0].id) - 1);
	/* A finished execution is not retried. */
	set_state(f, 0, CMDBUS_STATE_SUCCEEDED, NULL);
	size_t before = sends_of(f, f->fs.execs[0].id);
	for (int i = 0; i < 100; i++) {
		clock_fake_advance(&f->clk, 1000);
		sweep(f);
	}
	assert_int_equal(sends_of(f, f->fs.execs[0].id), before);
	fx_free(f);
}

/* A run whose answer was lost (its broker lost every session while the
 * result was on its way) is asked for again after exp too, until it
 * ends: the agent answers from its journal. Without that it would end
 * TIMED_OUT although it succeeded. */
static void
test_retry_after_exp(void **state)
{
	(void)state;
	struct core_config cc = {.retry_initial_ms = 1000,
				 .retry_max_ms = 4000,
				 .timeout_grace_ms = 3000};
	struct fx *f = fx_new(&cc);
	f->bus.connected = true;
	make_job(f, "[\"dev-1\"]", 15000, 2000);
	const char *id = f->fs.execs[0].id;
	clock_fake_advance(&f->clk, 100);
	set_state(f, 0, CMDBUS_STATE_RUNNING, BOOT);
	f->fs.execs[0].published_at = clock_now_ms(&f->clk.clock);
	sweep(f); /* the first sweep only sets its mark */
	size_t before = sends_of(f, id);
	/* Well past exp (2 s), before the timeout (15 s + grace). */
	for (int i = 0; i < 60; i++) {
		clock_fake_advance(&f->clk, 100);
		sweep(f);
	}
	assert_true(sends_of(f, id) > before + 1);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_RUNNING);
	/* The answer comes back: nothing more is sent. */
	set_state(f, 0, CMDBUS_STATE_SUCCEEDED, BOOT);
	before = sends_of(f, id);
	for (int i = 0; i < 60; i++) {
		clock_fake_advance(&f->clk, 100);
		sweep(f);
	}
	assert_int_equal(sends_of(f, id), before);
	fx_free(f);
}

/* No declaration of "no answer" while none could come: with the broker
 * away, then for timeout_grace after it is back (every unfinished
 * command is sent again then, and the agent answers from its journal).
 * Found by the fault suite: a broker stopped for a minute made runs that
 * had succeeded TIMED_OUT, and sent commands EXPIRED. */
static void
test_no_declaration_while_deaf(void **state)
{
	(void)state;
	struct core_config cc = {.timeout_grace_ms = 500};
	struct fx *f = fx_new(&cc);
	f->bus.connected = true;
	make_job(f, "[\"dev-1\",\"dev-2\"]", 1000, 2000);
	clock_fake_advance(&f->clk, 100);
	set_state(f, 0, CMDBUS_STATE_RUNNING, BOOT);
	assert_non_null(f->fs.execs[1].command); /* sent */
	set_state(f, 1, CMDBUS_STATE_PUBLISHED, NULL);
	sweep(f);
	/* The broker goes away; both deadlines pass while it is. */
	f->bus.connected = false;
	for (int i = 0; i < 50; i++) {
		clock_fake_advance(&f->clk, 100);
		sweep(f);
	}
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_RUNNING);
	assert_int_equal(f->fs.execs[1].state, CMDBUS_STATE_PUBLISHED);
	/* Back: the grace runs from the CONNACK. */
	f->bus.connected = true;
	core_bus_connected(&f->core);
	clock_fake_advance(&f->clk, 499);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_RUNNING);
	assert_int_equal(f->fs.execs[1].state, CMDBUS_STATE_PUBLISHED);
	clock_fake_advance(&f->clk, 1);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_TIMED_OUT);
	assert_int_equal(f->fs.execs[1].state, CMDBUS_STATE_EXPIRED);
	fx_free(f);
}

/* After a reconnection a device shown online may be online only in an
 * old status (its will not yet sent by a broker that was away too, its
 * agent backing off): its runs wait until it comes online again, or
 * until device_stale_after has passed. What it sent before the outage
 * may still be arriving, so a message from it proves nothing. Found by the
 * fault suite: after a broker stopped for a minute, runs that had succeeded
 * were declared TIMED_OUT 3 s after the reconnection, before their agents were
 * back. */
static void
test_reconnect_waits_for_the_device(void **state)
{
	(void)state;
	struct core_config cc = {.timeout_grace_ms = 500,
				 .device_stale_ms = 5000};
	struct fx *f = fx_new(&cc);
	make_job(f, "[\"dev-1\",\"dev-2\"]", 1000, 3600000);
	deliver_status(f, "dev-1", BOOT, true);
	deliver_status(f, "dev-2", BOOT2, true);
	core_flush(&f->core);
	clock_fake_advance(&f->clk, 100);
	set_state(f, 0, CMDBUS_STATE_RUNNING, BOOT);
	set_state(f, 1, CMDBUS_STATE_RUNNING, BOOT2);
	sweep(f);
	f->bus.connected = false;
	clock_fake_advance(&f->clk, 3000);
	sweep(f);
	f->bus.connected = true;
	core_bus_connected(&f->core);
	clock_fake_advance(&f->clk, 1000);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_RUNNING);
	assert_int_equal(f->fs.execs[1].state, CMDBUS_STATE_RUNNING);
	/* A heartbeat of dev-1 (it may be from before) changes nothing. */
	deliver_status(f, "dev-1", BOOT, true);
	core_flush(&f->core);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_RUNNING);
	/* Its will, then its agent back: heard after the grace. */
	deliver_status(f, "dev-1", BOOT, false);
	deliver_status(f, "dev-1", BOOT, true);
	core_flush(&f->core);
	ends_after(f, 0, 500, CMDBUS_STATE_TIMED_OUT);
	assert_int_equal(f->fs.execs[1].state, CMDBUS_STATE_RUNNING);
	/* dev-2 never does: judged device_stale_after after the CONNACK. */
	ends_after(f, 1, 3500, CMDBUS_STATE_TIMED_OUT);
	fx_free(f);
}

/* A connection that has gone silent (publishes without PUBACKs, nothing
 * received) is as good as down, before the keepalive notices: found by
 * the fault suite, where a partition between the dispatcher and the
 * broker made a command that ran EXPIRED. */
static void
test_no_declaration_while_silent(void **state)
{
	(void)state;
	struct core_config cc = {.timeout_grace_ms = 1000,
				 .retry_initial_ms = 200,
				 .retry_max_ms = 200};
	struct fx *f = fx_new(&cc);
	make_job(f, "[\"dev-1\"]", 1000, 2000);
	clock_fake_advance(&f->clk, 100);
	set_state(f, 0, CMDBUS_STATE_RUNNING, BOOT);
	sweep(f);
	/* Silent from here: the retries get no PUBACK, nothing comes. */
	for (int i = 0; i < 40; i++) {
		clock_fake_advance(&f->clk, 100);
		core_sweep(&f->core);
	}
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_RUNNING);
	/* Heard again (the PUBACKs arrive): the grace runs from then. */
	sweep(f);
	ends_after(f, 0, 1000, CMDBUS_STATE_TIMED_OUT);
	fx_free(f);
}

/* A device that comes back online gets timeout_grace to answer for its
 * runs before any is declared; one that went offline is judged only once
 * it has been offline for device_stale_after (cut off for a moment, or
 * backing off its reconnection, it comes back and answers; gone, its
 * jobs still end). */
static void
test_no_declaration_until_device_heard(void **state)
{
	(void)state;
	struct core_config cc = {.timeout_grace_ms = 500,
				 .device_stale_ms = 2000};
	struct fx *f = fx_new(&cc);
	f->bus.connected = true;
	make_job(f, "[\"dev-1\",\"dev-2\"]", 1000, 3600000);
	clock_fake_advance(&f->clk, 1000);
	set_state(f, 0, CMDBUS_STATE_RUNNING, BOOT);
	set_state(f, 1, CMDBUS_STATE_RUNNING, BOOT2);
	deliver_status(f, "dev-1", BOOT, true);
	deliver_status(f, "dev-2", BOOT2, true);
	core_flush(&f->core);
	/* dev-1 is cut off just before its deadline (1 s + 0.5 s); dev-2,
	 * cut off earlier, comes back online (same boot) just before its. */
	clock_fake_advance(&f->clk, 700);
	deliver_status(f, "dev-2", BOOT2, false);
	core_flush(&f->core);
	clock_fake_advance(&f->clk, 700);
	deliver_status(f, "dev-1", BOOT, false);
	deliver_status(f, "dev-2", BOOT2, true);
	core_flush(&f->core);
	clock_fake_advance(&f->clk, 499);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_RUNNING);
	assert_int_equal(f->fs.execs[1].state, CMDBUS_STATE_RUNNING);
	clock_fake_advance(&f->clk, 1);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_RUNNING);
	assert_int_equal(f->fs.execs[1].state, CMDBUS_STATE_TIMED_OUT);
	ends_after(f, 0, 1500, CMDBUS_STATE_TIMED_OUT);
	fx_free(f);
}

static struct fx *window_fx;

static int
win_unfinished(void *ud, const char *device, size_t limit,
	       struct exec_list *out)
{
	(void)ud;
	return dev_unfinished(window_fx, device, limit, out);
}

/* The window: at most outbox_window sent and unfinished per device; the
 * rest wait QUEUED and go out when one ends, after the commit. */
static void
test_window(void **state)
{
	(void)state;
	struct core_config cc = {.outbox_window = 2, .timeout_grace_ms = 100};
	struct fx *f = fx_new(&cc);
	window_fx = f;
	f->core.store.exec_device_unfinished = win_unfinished;
	f->bus.connected = true;
	make_job(f, "[\"dev-1\"]", 1000, 3600000);
	make_job(f, "[\"dev-1\"]", 1000, 3600000);
	make_job(f, "[\"dev-1\"]", 1000, 3600000);
	make_job(f, "[\"dev-2\"]", 1000, 3600000);
	assert_int_equal(f->bus.n, 3); /* two for dev-1, one for dev-2 */
	assert_null(f->fs.execs[2].command);
	/* A reconnect does not overfill the window either. */
	outbox_republish(&f->core);
	assert_null(f->fs.execs[2].command);
	/* One ends (the sweep times it out); after the flush the third
	 * goes out. */
	set_state(f, 0, CMDBUS_STATE_RUNNING, BOOT);
	clock_fake_advance(&f->clk, 1200);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_TIMED_OUT);
	assert_null(f->fs.execs[2].command);
	fake_bus_clear(&f->bus);
	core_flush(&f->core);
	assert_non_null(f->fs.execs[2].command);
	assert_int_equal(sends_of(f, f->fs.execs[2].id), 1);
	fx_free(f);
}

static struct fx *batch_fx;
static int
b_batch(void *ud, bool on)
{
	(void)ud;
	return batch(batch_fx, on);
}
static int
b_end(void *ud, bool *committed, uint64_t *us)
{
	(void)ud;
	return batch_end(batch_fx, committed, us);
}
static int
b_prune(void *ud, uint64_t before, size_t limit, uint64_t *e, uint64_t *j)
{
	(void)ud;
	return prune(batch_fx, before, limit, e, j);
}

/* With group commit, observers hear of a change only after the commit,
 * and one commit covers a whole pass. */
static void
test_notify_after_commit(void **state)
{
	(void)state;
	struct core_config cc = {.retention_ms = 86400000};
	struct fx *f = fx_new(&cc);
	batch_fx = f;
	f->core.store.batch = b_batch;
	f->core.store.batch_end = b_end;
	f->core.store.prune = b_prune;
	core_set_observer(&f->core, on_change, f);
	f->bus.connected = false;
	make_job(f, "[\"dev-1\",\"dev-2\"]", 1000, 1000);
	clock_fake_advance(&f->clk, 1000);
	sweep(f);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_EXPIRED);
	assert_int_equal(f->fs.execs[1].state, CMDBUS_STATE_EXPIRED);
	assert_int_equal(f->notes, 0);
	assert_false(f->batch_on); /* left after the sweep's writes */
	core_flush(&f->core);
	assert_int_equal(f->notes, 2);
	assert_int_equal(f->last_note, CMDBUS_STATE_EXPIRED);
	assert_int_equal(f->commits, 1);
	core_flush(&f->core);
	assert_int_equal(f->commits, 1); /* nothing more to commit */
	/* Retention ran in the same sweep, with its cutoff and batch. */
	assert_int_equal(f->prune_before, T0 + 1000 - 86400000ull);
	assert_int_equal(f->prune_limit, 500);
	assert_int_equal(f->core.stats.pruned_execs, 3);
	fx_free(f);
}

static void
test_stale(void **state)
{
	(void)state;
	struct core_config cc = {.device_stale_ms = 90000};
	struct fx *f = fx_new(&cc);
	struct device_rec d;
	memset(&d, 0, sizeof d);
	d.online = true;
	d.last_seen = T0;
	clock_fake_advance(&f->clk, 90000);
	assert_false(core_device_stale(&f->core, &d));
	clock_fake_advance(&f->clk, 1);
	assert_true(core_device_stale(&f->core, &d));
	d.online = false; /* offline is offline, not stale */
	assert_false(core_device_stale(&f->core, &d));
	fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_expired),
	    cmocka_unit_test(test_timed_out),
	    cmocka_unit_test(test_delivered_waits_for_exp),
	    cmocka_unit_test(test_lost_after_new_boot),
	    cmocka_unit_test(test_no_lost_when_answered),
	    cmocka_unit_test(test_retry_after_exp),
	    cmocka_unit_test(test_no_declaration_while_deaf),
	    cmocka_unit_test(test_no_declaration_while_silent),
	    cmocka_unit_test(test_reconnect_waits_for_the_device),
	    cmocka_unit_test(test_no_declaration_until_device_heard),
	    cmocka_unit_test(test_retry_backoff),
	    cmocka_unit_test(test_window),
	    cmocka_unit_test(test_notify_after_commit),
	    cmocka_unit_test(test_stale),
	};
	log_init("test", LOG_LVL_ERROR, false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
