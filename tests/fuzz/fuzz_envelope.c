/* SPDX-License-Identifier: MIT */
/* Fuzzes the envelope: unwrapped with no trusted key and, for each kind,
 * with the two test keys of tests/vectors/keys trusted. An envelope taken
 * apart without keys must wrap again (unsigned) and give back the same
 * payload. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char pub_a[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEA24VEpdcitQgzPyUxhBZtmXvtd9d0vOIknG8ulYrdTeg=\n"
    "-----END PUBLIC KEY-----\n";
static const char pub_b[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAOulzrL8Y36E3yyIbuIHlEXV+a576Ta1Whup1oYJyWAQ=\n"
    "-----END PUBLIC KEY-----\n";

static const struct cmdbus_key *trusted[2];

static void
load_keys(void)
{
	struct cmdbus_key *a = NULL, *b = NULL;

	if (trusted[0])
		return;
	if (cmdbus_key_from_pem(pub_a, sizeof(pub_a) - 1, "test-2026a", &a) ||
	    cmdbus_key_from_pem(pub_b, sizeof(pub_b) - 1, "test-2026b", &b))
		abort();
	trusted[0] = a;
	trusted[1] = b;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmdbus_envelope env, env2;
	struct cmdbus_diag d;
	char *re = NULL;
	size_t relen;

	load_keys();
	if (cmdbus_envelope_unwrap(CMDBUS_KIND_CMD, (const char *)data, size,
				   NULL, 0, &env, &d) == 0) {
		if (strlen(env.payload) != env.payload_len)
			abort();
		if (cmdbus_envelope_wrap(CMDBUS_KIND_CMD, env.payload,
					 env.payload_len, NULL, &re,
					 &relen) == 0) {
			if (cmdbus_envelope_unwrap(CMDBUS_KIND_CMD, re, relen,
						   NULL, 0, &env2, &d) != 0 ||
			    env2.payload_len != env.payload_len ||
			    memcmp(env2.payload, env.payload,
				   env.payload_len) != 0)
				abort();
			cmdbus_envelope_fini(&env2);
			free(re);
		}
		cmdbus_envelope_fini(&env);
	}
	for (int k = CMDBUS_KIND_CMD; k <= CMDBUS_KIND_STATUS; k++) {
		if (cmdbus_envelope_unwrap((enum cmdbus_kind)k,
					   (const char *)data, size, trusted, 2,
					   &env, &d) == 0) {
			if (env.alg != CMDBUS_ALG_ED25519 || !env.has_sig)
				abort();
			cmdbus_envelope_fini(&env);
		}
	}
	return 0;
}
