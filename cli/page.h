/* SPDX-License-Identifier: MIT */
/* The REST lists read page by page: GET with limit and cursor, following
 * next_cursor until the list ends or enough items were shown. */
#ifndef CMDBUS_CLI_PAGE_H
#define CMDBUS_CLI_PAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "api.h"

/* The most a page may hold (docs/protocol.md, Lists). */
#define PAGE_MAX 500

/* Called with each item shown; the node lives only during the call. */
typedef void page_item_fn(const struct cmdbus_jnode *item, void *arg);

/* Reads the list at path (no query) with the filters in query (already
 * encoded, "" for none), whose pages hold their items in the array named
 * member. Each page asks for at most page items (0: PAGE_MAX) and never
 * for more than are left to show, so with limit N (0: all) at most N
 * items are requested. With c->json each page's body is printed as received,
 * one per line, and fn is not called. *more says whether the limit cut the list
 * short. EXIT_OK, or the status of the call that failed (reported on stderr).
 */
int page_list(const struct cli_ctx *c, const char *path, const char *query,
	      const char *member, uint64_t limit, uint64_t page,
	      page_item_fn *fn, void *arg, bool *more);

#endif
