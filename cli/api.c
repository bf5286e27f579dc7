/* SPDX-License-Identifier: MIT */
/* REST calls with their errors explained: connection refused, 401 (the
 * token), 404 (what was not found), 400 (with the field at fault) and the
 * rest by status and the server's message. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

static void
report_error(const struct cli_ctx *c, const char *path,
	     const struct http_reply *r)
{
	struct cmdbus_jsonv *doc = NULL;
	const struct cmdbus_jnode *e = NULL;
	const char *msg = NULL, *field = NULL, *code = NULL;

	if (cmdbus_jsonv_parse(r->body, r->len, &doc, NULL, 0) == 0) {
		e = cmdbus_jnode_get(cmdbus_jsonv_root(doc), "error");
		code = api_str(e, "code");
		msg = api_str(e, "message");
		field = api_str(e, "field");
	}
	switch (r->status) {
	case 401:
		fprintf(stderr,
			"cmdbus: 401 unauthorized: the token was refused by %s "
			"(check --token, CMDBUS_TOKEN or the config file)\n",
			c->url);
		break;
	case 404:
		fprintf(stderr, "cmdbus: 404 not found: %s%s%s\n", path,
			msg != NULL ? ": " : "", msg != NULL ? msg : "");
		break;
	case 400:
		fprintf(stderr, "cmdbus: 400 bad request%s%s: %s\n",
			field != NULL ? " in field " : "",
			field != NULL ? field : "",
			msg != NULL ? msg : "(no reason given)");
		break;
	default:
		fprintf(stderr, "cmdbus: %ld %s: %s\n", r->status,
			code != NULL ? code : "error",
			msg != NULL ? msg : "(no reason given)");
		break;
	}
	cmdbus_jsonv_free(doc);
}

int
api_call(const struct cli_ctx *c, const char *method, const char *path,
	 const char *body, struct cmdbus_jsonv **doc, char **raw)
{
	struct http_reply r;
	char err[256];
	int rc;

	*doc = NULL;
	if (raw != NULL)
		*raw = NULL;
	/* Waits on the server are capped at a minute; leave room for it. */
	rc = http_request(c->url, c->token, method, path, body, 120, &r, err,
			  sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "cmdbus: %s\n", err);
		return EXIT_USAGE;
	}
	if (r.status < 200 || r.status > 299) {
		if (c->json && r.len > 0)
			fprintf(stdout, "%s\n", r.body);
		report_error(c, path, &r);
		http_reply_fini(&r);
		return EXIT_FAILED;
	}
	rc = cmdbus_jsonv_parse(r.body, r.len, doc, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr,
			"cmdbus: %s answered %ld with a body that is "
			"not JSON (%s)\n",
			path, r.status, err);
		http_reply_fini(&r);
		return EXIT_FAILED;
	}
	if (raw != NULL)
		*raw = r.body;
	else
		free(r.body);
	return EXIT_OK;
}

const char *
api_str(const struct cmdbus_jnode *n, const char *key)
{
	return cmdbus_jnode_str(cmdbus_jnode_get(n, key), NULL);
}

uint64_t
api_u64(const struct cmdbus_jnode *n, const char *key)
{
	int64_t v = 0;

	if (cmdbus_jnode_int(cmdbus_jnode_get(n, key), &v) < 0 || v < 0)
		return 0;
	return (uint64_t)v;
}

bool
api_id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		      ch == ':' || ch == '-'))
			return false;
	}
	return true;
}
