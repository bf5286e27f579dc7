/* SPDX-License-Identifier: MIT */
/* Prometheus text exposition of the dispatcher's counters and gauges.
 * Counters live in the core (struct core_stats); gauges of jobs,
 * executions and devices are counted by the store when scraped, so that
 * they are true after a restart too. */
#include "metrics.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "cmdbus/proto.h"
#include "cmdbus/rest.h"
#include "core.h"

#define METRICS_MAX_TEXT (4u << 20)
#define ROUTE_MAX 64

struct metrics_route {
	char route[ROUTE_MAX];
	unsigned status;
	uint64_t n;
};

struct metrics {
	struct metrics_route *routes;
	size_t nroutes, cap;
	uint64_t commit_le[METRICS_COMMIT_BUCKETS]; /* not cumulative */
	uint64_t commit_inf, commit_count;
	uint64_t commit_sum_us;
};

/* Bucket bounds in microseconds, printed as seconds. */
static const uint64_t commit_bounds_us[METRICS_COMMIT_BUCKETS] = {
    100,   250,	  500,	 1000,	 2500,	 5000,
    10000, 25000, 50000, 100000, 250000, 1000000};

static struct metrics *
metrics_get(struct core *c)
{
	if (!c->metrics)
		c->metrics = calloc(1, sizeof *c->metrics);
	return c->metrics;
}

void
metrics_fini(struct core *c)
{
	if (!c->metrics)
		return;
	free(c->metrics->routes);
	free(c->metrics);
	c->metrics = NULL;
}

void
metrics_http_request(struct core *c, const char *route, unsigned status)
{
	struct metrics *m = metrics_get(c);
	if (!m || !route)
		return;
	for (size_t i = 0; i < m->nroutes; i++) {
		if (m->routes[i].status == status &&
		    strcmp(m->routes[i].route, route) == 0) {
			m->routes[i].n++;
			return;
		}
	}
	if (m->nroutes == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 16;
		struct metrics_route *nr =
		    realloc(m->routes, ncap * sizeof *nr);
		if (!nr)
			return;
		m->routes = nr;
		m->cap = ncap;
	}
	struct metrics_route *r = &m->routes[m->nroutes++];
	memset(r, 0, sizeof *r);
	size_t len = strlen(route);
	if (len >= sizeof r->route)
		len = sizeof r->route - 1;
	memcpy(r->route, route, len);
	r->status = status;
	r->n = 1;
}

void
metrics_commit_latency(struct core *c, uint64_t us)
{
	struct metrics *m = metrics_get(c);
	if (!m)
		return;
	m->commit_count++;
	m->commit_sum_us += us;
	for (size_t i = 0; i < METRICS_COMMIT_BUCKETS; i++) {
		if (us <= commit_bounds_us[i]) {
			m->commit_le[i]++;
			return;
		}
	}
	m->commit_inf++;
}

/* A label value as the exposition format wants it: backslash, double
 * quote and line feed escaped. */
static int
put_label_value(struct buf *b, const char *v)
{
	int rc = 0;
	for (const char *p = v; *p && rc == 0; p++) {
		if (*p == '\\')
			rc = buf_append_str(b, "\\\\");
		else if (*p == '"')
			rc = buf_append_str(b, "\\\"");
		else if (*p == '\n')
			rc = buf_append_str(b, "\\n");
		else
			rc = buf_append(b, p, 1);
	}
	return rc;
}

static int
family(struct buf *b, const char *name, const char *type, const char *help)
{
	return buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
			  type);
}

static int
counter(struct buf *b, const char *name, const char *help, uint64_t v)
{
	int rc = family(b, name, "counter", help);
	return rc < 0 ? rc
		      : buf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static int
gauge(struct buf *b, const char *name, const char *help, uint64_t v)
{
	int rc = family(b, name, "gauge", help);
	return rc < 0 ? rc
		      : buf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

/* One sample with one label. */
static int
labelled(struct buf *b, const char *name, const char *label, const char *value,
	 uint64_t v)
{
	int rc = buf_printf(b, "%s{%s=\"", name, label);
	if (rc == 0)
		rc = put_label_value(b, value);
	if (rc == 0)
		rc = buf_printf(b, "\"} %llu\n", (unsigned long long)v);
	return rc;
}

static int
render_counters(struct buf *b, const struct core_stats *s)
{
	int rc = 0;
#define C(name, help, v)                                                       \
	if (rc == 0)                                                           \
	rc = counter(b, name, help, v)
	C("cmdbus_jobs_created_total", "Jobs accepted by the REST API.",
	  s->jobs_created);
	C("cmdbus_publishes_total", "Commands handed to the broker.",
	  s->published);
	C("cmdbus_publish_errors_total", "Commands the broker client refused.",
	  s->publish_errors);
	C("cmdbus_retries_total",
	  "Commands published again by the retry timer or on reconnect.",
	  s->retries);
	C("cmdbus_messages_received_total", "Messages from the broker.",
	  s->received);
	C("cmdbus_results_total", "Results recorded as an execution's end.",
	  s->results);
	C("cmdbus_late_results_total",
	  "Results for an execution that had already ended.", s->late_results);
	C("cmdbus_journal_refusals_total",
	  "Commands an agent could not journal (REJECTED/journal_unavailable), "
	  "sent again.",
	  s->refusals);
	C("cmdbus_duplicate_reports_total", "Reports that changed nothing.",
	  s->duplicates);
	C("cmdbus_stale_status_total", "Status messages of an older run.",
	  s->stale_status);
	C("cmdbus_output_chunks_total",
	  "Live output chunks of known executions.", s->outputs);
	C("cmdbus_output_chunks_dropped_total",
	  "Live output chunks not kept: duplicates or past the cap.",
	  s->output_dropped);
	C("cmdbus_store_errors_total", "Database writes that failed.",
	  s->store_errors);
	C("cmdbus_pruned_executions_total",
	  "Finished executions removed by retention.", s->pruned_execs);
	C("cmdbus_pruned_jobs_total", "Finished jobs removed by retention.",
	  s->pruned_jobs);
#undef C
	if (rc < 0)
		return rc;

	/* Executions the dispatcher itself ended, by the state it chose. */
	rc = family(b, "cmdbus_dispatcher_declared_total", "counter",
		    "Executions the dispatcher ended itself, by state.");
	if (rc == 0)
		rc = labelled(b, "cmdbus_dispatcher_declared_total", "state",
			      "EXPIRED", s->expired);
	if (rc == 0)
		rc = labelled(b, "cmdbus_dispatcher_declared_total", "state",
			      "TIMED_OUT", s->timed_out);
	if (rc == 0)
		rc = labelled(b, "cmdbus_dispatcher_declared_total", "state",
			      "LOST", s->lost);
	if (rc < 0)
		return rc;

	static const char *const reasons[] = {
	    "too_large", "topic",  "envelope",	 "payload",  "type",
	    "unknown",	 "device", "cmd_sha256", "signature"};
	const uint64_t counts[] = {
	    s->drop_too_large, s->drop_topic, s->drop_envelope,
	    s->drop_payload,   s->drop_type,  s->drop_unknown,
	    s->drop_device,    s->drop_sha,   s->drop_signature};
	rc = family(b, "cmdbus_messages_dropped_total", "counter",
		    "Messages dropped, by reason (device and cmd_sha256 are "
		    "mismatches).");
	for (size_t i = 0; rc == 0 && i < sizeof counts / sizeof counts[0]; i++)
		rc = labelled(b, "cmdbus_messages_dropped_total", "reason",
			      reasons[i], counts[i]);
	return rc;
}

static int
render_store(struct buf *b, struct core *c)
{
	struct store_counts sc;
	int rc;

	memset(&sc, 0, sizeof sc);
	uint64_t now = clock_now_ms(c->clock);
	uint64_t stale_before =
	    now > c->cfg.device_stale_ms ? now - c->cfg.device_stale_ms : 0;
	int src = c->store.counts
		      ? c->store.counts(c->store.ud, stale_before, &sc)
		      : -ENOSYS;
	rc = gauge(b, "cmdbus_store_up",
		   "1 when the database could be read for this scrape.",
		   src == 0 ? 1 : 0);
	if (rc < 0 || src < 0)
		return rc;

	rc = family(b, "cmdbus_executions", "gauge",
		    "Executions in the database, by state.");
	for (int s = 0; rc == 0 && s < CMDBUS_STATE_COUNT; s++) {
		if (s == CMDBUS_STATE_ACCEPTED)
			continue; /* a wire state, never stored */
		rc = labelled(b, "cmdbus_executions", "state",
			      cmdbus_state_name((enum cmdbus_state)s),
			      sc.execs[s]);
	}
	if (rc == 0)
		rc = family(b, "cmdbus_jobs", "gauge",
			    "Jobs in the database, by state.");
	for (int s = 0; rc == 0 && s < STORE_JOB_STATES; s++)
		rc = labelled(b, "cmdbus_jobs", "state",
			      cmdbus_job_state_name((enum cmdbus_job_state)s),
			      sc.jobs[s]);
	if (rc == 0)
		rc = gauge(b, "cmdbus_devices", "Devices known.", sc.devices);
	if (rc == 0)
		rc = gauge(b, "cmdbus_devices_online",
			   "Devices whose last status said online.",
			   sc.devices_online);
	if (rc == 0)
		rc = gauge(b, "cmdbus_devices_stale",
			   "Online devices with no status for three "
			   "heartbeats.",
			   sc.devices_stale);
	if (rc == 0)
		rc = gauge(b, "cmdbus_outbox_inflight",
			   "Executions published and unfinished (within the "
			   "per-device window).",
			   sc.inflight);
	if (rc == 0)
		rc = gauge(b, "cmdbus_outbox_waiting",
			   "Executions waiting QUEUED for a window, never "
			   "sent.",
			   sc.waiting);
	return rc;
}

static int
render_commit(struct buf *b, const struct metrics *m)
{
	const char *name = "cmdbus_db_commit_seconds";
	int rc = family(b, name, "histogram",
			"Latency of durable database commits.");
	uint64_t cum = 0;
	for (size_t i = 0; rc == 0 && i < METRICS_COMMIT_BUCKETS; i++) {
		cum += m ? m->commit_le[i] : 0;
		uint64_t us = commit_bounds_us[i];
		rc = buf_printf(b, "%s_bucket{le=\"%llu.%06llu\"} %llu\n", name,
				(unsigned long long)(us / 1000000),
				(unsigned long long)(us % 1000000),
				(unsigned long long)cum);
	}
	uint64_t count = m ? m->commit_count : 0;
	uint64_t sum = m ? m->commit_sum_us : 0;
	if (rc == 0)
		rc = buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name,
				(unsigned long long)count);
	if (rc == 0)
		rc = buf_printf(b, "%s_sum %llu.%06llu\n%s_count %llu\n", name,
				(unsigned long long)(sum / 1000000),
				(unsigned long long)(sum % 1000000), name,
				(unsigned long long)count);
	return rc;
}

static int
render_http(struct buf *b, const struct metrics *m)
{
	const char *name = "cmdbus_http_requests_total";
	int rc =
	    family(b, name, "counter", "REST requests by route and status.");
	for (size_t i = 0; m && rc == 0 && i < m->nroutes; i++) {
		rc = buf_printf(b, "%s{route=\"", name);
		if (rc == 0)
			rc = put_label_value(b, m->routes[i].route);
		if (rc == 0)
			rc = buf_printf(b, "\",status=\"%u\"} %llu\n",
					m->routes[i].status,
					(unsigned long long)m->routes[i].n);
	}
	return rc;
}

int
metrics_render(struct core *c, char **out, size_t *len)
{
	struct buf b;
	int rc;

	*out = NULL;
	*len = 0;
	buf_init(&b, METRICS_MAX_TEXT);
	rc = render_counters(&b, &c->stats);
	if (rc == 0)
		rc = gauge(&b, "cmdbus_broker_connected",
			   "1 when the MQTT connection is up.",
			   c->bus.is_connected && c->bus.is_connected(c->bus.ud)
			       ? 1
			       : 0);
	if (rc == 0)
		rc = render_store(&b, c);
	if (rc == 0)
		rc = render_commit(&b, c->metrics);
	if (rc == 0)
		rc = render_http(&b, c->metrics);
	if (rc < 0) {
		buf_fini(&b);
		return rc;
	}
	*out = buf_steal(&b, len);
	return *out ? 0 : -ENOMEM;
}
