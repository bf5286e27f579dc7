/* SPDX-License-Identifier: MIT */
/* Messages from the broker: reports and results on PREFIX/+/result,
 * presence on PREFIX/+/status. Everything is checked before anything is
 * recorded; a message that fails a check is dropped, counted and logged,
 * never answered. */
#ifndef DISPATCHER_INGEST_H
#define DISPATCHER_INGEST_H

#include <stddef.h>

#include "core.h"

/* Handles one message as it came from the broker (payload not
 * NUL-terminated). Never fails: problems are counted in c->stats. */
void ingest_message(struct core *c, const char *topic, const void *payload,
		    size_t len);

#endif
