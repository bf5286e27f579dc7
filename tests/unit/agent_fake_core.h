/* SPDX-License-Identifier: MIT */
/* The agent core's fake ports and fake clock, shared by the unit tests
 * that drive the core through messages: what was published, what was
 * asked to spawn or terminate, and helpers that build commands and read
 * answers back. */
#ifndef CMDBUS_TEST_AGENT_FAKE_CORE_H
#define CMDBUS_TEST_AGENT_FAKE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_core.h"
#include "cmdbus/envelope.h"
#include "cmdbus/msg.h"
#include "common/clock.h"

#define NOW 1800000000000ull
#define SKEW 60000ull
#define BOOT "01JBOOT0000000000000000000"
#define MAX_PUBS 64

struct pub {
	enum cmdbus_kind kind;
	char *msg;
	size_t len;
	bool retain;
};

/* What the fake ports saw, reset by tc_start(). */
struct tc {
	struct clock_fake clk;
	struct core *core;
	struct pub pubs[MAX_PUBS];
	size_t npubs;
	int spawn_calls;
	int spawn_rc;
	uint64_t last_token;
	uint64_t last_timeout;
	size_t last_max_output;
	char argv[12][128]; /* of the last spawn */
	size_t argc;
	char cwd[64];
	char last_env[8][128];
	size_t nenv;
	char last_stdin[64];
	bool last_has_stdin;
	int terminate_calls;
	uint64_t last_terminated;
	int handler_calls;
	struct cmdbus_msg msg_scratch;
};

extern struct tc T;
/* max_running of the next tc_start(); 0: the core's default. */
extern size_t tc_max_running;
/* When set, called by tc_start() on the configuration before the core is
 * created, to change what a test needs. */
extern void (*tc_adjust)(struct core_config *cfg);

/* A core for device dev-1 at NOW with the fake ports, in T.core. */
void tc_start(bool exec_enabled, const struct cmdbus_key *const *trusted,
	      size_t ntrusted, uint64_t max_timeout_ms);
/* Frees the core and what was published (a cmocka teardown). */
int tc_teardown(void **state);
void tc_clear_pubs(struct tc *t);

/* A command payload, in a buffer reused by the next call. */
const char *command(const char *id, const char *device, uint64_t iat,
		    uint64_t exp, uint64_t timeout_ms, const char *action,
		    const char *args);
/* A command to dev-1, valid for an hour, timeout 30 s. */
const char *simple(const char *id, const char *action, const char *args);
/* A cancel of id, valid for a minute. */
const char *cancel(const char *id);

/* Wraps payload in an envelope (signed with key when given) and hands it
 * to core c as received on topic_device's cmd topic. */
void core_deliver(struct core *c, const char *topic_device, const char *payload,
		  const struct cmdbus_key *key);
/* The same to T.core; deliver() on dev-1's topic, unsigned. */
void deliver_on(const char *topic_device, const char *payload,
		const struct cmdbus_key *key);
void deliver(const char *payload);

/* Decodes published message i; release with cmdbus_msg_fini(). */
void pub_decode(size_t i, struct cmdbus_msg *m);
/* Asserts that message i is a result in `state` with error `code`. */
void expect_error(size_t i, enum cmdbus_state state, const char *code);
/* Asserts that message i is a report in `state`. */
void expect_report(size_t i, enum cmdbus_state state);
/* The error message of result i, malloc'd. */
char *error_message(size_t i);

/* Ends run `token` of core c with wait_status and empty streams. */
void core_exit_empty(struct core *c, uint64_t token, int wait_status);
/* The same for the run T.core spawned last. */
void exit_last(int wait_status);

/* A handler that counts its calls in *(int *)ud and echoes its args. */
int count_handler(const char *args, struct cmdbus_agent_reply *r, void *ud);

#endif
