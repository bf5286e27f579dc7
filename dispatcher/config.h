/* SPDX-License-Identifier: MIT */
/* cmdbus-dispatcher's configuration: one option table serves the file,
 * the command-line flags, --help and the example file. */
#ifndef DISPATCHER_CONFIG_H
#define DISPATCHER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"

enum config_protocol { CONFIG_MQTT_V5 = 0, CONFIG_MQTT_V311 = 1 };

struct config {
	char *db_path;
	char *http_bind;
	uint64_t http_port;
	char *api_token_file;		   /* NULL: no authentication */
	struct conf_list api_token_sha256; /* hex digests of more tokens */
	char *api_tokens_file;		   /* NAME ROLE SHA256HEX lines */
	char *http_tls_cert_file;	   /* PEM; with the key: HTTPS */
	char *http_tls_key_file;	   /* its PEM private key */
	char *audit_log;		   /* JSON-lines audit file, or NULL */
	uint64_t max_wait_ms;		   /* cap of waiting requests */
	uint64_t max_waiters;
	char *mqtt_host;
	uint64_t mqtt_port;
	char *mqtt_client_id;
	char *mqtt_username;
	char *mqtt_password_file; /* NULL: no password */
	int mqtt_protocol;	  /* enum config_protocol */
	uint64_t mqtt_keepalive_ms;
	char *topic_prefix;
	uint64_t device_session_expiry_ms;
	char *sign_key_file; /* NULL: commands go unsigned */
	char *sign_kid;
	struct conf_list sign_key; /* "KID=/path.pem": more signing keys */
	char *device_keys_dir;	   /* DEVICE.pem public keys; NULL: none */
	bool require_device_signatures;
	uint64_t outbox_window;
	uint64_t retry_initial_ms, retry_max_ms;
	uint64_t timeout_grace_ms, lost_grace_ms;
	uint64_t device_stale_after_ms;
	uint64_t retention_ms; /* 0: never prune */
	uint64_t sweep_interval_ms;
	int log_level; /* enum log_level */
	bool log_syslog;
};

/* The option table, ended by an entry whose name is NULL. */
extern const struct conf_option config_options[];

/* Checks what single options cannot: options that go together. 0, or
 * -ERR_CONFIG with a sentence in err. */
int config_validate(const struct config *c, char *err, size_t errlen);

/* Reads the first line of a secret file (a token or a password), without
 * its line ending. 0 with *out malloc'd (the caller frees it), or a
 * negative code with a sentence in err (missing, unreadable, empty). */
int config_read_secret(const char *path, char **out, char *err, size_t errlen);

/* Reads a whole small file (a PEM key). 0 with *out malloc'd and
 * NUL-terminated, or a negative code with a sentence in err. */
int config_read_file(const char *path, char **out, size_t *len, char *err,
		     size_t errlen);

#endif
