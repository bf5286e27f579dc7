/* SPDX-License-Identifier: MIT */
/* The envelope that carries every message, and its Ed25519 signature over
 * "cmdbus/v1/" KIND "\0" payload (OpenSSL 3). */
#ifndef CMDBUS_ENVELOPE_H
#define CMDBUS_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "cmdbus/proto.h"

enum cmdbus_alg {
	CMDBUS_ALG_NONE,
	CMDBUS_ALG_ED25519,
	CMDBUS_ALG_OTHER, /* a name this version does not know */
};

struct cmdbus_envelope {
	enum cmdbus_alg alg;
	char kid[CMDBUS_KID_MAX + 1];  /* "" when absent */
	unsigned char sig[CMDBUS_ED25519_SIG];
	bool has_sig;
	char *payload;     /* owned, NUL-terminated decoded payload string */
	size_t payload_len;
};

/* An Ed25519 key, private (signs and verifies) or public (verifies), with
 * the key id it is known by. Opaque. */
struct cmdbus_key;

/* Loads a key from PEM text held in memory (the caller reads the file).
 * `kid` must be 1..64 bytes of [A-Za-z0-9_.-]. 0; -EINVAL (bad kid);
 * -ERR_CRYPTO (not an Ed25519 key); -ENOMEM. *out is the caller's to
 * free with cmdbus_key_free(). */
int cmdbus_key_from_pem(const char *pem, size_t len, const char *kid,
			struct cmdbus_key **out);
void cmdbus_key_free(struct cmdbus_key *k); /* NULL is a no-op */
const char *cmdbus_key_kid(const struct cmdbus_key *k); /* borrowed */
bool cmdbus_key_is_private(const struct cmdbus_key *k);

/* Signs "cmdbus/v1/" KIND "\0" payload with a private key. 0, -EINVAL
 * (public key), -ERR_CRYPTO. */
int cmdbus_sign(const struct cmdbus_key *key, enum cmdbus_kind kind,
		const char *payload, size_t len,
		unsigned char sig[CMDBUS_ED25519_SIG]);

/* Verifies an envelope against trusted keys (matched by kid). 0, or
 * -ERR_BAD_SIGNATURE for alg none or unknown, unknown kid, missing or bad
 * signature. */
int cmdbus_verify(const struct cmdbus_envelope *env, enum cmdbus_kind kind,
		  const struct cmdbus_key *const *trusted, size_t ntrusted);

/* Builds the envelope text around a payload: signed with `key`, or
 * unsigned ("alg":"none") when key is NULL. *out is malloc'd and
 * NUL-terminated. 0, -ERR_TOO_LARGE (over CMDBUS_MAX_MESSAGE),
 * -ERR_CRYPTO, -ENOMEM. */
int cmdbus_envelope_wrap(enum cmdbus_kind kind, const char *payload,
			 size_t len, const struct cmdbus_key *key, char **out,
			 size_t *outlen);

/* Parses an envelope (size checked first, then strict JSON, "v":1, the
 * alg/kid/sig rules) and, when ntrusted > 0, verifies it. With no trusted
 * keys alg, kid and sig are not checked beyond their JSON types. 0;
 * -ERR_TOO_LARGE, -ERR_MALFORMED, -ERR_BAD_SIGNATURE, -ENOMEM with diag
 * filled. On success release with cmdbus_envelope_fini(). */
int cmdbus_envelope_unwrap(enum cmdbus_kind kind, const char *msg,
			   size_t len, const struct cmdbus_key *const *trusted,
			   size_t ntrusted, struct cmdbus_envelope *out,
			   struct cmdbus_diag *diag);
void cmdbus_envelope_fini(struct cmdbus_envelope *env);

#endif
