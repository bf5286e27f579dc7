/* SPDX-License-Identifier: MIT */
/* Signed commands at the agent, each refusal with its code once the keys
 * are trusted (unsigned, unknown alg, unknown kid, bad signature, a
 * signature made for another topic kind, misaddressed, out of its time
 * window, seen before), the signature judged before the payload is
 * parsed, and the agent's own signature on what it publishes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "agent_fake_core.h"
#include "cmdbus/topic.h"
#include "common/err.h"
#include "test_keys.h"

#define ID1 "01JSIGN0000000000000000001"
#define ID2 "01JSIGN0000000000000000002"
#define ID3 "01JSIGN0000000000000000003"

struct keys {
	EVP_PKEY *pk_disp, *pk_other, *pk_dev;
	struct cmdbus_key *disp_priv, *disp_pub, *other_priv, *dev_priv,
	    *dev_pub;
};

static struct keys K;

static int
setup_keys(void **state)
{
	(void)state;
	K.pk_disp = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	K.pk_other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	K.pk_dev = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(K.pk_disp);
	assert_non_null(K.pk_other);
	assert_non_null(K.pk_dev);
	K.disp_priv = test_key_from_pkey("disp-a", true, K.pk_disp);
	K.disp_pub = test_key_from_pkey("disp-a", false, K.pk_disp);
	K.other_priv = test_key_from_pkey("disp-a", true, K.pk_other);
	K.dev_priv = test_key_from_pkey("dev-1", true, K.pk_dev);
	K.dev_pub = test_key_from_pkey("dev-1", false, K.pk_dev);
	return 0;
}

static int
teardown_keys(void **state)
{
	(void)state;
	cmdbus_key_free(K.disp_priv);
	cmdbus_key_free(K.disp_pub);
	cmdbus_key_free(K.other_priv);
	cmdbus_key_free(K.dev_priv);
	cmdbus_key_free(K.dev_pub);
	EVP_PKEY_free(K.pk_disp);
	EVP_PKEY_free(K.pk_other);
	EVP_PKEY_free(K.pk_dev);
	return 0;
}

static const struct cmdbus_key *trusted[1];

static void
start_trusting(void)
{
	trusted[0] = K.disp_pub;
	tc_start(false, trusted, 1, 3600000);
}

/* Hands raw envelope text to the core on dev-1's cmd topic. */
static void
deliver_raw(const char *env)
{
	core_on_message(T.core, "cmdbus/v1/dev-1/cmd", env, strlen(env));
}

/* A payload signed by the dispatcher's key as another topic kind. */
static void
deliver_signed_as(enum cmdbus_kind kind, const char *payload)
{
	char *env = NULL;
	size_t len = 0;
	char *p;

	assert_int_equal(cmdbus_envelope_wrap(kind, payload, strlen(payload),
					      K.disp_priv, &env, &len),
			 0);
	p = strdup(env);
	assert_non_null(p);
	core_on_message(T.core, "cmdbus/v1/dev-1/cmd", p, len);
	free(p);
	free(env);
}

static void
signature_for_another_kind_is_refused(void **state)
{
	const char *p = simple(ID1, "ping", "{}");
	char copy[4096];

	(void)state;
	start_trusting();
	snprintf(copy, sizeof(copy), "%s", p);
	deliver_signed_as(CMDBUS_KIND_RESULT, copy);
	deliver_signed_as(CMDBUS_KIND_STATUS, copy);
	assert_int_equal(T.npubs, 2);
	expect_error(0, CMDBUS_STATE_REJECTED, CMDBUS_E_BAD_SIGNATURE);
	expect_error(1, CMDBUS_STATE_REJECTED, CMDBUS_E_BAD_SIGNATURE);
	assert_int_equal(core_get_stats(T.core)->bad_signature, 2);
	/* The same payload signed for cmd runs: the refusals were not
	 * remembered. */
	tc_clear_pubs(&T);
	deliver_on("dev-1", copy, K.disp_priv);
	assert_int_equal(T.npubs, 2);
	expect_report(0, CMDBUS_STATE_ACCEPTED);
}

static void
unknown_alg_and_kid_are_refused(void **state)
{
	(void)state;
	start_trusting();
	/* An algorithm this version does not know. */
	deliver_raw("{\"v\":1,\"alg\":\"ed448\",\"kid\":\"disp-a\",\"sig\":"
		    "\"AAAA\",\"payload\":\"{\\\"type\\\":\\\"command\\\","
		    "\\\"id\\\":\\\"" ID1 "\\\"}\"}");
	/* A key id nobody trusts, with a well-formed signature. */
	{
		struct cmdbus_key *k =
		    test_key_from_pkey("disp-z", true, K.pk_disp);
		deliver_on("dev-1", simple(ID2, "ping", "{}"), k);
		cmdbus_key_free(k);
	}
	assert_int_equal(T.npubs, 2);
	expect_error(0, CMDBUS_STATE_REJECTED, CMDBUS_E_BAD_SIGNATURE);
	expect_error(1, CMDBUS_STATE_REJECTED, CMDBUS_E_BAD_SIGNATURE);
}

static void
none_with_kid_is_malformed_envelope(void **state)
{
	(void)state;
	start_trusting();
	/* Strict form once keys are trusted: dropped, never answered. */
	deliver_raw("{\"v\":1,\"alg\":\"none\",\"kid\":\"disp-a\",\"payload\":"
		    "\"{\\\"type\\\":\\\"command\\\",\\\"id\\\":\\\"" ID1
		    "\\\"}\"}");
	assert_int_equal(T.npubs, 0);
	assert_int_equal(core_get_stats(T.core)->dropped, 1);
}

static void
signature_comes_before_the_payload(void **state)
{
	(void)state;
	start_trusting();
	/* Unsigned and not even a command: nothing of the payload counts
	 * but its id, and it is refused for its signature, not its
	 * schema. */
	deliver("{\"type\":\"command\",\"id\":\"" ID1 "\",\"iat\":\"x\"}");
	/* Not JSON at all: no id can be read, so it is dropped. */
	deliver("{not json");
	/* A forged cancel is never answered. */
	deliver(cancel(ID2));
	assert_int_equal(T.npubs, 1);
	expect_error(0, CMDBUS_STATE_REJECTED, CMDBUS_E_BAD_SIGNATURE);
	assert_int_equal(core_get_stats(T.core)->bad_signature, 3);
	assert_int_equal(core_get_stats(T.core)->dropped, 2);
}

static void
signed_but_misaddressed_or_out_of_time(void **state)
{
	char copy[4096];

	(void)state;
	start_trusting();
	deliver_on("dev-1",
		   command(ID1, "dev-2", NOW, NOW + 60000, 1000, "ping", "{}"),
		   K.disp_priv);
	deliver_on("dev-1",
		   command(ID2, "dev-1", NOW - 7200000, NOW - SKEW - 1, 1000,
			   "ping", "{}"),
		   K.disp_priv);
	snprintf(copy, sizeof(copy), "%s",
		 command(ID3, "dev-1", NOW + SKEW + 1, NOW + 3600000, 1000,
			 "ping", "{}"));
	deliver_on("dev-1", copy, K.disp_priv);
	assert_int_equal(T.npubs, 3);
	expect_error(0, CMDBUS_STATE_REJECTED, CMDBUS_E_WRONG_DEVICE);
	expect_error(1, CMDBUS_STATE_EXPIRED, CMDBUS_E_EXPIRED);
	expect_error(2, CMDBUS_STATE_REJECTED, CMDBUS_E_NOT_YET_VALID);
	assert_int_equal(core_get_stats(T.core)->runs, 0);
}

static void
signed_replay_never_runs_again(void **state)
{
	char copy[4096];

	(void)state;
	start_trusting();
	snprintf(copy, sizeof(copy), "%s", simple(ID1, "ping", "{}"));
	deliver_on("dev-1", copy, K.disp_priv);
	assert_int_equal(T.npubs, 2);
	/* The same signed message again, now and after exp: answered from
	 * the journal with the same bytes, never run. */
	deliver_on("dev-1", copy, K.disp_priv);
	clock_fake_advance(&T.clk, 2 * 3600000);
	deliver_on("dev-1", copy, K.disp_priv);
	assert_int_equal(T.npubs, 4);
	assert_int_equal(T.pubs[1].len, T.pubs[2].len);
	assert_memory_equal(T.pubs[1].msg, T.pubs[2].msg, T.pubs[1].len);
	assert_memory_equal(T.pubs[1].msg, T.pubs[3].msg, T.pubs[1].len);
	assert_int_equal(core_get_stats(T.core)->runs, 1);
	assert_int_equal(core_get_stats(T.core)->duplicates, 2);
}

static void
adjust_sign(struct core_config *cfg)
{
	cfg->sign_key = K.dev_priv;
}

/* Message i verifies with the device's public key as `kind`. */
static void
expect_signed(size_t i, enum cmdbus_kind kind)
{
	const struct cmdbus_key *dev[] = {K.dev_pub};
	struct cmdbus_envelope env;
	struct cmdbus_diag d;

	memset(&d, 0, sizeof(d));
	assert_int_equal(cmdbus_envelope_unwrap(kind, T.pubs[i].msg,
						T.pubs[i].len, dev, 1, &env,
						&d),
			 0);
	cmdbus_envelope_fini(&env);
	/* And never as another kind. */
	assert_int_equal(cmdbus_envelope_unwrap(
			     kind == CMDBUS_KIND_STATUS ? CMDBUS_KIND_RESULT
							: CMDBUS_KIND_STATUS,
			     T.pubs[i].msg, T.pubs[i].len, dev, 1, &env, &d),
			 -ERR_BAD_SIGNATURE);
}

static void
agent_signs_what_it_publishes(void **state)
{
	char *msg = NULL;
	size_t len = 0;

	(void)state;
	tc_adjust = adjust_sign;
	start_trusting();
	tc_adjust = NULL;
	deliver_on("dev-1", simple(ID1, "ping", "{}"), K.disp_priv);
	/* A refusal is signed too. */
	deliver_on("dev-1", simple(ID2, "reboot", "{}"), K.disp_priv);
	assert_int_equal(T.npubs, 3);
	expect_signed(0, CMDBUS_KIND_RESULT); /* ACCEPTED */
	expect_signed(1, CMDBUS_KIND_RESULT); /* SUCCEEDED */
	expect_signed(2, CMDBUS_KIND_RESULT); /* unknown_action */
	assert_int_equal(core_status(T.core, true, &msg, &len), 0);
	assert_true(T.npubs < MAX_PUBS);
	T.pubs[T.npubs].kind = CMDBUS_KIND_STATUS;
	T.pubs[T.npubs].msg = msg;
	T.pubs[T.npubs].len = len;
	T.npubs++;
	expect_signed(3, CMDBUS_KIND_STATUS);
	assert_non_null(strstr(T.pubs[3].msg, "\"kid\":\"dev-1\""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(signature_for_another_kind_is_refused,
				      tc_teardown),
	    cmocka_unit_test_teardown(unknown_alg_and_kid_are_refused,
				      tc_teardown),
	    cmocka_unit_test_teardown(none_with_kid_is_malformed_envelope,
				      tc_teardown),
	    cmocka_unit_test_teardown(signature_comes_before_the_payload,
				      tc_teardown),
	    cmocka_unit_test_teardown(signed_but_misaddressed_or_out_of_time,
				      tc_teardown),
	    cmocka_unit_test_teardown(signed_replay_never_runs_again,
				      tc_teardown),
	    cmocka_unit_test_teardown(agent_signs_what_it_publishes,
				      tc_teardown),
	};
	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
