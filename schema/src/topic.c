/* SPDX-License-Identifier: MIT */
/* Topic names PREFIX/DEVICE/KIND: built for publishing and subscribing,
 * and split again on receipt, refusing anything that is not exactly one
 * valid device level under the configured prefix. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmdbus/topic.h"
#include "common/err.h"

#define PREFIX_MAX 128

bool
cmdbus_prefix_valid(const char *prefix)
{
	size_t n;

	if (!prefix)
		return false;
	n = strlen(prefix);
	if (n == 0 || n > PREFIX_MAX)
		return false;
	if (prefix[0] == '/' || prefix[n - 1] == '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (prefix[i] == '+' || prefix[i] == '#')
			return false;
		if (prefix[i] == '/' && prefix[i + 1] == '/')
			return false;
	}
	return true;
}

static int
emit(char *out, size_t outlen, const char *prefix, const char *mid,
     enum cmdbus_kind kind)
{
	const char *k = cmdbus_kind_name(kind);
	int n;

	if (!k)
		return -EINVAL;
	n = snprintf(out, outlen, "%s/%s/%s", prefix, mid, k);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= outlen)
		return -ENOBUFS;
	return 0;
}

int
cmdbus_topic_build(char *out, size_t outlen, const char *prefix,
		   const char *device, enum cmdbus_kind kind)
{
	if (!cmdbus_prefix_valid(prefix) || !cmdbus_valid_device_id(device))
		return -EINVAL;
	return emit(out, outlen, prefix, device, kind);
}

int
cmdbus_topic_filter(char *out, size_t outlen, const char *prefix,
		    enum cmdbus_kind kind)
{
	if (!cmdbus_prefix_valid(prefix))
		return -EINVAL;
	return emit(out, outlen, prefix, "+", kind);
}

int
cmdbus_topic_parse(const char *topic, const char *prefix,
		   char device[CMDBUS_NAME_BUF], enum cmdbus_kind *kind)
{
	size_t pl, dl;
	const char *dev, *slash, *k;

	if (!topic || !cmdbus_prefix_valid(prefix))
		return -ERR_MALFORMED;
	pl = strlen(prefix);
	if (strncmp(topic, prefix, pl) != 0 || topic[pl] != '/')
		return -ERR_MALFORMED;
	dev = topic + pl + 1;
	slash = strchr(dev, '/');
	if (!slash)
		return -ERR_MALFORMED;
	dl = (size_t)(slash - dev);
	if (dl == 0 || dl > CMDBUS_NAME_MAX)
		return -ERR_MALFORMED;
	k = slash + 1;
	for (int i = CMDBUS_KIND_CMD; i <= CMDBUS_KIND_STATUS; i++) {
		if (strcmp(k, cmdbus_kind_name((enum cmdbus_kind)i)) == 0) {
			memcpy(device, dev, dl);
			device[dl] = '\0';
			if (!cmdbus_valid_device_id(device)) {
				device[0] = '\0';
				return -ERR_MALFORMED;
			}
			*kind = (enum cmdbus_kind)i;
			return 0;
		}
	}
	return -ERR_MALFORMED;
}
