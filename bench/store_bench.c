/* SPDX-License-Identifier: MIT */
/* Measures what group commit buys: N results recorded through the SQLite
 * store one durable transaction each, then the same with one transaction
 * per simulated loop pass of K messages. Prints results per second. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/parse.h"
#include "store.h"

#define JOB_SIZE 100

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char result_payload[] =
    "{\"type\":\"result\",\"id\":\"X\",\"device\":\"dev-1\",\"boot_id\":"
    "\"01JD3BOOTAAAAAAAAAAAAAAAAA\",\"state\":\"SUCCEEDED\",\"exit_code\":0,"
    "\"stdout\":\"pong\",\"stderr\":\"\",\"stdout_truncated\":false,"
    "\"stderr_truncated\":false,\"stdout_bytes\":4,\"stderr_bytes\":0,"
    "\"finished_at\":1763700000000}";

/* N executions, in jobs of JOB_SIZE, each with a stored command. */
static int
populate(struct store_port *p, const char *tag, size_t n)
{
	struct exec_rec *e = calloc(JOB_SIZE, sizeof *e);
	struct exec_command *cmds = calloc(JOB_SIZE, sizeof *cmds);
	char args[] = "{}";
	int rc = 0;

	if (!e || !cmds)
		return -ENOMEM;
	for (size_t j = 0; rc == 0 && j * JOB_SIZE < n; j++) {
		struct job_rec job;
		size_t k =
		    n - j * JOB_SIZE < JOB_SIZE ? n - j * JOB_SIZE : JOB_SIZE;
		memset(&job, 0, sizeof job);
		snprintf(job.id, sizeof job.id, "job-%s-%08zu", tag, j);
		snprintf(job.action, sizeof job.action, "ping");
		job.args_json = args; /* borrowed: job_create copies */
		job.created_at = 1763700000000ull;
		job.timeout_ms = 30000;
		job.ttl_ms = 3600000;
		memset(e, 0, JOB_SIZE * sizeof *e);
		for (size_t i = 0; i < k; i++) {
			snprintf(e[i].id, sizeof e[i].id, "ex-%s-%08zu", tag,
				 j * JOB_SIZE + i);
			snprintf(e[i].job, sizeof e[i].job, "%s", job.id);
			snprintf(e[i].device, sizeof e[i].device, "dev-%zu",
				 i % 50);
			e[i].created_at = e[i].updated_at = job.created_at;
			e[i].exp_at = job.created_at + job.ttl_ms;
			cmds[i] = (struct exec_command){
			    .id = e[i].id,
			    .payload = "{\"type\":\"command\"}",
			    .sha256 = "00",
			    .iat = job.created_at};
		}
		rc = p->job_create(p->ud, &job, e, k);
		if (rc == 0)
			rc = p->exec_set_commands(p->ud, cmds, k);
	}
	free(e);
	free(cmds);
	return rc;
}

/* Records N results; with pass > 0, one group commit per `pass`
 * results. Returns results per second, or a negative value on error. */
static double
run(struct store_port *p, const char *tag, size_t n, size_t pass)
{
	char id[64];
	double t0 = now_s();

	for (size_t i = 0; i < n; i++) {
		if (pass && i % pass == 0)
			p->batch(p->ud, true);
		snprintf(id, sizeof id, "ex-%s-%08zu", tag, i);
		struct exec_change chg = {
		    .id = id,
		    .from = CMDBUS_STATE_QUEUED,
		    .to = CMDBUS_STATE_SUCCEEDED,
		    .at = 1763700000001ull,
		    .published = true,
		    .boot_id = "01JD3BOOTAAAAAAAAAAAAAAAAA",
		    .result = result_payload,
		    .complete_job = true,
		};
		if (p->exec_change(p->ud, &chg) < 0)
			return -1;
		if (pass && (i % pass == pass - 1 || i == n - 1)) {
			bool committed;
			uint64_t us;
			p->batch(p->ud, false);
			if (p->batch_end(p->ud, &committed, &us) < 0)
				return -1;
		}
	}
	return (double)n / (now_s() - t0);
}

int
main(int argc, char **argv)
{
	const char *dir = ".";
	uint64_t n = 5000, pass = 64;
	int opt;

	while ((opt = getopt(argc, argv, "n:k:d:")) != -1) {
		if (opt == 'n' && parse_u64(optarg, 1, 10000000, &n) == 0)
			continue;
		if (opt == 'k' && parse_u64(optarg, 1, 100000, &pass) == 0)
			continue;
		if (opt == 'd') {
			dir = optarg;
			continue;
		}
		fprintf(stderr,
			"usage: %s [-n RESULTS] [-k PER_PASS] "
			"[-d DIR]\n",
			argv[0]);
		return 2;
	}
	log_init("bench", LOG_LVL_ERROR, false);

	char path[4096], err[256] = "";
	snprintf(path, sizeof path, "%s/bench-%ld.db", dir, (long)getpid());
	struct store *s = NULL;
	struct store_port p;
	if (store_open(path, &s, err, sizeof err) < 0) {
		fprintf(stderr, "store_open: %s\n", err);
		return 1;
	}
	store_port(s, &p);
	if (populate(&p, "a", n) < 0 || populate(&p, "b", n) < 0) {
		fprintf(stderr, "populate failed\n");
		return 1;
	}
	double one = run(&p, "a", n, 0);
	double grouped = run(&p, "b", n, pass);
	printf("results=%llu per_pass=%llu\n", (unsigned long long)n,
	       (unsigned long long)pass);
	printf("commit per result:  %10.0f results/s\n", one);
	printf("commit per pass:    %10.0f results/s (%.1fx)\n", grouped,
	       grouped / one);
	store_close(s);
	char side[4200];
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
	return one > 0 && grouped > 0 ? 0 : 1;
}
