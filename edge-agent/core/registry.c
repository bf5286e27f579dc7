/* SPDX-License-Identifier: MIT */
/* The action registry: the built-ins (ping, info, exec, shell) and the
 * handlers a firmware registers, with the whole-value patterns of their
 * parameters compiled once. Also the reply a handler fills. */
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
	a->params = NULL;
	a->re = NULL;
	a->nparams = 0;
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
	if (!a->params || !a->re)
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
