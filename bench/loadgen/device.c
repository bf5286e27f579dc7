/* SPDX-License-Identifier: MIT */
/* One simulated device: its libmosquitto connection and callbacks, and
 * its side of the contract — subscribe, publish the retained status,
 * answer each command with ACCEPTED, RUNNING and the result, remember
 * finished ids so that a re-sent command gets the same result again,
 * and answer cancels. */
#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "agents.h"
#include "cmdbus/topic.h"
#include "common/clock.h"
#include "common/id.h"
#include "proto.h"

#define KEEPALIVE_S 60
#define SESSION_EXPIRY_S (7u * 24u * 3600u)
#define WILL_DELAY_S 5
#define CLOCK_SKEW_MS 60000u

static void
publish(struct dev *d, enum cmdbus_kind kind, char *msg, size_t len,
	bool retain, int *mid)
{
	char topic[CMDBUS_NAME_BUF * 4];
	int rc;

	if (!msg) {
		d->p->errors++;
		return;
	}
	if (cmdbus_topic_build(topic, sizeof(topic), d->p->o->prefix, d->id,
			       kind) != 0) {
		d->p->errors++;
		free(msg);
		return;
	}
	rc = mosquitto_publish(d->m, mid, topic, (int)len, msg, 1, retain);
	free(msg);
	if (rc != MOSQ_ERR_SUCCESS)
		d->p->errors++;
}

static void
send_report(struct dev *d, const char *id, const char *sha,
	    enum cmdbus_state st)
{
	char *msg = NULL;
	size_t len = 0;

	if (proto_report(d->id, d->boot_id, id, sha, st, d->p->pid, &msg,
			 &len) != 0)
		msg = NULL;
	publish(d, CMDBUS_KIND_RESULT, msg, len, false, NULL);
}

static void
send_result(struct dev *d, const struct fin *f)
{
	char *msg = NULL;
	size_t len = 0;
	enum cmdbus_state st = (enum cmdbus_state)f->state;
	const char *err = st == CMDBUS_STATE_REJECTED  ? CMDBUS_E_UNKNOWN_ACTION
			  : st == CMDBUS_STATE_EXPIRED ? CMDBUS_E_EXPIRED
						       : NULL;

	if (proto_result(d->id, d->boot_id, f->id, f->sha, st,
			 st == CMDBUS_STATE_SUCCEEDED ? "pong" : "", f->started,
			 f->finished, err, &msg, &len) != 0)
		msg = NULL;
	publish(d, CMDBUS_KIND_RESULT, msg, len, false, NULL);
	d->p->results++;
}

static struct fin *
ring_find(struct dev *d, const char *id)
{
	if (!d->ring)
		return NULL;
	for (unsigned i = 0; i < DEV_RING; i++)
		if (d->ring[i].id[0] && strcmp(d->ring[i].id, id) == 0)
			return &d->ring[i];
	return NULL;
}

static struct fin *
ring_add(struct dev *d, const char *id, const char *sha)
{
	struct fin *f;

	if (!d->ring && !(d->ring = calloc(DEV_RING, sizeof(*d->ring))))
		return NULL;
	f = &d->ring[d->ring_next];
	d->ring_next = (d->ring_next + 1) % DEV_RING;
	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "%s", id);
	snprintf(f->sha, sizeof(f->sha), "%s", sha);
	return f;
}

/* Records a terminal state and sends its result. */
static void
finish(struct dev *d, const char *id, const char *sha, enum cmdbus_state st,
       uint64_t started)
{
	struct fin tmp, *f = ring_add(d, id, sha);

	if (!f) {
		/* Out of memory: answer anyway, without remembering. */
		memset(&tmp, 0, sizeof(tmp));
		memcpy(tmp.id, id, sizeof(tmp.id));
		memcpy(tmp.sha, sha, sizeof(tmp.sha));
		f = &tmp;
	}
	f->state = (uint8_t)st;
	f->started = started;
	f->finished = clock_now_ms(&clock_system);
	send_result(d, f);
}

static struct run *
run_at(struct lg_proc *p, size_t i)
{
	return &p->runs[(p->runs_head + i) % p->runs_cap];
}

static struct run *
run_find(struct lg_proc *p, uint32_t dev, const char *id)
{
	for (size_t i = 0; i < p->runs_len; i++) {
		struct run *r = run_at(p, i);
		if (r->dev == dev && !r->canceled && strcmp(r->id, id) == 0)
			return r;
	}
	return NULL;
}

static int
run_push(struct lg_proc *p, const struct run *r)
{
	if (p->runs_len == p->runs_cap) {
		size_t cap = p->runs_cap ? p->runs_cap * 2 : 1024;
		struct run *n = calloc(cap, sizeof(*n));
		if (!n)
			return -ENOMEM;
		for (size_t i = 0; i < p->runs_len; i++)
			n[i] = *run_at(p, i);
		free(p->runs);
		p->runs = n;
		p->runs_cap = cap;
		p->runs_head = 0;
	}
	*run_at(p, p->runs_len) = *r;
	p->runs_len++;
	return 0;
}

void
dev_finish_due(struct lg_proc *p, uint64_t now_us)
{
	while (p->runs_len > 0) {
		struct run *r = run_at(p, 0);
		struct run done;

		if (!r->canceled && r->due_us > now_us)
			break;
		done = *r;
		p->runs_head = (p->runs_head + 1) % p->runs_cap;
		p->runs_len--;
		if (done.canceled)
			continue;
		finish(&p->devs[done.dev], done.id, done.sha,
		       CMDBUS_STATE_SUCCEEDED, done.started);
		dev_sync(&p->devs[done.dev]);
	}
}

static void
on_command(struct dev *d, const struct proto_in *in)
{
	struct lg_proc *p = d->p;
	struct fin *f = ring_find(d, in->id);
	const struct run *pending = run_find(p, d->idx, in->id);
	uint64_t now = clock_now_ms(&clock_system);
	struct run r;

	p->commands++;
	if (f) {
		/* A re-sent id: its stored result again, or CANCELED for
		 * an id a cancel reached first. */
		if (f->tombstone) {
			memcpy(f->sha, in->sha, sizeof(f->sha));
			f->tombstone = false;
			f->state = CMDBUS_STATE_CANCELED;
			f->finished = now;
		}
		send_result(d, f);
		return;
	}
	if (pending) {
		send_report(d, in->id, in->sha, CMDBUS_STATE_RUNNING);
		return;
	}
	if (now > in->exp + CLOCK_SKEW_MS) {
		finish(d, in->id, in->sha, CMDBUS_STATE_EXPIRED, 0);
		return;
	}
	if (strcmp(in->action, "ping") != 0 &&
	    strcmp(in->action, "exec") != 0) {
		finish(d, in->id, in->sha, CMDBUS_STATE_REJECTED, 0);
		return;
	}
	send_report(d, in->id, in->sha, CMDBUS_STATE_ACCEPTED);
	send_report(d, in->id, in->sha, CMDBUS_STATE_RUNNING);
	if (p->o->service_ms == 0) {
		finish(d, in->id, in->sha, CMDBUS_STATE_SUCCEEDED, now);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.dev = d->idx;
	memcpy(r.id, in->id, sizeof(r.id));
	memcpy(r.sha, in->sha, sizeof(r.sha));
	r.started = now;
	r.due_us = lg_mono_us() + p->o->service_ms * 1000u;
	if (run_push(p, &r) != 0) {
		p->errors++;
		finish(d, in->id, in->sha, CMDBUS_STATE_SUCCEEDED, now);
	}
}

static void
on_cancel(struct dev *d, const struct proto_in *in)
{
	struct lg_proc *p = d->p;
	struct fin *f = ring_find(d, in->id);
	struct run *r = run_find(p, d->idx, in->id);

	p->cancels++;
	if (clock_now_ms(&clock_system) > in->exp + CLOCK_SKEW_MS)
		return; /* an expired cancel is dropped, never answered */
	if (f) {
		if (!f->tombstone)
			send_result(d, f);
		return;
	}
	if (r) {
		r->canceled = true;
		finish(d, r->id, r->sha, CMDBUS_STATE_CANCELED, r->started);
		return;
	}
	/* Unknown: a tombstone, so that the command arriving later is
	 * answered CANCELED without running. */
	if ((f = ring_add(d, in->id, "")) != NULL)
		f->tombstone = true;
}

static void
cb_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
	struct dev *d = ud;
	struct proto_in in;

	if (msg->payloadlen < 0 ||
	    (size_t)msg->payloadlen > CMDBUS_MAX_MESSAGE ||
	    proto_decode(d->id, msg->payload, (size_t)msg->payloadlen, &in) !=
		0) {
		d->p->errors++;
		return;
	}
	if (in.kind == PROTO_COMMAND)
		on_command(d, &in);
	else
		on_cancel(d, &in);
}

static void
cb_connect(struct mosquitto *m, void *ud, int rc)
{
	struct dev *d = ud;
	char topic[CMDBUS_NAME_BUF * 4];

	if (rc != 0) {
		fprintf(stderr, "loadgen: %s: CONNACK %s\n", d->id,
			mosquitto_connack_string(rc));
		d->p->errors++;
		return;
	}
	d->up = true;
	if (cmdbus_topic_build(topic, sizeof(topic), d->p->o->prefix, d->id,
			       CMDBUS_KIND_CMD) != 0 ||
	    mosquitto_subscribe(m, NULL, topic, 1) != MOSQ_ERR_SUCCESS)
		d->p->errors++;
}

static void
cb_subscribe(struct mosquitto *m, void *ud, int mid, int qos_count,
	     const int *granted)
{
	struct dev *d = ud;
	char *msg = NULL;
	size_t len = 0;

	if (qos_count < 1 || granted[0] > 2) {
		fprintf(stderr, "loadgen: %s: subscription refused\n", d->id);
		d->p->errors++;
		return;
	}
	if (proto_status(d->id, d->boot_id, true, d->p->o, &msg, &len) != 0)
		msg = NULL;
	publish(d, CMDBUS_KIND_STATUS, msg, len, true, &d->status_mid);
}

static void
cb_publish(struct mosquitto *m, void *ud, int mid)
{
	struct dev *d = ud;

	if (mid != d->status_mid || d->ready)
		return;
	d->ready = true;
	if (d->connecting) {
		d->connecting = false;
		d->p->pending--;
	}
	d->p->nready++;
}

static void
cb_disconnect(struct mosquitto *m, void *ud, int rc)
{
	struct dev *d = ud;

	d->up = false;
	if (!d->p->stopping)
		dev_lost(d);
}

void
dev_lost(struct dev *d)
{
	struct lg_proc *p = d->p;

	d->up = false;
	if (d->fd >= 0) {
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, d->fd, NULL);
		d->fd = -1;
		d->events = 0;
	}
	if (p->stopping || d->retry)
		return;
	fprintf(stderr, "loadgen: %s: connection lost, reconnecting\n", d->id);
	p->errors++;
	d->retry = true;
	p->retry[p->nretry++] = d->idx;
}

void
dev_sync(struct dev *d)
{
	struct epoll_event ev;
	int s = mosquitto_socket(d->m);
	uint32_t want = EPOLLIN;

	if (s >= 0 && mosquitto_want_write(d->m))
		want |= EPOLLOUT;
	memset(&ev, 0, sizeof(ev));
	ev.data.u32 = d->idx;
	ev.events = want;
	if (s != d->fd) {
		if (d->fd >= 0)
			epoll_ctl(d->p->epfd, EPOLL_CTL_DEL, d->fd, NULL);
		d->fd = -1;
		if (s >= 0 &&
		    epoll_ctl(d->p->epfd, EPOLL_CTL_ADD, s, &ev) == 0) {
			d->fd = s;
			d->events = want;
		}
		return;
	}
	if (s >= 0 && want != d->events &&
	    epoll_ctl(d->p->epfd, EPOLL_CTL_MOD, s, &ev) == 0)
		d->events = want;
}

int
dev_setup(struct lg_proc *p, uint32_t idx)
{
	struct dev *d = &p->devs[idx];
	const struct lg_agents_opts *o = p->o;
	char topic[CMDBUS_NAME_BUF * 4], *will = NULL;
	size_t wlen = 0;
	struct id_gen g;
	int rc;

	memset(d, 0, sizeof(*d));
	d->p = p;
	d->idx = idx;
	d->fd = -1;
	if (args_device_id(o->id_format, o->first + idx, d->id,
			   sizeof(d->id)) != 0)
		return -EINVAL;
	/* A boot id per device and per process start, as an agent has. */
	id_gen_init(&g);
	if (id_gen_next(&g, clock_now_ms(&clock_system), d->boot_id) != 0)
		return -EIO;
	/* Persistent session: clean session 0 (MQTT 5: clean start 0 and a
	 * session expiry, given at connect). */
	d->m = mosquitto_new(d->id, false, d);
	if (!d->m)
		return -ENOMEM;
	mosquitto_int_option(d->m, MOSQ_OPT_PROTOCOL_VERSION,
			     o->protocol == 5 ? MQTT_PROTOCOL_V5
					      : MQTT_PROTOCOL_V311);
	mosquitto_int_option(d->m, MOSQ_OPT_TCP_NODELAY, 1);
	if (mosquitto_username_pw_set(d->m, d->id, o->password) !=
	    MOSQ_ERR_SUCCESS)
		return -ENOMEM;
	if ((rc = proto_status(d->id, d->boot_id, false, o, &will, &wlen)))
		return rc;
	rc = cmdbus_topic_build(topic, sizeof(topic), o->prefix, d->id,
				CMDBUS_KIND_STATUS);
	if (rc == 0 && o->protocol == 5) {
		mosquitto_property *wp = NULL;
		mosquitto_property_add_int32(&wp, MQTT_PROP_WILL_DELAY_INTERVAL,
					     WILL_DELAY_S);
		rc = mosquitto_will_set_v5(d->m, topic, (int)wlen, will, 1,
					   true, wp);
		if (rc != MOSQ_ERR_SUCCESS)
			mosquitto_property_free_all(&wp);
	} else if (rc == 0) {
		rc = mosquitto_will_set(d->m, topic, (int)wlen, will, 1, true);
	}
	free(will);
	if (rc != 0)
		return -EINVAL;
	mosquitto_connect_callback_set(d->m, cb_connect);
	mosquitto_subscribe_callback_set(d->m, cb_subscribe);
	mosquitto_message_callback_set(d->m, cb_message);
	mosquitto_publish_callback_set(d->m, cb_publish);
	mosquitto_disconnect_callback_set(d->m, cb_disconnect);
	return 0;
}

void
dev_teardown(struct dev *d)
{
	if (d->m)
		mosquitto_destroy(d->m);
	d->m = NULL;
	free(d->ring);
	d->ring = NULL;
}

int
dev_connect(struct dev *d)
{
	const struct lg_agents_opts *o = d->p->o;
	int rc;

	if (!d->connecting && !d->ready) {
		d->connecting = true;
		d->p->pending++;
	}
	if (d->retry || mosquitto_socket(d->m) >= 0) {
		/* A reconnect keeps the MQTT 5 properties of the first
		 * connect. */
		rc = mosquitto_reconnect_async(d->m);
	} else if (o->protocol == 5) {
		/* Only the _v5 connect carries the session expiry that makes
		 * an MQTT 5 session persistent, and it completes the TCP
		 * handshake before returning: on loopback the kernel does
		 * that at once while the broker's accept queue has room,
		 * which --batch keeps it. */
		mosquitto_property *props = NULL;
		mosquitto_property_add_int32(&props,
					     MQTT_PROP_SESSION_EXPIRY_INTERVAL,
					     SESSION_EXPIRY_S);
		rc = mosquitto_connect_bind_v5(d->m, o->host, (int)o->port,
					       KEEPALIVE_S, NULL, props);
		mosquitto_property_free_all(&props);
	} else {
		rc = mosquitto_connect_async(d->m, o->host, (int)o->port,
					     KEEPALIVE_S);
	}
	d->retry = false;
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "loadgen: %s: connect: %s\n", d->id,
			rc == MOSQ_ERR_ERRNO ? strerror(errno)
					     : mosquitto_strerror(rc));
		dev_lost(d);
		return -1;
	}
	dev_sync(d);
	return 0;
}

void
dev_goodbye(struct dev *d)
{
	char *msg = NULL;
	size_t len = 0;

	if (!d->up)
		return;
	if (proto_status(d->id, d->boot_id, false, d->p->o, &msg, &len) != 0)
		msg = NULL;
	publish(d, CMDBUS_KIND_STATUS, msg, len, true, NULL);
	mosquitto_disconnect(d->m);
	dev_sync(d);
}
