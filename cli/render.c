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

/* What the line says of the rollout: the canary, the batch in progress
 * (the last one once everything is released), or the abort. */
static void
phase_text(const struct progress *p, char *buf, size_t len)
{
	if (strcmp(p->phase, "canary") == 0 || strcmp(p->phase, "aborted") == 0)
		snprintf(buf, len, "%s", p->phase);
	else if (strcmp(p->phase, "done") == 0)
		snprintf(buf, len, "batch %llu (last)",
			 (unsigned long long)p->batch);
	else
		snprintf(buf, len, "batch %llu", (unsigned long long)p->batch);
}

void
progress_text(const struct progress *p, char *buf, size_t len)
{
	/* U+00B7 MIDDLE DOT in UTF-8. */
	const char *sep = p->utf8 ? " \xc2\xb7 " : " - ";
	char phase[48] = "";

	if (p->phase != NULL)
		phase_text(p, phase, sizeof(phase));
	snprintf(buf, len,
		 "%s%s%llu/%llu done%s%llu ok%s%llu failed%s%llu offline%s"
		 "%llu.%llus",
		 phase, *phase != '\0' ? sep : "", (unsigned long long)p->done,
		 (unsigned long long)p->total, sep,
		 (unsigned long long)p->succeeded, sep,
		 (unsigned long long)p->failed, sep,
		 (unsigned long long)p->offline, sep,
		 (unsigned long long)(p->elapsed_ms / 1000),
		 (unsigned long long)(p->elapsed_ms % 1000 / 100));
}

void
progress_draw(const struct progress *p, FILE *f)
{
	char line[256];

	progress_text(p, line, sizeof(line));
	fprintf(f, "\r\033[K%s", line);
	fflush(f);
}

void
progress_clear(FILE *f)
{
	fputs("\r\033[K", f);
	fflush(f);
}
