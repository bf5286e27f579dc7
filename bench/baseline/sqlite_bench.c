/* SPDX-License-Identifier: MIT */
/* bench-sqlite: the raw SQLite baseline. Inserts rows shaped like the
 * dispatcher's executions (the same columns and indexes, a command and a
 * result of realistic size) into a fresh database in WAL mode with
 * synchronous=FULL, committing every row or every 1,000 rows. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "common/clock.h"

static const char schema[] =
    "CREATE TABLE executions ("
    " id TEXT PRIMARY KEY NOT NULL, job TEXT NOT NULL,"
    " device TEXT NOT NULL, state TEXT NOT NULL,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " published_at INTEGER NOT NULL DEFAULT 0,"
    " finished_at INTEGER NOT NULL DEFAULT 0, exp_at INTEGER NOT NULL,"
    " iat INTEGER NOT NULL DEFAULT 0, command TEXT, cmd_sha256 TEXT,"
    " boot_id TEXT, result TEXT) STRICT;"
    "CREATE INDEX executions_job ON executions(job, id);"
    "CREATE INDEX executions_device ON executions(device, created_at);"
    "CREATE INDEX executions_state ON executions(state, created_at);";

static const char insert_sql[] =
    "INSERT INTO executions (id, job, device, state, created_at, updated_at,"
    " exp_at, iat, command, cmd_sha256, boot_id, result)"
    " VALUES (?1, ?2, ?3, 'SUCCEEDED', ?4, ?4, ?5, ?4, ?6, ?7, ?8, ?9)";

/* A ping command and its result as the dispatcher stores them. */
static const char command[] =
    "{\"type\":\"command\",\"id\":\"01KAKX5Q2M7H3ZP9D4V6N8R0TB\","
    "\"job\":\"01KAKX5Q2M7H3ZP9D4V6N8R0TA\",\"device\":\"lg-00042\","
    "\"iat\":1763700000000,\"exp\":1763786400000,\"timeout_ms\":30000,"
    "\"action\":\"ping\",\"args\":{},\"max_output\":65536,"
    "\"idempotent\":false,\"stream\":false}";
static const char result[] =
    "{\"type\":\"result\",\"id\":\"01KAKX5Q2M7H3ZP9D4V6N8R0TB\","
    "\"device\":\"lg-00042\",\"boot_id\":\"01KAKWZZ8S1N5C6J4Q2M3E7X9Y\","
    "\"state\":\"SUCCEEDED\",\"cmd_sha256\":\"3b2c5f0e1d4a6978b1c2d3e4f5a6"
    "b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e\",\"exit_code\":0,"
    "\"stdout\":\"pong\",\"stderr\":\"\",\"stdout_truncated\":false,"
    "\"stderr_truncated\":false,\"stdout_bytes\":4,\"stderr_bytes\":0,"
    "\"started_at\":1763700000001,\"finished_at\":1763700000001}";

static void
usage(FILE *f)
{
	fputs("usage: bench-sqlite --dir D --rows N --batch B\n"
	      "Inserts N execution-shaped rows into a new database in D (WAL,\n"
	      "synchronous=FULL), B rows per commit (1 or 1000, say), and\n"
	      "prints rows per second as one JSON object. Put D on the disk\n"
	      "the dispatcher would use: on a tmpfs a commit costs nothing.\n"
	      "The database is removed at the end.\n",
	      f);
}

static void
check(sqlite3 *db, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "bench-sqlite: %s: %s\n", what,
			db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	const char *dir = NULL;
	uint64_t rows = 10000, batch = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--dir")) {
			dir = bench_opt_arg(argc, argv, &i, a);
		} else if (!strcmp(a, "--rows")) {
			rows = bench_opt_u64(
			    a, bench_opt_arg(argc, argv, &i, a), 1, 100000000);
		} else if (!strcmp(a, "--batch")) {
			batch = bench_opt_u64(
			    a, bench_opt_arg(argc, argv, &i, a), 1, 1000000);
		} else {
			fprintf(stderr, "bench-sqlite: unknown option %s\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!dir) {
		usage(stderr);
		return 2;
	}

	char path[4096], wal[4200], shm[4200];
	snprintf(path, sizeof path, "%s/bench-sqlite-%ld.db", dir,
		 (long)getpid());
	snprintf(wal, sizeof wal, "%s-wal", path);
	snprintf(shm, sizeof shm, "%s-shm", path);
	unlink(path);

	sqlite3 *db = NULL;
	check(NULL,
	      sqlite3_open_v2(path, &db,
			      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
	      path);
	check(db,
	      sqlite3_exec(db,
			   "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			   "PRAGMA foreign_keys=ON;",
			   NULL, NULL, NULL),
	      "pragmas");
	check(db, sqlite3_exec(db, schema, NULL, NULL, NULL), "schema");

	sqlite3_stmt *ins = NULL, *begin = NULL, *commit = NULL;
	check(db, sqlite3_prepare_v2(db, insert_sql, -1, &ins, NULL),
	      "prepare");
	check(db, sqlite3_prepare_v2(db, "BEGIN", -1, &begin, NULL), "prepare");
	check(db, sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL),
	      "prepare");

	uint64_t wall = clock_now_ms(&clock_system);
	uint64_t t0 = bench_now_ns();
	for (uint64_t i = 0; i < rows; i++) {
		char id[32], job[32], dev[16];
		if (i % batch == 0) {
			check(db, sqlite3_step(begin), "begin");
			sqlite3_reset(begin);
		}
		/* Ids sort by time like ULIDs, so inserts go to the index's
		 * right edge as they do in the dispatcher. */
		snprintf(id, sizeof id, "01KAKX%020llu", (unsigned long long)i);
		snprintf(job, sizeof job, "01KAKJ%020llu",
			 (unsigned long long)i);
		snprintf(dev, sizeof dev, "lg-%05llu",
			 (unsigned long long)(i % 10000));
		sqlite3_bind_text(ins, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, job, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, dev, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 4, (sqlite3_int64)(wall + i));
		sqlite3_bind_int64(ins, 5, (sqlite3_int64)(wall + 86400000u));
		sqlite3_bind_text(ins, 6, command, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 7,
				  "3b2c5f0e1d4a6978b1c2d3e4f5a6b7c8d9e0f1a2b3c"
				  "4d5e6f708192a3b4c5d6e",
				  -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 8, "01KAKWZZ8S1N5C6J4Q2M3E7X9Y", -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(ins, 9, result, -1, SQLITE_STATIC);
		check(db, sqlite3_step(ins), "insert");
		sqlite3_reset(ins);
		if ((i + 1) % batch == 0 || i + 1 == rows) {
			check(db, sqlite3_step(commit), "commit");
			sqlite3_reset(commit);
		}
	}
	double secs = (double)(bench_now_ns() - t0) / 1e9;

	sqlite3_finalize(ins);
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	sqlite3_close(db);
	unlink(path);
	unlink(wal);
	unlink(shm);
	printf("{\"bench\":\"sqlite\",\"batch\":%llu,\"rows\":%llu,"
	       "\"seconds\":%.3f,\"rows_per_s\":%.0f}\n",
	       (unsigned long long)batch, (unsigned long long)rows, secs,
	       (double)rows / secs);
	return 0;
}
