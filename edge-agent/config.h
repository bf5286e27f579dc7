/* SPDX-License-Identifier: MIT */
/* cmdbus-agent's options: one table (common/conf.h) serves the config
 * file, the command-line flags, --help and the example file; then the
 * files it names (password, trusted keys) are read into the library's
 * configuration. */
#ifndef CMDBUS_AGENT_CONFIG_H
#define CMDBUS_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdbus/agent.h"
#include "common/conf.h"

struct agent_conf {
	char *device_id;
	char *mqtt_host;
	uint64_t mqtt_port;
	char *mqtt_username;
	char *mqtt_password_file;
	char *mqtt_tls_ca_file;
	char *mqtt_tls_cert_file;
	char *mqtt_tls_key_file;
	bool mqtt_tls_insecure;
	int mqtt_tls_version; /* index: "auto", "tlsv1.2", "tlsv1.3" */
	int mqtt_protocol;    /* index: 0 is "5", 1 is "311" */
	uint64_t mqtt_keepalive;
	uint64_t session_expiry;
	char *topic_prefix;
	struct conf_list label;
	uint64_t heartbeat;
	bool exec_enabled;
	bool shell_enabled;
	char *catalog_dir;
	char *runas_helper;
	char *user;  /* drop to this user after start */
	char *group; /* and this group (default: the user's) */
	char *exec_path;
	char *exec_cwd;
	uint64_t max_timeout;
	uint64_t clock_skew;
	uint64_t kill_grace;
	uint64_t max_running;
	uint64_t shutdown_grace;
	struct conf_list trusted_key;
	char *result_sign_key_file; /* this device's private key */
	char *result_sign_kid;	    /* NULL: the device id */
	char *state_dir;
	int log_level; /* enum log_level */
	bool log_syslog;
};

extern const struct conf_option agent_conf_options[];

/* What the library configuration borrows from: the password and the PEM
 * texts read from their files. Release with agent_files_fini(). */
struct agent_files {
	char *password;
	struct cmdbus_agent_key *keys;
	char **pems;
	size_t nkeys;
	char *sign_pem; /* the private key's PEM, scrubbed when freed */
	size_t sign_pem_len;
	struct cmdbus_agent_key sign_key;
};

/* Fills `out` from `c`, reading the files it names into `files`. `src`
 * names the config file for messages ("flags" without one). 0, or -1
 * with "src: reason" in err. */
int agent_conf_resolve(const struct agent_conf *c, const char *src,
		       struct cmdbus_agent_config *out,
		       struct agent_files *files, char *err, size_t errlen);
void agent_files_fini(struct agent_files *f);

#endif
