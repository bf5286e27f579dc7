/* SPDX-License-Identifier: MIT */
/* A firmware embedding libcmdbus-agent: it registers one handler,
 * `led.set`, whose parameter `state` must be `on` or `off`, and serves
 * commands until SIGTERM. Its handler gets the same checks and journal as
 * every other action; it only sets the LED and says what it did.
 *
 *   CMDBUS_MQTT_PASSWORD=... firmware_agent DEVICE_ID HOST PORT STATE_DIR
 *
 * (the password comes from the environment, not argv, which any local
 * user can read in ps). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/agent.h"

struct led {
	int on; /* stands for a GPIO line */
};

static struct cmdbus_agent *agent;

/* The agent checked args against the pattern before calling, so `state`
 * is present and is "on" or "off". */
static int
led_set(const char *args_json, struct cmdbus_agent_reply *reply, void *ud)
{
	struct led *led = ud;
	char state[8], line[64];
	int n;

	if (cmdbus_agent_arg(args_json, "state", state, sizeof(state)) != 0)
		return -1;
	led->on = strcmp(state, "on") == 0;
	n = snprintf(line, sizeof(line), "led %s\n", led->on ? "on" : "off");
	cmdbus_agent_reply_stdout(reply, line, (size_t)n);
	return 0; /* the exit status: SUCCEEDED */
}

static void
on_term(int signo)
{
	(void)signo;
	cmdbus_agent_stop(agent); /* async-signal-safe */
}

int
main(int argc, char **argv)
{
	static const struct cmdbus_agent_param led_params[] = {
	    {"state", "^(on|off)$", false},
	    {NULL, NULL, false},
	};
	struct cmdbus_agent_config cfg;
	struct led led = {0};
	struct sigaction sa;
	char err[256];
	int rc;

	if (argc != 5) {
		fprintf(stderr, "usage: %s DEVICE_ID HOST PORT STATE_DIR\n",
			argv[0]);
		return 2;
	}
	cmdbus_agent_config_defaults(&cfg);
	cfg.device_id = argv[1];
	cfg.mqtt_host = argv[2];
	cfg.mqtt_port = (unsigned)strtoul(argv[3], NULL, 10);
	cfg.mqtt_password = getenv("CMDBUS_MQTT_PASSWORD");
	cfg.state_dir = argv[4];
	if (cmdbus_agent_new(&cfg, &agent, err, sizeof(err)) != 0) {
		fprintf(stderr, "firmware_agent: %s\n", err);
		return 1;
	}
	rc = cmdbus_agent_register(agent, "led.set", led_set, led_params, &led);
	if (rc != 0) {
		fprintf(stderr, "firmware_agent: register led.set: %d\n", rc);
		cmdbus_agent_free(agent);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	rc = cmdbus_agent_run(agent);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	cmdbus_agent_free(agent);
	return rc == 0 ? 0 : 1;
}
