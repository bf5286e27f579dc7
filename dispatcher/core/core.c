/* SPDX-License-Identifier: MIT */
/* The core's shared state and the bus events, and the release functions
 * of the records the ports exchange. */
#include "core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/topic.h"
#include "hearing.h"
#include "metrics.h"
#include "outbox.h"
#include "progress.h"
#include "rollout.h"
#include "window.h"

int
core_init(struct core *c, const struct core_config *cfg,
	  const struct clock *clock, const struct store_port *store,
	  const struct bus_port *bus)
{
	memset(c, 0, sizeof *c);
	if (!cfg->prefix || !cmdbus_prefix_valid(cfg->prefix))
		return -EINVAL;
	c->cfg = *cfg;
	/* Zero means the default, so that a caller sets only what it
	 * needs (tests); the config file's defaults are the same. */
	if (!c->cfg.outbox_window)
		c->cfg.outbox_window = 16;
	if (!c->cfg.retry_initial_ms)
		c->cfg.retry_initial_ms = 10000;
	if (!c->cfg.retry_max_ms)
		c->cfg.retry_max_ms = 300000;
	if (c->cfg.retry_max_ms < c->cfg.retry_initial_ms)
		c->cfg.retry_max_ms = c->cfg.retry_initial_ms;
	if (!c->cfg.timeout_grace_ms)
		c->cfg.timeout_grace_ms = 30000;
	if (!c->cfg.lost_grace_ms)
		c->cfg.lost_grace_ms = 30000;
	if (!c->cfg.device_stale_ms)
		c->cfg.device_stale_ms = 90000;
	if (!c->cfg.prune_batch)
		c->cfg.prune_batch = 500;
	c->clock = clock;
	c->store = *store;
	c->bus = *bus;
	id_gen_init(&c->ids);
	return 0;
}

void
core_fini(struct core *c)
{
	metrics_fini(c);
	progress_fini(c);
	window_fini(c);
	rollout_fini(c);
	hearing_fini(c);
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
	hearing_bus_up(c, clock_now_ms(c->clock));
	outbox_republish(c);
	/* Rollouts of an earlier run, or whose releases could not go out
	 * while the broker was away, are decided again. */
	rollout_touch_all(c);
}

void
core_bus_published(struct core *c, int mid, bool ok)
{
	hearing_heard(c, clock_now_ms(c->clock), true);
	outbox_acked(c, mid, ok);
}

void
core_set_observer(struct core *c, core_observer_fn *fn, void *ud)
{
	c->observer = fn;
	c->observer_ud = ud;
}

void
core_notify_change(struct core *c, const char *exec_id, const char *job_id,
		   enum cmdbus_state state)
{
	if (c->observer)
		c->observer(c->observer_ud, exec_id, job_id, state);
}

void
job_rec_fini(struct job_rec *j)
{
	free(j->args_json);
	free(j->targets_json);
	j->args_json = j->targets_json = NULL;
}

void
job_list_fini(struct job_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		job_rec_fini(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
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

void
chunk_list_fini(struct chunk_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].data.data);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
