/* SPDX-License-Identifier: MIT */
/* Paging through GET /v1/jobs and GET /v1/devices. The cursor is opaque,
 * so it is percent-encoded whatever it holds; a server that hands back
 * the same cursor, or an empty page with a cursor, ends the walk rather
 * than looping for ever. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "page.h"

static int
append_encoded(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (; *s != '\0' && rc == 0; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[3] = {'%', hex[ch >> 4], hex[ch & 15]};

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL)
			rc = buf_append(b, s, 1);
		else
			rc = buf_append(b, esc, 3);
	}
	return rc;
}

static int
page_path(struct buf *b, const char *path, const char *query, uint64_t ask,
	  const char *cursor)
{
	int rc;

	buf_reset(b);
	rc = buf_printf(b, "%s?%s%slimit=%llu", path, query,
			*query != '\0' ? "&" : "", (unsigned long long)ask);
	if (rc == 0 && cursor != NULL) {
		rc = buf_append_str(b, "&cursor=");
		if (rc == 0)
			rc = append_encoded(b, cursor);
	}
	return rc;
}

int
page_list(const struct cli_ctx *c, const char *path, const char *query,
	  const char *member, uint64_t limit, uint64_t page, page_item_fn *fn,
	  void *arg, bool *more)
{
	struct buf url;
	char *cursor = NULL;
	uint64_t shown = 0;
	int rc = EXIT_OK;

	*more = false;
	buf_init(&url, 8192);
	for (;;) {
		struct cmdbus_jsonv *doc = NULL;
		const struct cmdbus_jnode *root, *items;
		const char *next;
		char *raw = NULL;
		uint64_t ask = page > 0 && page < PAGE_MAX ? page : PAGE_MAX;
		size_t n;

		if (limit > 0 && limit - shown < ask)
			ask = limit - shown;
		if (page_path(&url, path, query, ask, cursor) < 0) {
			fprintf(stderr, "cmdbus: the list's cursor is too "
					"long\n");
			rc = EXIT_FAILED;
			break;
		}
		if ((rc = api_call(c, "GET", url.data, NULL, &doc, &raw)) !=
		    EXIT_OK)
			break;
		root = cmdbus_jsonv_root(doc);
		items = cmdbus_jnode_get(root, member);
		n = cmdbus_jnode_len(items);
		if (c->json)
			printf("%s\n", raw);
		for (size_t i = 0; i < n && (limit == 0 || shown < limit);
		     i++, shown++)
			if (!c->json)
				fn(cmdbus_jnode_at(items, i), arg);
		next = api_str(root, "next_cursor");
		if (next == NULL || n == 0 ||
		    (cursor != NULL && strcmp(next, cursor) == 0)) {
			cmdbus_jsonv_free(doc);
			free(raw);
			break;
		}
		free(cursor);
		cursor = strdup(next);
		cmdbus_jsonv_free(doc);
		free(raw);
		if (cursor == NULL) {
			fprintf(stderr, "cmdbus: out of memory\n");
			rc = EXIT_FAILED;
			break;
		}
		if (limit > 0 && shown >= limit) {
			*more = true;
			break;
		}
	}
	free(cursor);
	buf_fini(&url);
	return rc;
}
