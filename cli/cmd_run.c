/* SPDX-License-Identifier: MIT */
/* `cmdbus run` and `cmdbus exec`: create the job, say which targets were
 * offline or unknown, follow it with short server-side waits
 * (GET /v1/jobs/{id}?wait=1) so the progress line moves about once a
 * second, then print one row per device and the exit status it earns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "body.h"
#include "commands.h"
#include "follow.h"
#include "render.h"

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool
terminal_state(const char *s)
{
	static const char *const t[] = {"SUCCEEDED", "FAILED",	 "TIMED_OUT",
					"CANCELED",  "REJECTED", "EXPIRED",
					"LOST",	     "ABORTED"};

	for (size_t i = 0; s != NULL && i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i]) == 0)
			return true;
	return false;
}

/* Counts from the job's executions. An execution ended with the error
 * code `offline` counts as offline (its device never took the command);
 * every other terminal state but SUCCEEDED, EXPIRED for another reason
 * among them, as failed. */
static void
count_job(const struct cmdbus_jnode *job, struct progress *p)
{
	const struct cmdbus_jnode *ex = cmdbus_jnode_get(job, "executions");
	const struct cmdbus_jnode *r = cmdbus_jnode_get(job, "rollout");
	size_t n = cmdbus_jnode_len(ex);

	p->total = n;
	p->done = p->succeeded = p->failed = p->offline = 0;
	for (size_t i = 0; i < n; i++) {
		const struct cmdbus_jnode *e = cmdbus_jnode_at(ex, i);
		const char *s = api_str(e, "state"), *why;

		if (!terminal_state(s))
			continue;
		p->done++;
		why = cmd_exec_reason(e);
		if (strcmp(s, "SUCCEEDED") == 0)
			p->succeeded++;
		else if (why != NULL && strcmp(why, "offline") == 0)
			p->offline++;
		else
			p->failed++;
	}
	p->phase = api_str(r, "phase");
	p->batch = api_u64(r, "batch");
}

/* Why a finished job's exit status is 1 although it ended: said on
 * stderr after the table, so that the table stays the same shape. */
static int
job_status(const struct cli_ctx *c, const struct cmdbus_jnode *job,
	   const struct progress *p)
{
	const char *state = api_str(job, "state");
	const char *why = api_str(job, "abort_reason");

	if (state != NULL && strcmp(state, "ABORTED") == 0) {
		if (!c->json) {
			char *line =
			    render_first_line(why != NULL ? why : "", 512);

			fprintf(stderr, "cmdbus: job %s aborted: %s\n",
				api_str(job, "id"),
				line != NULL && *line != '\0'
				    ? line
				    : "(no reason given)");
			free(line);
		}
		return EXIT_FAILED;
	}
	if (state != NULL && strcmp(state, "CANCELED") == 0) {
		if (!c->json)
			fprintf(stderr, "cmdbus: job %s was canceled\n",
				api_str(job, "id"));
		return EXIT_FAILED;
	}
	return p->succeeded == p->total ? EXIT_OK : EXIT_FAILED;
}

static int
follow_single(const struct cli_ctx *c, const struct cmdbus_jnode *job)
{
	const struct cmdbus_jnode *ex = cmdbus_jnode_get(job, "executions");
	const char *eid;

	if (cmdbus_jnode_len(ex) != 1) {
		fprintf(stderr, "cmdbus: --follow needs a run on exactly one "
				"device; showing the results instead\n");
		return EXIT_OK;
	}
	eid = api_str(cmdbus_jnode_at(ex, 0), "id");
	if (eid == NULL || !api_id_ok(eid))
		return EXIT_FAILED;
	return follow_output(c, eid);
}

int
cmd_run(const struct cli_ctx *c, const struct cli_args *a)
{
	struct cmdbus_jsonv *doc = NULL;
	struct progress p = {0};
	char *body = NULL, *raw = NULL, err[256], path[256];
	const char *id, *state;
	uint64_t start = now_ms();
	bool show = c->tty && !c->json && !a->follow;
	int rc;

	p.utf8 = c->utf8;
	if ((rc = body_job_request(a, &body, err, sizeof(err))) < 0) {
		fprintf(stderr, "cmdbus: %s\n", err);
		return EXIT_USAGE;
	}
	rc = api_call(c, "POST", "/v1/jobs", body, &doc, &raw);
	free(body);
	if (rc != EXIT_OK)
		return rc;
	id = api_str(cmdbus_jsonv_root(doc), "id");
	if (id == NULL || !api_id_ok(id)) {
		fprintf(stderr, "cmdbus: the job answer has no valid id\n");
		rc = EXIT_FAILED;
		goto out;
	}
	if (!c->json)
		cmd_print_targets_note(cmdbus_jsonv_root(doc), stderr);
	if (!a->wait) {
		if (c->json)
			printf("%s\n", raw);
		else
			printf("%s\n", id);
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/jobs/%s?wait=1", id);
	if (a->follow &&
	    (rc = follow_single(c, cmdbus_jsonv_root(doc))) != EXIT_OK)
		goto out;
	for (;;) {
		state = api_str(cmdbus_jsonv_root(doc), "state");
		count_job(cmdbus_jsonv_root(doc), &p);
		p.elapsed_ms = now_ms() - start;
		if (show)
			progress_draw(&p, stdout);
		if (state != NULL && strcmp(state, "RUNNING") != 0)
			break;
		cmdbus_jsonv_free(doc);
		free(raw);
		raw = NULL;
		if ((rc = api_call(c, "GET", path, NULL, &doc, &raw)) !=
		    EXIT_OK) {
			if (show)
				progress_clear(stdout);
			return rc;
		}
	}
	if (show)
		progress_clear(stdout);
	if (c->json)
		printf("%s\n", raw);
	else if (!a->follow)
		cmd_print_executions(cmdbus_jsonv_root(doc), false);
	rc = job_status(c, cmdbus_jsonv_root(doc), &p);
out:
	cmdbus_jsonv_free(doc);
	free(raw);
	return rc;
}
