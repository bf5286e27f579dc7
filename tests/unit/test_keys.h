/* SPDX-License-Identifier: MIT */
/* Keys for the signing tests: an OpenSSL key turned into the schema
 * library's cmdbus_key through its PEM form, as a key file would be. */
#ifndef TEST_KEYS_H
#define TEST_KEYS_H

#include <stdbool.h>

#include <openssl/evp.h>

#include "cmdbus/envelope.h"

/* The private (private_part) or public half of pk under `kid`; the
 * caller frees it with cmdbus_key_free. Fails the test on error. */
struct cmdbus_key *test_key_from_pkey(const char *kid, bool private_part,
				      EVP_PKEY *pk);

#endif
