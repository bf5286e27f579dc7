/* SPDX-License-Identifier: MIT */
/* Names of the contract: kinds, states and message types, and the checks
 * on device ids, execution ids, action names and labels, written out by
 * hand so that they match the contract's patterns exactly. */
#include <string.h>

#include "cmdbus/msg.h"
#include "cmdbus/proto.h"
#include "common/err.h"

static const char *const kind_names[] = {"cmd", "result", "status"};

const char *
cmdbus_kind_name(enum cmdbus_kind k)
{
	if ((unsigned)k >= sizeof(kind_names) / sizeof(kind_names[0]))
		return NULL;
	return kind_names[k];
}

static const char *const state_names[CMDBUS_STATE_COUNT] = {
    "QUEUED", "PUBLISHED", "DELIVERED", "ACCEPTED", "RUNNING", "SUCCEEDED",
    "FAILED", "TIMED_OUT", "CANCELED",	"REJECTED", "EXPIRED", "LOST",
};

const char *
cmdbus_state_name(enum cmdbus_state s)
{
	if ((unsigned)s >= CMDBUS_STATE_COUNT)
		return NULL;
	return state_names[s];
}

int
cmdbus_state_parse(const char *s, enum cmdbus_state *out)
{
	if (!s)
		return -ERR_MALFORMED;
	for (unsigned i = 0; i < CMDBUS_STATE_COUNT; i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum cmdbus_state)i;
			return 0;
		}
	}
	return -ERR_MALFORMED;
}

bool
cmdbus_state_is_terminal(enum cmdbus_state s)
{
	return s >= CMDBUS_STATE_SUCCEEDED && s < CMDBUS_STATE_COUNT;
}

static const char *const type_names[] = {
    "command", "cancel", "report", "output", "result", "status",
};

const char *
cmdbus_msg_type_name(enum cmdbus_msg_type t)
{
	if ((unsigned)t >= sizeof(type_names) / sizeof(type_names[0]))
		return NULL;
	return type_names[t];
}

bool
cmdbus_msg_allowed_on(enum cmdbus_msg_type t, enum cmdbus_kind k)
{
	switch (t) {
	case CMDBUS_MSG_COMMAND:
	case CMDBUS_MSG_CANCEL:
		return k == CMDBUS_KIND_CMD;
	case CMDBUS_MSG_REPORT:
	case CMDBUS_MSG_OUTPUT:
	case CMDBUS_MSG_RESULT:
		return k == CMDBUS_KIND_RESULT;
	case CMDBUS_MSG_STATUS:
		return k == CMDBUS_KIND_STATUS;
	}
	return false;
}

static bool
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

bool
cmdbus_valid_device_id(const char *s)
{
	size_t i;

	if (!s || !is_alnum(s[0]))
		return false;
	for (i = 1; s[i]; i++) {
		if (i >= CMDBUS_NAME_MAX)
			return false;
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' &&
		    s[i] != '-')
			return false;
	}
	return true;
}

bool
cmdbus_valid_id(const char *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; s[i]; i++) {
		if (i >= CMDBUS_ID_MAX)
			return false;
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	}
	return i >= 8;
}

bool
cmdbus_valid_action(const char *s)
{
	size_t i;

	if (!s || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (i = 1; s[i]; i++) {
		char c = s[i];
		if (i >= CMDBUS_NAME_MAX)
			return false;
		if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') &&
		    c != '_' && c != '.' && c != '-')
			return false;
	}
	return true;
}

bool
cmdbus_valid_label(const char *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; s[i]; i++) {
		if (i >= 64)
			return false;
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' &&
		    s[i] != '-')
			return false;
	}
	return i >= 1;
}
