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
	/* Borrowed devices' public keys (devkeys.h), or NULL: none. A
	 * device with a key has every message on its topics verified;
	 * without one, only when require_device_signatures is set (and
	 * then every message of it is refused). Both may be swapped
	 * between loop passes (SIGHUP). */
	const struct devkeys *device_keys;
	bool require_device_signatures;
	/* Delivery (0 takes the default of each; see core_init). */
	uint32_t outbox_window;	   /* unfinished published per device */
	uint64_t retry_initial_ms; /* first re-publish after this */
	uint64_t retry_max_ms;	   /* the doubling stops here */
	uint64_t timeout_grace_ms; /* TIMED_OUT after timeout_ms + this */
	uint64_t lost_grace_ms;	   /* a new boot's answer is awaited this
				      long before LOST */
	uint64_t device_stale_ms;  /* no status this long: stale */
	uint64_t retention_ms;	   /* finished executions kept this long */
	uint32_t prune_batch;	   /* rows pruned per sweep at most */
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
	    drop_type, drop_unknown, drop_device, drop_sha, drop_signature;
	uint64_t duplicates;	 /* reports that changed nothing */
	uint64_t late_results;	 /* results for a finished execution */
	uint64_t refusals;	 /* REJECTED/journal_unavailable: retried */
	uint64_t stale_status;	 /* offline statuses of an older run */
	uint64_t outputs;	 /* output chunks of a known execution */
	uint64_t output_dropped; /* of those, duplicates or past the cap */
	uint64_t store_errors;	 /* writes that failed */
	uint64_t retries;	 /* re-publishes of a sent command */
	uint64_t results;	 /* results recorded as an execution's end */
	uint64_t timed_out;	 /* declared TIMED_OUT by the sweep */
	uint64_t lost;		 /* declared LOST by the sweep */
	uint64_t pruned_execs, pruned_jobs; /* removed by retention */
};

#define CORE_MID_SLOTS 65536u /* MQTT message ids are 16 bits */

/* Error codes of the dispatcher's own making, beyond the protocol's. */
#define CORE_E_OFFLINE "offline" /* EXPIRED: the device was offline */
#define CORE_E_ROLLOUT_ABORTED "rollout_aborted" /* CANCELED by an abort */

/* Told of every committed state change of an execution (job_id may be
 * NULL when the caller does not have it at hand), and of committed new
 * live output with its current state; the REST adapter wakes the
 * requests waiting on it. Must not call back into the core's write
 * paths. */
typedef void core_observer_fn(void *ud, const char *exec_id, const char *job_id,
			      enum cmdbus_state state);

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
	core_observer_fn *observer; /* or NULL */
	void *observer_ud;
	struct metrics *metrics;       /* metrics.c; NULL until first use */
	struct core_batch *batch;      /* window.c: the pass's group commit */
	struct progress_tab *progress; /* progress.c: pending progress */
	struct rollouts *rollouts;     /* rollout.c: the running rollouts */
	struct hearing *hearing;       /* hearing.c: when answers could come */
	uint64_t last_sweep;	       /* time of the previous sweep, 0: none */
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

/* Ends the loop pass: commits the writes the pass grouped into one
 * transaction, then tells the observer of the changes they made and
 * publishes what they freed (call once per loop pass). */
void core_flush(struct core *c);
/* The periodic sweep: the dispatcher's own terminal states (EXPIRED,
 * TIMED_OUT, LOST), re-publishes on the retry timer and retention. */
void core_sweep(struct core *c);
/* A device is stale when it says online but sent no status for
 * device_stale_ms. */
bool core_device_stale(const struct core *c, const struct device_rec *d);
/* Whether a device's last status says online (a stale one counts as
 * online); false for a device never seen. */
bool core_device_online(struct core *c, const char *device);

/* Sets the one observer of state changes (NULL: none). */
void core_set_observer(struct core *c, core_observer_fn *fn, void *ud);
/* Called after every committed state change of an execution. */
void core_notify_change(struct core *c, const char *exec_id, const char *job_id,
			enum cmdbus_state state);

#endif
