/* SPDX-License-Identifier: MIT */
/* Ed25519 keys and signatures (OpenSSL 3). The signed bytes are
 * "cmdbus/v1/" KIND "\0" payload: the kind separates the domains, so a
 * signature made for a command never verifies as a result or a status. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cmdbus/envelope.h"
#include "common/err.h"
#include "sign_priv.h"

#define DOMAIN "cmdbus/v1/"

struct cmdbus_key {
	EVP_PKEY *pkey;
	bool priv;
	char kid[CMDBUS_KID_MAX + 1];
};

bool
schema_sign_valid_kid(const char *s, size_t len)
{
	if (len < 1 || len > CMDBUS_KID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

static EVP_PKEY *
read_pem(const char *pem, size_t len, bool *priv)
{
	EVP_PKEY *k;
	BIO *bio;

	if (len > INT32_MAX)
		return NULL;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return NULL;
	k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (k) {
		*priv = true;
		return k;
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return NULL;
	k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	*priv = false;
	return k;
}

int
cmdbus_key_from_pem(const char *pem, size_t len, const char *kid,
		    struct cmdbus_key **out)
{
	struct cmdbus_key *k;
	EVP_PKEY *pkey;
	bool priv = false;

	if (!kid || !schema_sign_valid_kid(kid, strlen(kid)) || !pem)
		return -EINVAL;
	pkey = read_pem(pem, len, &priv);
	/* The failed attempts leave entries on this thread's error queue;
	 * they say nothing to the next caller. */
	ERR_clear_error();
	if (!pkey)
		return -ERR_CRYPTO;
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		return -ERR_CRYPTO;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		EVP_PKEY_free(pkey);
		return -ENOMEM;
	}
	k->pkey = pkey;
	k->priv = priv;
	memcpy(k->kid, kid, strlen(kid) + 1);
	*out = k;
	return 0;
}

void
cmdbus_key_free(struct cmdbus_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

const char *
cmdbus_key_kid(const struct cmdbus_key *k)
{
	return k->kid;
}

bool
cmdbus_key_is_private(const struct cmdbus_key *k)
{
	return k->priv;
}

/* The bytes that are signed; *out is malloc'd. */
static int
signed_bytes(enum cmdbus_kind kind, const char *payload, size_t len,
	     unsigned char **out, size_t *outlen)
{
	const char *kn = cmdbus_kind_name(kind);
	size_t dl = strlen(DOMAIN), kl, n;
	unsigned char *b;

	if (!kn)
		return -EINVAL;
	kl = strlen(kn);
	if (len > SIZE_MAX - dl - kl - 1)
		return -ENOMEM;
	n = dl + kl + 1 + len;
	b = malloc(n ? n : 1);
	if (!b)
		return -ENOMEM;
	memcpy(b, DOMAIN, dl);
	memcpy(b + dl, kn, kl);
	b[dl + kl] = '\0';
	if (len)
		memcpy(b + dl + kl + 1, payload, len);
	*out = b;
	*outlen = n;
	return 0;
}

int
cmdbus_sign(const struct cmdbus_key *key, enum cmdbus_kind kind,
	    const char *payload, size_t len,
	    unsigned char sig[CMDBUS_ED25519_SIG])
{
	unsigned char *msg;
	size_t mlen, slen = CMDBUS_ED25519_SIG;
	EVP_MD_CTX *ctx;
	int rc;

	if (!key || !key->priv)
		return -EINVAL;
	rc = signed_bytes(kind, payload, len, &msg, &mlen);
	if (rc < 0)
		return rc;
	ctx = EVP_MD_CTX_new();
	rc = -ERR_CRYPTO;
	if (ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
	    EVP_DigestSign(ctx, sig, &slen, msg, mlen) == 1 &&
	    slen == CMDBUS_ED25519_SIG)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	free(msg);
	if (rc < 0)
		ERR_clear_error();
	return rc;
}

static bool
verify_one(const struct cmdbus_key *key, const unsigned char *msg, size_t mlen,
	   const unsigned char *sig)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = false;

	if (ctx &&
	    EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key->pkey) == 1 &&
	    EVP_DigestVerify(ctx, sig, CMDBUS_ED25519_SIG, msg, mlen) == 1)
		ok = true;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

int
cmdbus_verify(const struct cmdbus_envelope *env, enum cmdbus_kind kind,
	      const struct cmdbus_key *const *trusted, size_t ntrusted)
{
	unsigned char *msg;
	size_t mlen;
	bool ok = false;
	int rc;

	if (!env || env->alg != CMDBUS_ALG_ED25519 || !env->has_sig ||
	    !env->kid[0] || !env->payload)
		return -ERR_BAD_SIGNATURE;
	rc = signed_bytes(kind, env->payload, env->payload_len, &msg, &mlen);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		return -ERR_BAD_SIGNATURE;
	/* Every trusted key of that kid is tried, so that a key can be
	 * replaced under the same name during a rotation. */
	for (size_t i = 0; i < ntrusted && !ok; i++) {
		if (!trusted[i] || strcmp(trusted[i]->kid, env->kid) != 0)
			continue;
		ok = verify_one(trusted[i], msg, mlen, env->sig);
	}
	free(msg);
	return ok ? 0 : -ERR_BAD_SIGNATURE;
}
