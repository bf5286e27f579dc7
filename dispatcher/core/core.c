/* SPDX-License-Identifier: MIT */
/* The core's shared state and the bus events, and the release functions
 * of the records the ports exchange. */
#include "core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/topic.h"
#include "outbox.h"

int
core_init(struct core *c, const struct core_config *cfg,
	  const struct clock *clock, const struct store_port *store,
	  const struct bus_port *bus)
{
	memset(c, 0, sizeof *c);
	if (!cfg->prefix || !cmdbus_prefix_valid(cfg->prefix))
		return -EINVAL;
	c->cfg = *cfg;
	c->clock = clock;
	c->store = *store;
	c->bus = *bus;
	id_gen_init(&c->ids);
	return 0;
}

void
core_fini(struct core *c)
{
	if (c->pending) {
		for (size_t i = 0; i < CORE_MID_SLOTS; i++)
			free(c->pending[i]);
		free(c->pending);
		c->pending = NULL;
	}
}

void
core_bus_connected(struct core *c)
{
	outbox_republish(c);
}

void
core_bus_published(struct core *c, int mid, bool ok)
{
	outbox_acked(c, mid, ok);
}

void
job_rec_fini(struct job_rec *j)
{
	free(j->args_json);
	j->args_json = NULL;
}

void
exec_rec_fini(struct exec_rec *e)
{
	free(e->command);
	free(e->result);
	free(e->error_message);
	e->command = e->result = e->error_message = NULL;
}

void
exec_list_fini(struct exec_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		exec_rec_fini(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
device_rec_fini(struct device_rec *d)
{
	free(d->labels_json);
	free(d->actions_json);
	free(d->health_json);
	free(d->status);
	d->labels_json = d->actions_json = d->health_json = d->status = NULL;
}

void
device_list_fini(struct device_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		device_rec_fini(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
name_list_fini(struct name_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
