/* SPDX-License-Identifier: MIT */
/* Pages of the REST lists: items already encoded by the view encoders,
 * wrapped with the cursor of the next page. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/rest.h"
#include "encode.h"

int
cmdbus_page_encode(const char *key, char *const *items, const size_t *lens,
		   size_t n, const char *next_cursor, char **out,
		   size_t *outlen)
{
	struct sbuf b;

	if (!key || (n && (!items || !lens)))
		return -EINVAL;
	schema_sbuf_init(&b);
	schema_sbuf_putc(&b, '{');
	schema_enc_key(&b, key);
	schema_sbuf_putc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			schema_sbuf_putc(&b, ',');
		/* The items come from this library's own encoders, so they
		 * are canonical already and need no second parse. */
		schema_sbuf_put(&b, items[i], lens[i]);
	}
	schema_sbuf_putc(&b, ']');
	if (next_cursor)
		schema_enc_text(&b, "next_cursor", next_cursor);
	else {
		schema_enc_key(&b, "next_cursor");
		schema_sbuf_puts(&b, "null");
	}
	schema_sbuf_putc(&b, '}');
	return schema_enc_finish(&b, 0, out, outlen);
}
