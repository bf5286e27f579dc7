/* SPDX-License-Identifier: MIT */
/* Many non-threaded libmosquitto clients on one epoll descriptor. A client
 * publishing inside a callback only queues its packet, so every pass ends
 * by writing whatever each touched client has queued; EPOLLOUT is armed
 * only while a socket refuses bytes. */
#include "mqtt_pool.h"

#include <errno.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bench_util.h"

#define CONNECT_AHEAD 48 /* connects outstanding; the broker's backlog is 100  \
			  */
#define EVENTS 256

struct pool_conn {
	struct pool *p;
	struct mosquitto *m;
	size_t idx;
	int fd;
	bool want_out; /* EPOLLOUT armed */
	bool dirty;    /* on the pool's list of clients to flush */
	bool connacked;
	bool subscribed;
	char topic[160];
	pool_msg_fn fn;
	void *ud;
};

struct pool {
	struct pool_opts o;
	int ep;
	struct pool_conn *conns;
	struct pool_conn **dirty; /* clients with packets queued */
	size_t ndirty;
	size_t n, max;
	size_t connacked, subscribed;
	uint64_t acked;
	uint64_t last_misc_ns;
};

static void
die(const char *what, int rc)
{
	fprintf(stderr, "mqtt: %s: %s\n", what,
		rc == MOSQ_ERR_ERRNO ? strerror(errno)
				     : mosquitto_strerror(rc));
	exit(1);
}

static void
arm(struct pool_conn *c, bool out)
{
	struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0u),
				 .data.ptr = c};

	if (c->want_out == out)
		return;
	if (epoll_ctl(c->p->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
		die("epoll_ctl", MOSQ_ERR_ERRNO);
	c->want_out = out;
}

/* Writes what the client has queued; arms EPOLLOUT for the rest. */
static void
flush(struct pool_conn *c)
{
	if (mosquitto_want_write(c->m)) {
		int rc = mosquitto_loop_write(c->m, 1);
		if (rc != MOSQ_ERR_SUCCESS)
			die("write", rc);
	}
	arm(c, mosquitto_want_write(c->m));
}

static void
on_connect(struct mosquitto *m, void *ud, int rc)
{
	struct pool_conn *c = ud;

	if (rc != 0) {
		fprintf(stderr, "mqtt: connection refused: %s\n",
			mosquitto_connack_string(rc));
		exit(1);
	}
	c->connacked = true;
	c->p->connacked++;
	if (c->topic[0] == '\0') {
		c->subscribed = true;
		c->p->subscribed++;
		return;
	}
	rc = mosquitto_subscribe(m, NULL, c->topic, 1);
	if (rc != MOSQ_ERR_SUCCESS)
		die("subscribe", rc);
}

static void
on_subscribe(struct mosquitto *m, void *ud, int mid, int n, const int *qos)
{
	struct pool_conn *c = ud;

	(void)m;
	(void)mid;
	if (n < 1 || qos[0] != 1) {
		fprintf(stderr, "mqtt: subscription to %s refused\n", c->topic);
		exit(1);
	}
	if (!c->subscribed) {
		c->subscribed = true;
		c->p->subscribed++;
	}
}

static void
on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
	struct pool_conn *c = ud;

	(void)m;
	if (c->fn)
		c->fn(c, msg->topic, msg->payload, (size_t)msg->payloadlen);
}

static void
on_publish(struct mosquitto *m, void *ud, int mid)
{
	struct pool_conn *c = ud;

	(void)m;
	(void)mid;
	c->p->acked++;
}

static void
on_disconnect(struct mosquitto *m, void *ud, int rc)
{
	(void)m;
	(void)ud;
	if (rc != 0) {
		fprintf(stderr, "mqtt: connection lost: %s\n",
			mosquitto_strerror(rc));
		exit(1);
	}
}

struct pool *
pool_new(const struct pool_opts *o, size_t max)
{
	struct pool *p = calloc(1, sizeof *p);

	if (!p || !(p->conns = calloc(max ? max : 1, sizeof *p->conns)) ||
	    !(p->dirty = calloc(max ? max : 1, sizeof *p->dirty))) {
		fprintf(stderr, "mqtt: out of memory\n");
		exit(1);
	}
	p->o = *o;
	p->max = max;
	p->ep = epoll_create1(EPOLL_CLOEXEC);
	if (p->ep < 0)
		die("epoll_create1", MOSQ_ERR_ERRNO);
	mosquitto_lib_init();
	return p;
}

void
pool_free(struct pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		mosquitto_disconnect(p->conns[i].m);
		mosquitto_destroy(p->conns[i].m);
	}
	close(p->ep);
	free(p->dirty);
	free(p->conns);
	free(p);
	mosquitto_lib_cleanup();
}

static void
start_one(struct pool *p, const char *topic_fmt, pool_msg_fn fn, void *ud)
{
	struct pool_conn *c = &p->conns[p->n];
	char id[96];
	int rc;

	c->p = p;
	c->idx = p->o.index_base + p->n;
	c->fn = fn;
	c->ud = ud;
	if (topic_fmt) {
		/* The format is the caller's constant with one %zu. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(c->topic, sizeof c->topic, topic_fmt, c->idx);
#pragma GCC diagnostic pop
	}
	snprintf(id, sizeof id, "%s-%zu", p->o.id_prefix, c->idx);
	c->m = mosquitto_new(id, true, c);
	if (!c->m)
		die("mosquitto_new", MOSQ_ERR_ERRNO);
	mosquitto_int_option(c->m, MOSQ_OPT_PROTOCOL_VERSION,
			     p->o.protocol == 311 ? MQTT_PROTOCOL_V311
						  : MQTT_PROTOCOL_V5);
	mosquitto_int_option(c->m, MOSQ_OPT_TCP_NODELAY, 1);
	/* No client-side cap on messages in flight either way: the window is
	 * the benchmark's to set. libmosquitto's default receive maximum of
	 * 20 would let the broker send an MQTT 5 client only 20
	 * unacknowledged messages at a time, which caps a pipelined requester
	 * near 10k round trips/s here whatever its window. */
	mosquitto_int_option(c->m, MOSQ_OPT_SEND_MAXIMUM, 0);
	mosquitto_int_option(c->m, MOSQ_OPT_RECEIVE_MAXIMUM, 65535);
	mosquitto_connect_callback_set(c->m, on_connect);
	mosquitto_subscribe_callback_set(c->m, on_subscribe);
	mosquitto_message_callback_set(c->m, on_message);
	mosquitto_publish_callback_set(c->m, on_publish);
	mosquitto_disconnect_callback_set(c->m, on_disconnect);
	rc = mosquitto_connect(c->m, p->o.host, (int)p->o.port, 60);
	if (rc != MOSQ_ERR_SUCCESS)
		die("connect", rc);
	c->fd = mosquitto_socket(c->m);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	if (epoll_ctl(p->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		die("epoll_ctl", MOSQ_ERR_ERRNO);
	p->n++;
	flush(c);
}

size_t
pool_connect(struct pool *p, size_t n, const char *topic_fmt, pool_msg_fn fn,
	     void *ud)
{
	size_t first = p->n, goal = p->n + n;

	if (goal > p->max) {
		fprintf(stderr, "mqtt: pool holds %zu connections\n", p->max);
		exit(1);
	}
	uint64_t deadline = bench_now_ns() + 120ull * 1000000000u;
	while (p->subscribed < goal) {
		while (p->n < goal && p->n - p->connacked < CONNECT_AHEAD)
			start_one(p, topic_fmt, fn, ud);
		pool_run_once(p, 10);
		if (bench_now_ns() > deadline) {
			fprintf(stderr,
				"mqtt: %zu of %zu connections ready after "
				"120 s\n",
				p->subscribed, goal);
			exit(1);
		}
	}
	return first;
}

static void
flush_dirty(struct pool *p)
{
	while (p->ndirty > 0) {
		struct pool_conn *c = p->dirty[--p->ndirty];
		c->dirty = false;
		flush(c);
	}
}

void
pool_run_once(struct pool *p, int timeout_ms)
{
	struct epoll_event ev[EVENTS];

	flush_dirty(p);
	int n = epoll_wait(p->ep, ev, EVENTS, timeout_ms);

	if (n < 0 && errno != EINTR)
		die("epoll_wait", MOSQ_ERR_ERRNO);
	for (int i = 0; i < n; i++) {
		struct pool_conn *c = ev[i].data.ptr;
		int rc;

		if (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
			rc = mosquitto_loop_read(c->m, 1);
			if (rc != MOSQ_ERR_SUCCESS)
				die("read", rc);
		}
		flush(c);
	}
	flush_dirty(p);
	/* Keepalives and retries, for every client once a second. */
	uint64_t now = bench_now_ns();
	if (now - p->last_misc_ns > 1000000000u) {
		p->last_misc_ns = now;
		for (size_t i = 0; i < p->n; i++)
			mosquitto_loop_misc(p->conns[i].m);
	}
}

void
pool_publish(struct pool_conn *c, const char *topic, const void *data,
	     size_t len)
{
	int rc = mosquitto_publish(c->m, NULL, topic, (int)len, data, 1, false);

	if (rc != MOSQ_ERR_SUCCESS)
		die("publish", rc);
	/* Inside a callback the packet is only queued (outside, it was
	 * written already, perhaps in part): the loop flushes it. */
	if (!c->dirty && mosquitto_want_write(c->m)) {
		c->dirty = true;
		c->p->dirty[c->p->ndirty++] = c;
	}
}

struct pool_conn *
pool_conn_at(struct pool *p, size_t i)
{
	return &p->conns[i];
}

size_t
pool_conn_index(const struct pool_conn *c)
{
	return c->idx;
}

void *
pool_conn_ud(const struct pool_conn *c)
{
	return c->ud;
}

uint64_t
pool_acked(const struct pool *p)
{
	return p->acked;
}
