/* SPDX-License-Identifier: MIT */
/* cmdbus-agent's option table and the resolution of the files it names:
 * good files, every kind of bad value reported with file:line, and the
 * library's own check of the result. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "config.h"

static int
load(struct agent_conf *c, const char *text, char *err, size_t errlen)
{
	int rc;

	memset(c, 0, sizeof(*c));
	rc = conf_defaults(agent_conf_options, c, err, errlen);
	assert_int_equal(rc, 0);
	return conf_load_text(agent_conf_options, c, "agent.conf", text,
			      strlen(text), err, errlen);
}

/* load(), then the files it names read into cfg: resolve's result. */
static int
load_resolve(struct agent_conf *c, const char *text,
	     struct cmdbus_agent_config *cfg, struct agent_files *files,
	     char *err, size_t errlen)
{
	assert_int_equal(load(c, text, err, errlen), 0);
	return agent_conf_resolve(c, "agent.conf", cfg, files, err, errlen);
}

static void
defaults_and_full_file(void **state)
{
	const char *text = "# an agent\n"
			   "device_id dev-1\n"
			   "mqtt_host broker.lan\n"
			   "mqtt_port 8883\n"
			   "mqtt_protocol 311\n"
			   "mqtt_keepalive 45s\n"
			   "session_expiry 2d\n"
			   "label site=lab\n"
			   "label role=web\n"
			   "heartbeat 10s\n"
			   "exec_enabled true\n"
			   "exec_cwd /tmp\n"
			   "max_timeout 5m\n"
			   "clock_skew 2s\n"
			   "kill_grace 250ms\n"
			   "log_level debug\n";
	struct agent_conf c;
	struct agent_files files;
	struct cmdbus_agent_config cfg;
	char err[256];

	assert_int_equal(load_resolve(&c, text, &cfg, &files, err, sizeof(err)),
			 0);
	assert_string_equal(cfg.device_id, "dev-1");
	assert_string_equal(cfg.mqtt_host, "broker.lan");
	assert_int_equal(cfg.mqtt_port, 8883);
	assert_int_equal(cfg.mqtt_protocol, 311);
	assert_int_equal(cfg.mqtt_keepalive_ms, 45000);
	assert_int_equal(cfg.session_expiry_ms, 2 * 86400000ull);
	assert_int_equal(cfg.nlabels, 2);
	assert_string_equal(cfg.labels[1], "role=web");
	assert_int_equal(cfg.heartbeat_ms, 10000);
	assert_true(cfg.exec_enabled);
	assert_string_equal(cfg.exec_cwd, "/tmp");
	assert_string_equal(cfg.exec_path, "/usr/local/sbin:/usr/local/bin:"
					   "/usr/sbin:/usr/bin:/sbin:/bin");
	assert_int_equal(cfg.max_timeout_ms, 300000);
	assert_int_equal(cfg.clock_skew_ms, 2000);
	assert_int_equal(cfg.kill_grace_ms, 250);
	assert_null(cfg.mqtt_username);
	assert_null(cfg.mqtt_password);
	assert_string_equal(cfg.topic_prefix, "cmdbus/v1");
	assert_string_equal(cfg.state_dir, "/var/lib/cmdbus-agent");
	assert_int_equal(c.log_level, 3);
	assert_int_equal(cmdbus_agent_config_check(&cfg, err, sizeof(err)), 0);
	agent_files_fini(&files);
	conf_free(agent_conf_options, &c);
}

static void
bad_values_name_their_line(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
	    {"mqtt_port 1883\ndevice_id dev/1\n", "agent.conf:2:"},
	    {"device_id dev-1\nlabel site\n", "agent.conf:2:"},
	    {"device_id dev-1\nlabel site=l@b\n", "agent.conf:2:"},
	    {"device_id dev-1\ntrusted_key k1=relative.pem\n", "agent.conf:2:"},
	    {"device_id dev-1\ntrusted_key k 1=/a.pem\n", "agent.conf:2:"},
	    {"device_id dev-1\ntopic_prefix cmdbus/#\n", "agent.conf:2:"},
	    {"device_id dev-1\nmqtt_protocol 4\n", "agent.conf:2:"},
	    {"device_id dev-1\nmqtt_keepalive 2s\n", "agent.conf:2:"},
	    {"device_id dev-1\nexec_cwd tmp\n", "agent.conf:2:"},
	    {"device_id dev-1\nmqtt_port 70000\n", "agent.conf:2:"},
	    {"device_id dev-1\nexec_enabled maybe\n", "agent.conf:2:"},
	    {"device_id dev-1\nno_such_option 1\n", "agent.conf:2:"},
	    {"device_id dev-1\nmqtt_tls_ca_file ca.pem\n", "agent.conf:2:"},
	    {"device_id dev-1\nmqtt_tls_version tlsv1.1\n", "agent.conf:2:"},
	    {"device_id dev-1\ncatalog_dir etc/catalog\n", "agent.conf:2:"},
	    {"device_id dev-1\nshell_enabled sometimes\n", "agent.conf:2:"},
	    {"device_id dev-1\nuser root;id\n", "agent.conf:2:"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct agent_conf c;
		char err[256] = "";

		assert_int_equal(load(&c, cases[i].text, err, sizeof(err)),
				 -ERR_CONFIG);
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: '%s' lacks '%s'", i, err,
				 cases[i].want);
		conf_free(agent_conf_options, &c);
	}
}

static void
device_id_is_required(void **state)
{
	struct agent_conf c;
	struct agent_files files;
	struct cmdbus_agent_config cfg;
	char err[256];

	assert_int_equal(load_resolve(&c, "mqtt_port 1883\n", &cfg, &files, err,
				      sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "agent.conf: option 'device_id' is "
				    "required"));
	agent_files_fini(&files);
	conf_free(agent_conf_options, &c);
}

static void
files_are_read(void **state)
{
	char dir[] = "/tmp/cmdbus-agent-test-XXXXXX";
	char pw[256], key[256], text[1024], err[256];
	struct agent_conf c;
	struct agent_files files;
	struct cmdbus_agent_config cfg;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(pw, sizeof(pw), "%s/pw", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	f = fopen(pw, "w");
	assert_non_null(f);
	fputs("s3cret\r\nsecond line\n", f);
	fclose(f);
	f = fopen(key, "w");
	assert_non_null(f);
	fputs("-----BEGIN PUBLIC KEY-----\nnot a key\n"
	      "-----END PUBLIC KEY-----\n",
	      f);
	fclose(f);
	snprintf(text, sizeof(text),
		 "device_id dev-1\nmqtt_password_file %s\n"
		 "trusted_key disp-a=%s\n",
		 pw, key);
	assert_int_equal(load_resolve(&c, text, &cfg, &files, err, sizeof(err)),
			 0);
	assert_string_equal(cfg.mqtt_password, "s3cret");
	assert_int_equal(cfg.ntrusted_keys, 1);
	assert_string_equal(cfg.trusted_keys[0].kid, "disp-a");
	assert_non_null(strstr(cfg.trusted_keys[0].pem, "not a key"));
	/* The library refuses a key that does not parse. */
	assert_int_equal(cmdbus_agent_config_check(&cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "disp-a"));
	agent_files_fini(&files);
	conf_free(agent_conf_options, &c);

	/* A file that cannot be read names itself. */
	snprintf(text, sizeof(text),
		 "device_id dev-1\nmqtt_password_file %s/missing\n", dir);
	assert_int_equal(load_resolve(&c, text, &cfg, &files, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "missing"));
	agent_files_fini(&files);
	conf_free(agent_conf_options, &c);

	unlink(pw);
	unlink(key);
	rmdir(dir);
}

static void
library_check(void **state)
{
	static const char *const dup[] = {"site=a", "site=b"};
	struct cmdbus_agent_config cfg;
	char err[256];

	cmdbus_agent_config_defaults(&cfg);
	assert_int_equal(cmdbus_agent_config_check(&cfg, err, sizeof(err)),
			 -EINVAL);
	cfg.device_id = "dev-1";
	assert_int_equal(cmdbus_agent_config_check(&cfg, err, sizeof(err)), 0);
	cfg.labels = dup;
	cfg.nlabels = 2;
	assert_int_equal(cmdbus_agent_config_check(&cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "twice"));
	cfg.nlabels = 0;
	cfg.mqtt_protocol = 4;
	assert_int_equal(cmdbus_agent_config_check(&cfg, err, sizeof(err)),
			 -EINVAL);
}

/* TLS, shell, catalog and privilege options reach the library's
 * configuration, and its check refuses what cannot work together. */
static void
actions_tls_and_privileges(void **state)
{
	const char *text = "device_id dev-1\n"
			   "mqtt_tls_ca_file /etc/ca.pem\n"
			   "mqtt_tls_cert_file /etc/dev.pem\n"
			   "mqtt_tls_key_file /etc/dev.key\n"
			   "mqtt_tls_insecure yes\n"
			   "mqtt_tls_version tlsv1.3\n"
			   "shell_enabled true\n"
			   "runas_helper /opt/runas\n"
			   "user nobody\n"
			   "group nogroup\n";
	struct agent_conf c;
	struct agent_files files;
	struct cmdbus_agent_config cfg;
	char err[256];

	assert_int_equal(load_resolve(&c, text, &cfg, &files, err, sizeof(err)),
			 0);
	assert_string_equal(cfg.mqtt_tls_ca_file, "/etc/ca.pem");
	assert_string_equal(cfg.mqtt_tls_cert_file, "/etc/dev.pem");
	assert_string_equal(cfg.mqtt_tls_key_file, "/etc/dev.key");
	assert_true(cfg.mqtt_tls_insecure);
	assert_string_equal(cfg.mqtt_tls_version, "tlsv1.3");
	assert_true(cfg.shell_enabled);
	assert_false(cfg.exec_enabled);
	assert_null(cfg.catalog_dir);
	assert_string_equal(cfg.runas_helper, "/opt/runas");
	assert_string_equal(c.user, "nobody");
	assert_string_equal(c.group, "nogroup");
	assert_int_equal(cmdbus_agent_config_check(&cfg, err, sizeof(err)), 0);

	cfg.mqtt_tls_key_file = NULL;
	assert_int_equal(cmdbus_agent_config_check(&cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "go together"));
	cfg.mqtt_tls_cert_file = NULL;
	cfg.mqtt_tls_ca_file = NULL;
	assert_int_equal(cmdbus_agent_config_check(&cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "need mqtt_tls_ca_file"));
	agent_files_fini(&files);
	conf_free(agent_conf_options, &c);

	/* Defaults: no TLS, no shell, the built-in helper path. */
	assert_int_equal(load_resolve(&c, "device_id dev-1\n", &cfg, &files,
				      err, sizeof(err)),
			 0);
	assert_null(cfg.mqtt_tls_ca_file);
	assert_null(cfg.mqtt_tls_version);
	assert_false(cfg.shell_enabled);
	assert_non_null(cfg.runas_helper);
	assert_true(cfg.runas_helper[0] == '/');
	agent_files_fini(&files);
	conf_free(agent_conf_options, &c);
}

/* --check reads the catalog: a bad file is named with its line. */
static void
check_reads_the_catalog(void **state)
{
	char dir[] = "/tmp/cmdbus-agent-cat-XXXXXX", path[256], err[512];
	struct cmdbus_agent_config cfg;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/echo.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("argv /bin/echo\nargv {x}\nparam x int 1 9\n", f);
	fclose(f);
	cmdbus_agent_config_defaults(&cfg);
	cfg.device_id = "dev-1";
	cfg.catalog_dir = dir;
	assert_int_equal(cmdbus_agent_config_check(&cfg, err, sizeof(err)), 0);

	snprintf(path, sizeof(path), "%s/zz.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("argv /bin/echo\n\nparam y int 1\n", f);
	fclose(f);
	assert_int_equal(cmdbus_agent_config_check(&cfg, err, sizeof(err)),
			 -ERR_CONFIG);
	if (!strstr(err, "/zz.conf:3: "))
		fail_msg("'%s' lacks the file:line", err);
	unlink(path);
	snprintf(path, sizeof(path), "%s/echo.conf", dir);
	unlink(path);
	rmdir(dir);

	cfg.catalog_dir = "/nonexistent/catalog";
	assert_int_equal(cmdbus_agent_config_check(&cfg, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/catalog"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defaults_and_full_file),
	    cmocka_unit_test(bad_values_name_their_line),
	    cmocka_unit_test(device_id_is_required),
	    cmocka_unit_test(files_are_read),
	    cmocka_unit_test(library_check),
	    cmocka_unit_test(actions_tls_and_privileges),
	    cmocka_unit_test(check_reads_the_catalog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
