/* SPDX-License-Identifier: MIT */
/* Device-signed results at the dispatcher: the key set's lookup, and
 * ingest refusing (counted as reason "signature") anything on the topics
 * of a device with a registered key that the key did not sign, while
 * devices without a key behave as before unless signatures are
 * required. */
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

#include "common/log.h"
#include "cmdbus/envelope.h"
#include "cmdbus/proto.h"
#include "core.h"
#include "devkeys.h"
#include "ingest.h"
#include "jobs.h"
#include "test_dispatcher_fakes.h"
#include "test_keys.h"

#define T0 1763700000000ull
#define BOOT "01JD3BOOTAAAAAAAAAAAAAAAAA"

struct fx {
	struct clock_fake clk;
	struct fake_store fs;
	struct fake_bus bus;
	struct core core;
	struct devkeys *dk;
	EVP_PKEY *pk1, *pk2;
	struct cmdbus_key *priv1, *priv2; /* dev-1's, and a stranger's */
	char ex1[CMDBUS_ID_BUF], ex2[CMDBUS_ID_BUF];
	char sha1[CMDBUS_SHA256_HEX + 1], sha2[CMDBUS_SHA256_HEX + 1];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct store_port sp;
	struct bus_port bp;
	char *view = NULL;
	size_t len;
	struct cmdbus_diag diag;
	static const char body[] = "{\"target\":{\"devices\":[\"dev-1\",\"dev-"
				   "2\"],\"allow_unknown\":true},"
				   "\"action\":\"ping\"}";

	assert_non_null(f);
	f->pk1 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	f->pk2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	f->priv1 = test_key_from_pkey("dev-1", true, f->pk1);
	f->priv2 = test_key_from_pkey("dev-1", true, f->pk2);
	assert_int_equal(devkeys_new(&f->dk), 0);
	assert_int_equal(
	    devkeys_add(f->dk, "dev-1",
			test_key_from_pkey("dev-1", false, f->pk1)),
	    0);
	clock_fake_init(&f->clk, T0);
	fake_store_init(&f->fs);
	fake_bus_init(&f->bus);
	fake_store_port(&f->fs, &sp);
	fake_bus_port(&f->bus, &bp);
	struct core_config cc = {.prefix = "cmdbus/v1",
				 .session_expiry_ms = 7 * 86400000ull,
				 .device_keys = f->dk};
	assert_int_equal(core_init(&f->core, &cc, &f->clk.clock, &sp, &bp), 0);
	assert_int_equal(
	    jobs_create(&f->core, body, sizeof body - 1, &view, &len, &diag),
	    0);
	free(view);
	memcpy(f->ex1, f->fs.execs[0].id, sizeof f->ex1);
	memcpy(f->ex2, f->fs.execs[1].id, sizeof f->ex2);
	memcpy(f->sha1, f->fs.execs[0].cmd_sha256, sizeof f->sha1);
	memcpy(f->sha2, f->fs.execs[1].cmd_sha256, sizeof f->sha2);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	core_fini(&f->core);
	fake_store_fini(&f->fs);
	fake_bus_fini(&f->bus);
	devkeys_free(f->dk);
	cmdbus_key_free(f->priv1);
	cmdbus_key_free(f->priv2);
	EVP_PKEY_free(f->pk1);
	EVP_PKEY_free(f->pk2);
	free(f);
	return 0;
}

/* A SUCCEEDED result of `id` from `dev`, signed with key (NULL: none) as
 * `kind`, on dev's result topic. */
static void
result(struct fx *f, const char *dev, const char *id, const char *sha,
       const struct cmdbus_key *key, enum cmdbus_kind kind)
{
	char p[1024], topic[128], *env = NULL;
	size_t len = 0;

	snprintf(p, sizeof p,
		 "{\"type\":\"result\",\"id\":\"%s\",\"device\":\"%s\","
		 "\"boot_id\":\"" BOOT "\",\"state\":\"SUCCEEDED\","
		 "\"cmd_sha256\":\"%s\",\"exit_code\":0,\"stdout\":\"pong\","
		 "\"stderr\":\"\",\"stdout_truncated\":false,"
		 "\"stderr_truncated\":false,\"stdout_bytes\":4,"
		 "\"stderr_bytes\":0,\"finished_at\":5}",
		 id, dev, sha);
	assert_int_equal(
	    cmdbus_envelope_wrap(kind, p, strlen(p), key, &env, &len), 0);
	snprintf(topic, sizeof topic, "cmdbus/v1/%s/result", dev);
	ingest_message(&f->core, topic, env, len);
	free(env);
}

static void
test_lookup(void **state)
{
	struct fx *f = *state;
	const struct cmdbus_key *out[DEVKEYS_PER_DEVICE];

	assert_int_equal(devkeys_add(f->dk, "dev-0",
				     test_key_from_pkey("k0", false, f->pk2)),
			 0);
	assert_int_equal(
	    devkeys_add(f->dk, "dev-1",
			test_key_from_pkey("dev-1b", false, f->pk2)),
	    0);
	assert_int_equal(devkeys_devices(f->dk), 2);
	assert_int_equal(devkeys_find(f->dk, "dev-1", out, 4), 2);
	assert_int_equal(devkeys_find(f->dk, "dev-0", out, 4), 1);
	assert_string_equal(cmdbus_key_kid(out[0]), "k0");
	assert_int_equal(devkeys_find(f->dk, "dev-2", out, 4), 0);
	assert_int_equal(devkeys_find(NULL, "dev-1", out, 4), 0);
	assert_int_equal(devkeys_add(f->dk, "bad/id", f->priv2), -EINVAL);
}

static void
test_unsigned_and_forged_are_dropped(void **state)
{
	struct fx *f = *state;
	struct exec_rec *e = fake_store_exec(&f->fs, f->ex1);

	/* Unsigned, signed by another key under dev-1's kid, and signed
	 * by dev-1's key but as a status: all refused. */
	result(f, "dev-1", f->ex1, f->sha1, NULL, CMDBUS_KIND_RESULT);
	result(f, "dev-1", f->ex1, f->sha1, f->priv2, CMDBUS_KIND_RESULT);
	result(f, "dev-1", f->ex1, f->sha1, f->priv1, CMDBUS_KIND_STATUS);
	assert_int_equal(f->core.stats.drop_signature, 3);
	assert_int_not_equal(e->state, CMDBUS_STATE_SUCCEEDED);
	/* The device's own signature is recorded. */
	result(f, "dev-1", f->ex1, f->sha1, f->priv1, CMDBUS_KIND_RESULT);
	assert_int_equal(e->state, CMDBUS_STATE_SUCCEEDED);
	assert_int_equal(f->core.stats.drop_signature, 3);
}

static void
test_devices_without_key(void **state)
{
	struct fx *f = *state;
	struct exec_rec *e = fake_store_exec(&f->fs, f->ex2);

	/* dev-2 has no key: unsigned is fine, as before... */
	result(f, "dev-2", f->ex2, f->sha2, NULL, CMDBUS_KIND_RESULT);
	assert_int_equal(e->state, CMDBUS_STATE_SUCCEEDED);
	assert_int_equal(f->core.stats.drop_signature, 0);
	/* ...unless signatures are required. */
	f->core.cfg.require_device_signatures = true;
	e->state = CMDBUS_STATE_PUBLISHED;
	result(f, "dev-2", f->ex2, f->sha2, NULL, CMDBUS_KIND_RESULT);
	assert_int_equal(f->core.stats.drop_signature, 1);
	assert_int_equal(e->state, CMDBUS_STATE_PUBLISHED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_unsigned_and_forged_are_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_devices_without_key, setup,
					    teardown),
	};
	log_set_level(LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
