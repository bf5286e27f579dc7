/* SPDX-License-Identifier: MIT */
/* The agent's retained presence: online with labels, the actions it
 * accepts and a little health, or the bare offline form its will and a
 * clean shutdown publish. */
#include "core_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether the agent accepts an action, and so lists it in `actions`. */
static bool
accepts(const struct core *c, const struct action *a)
{
	return registry_enabled(c, a);
}

int
core_status(struct core *c, bool online, char **msg, size_t *len)
{
	struct cmdbus_msg m;
	struct cmdbus_status *s = &m.u.status;
	struct cmdbus_label *labels = NULL;
	struct cmdbus_action_desc *acts = NULL;
	char *payload = NULL;
	size_t plen = 0;
	int rc;

	memset(&m, 0, sizeof(m));
	m.type = CMDBUS_MSG_STATUS;
	snprintf(s->device, sizeof(s->device), "%s", c->device_id);
	snprintf(s->boot_id, sizeof(s->boot_id), "%s", c->boot_id);
	s->online = online;
	if (online) {
		struct cmdbus_info info;

		snprintf(s->agent, sizeof(s->agent), "cmdbus-agent/%s",
			 CMDBUS_AGENT_VERSION);
		s->at = clock_now_ms(c->clock);
		labels = calloc(c->nlabels + 1, sizeof(*labels));
		acts = calloc(c->nactions + 1, sizeof(*acts));
		if (!labels || !acts) {
			free(labels);
			free(acts);
			return -ENOMEM;
		}
		/* The arrays borrow the core's strings: encode only reads
		 * them, and they are freed here, not by cmdbus_msg_fini(). */
		for (size_t i = 0; i < c->nlabels; i++) {
			labels[i].key = c->label_keys[i];
			labels[i].value = c->label_values[i];
		}
		s->labels = labels;
		s->nlabels = c->nlabels;
		for (size_t i = 0; i < c->nactions; i++) {
			const struct action *a = &c->actions[i];
			if (!accepts(c, a))
				continue;
			memcpy(acts[s->nactions].name, a->name,
			       sizeof(a->name));
			acts[s->nactions].params = a->params;
			acts[s->nactions].nparams = a->nparams;
			s->nactions++;
		}
		s->actions = acts;
		memset(&info, 0, sizeof(info));
		if (c->ports.sysinfo(c->ports.ud, &info) == 0) {
			s->has_health = true;
			s->health.uptime_s = info.uptime_s;
			s->health.load1 = info.load[0];
			s->health.mem_avail_kb = info.mem_avail_kb;
			s->health.disk_avail_kb = info.disk_avail_kb;
		}
	}
	rc = cmdbus_msg_encode(&m, &payload, &plen);
	free(labels);
	free(acts);
	if (rc)
		return rc;
	rc = cmdbus_envelope_wrap(CMDBUS_KIND_STATUS, payload, plen,
				  c->sign_key, msg, len);
	free(payload);
	return rc;
}
