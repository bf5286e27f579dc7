/* SPDX-License-Identifier: MIT */
/* The dispatcher's keys, read from the files its options name: the
 * private keys that can sign commands (one in use, the others held for a
 * rotation) and the devices' public keys. Loaded at start and again on
 * SIGHUP, where a set that does not load leaves the old one in place. */
#ifndef DISPATCHER_KEYS_H
#define DISPATCHER_KEYS_H

#include <stddef.h>

#include "cmdbus/envelope.h"
#include "config.h"
#include "devkeys.h"

struct keys {
	struct cmdbus_key **signers; /* every signing key, owned */
	size_t nsigners;
	const struct cmdbus_key *active; /* the one that signs, or NULL */
	struct devkeys *devices;	 /* NULL: no device_keys_dir */
};

/* Reads every key the options name into k (zeroed first). 0, or a
 * negative code with "file: reason" in err and nothing held. */
int keys_load(const struct config *cfg, struct keys *k, char *err,
	      size_t errlen);
/* Frees what k holds (private keys are scrubbed by OpenSSL); a zeroed
 * struct is a no-op. */
void keys_fini(struct keys *k);

#endif
