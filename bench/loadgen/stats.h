/* SPDX-License-Identifier: MIT */
/* Latency samples of the rest mode and the line that reports them. */
#ifndef LG_STATS_H
#define LG_STATS_H

#include <stddef.h>
#include <stdint.h>

struct stats {
	uint64_t *us; /* every latency, microseconds */
	size_t n, cap;
	uint64_t ok, errors;
	uint64_t status[600]; /* answers by HTTP status; 0: no answer */
};

/* 0 or -ENOMEM (the sample is then lost, and counted as an error). */
int stats_add(struct stats *s, uint64_t us, int status, int ok);
/* Prints the {"event":"rest",...} line. */
void stats_print(struct stats *s, const char *kind, double seconds);
void stats_fini(struct stats *s);

#endif
