/* SPDX-License-Identifier: MIT */
/* `cmdbus devices` and `cmdbus output`, and the GET helpers the commands
 * share: printed as a table or, with --json, as the server sent it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "follow.h"
#include "page.h"
#include "render.h"

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

int
cmd_get_and_print(const struct cli_ctx *c, const char *method, const char *path,
		  struct cmdbus_jsonv **doc)
{
	char *raw = NULL;
	int rc = api_call(c, method, path, NULL, doc, &raw);

	if (rc == EXIT_OK && c->json)
		printf("%s\n", raw);
	free(raw);
	return rc;
}

int
cmd_bad_id(const char *id)
{
	fprintf(stderr, "cmdbus: not a valid id: %s\n", id);
	return EXIT_USAGE;
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

static void
device_row(const struct cmdbus_jnode *d, void *arg)
{
	char seen[32], labels[512];
	const char *row[4];

	render_time(api_u64(d, "last_seen"), seen, sizeof(seen));
	labels_text(d, labels, sizeof(labels));
	row[0] = api_str(d, "id");
	row[1] = presence(d);
	row[2] = seen;
	row[3] = labels;
	table_row(arg, row);
}

/* Every device by default: an inventory that stops at an arbitrary page
 * would mislead. */
static int
devices_ls(const struct cli_ctx *c, const struct cli_args *a)
{
	static const char *const h[] = {"DEVICE", "PRESENCE", "LAST SEEN",
					"LABELS"};
	struct table t;
	uint64_t limit = a->has_limit ? a->limit : 0;
	bool more = false;
	int rc;

	table_init(&t, 4);
	table_row(&t, h);
	rc = page_list(c, "/v1/devices", "", "devices", limit, a->page_size,
		       device_row, &t, &more);
	if (rc == EXIT_OK && !c->json) {
		table_print(&t, stdout);
		if (more)
			fprintf(stderr,
				"cmdbus: the first %llu devices are shown; "
				"--limit 0 shows all\n",
				(unsigned long long)limit);
	}
	table_fini(&t);
	return rc;
}

int
cmd_devices(const struct cli_ctx *c, const struct cli_args *a)
{
	struct cmdbus_jsonv *doc = NULL;
	const struct cmdbus_jnode *d;
	char path[256], seen[32], labels[512];
	int rc;

	if (a->id != NULL && !api_id_ok(a->id))
		return cmd_bad_id(a->id);
	if (strcmp(a->sub, "ls") == 0)
		return devices_ls(c, a);
	snprintf(path, sizeof(path), "/v1/devices/%s", a->id);
	if ((rc = cmd_get_and_print(c, "GET", path, &doc)) != EXIT_OK ||
	    c->json)
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
		return cmd_bad_id(a->id);
	if (a->follow)
		return follow_output(c, a->id);
	snprintf(path, sizeof(path), "/v1/executions/%s/output", a->id);
	if ((rc = cmd_get_and_print(c, "GET", path, &doc)) == EXIT_OK &&
	    !c->json)
		cmd_print_output(cmdbus_jsonv_root(doc));
	cmdbus_jsonv_free(doc);
	return rc;
}
