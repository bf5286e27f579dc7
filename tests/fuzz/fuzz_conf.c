/* SPDX-License-Identifier: MIT */
/* Fuzzes the configuration parsers: common/conf.c driven by the
 * dispatcher's and the agent's option tables (files an operator or a
 * provisioning tool writes), and the agent's catalog files with the
 * command args a catalog action is then prepared with. A refusal must
 * give a reason; an accepted file must free cleanly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../dispatcher/config.h"
#include "../../edge-agent/config.h"
#include "cmdbus/action.h"
#include "core/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
dispatcher_conf(const char *text, size_t len, const char *extra)
{
	struct config c;
	char err[512] = "";

	memset(&c, 0, sizeof c);
	if (conf_defaults(config_options, &c, err, sizeof err) != 0)
		abort();
	if (conf_load_text(config_options, &c, "fuzz.conf", text, len, err,
			   sizeof err) == 0) {
		err[0] = '\0';
		if (config_validate(&c, err, sizeof err) != 0 && !err[0])
			abort();
	} else if (!err[0]) {
		abort();
	}
	/* A flag: "key=value" in the part after the NUL. */
	const char *eq = strchr(extra, '=');
	if (eq && (size_t)(eq - extra) < 64) {
		char key[64];
		memcpy(key, extra, (size_t)(eq - extra));
		key[eq - extra] = '\0';
		(void)conf_set(config_options, &c, key, eq + 1, err,
			       sizeof err);
	}
	conf_free(config_options, &c);
}

static void
agent_conf(const char *text, size_t len)
{
	struct agent_conf c;
	char err[512] = "";

	memset(&c, 0, sizeof c);
	if (conf_defaults(agent_conf_options, &c, err, sizeof err) != 0)
		abort();
	if (conf_load_text(agent_conf_options, &c, "fuzz.conf", text, len, err,
			   sizeof err) != 0 &&
	    !err[0])
		abort();
	conf_free(agent_conf_options, &c);
}

static void
catalog(const char *text, size_t len, const char *args)
{
	struct catalog_action a;
	struct cmdbus_exec_args x;
	char err[512] = "", field[128], msg[256];

	if (catalog_parse("fuzz", "/etc/cmdbus/catalog/fuzz.conf", text, len,
			  &a, err, sizeof err) != 0) {
		if (!err[0])
			abort();
		return;
	}
	if (catalog_prepare(&a, args[0] ? args : "{}", &x, field, sizeof field,
			    msg, sizeof msg) == 0) {
		if (x.argc < 1 || !x.argv[0] || x.argv[x.argc])
			abort();
		cmdbus_exec_args_fini(&x);
	}
	catalog_action_fini(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Input: SELECTOR TEXT [NUL EXTRA]; the selector byte picks the
	 * parser, EXTRA is a flag or a catalog action's args. */
	char *s;
	size_t len;
	const char *extra = "";

	if (size < 1)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	len = size - 1;
	char *nul = memchr(s, '\0', len);
	if (nul && nul < s + len) {
		extra = nul + 1;
		len = (size_t)(nul - s);
	}
	switch (data[0] % 3) {
	case 0:
		dispatcher_conf(s, len, extra);
		break;
	case 1:
		agent_conf(s, len);
		break;
	default:
		catalog(s, len, extra);
		break;
	}
	free(s);
	return 0;
}
