/* SPDX-License-Identifier: MIT */
/* The devices' own public keys, by device id: when a device has one, the
 * dispatcher refuses any message on its topics that the key did not sign.
 * Built once (at start or on SIGHUP) and then only read. */
#ifndef DISPATCHER_DEVKEYS_H
#define DISPATCHER_DEVKEYS_H

#include <stddef.h>

#include "cmdbus/envelope.h"

/* At most this many keys per device are tried: two while a device's key
 * rotates, with room to spare. */
#define DEVKEYS_PER_DEVICE 4

struct devkeys;

/* An empty set. 0 or -ENOMEM; free with devkeys_free(). */
int devkeys_new(struct devkeys **out);
/* NULL is a no-op. Frees the keys too. */
void devkeys_free(struct devkeys *dk);
/* Adds a public key of `device`; the set takes the key on success.
 * 0; -EINVAL (bad device id, or more than DEVKEYS_PER_DEVICE keys for
 * it); -ENOMEM. */
int devkeys_add(struct devkeys *dk, const char *device, struct cmdbus_key *key);
/* The keys of `device` into out[0..max), borrowed while dk lives; their
 * number (0: the device has no key). */
size_t devkeys_find(const struct devkeys *dk, const char *device,
		    const struct cmdbus_key **out, size_t max);
/* The number of devices with at least one key. */
size_t devkeys_devices(const struct devkeys *dk);

#endif
