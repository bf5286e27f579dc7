/* SPDX-License-Identifier: MIT */
/* The option table of cmdbus-agent, with the checks that give a bad value
 * its file:line, and the reading of the files the options name. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/file_read.h"
#include "cmdbus/proto.h"
#include "core/catalog.h"
#include "cmdbus/topic.h"

#define FILE_MAX 65536 /* password and key files are small */

static int
check_device_id(const char *v, char *err, size_t errlen)
{
	if (cmdbus_valid_device_id(v))
		return 0;
	snprintf(err, errlen,
		 "'%s' is not a device id "
		 "(^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$)",
		 v);
	return -EINVAL;
}

static int
check_prefix(const char *v, char *err, size_t errlen)
{
	if (cmdbus_prefix_valid(v))
		return 0;
	snprintf(err, errlen,
		 "'%s' is not a topic prefix (no wildcards, no "
		 "empty level, no leading or trailing '/')",
		 v);
	return -EINVAL;
}

static int
check_label(const char *v, char *err, size_t errlen)
{
	const char *eq = strchr(v, '=');
	char key[CMDBUS_NAME_BUF];
	size_t klen = eq ? (size_t)(eq - v) : 0;

	if (!eq || klen == 0 || klen >= sizeof(key)) {
		snprintf(err, errlen, "'%s' is not key=value", v);
		return -EINVAL;
	}
	memcpy(key, v, klen);
	key[klen] = '\0';
	if (!cmdbus_valid_label(key) || !cmdbus_valid_label(eq + 1)) {
		snprintf(err, errlen,
			 "'%s': key and value must be 1..64 bytes "
			 "of [A-Za-z0-9_.-]",
			 v);
		return -EINVAL;
	}
	return 0;
}

static int
check_trusted_key(const char *v, char *err, size_t errlen)
{
	const char *eq = strchr(v, '=');

	if (!eq || eq == v || (size_t)(eq - v) > CMDBUS_KID_MAX ||
	    eq[1] != '/') {
		snprintf(err, errlen, "'%s' is not KID=/absolute/path.pem", v);
		return -EINVAL;
	}
	for (const char *p = v; p < eq; p++) {
		if (!catalog_name_char(*p)) {
			snprintf(err, errlen,
				 "key id of '%s' must be [A-Za-z0-9_.-]", v);
			return -EINVAL;
		}
	}
	return 0;
}

static int
check_kid(const char *v, char *err, size_t errlen)
{
	for (const char *p = v; *p; p++) {
		if (!catalog_name_char(*p)) {
			snprintf(err, errlen,
				 "key id '%s' must be 1..64 of [A-Za-z0-9_.-]",
				 v);
			return -EINVAL;
		}
	}
	return 0;
}

/* Where the run-as helper is installed; the build says. */
#ifndef CMDBUS_RUNAS_HELPER
#define CMDBUS_RUNAS_HELPER "/usr/local/libexec/cmdbus/cmdbus-runas"
#endif

static const char *const protocols[] = {"5", "311", NULL};
static const char *const tls_versions[] = {"auto", "tlsv1.2", "tlsv1.3", NULL};
static const char *const levels[] = {"error", "warn", "info", "debug", NULL};

#define OPT(name, type, field, min, max, def, choices, check, help)            \
	{                                                                      \
		name, type, offsetof(struct agent_conf, field), min, max, def, \
		    choices, check, help                                       \
	}

#define DAY_MS (24ull * 3600 * 1000)

const struct conf_option agent_conf_options[] = {
    OPT("device_id", CONF_STRING, device_id, 0, 64, NULL, NULL, check_device_id,
	"this device's id; also its MQTT client id (required)"),
    OPT("mqtt_host", CONF_STRING, mqtt_host, 0, 253, "127.0.0.1", NULL, NULL,
	"broker host name or address"),
    OPT("mqtt_port", CONF_U64, mqtt_port, 1, 65535, "1883", NULL, NULL,
	"broker port"),
    OPT("mqtt_username", CONF_STRING, mqtt_username, 0, 256, NULL, NULL, NULL,
	"MQTT user name (default: the device id)"),
    OPT("mqtt_password_file", CONF_STRING, mqtt_password_file, 0, 4096, NULL,
	NULL, catalog_check_absolute,
	"file whose first line is the MQTT password (default: none)"),
    OPT("mqtt_tls_ca_file", CONF_STRING, mqtt_tls_ca_file, 0, 4096, NULL, NULL,
	catalog_check_absolute,
	"CA certificate (PEM) of the broker; set: connect with TLS"),
    OPT("mqtt_tls_cert_file", CONF_STRING, mqtt_tls_cert_file, 0, 4096, NULL,
	NULL, catalog_check_absolute,
	"client certificate (PEM) for mutual TLS, with mqtt_tls_key_file"),
    OPT("mqtt_tls_key_file", CONF_STRING, mqtt_tls_key_file, 0, 4096, NULL,
	NULL, catalog_check_absolute,
	"private key (PEM) of mqtt_tls_cert_file"),
    OPT("mqtt_tls_insecure", CONF_BOOL, mqtt_tls_insecure, 0, 0, "false", NULL,
	NULL, "do not check the broker's host name against its certificate"),
    OPT("mqtt_tls_version", CONF_ENUM, mqtt_tls_version, 0, 0, "auto",
	tls_versions, NULL, "TLS version: auto, tlsv1.2 or tlsv1.3"),
    OPT("mqtt_protocol", CONF_ENUM, mqtt_protocol, 0, 0, "5", protocols, NULL,
	"MQTT protocol version: 5 or 311"),
    OPT("mqtt_keepalive", CONF_DURATION, mqtt_keepalive, 5000, 65535000, "30s",
	NULL, NULL, "MQTT keepalive interval"),
    OPT("session_expiry", CONF_DURATION, session_expiry, 0, 4294967295000ull,
	"7d", NULL, NULL,
	"MQTT 5 session expiry: how long the broker keeps commands for "
	"this device while it is offline"),
    OPT("topic_prefix", CONF_STRING, topic_prefix, 0, 128, "cmdbus/v1", NULL,
	check_prefix, "topic prefix shared with the dispatcher"),
    OPT("label", CONF_LIST, label, 0, 129, NULL, NULL, check_label,
	"a label key=value shown in the status (repeatable)"),
    OPT("heartbeat", CONF_DURATION, heartbeat, 1000, DAY_MS, "30s", NULL, NULL,
	"interval at which the online status is republished"),
    OPT("exec_enabled", CONF_BOOL, exec_enabled, 0, 0, "false", NULL, NULL,
	"accept the exec action (run any program on exec_path)"),
    OPT("shell_enabled", CONF_BOOL, shell_enabled, 0, 0, "false", NULL, NULL,
	"accept the shell action (a script run by /bin/sh -c)"),
    OPT("catalog_dir", CONF_STRING, catalog_dir, 0, 4096, NULL, NULL,
	catalog_check_absolute,
	"directory of catalog actions, one NAME.conf per action "
	"(see cmdbus-agent.conf(5); default: none)"),
    OPT("runas_helper", CONF_STRING, runas_helper, 0, 4096, CMDBUS_RUNAS_HELPER,
	NULL, catalog_check_absolute,
	"program that runs a catalog action as its user"),
    OPT("exec_path", CONF_STRING, exec_path, 0, 4096,
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL,
	NULL, "where exec looks up argv[0]; also the child's PATH"),
    OPT("exec_cwd", CONF_STRING, exec_cwd, 0, 4096, "/", NULL,
	catalog_check_absolute,
	"working directory of exec, shell and catalog actions"),
    OPT("max_timeout", CONF_DURATION, max_timeout, 1000, 7 * DAY_MS, "1h", NULL,
	NULL, "a command's timeout_ms is clamped to this"),
    OPT("clock_skew", CONF_DURATION, clock_skew, 0, DAY_MS, "60s", NULL, NULL,
	"tolerance when checking a command's iat and exp"),
    OPT("kill_grace", CONF_DURATION, kill_grace, 0, 3600000, "5s", NULL, NULL,
	"time between SIGTERM and SIGKILL of a command's group"),
    OPT("max_running", CONF_U64, max_running, 1, 1024, "4", NULL, NULL,
	"processes run at once; more commands wait, already ACCEPTED"),
    OPT("shutdown_grace", CONF_DURATION, shutdown_grace, 0, 3600000, "10s",
	NULL, NULL,
	"on SIGTERM, how long running commands may still finish before "
	"they are canceled"),
    OPT("trusted_key", CONF_LIST, trusted_key, 0, 4096 + 66, NULL, NULL,
	check_trusted_key,
	"KID=/path/to/public.pem: an Ed25519 key commands must be signed "
	"with (repeatable; none: signatures are not checked)"),
    OPT("result_sign_key_file", CONF_STRING, result_sign_key_file, 0, 4096,
	NULL, NULL, catalog_check_absolute,
	"this device's Ed25519 private key (PEM): signs its results, reports, "
	"output and status (default: unsigned)"),
    OPT("result_sign_kid", CONF_STRING, result_sign_kid, 1, CMDBUS_KID_MAX,
	NULL, NULL, check_kid,
	"key id sent with signed results (default: the device id)"),
    OPT("state_dir", CONF_STRING, state_dir, 0, 4096, "/var/lib/cmdbus-agent",
	NULL, catalog_check_absolute,
	"directory for the agent's state: the journal of executions"),
    OPT("user", CONF_STRING, user, 0, 64, NULL, NULL, catalog_check_account,
	"drop to this user once the state is open (default: stay)"),
    OPT("group", CONF_STRING, group, 0, 64, NULL, NULL, catalog_check_account,
	"drop to this group (default: the user's primary group)"),
    OPT("log_level", CONF_ENUM, log_level, 0, 0, "info", levels, NULL,
	"error, warn, info or debug"),
    OPT("log_syslog", CONF_BOOL, log_syslog, 0, 0, "false", NULL, NULL,
	"log to syslog instead of stderr"),
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

void
agent_files_fini(struct agent_files *f)
{
	if (f->password) {
		/* Scrubbed so the secret does not linger in freed memory. */
		explicit_bzero(f->password, strlen(f->password));
		free(f->password);
	}
	for (size_t i = 0; i < f->nkeys; i++) {
		free(f->pems[i]);
		free((char *)(uintptr_t)f->keys[i].kid);
	}
	free(f->pems);
	free(f->keys);
	if (f->sign_pem) {
		explicit_bzero(f->sign_pem, f->sign_pem_len);
		free(f->sign_pem);
	}
	memset(f, 0, sizeof(*f));
}

int
agent_conf_resolve(const struct agent_conf *c, const char *src,
		   struct cmdbus_agent_config *out, struct agent_files *files,
		   char *err, size_t errlen)
{
	int rc;

	memset(files, 0, sizeof(*files));
	cmdbus_agent_config_defaults(out);
	if (!c->device_id) {
		snprintf(err, errlen, "%s: option 'device_id' is required",
			 src);
		return -1;
	}
	out->device_id = c->device_id;
	out->mqtt_host = c->mqtt_host;
	out->mqtt_port = (unsigned)c->mqtt_port;
	out->mqtt_username = c->mqtt_username;
	out->mqtt_protocol = c->mqtt_protocol == 0 ? 5 : 311;
	out->mqtt_keepalive_ms = c->mqtt_keepalive;
	out->session_expiry_ms = c->session_expiry;
	out->topic_prefix = c->topic_prefix;
	out->labels = (const char *const *)c->label.v;
	out->nlabels = c->label.n;
	out->heartbeat_ms = c->heartbeat;
	out->exec_enabled = c->exec_enabled;
	out->shell_enabled = c->shell_enabled;
	out->catalog_dir = c->catalog_dir;
	out->runas_helper = c->runas_helper;
	out->mqtt_tls_ca_file = c->mqtt_tls_ca_file;
	out->mqtt_tls_cert_file = c->mqtt_tls_cert_file;
	out->mqtt_tls_key_file = c->mqtt_tls_key_file;
	out->mqtt_tls_insecure = c->mqtt_tls_insecure;
	out->mqtt_tls_version =
	    c->mqtt_tls_version == 0 ? NULL : tls_versions[c->mqtt_tls_version];
	out->exec_path = c->exec_path;
	out->exec_cwd = c->exec_cwd;
	out->max_timeout_ms = c->max_timeout;
	out->clock_skew_ms = c->clock_skew;
	out->kill_grace_ms = c->kill_grace;
	out->max_running = (unsigned)c->max_running;
	out->shutdown_grace_ms = c->shutdown_grace;
	out->state_dir = c->state_dir;

	if (c->mqtt_password_file) {
		rc = file_read_whole(c->mqtt_password_file, FILE_MAX, false,
				     &files->password, NULL);
		if (rc) {
			snprintf(err, errlen, "%s: mqtt_password_file %s: %s",
				 src, c->mqtt_password_file, strerror(-rc));
			return -1;
		}
		files->password[strcspn(files->password, "\r\n")] = '\0';
		out->mqtt_password = files->password;
	}
	if (c->trusted_key.n > 0) {
		files->keys = calloc(c->trusted_key.n, sizeof(*files->keys));
		files->pems = calloc(c->trusted_key.n, sizeof(char *));
		if (!files->keys || !files->pems) {
			snprintf(err, errlen, "%s: out of memory", src);
			return -1;
		}
	}
	for (size_t i = 0; i < c->trusted_key.n; i++) {
		const char *kv = c->trusted_key.v[i];
		const char *eq = strchr(kv, '=');
		size_t len = 0;
		char *kid = strndup(kv, (size_t)(eq - kv));

		if (!kid) {
			snprintf(err, errlen, "%s: out of memory", src);
			return -1;
		}
		files->keys[i].kid = kid;
		files->nkeys = i + 1;
		rc = file_read_whole(eq + 1, FILE_MAX, false, &files->pems[i],
				     &len);
		if (rc) {
			snprintf(err, errlen, "%s: trusted_key %s: %s", src,
				 eq + 1, strerror(-rc));
			return -1;
		}
		files->keys[i].pem = files->pems[i];
		files->keys[i].pem_len = len;
	}
	out->trusted_keys = files->keys;
	out->ntrusted_keys = files->nkeys;
	if (c->result_sign_key_file) {
		rc = file_read_whole(c->result_sign_key_file, FILE_MAX, false,
				     &files->sign_pem, &files->sign_pem_len);
		if (rc) {
			snprintf(err, errlen, "%s: result_sign_key_file %s: %s",
				 src, c->result_sign_key_file, strerror(-rc));
			return -1;
		}
		files->sign_key.kid = c->result_sign_kid;
		files->sign_key.pem = files->sign_pem;
		files->sign_key.pem_len = files->sign_pem_len;
		out->sign_key = &files->sign_key;
	} else if (c->result_sign_kid) {
		snprintf(err, errlen,
			 "%s: result_sign_kid needs result_sign_key_file", src);
		return -1;
	}
	return 0;
}
