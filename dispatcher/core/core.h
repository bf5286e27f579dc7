/* SPDX-License-Identifier: MIT */
/* The dispatcher core: the state every use case shares (ports, clock,
 * configuration, id generator, counters) and the events the bus adapter
 * delivers to it. No I/O of its own: it acts through the ports. */
#ifndef DISPATCHER_CORE_H
#define DISPATCHER_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/id.h"
#include "cmdbus/envelope.h"
#include "ports.h"

struct core_config {
	const char *prefix;	    /* topic prefix, borrowed */
	uint64_t session_expiry_ms; /* agents' session expiry: caps TTLs */
	const struct cmdbus_key *sign_key; /* borrowed private key, or NULL:
					      commands go unsigned */
};

/* Counters of what the core saw; the metrics endpoint will read them. */
struct core_stats {
	uint64_t jobs_created;
	uint64_t published;	 /* commands handed to the bus */
	uint64_t publish_errors; /* the bus refused a command */
	uint64_t expired;	 /* declared EXPIRED before any publish */
	uint64_t received;	 /* messages from the broker */
	uint64_t dropped;	 /* of those, dropped for any reason below */
	uint64_t drop_too_large, drop_topic, drop_envelope, drop_payload,
	    drop_type, drop_unknown, drop_device, drop_sha;
	uint64_t duplicates;   /* reports that changed nothing */
	uint64_t late_results; /* results for a finished execution */
	uint64_t stale_status; /* offline statuses of an older run */
	uint64_t outputs;      /* output chunks (not kept yet) */
	uint64_t store_errors; /* writes that failed */
};

#define CORE_MID_SLOTS 65536u /* MQTT message ids are 16 bits */

struct core {
	struct core_config cfg;
	const struct clock *clock;
	struct store_port store;
	struct bus_port bus;
	struct id_gen ids;
	/* Execution ids of commands awaiting their PUBACK, by message id;
	 * NULL until the first publish. */
	char **pending;
	struct core_stats stats;
};

/* Caller-allocated. Copies the config and ports; the prefix, key and
 * clock are borrowed and must outlive the core. 0, or -EINVAL for an
 * invalid prefix. */
int core_init(struct core *c, const struct core_config *cfg,
	      const struct clock *clock, const struct store_port *store,
	      const struct bus_port *bus);
void core_fini(struct core *c);

/* The bus is connected (after every CONNACK): publishes again every
 * unfinished execution, so that nothing accepted is stranded by a broker
 * outage or a restart. */
void core_bus_connected(struct core *c);
/* The broker acknowledged message `mid` (ok false: it refused it). */
void core_bus_published(struct core *c, int mid, bool ok);

#endif
