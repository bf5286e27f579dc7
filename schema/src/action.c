/* SPDX-License-Identifier: MIT */
/* Arguments of the built-in actions, decoded strictly so that a refusal
 * is a `bad_args` naming the parameter, and the `info` document. An
 * unknown parameter is refused rather than ignored: an argument the
 * agent would silently drop could change what the caller meant to run. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/action.h"
#include "common/err.h"
#include "decode.h"
#include "encode.h"

static int
parse_args(struct dec *d, const char *args_json, cJSON **root)
{
	int rc;

	rc = schema_dec_parse(d, args_json, args_json ? strlen(args_json) : 0,
			      CMDBUS_MAX_MESSAGE, root);
	if (rc < 0) {
		/* Arguments are a part of a message already sized and
		 * parsed; whatever is wrong with them is bad_args. */
		if (rc != -ENOMEM)
			d->diag->code = CMDBUS_E_BAD_ARGS;
		return rc == -ENOMEM ? rc : -ERR_MALFORMED;
	}
	if (!cJSON_IsObject(*root)) {
		cJSON_Delete(*root);
		*root = NULL;
		return schema_dec_fail(d, "",
				       "the arguments are not an object");
	}
	return 0;
}

/* Refuses any member not named in `known`. */
static int
only_known(struct dec *d, const cJSON *o, const char *const *known)
{
	for (const cJSON *c = o->child; c; c = c->next) {
		bool ok = false;
		for (size_t i = 0; known[i]; i++)
			if (strcmp(c->string, known[i]) == 0)
				ok = true;
		if (!ok)
			return schema_dec_fail(
			    d, c->string, "unknown parameter '%s'", c->string);
	}
	return 0;
}

static bool
valid_env_key(const char *s)
{
	size_t i;

	if (strlen(s) > 64)
		return false;
	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
	      s[0] == '_'))
		return false;
	for (i = 1; s[i]; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static int
dec_argv(struct dec *d, const cJSON *o, struct cmdbus_exec_args *a)
{
	const cJSON *arr = schema_json_get(o, "argv"), *c;
	size_t n;

	if (!arr)
		return schema_dec_fail(d, "argv",
				       "required parameter 'argv' is "
				       "missing");
	if (!cJSON_IsArray(arr))
		return schema_dec_fail(d, "argv", "'argv' must be an array");
	n = schema_dec_count(arr);
	if (n < 1 || n > CMDBUS_EXEC_MAX_ARGV)
		return schema_dec_fail(d, "argv", "'argv' holds 1..%d strings",
				       CMDBUS_EXEC_MAX_ARGV);
	a->argv = calloc(n + 1, sizeof(*a->argv));
	if (!a->argv)
		return -ENOMEM;
	for (c = arr->child; c; c = c->next) {
		char path[32];
		size_t len;
		const char *s = schema_json_str(c, &len);

		schema_dec_path_idx(path, sizeof(path), "argv", a->argc);
		if (!s)
			return schema_dec_fail(d, path, "'%s' must be a string",
					       path);
		if (schema_bytes_have_nul(s, len))
			return schema_dec_fail(
			    d, path, "'%s' must not contain NUL", path);
		if (a->argc == 0 && len == 0)
			return schema_dec_fail(d, path,
					       "'argv[0]' must not be empty");
		a->argv[a->argc] = schema_dec_strdup(s, len);
		if (!a->argv[a->argc])
			return -ENOMEM;
		a->argc++;
	}
	return 0;
}

static const struct dec_map_rule env_rule = {
    .valid_key = valid_env_key,
    .bad_key = "an environment name is [A-Za-z_][A-Za-z0-9_]*, at most 64 "
	       "bytes",
};

static int
dec_env(struct dec *d, const cJSON *o, struct cmdbus_exec_args *a)
{
	const cJSON *e = schema_json_get(o, "env");

	if (!e)
		return 0;
	if (!cJSON_IsObject(e))
		return schema_dec_fail(d, "env", "'env' must be an object");
	if (schema_dec_count(e) > CMDBUS_EXEC_MAX_ENV)
		return schema_dec_fail(d, "env",
				       "'env' holds at most %d variables",
				       CMDBUS_EXEC_MAX_ENV);
	return schema_dec_string_map(d, e, "env", &env_rule, &a->env, &a->nenv);
}

int
cmdbus_exec_args_decode(const char *args_json, struct cmdbus_exec_args *out,
			struct cmdbus_diag *diag)
{
	static const char *const known[] = {"argv", "stdin", "env", NULL};
	struct cmdbus_diag spare;
	struct dec d;
	cJSON *root = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	schema_dec_init(&d, diag, &spare, CMDBUS_E_BAD_ARGS);
	rc = parse_args(&d, args_json, &root);
	if (rc < 0)
		return rc;
	if ((rc = only_known(&d, root, known)) < 0 ||
	    (rc = dec_argv(&d, root, out)) < 0 ||
	    (rc = dec_env(&d, root, out)) < 0)
		goto done;
	if (schema_json_get(root, "stdin")) {
		rc = schema_dec_text(&d, root, "stdin", NULL, true, true,
				     &out->stdin_data.data,
				     &out->stdin_data.len);
		if (rc < 0)
			goto done;
		out->has_stdin = true;
	}
done:
	cJSON_Delete(root);
	return rc;
}

void
cmdbus_exec_args_fini(struct cmdbus_exec_args *a)
{
	if (!a)
		return;
	if (a->argv)
		for (size_t i = 0; i < a->argc; i++)
			free(a->argv[i]);
	free(a->argv);
	free(a->stdin_data.data);
	cmdbus_labels_free(a->env, a->nenv);
	memset(a, 0, sizeof(*a));
}

int
cmdbus_shell_args_decode(const char *args_json, char **script,
			 struct cmdbus_diag *diag)
{
	static const char *const known[] = {"script", NULL};
	struct cmdbus_diag spare;
	struct dec d;
	cJSON *root = NULL;
	char *s = NULL;
	size_t len = 0;
	int rc;

	*script = NULL;
	schema_dec_init(&d, diag, &spare, CMDBUS_E_BAD_ARGS);
	rc = parse_args(&d, args_json, &root);
	if (rc < 0)
		return rc;
	if ((rc = only_known(&d, root, known)) < 0 ||
	    (rc = schema_dec_text(&d, root, "script", NULL, true, false, &s,
				  &len)) < 0)
		goto done;
	if (len == 0) {
		free(s);
		s = NULL;
		rc =
		    schema_dec_fail(&d, "script", "'script' must not be empty");
		goto done;
	}
	*script = s;
done:
	cJSON_Delete(root);
	return rc;
}

static bool
nonempty(const char *s)
{
	return s[0] != '\0';
}

static const struct dec_map_rule flat_rule = {
    .valid_key = nonempty,
    .bad_key = "a parameter name is empty",
};

int
cmdbus_flat_args_decode(const char *args_json, struct cmdbus_label **out,
			size_t *n, struct cmdbus_diag *diag)
{
	struct cmdbus_diag spare;
	struct dec d;
	cJSON *root = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	schema_dec_init(&d, diag, &spare, CMDBUS_E_BAD_ARGS);
	rc = parse_args(&d, args_json, &root);
	if (rc < 0)
		return rc;
	rc = schema_dec_string_map(&d, root, "", &flat_rule, out, n);
	cJSON_Delete(root);
	return rc;
}

void
cmdbus_labels_free(struct cmdbus_label *l, size_t n)
{
	if (!l)
		return;
	for (size_t i = 0; i < n; i++) {
		free(l[i].key);
		free(l[i].value);
	}
	free(l);
}

int
cmdbus_info_encode(const struct cmdbus_info *info, char **out, size_t *outlen)
{
	struct sbuf b;

	schema_sbuf_init(&b);
	schema_sbuf_putc(&b, '{');
	/* Host names and os-release text are not promised to be UTF-8. */
	schema_enc_text(&b, "os", info->os);
	schema_enc_text(&b, "kernel", info->kernel);
	schema_enc_text(&b, "arch", info->arch);
	schema_enc_text(&b, "hostname", info->hostname);
	schema_enc_u64(&b, "uptime_s", info->uptime_s);
	schema_enc_key(&b, "load");
	schema_sbuf_putc(&b, '[');
	for (int i = 0; i < 3; i++) {
		double l = info->load[i];
		if (i)
			schema_sbuf_putc(&b, ',');
		schema_json_write_double(&b, isfinite(l) && l >= 0 ? l : 0);
	}
	schema_sbuf_putc(&b, ']');
	schema_enc_u64(&b, "mem_total_kb", info->mem_total_kb);
	schema_enc_u64(&b, "mem_avail_kb", info->mem_avail_kb);
	schema_enc_u64(&b, "disk_total_kb", info->disk_total_kb);
	schema_enc_u64(&b, "disk_avail_kb", info->disk_avail_kb);
	schema_sbuf_putc(&b, '}');
	return schema_enc_finish(&b, 0, out, outlen);
}
