/* SPDX-License-Identifier: MIT */
/* The library's configuration: its defaults, and the check that a
 * configuration can work before anything connects (names, bounds, TLS
 * options that go together, trusted keys, and a catalog that loads). */
#include "cmdbus/agent.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmdbus/envelope.h"
#include "cmdbus/proto.h"
#include "cmdbus/topic.h"

#include "catalog_dir.h"

void
cmdbus_agent_config_defaults(struct cmdbus_agent_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mqtt_host = "127.0.0.1";
	c->mqtt_port = 1883;
	c->mqtt_protocol = 5;
	c->mqtt_keepalive_ms = 30000;
	c->session_expiry_ms = 7ull * 24 * 3600 * 1000;
	c->topic_prefix = CMDBUS_DEFAULT_PREFIX;
	c->heartbeat_ms = 30000;
	c->exec_path =
	    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	c->exec_cwd = "/";
	c->max_timeout_ms = 3600000;
	c->clock_skew_ms = 60000;
	c->kill_grace_ms = 5000;
	c->max_running = 4;
	c->shutdown_grace_ms = 10000;
	c->state_dir = "/var/lib/cmdbus-agent";
}

static bool
valid_kid(const char *kid)
{
	size_t n = kid ? strlen(kid) : 0;

	if (n < 1 || n > CMDBUS_KID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = kid[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		      ch == '-'))
			return false;
	}
	return true;
}

int
cmdbus_agent_config_check(const struct cmdbus_agent_config *c, char *err,
			  size_t errlen)
{
	char topic[256];

	if (!c->device_id || !cmdbus_valid_device_id(c->device_id)) {
		snprintf(err, errlen,
			 "device_id '%s' is missing or invalid (it must match "
			 "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$)",
			 c->device_id ? c->device_id : "");
		return -EINVAL;
	}
	if (!c->topic_prefix || !cmdbus_prefix_valid(c->topic_prefix) ||
	    cmdbus_topic_build(topic, sizeof(topic), c->topic_prefix,
			       c->device_id, CMDBUS_KIND_RESULT) != 0) {
		snprintf(err, errlen, "topic_prefix '%s' is invalid",
			 c->topic_prefix ? c->topic_prefix : "");
		return -EINVAL;
	}
	if (!c->mqtt_host || !c->mqtt_host[0] || c->mqtt_port < 1 ||
	    c->mqtt_port > 65535) {
		snprintf(err, errlen, "mqtt_host or mqtt_port is invalid");
		return -EINVAL;
	}
	if (c->mqtt_protocol != 5 && c->mqtt_protocol != 311) {
		snprintf(err, errlen, "mqtt_protocol must be 5 or 311");
		return -EINVAL;
	}
	if (c->mqtt_keepalive_ms < 5000 || c->mqtt_keepalive_ms > 65535000u) {
		snprintf(err, errlen, "mqtt_keepalive must be 5s .. 65535s");
		return -EINVAL;
	}
	if (c->heartbeat_ms < 1000 || c->max_timeout_ms < 1) {
		snprintf(err, errlen,
			 "heartbeat must be >= 1s and max_timeout >= 1ms");
		return -EINVAL;
	}
	if (!c->exec_path || !c->exec_path[0] || !c->exec_cwd ||
	    c->exec_cwd[0] != '/') {
		snprintf(err, errlen,
			 "exec_path must be set and exec_cwd absolute");
		return -EINVAL;
	}
	for (size_t i = 0; i < c->nlabels; i++) {
		const char *kv = c->labels[i];
		const char *eq = kv ? strchr(kv, '=') : NULL;
		char key[CMDBUS_NAME_BUF];
		size_t klen = eq ? (size_t)(eq - kv) : 0;

		if (!eq || klen == 0 || klen >= sizeof(key)) {
			snprintf(err, errlen, "label '%s' is not key=value",
				 kv ? kv : "");
			return -EINVAL;
		}
		memcpy(key, kv, klen);
		key[klen] = '\0';
		if (!cmdbus_valid_label(key) || !cmdbus_valid_label(eq + 1)) {
			snprintf(err, errlen,
				 "label '%s': key and value must be 1..64 "
				 "bytes of [A-Za-z0-9_.-]",
				 kv);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (strncmp(c->labels[j], kv, klen + 1) == 0) {
				snprintf(err, errlen, "label '%s' given twice",
					 key);
				return -EINVAL;
			}
		}
	}
	if (!c->mqtt_tls_ca_file &&
	    (c->mqtt_tls_cert_file || c->mqtt_tls_key_file ||
	     c->mqtt_tls_version || c->mqtt_tls_insecure)) {
		snprintf(err, errlen,
			 "mqtt_tls_* options need mqtt_tls_ca_file");
		return -EINVAL;
	}
	if (!c->mqtt_tls_cert_file != !c->mqtt_tls_key_file) {
		snprintf(err, errlen,
			 "mqtt_tls_cert_file and "
			 "mqtt_tls_key_file go together");
		return -EINVAL;
	}
	if (c->mqtt_tls_version &&
	    strcmp(c->mqtt_tls_version, "tlsv1.2") != 0 &&
	    strcmp(c->mqtt_tls_version, "tlsv1.3") != 0) {
		snprintf(err, errlen,
			 "mqtt_tls_version must be tlsv1.2 or "
			 "tlsv1.3");
		return -EINVAL;
	}
	if (c->catalog_dir) {
		struct catalog_action **v = NULL;
		size_t n = 0;
		int rc = catalog_dir_load(c->catalog_dir, &v, &n, err, errlen);
		catalog_dir_free(v, n);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < c->ntrusted_keys; i++) {
		const struct cmdbus_agent_key *k = &c->trusted_keys[i];
		struct cmdbus_key *key = NULL;

		if (!valid_kid(k->kid)) {
			snprintf(err, errlen, "trusted key id '%s' is invalid",
				 k->kid ? k->kid : "");
			return -EINVAL;
		}
		if (!k->pem || cmdbus_key_from_pem(k->pem, k->pem_len, k->kid,
						   &key) != 0) {
			snprintf(err, errlen,
				 "trusted key '%s' is not an Ed25519 PEM key",
				 k->kid);
			return -EINVAL;
		}
		cmdbus_key_free(key);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(c->trusted_keys[j].kid, k->kid) == 0) {
				snprintf(err, errlen,
					 "trusted key id '%s' given twice",
					 k->kid);
				return -EINVAL;
			}
		}
	}
	if (c->sign_key) {
		const struct cmdbus_agent_key *k = c->sign_key;
		const char *kid = k->kid ? k->kid : c->device_id;
		struct cmdbus_key *key = NULL;
		bool ok;

		if (!valid_kid(kid)) {
			snprintf(err, errlen, "sign key id '%s' is invalid",
				 kid);
			return -EINVAL;
		}
		ok = k->pem &&
		     cmdbus_key_from_pem(k->pem, k->pem_len, kid, &key) == 0 &&
		     cmdbus_key_is_private(key);
		cmdbus_key_free(key);
		if (!ok) {
			snprintf(err, errlen,
				 "sign key is not an Ed25519 private key in "
				 "PEM");
			return -EINVAL;
		}
	}
	return 0;
}
