/* SPDX-License-Identifier: MIT */
/* Following an execution's output. The event stream is parsed line by
 * line as the text/event-stream format says ("event:" and "data:" fields,
 * a blank line ends an event); every data line is one JSON object. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "follow.h"

#define SSE_MAX_LINE (1024u * 1024)

struct sse {
	const struct cli_ctx *c;
	char *line; /* the unfinished line, owned */
	size_t len, cap;
	char event[32];
	char *data; /* the current event's data, owned */
	int ended;
	int err;
};

static void
on_event(struct sse *s)
{
	struct cmdbus_jsonv *doc = NULL;
	const struct cmdbus_jnode *r;
	const char *stream, *text;
	size_t n = 0;

	if (s->data == NULL)
		return;
	if (s->c->json) {
		printf("%s\n", s->data);
		fflush(stdout);
	}
	if (strcmp(s->event, "end") == 0)
		s->ended = 1;
	if (s->c->json || strcmp(s->event, "output") != 0 ||
	    cmdbus_jsonv_parse(s->data, strlen(s->data), &doc, NULL, 0) < 0)
		return;
	r = cmdbus_jsonv_root(doc);
	stream = api_str(r, "stream");
	text = cmdbus_jnode_str(cmdbus_jnode_get(r, "data"), &n);
	if (text != NULL && stream != NULL) {
		FILE *f = strcmp(stream, "stderr") == 0 ? stderr : stdout;

		fwrite(text, 1, n, f);
		fflush(f);
	} else if (cmdbus_jnode_get(r, "data_b64") != NULL) {
		fprintf(stderr,
			"cmdbus: %s output that is not text; see it "
			"with --json\n",
			stream != NULL ? stream : "some");
	}
	cmdbus_jsonv_free(doc);
}

static void
on_line(struct sse *s, char *line)
{
	char *v;

	if (*line == '\0') {
		on_event(s);
		free(s->data);
		s->data = NULL;
		s->event[0] = '\0';
		return;
	}
	if ((v = strchr(line, ':')) == NULL)
		return;
	*v++ = '\0';
	if (*v == ' ')
		v++;
	if (strcmp(line, "event") == 0) {
		snprintf(s->event, sizeof(s->event), "%s", v);
	} else if (strcmp(line, "data") == 0) {
		/* One data line per event here; a later one replaces it. */
		free(s->data);
		if ((s->data = strdup(v)) == NULL)
			s->err = -ENOMEM;
	}
}

static int
on_chunk(const char *p, size_t n, void *arg)
{
	struct sse *s = arg;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r')
			continue;
		if (s->len + 1 >= s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 256;
			char *l;

			if (cap > SSE_MAX_LINE ||
			    (l = realloc(s->line, cap)) == NULL)
				return s->err = -ENOMEM;
			s->line = l;
			s->cap = cap;
		}
		if (p[i] == '\n') {
			s->line[s->len] = '\0';
			on_line(s, s->line);
			s->len = 0;
		} else {
			s->line[s->len++] = p[i];
		}
	}
	return s->err;
}

/* A server that answers ?follow=1 once, with the output view. */
static int
follow_view(const struct cli_ctx *c, const struct http_reply *r)
{
	struct cmdbus_jsonv *doc = NULL;

	if (cmdbus_jsonv_parse(r->body, r->len, &doc, NULL, 0) < 0) {
		fprintf(stderr, "cmdbus: the output answer is not JSON\n");
		return EXIT_FAILED;
	}
	if (c->json)
		printf("%s\n", r->body);
	else
		cmd_print_output(cmdbus_jsonv_root(doc));
	cmdbus_jsonv_free(doc);
	return EXIT_OK;
}

int
follow_output(const struct cli_ctx *c, const char *exec_id)
{
	struct sse s = {.c = c};
	struct http_reply r;
	struct cmdbus_jsonv *doc = NULL;
	char path[256], err[256];
	int rc;

	snprintf(path, sizeof(path), "/v1/executions/%s/output?follow=1",
		 exec_id);
	rc = http_stream(c->url, c->token, path, on_chunk, &s, &r, err,
			 sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "cmdbus: %s\n", err);
		rc = EXIT_USAGE;
	} else if (r.streamed) {
		if (s.err != 0) {
			fprintf(stderr, "cmdbus: out of memory\n");
			rc = EXIT_FAILED;
		} else if (!s.ended) {
			fprintf(stderr, "cmdbus: the output stream ended "
					"before the execution did\n");
			rc = EXIT_FAILED;
		} else {
			rc = EXIT_OK;
		}
	} else if (r.status >= 200 && r.status <= 299) {
		rc = follow_view(c, &r);
	} else {
		http_reply_fini(&r);
		/* Made again for its one-line explanation of the error. */
		snprintf(path, sizeof(path), "/v1/executions/%s/output",
			 exec_id);
		rc = api_call(c, "GET", path, NULL, &doc, NULL);
		cmdbus_jsonv_free(doc);
		if (rc == EXIT_OK)
			rc = EXIT_FAILED;
	}
	http_reply_fini(&r);
	free(s.line);
	free(s.data);
	return rc;
}
