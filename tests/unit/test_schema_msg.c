/* SPDX-License-Identifier: MIT */
/* The payload codec beyond the golden vectors: the size check before
 * parsing, the id kept in the diag, unknown fields and a payload `v`
 * ignored, defaults, the encoder's own validation, the text/base64 choice,
 * names, states and SHA-256. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmdbus/msg.h"
#include "common/err.h"

#define ID "01JD3QX4Z5W8K2N7R9T1V3B6YC"
#define BOOT "01JD3PA7C9E1G3J5K7M9N1Q3S5"

/* A writable copy of a literal, for struct fields that are char *. */
static char *
w(const char *s)
{
	static char pool[32][128];
	static int next;
	char *p = pool[next++ % 32];

	assert_true(strlen(s) < sizeof(pool[0]));
	memcpy(p, s, strlen(s) + 1);
	return p;
}

static int
decode(const char *s, struct cmdbus_msg *m, struct cmdbus_diag *d)
{
	return cmdbus_msg_decode(s, strlen(s), m, d);
}

static void
test_too_large_before_parse(void **state)
{
	size_t n = CMDBUS_MAX_MESSAGE + 1;
	char *junk = malloc(n);
	struct cmdbus_diag d;
	struct cmdbus_msg m;

	(void)state;
	assert_non_null(junk);
	/* Not JSON at all: only the size can be what is refused. */
	memset(junk, 0xff, n);
	assert_int_equal(cmdbus_msg_decode(junk, n, &m, &d), -ERR_TOO_LARGE);
	assert_string_equal(d.code, "too_large");
	assert_string_equal(d.field, "");
	/* One byte less is parsed, and refused as malformed. */
	assert_int_equal(cmdbus_msg_decode(junk, n - 1, &m, &d),
			 -ERR_MALFORMED);
	assert_string_equal(d.code, "malformed");
	/* A NULL diag is allowed. */
	assert_int_equal(cmdbus_msg_decode(junk, n, &m, NULL), -ERR_TOO_LARGE);
	free(junk);
}

static void
test_diag_id(void **state)
{
	struct cmdbus_diag d;
	struct cmdbus_msg m;

	(void)state;
	assert_int_equal(decode("{\"type\":\"command\",\"id\":\"" ID
				"\",\"device\":\"dev-1\"}",
				&m, &d),
			 -ERR_MALFORMED);
	assert_string_equal(d.id, ID);
	assert_string_equal(d.field, "iat");
	assert_true(strlen(d.message) > 0);
	/* Kept even when the type itself is wrong. */
	assert_int_equal(
	    decode("{\"type\":\"nope\",\"id\":\"" ID "\"}", &m, &d),
	    -ERR_MALFORMED);
	assert_string_equal(d.id, ID);
	assert_string_equal(d.field, "type");
	/* Not kept when the id is invalid or not a string. */
	assert_int_equal(
	    decode("{\"type\":\"cancel\",\"id\":\"short\"}", &m, &d),
	    -ERR_MALFORMED);
	assert_string_equal(d.id, "");
	assert_string_equal(d.field, "id");
	assert_int_equal(
	    decode("{\"type\":\"cancel\",\"id\":12345678}", &m, &d),
	    -ERR_MALFORMED);
	assert_string_equal(d.id, "");
	assert_int_equal(
	    decode("{\"type\":\"cancel\",\"id\":\"" ID "\\u0000\"}", &m, &d),
	    -ERR_MALFORMED);
	assert_string_equal(d.id, "");
	/* Nothing can be read from text that does not parse. */
	assert_int_equal(decode("{\"id\":\"" ID "\",", &m, &d), -ERR_MALFORMED);
	assert_string_equal(d.id, "");
	assert_string_equal(d.field, "");
}

static void
test_unknown_fields_and_v(void **state)
{
	struct cmdbus_diag d;
	struct cmdbus_msg m;
	char *out = NULL;

	(void)state;
	assert_int_equal(
	    decode("{\"v\":2,\"type\":\"cancel\",\"id\":\"" ID
		   "\",\"device\":\"dev-1\",\"iat\":1,\"exp\":2,"
		   "\"extra\":{\"deep\":[1,2,{\"x\":null}]},\"zz\":1.5}",
		   &m, &d),
	    0);
	assert_int_equal(m.type, CMDBUS_MSG_CANCEL);
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), 0);
	assert_string_equal(out, "{\"type\":\"cancel\",\"id\":\"" ID
				 "\",\"device\":\"dev-1\",\"iat\":1,"
				 "\"exp\":2}");
	free(out);
	cmdbus_msg_fini(&m);
	/* A payload `v` of the wrong type is still only an unknown field. */
	assert_int_equal(decode("{\"v\":\"x\",\"type\":\"cancel\",\"id\":\"" ID
				"\",\"device\":\"dev-1\",\"iat\":1,\"exp\":2}",
				&m, &d),
			 0);
	cmdbus_msg_fini(&m);
}

static void
test_command_defaults(void **state)
{
	struct cmdbus_diag d;
	struct cmdbus_msg m;
	struct cmdbus_command *c = &m.u.command;

	(void)state;
	assert_int_equal(
	    decode("{\"type\":\"command\",\"id\":\"" ID
		   "\",\"device\":\"dev-1\",\"iat\":5,\"exp\":5,"
		   "\"timeout_ms\":1,\"action\":\"ping\","
		   "\"args\":{ \"b\" : [ 1 ,2 ] , \"a\":\"\\u00e9\" }}",
		   &m, &d),
	    0);
	assert_string_equal(c->job, "");
	assert_int_equal(c->max_output, 65536);
	assert_false(c->idempotent);
	assert_false(c->stream);
	/* args as compact canonical text, keys in their order. */
	assert_string_equal(c->args_json, "{\"b\":[1,2],\"a\":\"\xc3\xa9\"}");
	cmdbus_msg_fini(&m);
	/* max_output is kept as given; agents clamp. */
	assert_int_equal(decode("{\"type\":\"command\",\"id\":\"" ID
				"\",\"device\":\"dev-1\",\"iat\":5,\"exp\":6,"
				"\"timeout_ms\":1,\"action\":\"ping\","
				"\"args\":{},\"max_output\":9007199254740991}",
				&m, &d),
			 0);
	assert_int_equal(c->max_output, 9007199254740991ull);
	cmdbus_msg_fini(&m);
}

static struct cmdbus_msg
a_result(enum cmdbus_state st)
{
	struct cmdbus_msg m;
	struct cmdbus_result *r = &m.u.result;

	memset(&m, 0, sizeof(m));
	m.type = CMDBUS_MSG_RESULT;
	snprintf(r->id, sizeof(r->id), "%s", ID);
	snprintf(r->device, sizeof(r->device), "dev-1");
	snprintf(r->boot_id, sizeof(r->boot_id), "%s", BOOT);
	r->state = st;
	r->finished_at = 10;
	return m;
}

static void
test_encode_bytes(void **state)
{
	struct cmdbus_msg m = a_result(CMDBUS_STATE_SUCCEEDED), back;
	struct cmdbus_result *r = &m.u.result;
	struct cmdbus_diag d;
	char out_text[] = "caf\xc3\xa9\n", err_nul[] = "a\0b";
	char *out = NULL;
	size_t len;

	(void)state;
	r->has_streams = true;
	r->has_exit_code = true;
	r->out.kept.data = out_text;
	r->out.kept.len = 6;
	r->out.bytes = 6;
	r->err.kept.data = err_nul;
	r->err.kept.len = 3;
	r->err.bytes = 100;
	r->err.truncated = true;
	assert_int_equal(cmdbus_msg_encode(&m, &out, &len), 0);
	assert_string_equal(
	    out, "{\"type\":\"result\",\"id\":\"" ID "\",\"device\":"
		 "\"dev-1\",\"boot_id\":\"" BOOT "\",\"state\":"
		 "\"SUCCEEDED\",\"exit_code\":0,\"stdout\":\"caf\xc3\xa9\\n\","
		 "\"stderr_b64\":\"YQBi\",\"stdout_truncated\":false,"
		 "\"stderr_truncated\":true,\"stdout_bytes\":6,"
		 "\"stderr_bytes\":100,\"finished_at\":10}");
	assert_int_equal(len, strlen(out));
	assert_int_equal(cmdbus_msg_decode(out, len, &back, &d), 0);
	assert_int_equal(back.u.result.err.kept.len, 3);
	assert_memory_equal(back.u.result.err.kept.data, "a\0b", 3);
	cmdbus_msg_fini(&back);
	free(out);

	/* Invalid UTF-8 goes as base64 too. */
	r->err.kept.data = w("\xc3");
	r->err.kept.len = 1;
	assert_int_equal(cmdbus_msg_encode(&m, &out, &len), 0);
	assert_non_null(strstr(out, "\"stderr_b64\":\"ww==\""));
	free(out);

	/* A decoder accepts NUL inside a text stream. */
	assert_int_equal(
	    decode("{\"type\":\"output\",\"id\":\"" ID "\",\"device\":"
		   "\"d\",\"stream\":\"stdout\",\"seq\":0,\"data\":"
		   "\"x\\u0000y\"}",
		   &back, &d),
	    0);
	assert_int_equal(back.u.output.data.len, 3);
	cmdbus_msg_fini(&back);
}

static void
test_encode_validates(void **state)
{
	struct cmdbus_msg m;
	char *out = w("untouched");

	(void)state;
	/* Run states need streams; other states need an error. */
	m = a_result(CMDBUS_STATE_SUCCEEDED);
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
	m = a_result(CMDBUS_STATE_REJECTED);
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
	snprintf(m.u.result.error_code, sizeof(m.u.result.error_code),
		 "malformed");
	m.u.result.has_error = true;
	m.u.result.error_message = w("bad \xff byte");
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), 0);
	/* A human message is repaired, not refused. */
	assert_non_null(strstr(out, "\"message\":\"bad \xef\xbf\xbd byte\""));
	free(out);
	out = w("untouched");
	m.u.result.has_exit_code = true;
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
	m.u.result.has_exit_code = false;
	snprintf(m.u.result.error_code, sizeof(m.u.result.error_code), "Bad");
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
	m = a_result(CMDBUS_STATE_RUNNING);
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
	m = a_result(CMDBUS_STATE_COUNT);
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);

	/* Names. */
	memset(&m, 0, sizeof(m));
	m.type = CMDBUS_MSG_CANCEL;
	snprintf(m.u.cancel.id, sizeof(m.u.cancel.id), "%s", ID);
	snprintf(m.u.cancel.device, sizeof(m.u.cancel.device), "dev/1");
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
	snprintf(m.u.cancel.device, sizeof(m.u.cancel.device), "dev-1");
	m.u.cancel.iat = 2;
	m.u.cancel.exp = 1;
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
	m.u.cancel.exp = CMDBUS_MAX_INT + 1;
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
	assert_string_equal(out, "untouched");

	/* Reports: RUNNING needs a pid. */
	memset(&m, 0, sizeof(m));
	m.type = CMDBUS_MSG_REPORT;
	snprintf(m.u.report.id, sizeof(m.u.report.id), "%s", ID);
	snprintf(m.u.report.device, sizeof(m.u.report.device), "dev-1");
	snprintf(m.u.report.boot_id, sizeof(m.u.report.boot_id), "%s", BOOT);
	m.u.report.state = CMDBUS_STATE_RUNNING;
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
	m.u.report.has_pid = true;
	m.u.report.pid = 7;
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), 0);
	free(out);

	/* Commands: args must be a JSON object; NULL means {}. */
	memset(&m, 0, sizeof(m));
	m.type = CMDBUS_MSG_COMMAND;
	snprintf(m.u.command.id, sizeof(m.u.command.id), "%s", ID);
	snprintf(m.u.command.device, sizeof(m.u.command.device), "dev-1");
	snprintf(m.u.command.action, sizeof(m.u.command.action), "ping");
	m.u.command.timeout_ms = 1;
	m.u.command.max_output = 65536;
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), 0);
	assert_non_null(strstr(out, "\"args\":{}"));
	free(out);
	m.u.command.args_json = w("[1]");
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
	m.u.command.args_json = w("{\"a\":1,\"a\":2}");
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
	m.u.command.args_json = w("{ \"a\" : 1.0 }");
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), 0);
	assert_non_null(strstr(out, "\"args\":{\"a\":1.0}"));
	free(out);
	m.u.command.max_output = 0;
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
	m.u.command.max_output = 1;
	m.u.command.timeout_ms = 0;
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
	m.u.command.timeout_ms = 1;
	snprintf(m.u.command.action, sizeof(m.u.command.action), "Ping");
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
	m.type = (enum cmdbus_msg_type)99;
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
	assert_int_equal(cmdbus_msg_encode(NULL, &out, NULL), -EINVAL);
}

static void
test_status_struct_roundtrip(void **state)
{
	struct cmdbus_label labels[2] = {{w("site"), w("lab")},
					 {w("role"), w("db")}};
	struct cmdbus_param params[1] = {{w("service"), w("^(nginx|sshd)$")}};
	struct cmdbus_action_desc actions[2];
	struct cmdbus_msg m, back;
	struct cmdbus_status *s = &m.u.status;
	struct cmdbus_diag d;
	char *out = NULL, *again = NULL;
	size_t len;

	(void)state;
	memset(&m, 0, sizeof(m));
	memset(actions, 0, sizeof(actions));
	snprintf(actions[0].name, sizeof(actions[0].name), "ping");
	snprintf(actions[1].name, sizeof(actions[1].name), "restart");
	actions[1].params = params;
	actions[1].nparams = 1;
	m.type = CMDBUS_MSG_STATUS;
	snprintf(s->device, sizeof(s->device), "dev-2");
	s->online = true;
	snprintf(s->boot_id, sizeof(s->boot_id), "%s", BOOT);
	snprintf(s->agent, sizeof(s->agent), "cmdbus-agent/0.1.0");
	s->at = 99;
	s->labels = labels;
	s->nlabels = 2;
	s->actions = actions;
	s->nactions = 2;
	s->has_health = true;
	s->health.uptime_s = 5;
	s->health.load1 = 1.5;
	s->health.mem_avail_kb = 6;
	s->health.disk_avail_kb = 7;
	assert_int_equal(cmdbus_msg_encode(&m, &out, &len), 0);
	assert_string_equal(
	    out, "{\"type\":\"status\",\"device\":\"dev-2\",\"online\":true,"
		 "\"boot_id\":\"" BOOT "\",\"agent\":\"cmdbus-agent/0.1.0\","
		 "\"at\":99,\"labels\":{\"site\":\"lab\",\"role\":\"db\"},"
		 "\"actions\":[{\"name\":\"ping\"},{\"name\":\"restart\","
		 "\"params\":{\"service\":\"^(nginx|sshd)$\"}}],"
		 "\"health\":{\"uptime_s\":5,\"load1\":1.5,"
		 "\"mem_avail_kb\":6,\"disk_avail_kb\":7}}");
	assert_int_equal(cmdbus_msg_decode(out, len, &back, &d), 0);
	assert_int_equal(back.u.status.nlabels, 2);
	assert_string_equal(back.u.status.labels[1].value, "db");
	assert_int_equal(back.u.status.nactions, 2);
	assert_string_equal(back.u.status.actions[1].params[0].pattern,
			    "^(nginx|sshd)$");
	assert_true(back.u.status.health.load1 == 1.5);
	assert_int_equal(cmdbus_msg_encode(&back, &again, NULL), 0);
	assert_string_equal(again, out);
	free(again);
	cmdbus_msg_fini(&back);
	free(out);

	/* Offline: only four fields are written. */
	s->online = false;
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), 0);
	assert_string_equal(out, "{\"type\":\"status\",\"device\":\"dev-2\","
				 "\"online\":false,\"boot_id\":\"" BOOT "\"}");
	free(out);
	/* An invalid label is refused. */
	s->online = true;
	labels[0].value = w("a b");
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
	labels[0].value = w("lab");
	s->health.load1 = -1;
	assert_int_equal(cmdbus_msg_encode(&m, &out, NULL), -EINVAL);
}

static void
test_output_limits(void **state)
{
	char *big = malloc(CMDBUS_MAX_CHUNK + 1);
	struct cmdbus_msg m, back;
	struct cmdbus_diag d;
	char *out = NULL;
	size_t len;

	(void)state;
	assert_non_null(big);
	memset(big, 0, CMDBUS_MAX_CHUNK + 1);
	memset(&m, 0, sizeof(m));
	m.type = CMDBUS_MSG_OUTPUT;
	snprintf(m.u.output.id, sizeof(m.u.output.id), "%s", ID);
	snprintf(m.u.output.device, sizeof(m.u.output.device), "d");
	m.u.output.data.data = big;
	m.u.output.data.len = CMDBUS_MAX_CHUNK;
	assert_int_equal(cmdbus_msg_encode(&m, &out, &len), 0);
	assert_int_equal(cmdbus_msg_decode(out, len, &back, &d), 0);
	assert_int_equal(back.u.output.data.len, CMDBUS_MAX_CHUNK);
	cmdbus_msg_fini(&back);
	free(out);
	m.u.output.data.len = CMDBUS_MAX_CHUNK + 1;
	assert_int_equal(cmdbus_msg_encode(&m, &out, &len), -EINVAL);
	free(big);
}

static void
test_names(void **state)
{
	char s65[66];

	(void)state;
	assert_true(cmdbus_valid_device_id("a"));
	assert_true(cmdbus_valid_device_id("A0._-"));
	assert_false(cmdbus_valid_device_id(""));
	assert_false(cmdbus_valid_device_id("-a"));
	assert_false(cmdbus_valid_device_id(".a"));
	assert_false(cmdbus_valid_device_id("a/b"));
	assert_false(cmdbus_valid_device_id("a+"));
	assert_false(cmdbus_valid_device_id("a#"));
	assert_false(cmdbus_valid_device_id("a$"));
	assert_false(cmdbus_valid_device_id("a b"));
	assert_false(cmdbus_valid_device_id("\xc3\xa9"));
	assert_false(cmdbus_valid_device_id(NULL));
	memset(s65, 'a', 65);
	s65[64] = '\0';
	assert_true(cmdbus_valid_device_id(s65));
	assert_true(cmdbus_valid_id(s65));
	assert_true(cmdbus_valid_label(s65));
	s65[64] = 'a';
	s65[65] = '\0';
	assert_false(cmdbus_valid_device_id(s65));
	assert_false(cmdbus_valid_id(s65));
	assert_false(cmdbus_valid_action(s65));
	assert_false(cmdbus_valid_label(s65));
	assert_true(cmdbus_valid_id("abcdefgh"));
	assert_true(cmdbus_valid_id("-_-_-_-_"));
	assert_false(cmdbus_valid_id("abcdefg"));
	assert_false(cmdbus_valid_id("abcdefg."));
	assert_true(cmdbus_valid_action("a"));
	assert_true(cmdbus_valid_action("svc.restart_2-x"));
	assert_false(cmdbus_valid_action("A"));
	assert_false(cmdbus_valid_action("1a"));
	assert_false(cmdbus_valid_action("a/b"));
	assert_false(cmdbus_valid_action("aB"));
	assert_false(cmdbus_valid_label(""));
	assert_false(cmdbus_valid_label("a b"));
	assert_true(cmdbus_valid_label(".-_"));
}

static void
test_states_and_types(void **state)
{
	enum cmdbus_state st;

	(void)state;
	for (int i = 0; i < CMDBUS_STATE_COUNT; i++) {
		const char *n = cmdbus_state_name((enum cmdbus_state)i);
		assert_non_null(n);
		assert_int_equal(cmdbus_state_parse(n, &st), 0);
		assert_int_equal(st, i);
		assert_int_equal(cmdbus_state_is_terminal(st),
				 i >= CMDBUS_STATE_SUCCEEDED);
	}
	assert_null(cmdbus_state_name(CMDBUS_STATE_COUNT));
	assert_int_equal(cmdbus_state_parse("succeeded", &st), -ERR_MALFORMED);
	assert_int_equal(cmdbus_state_parse("", &st), -ERR_MALFORMED);
	assert_string_equal(cmdbus_state_name(CMDBUS_STATE_TIMED_OUT),
			    "TIMED_OUT");
	assert_string_equal(cmdbus_msg_type_name(CMDBUS_MSG_OUTPUT), "output");
	assert_string_equal(cmdbus_kind_name(CMDBUS_KIND_STATUS), "status");
	assert_true(cmdbus_msg_allowed_on(CMDBUS_MSG_COMMAND, CMDBUS_KIND_CMD));
	assert_true(cmdbus_msg_allowed_on(CMDBUS_MSG_CANCEL, CMDBUS_KIND_CMD));
	assert_false(
	    cmdbus_msg_allowed_on(CMDBUS_MSG_COMMAND, CMDBUS_KIND_RESULT));
	assert_true(
	    cmdbus_msg_allowed_on(CMDBUS_MSG_RESULT, CMDBUS_KIND_RESULT));
	assert_true(
	    cmdbus_msg_allowed_on(CMDBUS_MSG_REPORT, CMDBUS_KIND_RESULT));
	assert_true(
	    cmdbus_msg_allowed_on(CMDBUS_MSG_OUTPUT, CMDBUS_KIND_RESULT));
	assert_false(cmdbus_msg_allowed_on(CMDBUS_MSG_RESULT, CMDBUS_KIND_CMD));
	assert_false(
	    cmdbus_msg_allowed_on(CMDBUS_MSG_STATUS, CMDBUS_KIND_RESULT));
	assert_true(
	    cmdbus_msg_allowed_on(CMDBUS_MSG_STATUS, CMDBUS_KIND_STATUS));
	assert_false(
	    cmdbus_msg_allowed_on(CMDBUS_MSG_REPORT, CMDBUS_KIND_STATUS));
}

static void
test_sha256(void **state)
{
	char hex[CMDBUS_SHA256_HEX + 1];

	(void)state;
	cmdbus_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396"
				 "177a9cb410ff61f20015ad");
	cmdbus_sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e464"
				 "9b934ca495991b7852b855");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_too_large_before_parse),
	    cmocka_unit_test(test_diag_id),
	    cmocka_unit_test(test_unknown_fields_and_v),
	    cmocka_unit_test(test_command_defaults),
	    cmocka_unit_test(test_encode_bytes),
	    cmocka_unit_test(test_encode_validates),
	    cmocka_unit_test(test_status_struct_roundtrip),
	    cmocka_unit_test(test_output_limits),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_states_and_types),
	    cmocka_unit_test(test_sha256),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
