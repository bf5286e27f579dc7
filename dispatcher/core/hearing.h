/* SPDX-License-Identifier: MIT */
/* Whether the dispatcher could have heard a device's answer: the states
 * it declares on its own (EXPIRED for a sent command, TIMED_OUT) say that
 * no answer came, which is only true when one could have come. After the
 * broker connection or a device comes back, every unfinished command is
 * sent again and the agent answers from its journal; the declarations
 * wait timeout_grace for that. A connection that has gone silent (a
 * publish waits for its PUBACK and nothing at all has come from the
 * broker for half the grace) counts as down, long before the MQTT
 * keepalive would notice. */
#ifndef DISPATCHER_HEARING_H
#define DISPATCHER_HEARING_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"

/* The broker connection is up (after each CONNACK). */
void hearing_bus_up(struct core *c, uint64_t now);
/* A publish was handed to the broker client. */
void hearing_sent(struct core *c, uint64_t now);
/* Something came from the broker: a PUBACK (acked) or a message. */
void hearing_heard(struct core *c, uint64_t now, bool acked);
/* Looks at the connection once a sweep: notes a silent or lost one. */
void hearing_tick(struct core *c, uint64_t now);
/* A device came online (first seen, back from offline, or a new boot). */
void hearing_device_up(struct core *c, const char *device, uint64_t now);
/* Whether the dispatcher has been able to hear `device` for the last
 * timeout_grace: connected to the broker, not silent, that long; and
 * the device online that long, or offline for device_stale_after (then
 * it is gone, not cut off for a moment or backing off its reconnection,
 * which an agent does for at most a minute). After a reconnection, a
 * device shown online has to have come online since, or
 * device_stale_after to have passed: its online status may date from
 * before the outage, its will not yet sent by a broker that was away
 * too (and what it sent before the outage may still be arriving, so
 * its messages prove nothing). A device never seen counts as heard. */
bool hearing_ok(struct core *c, const char *device, uint64_t now);
void hearing_fini(struct core *c);

#endif
