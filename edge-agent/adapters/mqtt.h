/* SPDX-License-Identifier: MIT */
/* The agent's MQTT client: libmosquitto driven by the program's own event
 * loop (no libmosquitto thread), a persistent session, a retained will,
 * QoS 1 everywhere, and reconnection with exponential backoff and jitter.
 * No libmosquitto type leaves this adapter. */
#ifndef CMDBUS_AGENT_MQTT_H
#define CMDBUS_AGENT_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/loop.h"

struct mqtt;

struct mqtt_config {
	const char *host;
	unsigned port;
	const char *client_id;
	const char *username;
	const char *password;	   /* NULL: none */
	const char *tls_ca_file;   /* NULL: no TLS */
	const char *tls_cert_file; /* client certificate (mTLS), or NULL */
	const char *tls_key_file;
	bool tls_insecure;	    /* no check of the broker's host name */
	const char *tls_version;    /* "tlsv1.2", "tlsv1.3" or NULL */
	int protocol;		    /* 5 or 311 */
	uint64_t keepalive_ms;	    /* 5 s .. 65535 s */
	uint64_t session_expiry_ms; /* MQTT 5 */
	const char *sub_topic;	    /* subscribed at QoS 1 on every connect */
	const char *will_topic;	    /* retained QoS 1 will, or NULL */
	const void *will_payload;
	size_t will_len;
	uint32_t will_delay_s; /* MQTT 5 will delay interval */
};

struct mqtt_events {
	/* The broker accepted the connection and the subscription is
	 * requested. `session_present` as the CONNACK said. */
	void (*on_connect)(void *ud, bool session_present);
	/* A message arrived; everything is borrowed for the call.
	 * `retained` is the broker's retain flag on delivery. */
	void (*on_message)(void *ud, const char *topic, const void *payload,
			   size_t len, bool retained);
	/* The connection is gone (a reconnect is scheduled unless
	 * mqtt_disconnect() was called). */
	void (*on_disconnect)(void *ud);
	void *ud;
};

/* Copies the configuration. 0 and *out, or a negative code with a
 * sentence in err. Nothing connects before mqtt_start(). */
int mqtt_new(struct loop *l, const struct mqtt_config *cfg,
	     const struct mqtt_events *ev, struct mqtt **out, char *err,
	     size_t errlen);
/* Closes the socket and frees; NULL is a no-op. */
void mqtt_free(struct mqtt *m);

/* Starts connecting now; failures retry with backoff. */
void mqtt_start(struct mqtt *m);

/* Publishes at QoS 1. While disconnected the message waits in a bounded
 * queue and goes out after the next connect. 0, -ENOBUFS (queue full),
 * -EMSGSIZE, -ENOMEM, -EIO. */
int mqtt_publish(struct mqtt *m, const char *topic, const void *payload,
		 size_t len, bool retain);

bool mqtt_connected(const struct mqtt *m);
/* QoS 1 publishes not yet acknowledged, queued ones included. */
size_t mqtt_unacked(const struct mqtt *m);

/* Sends DISCONNECT (normal: the broker drops the will) and stops
 * reconnecting; on_disconnect follows once the socket is closed. When not
 * connected it stops at once. */
void mqtt_disconnect(struct mqtt *m);
/* Whether the client is down for good after mqtt_disconnect(). */
bool mqtt_closed(const struct mqtt *m);

#endif
