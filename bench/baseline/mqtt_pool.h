/* SPDX-License-Identifier: MIT */
/* Many non-threaded libmosquitto clients on one epoll descriptor: each
 * socket is read when readable and written whenever libmosquitto has
 * something queued, so thousands of connections share one thread. */
#ifndef BENCH_MQTT_POOL_H
#define BENCH_MQTT_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;
struct pool_conn;

/* Called for every message a connection receives; `payload` is borrowed
 * for the call. */
typedef void (*pool_msg_fn)(struct pool_conn *c, const char *topic,
			    const void *payload, size_t len);

struct pool_opts {
	const char *host;
	unsigned port;
	int protocol;	       /* 5 or 311 */
	const char *id_prefix; /* client ids are PREFIX-<index> */
	size_t index_base;     /* the first connection's index, when several
				* processes share one numbering */
};

/* A pool for up to `max` connections. Exits the process on failure: a
 * benchmark that cannot set up has nothing to report. */
struct pool *pool_new(const struct pool_opts *o, size_t max);
void pool_free(struct pool *p); /* disconnects everything; NULL is a no-op */

/* Connects `n` more clients, each subscribing to topic_fmt with its index
 * (a printf format with one %zu, or NULL for none) at QoS 1, and runs the
 * loop until all of them have their SUBACK. At most a few dozen connects
 * are outstanding at a time so that the broker's listen backlog never
 * overflows. `fn` receives their messages. Returns the first index. */
size_t pool_connect(struct pool *p, size_t n, const char *topic_fmt,
		    pool_msg_fn fn, void *ud);

/* Runs the loop once, waiting at most timeout_ms for events. */
void pool_run_once(struct pool *p, int timeout_ms);

/* Publishes at QoS 1 on connection `c`; the bytes go out now when the
 * socket takes them, or on the next loop pass. */
void pool_publish(struct pool_conn *c, const char *topic, const void *data,
		  size_t len);

struct pool_conn *pool_conn_at(struct pool *p, size_t i);
/* The connection's index: index_base + its position in the pool. */
size_t pool_conn_index(const struct pool_conn *c);
void *pool_conn_ud(const struct pool_conn *c);

/* PUBACKs received for this pool's publishes so far. */
uint64_t pool_acked(const struct pool *p);

#endif
