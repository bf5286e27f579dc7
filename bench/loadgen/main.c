/* SPDX-License-Identifier: MIT */
/* cmdbus-loadgen: the mode word, then the mode. Results go to stdout as
 * one JSON object per line; logs go to stderr. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "lg.h"

uint64_t
lg_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
lg_raise_nofile(void)
{
	struct rlimit rl;

	/* Thousands of connections per process: the soft limit of 1024 is
	 * the usual first wall, and the hard limit is ours to take. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			fprintf(stderr, "loadgen: setrlimit: %s\n",
				strerror(errno));
	}
}

int
main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		args_usage();
		return argc < 2 ? 2 : 0;
	}
	lg_raise_nofile();
	/* Results are read line by line by another program. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "agents") == 0) {
		struct lg_agents_opts o;

		if (args_agents(argc - 2, argv + 2, &o) != 0)
			return 2;
		return agents_run(&o);
	}
	if (strcmp(argv[1], "rest") == 0) {
		struct lg_rest_opts o;
		int rc;

		if (args_rest(argc - 2, argv + 2, &o) != 0)
			return 2;
		rc = rest_run(&o);
		args_rest_fini(&o);
		return rc;
	}
	fprintf(stderr, "loadgen: unknown mode '%s' (agents or rest)\n",
		argv[1]);
	return 2;
}
