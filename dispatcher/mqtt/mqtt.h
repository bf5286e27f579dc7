/* SPDX-License-Identifier: MIT */
/* The dispatcher's MQTT client on the common event loop: a persistent
 * session under a fixed client id, subscriptions to PREFIX/+/result and
 * PREFIX/+/status after every CONNACK, reconnection with backoff, and
 * the core's bus port. */
#ifndef DISPATCHER_MQTT_H
#define DISPATCHER_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/loop.h"
#include "ports.h"

struct mqtt_config {
	const char *host;
	unsigned port;
	const char *client_id;
	const char *username; /* or NULL */
	const char *password; /* or NULL */
	bool v5;	      /* MQTT 5, else 3.1.1 */
	unsigned keepalive_s;
	uint32_t session_expiry_s; /* MQTT 5 session expiry of our session */
	const char *prefix;	   /* topic prefix */
};

/* What the client reports, from inside the loop. */
struct mqtt_events {
	/* CONNACK accepted; subscriptions have been sent. */
	void (*connected)(void *ud);
	/* PUBACK for message `mid`; ok false when the broker refused it. */
	void (*published)(void *ud, int mid, bool ok);
	/* A message on a subscribed topic; payload is not NUL-terminated
	 * and only valid during the call. */
	void (*message)(void *ud, const char *topic, const void *payload,
			size_t len);
	void *ud;
};

struct mqtt;

/* Creates the client (no connection yet). Strings are copied. 0, or a
 * negative code with a sentence in err. */
int mqtt_new(struct loop *l, const struct mqtt_config *cfg,
	     const struct mqtt_events *ev, struct mqtt **out, char *err,
	     size_t errlen);
/* Starts connecting; a broker that is down is retried with backoff, so
 * this fails only for a loop error. */
int mqtt_start(struct mqtt *m);
/* Disconnects cleanly and leaves the loop; no event is reported after. */
void mqtt_stop(struct mqtt *m);
/* Frees the client. Call after the loop has stopped running for good.
 * NULL is a no-op. */
void mqtt_free(struct mqtt *m);

bool mqtt_is_connected(const struct mqtt *m);
/* Fills the bus port with this client (ud = m). */
void mqtt_bus_port(struct mqtt *m, struct bus_port *out);

#endif
