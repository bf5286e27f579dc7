/* SPDX-License-Identifier: MIT */
/* Helpers shared by the baseline benchmarks: the monotonic clock, bounded
 * option parsing, percentiles and the file-descriptor limit. */
#include "bench_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "common/err.h"
#include "common/parse.h"

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
bench_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_max < BENCH_NOFILE_WANTED) {
		/* Only a privileged process may raise the hard limit; for
		 * others this fails and the hard limit stays the ceiling. */
		struct rlimit want = {BENCH_NOFILE_WANTED, BENCH_NOFILE_WANTED};
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			return BENCH_NOFILE_WANTED;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		/* Failure leaves the old limit, which the caller reports. */
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	return (uint64_t)rl.rlim_cur;
}

uint64_t
bench_opt_u64(const char *name, const char *value, uint64_t min, uint64_t max)
{
	uint64_t v;
	int rc = parse_u64(value, min, max, &v);

	if (rc < 0) {
		fprintf(stderr,
			"%s: '%s' is not an integer in %llu..%llu (%s)\n", name,
			value, (unsigned long long)min, (unsigned long long)max,
			err_str(rc));
		exit(2);
	}
	return v;
}

const char *
bench_opt_arg(int argc, char **argv, int *i, const char *name)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "%s needs a value (see --help)\n", name);
		exit(2);
	}
	*i += 1;
	return argv[*i];
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t
bench_quantile(uint64_t *v, size_t n, double q)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof *v, cmp_u64);
	size_t rank = (size_t)ceil(q * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}
