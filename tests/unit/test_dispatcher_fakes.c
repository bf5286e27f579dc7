/* SPDX-License-Identifier: MIT */
/* In-memory store and recording bus for the dispatcher core's unit tests.
 * The store keeps the port's contract (deep copies, compare-and-set,
 * terminal states never left, job completion) so that the core is tested
 * against the same rules as the SQLite store. */
#include "test_dispatcher_fakes.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmdbus/action.h"
#include "cmdbus/rest.h"
#include "common/err.h"

static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void
job_copy(struct job_rec *dst, const struct job_rec *src)
{
	*dst = *src;
	dst->args_json = dup_or_null(src->args_json);
	dst->targets_json = dup_or_null(src->targets_json);
}

static void
exec_copy(struct exec_rec *dst, const struct exec_rec *src)
{
	*dst = *src;
	dst->command = dup_or_null(src->command);
	dst->result = dup_or_null(src->result);
	dst->error_message = dup_or_null(src->error_message);
}

static void
device_copy(struct device_rec *dst, const struct device_rec *src)
{
	*dst = *src;
	dst->labels_json = dup_or_null(src->labels_json);
	dst->actions_json = dup_or_null(src->actions_json);
	dst->health_json = dup_or_null(src->health_json);
	dst->status = dup_or_null(src->status);
}

void
fake_store_init(struct fake_store *fs)
{
	memset(fs, 0, sizeof *fs);
}

void
fake_store_fini(struct fake_store *fs)
{
	for (size_t i = 0; i < fs->njobs; i++)
		job_rec_fini(&fs->jobs[i]);
	for (size_t i = 0; i < fs->nexecs; i++)
		exec_rec_fini(&fs->execs[i]);
	for (size_t i = 0; i < fs->ndevs; i++)
		device_rec_fini(&fs->devs[i]);
	free(fs->jobs);
	free(fs->execs);
	free(fs->devs);
	memset(fs, 0, sizeof *fs);
}

struct exec_rec *
fake_store_exec(struct fake_store *fs, const char *id)
{
	for (size_t i = 0; i < fs->nexecs; i++)
		if (strcmp(fs->execs[i].id, id) == 0)
			return &fs->execs[i];
	return NULL;
}

struct job_rec *
fake_store_job(struct fake_store *fs, const char *id)
{
	for (size_t i = 0; i < fs->njobs; i++)
		if (strcmp(fs->jobs[i].id, id) == 0)
			return &fs->jobs[i];
	return NULL;
}

struct device_rec *
fake_store_device(struct fake_store *fs, const char *id)
{
	for (size_t i = 0; i < fs->ndevs; i++)
		if (strcmp(fs->devs[i].id, id) == 0)
			return &fs->devs[i];
	return NULL;
}

static int
job_create(void *ud, const struct job_rec *job, const struct exec_rec *execs,
	   size_t n)
{
	struct fake_store *fs = ud;

	if (fs->fail_job_create) {
		int rc = fs->fail_job_create;
		fs->fail_job_create = 0;
		return rc;
	}
	if (fake_store_job(fs, job->id))
		return -ERR_CONFLICT;
	if (fs->batch_on && !fs->batch_jobs) {
		/* The first job of the batch: a failed end takes back this
		 * one and every later one. */
		fs->batch_jobs = true;
		fs->batch_njobs = fs->njobs;
		fs->batch_nexecs = fs->nexecs;
	}
	if (fs->batch_on)
		fs->batch_written = true;
	fs->jobs = realloc(fs->jobs, (fs->njobs + 1) * sizeof *fs->jobs);
	job_copy(&fs->jobs[fs->njobs++], job);
	fs->execs = realloc(fs->execs, (fs->nexecs + n) * sizeof *fs->execs);
	for (size_t i = 0; i < n; i++) {
		exec_copy(&fs->execs[fs->nexecs], &execs[i]);
		memcpy(fs->execs[fs->nexecs].action, job->action,
		       sizeof job->action);
		fs->nexecs++;
	}
	return 0;
}

static int
job_get(void *ud, const char *id, struct job_rec *out)
{
	struct job_rec *j = fake_store_job(ud, id);
	if (!j)
		return -ERR_NOT_FOUND;
	job_copy(out, j);
	return 0;
}

static int
list_where(struct fake_store *fs, const char *job, bool unfinished,
	   struct exec_list *out)
{
	out->v = calloc(fs->nexecs + 1, sizeof *out->v);
	out->n = 0;
	if (!out->v)
		return -ENOMEM;
	for (size_t i = 0; i < fs->nexecs; i++) {
		const struct exec_rec *e = &fs->execs[i];
		if (job && strcmp(e->job, job) != 0)
			continue;
		if (unfinished && cmdbus_state_is_terminal(e->state))
			continue;
		exec_copy(&out->v[out->n++], e);
	}
	return 0;
}

static int
job_executions(void *ud, const char *job, struct exec_list *out)
{
	return list_where(ud, job, false, out);
}

static int
exec_unfinished(void *ud, struct exec_list *out)
{
	return list_where(ud, NULL, true, out);
}

static int
exec_get(void *ud, const char *id, struct exec_rec *out)
{
	struct exec_rec *e = fake_store_exec(ud, id);
	if (!e)
		return -ERR_NOT_FOUND;
	exec_copy(out, e);
	return 0;
}

static int
exec_set_commands(void *ud, const struct exec_command *cmds, size_t n)
{
	struct fake_store *fs = ud;

	fs->set_commands_calls++;
	if (fs->fail_set_commands) {
		int rc = fs->fail_set_commands;
		fs->fail_set_commands = 0;
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		struct exec_rec *e = fake_store_exec(fs, cmds[i].id);
		if (!e || e->command)
			return -ERR_CONFLICT;
	}
	for (size_t i = 0; i < n; i++) {
		struct exec_rec *e = fake_store_exec(fs, cmds[i].id);
		e->command = strdup(cmds[i].payload);
		snprintf(e->cmd_sha256, sizeof e->cmd_sha256, "%s",
			 cmds[i].sha256);
	}
	return 0;
}

static void
set_text(char **dst, const char *src)
{
	if (!src)
		return;
	free(*dst);
	*dst = strdup(src);
}

static int
exec_change(void *ud, const struct exec_change *chg)
{
	struct fake_store *fs = ud;
	struct exec_rec *e = fake_store_exec(fs, chg->id);

	if (fs->fail_exec_change) {
		int rc = fs->fail_exec_change;
		fs->fail_exec_change = 0;
		return rc;
	}
	if (!e)
		return -ERR_NOT_FOUND;
	if (fs->conflict_once) {
		fs->conflict_once = 0;
		return -ERR_CONFLICT;
	}
	if (e->state != chg->from || cmdbus_state_is_terminal(e->state))
		return -ERR_CONFLICT;
	if (fs->batch_on)
		fs->batch_written = true;
	e->state = chg->to;
	e->updated_at = chg->at;
	if (chg->published && e->published_at == 0)
		e->published_at =
		    chg->published_at ? chg->published_at : chg->at;
	if (cmdbus_state_is_terminal(chg->to))
		e->finished_at = chg->at;
	if (chg->boot_id)
		snprintf(e->boot_id, sizeof e->boot_id, "%s", chg->boot_id);
	set_text(&e->result, chg->result);
	if (chg->error_code)
		snprintf(e->error_code, sizeof e->error_code, "%s",
			 chg->error_code);
	set_text(&e->error_message, chg->error_message);
	fs->exec_changes++;

	if (cmdbus_state_is_terminal(chg->to) && chg->complete_job) {
		struct job_rec *j = fake_store_job(fs, e->job);
		bool done = true;
		for (size_t i = 0; i < fs->nexecs; i++)
			if (strcmp(fs->execs[i].job, e->job) == 0 &&
			    !cmdbus_state_is_terminal(fs->execs[i].state))
				done = false;
		/* A rollout's job is ended by its rollout unless it was
		 * canceled or aborted (store.c, S_JOB_COMPLETE). */
		if (j && done && j->state == CMDBUS_JOB_RUNNING &&
		    (j->ro.batch == 0 || j->canceled_at || j->aborted_at)) {
			j->state = j->aborted_at    ? CMDBUS_JOB_ABORTED
				   : j->canceled_at ? CMDBUS_JOB_CANCELED
						    : CMDBUS_JOB_COMPLETED;
			j->finished_at = chg->at;
		}
	}
	return 0;
}

static int
exec_late_result(void *ud, const char *id, uint64_t at)
{
	struct exec_rec *e = fake_store_exec(ud, id);
	(void)at;
	if (!e)
		return -ERR_NOT_FOUND;
	e->late_results++;
	return 0;
}

static int
device_put(void *ud, const struct device_rec *d)
{
	struct fake_store *fs = ud;
	struct device_rec *old = fake_store_device(fs, d->id);

	if (old) {
		device_rec_fini(old);
		device_copy(old, d);
		return 0;
	}
	fs->devs = realloc(fs->devs, (fs->ndevs + 1) * sizeof *fs->devs);
	device_copy(&fs->devs[fs->ndevs++], d);
	return 0;
}

static int
device_get(void *ud, const char *id, struct device_rec *out)
{
	struct device_rec *d = fake_store_device(ud, id);
	if (!d)
		return -ERR_NOT_FOUND;
	device_copy(out, d);
	return 0;
}

static int
device_list(void *ud, struct device_list *out)
{
	struct fake_store *fs = ud;
	out->v = calloc(fs->ndevs + 1, sizeof *out->v);
	out->n = fs->ndevs;
	for (size_t i = 0; i < fs->ndevs; i++)
		device_copy(&out->v[i], &fs->devs[i]);
	return 0;
}

/* Every label of the filter must be among the device's; both are label
 * objects as the schema library writes them. */
static bool
labels_match(const char *filter, const char *labels)
{
	struct cmdbus_label *f = NULL, *l = NULL;
	size_t nf = 0, nl = 0, hits = 0;
	bool ok =
	    cmdbus_flat_args_decode(filter, &f, &nf, NULL) == 0 &&
	    cmdbus_flat_args_decode(labels ? labels : "{}", &l, &nl, NULL) == 0;

	if (ok)
		for (size_t i = 0; i < nf; i++)
			for (size_t k = 0; k < nl; k++)
				if (strcmp(f[i].key, l[k].key) == 0 &&
				    strcmp(f[i].value, l[k].value) == 0)
					hits++;
	cmdbus_labels_free(f, nf);
	cmdbus_labels_free(l, nl);
	/* Keys are unique on both sides: one hit per filter label. */
	return ok && hits == nf;
}

static int
devices_match(void *ud, const char *labels_json, struct name_list *out)
{
	struct fake_store *fs = ud;
	out->v = calloc(fs->ndevs + 1, sizeof *out->v);
	out->n = 0;
	for (size_t i = 0; i < fs->ndevs; i++) {
		if (labels_json &&
		    !labels_match(labels_json, fs->devs[i].labels_json))
			continue;
		memcpy(out->v[out->n++], fs->devs[i].id, CMDBUS_NAME_BUF);
	}
	return 0;
}

/* ---- targeting and rollouts, as store_rollout.c does them ---- */

static int
devices_brief(void *ud, struct device_list *out)
{
	return device_list(ud, out);
}

static int
rollout_counts(void *ud, const char *job, uint64_t canary, bool offline_fails,
	       struct rollout_counts *out)
{
	struct fake_store *fs = ud;

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < fs->nexecs; i++) {
		const struct exec_rec *e = &fs->execs[i];
		bool term = cmdbus_state_is_terminal(e->state);
		if (strcmp(e->job, job) != 0)
			continue;
		if (!e->held) {
			out->released++;
			out->in_progress += !term;
			if (e->release_seq >= 1 && e->release_seq <= canary) {
				out->canary_ended += term;
				out->canary_ok +=
				    e->state == CMDBUS_STATE_SUCCEEDED;
			}
		} else if (e->state == CMDBUS_STATE_QUEUED) {
			out->waiting++;
		}
		switch (e->state) {
		case CMDBUS_STATE_FAILED:
		case CMDBUS_STATE_TIMED_OUT:
		case CMDBUS_STATE_REJECTED:
		case CMDBUS_STATE_LOST:
			out->failures++;
			break;
		case CMDBUS_STATE_EXPIRED:
			out->failures += offline_fails ||
					 strcmp(e->error_code, "offline") != 0;
			break;
		default:
			break;
		}
	}
	return 0;
}

static int
rollout_next(void *ud, const char *job, size_t limit, bool online_only,
	     struct exec_list *out)
{
	struct fake_store *fs = ud;

	memset(out, 0, sizeof *out);
	out->v = calloc(fs->nexecs + 1, sizeof *out->v);
	if (!out->v)
		return -ENOMEM;
	for (size_t i = 0; i < fs->nexecs && out->n < limit; i++) {
		const struct exec_rec *e = &fs->execs[i];
		if (strcmp(e->job, job) != 0 || !e->held ||
		    e->state != CMDBUS_STATE_QUEUED)
			continue;
		if (online_only) {
			const struct device_rec *d =
			    fake_store_device(fs, e->device);
			if (!d || !d->online)
				continue;
		}
		exec_copy(&out->v[out->n++], e);
	}
	return 0;
}

static int
exec_release(void *ud, const struct exec_rec *execs, size_t n,
	     uint64_t first_seq)
{
	struct fake_store *fs = ud;
	for (size_t i = 0; i < n; i++) {
		struct exec_rec *e = fake_store_exec(fs, execs[i].id);
		if (!e || !e->held || e->state != CMDBUS_STATE_QUEUED)
			return -ERR_CONFLICT;
		e->held = false;
		e->release_seq = first_seq + i;
	}
	return 0;
}

static int
job_abort(void *ud, const char *job, uint64_t at, const char *reason)
{
	struct job_rec *j = fake_store_job(ud, job);
	if (!j)
		return -ERR_NOT_FOUND;
	if (j->aborted_at)
		return -ERR_CONFLICT;
	j->aborted_at = at;
	snprintf(j->abort_reason, sizeof j->abort_reason, "%s", reason);
	return 0;
}

static int
job_finish(void *ud, const char *job, uint64_t at, bool *ended)
{
	struct fake_store *fs = ud;
	struct job_rec *j = fake_store_job(fs, job);

	*ended = false;
	if (!j)
		return -ERR_NOT_FOUND;
	if (j->state != CMDBUS_JOB_RUNNING)
		return 0;
	for (size_t i = 0; i < fs->nexecs; i++)
		if (strcmp(fs->execs[i].job, job) == 0 &&
		    !cmdbus_state_is_terminal(fs->execs[i].state))
			return 0;
	j->state = j->aborted_at    ? CMDBUS_JOB_ABORTED
		   : j->canceled_at ? CMDBUS_JOB_CANCELED
				    : CMDBUS_JOB_COMPLETED;
	j->finished_at = at;
	*ended = true;
	return 0;
}

static int
rollout_jobs(void *ud, struct name_list *out)
{
	struct fake_store *fs = ud;

	memset(out, 0, sizeof *out);
	out->v = calloc(fs->njobs + 1, sizeof *out->v);
	if (!out->v)
		return -ENOMEM;
	for (size_t i = 0; i < fs->njobs; i++)
		if (fs->jobs[i].state == CMDBUS_JOB_RUNNING &&
		    fs->jobs[i].ro.batch > 0)
			snprintf(out->v[out->n++], sizeof out->v[0], "%s",
				 fs->jobs[i].id);
	return 0;
}

static int
check(void *ud)
{
	(void)ud;
	return 0;
}

static int
batch(void *ud, bool on)
{
	struct fake_store *fs = ud;
	if (!fs->group_commit)
		return -ERR_UNAVAILABLE;
	fs->batch_on = on;
	return 0;
}

static int
batch_end(void *ud, bool *committed, uint64_t *commit_us)
{
	struct fake_store *fs = ud;
	int rc = fs->fail_batch_end;

	fs->fail_batch_end = 0;
	fs->batch_on = false;
	if (rc < 0 && fs->batch_jobs) {
		while (fs->njobs > fs->batch_njobs)
			job_rec_fini(&fs->jobs[--fs->njobs]);
		while (fs->nexecs > fs->batch_nexecs)
			exec_rec_fini(&fs->execs[--fs->nexecs]);
	}
	fs->batch_jobs = false;
	*committed = rc == 0 && fs->batch_written;
	*commit_us = 0;
	if (*committed)
		fs->batch_ends++;
	fs->batch_written = false;
	return rc;
}

void
fake_store_port(struct fake_store *fs, struct store_port *out)
{
	*out = (struct store_port){
	    .ud = fs,
	    .job_create = job_create,
	    .batch = batch,
	    .batch_end = batch_end,
	    .job_get = job_get,
	    .job_executions = job_executions,
	    .exec_get = exec_get,
	    .exec_unfinished = exec_unfinished,
	    .exec_set_commands = exec_set_commands,
	    .exec_change = exec_change,
	    .exec_late_result = exec_late_result,
	    .device_put = device_put,
	    .device_get = device_get,
	    .device_list = device_list,
	    .devices_match = devices_match,
	    .check = check,
	    .devices_brief = devices_brief,
	    .rollout_counts = rollout_counts,
	    .rollout_next = rollout_next,
	    .exec_release = exec_release,
	    .job_abort = job_abort,
	    .job_finish = job_finish,
	    .rollout_jobs = rollout_jobs,
	};
}

void
fake_store_add_device(struct fake_store *fs, const char *id,
		      const char *const *labels, size_t n)
{
	struct cmdbus_label l[8];
	char kv[8][160];
	struct device_rec d;

	assert_true(n <= 8);
	memset(&d, 0, sizeof d);
	snprintf(d.id, sizeof d.id, "%s", id);
	d.online = true;
	snprintf(d.boot_id, sizeof d.boot_id, "BOOT0000000000000000000000");
	for (size_t i = 0; i < n; i++) {
		snprintf(kv[i], sizeof kv[i], "%s", labels[i]);
		l[i].key = kv[i];
		l[i].value = strchr(kv[i], '=');
		assert_non_null(l[i].value);
		*l[i].value++ = '\0';
	}
	assert_int_equal(
	    cmdbus_status_labels_encode(l, n, &d.labels_json, NULL), 0);
	device_put(fs, &d);
	free(d.labels_json);
}

/* ---- bus ---- */

void
fake_bus_init(struct fake_bus *b)
{
	memset(b, 0, sizeof *b);
	b->connected = true;
	b->next_mid = 1;
}

void
fake_bus_clear(struct fake_bus *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->msgs[i].payload);
	free(b->msgs);
	b->msgs = NULL;
	b->n = 0;
}

void
fake_bus_fini(struct fake_bus *b)
{
	fake_bus_clear(b);
}

static int
bus_publish(void *ud, const char *topic, const void *payload, size_t len,
	    int qos, uint32_t expiry_s, int *mid)
{
	struct fake_bus *b = ud;

	if (!b->connected)
		return -ERR_UNAVAILABLE;
	if (b->fail)
		return b->fail;
	b->msgs = realloc(b->msgs, (b->n + 1) * sizeof *b->msgs);
	struct fake_msg *m = &b->msgs[b->n++];
	memset(m, 0, sizeof *m);
	snprintf(m->topic, sizeof m->topic, "%s", topic);
	m->payload = malloc(len + 1);
	memcpy(m->payload, payload, len);
	m->payload[len] = '\0';
	m->len = len;
	m->qos = qos;
	m->expiry_s = expiry_s;
	m->mid = b->next_mid++;
	*mid = m->mid;
	return 0;
}

static bool
bus_is_connected(void *ud)
{
	return ((struct fake_bus *)ud)->connected;
}

void
fake_bus_port(struct fake_bus *b, struct bus_port *out)
{
	out->ud = b;
	out->publish = bus_publish;
	out->is_connected = bus_is_connected;
}
