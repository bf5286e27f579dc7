/* SPDX-License-Identifier: MIT */
/* Live output of a run that asked for it ("stream":true): the bytes read
 * are held per stream, at most max_output of them ever, and sent as
 * numbered `output` chunks of at most 16 KiB, no more than one per stream
 * every STREAM_INTERVAL_MS, what arrived meanwhile coalesced. */
#ifndef CMDBUS_AGENT_STREAM_H
#define CMDBUS_AGENT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STREAM_INTERVAL_MS 100

struct live {
	char *buf; /* bytes not sent yet, owned */
	size_t len;
	uint64_t seq;	  /* of the next chunk */
	uint64_t taken;	  /* bytes ever taken; stops at max_output */
	uint64_t last_ms; /* when the last chunk went out */
	bool sent_any;
};

struct core;
struct run;

void live_fini(struct live *l);
/* Bytes read from one stream of run r; sends a chunk when one is due. */
void stream_feed(struct core *c, struct run *r, bool is_err, const void *p,
		 size_t n);
/* Sends the chunks that are due (all of them when `all`: the run ended,
 * and its result must come after them). */
void stream_flush(struct core *c, struct run *r, bool all);

#endif
