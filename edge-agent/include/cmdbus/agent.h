/* SPDX-License-Identifier: MIT */
/* libcmdbus-agent: the cmdbus edge agent as a library, so that a firmware
 * can embed it, register its own action handlers and run it on its own
 * event loop. The cmdbus-agent program is a thin main over this header. */
#ifndef CMDBUS_AGENT_H
#define CMDBUS_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CMDBUS_AGENT_VERSION "0.1.0"

struct cmdbus_agent;

/* A trusted Ed25519 public key: the key id commands name in `kid`, and the
 * key as PEM text (SubjectPublicKeyInfo). Both are copied by
 * cmdbus_agent_new(). */
struct cmdbus_agent_key {
	const char *kid;
	const char *pem;
	size_t pem_len;
};

/* Everything the agent needs, as in the cmdbus-agent(8) options. Strings
 * and arrays are borrowed only for the duration of cmdbus_agent_new(),
 * which copies them. Fill it with cmdbus_agent_config_defaults() first. */
struct cmdbus_agent_config {
	const char *device_id;	   /* required; also the MQTT client id */
	const char *mqtt_host;	   /* default "127.0.0.1" */
	unsigned mqtt_port;	   /* default 1883 */
	const char *mqtt_username; /* NULL: the device id */
	const char *mqtt_password; /* NULL: none */
	/* TLS to the broker: on when a CA file is given. With a certificate
	 * and key the agent also authenticates itself (mTLS). */
	const char *mqtt_tls_ca_file;	/* NULL: plain TCP */
	const char *mqtt_tls_cert_file; /* NULL: no client certificate */
	const char *mqtt_tls_key_file;
	bool mqtt_tls_insecure;	      /* skip the host name check */
	const char *mqtt_tls_version; /* NULL: the library's default */
	int mqtt_protocol;	      /* 5 (default) or 311 */
	uint64_t mqtt_keepalive_ms;   /* default 30 s; 5 s .. 65535 s */
	uint64_t session_expiry_ms;   /* default 7 days (MQTT 5 only) */
	const char *topic_prefix;     /* default "cmdbus/v1" */
	const char *const *labels;    /* "key=value" each */
	size_t nlabels;
	uint64_t heartbeat_ms;	  /* status republish interval, default 30 s */
	bool exec_enabled;	  /* default false */
	bool shell_enabled;	  /* default false: the shell action */
	const char *catalog_dir;  /* NULL: no catalog actions */
	const char *runas_helper; /* NULL: no catalog action may set user */
	/* Called on the agent's loop at each cmdbus_agent_reload(), before
	 * the catalog is read again, so that a program can re-read its own
	 * settings (cmdbus-agent: the log level). NULL: none. */
	void (*on_reload)(void *ud);
	void *reload_ud;
	const char *exec_path;	 /* where argv[0] of exec is looked up */
	const char *exec_cwd;	 /* working directory of exec, default "/" */
	uint64_t max_timeout_ms; /* timeout_ms is clamped to it, default 1 h */
	uint64_t clock_skew_ms;	 /* tolerance on iat and exp, default 60 s */
	uint64_t kill_grace_ms;	 /* SIGTERM to SIGKILL, default 5 s */
	unsigned max_running;	 /* processes at once, default 4 */
	/* At stop, how long runs may still finish before they are
	 * terminated, default 10 s. */
	uint64_t shutdown_grace_ms;
	const struct cmdbus_agent_key *trusted_keys; /* none: unsigned ok */
	size_t ntrusted_keys;
	/* Directory of the journal that makes execution exactly-once
	 * across restarts (created 0700 when missing; default
	 * /var/lib/cmdbus-agent). NULL keeps the journal in memory only. */
	const char *state_dir;
	/* This device's own Ed25519 private key (PEM, PKCS#8) and the key
	 * id it signs with, so that the dispatcher can tell its results and
	 * status from forgeries (see "Signed commands and results" in
	 * docs/security.md). NULL: what the agent publishes goes unsigned.
	 * The kid defaults to the device id. */
	const struct cmdbus_agent_key *sign_key;
};

/* Fills every field with its default (device_id stays NULL). */
void cmdbus_agent_config_defaults(struct cmdbus_agent_config *cfg);

/* Checks a configuration without connecting anywhere: names, labels,
 * prefix, bounds, trusted keys. 0, or -EINVAL with a sentence in err. */
int cmdbus_agent_config_check(const struct cmdbus_agent_config *cfg, char *err,
			      size_t errlen);

/* Creates an agent (nothing is connected until cmdbus_agent_run()).
 * 0 and *out, which is the caller's to free with cmdbus_agent_free();
 * or a negative code with a sentence in err. */
int cmdbus_agent_new(const struct cmdbus_agent_config *cfg,
		     struct cmdbus_agent **out, char *err, size_t errlen);

/* What a handler answers; filled through the functions below. */
struct cmdbus_agent_reply;

/* A firmware action. `args_json` is the command's `args` object as compact
 * JSON (borrowed for the call; read a parameter with cmdbus_agent_arg()).
 * The handler writes its output through `reply` and returns its exit
 * status, 0..255: 0 is SUCCEEDED, anything else FAILED (a status set
 * with cmdbus_agent_reply_exit_code() counts when the handler returns
 * 0). A negative return, or cmdbus_agent_reply_error(), makes the result
 * FAILED with error code handler_failed. It runs inline on the agent's
 * loop, after the same checks and journal as every other action, and
 * must return quickly. */
typedef int cmdbus_agent_handler_fn(const char *args_json,
				    struct cmdbus_agent_reply *reply, void *ud);

/* Copies the value of parameter `name` of `args_json` (an object of
 * strings, as handlers with params get) into buf, NUL-terminated. 0,
 * -ENOENT (no such parameter), -ENOSPC (buf too small), -EINVAL (args
 * not an object of strings). */
int cmdbus_agent_arg(const char *args_json, const char *name, char *buf,
		     size_t buflen);

/* The exit code the result reports, 0..255 (default 0). 0 or -EINVAL. */
int cmdbus_agent_reply_exit_code(struct cmdbus_agent_reply *r, int code);
/* Appends bytes to the result's stdout or stderr; past the command's
 * max_output the first and last halves are kept. 0 or -ENOMEM. */
int cmdbus_agent_reply_stdout(struct cmdbus_agent_reply *r, const void *data,
			      size_t len);
int cmdbus_agent_reply_stderr(struct cmdbus_agent_reply *r, const void *data,
			      size_t len);
/* Fails the run with a message (copied). 0 or -ENOMEM. */
int cmdbus_agent_reply_error(struct cmdbus_agent_reply *r, const char *message);

/* A named parameter of a handler and the pattern (POSIX ERE) its whole
 * value must match. A parameter is required unless `optional` is set,
 * as a catalog parameter is unless it has a default; `{"name", "re"}`
 * declares a required one. An array of them ends with an entry whose
 * name is NULL. */
struct cmdbus_agent_param {
	const char *name;
	const char *pattern;
	bool optional; /* may be left out of args */
};

/* Registers a handler for `action` (a valid action name, not a built-in
 * and not registered yet). With `params` (NULL-terminated, copied), args
 * must be an object of strings whose every key is a declared parameter
 * and whose value matches its pattern, and every parameter that is not
 * optional must be there, else the command is REJECTED with bad_args
 * naming the parameter ("args.NAME: unknown parameter", "...: value does
 * not match RE", "...: required parameter is missing"), exactly as for a
 * catalog action; without params args are passed as they are. The
 * action and its params appear in the status `actions`. Call before
 * cmdbus_agent_run(). 0; -EINVAL (bad name or pattern), -EEXIST,
 * -ENOMEM. */
int cmdbus_agent_register(struct cmdbus_agent *a, const char *action,
			  cmdbus_agent_handler_fn *fn,
			  const struct cmdbus_agent_param *params, void *ud);

/* Connects out to the broker and serves commands until
 * cmdbus_agent_stop(): then no new command is taken, running processes
 * may finish for shutdown_grace, the rest get SIGTERM (SIGKILL after
 * kill_grace) and end LOST/interrupted, their results and an offline
 * status are published when the broker is reachable, and the session is
 * closed. 0, or a negative code when the event loop failed. */
int cmdbus_agent_run(struct cmdbus_agent *a);

/* Asks a running agent to stop. Async-signal-safe and thread-safe (it
 * writes one byte to a pipe); may be called before cmdbus_agent_run(),
 * which then stops at once. */
void cmdbus_agent_stop(struct cmdbus_agent *a);

/* Asks a running agent to read its catalog_dir again (as on SIGHUP).
 * Async-signal-safe. A catalog that does not load is logged with
 * file:line and the old one stays; a new one shows in the next status,
 * which is published at once. The connection is kept. */
void cmdbus_agent_reload(struct cmdbus_agent *a);

/* Frees the agent; NULL is a no-op. Not while cmdbus_agent_run() runs. */
void cmdbus_agent_free(struct cmdbus_agent *a);

#ifdef __cplusplus
}
#endif

#endif
