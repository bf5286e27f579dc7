/* SPDX-License-Identifier: MIT */
/* bench-responder: a bare libmosquitto ping responder, the floor against
 * which the real agent's CPU per command is compared. It subscribes to one
 * device's cmd topic, publishes its online status once, and answers every
 * command at once with a schema-valid SUCCEEDED result carrying the right
 * cmd_sha256: no journal, no reports, no checks beyond decoding. */
#include <errno.h>
#include <mosquitto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "common/clock.h"
#include "cmdbus/envelope.h"
#include "cmdbus/msg.h"
#include "cmdbus/topic.h"

struct responder {
	const char *prefix;
	const char *device;
	char boot_id[CMDBUS_ID_BUF];
	char cmd_topic[256], result_topic[256], status_topic[256];
	unsigned long long commands, errors;
	bool ready;
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(FILE *f)
{
	fputs("usage: bench-responder --host H --port P --device ID\n"
	      "       [--prefix cmdbus/v1] [--username U] [--protocol 5|311]\n"
	      "A bare ping responder for one device: answers every command on\n"
	      "PREFIX/ID/cmd with a SUCCEEDED result (stdout \"pong\") and\n"
	      "nothing else. Prints {\"event\":\"ready\",...} once subscribed\n"
	      "and online, and {\"bench\":\"responder\",\"commands\":N} when\n"
	      "SIGTERM or SIGINT stops it.\n",
	      f);
}

/* Wraps an encoded payload in an unsigned envelope. NULL on failure. */
static char *
envelope(enum cmdbus_kind kind, const struct cmdbus_msg *m, size_t *len)
{
	char *payload = NULL, *env = NULL;
	size_t plen = 0;

	if (cmdbus_msg_encode(m, &payload, &plen) == 0)
		(void)cmdbus_envelope_wrap(kind, payload, plen, NULL, &env,
					   len);
	free(payload);
	return env;
}

static int
publish_status(struct mosquitto *mosq, struct responder *r, bool online)
{
	struct cmdbus_action_desc ping = {.name = "ping"};
	struct cmdbus_msg m = {.type = CMDBUS_MSG_STATUS};
	size_t len = 0;
	int rc;

	snprintf(m.u.status.device, sizeof m.u.status.device, "%s", r->device);
	snprintf(m.u.status.boot_id, sizeof m.u.status.boot_id, "%s",
		 r->boot_id);
	m.u.status.online = online;
	if (online) {
		snprintf(m.u.status.agent, sizeof m.u.status.agent,
			 "bench-responder/%s", CMDBUS_VERSION);
		m.u.status.at = clock_now_ms(&clock_system);
		m.u.status.actions = &ping;
		m.u.status.nactions = 1;
	}
	char *env = envelope(CMDBUS_KIND_STATUS, &m, &len);
	if (!env)
		return -ENOMEM;
	rc = mosquitto_publish(mosq, NULL, r->status_topic, (int)len, env, 1,
			       true);
	free(env);
	return rc == MOSQ_ERR_SUCCESS ? 0 : -EIO;
}

static void
on_connect(struct mosquitto *mosq, void *ud, int rc)
{
	struct responder *r = ud;

	if (rc != 0) {
		fprintf(stderr, "bench-responder: refused: %s\n",
			mosquitto_connack_string(rc));
		stop = 1;
		return;
	}
	mosquitto_subscribe(mosq, NULL, r->cmd_topic, 1);
}

static void
on_subscribe(struct mosquitto *mosq, void *ud, int mid, int n, const int *qos)
{
	struct responder *r = ud;

	(void)mid;
	if (n < 1 || qos[0] != 1 || publish_status(mosq, r, true) < 0) {
		fprintf(stderr, "bench-responder: cannot subscribe or publish "
				"status\n");
		stop = 1;
		return;
	}
	if (!r->ready) {
		r->ready = true;
		printf("{\"event\":\"ready\",\"device\":\"%s\"}\n", r->device);
		fflush(stdout);
	}
}

static void
on_message(struct mosquitto *mosq, void *ud,
	   const struct mosquitto_message *msg)
{
	struct responder *r = ud;
	struct cmdbus_envelope env;
	struct cmdbus_msg in, out = {.type = CMDBUS_MSG_RESULT};
	char pong[] = "pong", empty[] = "";
	size_t len = 0;

	if (cmdbus_envelope_unwrap(CMDBUS_KIND_CMD, msg->payload,
				   (size_t)msg->payloadlen, NULL, 0, &env,
				   NULL) != 0) {
		r->errors++;
		return;
	}
	if (cmdbus_msg_decode(env.payload, env.payload_len, &in, NULL) != 0 ||
	    in.type != CMDBUS_MSG_COMMAND) {
		if (in.type == CMDBUS_MSG_CANCEL)
			cmdbus_msg_fini(&in);
		else
			r->errors++;
		cmdbus_envelope_fini(&env);
		return;
	}
	struct cmdbus_result *res = &out.u.result;
	uint64_t now = clock_now_ms(&clock_system);
	memcpy(res->id, in.u.command.id, sizeof res->id);
	snprintf(res->device, sizeof res->device, "%s", r->device);
	memcpy(res->boot_id, r->boot_id, sizeof res->boot_id);
	res->state = CMDBUS_STATE_SUCCEEDED;
	cmdbus_sha256_hex(env.payload, env.payload_len, res->cmd_sha256);
	res->has_exit_code = true;
	res->has_streams = true;
	res->out.kept.data = pong;
	res->out.kept.len = 4;
	res->out.bytes = 4;
	res->err.kept.data = empty;
	res->has_started_at = true;
	res->started_at = now;
	res->finished_at = now;
	cmdbus_msg_fini(&in);
	cmdbus_envelope_fini(&env);

	char *wire = envelope(CMDBUS_KIND_RESULT, &out, &len);
	if (!wire || mosquitto_publish(mosq, NULL, r->result_topic, (int)len,
				       wire, 1, false) != MOSQ_ERR_SUCCESS)
		r->errors++;
	else
		r->commands++;
	free(wire);
}

int
main(int argc, char **argv)
{
	struct responder r = {.prefix = "cmdbus/v1"};
	const char *host = NULL, *username = NULL;
	unsigned port = 0;
	int protocol = 5;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--host")) {
			host = bench_opt_arg(argc, argv, &i, a);
		} else if (!strcmp(a, "--port")) {
			port = (unsigned)bench_opt_u64(
			    a, bench_opt_arg(argc, argv, &i, a), 1, 65535);
		} else if (!strcmp(a, "--prefix")) {
			r.prefix = bench_opt_arg(argc, argv, &i, a);
		} else if (!strcmp(a, "--device")) {
			r.device = bench_opt_arg(argc, argv, &i, a);
		} else if (!strcmp(a, "--username")) {
			username = bench_opt_arg(argc, argv, &i, a);
		} else if (!strcmp(a, "--protocol")) {
			protocol = (int)bench_opt_u64(
			    a, bench_opt_arg(argc, argv, &i, a), 5, 311);
		} else {
			fprintf(stderr, "bench-responder: unknown option %s\n",
				a);
			usage(stderr);
			return 2;
		}
	}
	if (!host || !port || !r.device || (protocol != 5 && protocol != 311)) {
		usage(stderr);
		return 2;
	}
	if (cmdbus_topic_build(r.cmd_topic, sizeof r.cmd_topic, r.prefix,
			       r.device, CMDBUS_KIND_CMD) < 0 ||
	    cmdbus_topic_build(r.result_topic, sizeof r.result_topic, r.prefix,
			       r.device, CMDBUS_KIND_RESULT) < 0 ||
	    cmdbus_topic_build(r.status_topic, sizeof r.status_topic, r.prefix,
			       r.device, CMDBUS_KIND_STATUS) < 0) {
		fprintf(stderr, "bench-responder: invalid prefix or device\n");
		return 2;
	}
	/* A boot id unique enough for a benchmark: the time and the pid. */
	snprintf(r.boot_id, sizeof r.boot_id, "bench-%llx-%lx",
		 (unsigned long long)clock_now_ms(&clock_system),
		 (long)getpid());

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	mosquitto_lib_init();
	struct mosquitto *mosq = mosquitto_new(r.device, true, &r);
	if (!mosq) {
		fprintf(stderr, "bench-responder: out of memory\n");
		return 1;
	}
	mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION,
			     protocol == 311 ? MQTT_PROTOCOL_V311
					     : MQTT_PROTOCOL_V5);
	mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_callback_set(mosq, on_connect);
	mosquitto_subscribe_callback_set(mosq, on_subscribe);
	mosquitto_message_callback_set(mosq, on_message);
	if (username)
		mosquitto_username_pw_set(mosq, username, NULL);
	{
		/* The will: an offline status, retained. */
		struct cmdbus_msg m = {.type = CMDBUS_MSG_STATUS};
		size_t len = 0;
		snprintf(m.u.status.device, sizeof m.u.status.device, "%s",
			 r.device);
		memcpy(m.u.status.boot_id, r.boot_id, sizeof r.boot_id);
		char *will = envelope(CMDBUS_KIND_STATUS, &m, &len);
		if (will)
			mosquitto_will_set(mosq, r.status_topic, (int)len, will,
					   1, true);
		free(will);
	}
	int rc = mosquitto_connect(mosq, host, (int)port, 30);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "bench-responder: connect %s:%u: %s\n", host,
			port, mosquitto_strerror(rc));
		return 1;
	}
	while (!stop) {
		rc = mosquitto_loop(mosq, 200, 1);
		if (rc != MOSQ_ERR_SUCCESS && !stop) {
			fprintf(stderr, "bench-responder: %s; reconnecting\n",
				mosquitto_strerror(rc));
			usleep(100000);
			mosquitto_reconnect(mosq);
		}
	}
	/* A clean shutdown says offline, as an agent does. */
	if (publish_status(mosq, &r, false) == 0)
		for (int i = 0; i < 5 && mosquitto_want_write(mosq); i++)
			mosquitto_loop(mosq, 20, 1);
	mosquitto_disconnect(mosq);
	mosquitto_destroy(mosq);
	mosquitto_lib_cleanup();
	printf("{\"bench\":\"responder\",\"commands\":%llu,\"errors\":%llu}\n",
	       r.commands, r.errors);
	return 0;
}
