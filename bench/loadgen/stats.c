/* SPDX-License-Identifier: MIT */
/* Every latency is kept and sorted at the end: exact percentiles, at 8
 * bytes a request. */
#include "stats.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

int
stats_add(struct stats *s, uint64_t us, int status, int ok)
{
	if (status < 0 || status >= 600)
		status = 0;
	s->status[status]++;
	if (ok)
		s->ok++;
	else
		s->errors++;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		uint64_t *n = realloc(s->us, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->us = n;
		s->cap = cap;
	}
	s->us[s->n++] = us;
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least q of them at or
 * below it. */
static double
pct_ms(const struct stats *s, double q)
{
	size_t rank;

	if (s->n == 0)
		return 0;
	rank = (size_t)(q * (double)s->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return (double)s->us[rank - 1] / 1000.0;
}

void
stats_print(struct stats *s, const char *kind, double seconds)
{
	bool first = true;

	qsort(s->us, s->n, sizeof(*s->us), cmp_u64);
	/* Fixed keys, numbers and a kind from a fixed set: no escaping. */
	printf("{\"event\":\"rest\",\"kind\":\"%s\",\"requests\":%llu,"
	       "\"ok\":%llu,\"errors\":%llu,\"seconds\":%.3f,\"rate\":%.1f,"
	       "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
	       "\"max_ms\":%.3f,\"status\":{",
	       kind, (unsigned long long)(s->ok + s->errors),
	       (unsigned long long)s->ok, (unsigned long long)s->errors,
	       seconds, seconds > 0 ? (double)s->ok / seconds : 0.0,
	       pct_ms(s, 0.50), pct_ms(s, 0.90), pct_ms(s, 0.99),
	       pct_ms(s, 1.0));
	for (int i = 0; i < 600; i++) {
		if (!s->status[i])
			continue;
		printf("%s\"%d\":%llu", first ? "" : ",", i,
		       (unsigned long long)s->status[i]);
		first = false;
	}
	printf("}}\n");
	fflush(stdout);
}

void
stats_fini(struct stats *s)
{
	free(s->us);
	s->us = NULL;
	s->n = s->cap = 0;
}
