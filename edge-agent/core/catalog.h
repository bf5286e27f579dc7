/* SPDX-License-Identifier: MIT */
/* Catalog actions: one file per action declares a fixed argv template with
 * {name} placeholders, the rule each named parameter must meet (a regular
 * expression, an enum or an integer range) and the run's limits. This
 * module parses such a file from text and turns a command's args into an
 * argv, each value substituted into its element, never through a shell. */
#ifndef CMDBUS_AGENT_CATALOG_H
#define CMDBUS_AGENT_CATALOG_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdbus/action.h"
#include "cmdbus/proto.h"

#define CATALOG_MAX_PARAMS 32
#define CATALOG_MAX_ARGV 128
#define CATALOG_PATTERN_MAX 512 /* a status pattern's limit */

enum catalog_rule { CAT_REGEX, CAT_ENUM, CAT_INT };

struct catalog_param {
	char *name;
	enum catalog_rule rule;
	char *pattern; /* whole-value pattern as the status shows it */
	regex_t re;    /* CAT_REGEX: the pattern, compiled */
	bool has_re;
	char **choices; /* CAT_ENUM */
	size_t nchoices;
	int64_t min, max; /* CAT_INT */
	char *def;	  /* NULL: required */
};

struct catalog_action {
	char name[CMDBUS_NAME_BUF];
	char **argv; /* templates, NULL-terminated */
	size_t argc;
	struct catalog_param *params;
	size_t nparams;
	uint64_t timeout_ms; /* 0: the command's own (under max_timeout) */
	uint64_t max_output; /* bytes per stream, <= CMDBUS_MAX_OUTPUT */
	char *cwd;	     /* NULL: the agent's exec_cwd */
	char **env_names;    /* passed through from the agent's environment */
	size_t nenv_names;
	struct cmdbus_label *env; /* resolved "name=value" pairs, owned */
	size_t nenv;
	char *user, *group; /* NULL: the agent's own */
	bool run_as;	    /* uid and gid below are set */
	unsigned uid, gid;
};

/* Parses the catalog file `path` (its text in memory) declaring action
 * `name`. 0 and *out (release with catalog_action_fini()); or -ERR_CONFIG
 * (or -ENOMEM) with "path:line: reason" in err. */
int catalog_parse(const char *name, const char *path, const char *text,
		  size_t len, struct catalog_action *out, char *err,
		  size_t errlen);
void catalog_action_fini(struct catalog_action *a);

/* Checks a command's args against the action's parameters and builds the
 * argv: an unknown parameter, a value that breaks its rule and a missing
 * required one are refused naming the parameter (field "args.NAME") with
 * a sentence in msg. 0 and x->argv, x->argc, x->env filled (release with
 * cmdbus_exec_args_fini()); -ERR_MALFORMED; -ENOMEM. */
int catalog_prepare(const struct catalog_action *a, const char *args_json,
		    struct cmdbus_exec_args *x, char *field, size_t fieldlen,
		    char *msg, size_t msglen);

/* Substitutes values into one template element: "{name}" stands for the
 * value of that parameter, "{{" and "}}" for literal braces. *out is
 * malloc'd. 0, -EINVAL (an unknown or unclosed placeholder or a lone
 * '}', its text in `bad`), -ENOMEM. */
int catalog_substitute(const char *tmpl, const char *const *names,
		       const char *const *values, size_t n, char **out,
		       char *bad, size_t badlen);

/* ---- for catalog.c and catalog_param.c ---- */

/* Whether ch may be in a name: [A-Za-z0-9_.-]. */
bool catalog_name_char(char ch);
/* Option checks shared with the agent's own configuration, so that a
 * path and a user or group name follow the same rule in both: 0, or
 * -EINVAL with a sentence in err. */
int catalog_check_absolute(const char *v, char *err, size_t errlen);
int catalog_check_account(const char *v, char *err, size_t errlen);
/* Splits "NAME REST" at the first blank into name (NUL-terminated);
 * *rest points past the blanks. 0, or -EINVAL (no name, or too long). */
int catalog_split_name(const char *v, char *name, size_t namelen,
		       const char **rest);
/* Parses the value of a `param` line into *p (when p is given, else only
 * checks it). 0, -EINVAL with a sentence in err, -ENOMEM. */
int catalog_param_parse(const char *v, struct catalog_param *p, char *err,
			size_t errlen);
/* Whether v meets p's rule. */
bool catalog_value_ok(const struct catalog_param *p, const char *v);
/* p's rule in words, for messages. */
void catalog_rule_text(const struct catalog_param *p, char *out, size_t outlen);
#endif
