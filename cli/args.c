/* SPDX-License-Identifier: MIT */
/* Parsing of the cmdbus command line, in the order an operator writes it:
 * global flags anywhere, the command, its flags and operands; `--` ends
 * the flags (exec's argv follows it). Also the URL and token lookup. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "common/conf.h"
#include "common/err.h"
#include "common/parse.h"
#include "selector.h"

static int
usage_err(char *err, size_t errlen, const char *what, const char *arg)
{
	snprintf(err, errlen, "%s: %s", what, arg);
	return -EINVAL;
}

/* "--name=value" or "--name value": the value, or NULL when name does not
 * match; *i moves past a separate value. */
static const char *
flag_value(int argc, const char *const *argv, int *i, const char *name,
	   bool *missing)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	(*i)++;
	return argv[*i];
}

/* N or N% with N a count (percent: 1..100). */
static bool
count_or_pct(const char *s, bool zero_ok)
{
	size_t n = strlen(s);
	uint64_t v;
	char num[24];

	if (n > 0 && s[n - 1] == '%') {
		if (n - 1 >= sizeof(num) || n == 1)
			return false;
		memcpy(num, s, n - 1);
		num[n - 1] = '\0';
		return parse_u64(num, zero_ok ? 0 : 1, 100, &v) == 0;
	}
	return parse_u64(s, zero_ok ? 0 : 1, 9007199254740991ull, &v) == 0;
}

static enum cli_cmd
command_of(const char *s)
{
	static const struct {
		const char *name;
		enum cli_cmd cmd;
	} cmds[] = {
	    {"run", CLI_RUN},	      {"exec", CLI_EXEC},
	    {"jobs", CLI_JOBS},	      {"devices", CLI_DEVICES},
	    {"output", CLI_OUTPUT},   {"help", CLI_HELP},
	    {"version", CLI_VERSION},
	};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(s, cmds[i].name) == 0)
			return cmds[i].cmd;
	return CLI_NONE;
}

static int
set_target(struct cli_args *a, enum cli_target t, char *err, size_t errlen)
{
	if (a->target != CLI_TARGET_NONE && a->target != t)
		return usage_err(err, errlen, "choose one target",
				 "-t, -l or --all");
	a->target = t;
	return 0;
}

static int
push(const char **list, size_t *n, const char *v, char *err, size_t errlen)
{
	if (*n >= CLI_MAX_LIST)
		return usage_err(err, errlen, "too many values", v);
	list[(*n)++] = v;
	return 0;
}

/* Flags of run and exec. 1 when argv[*i] was one, 0 when not, < 0. */
static int
job_flag(int argc, const char *const *argv, int *i, struct cli_args *a,
	 char *err, size_t errlen)
{
	const char *arg = argv[*i], *v;
	bool missing = false;
	int rc;

	if (strcmp(arg, "-t") == 0 || strncmp(arg, "--target", 8) == 0) {
		v = strcmp(arg, "-t") == 0 && *i + 1 < argc ? argv[++*i]
		    : strcmp(arg, "-t") == 0
			? NULL
			: flag_value(argc, argv, i, "--target", &missing);
		if (v == NULL || *v == '\0')
			return usage_err(err, errlen, "missing value", arg);
		if ((rc = set_target(a, CLI_TARGET_DEVICES, err, errlen)) < 0)
			return rc;
		return push(a->devices, &a->ndevices, v, err, errlen) < 0
			   ? -EINVAL
			   : 1;
	}
	if (strcmp(arg, "-l") == 0 || strncmp(arg, "--label", 7) == 0) {
		v = strcmp(arg, "-l") == 0 && *i + 1 < argc ? argv[++*i]
		    : strcmp(arg, "-l") == 0
			? NULL
			: flag_value(argc, argv, i, "--label", &missing);
		/* The terms are checked together once every -l is read. */
		if (v == NULL || *v == '\0')
			return usage_err(err, errlen, "missing value", arg);
		if ((rc = set_target(a, CLI_TARGET_LABELS, err, errlen)) < 0)
			return rc;
		return push(a->labels, &a->nlabels, v, err, errlen) < 0
			   ? -EINVAL
			   : 1;
	}
	if (strcmp(arg, "--all") == 0)
		return set_target(a, CLI_TARGET_ALL, err, errlen) < 0 ? -EINVAL
								      : 1;
	if (strcmp(arg, "--allow-unknown") == 0) {
		a->allow_unknown = true;
		return 1;
	}
	if (strcmp(arg, "--stream") == 0) {
		a->stream = true;
		return 1;
	}
	if (strcmp(arg, "--follow") == 0 || strcmp(arg, "-f") == 0) {
		a->follow = true;
		return 1;
	}
	if ((v = flag_value(argc, argv, i, "--wait", &missing)) != NULL ||
	    missing) {
		if (missing || parse_bool(v, &a->wait) < 0)
			return usage_err(err, errlen,
					 "--wait takes true or false",
					 missing ? "" : v);
		return 1;
	}
	if ((v = flag_value(argc, argv, i, "--batch", &missing)) != NULL ||
	    missing) {
		if (missing || !count_or_pct(v, false))
			return usage_err(err, errlen, "--batch takes N or N%",
					 missing ? "" : v);
		a->batch = v;
		return 1;
	}
	if ((v = flag_value(argc, argv, i, "--max-failures", &missing)) !=
		NULL ||
	    missing) {
		if (missing || !count_or_pct(v, true))
			return usage_err(err, errlen,
					 "--max-failures takes N or N%",
					 missing ? "" : v);
		a->max_failures = v;
		return 1;
	}
	if ((v = flag_value(argc, argv, i, "--canary", &missing)) != NULL ||
	    missing) {
		if (missing ||
		    parse_u64(v, 0, 9007199254740991ull, &a->canary) < 0)
			return usage_err(err, errlen, "--canary takes a count",
					 missing ? "" : v);
		a->has_canary = true;
		return 1;
	}
	if ((v = flag_value(argc, argv, i, "--offline", &missing)) != NULL ||
	    missing) {
		if (missing ||
		    (strcmp(v, "wait") != 0 && strcmp(v, "skip") != 0 &&
		     strcmp(v, "fail") != 0))
			return usage_err(err, errlen,
					 "--offline takes wait, skip or fail",
					 missing ? "" : v);
		a->offline = v;
		return 1;
	}
	if ((v = flag_value(argc, argv, i, "--timeout", &missing)) != NULL ||
	    missing) {
		if (missing ||
		    parse_duration_ms(v, 1000, 86400000, &a->timeout_ms) < 0)
			return usage_err(err, errlen,
					 "--timeout takes a duration (30s, 5m)",
					 missing ? "" : v);
		return 1;
	}
	if ((v = flag_value(argc, argv, i, "--ttl", &missing)) != NULL ||
	    missing) {
		if (missing ||
		    parse_duration_ms(v, 1000, 7ull * 86400000, &a->ttl_ms) < 0)
			return usage_err(err, errlen,
					 "--ttl takes a duration (1h, 7d)",
					 missing ? "" : v);
		return 1;
	}
	return 0;
}

/* Flags of jobs ls and devices ls. 1 when argv[*i] was one, 0 when not,
 * < 0. */
static int
list_flag(int argc, const char *const *argv, int *i, struct cli_args *a,
	  char *err, size_t errlen)
{
	const char *v;
	bool missing = false;

	if ((v = flag_value(argc, argv, i, "--limit", &missing)) != NULL ||
	    missing) {
		if (missing ||
		    parse_u64(v, 0, 9007199254740991ull, &a->limit) < 0)
			return usage_err(err, errlen,
					 "--limit takes a count (0: all)",
					 missing ? "" : v);
		a->has_limit = true;
		return 1;
	}
	if ((v = flag_value(argc, argv, i, "--page-size", &missing)) != NULL ||
	    missing) {
		if (missing || parse_u64(v, 1, 500, &a->page_size) < 0)
			return usage_err(err, errlen,
					 "--page-size takes 1 to 500",
					 missing ? "" : v);
		return 1;
	}
	if (a->cmd != CLI_JOBS)
		return 0;
	if ((v = flag_value(argc, argv, i, "--state", &missing)) != NULL ||
	    missing) {
		size_t n = missing ? 0 : strlen(v);

		/* Passed on as given; the server names the valid states. */
		if (n == 0 || n > 32 ||
		    strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			      "abcdefghijklmnopqrstuvwxyz_") != n)
			return usage_err(err, errlen,
					 "--state takes a job state",
					 missing ? "" : v);
		a->state = v;
		return 1;
	}
	return 0;
}

bool
cli_args_rollout(const struct cli_args *a)
{
	return a->batch != NULL || a->max_failures != NULL || a->has_canary ||
	       a->offline != NULL;
}

/* Global flags. 1 when argv[*i] was one, 0 when not, < 0. */
static int
global_flag(int argc, const char *const *argv, int *i, struct cli_args *a,
	    char *err, size_t errlen)
{
	const char *arg = argv[*i], *v;
	bool missing = false;

	if ((v = flag_value(argc, argv, i, "--url", &missing)) != NULL ||
	    missing) {
		if (missing || *v == '\0')
			return usage_err(err, errlen, "missing value", arg);
		a->url = v;
		return 1;
	}
	if ((v = flag_value(argc, argv, i, "--token", &missing)) != NULL ||
	    missing) {
		if (missing)
			return usage_err(err, errlen, "missing value", arg);
		a->token = v;
		return 1;
	}
	if (strcmp(arg, "--json") == 0) {
		a->json = true;
		return 1;
	}
	if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
		a->cmd = CLI_HELP;
		return 1;
	}
	if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
		a->cmd = CLI_VERSION;
		return 1;
	}
	return 0;
}

static int
operand(struct cli_args *a, const char *arg, char *err, size_t errlen)
{
	if (a->cmd == CLI_NONE) {
		a->cmd = command_of(arg);
		if (a->cmd == CLI_NONE)
			return usage_err(err, errlen, "unknown command", arg);
		if (a->cmd == CLI_EXEC)
			a->action = "exec";
		return 0;
	}
	switch (a->cmd) {
	case CLI_RUN:
		if (a->action == NULL) {
			a->action = arg;
			return 0;
		}
		if (strchr(arg, '=') == NULL || *arg == '=')
			return usage_err(err, errlen,
					 "an argument is key=value", arg);
		return push(a->params, &a->nparams, arg, err, errlen);
	case CLI_JOBS:
	case CLI_DEVICES:
		if (a->sub == NULL) {
			a->sub = arg;
			return 0;
		}
		if (a->id == NULL) {
			a->id = arg;
			return 0;
		}
		break;
	case CLI_OUTPUT:
		if (a->id == NULL) {
			a->id = arg;
			return 0;
		}
		break;
	default:
		break;
	}
	return usage_err(err, errlen, "unexpected argument", arg);
}

/* What each command needs once everything is read. */
static int
check(struct cli_args *a, char *err, size_t errlen)
{
	switch (a->cmd) {
	case CLI_NONE:
		return usage_err(err, errlen, "missing command",
				 "run, exec, jobs, devices or output");
	case CLI_RUN:
	case CLI_EXEC:
		if (a->target == CLI_TARGET_NONE)
			return usage_err(err, errlen, "missing target",
					 "-t DEVICE,..., -l SELECTOR or --all");
		if (a->cmd == CLI_RUN && a->action == NULL)
			return usage_err(err, errlen, "missing", "ACTION");
		if (a->cmd == CLI_EXEC && a->nparams == 0)
			return usage_err(err, errlen, "missing",
					 "-- COMMAND [ARG...]");
		if (a->follow && !a->wait)
			return usage_err(err, errlen, "--follow",
					 "needs --wait=true");
		if (a->allow_unknown && a->target != CLI_TARGET_DEVICES)
			return usage_err(err, errlen, "--allow-unknown",
					 "needs a device list (-t)");
		if (a->target == CLI_TARGET_LABELS) {
			struct sel_selector s;
			int rc =
			    sel_parse(a->labels, a->nlabels, &s, err, errlen);

			sel_fini(&s);
			return rc;
		}
		return 0;
	case CLI_JOBS:
	case CLI_DEVICES:
		if (a->sub == NULL)
			a->sub = "ls";
		if (strcmp(a->sub, "ls") == 0 && a->id == NULL)
			return 0;
		if (a->has_limit || a->state != NULL || a->page_size > 0)
			return usage_err(err, errlen, "only ls takes",
					 a->has_limit	    ? "--limit"
					 : a->state != NULL ? "--state"
							    : "--page-size");
		if (strcmp(a->sub, "show") == 0 ||
		    (a->cmd == CLI_JOBS && strcmp(a->sub, "cancel") == 0)) {
			if (a->id == NULL)
				return usage_err(err, errlen, "missing", "ID");
			return 0;
		}
		return usage_err(err, errlen, "unknown subcommand", a->sub);
	case CLI_OUTPUT:
		if (a->id == NULL)
			return usage_err(err, errlen, "missing", "EXEC_ID");
		return 0;
	default:
		return 0;
	}
}

int
cli_args_parse(int argc, const char *const *argv, struct cli_args *a, char *err,
	       size_t errlen)
{
	bool dashdash = false;
	int rc;

	memset(a, 0, sizeof(*a));
	a->wait = true;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (dashdash) {
			if (a->cmd != CLI_EXEC)
				rc = operand(a, arg, err, errlen);
			else
				rc = push(a->params, &a->nparams, arg, err,
					  errlen);
			if (rc < 0)
				return rc;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			dashdash = true;
			continue;
		}
		if ((rc = global_flag(argc, argv, &i, a, err, errlen)) < 0)
			return rc;
		if (rc > 0) {
			if (a->cmd == CLI_HELP || a->cmd == CLI_VERSION)
				return 0;
			continue;
		}
		if (a->cmd == CLI_RUN || a->cmd == CLI_EXEC) {
			if ((rc = job_flag(argc, argv, &i, a, err, errlen)) < 0)
				return rc;
			if (rc > 0)
				continue;
		}
		if (a->cmd == CLI_JOBS || a->cmd == CLI_DEVICES) {
			if ((rc = list_flag(argc, argv, &i, a, err, errlen)) <
			    0)
				return rc;
			if (rc > 0)
				continue;
		}
		if ((a->cmd == CLI_OUTPUT) &&
		    (strcmp(arg, "--follow") == 0 || strcmp(arg, "-f") == 0)) {
			a->follow = true;
			continue;
		}
		if (arg[0] == '-' && arg[1] != '\0')
			return usage_err(err, errlen, "unknown flag", arg);
		if ((rc = operand(a, arg, err, errlen)) < 0)
			return rc;
	}
	return check(a, err, errlen);
}

struct file_conf {
	char *url;
	char *token;
};

static const struct conf_option file_table[] = {
    {"url", CONF_STRING, offsetof(struct file_conf, url), 0, 2048, NULL, NULL,
     NULL, "the dispatcher's base URL"},
    {"token", CONF_STRING, offsetof(struct file_conf, token), 0, 4096, NULL,
     NULL, NULL, "the bearer token"},
    {NULL, CONF_STRING, 0, 0, 0, NULL, NULL, NULL, NULL},
};

static int
pick(char **dst, const char *flag, const char *env, char **file)
{
	const char *v = flag != NULL ? flag : env != NULL && *env ? env : NULL;

	if (v == NULL) {
		*dst = *file; /* taken from the file's struct */
		*file = NULL;
		return 0;
	}
	*dst = strdup(v);
	return *dst == NULL ? -ENOMEM : 0;
}

int
cli_config_resolve(const char *flag_url, const char *flag_token,
		   const char *env_url, const char *env_token, const char *path,
		   struct cli_config *out, char *err, size_t errlen)
{
	struct file_conf fc = {0};
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (path != NULL) {
		rc = conf_load_file(file_table, &fc, path, err, errlen);
		if (rc == -ENOENT)
			rc = 0;
		else if (rc < 0 && rc != -ERR_CONFIG) {
			snprintf(err, errlen, "%s: %s", path, err_str(rc));
			rc = -ERR_CONFIG;
		}
	}
	if (rc == 0 && (rc = pick(&out->url, flag_url, env_url, &fc.url)) == 0)
		rc = pick(&out->token, flag_token, env_token, &fc.token);
	conf_free(file_table, &fc);
	if (rc == 0 && (out->url == NULL || out->url[0] == '\0')) {
		snprintf(err, errlen,
			 "no dispatcher URL: use --url, CMDBUS_URL or "
			 "'url' in ~/.config/cmdbus/config");
		rc = -ERR_CONFIG;
	}
	if (rc < 0)
		cli_config_fini(out);
	return rc;
}

void
cli_config_fini(struct cli_config *c)
{
	free(c->url);
	free(c->token);
	c->url = c->token = NULL;
}
