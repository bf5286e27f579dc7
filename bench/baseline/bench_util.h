/* SPDX-License-Identifier: MIT */
/* Helpers shared by the baseline benchmarks: the monotonic clock, bounded
 * option parsing, percentiles and the file-descriptor limit. libc only. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Nanoseconds on the monotonic clock. */
uint64_t bench_now_ns(void);

/* Raises the limit on open descriptors, so that one process can hold
 * thousands of connections: both limits to BENCH_NOFILE_WANTED when the
 * process may, else the soft limit to the hard one. Returns the new soft
 * limit. */
#define BENCH_NOFILE_WANTED 65536u
uint64_t bench_raise_nofile(void);

/* Parses `value` (the argument of option `name`) as an integer within
 * [min, max]; on junk or a value out of range prints why and exits 2,
 * since a benchmark cannot run with a wrong option. */
uint64_t bench_opt_u64(const char *name, const char *value, uint64_t min,
		       uint64_t max);

/* Returns argv[*i + 1] and advances *i, or prints that `name` needs a value
 * and exits 2. */
const char *bench_opt_arg(int argc, char **argv, int *i, const char *name);

/* Sorts v[0..n) in place and returns the q-th quantile (0 <= q <= 1) by
 * the nearest-rank method; 0 when n is 0. */
uint64_t bench_quantile(uint64_t *v, size_t n, double q);

#endif
