/* SPDX-License-Identifier: MIT */
/* The devices' public keys: a flat array kept sorted by device id, so a
 * message's lookup is a binary search however large the fleet. */
#include "devkeys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/proto.h"

struct devkey {
	char device[CMDBUS_NAME_BUF];
	struct cmdbus_key *key;
};

struct devkeys {
	struct devkey *v;
	size_t n, cap;
	size_t ndevices;
};

int
devkeys_new(struct devkeys **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void
devkeys_free(struct devkeys *dk)
{
	if (!dk)
		return;
	for (size_t i = 0; i < dk->n; i++)
		cmdbus_key_free(dk->v[i].key);
	free(dk->v);
	free(dk);
}

/* The first index whose device is not less than `device`. */
static size_t
lower_bound(const struct devkeys *dk, const char *device)
{
	size_t lo = 0, hi = dk->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(dk->v[mid].device, device) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
devkeys_add(struct devkeys *dk, const char *device, struct cmdbus_key *key)
{
	size_t at, same = 0;

	if (!device || !cmdbus_valid_device_id(device) || !key)
		return -EINVAL;
	at = lower_bound(dk, device);
	while (at + same < dk->n &&
	       strcmp(dk->v[at + same].device, device) == 0)
		same++;
	if (same >= DEVKEYS_PER_DEVICE)
		return -EINVAL;
	if (dk->n == dk->cap) {
		size_t cap = dk->cap ? dk->cap * 2 : 16;
		struct devkey *v = realloc(dk->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		dk->v = v;
		dk->cap = cap;
	}
	at += same;
	memmove(&dk->v[at + 1], &dk->v[at], (dk->n - at) * sizeof(*dk->v));
	memset(&dk->v[at], 0, sizeof(dk->v[at]));
	memcpy(dk->v[at].device, device, strlen(device) + 1);
	dk->v[at].key = key;
	dk->n++;
	if (same == 0)
		dk->ndevices++;
	return 0;
}

size_t
devkeys_find(const struct devkeys *dk, const char *device,
	     const struct cmdbus_key **out, size_t max)
{
	size_t at, n = 0;

	if (!dk || !device)
		return 0;
	at = lower_bound(dk, device);
	while (at < dk->n && n < max && strcmp(dk->v[at].device, device) == 0)
		out[n++] = dk->v[at++].key;
	return n;
}

size_t
devkeys_devices(const struct devkeys *dk)
{
	return dk ? dk->ndevices : 0;
}
