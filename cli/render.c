/* SPDX-License-Identifier: MIT */
/* Tables, the progress line and times for the CLI's human output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render.h"

void
table_init(struct table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols > TABLE_MAX_COLS ? TABLE_MAX_COLS : ncols;
}

void
table_row(struct table *t, const char *const *cells)
{
	char **c;

	if (t->err != 0)
		return;
	c = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*c));
	if (c == NULL) {
		t->err = -ENOMEM;
		return;
	}
	t->cells = c;
	c += t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		c[i] =
		    render_first_line(cells[i] != NULL ? cells[i] : "-", 200);
		if (c[i] == NULL)
			t->err = -ENOMEM;
	}
	t->nrows++;
}

void
table_print(const struct table *t, FILE *f)
{
	size_t w[TABLE_MAX_COLS] = {0};

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];
			size_t n = s != NULL ? strlen(s) : 0;

			if (n > w[i])
				w[i] = n;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];

			if (s == NULL)
				s = "?";
			if (i + 1 == t->ncols)
				fprintf(f, "%s\n", s);
			else
				fprintf(f, "%-*s  ", (int)w[i], s);
		}
	}
}

void
table_fini(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

char *
render_first_line(const char *s, size_t max)
{
	size_t n = 0;
	char *out;

	while (s[n] != '\0' && s[n] != '\n' && n < max)
		n++;
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[n] = '\0';
	return out;
}

void
render_time(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "-");
}

void
progress_draw(const struct progress *p, FILE *f)
{
	fprintf(f,
		"\r\033[K%llu/%llu done  %llu succeeded  %llu failed  %llu "
		"offline  %llu.%llus",
		(unsigned long long)p->done, (unsigned long long)p->total,
		(unsigned long long)p->succeeded, (unsigned long long)p->failed,
		(unsigned long long)p->offline,
		(unsigned long long)(p->elapsed_ms / 1000),
		(unsigned long long)(p->elapsed_ms % 1000 / 100));
	fflush(f);
}

void
progress_clear(FILE *f)
{
	fputs("\r\033[K", f);
	fflush(f);
}
