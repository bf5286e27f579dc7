/* SPDX-License-Identifier: MIT */
/* Bounded parsing of numbers, durations, sizes and booleans from text.
 * Every function takes the whole string: junk, signs where none belong,
 * empty input and values outside [min, max] are refused. No atoi. */
#ifndef CMDBUS_COMMON_PARSE_H
#define CMDBUS_COMMON_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Decimal digits only. 0, -EINVAL (not a number) or -ERANGE. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Optional leading '-', then decimal digits. */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* A duration with a unit: "250ms", "30s", "5m", "2h", "7d"; "0" alone is
 * allowed. The result is in milliseconds. 0, -EINVAL or -ERANGE. */
int parse_duration_ms(const char *s, uint64_t min_ms, uint64_t max_ms,
		      uint64_t *out_ms);

/* A size in bytes with an optional binary unit: "512", "64k", "64KiB",
 * "16M", "16MiB", "1G", "1GiB" (k/K = 1024). 0, -EINVAL or -ERANGE. */
int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* "true"/"false", "yes"/"no", "on"/"off", "1"/"0". 0 or -EINVAL. */
int parse_bool(const char *s, bool *out);

#endif
