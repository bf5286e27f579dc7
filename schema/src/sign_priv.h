/* SPDX-License-Identifier: MIT */
/* What the envelope shares with the signing code. */
#ifndef CMDBUS_SCHEMA_SIGN_PRIV_H
#define CMDBUS_SCHEMA_SIGN_PRIV_H

#include <stdbool.h>
#include <stddef.h>

/* A key id: 1..64 bytes of [A-Za-z0-9_.-]. */
bool schema_sign_valid_kid(const char *s, size_t len);

#endif
