/* SPDX-License-Identifier: MIT */
/* The golden vectors, driven by tests/vectors/MANIFEST: every valid
 * payload decodes and encodes back to the same bytes, every valid
 * envelope and job request is accepted, and every invalid one is refused
 * with exactly the code and field the manifest names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmdbus/envelope.h"
#include "cmdbus/msg.h"
#include "cmdbus/rest.h"
#include "test_schema_files.h"

struct keys {
	struct cmdbus_key *k[2];
};

static void
load_keys(struct keys *ks)
{
	const char *kids[2] = {"test-2026a", "test-2026b"};

	for (int i = 0; i < 2; i++) {
		char rel[64];
		size_t len;
		char *pem;

		snprintf(rel, sizeof(rel), "keys/%s.pub.pem", kids[i]);
		pem = test_vector_read(rel, &len);
		assert_int_equal(
		    cmdbus_key_from_pem(pem, len, kids[i], &ks->k[i]), 0);
		free(pem);
	}
}

struct expect {
	bool ok;
	char code[32];
	char field[96];
};

static void
parse_expect(const char *s, struct expect *e)
{
	memset(e, 0, sizeof(*e));
	if (strcmp(s, "ok") == 0) {
		e->ok = true;
		return;
	}
	assert_int_equal(sscanf(s, "error %31s %95s", e->code, e->field), 2);
	if (strcmp(e->field, "-") == 0)
		e->field[0] = '\0';
}

static int failures;

static void
check_refusal(const char *path, int rc, const struct cmdbus_diag *d,
	      const struct expect *e)
{
	if (rc == 0) {
		print_error("%s: accepted, expected %s %s\n", path, e->code,
			    e->field);
		failures++;
		return;
	}
	if (strcmp(d->code, e->code) != 0 || strcmp(d->field, e->field) != 0) {
		print_error("%s: got %s '%s' (%s), expected %s '%s'\n", path,
			    d->code, d->field, d->message, e->code, e->field);
		failures++;
	}
}

static void
run_payload(const char *path, const struct expect *e)
{
	struct cmdbus_diag d;
	struct cmdbus_msg m;
	size_t len, olen;
	char *text = test_vector_read(path, &len), *out = NULL;
	int rc;

	rc = cmdbus_msg_decode(text, len, &m, &d);
	if (!e->ok) {
		check_refusal(path, rc, &d, e);
		if (rc == 0)
			cmdbus_msg_fini(&m);
		free(text);
		return;
	}
	if (rc != 0) {
		print_error("%s: refused: %s '%s' %s\n", path, d.code, d.field,
			    d.message);
		failures++;
		free(text);
		return;
	}
	rc = cmdbus_msg_encode(&m, &out, &olen);
	if (rc != 0 || olen != len || memcmp(out, text, len) != 0) {
		print_error(
		    "%s: not canonical (rc %d):\n  in:  %s\n  out: %s\n", path,
		    rc, text, out ? out : "(none)");
		failures++;
	}
	free(out);
	cmdbus_msg_fini(&m);
	free(text);
}

static void
run_envelope(const char *path, const struct expect *e, const char *opts,
	     const struct keys *ks)
{
	const struct cmdbus_key *trusted[2] = {ks->k[0], ks->k[1]};
	enum cmdbus_kind kind = CMDBUS_KIND_CMD;
	struct cmdbus_envelope env;
	struct cmdbus_diag d;
	size_t len, ntrusted = 0;
	char *text = test_vector_read(path, &len);
	int rc;

	if (strstr(opts, "kind=result"))
		kind = CMDBUS_KIND_RESULT;
	else if (strstr(opts, "kind=status"))
		kind = CMDBUS_KIND_STATUS;
	if (strstr(opts, "trust=test"))
		ntrusted = 2;
	rc = cmdbus_envelope_unwrap(kind, text, len, trusted, ntrusted, &env,
				    &d);
	if (!e->ok) {
		check_refusal(path, rc, &d, e);
		if (rc == 0)
			cmdbus_envelope_fini(&env);
	} else if (rc != 0) {
		print_error("%s: refused: %s '%s' %s\n", path, d.code, d.field,
			    d.message);
		failures++;
	} else {
		/* The payload of a valid envelope is a valid message. */
		struct cmdbus_msg m;
		rc = cmdbus_msg_decode(env.payload, env.payload_len, &m, &d);
		if (rc != 0) {
			print_error("%s: payload refused: %s\n", path,
				    d.message);
			failures++;
		} else {
			cmdbus_msg_fini(&m);
		}
		cmdbus_envelope_fini(&env);
	}
	free(text);
}

static void
run_job_request(const char *path, const struct expect *e)
{
	struct cmdbus_job_request r;
	struct cmdbus_diag d;
	size_t len;
	char *text = test_vector_read(path, &len);
	int rc;

	rc = cmdbus_job_request_decode(text, len, &r, &d);
	if (!e->ok)
		check_refusal(path, rc, &d, e);
	else if (rc != 0) {
		print_error("%s: refused: %s '%s' %s\n", path, d.code, d.field,
			    d.message);
		failures++;
	}
	cmdbus_job_request_fini(&r);
	free(text);
}

static void
test_manifest(void **state)
{
	struct keys ks;
	size_t len, counted = 0, valid = 0, invalid = 0;
	char *mf = test_vector_read("MANIFEST", &len), *save = NULL, *line;

	(void)state;
	load_keys(&ks);
	failures = 0;
	for (line = strtok_r(mf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[5], *s2 = NULL;
		struct expect e;
		int n = 0;

		if (line[0] == '#')
			continue;
		for (char *t = strtok_r(line, "\t", &s2); t && n < 5;
		     t = strtok_r(NULL, "\t", &s2))
			f[n++] = t;
		assert_int_equal(n, 5);
		parse_expect(f[2], &e);
		e.ok ? valid++ : invalid++;
		counted++;
		if (strncmp(f[0], "payload/", 8) == 0)
			run_payload(f[0], &e);
		else if (strcmp(f[1], "envelope") == 0)
			run_envelope(f[0], &e, f[4], &ks);
		else if (strcmp(f[1], "rest-job-request") == 0)
			run_job_request(f[0], &e);
		/* The REST views are checked byte for byte by
		 * test_schema_rest, which encodes them. */
	}
	cmdbus_key_free(ks.k[0]);
	cmdbus_key_free(ks.k[1]);
	free(mf);
	/* A manifest that lost its rows would pass vacuously. */
	assert_true(valid >= 30);
	assert_true(invalid >= 100);
	assert_int_equal(failures, 0);
	(void)counted;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_manifest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
