/* SPDX-License-Identifier: MIT */
/* What the message decoder shares with the encoder, which checks its own
 * output by decoding it again, and with the REST views. */
#ifndef CMDBUS_SCHEMA_MSG_PRIV_H
#define CMDBUS_SCHEMA_MSG_PRIV_H

#include "cmdbus/msg.h"
#include "decode.h"

#define MSG_ERROR_CODE_MAX 31 /* bytes; result.error_code is char[32] */
#define MSG_AGENT_MAX 63      /* bytes; status.agent is char[64] */
#define MSG_PATTERN_MAX 512   /* bytes of a parameter pattern */

/* Decodes a parsed payload (no size check: the caller did it). */
int schema_msg_decode_tree(struct dec *d, const cJSON *root,
			   struct cmdbus_msg *out);

/* ^[a-z][a-z0-9_]{0,30}$ */
bool schema_msg_valid_error_code(const char *s);
/* 1..63 bytes of printable ASCII without space. */
bool schema_msg_valid_agent(const char *s);

#endif
