/* SPDX-License-Identifier: MIT */
/* Fuzzes topic names, which the broker hands over as any bytes a client
 * published to: a parsed topic must name a valid device and build back to
 * itself, and a prefix found valid must build topics that parse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/topic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses topic under prefix; an accepted topic must round-trip. */
static void
check(const char *topic, const char *prefix)
{
	char dev[CMDBUS_NAME_BUF], back[512];
	enum cmdbus_kind kind;

	if (cmdbus_topic_parse(topic, prefix, dev, &kind) != 0)
		return;
	if (!cmdbus_valid_device_id(dev) || kind < CMDBUS_KIND_CMD ||
	    kind > CMDBUS_KIND_STATUS)
		abort();
	if (cmdbus_topic_build(back, sizeof back, prefix, dev, kind) != 0 ||
	    strcmp(back, topic) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Input: PREFIX NUL TOPIC; without a NUL the whole input is the
	 * topic under the default prefix. */
	char *s = malloc(size + 1), *topic;
	const char *prefix = "cmdbus/v1";
	char t[512], f[512];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	topic = memchr(s, '\0', size);
	if (topic && topic < s + size) {
		prefix = s;
		topic++;
	} else {
		topic = s;
	}
	check(topic, "cmdbus/v1");
	check(topic, prefix);
	if (cmdbus_prefix_valid(prefix)) {
		for (int k = CMDBUS_KIND_CMD; k <= CMDBUS_KIND_STATUS; k++) {
			enum cmdbus_kind kind = (enum cmdbus_kind)k;
			if (cmdbus_topic_filter(f, sizeof f, prefix, kind) < 0)
				abort();
			if (cmdbus_topic_build(t, sizeof t, prefix, "dev-1",
					       kind) != 0)
				abort();
			check(t, prefix);
		}
	}
	if (cmdbus_topic_build(t, sizeof t, "cmdbus/v1", topic,
			       CMDBUS_KIND_CMD) == 0)
		check(t, "cmdbus/v1");
	free(s);
	return 0;
}
