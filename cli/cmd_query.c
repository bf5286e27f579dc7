/* SPDX-License-Identifier: MIT */
/* `cmdbus jobs`, `cmdbus devices` and `cmdbus output`: one GET (or the
 * cancel POST) each, printed as a table or, with --json, as the server
 * sent it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "follow.h"
#include "render.h"

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

void
cmd_print_executions(const struct cmdbus_jnode *job, bool with_id)
{
	const struct cmdbus_jnode *ex = cmdbus_jnode_get(job, "executions");
	struct table t;
	size_t n = cmdbus_jnode_len(ex);

	table_init(&t, with_id ? 5 : 4);
	{
		const char *h[] = {"DEVICE", "STATE", "EXIT", "OUTPUT",
				   "EXECUTION"};
		const char *hid[] = {"EXECUTION", "DEVICE", "STATE", "EXIT",
				     "OUTPUT"};

		table_row(&t, with_id ? hid : h);
	}
	for (size_t i = 0; i < n; i++) {
		const struct cmdbus_jnode *e = cmdbus_jnode_at(ex, i);
		const struct cmdbus_jnode *res = cmdbus_jnode_get(e, "result");
		char code[24] = "-";
		int64_t v;

		if (cmdbus_jnode_int(cmdbus_jnode_get(res, "exit_code"), &v) ==
		    0)
			snprintf(code, sizeof(code), "%lld", (long long)v);
		else if (cmdbus_jnode_int(cmdbus_jnode_get(res, "signal"),
					  &v) == 0)
			snprintf(code, sizeof(code), "sig%lld", (long long)v);
		if (with_id) {
			const char *row[] = {
			    api_str(e, "id"), api_str(e, "device"),
			    api_str(e, "state"), code, execution_note(e)};
			table_row(&t, row);
		} else {
			const char *row[] = {api_str(e, "device"),
					     api_str(e, "state"), code,
					     execution_note(e), NULL};
			table_row(&t, row);
		}
	}
	table_print(&t, stdout);
	table_fini(&t);
}

static void
write_stream(const struct cmdbus_jnode *view, const char *key, FILE *f)
{
	size_t len = 0;
	const char *s = cmdbus_jnode_str(cmdbus_jnode_get(view, key), &len);
	char b64[32];

	if (s != NULL) {
		fwrite(s, 1, len, f);
		return;
	}
	snprintf(b64, sizeof(b64), "%s_b64", key);
	if (cmdbus_jnode_get(view, b64) != NULL)
		fprintf(stderr, "cmdbus: %s is not text; see it with --json\n",
			key);
}

void
cmd_print_output(const struct cmdbus_jnode *view)
{
	write_stream(view, "stdout", stdout);
	fflush(stdout);
	write_stream(view, "stderr", stderr);
}

/* "SUCCEEDED=3 FAILED=1" from a job's counts. */
static void
counts_text(const struct cmdbus_jnode *job, char *buf, size_t len)
{
	const struct cmdbus_jnode *c = cmdbus_jnode_get(job, "counts");
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cmdbus_jnode_len(c) && used < len; i++) {
		const struct cmdbus_jnode *m = cmdbus_jnode_at(c, i);
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

static int
get_and_print(const struct cli_ctx *c, const char *method, const char *path,
	      struct cmdbus_jsonv **doc)
{
	char *raw = NULL;
	int rc = api_call(c, method, path, NULL, doc, &raw);

	if (rc == EXIT_OK && c->json)
		printf("%s\n", raw);
	free(raw);
	return rc;
}

static int
bad_id(const char *id)
{
	fprintf(stderr, "cmdbus: not a valid id: %s\n", id);
	return EXIT_USAGE;
}

static void
print_job(const struct cmdbus_jnode *job)
{
	char created[32], finished[32], counts[256];

	render_time(api_u64(job, "created_at"), created, sizeof(created));
	render_time(api_u64(job, "finished_at"), finished, sizeof(finished));
	counts_text(job, counts, sizeof(counts));
	printf("job       %s\nstate     %s\naction    %s\ncreated   %s\n"
	       "finished  %s\ncounts    %s\n\n",
	       api_str(job, "id"), api_str(job, "state"),
	       api_str(job, "action"), created, finished, counts);
	cmd_print_executions(job, true);
}

int
cmd_jobs(const struct cli_ctx *c, const struct cli_args *a)
{
	struct cmdbus_jsonv *doc = NULL;
	char path[256];
	int rc;

	if (a->id != NULL && !api_id_ok(a->id))
		return bad_id(a->id);
	if (strcmp(a->sub, "ls") == 0) {
		const struct cmdbus_jnode *jobs;
		struct table t;

		if ((rc = get_and_print(c, "GET", "/v1/jobs", &doc)) !=
			EXIT_OK ||
		    c->json)
			goto out;
		jobs = cmdbus_jnode_get(cmdbus_jsonv_root(doc), "jobs");
		table_init(&t, 5);
		{
			const char *h[] = {"JOB", "STATE", "ACTION", "CREATED",
					   "COUNTS"};
			table_row(&t, h);
		}
		for (size_t i = 0; i < cmdbus_jnode_len(jobs); i++) {
			const struct cmdbus_jnode *j = cmdbus_jnode_at(jobs, i);
			char created[32], counts[256];

			render_time(api_u64(j, "created_at"), created,
				    sizeof(created));
			counts_text(j, counts, sizeof(counts));
			{
				const char *row[] = {
				    api_str(j, "id"), api_str(j, "state"),
				    api_str(j, "action"), created, counts};
				table_row(&t, row);
			}
		}
		table_print(&t, stdout);
		table_fini(&t);
	} else if (strcmp(a->sub, "show") == 0) {
		snprintf(path, sizeof(path), "/v1/jobs/%s", a->id);
		if ((rc = get_and_print(c, "GET", path, &doc)) != EXIT_OK ||
		    c->json)
			goto out;
		print_job(cmdbus_jsonv_root(doc));
	} else {
		snprintf(path, sizeof(path), "/v1/jobs/%s/cancel", a->id);
		if ((rc = get_and_print(c, "POST", path, &doc)) != EXIT_OK ||
		    c->json)
			goto out;
		printf("cancel requested for job %s\n", a->id);
	}
out:
	cmdbus_jsonv_free(doc);
	return rc;
}

static void
labels_text(const struct cmdbus_jnode *dev, char *buf, size_t len)
{
	const struct cmdbus_jnode *l = cmdbus_jnode_get(dev, "labels");
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cmdbus_jnode_len(l) && used < len; i++) {
		const struct cmdbus_jnode *m = cmdbus_jnode_at(l, i);
		const char *v = cmdbus_jnode_str(m, NULL);
		int w = snprintf(buf + used, len - used, "%s%s=%s",
				 used > 0 ? "," : "", cmdbus_jnode_key(m),
				 v != NULL ? v : "");

		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static const char *
presence(const struct cmdbus_jnode *dev)
{
	bool online = false, stale = false;

	(void)cmdbus_jnode_bool(cmdbus_jnode_get(dev, "online"), &online);
	(void)cmdbus_jnode_bool(cmdbus_jnode_get(dev, "stale"), &stale);
	return !online ? "offline" : stale ? "stale" : "online";
}

int
cmd_devices(const struct cli_ctx *c, const struct cli_args *a)
{
	struct cmdbus_jsonv *doc = NULL;
	const struct cmdbus_jnode *d;
	char path[256], seen[32], labels[512];
	int rc;

	if (a->id != NULL && !api_id_ok(a->id))
		return bad_id(a->id);
	if (strcmp(a->sub, "ls") == 0) {
		const struct cmdbus_jnode *devs;
		struct table t;

		if ((rc = get_and_print(c, "GET", "/v1/devices", &doc)) !=
			EXIT_OK ||
		    c->json)
			goto out;
		devs = cmdbus_jnode_get(cmdbus_jsonv_root(doc), "devices");
		table_init(&t, 4);
		{
			const char *h[] = {"DEVICE", "PRESENCE", "LAST SEEN",
					   "LABELS"};
			table_row(&t, h);
		}
		for (size_t i = 0; i < cmdbus_jnode_len(devs); i++) {
			d = cmdbus_jnode_at(devs, i);
			render_time(api_u64(d, "last_seen"), seen,
				    sizeof(seen));
			labels_text(d, labels, sizeof(labels));
			{
				const char *row[] = {api_str(d, "id"),
						     presence(d), seen, labels};
				table_row(&t, row);
			}
		}
		table_print(&t, stdout);
		table_fini(&t);
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/devices/%s", a->id);
	if ((rc = get_and_print(c, "GET", path, &doc)) != EXIT_OK || c->json)
		goto out;
	d = cmdbus_jsonv_root(doc);
	render_time(api_u64(d, "last_seen"), seen, sizeof(seen));
	labels_text(d, labels, sizeof(labels));
	printf("device    %s\npresence  %s\nlast seen %s\nboot id   %s\n"
	       "agent     %s\nlabels    %s\nactions  ",
	       api_str(d, "id"), presence(d), seen,
	       api_str(d, "boot_id") ? api_str(d, "boot_id") : "-",
	       api_str(d, "agent") ? api_str(d, "agent") : "-", labels);
	{
		const struct cmdbus_jnode *acts =
		    cmdbus_jnode_get(d, "actions");

		for (size_t i = 0; i < cmdbus_jnode_len(acts); i++) {
			const struct cmdbus_jnode *x = cmdbus_jnode_at(acts, i);
			const char *name = cmdbus_jnode_str(x, NULL);

			if (name == NULL)
				name = api_str(x, "name");
			printf(" %s", name != NULL ? name : "?");
		}
		printf("\n");
	}
out:
	cmdbus_jsonv_free(doc);
	return rc;
}

int
cmd_output(const struct cli_ctx *c, const struct cli_args *a)
{
	struct cmdbus_jsonv *doc = NULL;
	char path[256];
	int rc;

	if (!api_id_ok(a->id))
		return bad_id(a->id);
	if (a->follow)
		return follow_output(c, a->id);
	snprintf(path, sizeof(path), "/v1/executions/%s/output", a->id);
	if ((rc = get_and_print(c, "GET", path, &doc)) == EXIT_OK && !c->json)
		cmd_print_output(cmdbus_jsonv_root(doc));
	cmdbus_jsonv_free(doc);
	return rc;
}
