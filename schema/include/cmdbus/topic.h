/* SPDX-License-Identifier: MIT */
/* Topic names: PREFIX/DEVICE/KIND, built and parsed. */
#ifndef CMDBUS_TOPIC_H
#define CMDBUS_TOPIC_H

#include <stddef.h>

#include "cmdbus/proto.h"

/* Whether a prefix is usable: 1..128 bytes, no wildcards (+ #), no NUL,
 * no empty level, no leading or trailing '/'. */
bool cmdbus_prefix_valid(const char *prefix);

/* Writes "PREFIX/DEVICE/KIND" into out. 0; -EINVAL for an invalid prefix
 * or device id; -ENOBUFS when out is too small. */
int cmdbus_topic_build(char *out, size_t outlen, const char *prefix,
		       const char *device, enum cmdbus_kind kind);

/* Writes the subscription filter "PREFIX/+/KIND". Same returns. */
int cmdbus_topic_filter(char *out, size_t outlen, const char *prefix,
			enum cmdbus_kind kind);

/* Splits a topic received under `prefix`: the device id (validated) goes to
 * device[CMDBUS_NAME_BUF] and the kind to *kind. 0, or -ERR_MALFORMED for
 * any other topic. */
int cmdbus_topic_parse(const char *topic, const char *prefix,
		       char device[CMDBUS_NAME_BUF], enum cmdbus_kind *kind);

#endif
