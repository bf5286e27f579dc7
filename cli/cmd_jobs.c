/* SPDX-License-Identifier: MIT */
/* `cmdbus jobs`: the list page by page, one job in detail (its rollout,
 * what its target resolved to, why executions ended, why it was aborted,
 * then one row per device) and the cancel; and the per-device table that
 * `run` and `exec` print too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common/buf.h"
#include "page.h"
#include "render.h"

/* Ids listed in a note before "and N more". */
#define NOTE_IDS 20

/* What a row shows of an execution: the error's message for the states
 * the dispatcher or agent ended with an error, else the first line of
 * stdout (or stderr when stdout is empty). */
static const char *
execution_note(const struct cmdbus_jnode *ex)
{
	const struct cmdbus_jnode *res = cmdbus_jnode_get(ex, "result");
	const char *s;

	if ((s = api_str(cmdbus_jnode_get(ex, "error"), "message")) != NULL)
		return s;
	if ((s = api_str(cmdbus_jnode_get(res, "error"), "message")) != NULL)
		return s;
	if ((s = api_str(res, "stdout")) != NULL && *s != '\0')
		return s;
	if ((s = api_str(res, "stderr")) != NULL && *s != '\0')
		return s;
	if (cmdbus_jnode_get(res, "stdout_b64") != NULL)
		return "(binary output)";
	return "";
}

const char *
cmd_exec_reason(const struct cmdbus_jnode *ex)
{
	const char *s = api_str(cmdbus_jnode_get(ex, "error"), "code");

	if (s == NULL)
		s = api_str(
		    cmdbus_jnode_get(cmdbus_jnode_get(ex, "result"), "error"),
		    "code");
	return s;
}

void
cmd_print_executions(const struct cmdbus_jnode *job, bool with_id)
{
	static const char *const h[] = {"DEVICE", "STATE",  "EXIT",
					"REASON", "OUTPUT", NULL};
	static const char *const hid[] = {"EXECUTION", "DEVICE", "STATE",
					  "EXIT",      "REASON", "OUTPUT"};
	const struct cmdbus_jnode *ex = cmdbus_jnode_get(job, "executions");
	struct table t;
	size_t n = cmdbus_jnode_len(ex);

	table_init(&t, with_id ? 6 : 5);
	table_row(&t, with_id ? hid : h);
	for (size_t i = 0; i < n; i++) {
		const struct cmdbus_jnode *e = cmdbus_jnode_at(ex, i);
		const struct cmdbus_jnode *res = cmdbus_jnode_get(e, "result");
		const char *reason = cmd_exec_reason(e);
		const char *row[6];
		size_t k = 0;
		char code[24] = "-";
		int64_t v;

		if (cmdbus_jnode_int(cmdbus_jnode_get(res, "exit_code"), &v) ==
		    0)
			snprintf(code, sizeof(code), "%lld", (long long)v);
		else if (cmdbus_jnode_int(cmdbus_jnode_get(res, "signal"),
					  &v) == 0)
			snprintf(code, sizeof(code), "sig%lld", (long long)v);
		if (with_id)
			row[k++] = api_str(e, "id");
		row[k++] = api_str(e, "device");
		row[k++] = api_str(e, "state");
		row[k++] = code;
		row[k++] = reason != NULL ? reason : "";
		row[k++] = execution_note(e);
		if (k < 6)
			row[k] = NULL;
		table_row(&t, row);
	}
	table_print(&t, stdout);
	table_fini(&t);
}

/* "a=1 b=2" from an object of counts. */
static void
counts_text(const struct cmdbus_jnode *obj, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cmdbus_jnode_len(obj) && used < len; i++) {
		const struct cmdbus_jnode *m = cmdbus_jnode_at(obj, i);
		int64_t v = 0;
		int w;

		(void)cmdbus_jnode_int(m, &v);
		w = snprintf(buf + used, len - used, "%s%s=%lld",
			     used > 0 ? " " : "", cmdbus_jnode_key(m),
			     (long long)v);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* "a, b, c and 7 more" from an array of ids, at most max named. */
static void
ids_text(struct buf *b, const struct cmdbus_jnode *ids, size_t max)
{
	size_t n = cmdbus_jnode_len(ids);

	for (size_t i = 0; i < n && i < max; i++) {
		const char *id =
		    cmdbus_jnode_str(cmdbus_jnode_at(ids, i), NULL);

		(void)buf_printf(b, "%s%s", i > 0 ? ", " : "",
				 id != NULL ? id : "?");
	}
	if (n > max)
		(void)buf_printf(b, " and %zu more", n - max);
}

/* "2 offline (a, b); 1 unknown (c)", empty when both lists are. */
static void
resolution_text(struct buf *b, const struct cmdbus_jnode *targets, size_t max)
{
	static const char *const lists[] = {"offline", "unknown"};

	for (size_t i = 0; i < 2; i++) {
		const struct cmdbus_jnode *ids =
		    cmdbus_jnode_get(targets, lists[i]);

		if (cmdbus_jnode_len(ids) == 0)
			continue;
		(void)buf_printf(b, "%s%zu %s (", b->len > 0 ? "; " : "",
				 cmdbus_jnode_len(ids), lists[i]);
		ids_text(b, ids, max);
		(void)buf_append_str(b, ")");
	}
}

void
cmd_print_targets_note(const struct cmdbus_jnode *job, FILE *f)
{
	const struct cmdbus_jnode *t = cmdbus_jnode_get(job, "targets");
	struct buf b;
	char *line;

	buf_init(&b, 4096);
	resolution_text(&b, t, NOTE_IDS);
	if (b.len > 0) {
		line = render_first_line(b.data, b.len);
		fprintf(f, "cmdbus: of %llu devices targeted, %s\n",
			(unsigned long long)api_u64(t, "matched"),
			line != NULL ? line : "");
		free(line);
	}
	buf_fini(&b);
}

/* The rollout block of `jobs show`. */
static void
print_rollout(const struct cmdbus_jnode *r)
{
	const char *phase = api_str(r, "phase");
	char maxf[32] = "unlimited";

	if (cmdbus_jnode_get(r, "max_failures") != NULL)
		snprintf(maxf, sizeof(maxf), "at most %llu",
			 (unsigned long long)api_u64(r, "max_failures"));
	printf("rollout   %s, batch %llu (batch size %llu, canary %llu, "
	       "offline %s)\n"
	       "progress  %llu released, %llu in progress, %llu waiting\n"
	       "failures  %llu (%s)\n",
	       phase != NULL ? phase : "-",
	       (unsigned long long)api_u64(r, "batch"),
	       (unsigned long long)api_u64(r, "batch_size"),
	       (unsigned long long)api_u64(r, "canary"),
	       api_str(r, "offline") != NULL ? api_str(r, "offline") : "-",
	       (unsigned long long)api_u64(r, "released"),
	       (unsigned long long)api_u64(r, "in_progress"),
	       (unsigned long long)api_u64(r, "waiting"),
	       (unsigned long long)api_u64(r, "failures"), maxf);
}

static void
print_job(const struct cmdbus_jnode *job)
{
	const struct cmdbus_jnode *t = cmdbus_jnode_get(job, "targets");
	const struct cmdbus_jnode *r = cmdbus_jnode_get(job, "rollout");
	const char *abort_reason = api_str(job, "abort_reason");
	char created[32], finished[32], counts[256];
	struct buf b;

	render_time(api_u64(job, "created_at"), created, sizeof(created));
	render_time(api_u64(job, "finished_at"), finished, sizeof(finished));
	counts_text(cmdbus_jnode_get(job, "counts"), counts, sizeof(counts));
	printf("job       %s\nstate     %s\naction    %s\ncreated   %s\n"
	       "finished  %s\ncounts    %s\n",
	       api_str(job, "id"), api_str(job, "state"),
	       api_str(job, "action"), created, finished, counts);
	if (cmdbus_jnode_len(cmdbus_jnode_get(job, "reasons")) > 0) {
		counts_text(cmdbus_jnode_get(job, "reasons"), counts,
			    sizeof(counts));
		printf("reasons   %s\n", counts);
	}
	if (t != NULL) {
		char *line;

		buf_init(&b, 1 << 20);
		resolution_text(&b, t, (size_t)-1);
		line = render_first_line(b.len > 0 ? b.data : "", b.len);
		printf("targets   %llu matched%s%s\n",
		       (unsigned long long)api_u64(t, "matched"),
		       b.len > 0 ? "; " : "", line != NULL ? line : "");
		free(line);
		buf_fini(&b);
	}
	if (r != NULL)
		print_rollout(r);
	if (abort_reason != NULL) {
		char *line = render_first_line(abort_reason, 512);

		printf("aborted   %s\n", line != NULL ? line : "");
		free(line);
	}
	printf("\n");
	cmd_print_executions(job, true);
}

static void
job_row(const struct cmdbus_jnode *j, void *arg)
{
	char created[32], counts[256];
	const char *row[5];

	render_time(api_u64(j, "created_at"), created, sizeof(created));
	counts_text(cmdbus_jnode_get(j, "counts"), counts, sizeof(counts));
	row[0] = api_str(j, "id");
	row[1] = api_str(j, "state");
	row[2] = api_str(j, "action");
	row[3] = created;
	row[4] = counts;
	table_row(arg, row);
}

/* The newest 50 by default, as a terminal can show them. */
static int
jobs_ls(const struct cli_ctx *c, const struct cli_args *a)
{
	static const char *const h[] = {"JOB", "STATE", "ACTION", "CREATED",
					"COUNTS"};
	uint64_t limit = a->has_limit ? a->limit : 50;
	char query[64] = "";
	struct table t;
	bool more = false;
	int rc;

	if (a->state != NULL) {
		size_t n = (size_t)snprintf(query, sizeof(query), "state=%s",
					    a->state);

		/* The server's states are upper case; `--state running`
		 * is what an operator may type. */
		for (size_t i = 6; i < n && i < sizeof(query); i++)
			if (query[i] >= 'a' && query[i] <= 'z')
				query[i] = (char)(query[i] - 'a' + 'A');
	}
	table_init(&t, 5);
	table_row(&t, h);
	rc = page_list(c, "/v1/jobs", query, "jobs", limit, a->page_size,
		       job_row, &t, &more);
	if (rc == EXIT_OK && !c->json) {
		table_print(&t, stdout);
		if (more)
			fprintf(stderr,
				"cmdbus: the newest %llu jobs are shown; "
				"--limit N shows more, --limit 0 all\n",
				(unsigned long long)limit);
	}
	table_fini(&t);
	return rc;
}

int
cmd_jobs(const struct cli_ctx *c, const struct cli_args *a)
{
	struct cmdbus_jsonv *doc = NULL;
	char path[256];
	int rc;

	if (a->id != NULL && !api_id_ok(a->id))
		return cmd_bad_id(a->id);
	if (strcmp(a->sub, "ls") == 0)
		return jobs_ls(c, a);
	if (strcmp(a->sub, "show") == 0) {
		snprintf(path, sizeof(path), "/v1/jobs/%s", a->id);
		if ((rc = cmd_get_and_print(c, "GET", path, &doc)) == EXIT_OK &&
		    !c->json)
			print_job(cmdbus_jsonv_root(doc));
	} else {
		snprintf(path, sizeof(path), "/v1/jobs/%s/cancel", a->id);
		if ((rc = cmd_get_and_print(c, "POST", path, &doc)) ==
			EXIT_OK &&
		    !c->json)
			printf("cancel requested for job %s\n", a->id);
	}
	cmdbus_jsonv_free(doc);
	return rc;
}
