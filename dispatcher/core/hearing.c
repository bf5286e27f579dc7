/* SPDX-License-Identifier: MIT */
/* When the dispatcher could have heard a device (hearing.h): the time
 * the broker connection came up, the devices that came online less
 * than timeout_grace ago (a short list pruned as it is used), and the
 * devices that have come online since the connection came up (a hash
 * set of names, emptied at each connection). */
#include "hearing.h"

#include <stdlib.h>
#include <string.h>

struct hearing_dev {
	char device[CMDBUS_NAME_BUF];
	uint64_t until; /* not heard long enough before this */
};

struct hearing {
	uint64_t bus_until; /* deaf before this */
	uint64_t bus_up_at; /* the last CONNACK */
	bool bus_up;
	/* Devices that came online since bus_up_at: open addressing, at
	 * most half full. */
	char (*up)[CMDBUS_NAME_BUF];
	size_t nup, capup;
	uint64_t unacked;	/* publishes awaiting their PUBACK */
	uint64_t unacked_since; /* when unacked last left 0 */
	uint64_t last_heard;	/* last PUBACK or message */
	struct hearing_dev *v;
	size_t n, cap;
};

static struct hearing *
get(struct core *c)
{
	if (!c->hearing)
		c->hearing = calloc(1, sizeof *c->hearing);
	return c->hearing;
}

void
hearing_bus_up(struct core *c, uint64_t now)
{
	struct hearing *h = get(c);
	if (!h)
		return;
	h->bus_up = true;
	h->bus_up_at = now;
	h->bus_until = now + c->cfg.timeout_grace_ms;
	if (h->up)
		memset(h->up, 0, h->capup * sizeof *h->up);
	h->nup = 0;
	/* What was in flight is the client's to send again; counted
	 * afresh. */
	h->unacked = 0;
	h->last_heard = now;
}

void
hearing_sent(struct core *c, uint64_t now)
{
	struct hearing *h = get(c);
	if (!h)
		return;
	if (h->unacked++ == 0)
		h->unacked_since = now;
}

void
hearing_heard(struct core *c, uint64_t now, bool acked)
{
	struct hearing *h = get(c);
	if (!h)
		return;
	h->last_heard = now;
	if (acked && h->unacked > 0)
		h->unacked--;
}

/* Whether the connection is down or has gone silent: a publish has
 * waited more than half the grace and nothing came meanwhile. */
static bool
deaf(struct core *c, struct hearing *h, uint64_t now)
{
	if (c->bus.is_connected && !c->bus.is_connected(c->bus.ud))
		h->bus_up = false;
	if (!h->bus_up)
		return true;
	uint64_t since =
	    h->last_heard > h->unacked_since ? h->last_heard : h->unacked_since;
	return h->unacked > 0 && now > since + c->cfg.timeout_grace_ms / 2;
}

void
hearing_tick(struct core *c, uint64_t now)
{
	struct hearing *h = get(c);
	if (h && deaf(c, h, now))
		h->bus_until = now + c->cfg.timeout_grace_ms;
}

/* Drops the devices heard long enough by now. */
static void
prune(struct hearing *h, uint64_t now)
{
	size_t j = 0;
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].until > now)
			h->v[j++] = h->v[i];
	h->n = j;
}

static size_t
slot_of(const struct hearing *h, const char *device)
{
	uint32_t x = 2166136261u; /* FNV-1a */
	for (const char *p = device; *p; p++)
		x = (x ^ (unsigned char)*p) * 16777619u;
	size_t i = x & (h->capup - 1);
	while (h->up[i][0] && strcmp(h->up[i], device) != 0)
		i = (i + 1) & (h->capup - 1);
	return i;
}

static bool
came_up(const struct hearing *h, const char *device)
{
	return h->up && h->up[slot_of(h, device)][0];
}

/* Doubles the set; false when memory ran out. */
static bool
grow_up(struct hearing *h)
{
	struct hearing old = *h;
	size_t cap = h->capup ? h->capup * 2 : 64;
	h->up = calloc(cap, sizeof *h->up);
	if (!h->up) {
		*h = old;
		return false;
	}
	h->capup = cap;
	for (size_t i = 0; i < old.capup; i++)
		if (old.up[i][0])
			memcpy(h->up[slot_of(h, old.up[i])], old.up[i],
			       sizeof *h->up);
	free(old.up);
	return true;
}

/* Notes a device that came online since the connection came up. */
static void
note_up(struct hearing *h, const char *device)
{
	size_t len = strlen(device);
	if (!len || len >= CMDBUS_NAME_BUF || came_up(h, device))
		return;
	if ((h->nup + 1) * 2 > h->capup && !grow_up(h))
		return; /* it waits device_stale_after instead */
	memcpy(h->up[slot_of(h, device)], device, len + 1);
	h->nup++;
}

void
hearing_device_up(struct core *c, const char *device, uint64_t now)
{
	struct hearing *h = get(c);
	if (!h)
		return;
	prune(h, now);
	note_up(h, device);
	struct hearing_dev *d = NULL;
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->v[i].device, device) == 0)
			d = &h->v[i];
	if (!d) {
		if (h->n == h->cap) {
			size_t cap = h->cap ? h->cap * 2 : 16;
			void *v = realloc(h->v, cap * sizeof *h->v);
			if (!v)
				return; /* its declarations are not held */
			h->v = v;
			h->cap = cap;
		}
		d = &h->v[h->n++];
		memset(d, 0, sizeof *d);
		size_t len = strlen(device);
		if (len >= sizeof d->device)
			len = sizeof d->device - 1;
		memcpy(d->device, device, len);
	}
	d->until = now + c->cfg.timeout_grace_ms;
}

bool
hearing_ok(struct core *c, const char *device, uint64_t now)
{
	struct hearing *h = get(c);
	if (!h)
		return true; /* out of memory: as before this module */
	/* Down or silent: deaf until it is heard again, and the grace
	 * after that. A drop and a reconnection between two looks is
	 * caught by hearing_bus_up moving bus_until. */
	if (deaf(c, h, now)) {
		h->bus_until = now + c->cfg.timeout_grace_ms;
		return false;
	}
	if (now < h->bus_until)
		return false;
	prune(h, now);
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->v[i].device, device) == 0)
			return false;
	struct device_rec d;
	memset(&d, 0, sizeof d);
	if (!c->store.device_get ||
	    c->store.device_get(c->store.ud, device, &d) < 0)
		return true; /* never seen: nothing to wait for */
	/* Offline: a device cut off for a moment, or whose agent backs
	 * off its reconnection after a broker outage, comes back and
	 * answers; one gone for longer than device_stale_after is judged,
	 * so that jobs to dead devices still end. */
	bool ok = d.online ? came_up(h, device) ||
				 now >= h->bus_up_at + c->cfg.device_stale_ms
			   : now >= d.last_seen + c->cfg.device_stale_ms;
	device_rec_fini(&d);
	return ok;
}

void
hearing_fini(struct core *c)
{
	if (!c->hearing)
		return;
	free(c->hearing->v);
	free(c->hearing->up);
	free(c->hearing);
	c->hearing = NULL;
}
