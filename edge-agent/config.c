/* SPDX-License-Identifier: MIT */
/* The option table of cmdbus-agent, with the checks that give a bad value
 * its file:line, and the reading of the files the options name. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdbus/proto.h"
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
		char ch = *p;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		      ch == '-')) {
			snprintf(err, errlen,
				 "key id of '%s' must be [A-Za-z0-9_.-]", v);
			return -EINVAL;
		}
	}
	return 0;
}

static int
check_absolute(const char *v, char *err, size_t errlen)
{
	if (v[0] == '/')
		return 0;
	snprintf(err, errlen, "'%s' is not an absolute path", v);
	return -EINVAL;
}

static const char *const protocols[] = {"5", "311", NULL};
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
	NULL, check_absolute,
	"file whose first line is the MQTT password (default: none)"),
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
    OPT("exec_path", CONF_STRING, exec_path, 0, 4096,
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL,
	NULL, "where exec looks up argv[0]; also the child's PATH"),
    OPT("exec_cwd", CONF_STRING, exec_cwd, 0, 4096, "/", NULL, check_absolute,
	"working directory of exec"),
    OPT("max_timeout", CONF_DURATION, max_timeout, 1000, 7 * DAY_MS, "1h", NULL,
	NULL, "a command's timeout_ms is clamped to this"),
    OPT("clock_skew", CONF_DURATION, clock_skew, 0, DAY_MS, "60s", NULL, NULL,
	"tolerance when checking a command's iat and exp"),
    OPT("kill_grace", CONF_DURATION, kill_grace, 0, 3600000, "5s", NULL, NULL,
	"time between SIGTERM and SIGKILL of a command's group"),
    OPT("trusted_key", CONF_LIST, trusted_key, 0, 4096 + 66, NULL, NULL,
	check_trusted_key,
	"KID=/path/to/public.pem: an Ed25519 key commands must be signed "
	"with (repeatable; none: signatures are not checked)"),
    OPT("state_dir", CONF_STRING, state_dir, 0, 4096, "/var/lib/cmdbus-agent",
	NULL, check_absolute,
	"directory for the agent's state (the journal, from the next "
	"release)"),
    OPT("log_level", CONF_ENUM, log_level, 0, 0, "info", levels, NULL,
	"error, warn, info or debug"),
    OPT("log_syslog", CONF_BOOL, log_syslog, 0, 0, "false", NULL, NULL,
	"log to syslog instead of stderr"),
    {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

/* Reads a small file whole, NUL-terminated; *out is the caller's. */
static int
read_file(const char *path, char **out, size_t *outlen)
{
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || st.st_size > FILE_MAX) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	if (outlen)
		*outlen = got;
	return 0;
}

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
	out->exec_path = c->exec_path;
	out->exec_cwd = c->exec_cwd;
	out->max_timeout_ms = c->max_timeout;
	out->clock_skew_ms = c->clock_skew;
	out->kill_grace_ms = c->kill_grace;
	out->state_dir = c->state_dir;

	if (c->mqtt_password_file) {
		rc = read_file(c->mqtt_password_file, &files->password, NULL);
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
		rc = read_file(eq + 1, &files->pems[i], &len);
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
	return 0;
}
