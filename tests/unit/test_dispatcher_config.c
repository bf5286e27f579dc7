/* SPDX-License-Identifier: MIT */
/* The dispatcher's option table: defaults as documented, a full file, bad
 * values refused with file:line, options that go together, and secret
 * files read to their first line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/conf.h"
#include "common/err.h"
#include "common/log.h"
#include "config.h"

static void
test_defaults(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	memset(&c, 0, sizeof c);
	assert_int_equal(conf_defaults(config_options, &c, err, sizeof err), 0);
	assert_string_equal(c.db_path, "/var/lib/cmdbus/dispatcher.db");
	assert_string_equal(c.http_bind, "127.0.0.1");
	assert_int_equal(c.http_port, 8080);
	assert_null(c.api_token_file);
	assert_string_equal(c.mqtt_host, "127.0.0.1");
	assert_int_equal(c.mqtt_port, 1883);
	assert_string_equal(c.mqtt_client_id, "cmdbus-dispatcher");
	assert_string_equal(c.mqtt_username, "cmdbus-dispatcher");
	assert_null(c.mqtt_password_file);
	assert_int_equal(c.mqtt_protocol, CONFIG_MQTT_V5);
	assert_int_equal(c.mqtt_keepalive_ms, 30000);
	assert_string_equal(c.topic_prefix, "cmdbus/v1");
	assert_int_equal(c.device_session_expiry_ms, 7ull * 86400000ull);
	assert_null(c.sign_key_file);
	assert_null(c.sign_kid);
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	assert_false(c.log_syslog);
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
	conf_free(config_options, &c);
}

static void
test_full_file(void **state)
{
	static const char text[] = "# every option\n"
				   "db_path /tmp/x.db\n"
				   "http_bind ::1\n"
				   "http_port 9090\n"
				   "api_token_file /etc/cmdbus/token\n"
				   "mqtt_host broker.lan\n"
				   "mqtt_port 8883\n"
				   "mqtt_client_id disp-a\n"
				   "mqtt_username disp\n"
				   "mqtt_password_file /etc/cmdbus/pw\n"
				   "mqtt_protocol 311\n"
				   "mqtt_keepalive 1m\n"
				   "topic_prefix fleet/v1\n"
				   "device_session_expiry 1d\n"
				   "sign_key_file /etc/cmdbus/k.pem\n"
				   "sign_kid disp-2026a\n"
				   "log_level debug\n"
				   "log_syslog yes\n";
	struct config c;
	char err[256] = "";

	(void)state;
	memset(&c, 0, sizeof c);
	assert_int_equal(conf_defaults(config_options, &c, err, sizeof err), 0);
	int rc = conf_load_text(config_options, &c, "t.conf", text,
				sizeof text - 1, err, sizeof err);
	if (rc != 0)
		fail_msg("%s", err);
	assert_string_equal(c.http_bind, "::1");
	assert_int_equal(c.http_port, 9090);
	assert_int_equal(c.mqtt_protocol, CONFIG_MQTT_V311);
	assert_int_equal(c.mqtt_keepalive_ms, 60000);
	assert_string_equal(c.topic_prefix, "fleet/v1");
	assert_int_equal(c.device_session_expiry_ms, 86400000ull);
	assert_string_equal(c.sign_kid, "disp-2026a");
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_true(c.log_syslog);
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
	/* A flag overrides the file, with dashes or underscores. */
	assert_int_equal(
	    conf_set(config_options, &c, "http-port", "7070", err, sizeof err),
	    0);
	assert_int_equal(c.http_port, 7070);
	conf_free(config_options, &c);
}

static void
refused(const char *line, const char *expect)
{
	struct config c;
	char err[256] = "";

	memset(&c, 0, sizeof c);
	assert_int_equal(conf_defaults(config_options, &c, err, sizeof err), 0);
	int rc = conf_load_text(config_options, &c, "bad.conf", line,
				strlen(line), err, sizeof err);
	assert_true(rc < 0);
	if (!strstr(err, expect))
		fail_msg("'%s' gave '%s', wanted '%s'", line, err, expect);
	conf_free(config_options, &c);
}

static void
test_bad_values(void **state)
{
	(void)state;
	refused("http_port 0\n", "bad.conf:1:");
	refused("\nhttp_port 65536\n", "bad.conf:2:");
	refused("mqtt_protocol 4\n", "mqtt_protocol");
	refused("mqtt_keepalive 2s\n", "mqtt_keepalive");
	refused("topic_prefix a/+/b\n", "topic_prefix");
	refused("topic_prefix /lead\n", "topic_prefix");
	refused("mqtt_client_id has space\n", "mqtt_client_id");
	refused("sign_kid bad/kid\n", "sign_kid");
	refused("log_level loud\n", "log_level");
	refused("device_session_expiry 10s\n", "device_session_expiry");
	refused("no_such_option 1\n", "no_such_option");
}

static void
test_key_needs_kid(void **state)
{
	struct config c;
	char err[256] = "";

	(void)state;
	memset(&c, 0, sizeof c);
	assert_int_equal(conf_defaults(config_options, &c, err, sizeof err), 0);
	assert_int_equal(conf_set(config_options, &c, "sign_key_file", "/k",
				  err, sizeof err),
			 0);
	assert_int_equal(config_validate(&c, err, sizeof err), -ERR_CONFIG);
	assert_non_null(strstr(err, "sign_kid"));
	assert_int_equal(
	    conf_set(config_options, &c, "sign_kid", "k1", err, sizeof err), 0);
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
	conf_free(config_options, &c);
}

static void
test_secret_first_line(void **state)
{
	char path[] = "/tmp/cmdbus-secret-XXXXXX";
	char *s = NULL;
	char err[256] = "";

	(void)state;
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char text[] = "s3cret-token  \r\nsecond line\n";
	assert_int_equal(write(fd, text, sizeof text - 1),
			 (ssize_t)(sizeof text - 1));
	close(fd);
	assert_int_equal(config_read_secret(path, &s, err, sizeof err), 0);
	assert_string_equal(s, "s3cret-token");
	free(s);

	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "\n", 1), 1);
	close(fd);
	assert_true(config_read_secret(path, &s, err, sizeof err) < 0);
	assert_null(s);
	unlink(path);
	assert_true(config_read_secret(path, &s, err, sizeof err) < 0);
	assert_non_null(strstr(err, path));
}

/* The example file shows every option, and uncommented it is a valid
 * configuration. */
static void
test_example_file_complete(void **state)
{
	FILE *fp = fopen(DISPATCHER_EXAMPLE, "r");
	char line[512];
	char text[16384] = "";
	struct config c;
	char err[256] = "";

	(void)state;
	assert_non_null(fp);
	while (fgets(line, sizeof line, fp)) {
		/* "#option value" lines name an option; prose has a space
		 * after the '#'. */
		if (line[0] == '#' && line[1] >= 'a' && line[1] <= 'z')
			strncat(text, line + 1, sizeof text - strlen(text) - 1);
		else if (line[0] != '#' && line[0] != '\n')
			fail_msg("not a comment: %s", line);
	}
	fclose(fp);
	for (const struct conf_option *o = config_options; o->name; o++) {
		char key[80];
		snprintf(key, sizeof key, "%s ", o->name);
		if (strncmp(text, key, strlen(key)) != 0 && !strstr(text, key))
			fail_msg("option %s missing from the example", o->name);
	}
	memset(&c, 0, sizeof c);
	assert_int_equal(conf_defaults(config_options, &c, err, sizeof err), 0);
	int rc = conf_load_text(config_options, &c, "example", text,
				strlen(text), err, sizeof err);
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(config_validate(&c, err, sizeof err), 0);
	conf_free(config_options, &c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_full_file),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_key_needs_kid),
	    cmocka_unit_test(test_secret_first_line),
	    cmocka_unit_test(test_example_file_complete),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
