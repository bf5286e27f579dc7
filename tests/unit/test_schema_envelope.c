/* SPDX-License-Identifier: MIT */
/* The envelope and its Ed25519 signature, with the test keys of
 * tests/vectors/keys: wrap and unwrap, any flipped byte refused, kinds
 * kept apart, unknown key ids, and two trusted keys during a rotation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmdbus/envelope.h"
#include "common/err.h"
#include "test_schema_files.h"

#define ID "01JD3QX4Z5W8K2N7R9T1V3B6YC"
static const char payload[] =
    "{\"type\":\"cancel\",\"id\":\"" ID "\",\"device\":\"dev-1\","
    "\"iat\":1,\"exp\":2}";

struct keys {
	struct cmdbus_key *priv_a, *pub_a, *priv_b, *pub_b;
};

static struct cmdbus_key *
load(const char *file, const char *kid)
{
	char rel[128];
	struct cmdbus_key *k = NULL;
	size_t n;
	char *pem;

	snprintf(rel, sizeof(rel), "keys/%s", file);
	pem = test_vector_read(rel, &n);
	assert_int_equal(cmdbus_key_from_pem(pem, n, kid, &k), 0);
	free(pem);
	return k;
}

static int
setup(void **state)
{
	struct keys *k = calloc(1, sizeof(*k));

	assert_non_null(k);
	k->priv_a = load("test-2026a.key.pem", "test-2026a");
	k->pub_a = load("test-2026a.pub.pem", "test-2026a");
	k->priv_b = load("test-2026b.key.pem", "test-2026b");
	k->pub_b = load("test-2026b.pub.pem", "test-2026b");
	*state = k;
	return 0;
}

static int
teardown(void **state)
{
	struct keys *k = *state;

	cmdbus_key_free(k->priv_a);
	cmdbus_key_free(k->pub_a);
	cmdbus_key_free(k->priv_b);
	cmdbus_key_free(k->pub_b);
	free(k);
	return 0;
}

static char *
wrap(enum cmdbus_kind kind, const struct cmdbus_key *key, size_t *len)
{
	char *out = NULL;

	assert_int_equal(cmdbus_envelope_wrap(kind, payload, strlen(payload),
					      key, &out, len),
			 0);
	return out;
}

static int
unwrap(enum cmdbus_kind kind, const char *msg, size_t len,
       const struct cmdbus_key *const *trusted, size_t n, struct cmdbus_diag *d)
{
	struct cmdbus_envelope env;
	int rc = cmdbus_envelope_unwrap(kind, msg, len, trusted, n, &env, d);

	if (rc == 0) {
		assert_int_equal(env.payload_len, strlen(payload));
		assert_memory_equal(env.payload, payload, env.payload_len);
		cmdbus_envelope_fini(&env);
	}
	return rc;
}

static void
test_keys(void **state)
{
	struct keys *k = *state;
	static const char ec_pub[] =
	    "-----BEGIN PUBLIC KEY-----\n"
	    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\n"
	    "q9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n"
	    "-----END PUBLIC KEY-----\n";
	struct cmdbus_key *x = NULL;
	unsigned char sig[CMDBUS_ED25519_SIG], sig2[CMDBUS_ED25519_SIG];

	(void)state;
	assert_true(cmdbus_key_is_private(k->priv_a));
	assert_false(cmdbus_key_is_private(k->pub_a));
	assert_string_equal(cmdbus_key_kid(k->pub_b), "test-2026b");
	assert_int_equal(cmdbus_key_from_pem("junk", 4, "k", &x), -ERR_CRYPTO);
	assert_int_equal(
	    cmdbus_key_from_pem(ec_pub, sizeof(ec_pub) - 1, "k", &x),
	    -ERR_CRYPTO);
	assert_null(x);
	assert_int_equal(
	    cmdbus_key_from_pem(ec_pub, sizeof(ec_pub) - 1, "bad kid", &x),
	    -EINVAL);
	assert_int_equal(
	    cmdbus_key_from_pem(ec_pub, sizeof(ec_pub) - 1, "", &x), -EINVAL);
	cmdbus_key_free(NULL);
	/* Only a private key signs; Ed25519 is deterministic. */
	assert_int_equal(cmdbus_sign(k->pub_a, CMDBUS_KIND_CMD, "x", 1, sig),
			 -EINVAL);
	assert_int_equal(cmdbus_sign(k->priv_a, CMDBUS_KIND_CMD, "x", 1, sig),
			 0);
	assert_int_equal(cmdbus_sign(k->priv_a, CMDBUS_KIND_CMD, "x", 1, sig2),
			 0);
	assert_memory_equal(sig, sig2, sizeof(sig));
	assert_int_equal(
	    cmdbus_sign(k->priv_a, CMDBUS_KIND_RESULT, "x", 1, sig2), 0);
	assert_memory_not_equal(sig, sig2, sizeof(sig));
}

static void
test_unsigned(void **state)
{
	struct keys *k = *state;
	const struct cmdbus_key *trusted[] = {k->pub_a};
	struct cmdbus_diag d;
	size_t len;
	char *msg = wrap(CMDBUS_KIND_CMD, NULL, &len);

	assert_string_equal(
	    msg, "{\"v\":1,\"alg\":\"none\",\"payload\":\"{\\\"type\\\":"
		 "\\\"cancel\\\",\\\"id\\\":\\\"" ID "\\\",\\\"device\\\":"
		 "\\\"dev-1\\\",\\\"iat\\\":1,\\\"exp\\\":2}\"}");
	assert_int_equal(strlen(msg), len);
	assert_int_equal(unwrap(CMDBUS_KIND_CMD, msg, len, NULL, 0, &d), 0);
	/* A receiver that trusts keys refuses it, and can still answer. */
	assert_int_equal(unwrap(CMDBUS_KIND_CMD, msg, len, trusted, 1, &d),
			 -ERR_BAD_SIGNATURE);
	assert_string_equal(d.code, "bad_signature");
	assert_string_equal(d.field, "alg");
	assert_string_equal(d.id, ID);
	free(msg);
}

static void
test_signed(void **state)
{
	struct keys *k = *state;
	const struct cmdbus_key *trusted[] = {k->pub_a};
	struct cmdbus_envelope env;
	struct cmdbus_diag d;
	size_t len;
	char *msg = wrap(CMDBUS_KIND_CMD, k->priv_a, &len);

	assert_int_equal(strncmp(msg,
				 "{\"v\":1,\"alg\":\"ed25519\",\"kid\":"
				 "\"test-2026a\",\"sig\":\"",
				 49),
			 0);
	assert_int_equal(unwrap(CMDBUS_KIND_CMD, msg, len, trusted, 1, &d), 0);
	/* Verifying with the private key works too. */
	trusted[0] = k->priv_a;
	assert_int_equal(unwrap(CMDBUS_KIND_CMD, msg, len, trusted, 1, &d), 0);
	/* Without trusted keys the fields are read but not checked. */
	assert_int_equal(cmdbus_envelope_unwrap(CMDBUS_KIND_CMD, msg, len, NULL,
						0, &env, &d),
			 0);
	assert_int_equal(env.alg, CMDBUS_ALG_ED25519);
	assert_string_equal(env.kid, "test-2026a");
	assert_true(env.has_sig);
	trusted[0] = k->pub_a;
	assert_int_equal(cmdbus_verify(&env, CMDBUS_KIND_CMD, trusted, 1), 0);
	assert_int_equal(cmdbus_verify(&env, CMDBUS_KIND_CMD, trusted, 0),
			 -ERR_BAD_SIGNATURE);
	cmdbus_envelope_fini(&env);
	cmdbus_envelope_fini(&env); /* safe twice */
	free(msg);
}

static void
test_kinds_apart(void **state)
{
	struct keys *k = *state;
	const struct cmdbus_key *trusted[] = {k->pub_a};
	enum cmdbus_kind kinds[] = {CMDBUS_KIND_CMD, CMDBUS_KIND_RESULT,
				    CMDBUS_KIND_STATUS};
	struct cmdbus_diag d;

	(void)state;
	for (int i = 0; i < 3; i++) {
		size_t len;
		char *msg = wrap(kinds[i], k->priv_a, &len);
		for (int j = 0; j < 3; j++) {
			int rc = unwrap(kinds[j], msg, len, trusted, 1, &d);
			if (i == j) {
				assert_int_equal(rc, 0);
			} else {
				assert_int_equal(rc, -ERR_BAD_SIGNATURE);
				assert_string_equal(d.field, "sig");
			}
		}
		free(msg);
	}
}

/* Every byte of the signed envelope, changed in three ways, is refused:
 * as unparseable, malformed, or with a signature that fails. */
static void
test_flipped_bytes(void **state)
{
	struct keys *k = *state;
	const struct cmdbus_key *trusted[] = {k->pub_a};
	static const unsigned char masks[] = {0x01, 0x20, 0x80};
	struct cmdbus_diag d;
	size_t len, refused = 0;
	char *msg = wrap(CMDBUS_KIND_CMD, k->priv_a, &len);

	for (size_t i = 0; i < len; i++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			int rc;
			msg[i] = (char)(msg[i] ^ masks[m]);
			rc = unwrap(CMDBUS_KIND_CMD, msg, len, trusted, 1, &d);
			msg[i] = (char)(msg[i] ^ masks[m]);
			if (rc == 0)
				fail_msg("byte %zu ^ 0x%02x accepted", i,
					 masks[m]);
			refused++;
		}
	}
	assert_int_equal(refused, len * 3);
	assert_int_equal(unwrap(CMDBUS_KIND_CMD, msg, len, trusted, 1, &d), 0);
	free(msg);
}

/* The same with the decoded payload and the raw signature bits. */
static void
test_flipped_payload_and_sig(void **state)
{
	struct keys *k = *state;
	const struct cmdbus_key *trusted[] = {k->pub_a};
	struct cmdbus_envelope env;
	struct cmdbus_diag d;
	size_t len;
	char *msg = wrap(CMDBUS_KIND_CMD, k->priv_a, &len);

	assert_int_equal(cmdbus_envelope_unwrap(CMDBUS_KIND_CMD, msg, len,
						trusted, 1, &env, &d),
			 0);
	for (size_t i = 0; i < env.payload_len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			env.payload[i] = (char)(env.payload[i] ^ (1 << bit));
			assert_int_equal(
			    cmdbus_verify(&env, CMDBUS_KIND_CMD, trusted, 1),
			    -ERR_BAD_SIGNATURE);
			env.payload[i] = (char)(env.payload[i] ^ (1 << bit));
		}
	}
	for (size_t i = 0; i < CMDBUS_ED25519_SIG; i++) {
		for (int bit = 0; bit < 8; bit++) {
			env.sig[i] = (unsigned char)(env.sig[i] ^ (1 << bit));
			assert_int_equal(
			    cmdbus_verify(&env, CMDBUS_KIND_CMD, trusted, 1),
			    -ERR_BAD_SIGNATURE);
			env.sig[i] = (unsigned char)(env.sig[i] ^ (1 << bit));
		}
	}
	/* A shorter or longer payload fails too. */
	env.payload_len--;
	assert_int_equal(cmdbus_verify(&env, CMDBUS_KIND_CMD, trusted, 1),
			 -ERR_BAD_SIGNATURE);
	env.payload_len++;
	assert_int_equal(cmdbus_verify(&env, CMDBUS_KIND_CMD, trusted, 1), 0);
	cmdbus_envelope_fini(&env);
	free(msg);
}

static void
test_rotation_and_kids(void **state)
{
	struct keys *k = *state;
	const struct cmdbus_key *both[] = {k->pub_a, k->pub_b};
	const struct cmdbus_key *only_b[] = {k->pub_b};
	struct cmdbus_diag d;
	size_t la, lb;
	char *ma = wrap(CMDBUS_KIND_RESULT, k->priv_a, &la);
	char *mb = wrap(CMDBUS_KIND_RESULT, k->priv_b, &lb);
	struct cmdbus_key *b_as_a = NULL;
	char *forged;
	size_t lf;

	assert_int_equal(unwrap(CMDBUS_KIND_RESULT, ma, la, both, 2, &d), 0);
	assert_int_equal(unwrap(CMDBUS_KIND_RESULT, mb, lb, both, 2, &d), 0);
	/* The old key retired: its messages no longer pass. */
	assert_int_equal(unwrap(CMDBUS_KIND_RESULT, ma, la, only_b, 1, &d),
			 -ERR_BAD_SIGNATURE);
	assert_string_equal(d.field, "kid");
	/* Key b claiming to be key a. */
	b_as_a = load("test-2026b.key.pem", "test-2026a");
	assert_int_equal(cmdbus_envelope_wrap(CMDBUS_KIND_RESULT, payload,
					      strlen(payload), b_as_a, &forged,
					      &lf),
			 0);
	assert_int_equal(unwrap(CMDBUS_KIND_RESULT, forged, lf, both, 2, &d),
			 -ERR_BAD_SIGNATURE);
	assert_string_equal(d.field, "sig");
	assert_string_equal(d.id, ID);
	free(forged);
	cmdbus_key_free(b_as_a);
	free(ma);
	free(mb);
}

static void
test_structure(void **state)
{
	struct keys *k = *state;
	const struct cmdbus_key *trusted[] = {k->pub_a};
	static const struct {
		const char *msg;
		const char *field;
		bool also_untrusted; /* refused with no keys as well */
	} cases[] = {
	    {"{\"alg\":\"none\",\"payload\":\"{}\"}", "v", true},
	    {"{\"v\":2,\"alg\":\"none\",\"payload\":\"{}\"}", "v", true},
	    {"{\"v\":1.0,\"alg\":\"none\",\"payload\":\"{}\"}", "v", true},
	    {"{\"v\":true,\"alg\":\"none\",\"payload\":\"{}\"}", "v", true},
	    {"{\"v\":1,\"alg\":\"none\"}", "payload", true},
	    {"{\"v\":1,\"alg\":\"none\",\"payload\":{}}", "payload", true},
	    {"{\"v\":1,\"alg\":\"none\",\"payload\":\"a\\u0000\"}", "payload",
	     true},
	    {"{\"v\":1,\"payload\":\"{}\"}", "alg", true},
	    {"{\"v\":1,\"alg\":1,\"payload\":\"{}\"}", "alg", true},
	    {"{\"v\":1,\"alg\":\"none\",\"kid\":1,\"payload\":\"{}\"}", "kid",
	     true},
	    {"{\"v\":1,\"alg\":\"none\",\"sig\":[],\"payload\":\"{}\"}", "sig",
	     true},
	    {"{\"v\":1,\"alg\":\"none\",\"kid\":\"k\",\"payload\":\"{}\"}",
	     "kid", false},
	    {"{\"v\":1,\"alg\":\"none\",\"sig\":\"AAAA\",\"payload\":\"{}\"}",
	     "sig", false},
	    {"{\"v\":1,\"alg\":\"ed25519\",\"sig\":\"AAAA\",\"payload\":"
	     "\"{}\"}",
	     "kid", false},
	    {"{\"v\":1,\"alg\":\"ed25519\",\"kid\":\"k\",\"payload\":"
	     "\"{}\"}",
	     "sig", false},
	    {"{\"v\":1,\"alg\":\"ed25519\",\"kid\":\"k\",\"sig\":\"AAAA\","
	     "\"payload\":\"{}\"}",
	     "sig", false},
	    {"[]", "", true},
	    {"{\"v\":1,\"v\":1,\"alg\":\"none\",\"payload\":\"{}\"}", "", true},
	};
	struct cmdbus_envelope env;
	struct cmdbus_diag d;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].msg);
		int rc =
		    unwrap(CMDBUS_KIND_CMD, cases[i].msg, len, trusted, 1, &d);
		if (rc != -ERR_MALFORMED || strcmp(d.field, cases[i].field))
			fail_msg("case %zu: rc %d field '%s'", i, rc, d.field);
		assert_string_equal(d.code, "malformed");
		rc = cmdbus_envelope_unwrap(CMDBUS_KIND_CMD, cases[i].msg, len,
					    NULL, 0, &env, &d);
		if (cases[i].also_untrusted)
			assert_int_equal(rc, -ERR_MALFORMED);
		else
			assert_int_equal(rc, 0);
		cmdbus_envelope_fini(&env);
	}
}

static void
test_unknown_alg(void **state)
{
	struct keys *k = *state;
	const struct cmdbus_key *trusted[] = {k->pub_a};
	static const char msg[] = "{\"v\":1,\"alg\":\"ed448\",\"kid\":\"k\","
				  "\"sig\":\"AAAA\",\"payload\":\"{}\"}";
	struct cmdbus_envelope env;
	struct cmdbus_diag d;

	assert_int_equal(cmdbus_envelope_unwrap(CMDBUS_KIND_CMD, msg,
						sizeof(msg) - 1, NULL, 0, &env,
						&d),
			 0);
	assert_int_equal(env.alg, CMDBUS_ALG_OTHER);
	assert_string_equal(env.payload, "{}");
	cmdbus_envelope_fini(&env);
	assert_int_equal(cmdbus_envelope_unwrap(CMDBUS_KIND_CMD, msg,
						sizeof(msg) - 1, trusted, 1,
						&env, &d),
			 -ERR_BAD_SIGNATURE);
	assert_string_equal(d.field, "alg");
	assert_null(env.payload);
}

static void
test_sizes(void **state)
{
	struct keys *k = *state;
	size_t n = CMDBUS_MAX_MESSAGE + 1;
	char *big = malloc(n + 1);
	char *out = NULL;
	size_t len;
	struct cmdbus_envelope env;
	struct cmdbus_diag d;

	assert_non_null(big);
	memset(big, '[', n);
	big[n] = '\0';
	assert_int_equal(
	    cmdbus_envelope_unwrap(CMDBUS_KIND_CMD, big, n, NULL, 0, &env, &d),
	    -ERR_TOO_LARGE);
	assert_string_equal(d.code, "too_large");
	/* A payload that fits alone but not in the envelope. */
	memset(big, 'x', n);
	big[0] = '"';
	assert_int_equal(cmdbus_envelope_wrap(CMDBUS_KIND_CMD, big,
					      CMDBUS_MAX_MESSAGE - 40,
					      k->priv_a, &out, &len),
			 -ERR_TOO_LARGE);
	assert_null(out);
	assert_int_equal(cmdbus_envelope_wrap(CMDBUS_KIND_CMD, big,
					      CMDBUS_MAX_MESSAGE - 40, NULL,
					      &out, &len),
			 0);
	/* Quotes are escaped: one more byte each. */
	assert_int_equal(len, CMDBUS_MAX_MESSAGE - 40 + 1 + 33);
	free(out);
	out = NULL;
	/* A payload that is not text. */
	assert_int_equal(
	    cmdbus_envelope_wrap(CMDBUS_KIND_CMD, "a\xff", 2, NULL, &out, &len),
	    -EINVAL);
	assert_int_equal(
	    cmdbus_envelope_wrap(CMDBUS_KIND_CMD, "a\0b", 3, NULL, &out, &len),
	    -EINVAL);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_unsigned),
	    cmocka_unit_test(test_signed),
	    cmocka_unit_test(test_kinds_apart),
	    cmocka_unit_test(test_flipped_bytes),
	    cmocka_unit_test(test_flipped_payload_and_sig),
	    cmocka_unit_test(test_rotation_and_kids),
	    cmocka_unit_test(test_structure),
	    cmocka_unit_test(test_unknown_alg),
	    cmocka_unit_test(test_sizes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
