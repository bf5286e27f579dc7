/* SPDX-License-Identifier: MIT */
/* Minimal JSON writer: string escaping as RFC 8259 requires (quote,
 * backslash and control characters), integers as digits, doubles in
 * their shortest round-trip form. */
#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
jsonw_init(struct jsonw *w, struct buf *b)
{
	w->b = b;
	w->err = 0;
}

static void
put(struct jsonw *w, const char *p, size_t n)
{
	if (w->err == 0)
		w->err = buf_append(w->b, p, n);
}

void
jsonw_raw(struct jsonw *w, const char *s)
{
	put(w, s, strlen(s));
}

void
jsonw_str(struct jsonw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	put(w, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[7];
		size_t n = 0;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			n = 2;
		} else if (c < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		} else {
			continue;
		}
		put(w, run, (size_t)(s - run));
		put(w, esc, n);
		run = s + 1;
	}
	put(w, run, (size_t)(s - run));
	put(w, "\"", 1);
}

void
jsonw_key(struct jsonw *w, const char *key)
{
	jsonw_str(w, key);
	put(w, ":", 1);
}

void
jsonw_u64(struct jsonw *w, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
	put(w, tmp, (size_t)n);
}

void
jsonw_bool(struct jsonw *w, bool v)
{
	jsonw_raw(w, v ? "true" : "false");
}

void
jsonw_double(struct jsonw *w, double v)
{
	char tmp[40];
	int n = 0;

	if (!isfinite(v)) {
		jsonw_raw(w, "null");
		return;
	}
	/* The fewest significant digits that read back as the same value
	 * ("0.5", not "0.50000000000000000"). */
	for (int prec = 1; prec <= 17; prec++) {
		n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	put(w, tmp, (size_t)n);
}
