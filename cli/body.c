/* SPDX-License-Identifier: MIT */
/* Builds the job request from the parsed command line with the schema
 * library's writer: run's key=value pairs become string args, exec's argv
 * becomes args.argv, -l terms target.labels, and the rollout flags
 * (--batch, --max-failures, --offline, --canary) a rollout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "cmdbus/jsonv.h"
#include "common/parse.h"
#include "selector.h"

/* Writes "k":"v" for a "k=v" text, the key cut at the first '='. */
static int
write_pair(struct cmdbus_jsonw *w, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = (size_t)(eq - kv);
	char *key = malloc(klen + 1);

	if (key == NULL)
		return -ENOMEM;
	memcpy(key, kv, klen);
	key[klen] = '\0';
	cmdbus_jsonw_str(w, key, eq + 1);
	free(key);
	return 0;
}

static int
write_devices(struct cmdbus_jsonw *w, const struct cli_args *a, char *err,
	      size_t errlen)
{
	cmdbus_jsonw_arr_begin(w, "devices");
	for (size_t i = 0; i < a->ndevices; i++) {
		char *list = strdup(a->devices[i]), *save = NULL, *tok;
		const char *p;

		if (list == NULL)
			return -ENOMEM;
		for (p = list; *p != '\0'; p++)
			if (p[0] == ',' &&
			    (p == list || p[1] == ',' || p[1] == '\0')) {
				snprintf(err, errlen,
					 "empty device id in -t %s",
					 a->devices[i]);
				free(list);
				return -EINVAL;
			}
		for (tok = strtok_r(list, ",", &save); tok != NULL;
		     tok = strtok_r(NULL, ",", &save))
			cmdbus_jsonw_str(w, NULL, tok);
		free(list);
	}
	cmdbus_jsonw_arr_end(w);
	return 0;
}

/* "N" as an integer member, "N%" as the string the API takes for
 * batch_size or as max_failure_pct. */
static void
write_count(struct cmdbus_jsonw *w, const char *key, const char *pct_key,
	    const char *v)
{
	size_t n = strlen(v);
	uint64_t u = 0;
	char num[24];

	if (n > 0 && v[n - 1] == '%') {
		if (pct_key == NULL) {
			cmdbus_jsonw_str(w, key, v);
			return;
		}
		snprintf(num, sizeof(num), "%.*s", (int)(n - 1), v);
		(void)parse_u64(num, 0, 100, &u);
		cmdbus_jsonw_u64(w, pct_key, u);
		return;
	}
	(void)parse_u64(v, 0, 9007199254740991ull, &u);
	cmdbus_jsonw_u64(w, key, u);
}

int
body_job_request(const struct cli_args *a, char **out, char *err, size_t errlen)
{
	struct cmdbus_jsonw *w = cmdbus_jsonw_new();
	int rc = 0;

	*out = NULL;
	if (w == NULL)
		return -ENOMEM;
	cmdbus_jsonw_obj_begin(w, NULL);
	cmdbus_jsonw_obj_begin(w, "target");
	switch (a->target) {
	case CLI_TARGET_DEVICES:
		rc = write_devices(w, a, err, errlen);
		if (a->allow_unknown)
			cmdbus_jsonw_bool(w, "allow_unknown", true);
		break;
	case CLI_TARGET_LABELS: {
		struct sel_selector s;

		if ((rc = sel_parse(a->labels, a->nlabels, &s, err, errlen)) ==
		    0)
			sel_write(&s, w);
		sel_fini(&s);
		break;
	}
	default:
		cmdbus_jsonw_bool(w, "all", true);
		break;
	}
	cmdbus_jsonw_obj_end(w);
	cmdbus_jsonw_str(w, "action", a->action);
	cmdbus_jsonw_obj_begin(w, "args");
	if (a->cmd == CLI_EXEC) {
		cmdbus_jsonw_arr_begin(w, "argv");
		for (size_t i = 0; i < a->nparams; i++)
			cmdbus_jsonw_str(w, NULL, a->params[i]);
		cmdbus_jsonw_arr_end(w);
	} else {
		for (size_t i = 0; i < a->nparams && rc == 0; i++)
			rc = write_pair(w, a->params[i]);
	}
	cmdbus_jsonw_obj_end(w);
	if (a->timeout_ms > 0)
		cmdbus_jsonw_u64(w, "timeout_ms", a->timeout_ms);
	if (a->ttl_ms > 0)
		cmdbus_jsonw_u64(w, "ttl_ms", a->ttl_ms);
	if (a->stream)
		cmdbus_jsonw_bool(w, "stream", true);
	if (cli_args_rollout(a)) {
		cmdbus_jsonw_obj_begin(w, "rollout");
		if (a->batch != NULL)
			write_count(w, "batch_size", NULL, a->batch);
		if (a->max_failures != NULL)
			write_count(w, "max_failures", "max_failure_pct",
				    a->max_failures);
		if (a->offline != NULL)
			cmdbus_jsonw_str(w, "offline", a->offline);
		if (a->has_canary)
			cmdbus_jsonw_u64(w, "canary", a->canary);
		cmdbus_jsonw_obj_end(w);
	}
	cmdbus_jsonw_obj_end(w);
	if (rc == 0) {
		rc = cmdbus_jsonw_finish(w, out, NULL);
		if (rc == -EINVAL)
			snprintf(err, errlen,
				 "arguments must be valid UTF-8 text");
	}
	cmdbus_jsonw_free(w);
	return rc;
}
