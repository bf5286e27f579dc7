/* SPDX-License-Identifier: MIT */
/* The dispatcher's option table, with bounds, defaults and help lines,
 * and the reading of the small files options point at. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/err.h"
#include "cmdbus/proto.h"
#include "cmdbus/topic.h"

#define SECRET_MAX 4096u
#define KEYFILE_MAX 65536u

static const char *const protocols[] = {"5", "311", NULL};
static const char *const levels[] = {"error", "warn", "info", "debug", NULL};

static int
check_prefix(const char *v, char *err, size_t errlen)
{
	if (cmdbus_prefix_valid(v))
		return 0;
	snprintf(err, errlen,
		 "'%.64s' is not a topic prefix (1..128 bytes, no + or #, "
		 "no empty level, no leading or trailing /)",
		 v);
	return -ERR_CONFIG;
}

/* MQTT client ids and user names: printable ASCII without spaces, which
 * every broker accepts. */
static int
check_mqtt_name(const char *v, char *err, size_t errlen)
{
	for (const char *p = v; *p; p++) {
		if (*p <= ' ' || *p > '~' || *p == '+' || *p == '#' ||
		    *p == '/') {
			snprintf(err, errlen,
				 "only printable ASCII without spaces, "
				 "'/', '+' or '#'");
			return -ERR_CONFIG;
		}
	}
	return 0;
}

static int
check_kid(const char *v, char *err, size_t errlen)
{
	size_t n = strlen(v);
	if (n < 1 || n > CMDBUS_KID_MAX ||
	    strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789_.-") != n) {
		snprintf(err, errlen, "a key id is 1..64 of [A-Za-z0-9_.-]");
		return -ERR_CONFIG;
	}
	return 0;
}

/* A signing key as KID=/absolute/path.pem. */
static int
check_sign_key(const char *v, char *err, size_t errlen)
{
	const char *eq = strchr(v, '=');
	char kid[CMDBUS_KID_MAX + 1];
	size_t n = eq ? (size_t)(eq - v) : 0;

	if (!eq || n == 0 || n > CMDBUS_KID_MAX || eq[1] != '/') {
		snprintf(err, errlen, "'%s' is not KID=/absolute/path.pem", v);
		return -ERR_CONFIG;
	}
	memcpy(kid, v, n);
	kid[n] = '\0';
	return check_kid(kid, err, errlen);
}

/* A token's digest: 64 hex digits (`sha256sum` prints it). */
static int
check_sha256(const char *v, char *err, size_t errlen)
{
	if (strlen(v) == 64 && strspn(v, "0123456789abcdefABCDEF") == 64)
		return 0;
	snprintf(err, errlen, "a SHA-256 digest is 64 hex digits");
	return -ERR_CONFIG;
}

#define OPT(f) offsetof(struct config, f)
#define SEC 1000ull

const struct conf_option config_options[] = {
    {"db_path", CONF_STRING, OPT(db_path), 0, 4096,
     "/var/lib/cmdbus/dispatcher.db", NULL, NULL,
     "SQLite database file (WAL mode; created when missing)"},
    {"http_bind", CONF_STRING, OPT(http_bind), 0, 255, "127.0.0.1", NULL, NULL,
     "address the REST API listens on"},
    {"http_port", CONF_U64, OPT(http_port), 1, 65535, "8080", NULL, NULL,
     "TCP port of the REST API"},
    {"api_token_file", CONF_STRING, OPT(api_token_file), 0, 4096, NULL, NULL,
     NULL,
     "file whose first line is the API bearer token; unset: no "
     "authentication"},
    {"api_token_sha256", CONF_LIST, OPT(api_token_sha256), 0, 64, NULL, NULL,
     check_sha256,
     "lower-case hex SHA-256 of an accepted API token, role admin "
     "(repeatable)"},
    {"api_tokens_file", CONF_STRING, OPT(api_tokens_file), 0, 4096, NULL, NULL,
     NULL,
     "file of named API tokens, one \"NAME ROLE SHA256HEX\" a line (role "
     "read, operate or admin); re-read on SIGHUP"},
    {"http_tls_cert_file", CONF_STRING, OPT(http_tls_cert_file), 0, 4096, NULL,
     NULL, NULL,
     "PEM certificate (chain) of the REST API; with http_tls_key_file: "
     "HTTPS"},
    {"http_tls_key_file", CONF_STRING, OPT(http_tls_key_file), 0, 4096, NULL,
     NULL, NULL, "PEM private key of the REST API's certificate"},
    {"audit_log", CONF_STRING, OPT(audit_log), 0, 4096, NULL, NULL, NULL,
     "append a JSON line per job created or canceled and action called; "
     "unset: audit.* log events only"},
    {"max_wait", CONF_DURATION, OPT(max_wait_ms), SEC, 3600 * SEC, "60s", NULL,
     NULL, "longest a request waits (?wait, ?follow, action calls)"},
    {"max_waiters", CONF_U64, OPT(max_waiters), 1, 100000, "128", NULL, NULL,
     "requests waiting at once at most; more get 429"},
    {"mqtt_host", CONF_STRING, OPT(mqtt_host), 0, 255, "127.0.0.1", NULL, NULL,
     "MQTT broker host"},
    {"mqtt_port", CONF_U64, OPT(mqtt_port), 1, 65535, "1883", NULL, NULL,
     "MQTT broker port"},
    {"mqtt_client_id", CONF_STRING, OPT(mqtt_client_id), 1, 128,
     "cmdbus-dispatcher", NULL, check_mqtt_name,
     "MQTT client id of the dispatcher's persistent session"},
    {"mqtt_username", CONF_STRING, OPT(mqtt_username), 1, 128,
     "cmdbus-dispatcher", NULL, check_mqtt_name, "MQTT user name"},
    {"mqtt_password_file", CONF_STRING, OPT(mqtt_password_file), 0, 4096, NULL,
     NULL, NULL, "file whose first line is the MQTT password; unset: none"},
    {"mqtt_protocol", CONF_ENUM, OPT(mqtt_protocol), 0, 0, "5", protocols, NULL,
     "MQTT protocol version: 5 or 311"},
    {"mqtt_keepalive", CONF_DURATION, OPT(mqtt_keepalive_ms), 5 * SEC,
     65535 * SEC, "30s", NULL, NULL, "MQTT keepalive interval"},
    {"topic_prefix", CONF_STRING, OPT(topic_prefix), 1, 128,
     CMDBUS_DEFAULT_PREFIX, NULL, check_prefix,
     "topic prefix: commands go to PREFIX/DEVICE/cmd"},
    {"device_session_expiry", CONF_DURATION, OPT(device_session_expiry_ms),
     60 * SEC, 4294967295ull * SEC, "7d", NULL, NULL,
     "the agents' MQTT session expiry; a job's TTL is capped at it"},
    {"sign_key_file", CONF_STRING, OPT(sign_key_file), 0, 4096, NULL, NULL,
     NULL, "Ed25519 private key (PEM) that signs commands; unset: unsigned"},
    {"sign_kid", CONF_STRING, OPT(sign_kid), 1, CMDBUS_KID_MAX, NULL, NULL,
     check_kid,
     "key id sent with signed commands: sign_key_file's, or which "
     "sign_key signs (default: the first)"},
    {"sign_key", CONF_LIST, OPT(sign_key), 3, 4096 + 65, NULL, NULL,
     check_sign_key,
     "KID=/path.pem: an Ed25519 private key that can sign commands "
     "(repeatable, for rotation; sign_kid picks the one in use)"},
    {"device_keys_dir", CONF_STRING, OPT(device_keys_dir), 1, 4096, NULL, NULL,
     NULL,
     "directory of devices' public keys (DEVICE.pem, DEVICE@KID.pem): a "
     "device with one must sign everything it publishes"},
    {"require_device_signatures", CONF_BOOL, OPT(require_device_signatures), 0,
     0, "false", NULL, NULL,
     "refuse every message of a device that has no key in device_keys_dir"},
    {"outbox_window", CONF_U64, OPT(outbox_window), 1, 1000, "16", NULL, NULL,
     "published, unfinished executions per device; the rest wait QUEUED"},
    {"retry_initial", CONF_DURATION, OPT(retry_initial_ms), 100, 3600 * SEC,
     "10s", NULL, NULL,
     "first re-publish of an unfinished command after this; doubles"},
    {"retry_max", CONF_DURATION, OPT(retry_max_ms), 100, 86400 * SEC, "5m",
     NULL, NULL, "the re-publish interval stops doubling here"},
    {"timeout_grace", CONF_DURATION, OPT(timeout_grace_ms), 100, 86400 * SEC,
     "30s", NULL, NULL,
     "TIMED_OUT when no result came timeout_ms plus this after the start"},
    {"lost_grace", CONF_DURATION, OPT(lost_grace_ms), 100, 86400 * SEC, "30s",
     NULL, NULL,
     "after a device restarts, LOST when a run of its old boot is not "
     "answered within this"},
    {"device_stale_after", CONF_DURATION, OPT(device_stale_after_ms), SEC,
     86400 * SEC, "90s", NULL, NULL,
     "an online device with no status for this long is shown stale"},
    {"retention", CONF_DURATION, OPT(retention_ms), 0, 3650 * 86400 * SEC,
     "30d", NULL, NULL,
     "finished executions and jobs older than this are pruned; 0: never"},
    {"sweep_interval", CONF_DURATION, OPT(sweep_interval_ms), 100, 60 * SEC,
     "1s", NULL, NULL,
     "period of the sweep (expiry, timeouts, retries, retention)"},
    {"log_level", CONF_ENUM, OPT(log_level), 0, 0, "info", levels, NULL,
     "log level: error, warn, info or debug"},
    {"log_syslog", CONF_BOOL, OPT(log_syslog), 0, 0, "false", NULL, NULL,
     "log to syslog (LOG_DAEMON) instead of stderr"},
    {NULL, CONF_STRING, 0, 0, 0, NULL, NULL, NULL, NULL},
};

int
config_validate(const struct config *c, char *err, size_t errlen)
{
	if ((c->http_tls_cert_file == NULL) != (c->http_tls_key_file == NULL)) {
		snprintf(err, errlen,
			 "http_tls_cert_file and http_tls_key_file go "
			 "together: set both or neither");
		return -ERR_CONFIG;
	}
	if (c->sign_key_file && !c->sign_kid) {
		snprintf(err, errlen,
			 "sign_key_file and sign_kid go together: set both "
			 "or neither");
		return -ERR_CONFIG;
	}
	if (c->sign_kid && !c->sign_key_file && c->sign_key.n == 0) {
		snprintf(err, errlen,
			 "sign_kid needs sign_key_file or a sign_key");
		return -ERR_CONFIG;
	}
	if (c->require_device_signatures && !c->device_keys_dir) {
		snprintf(err, errlen,
			 "require_device_signatures needs device_keys_dir");
		return -ERR_CONFIG;
	}
	return 0;
}

int
config_read_file(const char *path, char **out, size_t *len, char *err,
		 size_t errlen)
{
	struct buf b;
	char chunk[4096];
	int rc = 0;

	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, err_str(rc));
		return rc;
	}
	buf_init(&b, KEYFILE_MAX);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, err_str(rc));
			break;
		}
		if (n == 0)
			break;
		rc = buf_append(&b, chunk, (size_t)n);
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", path,
				 rc == -ENOBUFS ? "file too large"
						: err_str(rc));
			break;
		}
	}
	close(fd);
	if (rc == 0) {
		*out = buf_steal(&b, len);
		if (!*out) {
			snprintf(err, errlen, "%s: out of memory", path);
			rc = -ENOMEM;
		}
	}
	buf_fini(&b);
	return rc;
}

int
config_read_secret(const char *path, char **out, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;

	*out = NULL;
	int rc = config_read_file(path, &text, &len, err, errlen);
	if (rc < 0)
		return rc;
	size_t n = strcspn(text, "\r\n");
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	text[n] = '\0';
	if (n == 0 || n > SECRET_MAX) {
		snprintf(err, errlen, "%s: the first line is empty", path);
		free(text);
		return -ERR_CONFIG;
	}
	*out = text;
	return 0;
}
