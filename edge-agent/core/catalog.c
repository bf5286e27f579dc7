/* SPDX-License-Identifier: MIT */
/* Catalog actions: a file per action read through the common option table
 * (so every complaint carries file:line), the parameter rules compiled
 * once, and the substitution of validated values into argv elements. */
#include "catalog.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common/err.h"

#define DAY_MS (24ull * 3600 * 1000)

/* One catalog file as the option table fills it. */
struct catalog_file {
	struct conf_list argv;
	struct conf_list param;
	struct conf_list def;
	uint64_t timeout;
	uint64_t max_output;
	char *cwd;
	struct conf_list env;
	char *user;
	char *group;
};

/* ---- line checks (the option table reports them with file:line) ---- */

/* The `param` lines themselves are parsed by catalog_param.c. */

static int
check_param(const char *v, char *err, size_t errlen)
{
	return catalog_param_parse(v, NULL, err, errlen);
}

static int
check_default(const char *v, char *err, size_t errlen)
{
	char name[CMDBUS_NAME_BUF];
	const char *rest;

	if (catalog_split_name(v, name, sizeof(name), &rest) != 0 ||
	    !cmdbus_valid_label(name)) {
		snprintf(err, errlen,
			 "'default NAME VALUE' names no parameter");
		return -EINVAL;
	}
	return 0;
}

static int
check_env(const char *v, char *err, size_t errlen)
{
	bool ok = (v[0] >= 'A' && v[0] <= 'Z') ||
		  (v[0] >= 'a' && v[0] <= 'z') || v[0] == '_';

	for (const char *p = v + 1; ok && *p; p++)
		ok = catalog_name_char(*p) && *p != '.' && *p != '-';
	if (ok)
		return 0;
	snprintf(err, errlen,
		 "'%s' is not an environment variable name "
		 "(^[A-Za-z_][A-Za-z0-9_]*$)",
		 v);
	return -EINVAL;
}

int
catalog_check_absolute(const char *v, char *err, size_t errlen)
{
	if (v[0] == '/')
		return 0;
	snprintf(err, errlen, "'%s' is not an absolute path", v);
	return -EINVAL;
}

int
catalog_check_account(const char *v, char *err, size_t errlen)
{
	for (const char *p = v; *p; p++) {
		if (!catalog_name_char(*p)) {
			snprintf(err, errlen,
				 "'%s' is not a user or group name", v);
			return -EINVAL;
		}
	}
	return 0;
}

#define OPT(name, type, field, min, max, def, check, help)                     \
	{                                                                      \
		name, type, offsetof(struct catalog_file, field), min, max,    \
		    def, NULL, check, help                                     \
	}

static const struct conf_option catalog_options[] = {
    OPT("argv", CONF_LIST, argv, 0, 4096, NULL, NULL,
	"one argv element, in order (repeat); {name} stands for a parameter"),
    OPT("param", CONF_LIST, param, 0, 1024, NULL, check_param,
	"NAME regex RE | NAME enum A B ... | NAME int MIN MAX"),
    OPT("default", CONF_LIST, def, 0, 4096, NULL, check_default,
	"NAME VALUE: the parameter is optional with this value"),
    OPT("timeout", CONF_DURATION, timeout, 0, 7 * DAY_MS, "0", NULL,
	"longest run; 0: the command's own timeout_ms"),
    OPT("max_output", CONF_SIZE, max_output, 1, CMDBUS_MAX_OUTPUT, "64k", NULL,
	"bytes kept per stream"),
    OPT("cwd", CONF_STRING, cwd, 0, 4096, NULL, catalog_check_absolute,
	"working directory (default: exec_cwd)"),
    OPT("env", CONF_LIST, env, 0, 128, NULL, check_env,
	"an environment variable of the agent passed through (repeat)"),
    OPT("user", CONF_STRING, user, 0, 64, NULL, catalog_check_account,
	"run as this user (the agent must run as root)"),
    OPT("group", CONF_STRING, group, 0, 64, NULL, catalog_check_account,
	"run with this group (default: the user's)"),
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

/* The line of the first `key` line whose value contains `needle` (or
 * any, when needle is NULL), for complaints that span lines. */
static unsigned
find_line(const char *text, size_t len, const char *key, const char *needle,
	  bool name_only)
{
	const char *p = text, *end = text + len;
	size_t klen = strlen(key);
	unsigned lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *s = p;

		lineno++;
		while (s < le && (*s == ' ' || *s == '\t'))
			s++;
		if ((size_t)(le - s) > klen && memcmp(s, key, klen) == 0 &&
		    (s[klen] == ' ' || s[klen] == '\t')) {
			const char *v = s + klen;
			size_t nlen = needle ? strlen(needle) : 0;
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			if (!needle)
				return lineno;
			if (name_only) {
				if ((size_t)(le - v) >= nlen &&
				    memcmp(v, needle, nlen) == 0 &&
				    (v + nlen == le || v[nlen] == ' ' ||
				     v[nlen] == '\t' || v[nlen] == '\r'))
					return lineno;
			} else {
				for (const char *q = v; q + nlen <= le; q++)
					if (memcmp(q, needle, nlen) == 0)
						return lineno;
			}
		}
		p = le + 1;
	}
	return lineno ? lineno : 1;
}

/* ---- substitution ---- */

int
catalog_substitute(const char *tmpl, const char *const *names,
		   const char *const *values, size_t n, char **out, char *bad,
		   size_t badlen)
{
	size_t cap = strlen(tmpl) + 1, len = 0;
	char *s = malloc(cap);

	*out = NULL;
	if (!s)
		return -ENOMEM;
	for (const char *p = tmpl; *p;) {
		const char *add = p;
		size_t addlen = 1;

		if ((p[0] == '{' && p[1] == '{') ||
		    (p[0] == '}' && p[1] == '}')) {
			p += 2;
		} else if (p[0] == '}') {
			snprintf(bad, badlen, "}");
			free(s);
			return -EINVAL;
		} else if (p[0] == '{') {
			const char *close = strchr(p + 1, '}');
			size_t nlen = close ? (size_t)(close - p - 1) : 0, i;

			for (i = 0; close && i < n; i++)
				if (strlen(names[i]) == nlen &&
				    memcmp(names[i], p + 1, nlen) == 0)
					break;
			if (!close || i == n) {
				snprintf(bad, badlen, "%.*s",
					 close ? (int)nlen + 2 : (int)strlen(p),
					 p);
				free(s);
				return -EINVAL;
			}
			add = values[i];
			addlen = strlen(values[i]);
			p = close + 1;
		} else {
			p++;
		}
		if (len + addlen + 1 > cap) {
			char *g;
			cap = (len + addlen + 1) * 2;
			g = realloc(s, cap);
			if (!g) {
				free(s);
				return -ENOMEM;
			}
			s = g;
		}
		memcpy(s + len, add, addlen);
		len += addlen;
	}
	s[len] = '\0';
	*out = s;
	return 0;
}

/* ---- parsing a file ---- */

void
catalog_action_fini(struct catalog_action *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	for (size_t i = 0; i < a->nparams; i++) {
		struct catalog_param *p = &a->params[i];
		free(p->name);
		free(p->pattern);
		if (p->has_re)
			regfree(&p->re);
		for (size_t j = 0; j < p->nchoices; j++)
			free(p->choices[j]);
		free(p->choices);
		free(p->def);
	}
	free(a->params);
	free(a->cwd);
	for (size_t i = 0; i < a->nenv_names; i++)
		free(a->env_names[i]);
	free(a->env_names);
	cmdbus_labels_free(a->env, a->nenv);
	free(a->user);
	free(a->group);
	memset(a, 0, sizeof(*a));
}

static struct catalog_param *
find_param(const struct catalog_action *a, const char *name)
{
	for (size_t i = 0; i < a->nparams; i++)
		if (strcmp(a->params[i].name, name) == 0)
			return &a->params[i];
	return NULL;
}

static int
build(struct catalog_action *a, const struct catalog_file *f, const char *path,
      const char *text, size_t len, char *err, size_t errlen)
{
	const char *names[CATALOG_MAX_PARAMS], *vals[CATALOG_MAX_PARAMS];
	char why[256];
	int rc;

	if (f->argv.n == 0) {
		snprintf(err, errlen,
			 "%s:1: no 'argv' line: the action runs "
			 "nothing",
			 path);
		return -ERR_CONFIG;
	}
	if (f->argv.n > CATALOG_MAX_ARGV || f->param.n > CATALOG_MAX_PARAMS) {
		snprintf(err, errlen,
			 "%s:%u: at most %d argv lines and %d params", path,
			 find_line(text, len, "argv", NULL, false),
			 CATALOG_MAX_ARGV, CATALOG_MAX_PARAMS);
		return -ERR_CONFIG;
	}
	a->params = calloc(f->param.n + 1, sizeof(*a->params));
	a->argv = calloc(f->argv.n + 1, sizeof(char *));
	if (!a->params || !a->argv)
		return -ENOMEM;
	for (size_t i = 0; i < f->param.n; i++) {
		rc = catalog_param_parse(f->param.v[i], &a->params[i], why,
					 sizeof(why));
		if (rc == 0 || a->params[i].name)
			a->nparams = i + 1;
		if (rc)
			return rc == -ENOMEM ? rc : -ERR_CONFIG;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(a->params[j].name, a->params[i].name) == 0) {
				snprintf(err, errlen,
					 "%s:%u: param '%s' declared twice",
					 path,
					 find_line(text, len, "param",
						   f->param.v[i], false),
					 a->params[i].name);
				return -ERR_CONFIG;
			}
		}
	}
	for (size_t i = 0; i < f->def.n; i++) {
		char name[CMDBUS_NAME_BUF];
		const char *value;
		struct catalog_param *p;
		unsigned line =
		    find_line(text, len, "default", f->def.v[i], false);

		catalog_split_name(f->def.v[i], name, sizeof(name), &value);
		p = find_param(a, name);
		if (!p) {
			snprintf(err, errlen,
				 "%s:%u: default for '%s', which is no param",
				 path, line, name);
			return -ERR_CONFIG;
		}
		if (p->def) {
			snprintf(err, errlen,
				 "%s:%u: default for '%s' given twice", path,
				 line, name);
			return -ERR_CONFIG;
		}
		if (!catalog_value_ok(p, value)) {
			catalog_rule_text(p, why, sizeof(why));
			snprintf(err, errlen,
				 "%s:%u: default of '%s' is not %s", path, line,
				 name, why);
			return -ERR_CONFIG;
		}
		p->def = strdup(value);
		if (!p->def)
			return -ENOMEM;
	}
	/* Each template is tried with every parameter, so an unknown
	 * placeholder is refused here rather than at the first command. */
	for (size_t i = 0; i < a->nparams; i++) {
		names[i] = a->params[i].name;
		vals[i] = "";
	}
	for (size_t i = 0; i < f->argv.n; i++) {
		char *probe = NULL, bad[80];

		rc = catalog_substitute(f->argv.v[i], names, vals, a->nparams,
					&probe, bad, sizeof(bad));
		free(probe);
		if (rc == -EINVAL) {
			snprintf(
			    err, errlen,
			    "%s:%u: '%s' in argv is no {param} of this "
			    "action (write {{ and }} for literal braces)",
			    path,
			    find_line(text, len, "argv", f->argv.v[i], false),
			    bad);
			return -ERR_CONFIG;
		}
		if (rc)
			return rc;
		a->argv[i] = strdup(f->argv.v[i]);
		if (!a->argv[i])
			return -ENOMEM;
		a->argc = i + 1;
	}
	for (size_t i = 0; i < a->nparams; i++) {
		char ph[CMDBUS_NAME_BUF + 2];
		bool used = false;

		snprintf(ph, sizeof(ph), "{%s}", a->params[i].name);
		for (size_t j = 0; j < a->argc && !used; j++)
			used = strstr(a->argv[j], ph) != NULL;
		if (!used) {
			snprintf(err, errlen,
				 "%s:%u: param '%s' is not used in argv", path,
				 find_line(text, len, "param",
					   a->params[i].name, true),
				 a->params[i].name);
			return -ERR_CONFIG;
		}
	}
	a->timeout_ms = f->timeout;
	a->max_output = f->max_output;
	if ((f->cwd && !(a->cwd = strdup(f->cwd))) ||
	    (f->user && !(a->user = strdup(f->user))) ||
	    (f->group && !(a->group = strdup(f->group))))
		return -ENOMEM;
	if (f->group && !f->user) {
		snprintf(err, errlen, "%s:%u: 'group' needs a 'user'", path,
			 find_line(text, len, "group", NULL, false));
		return -ERR_CONFIG;
	}
	if (f->env.n) {
		a->env_names = calloc(f->env.n, sizeof(char *));
		if (!a->env_names)
			return -ENOMEM;
		for (size_t i = 0; i < f->env.n; i++) {
			a->env_names[i] = strdup(f->env.v[i]);
			if (!a->env_names[i])
				return -ENOMEM;
			a->nenv_names = i + 1;
		}
	}
	return 0;
}

int
catalog_parse(const char *name, const char *path, const char *text, size_t len,
	      struct catalog_action *out, char *err, size_t errlen)
{
	struct catalog_file f;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&f, 0, sizeof(f));
	if (!cmdbus_valid_action(name)) {
		snprintf(err, errlen,
			 "%s: '%s' is not an action name "
			 "(^[a-z][a-z0-9_.-]{0,63}$)",
			 path, name);
		return -ERR_CONFIG;
	}
	snprintf(out->name, sizeof(out->name), "%s", name);
	rc = conf_defaults(catalog_options, &f, err, errlen);
	if (rc == 0)
		rc = conf_load_text(catalog_options, &f, path, text, len, err,
				    errlen);
	if (rc == 0)
		rc = build(out, &f, path, text, len, err, errlen);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	conf_free(catalog_options, &f);
	if (rc)
		catalog_action_fini(out);
	return rc;
}

/* ---- a command's args ---- */

int
catalog_prepare(const struct catalog_action *a, const char *args_json,
		struct cmdbus_exec_args *x, char *field, size_t fieldlen,
		char *msg, size_t msglen)
{
	const char *names[CATALOG_MAX_PARAMS], *vals[CATALOG_MAX_PARAMS];
	struct cmdbus_label *kv = NULL;
	struct cmdbus_diag diag;
	size_t n = 0;
	int rc = 0;

	memset(x, 0, sizeof(*x));
	memset(&diag, 0, sizeof(diag));
	field[0] = msg[0] = '\0';
	if (cmdbus_flat_args_decode(args_json, &kv, &n, &diag) != 0) {
		snprintf(field, fieldlen, "%s", diag.field);
		snprintf(msg, msglen, "%s", diag.message);
		cmdbus_labels_free(kv, n);
		return -ERR_MALFORMED;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct catalog_param *p = find_param(a, kv[i].key);
		char why[CATALOG_PATTERN_MAX + 64];

		snprintf(field, fieldlen, "args.%s", kv[i].key);
		if (!p) {
			snprintf(msg, msglen, "unknown parameter");
			rc = -ERR_MALFORMED;
		} else if (!catalog_value_ok(p, kv[i].value)) {
			catalog_rule_text(p, why, sizeof(why));
			snprintf(msg, msglen, "value is not %s", why);
			rc = -ERR_MALFORMED;
		}
	}
	for (size_t i = 0; i < a->nparams && rc == 0; i++) {
		const struct catalog_param *p = &a->params[i];
		size_t j;

		for (j = 0; j < n; j++)
			if (strcmp(kv[j].key, p->name) == 0)
				break;
		names[i] = p->name;
		vals[i] = j < n ? kv[j].value : p->def;
		if (!vals[i]) {
			snprintf(field, fieldlen, "args.%s", p->name);
			snprintf(msg, msglen, "required parameter is missing");
			rc = -ERR_MALFORMED;
		}
	}
	if (rc == 0) {
		x->argv = calloc(a->argc + 1, sizeof(char *));
		x->env = a->nenv ? calloc(a->nenv, sizeof(*x->env)) : NULL;
		if (!x->argv || (a->nenv && !x->env))
			rc = -ENOMEM;
	}
	for (size_t i = 0; i < a->argc && rc == 0; i++) {
		char bad[8];
		rc = catalog_substitute(a->argv[i], names, vals, a->nparams,
					&x->argv[i], bad, sizeof(bad));
		if (rc == 0)
			x->argc = i + 1;
	}
	for (size_t i = 0; i < a->nenv && rc == 0; i++) {
		x->env[i].key = strdup(a->env[i].key);
		x->env[i].value = strdup(a->env[i].value);
		x->nenv = i + 1;
		if (!x->env[i].key || !x->env[i].value)
			rc = -ENOMEM;
	}
	if (rc == -ENOMEM) {
		field[0] = '\0';
		snprintf(msg, msglen, "out of memory");
	} else if (rc == 0) {
		field[0] = msg[0] = '\0';
	}
	if (rc)
		cmdbus_exec_args_fini(x);
	cmdbus_labels_free(kv, n);
	return rc;
}
