/* SPDX-License-Identifier: MIT */
/* The envelope {"v":1,"alg":...,"kid":...,"sig":...,"payload":"..."}:
 * built around an encoded payload, and taken apart on receipt with the
 * size checked before anything is parsed and the signature verified when
 * keys are trusted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/envelope.h"
#include "common/err.h"
#include "decode.h"
#include "sign_priv.h"

int
cmdbus_envelope_wrap(enum cmdbus_kind kind, const char *payload, size_t len,
		     const struct cmdbus_key *key, char **out, size_t *outlen)
{
	unsigned char sig[CMDBUS_ED25519_SIG];
	struct sbuf b;
	size_t n;
	int rc;

	if (!payload || !cmdbus_kind_name(kind))
		return -EINVAL;
	/* The payload travels as a JSON string: it must be text. */
	if (!schema_utf8_valid(payload, len) ||
	    schema_bytes_have_nul(payload, len))
		return -EINVAL;
	if (len > CMDBUS_MAX_MESSAGE)
		return -ERR_TOO_LARGE;
	if (key) {
		rc = cmdbus_sign(key, kind, payload, len, sig);
		if (rc < 0)
			return rc;
	}
	schema_sbuf_init(&b);
	schema_sbuf_puts(&b, "{\"v\":1,\"alg\":");
	if (key) {
		const char *kid = cmdbus_key_kid(key);
		schema_sbuf_puts(&b, "\"ed25519\",\"kid\":");
		schema_json_write_string(&b, kid, strlen(kid));
		schema_sbuf_puts(&b, ",\"sig\":\"");
		schema_b64_encode(&b, sig, sizeof(sig));
		schema_sbuf_puts(&b, "\"");
	} else {
		schema_sbuf_puts(&b, "\"none\"");
	}
	schema_sbuf_puts(&b, ",\"payload\":");
	schema_json_write_string(&b, payload, len);
	schema_sbuf_putc(&b, '}');
	if (!b.err && b.len > CMDBUS_MAX_MESSAGE) {
		schema_sbuf_fini(&b);
		return -ERR_TOO_LARGE;
	}
	rc = schema_sbuf_steal(&b, out, &n);
	if (rc == 0 && outlen)
		*outlen = n;
	return rc;
}

/* kid and sig as they must be with "ed25519" (and only then). */
static int
read_kid_sig(struct dec *d, const cJSON *kidn, const cJSON *sign,
	     struct cmdbus_envelope *env, bool strict)
{
	const char *s;
	size_t len;

	if (kidn) {
		s = schema_json_str(kidn, &len);
		if (schema_sign_valid_kid(s, len))
			memcpy(env->kid, s, len + 1);
		else if (strict)
			return schema_dec_fail(d, "kid",
					       "'kid' is 1..64 bytes of "
					       "[A-Za-z0-9_.-]");
	} else if (strict) {
		return schema_dec_fail(d, "kid",
				       "'kid' is required with ed25519");
	}
	if (sign) {
		char *raw = NULL;
		size_t rl = 0;
		int rc;

		s = schema_json_str(sign, &len);
		rc = schema_b64_decode(s, len, &raw, &rl);
		if (rc == -ENOMEM)
			return rc;
		if (rc == 0 && rl == CMDBUS_ED25519_SIG) {
			memcpy(env->sig, raw, CMDBUS_ED25519_SIG);
			env->has_sig = true;
		}
		free(raw);
		if (!env->has_sig && strict)
			return schema_dec_fail(
			    d, "sig", "'sig' is the base64 of 64 bytes");
	} else if (strict) {
		return schema_dec_fail(d, "sig",
				       "'sig' is required with ed25519");
	}
	return 0;
}

/* The payload's id, when one can be read, so that a refused envelope can
 * still be answered. */
static void
peek_id(const char *p, size_t len, struct cmdbus_diag *diag)
{
	struct json_err je;
	cJSON *root = NULL;
	const char *id;
	size_t il;

	if (schema_json_parse(p, len, &root, &je) < 0)
		return;
	id = schema_json_str(schema_json_get(root, "id"), &il);
	if (id && il < sizeof(diag->id) && !schema_bytes_have_nul(id, il) &&
	    cmdbus_valid_id(id))
		memcpy(diag->id, id, il + 1);
	cJSON_Delete(root);
}

static int
unwrap_tree(struct dec *d, const cJSON *root, size_t ntrusted,
	    struct cmdbus_envelope *env)
{
	const cJSON *v, *kidn, *sign;
	const char *alg_s;
	size_t alen = 0;
	uint64_t ver;
	size_t plen;
	const char *p;
	int rc;

	if (!cJSON_IsObject(root))
		return schema_dec_fail(d, "",
				       "the envelope is not a JSON object");
	v = schema_json_get(root, "v");
	if (!v)
		return schema_dec_fail(d, "v", "required field 'v' is missing");
	if (schema_json_u64(v, &ver) < 0 || ver != CMDBUS_PROTO_VERSION)
		return schema_dec_fail(d, "v", "'v' must be the integer 1");
	p = schema_json_str(schema_json_get(root, "payload"), &plen);
	if (!schema_json_get(root, "payload"))
		return schema_dec_fail(d, "payload",
				       "required field 'payload' is missing");
	if (!p)
		return schema_dec_fail(d, "payload",
				       "'payload' must be a string");
	if (schema_bytes_have_nul(p, plen))
		return schema_dec_fail(d, "payload",
				       "'payload' must not contain NUL");
	alg_s = schema_json_str(schema_json_get(root, "alg"), &alen);
	if (!schema_json_get(root, "alg"))
		return schema_dec_fail(d, "alg",
				       "required field 'alg' is missing");
	if (!alg_s)
		return schema_dec_fail(d, "alg", "'alg' must be a string");
	/* Held from here on, so that a refusal can still read the id; the
	 * payload is parsed only after the envelope and its signature have
	 * been judged. */
	env->payload = schema_dec_strdup(p, plen);
	if (!env->payload)
		return -ENOMEM;
	env->payload_len = plen;
	kidn = schema_json_get(root, "kid");
	sign = schema_json_get(root, "sig");
	if (kidn && !cJSON_IsString(kidn))
		return schema_dec_fail(d, "kid", "'kid' must be a string");
	if (sign && !cJSON_IsString(sign))
		return schema_dec_fail(d, "sig", "'sig' must be a string");

	if (alen == 4 && memcmp(alg_s, "none", 4) == 0)
		env->alg = CMDBUS_ALG_NONE;
	else if (alen == 7 && memcmp(alg_s, "ed25519", 7) == 0)
		env->alg = CMDBUS_ALG_ED25519;
	else
		env->alg = CMDBUS_ALG_OTHER;

	/* With no trusted key the contract says alg, kid and sig are
	 * ignored; they are still read when well-formed, for the logs. */
	if (env->alg == CMDBUS_ALG_NONE && ntrusted > 0) {
		if (kidn)
			return schema_dec_fail(
			    d, "kid", "'kid' is not allowed with alg none");
		if (sign)
			return schema_dec_fail(
			    d, "sig", "'sig' is not allowed with alg none");
	} else if (env->alg == CMDBUS_ALG_ED25519 || ntrusted == 0) {
		rc = read_kid_sig(d, kidn, sign, env,
				  ntrusted > 0 &&
				      env->alg == CMDBUS_ALG_ED25519);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static const char *
bad_sig_field(const struct cmdbus_envelope *env,
	      const struct cmdbus_key *const *trusted, size_t ntrusted)
{
	if (env->alg != CMDBUS_ALG_ED25519)
		return "alg";
	for (size_t i = 0; i < ntrusted; i++)
		if (trusted[i] &&
		    strcmp(cmdbus_key_kid(trusted[i]), env->kid) == 0)
			return "sig";
	return "kid";
}

int
cmdbus_envelope_unwrap(enum cmdbus_kind kind, const char *msg, size_t len,
		       const struct cmdbus_key *const *trusted, size_t ntrusted,
		       struct cmdbus_envelope *out, struct cmdbus_diag *diag)
{
	struct cmdbus_diag spare;
	struct dec d;
	cJSON *root = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	schema_dec_init(&d, diag, &spare, CMDBUS_E_MALFORMED);
	if (!cmdbus_kind_name(kind))
		return schema_dec_fail(&d, "", "unknown topic kind");
	rc = schema_dec_parse(&d, msg, len, CMDBUS_MAX_MESSAGE, &root);
	if (rc < 0)
		return rc;
	rc = unwrap_tree(&d, root, ntrusted, out);
	cJSON_Delete(root);
	if (rc == 0 && ntrusted > 0) {
		rc = cmdbus_verify(out, kind, trusted, ntrusted);
		if (rc == -ERR_BAD_SIGNATURE) {
			d.code = CMDBUS_E_BAD_SIGNATURE;
			schema_dec_fail(&d,
					bad_sig_field(out, trusted, ntrusted),
					"the signature does not verify with a "
					"trusted key");
			rc = -ERR_BAD_SIGNATURE;
		}
	}
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(d.diag->message, sizeof(d.diag->message),
				 "out of memory");
		else if (out->payload)
			/* Only a refused message has its payload read here,
			 * and only for its id, so that it can be answered:
			 * nothing of an unverified payload is parsed before
			 * its signature is checked. */
			peek_id(out->payload, out->payload_len, d.diag);
		cmdbus_envelope_fini(out);
	}
	return rc;
}

void
cmdbus_envelope_fini(struct cmdbus_envelope *env)
{
	if (!env)
		return;
	free(env->payload);
	memset(env, 0, sizeof(*env));
}
