/* SPDX-License-Identifier: MIT */
/* The action registry: the built-ins (ping, info, exec, shell), the
 * catalog actions of the configuration and the handlers a firmware
 * registers, with the whole-value patterns of their parameters compiled
 * once; what a run of each gets as argv; and the reply a handler fills. */
#include "core_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

static const struct {
	const char *name;
	enum action_kind kind;
} builtins[] = {
    {"ping", ACT_PING},
    {"info", ACT_INFO},
    {"exec", ACT_EXEC},
    {"shell", ACT_SHELL},
};

static void
action_fini(struct action *a)
{
	for (size_t i = 0; i < a->nparams; i++) {
		free(a->params[i].name);
		free(a->params[i].pattern);
		if (a->re)
			regfree(&a->re[i]);
	}
	free(a->params);
	free(a->re);
	free(a->optional);
	a->params = NULL;
	a->re = NULL;
	a->optional = NULL;
	a->nparams = 0;
	catalog_action_fini(a->cat);
	free(a->cat);
	a->cat = NULL;
}

int
registry_init(struct core *c)
{
	size_t n = sizeof(builtins) / sizeof(builtins[0]);

	c->actions = calloc(n, sizeof(*c->actions));
	if (!c->actions)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		snprintf(c->actions[i].name, sizeof(c->actions[i].name), "%s",
			 builtins[i].name);
		c->actions[i].kind = builtins[i].kind;
	}
	c->nactions = n;
	return 0;
}

void
registry_fini(struct core *c)
{
	for (size_t i = 0; i < c->nactions; i++)
		action_fini(&c->actions[i]);
	free(c->actions);
	c->actions = NULL;
	c->nactions = 0;
}

const struct action *
registry_find(const struct core *c, const char *name)
{
	for (size_t i = 0; i < c->nactions; i++)
		if (strcmp(c->actions[i].name, name) == 0)
			return &c->actions[i];
	return NULL;
}

/* Compiles a pattern so that it must match the whole value. */
static int
compile_whole(regex_t *re, const char *pattern)
{
	size_t n = strlen(pattern) + 5;
	char *anchored = malloc(n);
	int rc;

	if (!anchored)
		return -ENOMEM;
	snprintf(anchored, n, "^(%s)$", pattern);
	rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	return rc == 0 ? 0 : -EINVAL;
}

static int
action_set_params(struct action *a, const struct cmdbus_agent_param *params,
		  char *err, size_t errlen)
{
	size_t n = 0;

	while (params[n].name)
		n++;
	a->has_params = true;
	if (n == 0)
		return 0;
	a->params = calloc(n, sizeof(*a->params));
	a->re = calloc(n, sizeof(*a->re));
	a->optional = calloc(n, sizeof(*a->optional));
	if (!a->params || !a->re || !a->optional)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *name = params[i].name;
		const char *pat = params[i].pattern ? params[i].pattern : "";
		int rc;

		if (!cmdbus_valid_label(name)) {
			snprintf(err, errlen, "parameter name '%s' is invalid",
				 name);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(a->params[j].name, name) == 0) {
				snprintf(err, errlen,
					 "parameter '%s' declared twice", name);
				return -EINVAL;
			}
		}
		rc = compile_whole(&a->re[i], pat);
		if (rc) {
			snprintf(err, errlen,
				 "pattern of parameter '%s' does not compile",
				 name);
			return rc;
		}
		a->params[i].name = strdup(name);
		a->params[i].pattern = strdup(pat);
		a->optional[i] = params[i].optional;
		a->nparams = i + 1;
		if (!a->params[i].name || !a->params[i].pattern)
			return -ENOMEM;
	}
	return 0;
}

int
registry_add(struct core *c, const char *name, cmdbus_agent_handler_fn *fn,
	     const struct cmdbus_agent_param *params, void *ud, char *err,
	     size_t errlen)
{
	struct action a, *grown;
	int rc;

	if (!name || !cmdbus_valid_action(name) || !fn) {
		snprintf(err, errlen, "invalid action name or handler");
		return -EINVAL;
	}
	if (registry_find(c, name)) {
		snprintf(err, errlen, "action '%s' exists already", name);
		return -EEXIST;
	}
	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "%s", name);
	a.kind = ACT_HANDLER;
	a.fn = fn;
	a.ud = ud;
	if (params) {
		rc = action_set_params(&a, params, err, errlen);
		if (rc) {
			if (rc == -ENOMEM)
				snprintf(err, errlen, "out of memory");
			action_fini(&a);
			return rc;
		}
	}
	grown = realloc(c->actions, (c->nactions + 1) * sizeof(*grown));
	if (!grown) {
		action_fini(&a);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->actions = grown;
	c->actions[c->nactions++] = a;
	return 0;
}

int
registry_check_args(const struct action *a, const char *args_json, char *field,
		    size_t fieldlen, char *msg, size_t msglen)
{
	struct cmdbus_label *kv = NULL;
	struct cmdbus_diag diag;
	size_t n = 0;
	int rc = 0;

	if (!a->has_params)
		return 0;
	memset(&diag, 0, sizeof(diag));
	if (cmdbus_flat_args_decode(args_json, &kv, &n, &diag) != 0) {
		snprintf(field, fieldlen, "%s", diag.field);
		snprintf(msg, msglen, "%s", diag.message);
		cmdbus_labels_free(kv, n);
		return -ERR_MALFORMED;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t p;
		for (p = 0; p < a->nparams; p++)
			if (strcmp(a->params[p].name, kv[i].key) == 0)
				break;
		snprintf(field, fieldlen, "args.%s", kv[i].key);
		if (p == a->nparams) {
			snprintf(msg, msglen, "unknown parameter");
			rc = -ERR_MALFORMED;
		} else if (regexec(&a->re[p], kv[i].value, 0, NULL, 0) != 0) {
			snprintf(msg, msglen, "value does not match %s",
				 a->params[p].pattern);
			rc = -ERR_MALFORMED;
		}
	}
	/* Then the missing ones, in declaration order, as a catalog action
	 * names them. */
	for (size_t p = 0; p < a->nparams && rc == 0; p++) {
		size_t i;
		if (a->optional && a->optional[p])
			continue;
		for (i = 0; i < n; i++)
			if (strcmp(a->params[p].name, kv[i].key) == 0)
				break;
		if (i == n) {
			snprintf(field, fieldlen, "args.%s", a->params[p].name);
			snprintf(msg, msglen, "required parameter is missing");
			rc = -ERR_MALFORMED;
		}
	}
	if (rc == 0)
		field[0] = msg[0] = '\0';
	cmdbus_labels_free(kv, n);
	return rc;
}

int
cmdbus_agent_reply_exit_code(struct cmdbus_agent_reply *r, int code)
{
	if (!r || code < 0 || code > 255)
		return -EINVAL;
	r->exit_code = code;
	return 0;
}

static int
reply_append(struct cmdbus_agent_reply *r, struct output *o, const void *data,
	     size_t len)
{
	int rc;

	if (!data && len)
		return -EINVAL;
	rc = output_append(o, data, len);
	if (rc)
		r->nomem = true;
	return rc;
}

int
cmdbus_agent_reply_stdout(struct cmdbus_agent_reply *r, const void *data,
			  size_t len)
{
	if (!r)
		return -EINVAL;
	return reply_append(r, &r->out, data, len);
}

int
cmdbus_agent_reply_stderr(struct cmdbus_agent_reply *r, const void *data,
			  size_t len)
{
	if (!r)
		return -EINVAL;
	return reply_append(r, &r->err, data, len);
}

int
cmdbus_agent_reply_error(struct cmdbus_agent_reply *r, const char *message)
{
	char *copy;

	if (!r)
		return -EINVAL;
	copy = strdup(message ? message : "handler failed");
	if (!copy) {
		r->nomem = true;
		return -ENOMEM;
	}
	free(r->error);
	r->error = copy;
	return 0;
}

/* ---- what runs ---- */

bool
registry_enabled(const struct core *c, const struct action *a)
{
	switch (a->kind) {
	case ACT_EXEC:
		return c->exec_enabled;
	case ACT_SHELL:
		return c->shell_enabled;
	default:
		return true;
	}
}

bool
registry_spawns(const struct action *a)
{
	return a->kind == ACT_EXEC || a->kind == ACT_SHELL ||
	       a->kind == ACT_CATALOG;
}

/* Puts the run-as helper and the target ids before a catalog argv: the
 * helper drops to them and executes the rest (see cmdbus-runas.c). */
static int
prefix_runas(const struct core *c, const struct catalog_action *cat,
	     struct cmdbus_exec_args *x)
{
	char **argv = calloc(x->argc + 5, sizeof(char *));
	char uid[24], gid[24];

	if (!argv)
		return -ENOMEM;
	snprintf(uid, sizeof(uid), "%u", cat->uid);
	snprintf(gid, sizeof(gid), "%u", cat->gid);
	argv[0] = strdup(c->runas_helper);
	argv[1] = strdup(uid);
	argv[2] = strdup(gid);
	argv[3] = strdup("--");
	for (size_t i = 0; i < 4; i++) {
		if (!argv[i]) {
			for (size_t j = 0; j < 4; j++)
				free(argv[j]);
			free(argv);
			return -ENOMEM;
		}
	}
	memcpy(argv + 4, x->argv, x->argc * sizeof(char *));
	free(x->argv);
	x->argv = argv;
	x->argc += 4;
	return 0;
}

/* Applies a catalog action's own limits: timeout_ms is lowered to its
 * timeout (setting clamped) and max_output to its output cap. */
static void
apply_limits(const struct action *a, struct run_plan *p)
{
	if (a->kind != ACT_CATALOG)
		return;
	if (a->cat->timeout_ms && p->timeout_ms > a->cat->timeout_ms) {
		p->timeout_ms = a->cat->timeout_ms;
		p->clamped = true;
	}
	if (a->cat->max_output && p->max_output > a->cat->max_output)
		p->max_output = (size_t)a->cat->max_output;
}

/* Fills x for an exec or shell command. 0, -ERR_MALFORMED with d
 * filled, -ENOMEM. */
static int
prepare_builtin(const struct action *a, const char *args_json,
		struct cmdbus_exec_args *x, struct cmdbus_diag *d)
{
	char *script = NULL;

	if (a->kind == ACT_EXEC)
		return cmdbus_exec_args_decode(args_json, x, d) == 0
			   ? 0
			   : -ERR_MALFORMED;
	if (cmdbus_shell_args_decode(args_json, &script, d) != 0)
		return -ERR_MALFORMED;
	x->argv = calloc(4, sizeof(char *));
	if (!x->argv) {
		free(script);
		return -ENOMEM;
	}
	x->argv[0] = strdup("/bin/sh");
	x->argv[1] = strdup("-c");
	x->argv[2] = script;
	x->argc = 3;
	return x->argv[0] && x->argv[1] ? 0 : -ENOMEM;
}

int
registry_prepare(const struct core *c, const struct action *a,
		 const char *args_json, struct run_plan *p, char *field,
		 size_t fieldlen, char *msg, size_t msglen)
{
	struct cmdbus_diag d;
	const char *cwd = c->exec_cwd;
	int rc;

	memset(&p->x, 0, sizeof(p->x));
	p->cwd = NULL;
	memset(&d, 0, sizeof(d));
	field[0] = msg[0] = '\0';
	apply_limits(a, p);
	switch (a->kind) {
	case ACT_HANDLER:
		return registry_check_args(a, args_json, field, fieldlen, msg,
					   msglen);
	case ACT_EXEC:
	case ACT_SHELL:
		rc = prepare_builtin(a, args_json, &p->x, &d);
		if (rc == -ERR_MALFORMED) {
			snprintf(field, fieldlen, "%s", d.field);
			snprintf(msg, msglen, "%s", d.message);
			return rc;
		}
		break;
	case ACT_CATALOG:
		rc = catalog_prepare(a->cat, args_json, &p->x, field, fieldlen,
				     msg, msglen);
		if (rc == 0 && a->cat->run_as) {
			rc = c->runas_helper ? prefix_runas(c, a->cat, &p->x)
					     : -EPERM;
			if (rc)
				snprintf(msg, msglen,
					 rc == -EPERM
					     ? "no run-as helper configured"
					     : "out of memory");
		}
		if (a->cat->cwd)
			cwd = a->cat->cwd;
		break;
	default:
		return 0;
	}
	if (rc == 0) {
		/* Copied now: the action may be reloaded away before a
		 * queued run starts. */
		p->cwd = strdup(cwd);
		if (!p->cwd)
			rc = -ENOMEM;
	}
	return rc;
}

/* The status view of a catalog action's parameters. */
static int
catalog_status_params(struct action *a)
{
	const struct catalog_action *cat = a->cat;

	a->has_params = true;
	if (cat->nparams == 0)
		return 0;
	a->params = calloc(cat->nparams, sizeof(*a->params));
	if (!a->params)
		return -ENOMEM;
	for (size_t i = 0; i < cat->nparams; i++) {
		a->params[i].name = strdup(cat->params[i].name);
		a->params[i].pattern = strdup(cat->params[i].pattern);
		a->nparams = i + 1;
		if (!a->params[i].name || !a->params[i].pattern)
			return -ENOMEM;
	}
	return 0;
}

int
registry_set_catalog(struct core *c, struct catalog_action **v, size_t n,
		     char *err, size_t errlen)
{
	struct action *next;
	size_t keep = 0, k;

	for (size_t i = 0; i < n; i++) {
		const struct action *old = registry_find(c, v[i]->name);
		if (old && old->kind != ACT_CATALOG) {
			snprintf(err, errlen,
				 "catalog action '%s' would hide the %s "
				 "action of that name",
				 v[i]->name,
				 old->kind == ACT_HANDLER ? "registered"
							  : "built-in");
			return -EEXIST;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(v[j]->name, v[i]->name) == 0) {
				snprintf(err, errlen,
					 "catalog action '%s' declared twice",
					 v[i]->name);
				return -EEXIST;
			}
		}
	}
	for (size_t i = 0; i < c->nactions; i++)
		if (c->actions[i].kind != ACT_CATALOG)
			keep++;
	next = calloc(keep + n + 1, sizeof(*next));
	if (!next) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	k = 0;
	for (size_t i = 0; i < c->nactions; i++)
		if (c->actions[i].kind != ACT_CATALOG)
			next[k++] = c->actions[i];
	for (size_t i = 0; i < n; i++) {
		struct action *a = &next[k + i];
		snprintf(a->name, sizeof(a->name), "%s", v[i]->name);
		a->kind = ACT_CATALOG;
		a->cat = v[i];
		if (catalog_status_params(a) != 0) {
			/* Undo: the new entries give their catalog back. */
			for (size_t j = 0; j <= i; j++) {
				next[k + j].cat = NULL;
				action_fini(&next[k + j]);
			}
			free(next);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < c->nactions; i++)
		if (c->actions[i].kind == ACT_CATALOG)
			action_fini(&c->actions[i]);
	free(c->actions);
	c->actions = next;
	c->nactions = k + n;
	return 0;
}

int
core_set_catalog(struct core *c, struct catalog_action **v, size_t n, char *err,
		 size_t errlen)
{
	return registry_set_catalog(c, v, n, err, errlen);
}

int
cmdbus_agent_arg(const char *args_json, const char *name, char *buf,
		 size_t buflen)
{
	struct cmdbus_label *kv = NULL;
	struct cmdbus_diag diag;
	size_t n = 0;
	int rc = -ENOENT;

	if (!args_json || !name || !buf || buflen == 0)
		return -EINVAL;
	memset(&diag, 0, sizeof(diag));
	if (cmdbus_flat_args_decode(args_json, &kv, &n, &diag) != 0) {
		cmdbus_labels_free(kv, n);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(kv[i].key, name) != 0)
			continue;
		rc = strlen(kv[i].value) < buflen ? 0 : -ENOSPC;
		if (rc == 0)
			snprintf(buf, buflen, "%s", kv[i].value);
		break;
	}
	cmdbus_labels_free(kv, n);
	return rc;
}
