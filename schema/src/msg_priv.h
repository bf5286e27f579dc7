/* SPDX-License-Identifier: MIT */
/* What the message decoder shares with the encoder, which checks its own
 * output by decoding it again, and what both share with the REST views,
 * which show a device's status. */
#ifndef CMDBUS_SCHEMA_MSG_PRIV_H
#define CMDBUS_SCHEMA_MSG_PRIV_H

#include "cmdbus/msg.h"
#include "decode.h"

#define MSG_ERROR_CODE_MAX 31 /* bytes; result.error_code is char[32] */
#define MSG_AGENT_MAX 63      /* bytes; status.agent is char[64] */
#define MSG_PATTERN_MAX 512   /* bytes of a parameter pattern */

/* Decodes a parsed payload into a struct cmdbus_msg (no size check: the
 * caller did it); a schema_dec_tree_fn. */
int schema_msg_decode_tree(struct dec *d, const cJSON *root, void *msg);

/* ^[a-z][a-z0-9_]{0,30}$ */
bool schema_msg_valid_error_code(const char *s);
/* 1..63 bytes of printable ASCII without space. */
bool schema_msg_valid_agent(const char *s);
/* A parameter pattern: 1..MSG_PATTERN_MAX bytes of UTF-8 (NUL excluded
 * by the caller). */
bool schema_msg_valid_pattern(const char *s);

/* The values of a status's labels {"k":"v",...}, actions
 * [{"name":...,"params":{...}},...] and health {...}. 0, or -EINVAL for
 * a value that breaks the contract (a NULL string, an invalid name or
 * pattern, a negative or non-finite load); -ENOMEM sticks in the sbuf. */
int schema_msg_write_labels(struct sbuf *b, const struct cmdbus_label *l,
			    size_t n);
int schema_msg_write_actions(struct sbuf *b, const struct cmdbus_action_desc *a,
			     size_t n);
int schema_msg_write_health(struct sbuf *b, const struct cmdbus_health *h);

#endif
