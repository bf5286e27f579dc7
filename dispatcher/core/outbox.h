/* SPDX-License-Identifier: MIT */
/* Sending commands: an execution's payload is built once, at its first
 * publish (iat = that moment, exp = job creation + TTL), stored durably
 * before it goes out, and every later publish sends the same bytes. */
#ifndef DISPATCHER_OUTBOX_H
#define DISPATCHER_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "core.h"

/* Publishes the given executions when the bus is connected; terminal
 * ones are skipped. An execution whose exp has passed is not sent; one
 * that was never sent is declared EXPIRED. `job` is the job of all of
 * them when the caller has it, else NULL (jobs are loaded as needed).
 * Payloads built here are stored into execs[i].command. Returns how many
 * were handed to the bus, or a negative code when the store failed. */
int outbox_publish(struct core *c, struct exec_rec *execs, size_t n,
		   const struct job_rec *job);

/* Like outbox_publish; with resend false, executions already sent are
 * left alone (only waiting ones go out, into their window). A fresh
 * execution is sent only while its device has fewer than outbox_window
 * unfinished sent ones; one already sent that the agent ACCEPTED under
 * an older boot than the device's current one is not sent again (a
 * journal-less agent would run it twice; the sweep declares it LOST). */
int outbox_send(struct core *c, struct exec_rec *execs, size_t n,
		const struct job_rec *job, bool resend);

/* For a job being created: builds the payloads (execs[i].command, its
 * SHA-256 and iat = now) of the executions that go out at once, into
 * their devices' windows, so that the job's own transaction stores them
 * and one durable commit covers both. Nothing is sent; returns how many
 * were built (none while the bus is down: they go at the reconnect). */
size_t outbox_prepare(struct core *c, struct exec_rec *execs, size_t n,
		      const struct job_rec *job, uint64_t now);

/* After that commit: publishes the executions outbox_prepare built a
 * payload for. Returns how many went, or a negative code. */
int outbox_publish_prepared(struct core *c, struct exec_rec *execs, size_t n);

/* Serves one device: its waiting executions into its window, and with
 * republish, its sent and unfinished ones again. */
void outbox_device(struct core *c, const char *device, bool republish);

/* Publishes every unfinished execution again (after a (re)connect). */
void outbox_republish(struct core *c);

/* The broker's answer to message `mid`: PUBLISHED when accepted. */
void outbox_acked(struct core *c, int mid, bool ok);

#endif
