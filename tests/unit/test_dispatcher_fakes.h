/* SPDX-License-Identifier: MIT */
/* Fakes of the dispatcher core's ports for unit tests: an in-memory store
 * with failure injection and a bus that records what it was given. */
#ifndef TEST_DISPATCHER_FAKES_H
#define TEST_DISPATCHER_FAKES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ports.h"

struct fake_store {
	struct job_rec *jobs;
	size_t njobs;
	struct exec_rec *execs;
	size_t nexecs;
	struct device_rec *devs;
	size_t ndevs;
	/* Failure injection: the next call of that kind returns the code
	 * (then the field is cleared). */
	int fail_job_create;
	int fail_set_commands;
	int fail_exec_change;
	int conflict_once;     /* exec_change answers -ERR_CONFLICT once */
	unsigned exec_changes; /* successful state changes */
	unsigned set_commands_calls; /* exec_set_commands calls (commits) */
	/* Group commit: refused unless group_commit is set; writes apply at
	 * once all the same (there is nothing to roll back here). */
	bool group_commit;
	unsigned batch_ends; /* batch_end calls that committed something */
	int fail_batch_end;  /* the next batch_end returns this */
	bool batch_written;  /* a write came while batch was on */
	bool batch_on;
	/* Jobs created in the open batch (from these counts on), taken
	 * back when its end fails; other writes are not. */
	bool batch_jobs;
	size_t batch_njobs, batch_nexecs;
};

void fake_store_init(struct fake_store *fs);
void fake_store_fini(struct fake_store *fs);
void fake_store_port(struct fake_store *fs, struct store_port *out);
/* Direct access for assertions; NULL when absent. */
struct exec_rec *fake_store_exec(struct fake_store *fs, const char *id);
struct job_rec *fake_store_job(struct fake_store *fs, const char *id);
struct device_rec *fake_store_device(struct fake_store *fs, const char *id);
/* Adds a known device with labels given as "k=v" strings. */
void fake_store_add_device(struct fake_store *fs, const char *id,
			   const char *const *labels, size_t n);

struct fake_msg {
	char topic[256];
	char *payload; /* owned, NUL-terminated */
	size_t len;
	int qos;
	uint32_t expiry_s;
	int mid;
};

struct fake_bus {
	bool connected;
	int next_mid;
	int fail; /* publish returns this when non-zero */
	struct fake_msg *msgs;
	size_t n;
};

void fake_bus_init(struct fake_bus *b);
void fake_bus_fini(struct fake_bus *b);
void fake_bus_port(struct fake_bus *b, struct bus_port *out);
/* Forgets the recorded messages. */
void fake_bus_clear(struct fake_bus *b);

#endif
