/* SPDX-License-Identifier: MIT */
/* cmdbus-dispatcher: wiring only. Reads the configuration (file, then
 * flags), opens the store, starts the MQTT client and the REST API on one
 * event loop, and tears everything down in order on SIGTERM or SIGINT. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/conf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/loop.h"
#include "cmdbus/envelope.h"
#include "cmdbus/msg.h"
#include "config.h"
#include "core.h"
#include "http.h"
#include "ingest.h"
#include "keys.h"
#include "mqtt.h"
#include "store.h"

#define PROG "cmdbus-dispatcher"

/* What the program needs besides the config: secrets and the key. */
struct secrets {
	char *api_token;
	char *mqtt_password;
	struct http_tokens api_tokens; /* api_tokens_file */
	char *tls_cert, *tls_key;      /* PEM texts of the REST API's TLS */
	size_t tls_key_len;
	struct keys keys; /* signing keys and the devices' keys */
};

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " [-c FILE] [-t|--check] [--OPTION VALUE]...\n"
		"       " PROG " --hash-token NAME ROLE < TOKEN\n"
		"       " PROG " --help | --version\n\n"
		"  -c, --config FILE  read options from FILE (\"OPTION VALUE\" "
		"lines)\n"
		"  -t, --check        validate the configuration and exit\n"
		"  --hash-token NAME ROLE  read a token from stdin, print its "
		"api_tokens_file line\n"
		"  --help             print this help and exit\n"
		"  --version          print the version and exit\n\n"
		"Options (in FILE, or as --OPTION VALUE / --OPTION=VALUE; "
		"flags win):\n");
	for (const struct conf_option *o = config_options; o->name; o++) {
		fprintf(f, "  --%-23s %s", o->name, o->help);
		if (o->def)
			fprintf(f, " (default: %s)", o->def);
		fputc('\n', f);
	}
}

static void
secrets_free(struct secrets *s)
{
	/* Secrets do not linger in freed memory. */
	if (s->api_token) {
		explicit_bzero(s->api_token, strlen(s->api_token));
		free(s->api_token);
	}
	if (s->mqtt_password) {
		explicit_bzero(s->mqtt_password, strlen(s->mqtt_password));
		free(s->mqtt_password);
	}
	http_tokens_fini(&s->api_tokens);
	free(s->tls_cert);
	if (s->tls_key) {
		explicit_bzero(s->tls_key, s->tls_key_len);
		free(s->tls_key);
	}
	keys_fini(&s->keys);
	memset(s, 0, sizeof *s);
}

/* Reads api_tokens_file (when set) into a fresh table; on failure the
 * table is empty and err says file:line. */
static int
api_tokens_load(const struct config *cfg, struct http_tokens *t, char *err,
		size_t errlen)
{
	char *text = NULL;
	size_t len = 0;

	memset(t, 0, sizeof *t);
	if (!cfg->api_tokens_file)
		return 0;
	int rc =
	    config_read_file(cfg->api_tokens_file, &text, &len, err, errlen);
	if (rc == 0)
		rc = http_tokens_parse(t, text, len, cfg->api_tokens_file, err,
				       errlen);
	free(text);
	if (rc < 0)
		http_tokens_fini(t);
	return rc;
}

/* --hash-token NAME ROLE: the token is read from stdin (its first line,
 * so that it stays out of the process list and shell history) and its
 * api_tokens_file line printed. */
static int
hash_token(int argc, char **argv, int at)
{
	char line[4096 + 2], sha[CMDBUS_SHA256_HEX + 1], err[256];
	struct http_tokens t = {0};
	enum http_role role;

	if (at + 2 >= argc || http_role_parse(argv[at + 2], &role) < 0) {
		fprintf(stderr, "usage: " PROG " --hash-token NAME "
				"read|operate|admin < TOKEN\n");
		return 2;
	}
	if (!fgets(line, sizeof line, stdin)) {
		fprintf(stderr, "no token on stdin\n");
		return 1;
	}
	size_t n = strcspn(line, "\r\n");
	line[n] = '\0';
	/* A short token can be guessed: 16 bytes is at least 96 bits as
	 * base64 of random bytes. */
	if (n < 16 || n > 4096) {
		fprintf(stderr, "a token is 16..4096 bytes (e.g. openssl "
				"rand -base64 24)\n");
		explicit_bzero(line, sizeof line);
		return 1;
	}
	cmdbus_sha256_hex(line, n, sha);
	explicit_bzero(line, sizeof line);
	int rc = http_tokens_add(&t, argv[at + 1], role, sha, err, sizeof err);
	http_tokens_fini(&t);
	if (rc < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s %s %s\n", argv[at + 1], http_role_name(role), sha);
	return 0;
}

/* Loads the files the options name; everything --check must vouch for. */
static int
secrets_load(const struct config *cfg, struct secrets *s, char *err,
	     size_t errlen)
{
	int rc;

	memset(s, 0, sizeof *s);
	if (cfg->api_token_file) {
		rc = config_read_secret(cfg->api_token_file, &s->api_token, err,
					errlen);
		if (rc < 0)
			return rc;
	}
	if (cfg->mqtt_password_file) {
		rc = config_read_secret(cfg->mqtt_password_file,
					&s->mqtt_password, err, errlen);
		if (rc < 0)
			return rc;
	}
	rc = api_tokens_load(cfg, &s->api_tokens, err, errlen);
	if (rc < 0)
		return rc;
	if (cfg->http_tls_cert_file) {
		size_t len = 0;
		if (!http_tls_supported()) {
			snprintf(err, errlen,
				 "http_tls_cert_file: this libmicrohttpd has "
				 "no TLS support");
			return -ERR_CONFIG;
		}
		rc = config_read_file(cfg->http_tls_cert_file, &s->tls_cert,
				      &len, err, errlen);
		if (rc == 0)
			rc = config_read_file(cfg->http_tls_key_file,
					      &s->tls_key, &s->tls_key_len, err,
					      errlen);
		if (rc < 0)
			return rc;
	}
	return keys_load(cfg, &s->keys, err, errlen);
}

/* Flags are "--key value" or "--key=value"; a boolean may stand alone. */
static int
parse_args(int argc, char **argv, struct config *cfg, bool *check, char *err,
	   size_t errlen)
{
	const char *path = NULL;
	int rc;

	/* The file first, so that flags override it wherever they stand. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "%s needs a file",
					 argv[i]);
				return -ERR_CONFIG;
			}
			path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			path = argv[i] + 9;
		}
	}
	if (path) {
		rc = conf_load_file(config_options, cfg, path, err, errlen);
		if (rc < 0)
			return rc;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char key[64];
		const char *value = NULL;

		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			i++;
			continue;
		}
		if (strncmp(a, "--config=", 9) == 0)
			continue;
		if (strcmp(a, "-t") == 0 || strcmp(a, "--check") == 0) {
			*check = true;
			continue;
		}
		if (strncmp(a, "--", 2) != 0) {
			snprintf(err, errlen, "unexpected argument '%.64s'", a);
			return -ERR_CONFIG;
		}
		a += 2;
		const char *eq = strchr(a, '=');
		size_t klen = eq ? (size_t)(eq - a) : strlen(a);
		if (klen == 0 || klen >= sizeof key) {
			snprintf(err, errlen, "unknown option '--%.64s'", a);
			return -ERR_CONFIG;
		}
		memcpy(key, a, klen);
		key[klen] = '\0';
		const struct conf_option *o = conf_find(config_options, key);
		if (!o) {
			snprintf(err, errlen, "unknown option '--%s'", key);
			return -ERR_CONFIG;
		}
		if (eq) {
			value = eq + 1;
		} else if (i + 1 < argc &&
			   !(o->type == CONF_BOOL &&
			     strncmp(argv[i + 1], "-", 1) == 0)) {
			value = argv[++i];
		} else if (o->type == CONF_BOOL) {
			value = "true";
		} else {
			snprintf(err, errlen, "option '--%s' needs a value",
				 key);
			return -ERR_CONFIG;
		}
		char why[256];
		rc = conf_set(config_options, cfg, key, value, why, sizeof why);
		if (rc < 0) {
			snprintf(err, errlen, "--%s: %s", key, why);
			return rc;
		}
	}
	return config_validate(cfg, err, errlen);
}

/* Bus events, delivered from the MQTT adapter to the core. */
static void
ev_connected(void *ud)
{
	core_bus_connected(ud);
}

static void
ev_published(void *ud, int mid, bool ok)
{
	core_bus_published(ud, mid, ok);
}

static void
ev_message(void *ud, const char *topic, const void *payload, size_t len)
{
	ingest_message(ud, topic, payload, len);
}

/* Once per loop pass, before the wait: the pass's writes are committed
 * as one transaction. */
static uint64_t
on_prepare(struct loop *l, void *ud)
{
	(void)l;
	core_flush(ud);
	return UINT64_MAX;
}

static void
on_sweep(struct loop *l, uint64_t timer_id, void *ud)
{
	(void)l;
	(void)timer_id;
	core_sweep(ud);
}

/* SIGHUP: the configuration is read again (file, then flags, as at
 * start) and only the API tokens and the log level are applied; a bad
 * file keeps the old settings. */
struct reload {
	int argc;
	char **argv;
	struct http *http;
	int log_level;
	struct core *core; /* its keys are swapped on reload */
	struct keys *keys; /* the keys in use, owned by run()'s caller */
};

/* The signing and device keys read again: the new set replaces the old
 * one between two loop passes, so nothing holds the old keys any more;
 * a set that does not load leaves the old one in place. */
static int
reload_keys(struct reload *r, const struct config *cfg, char *err,
	    size_t errlen)
{
	struct keys fresh;
	int rc;

	if (!r->core || !r->keys)
		return 0;
	rc = keys_load(cfg, &fresh, err, errlen);
	if (rc < 0)
		return rc;
	r->core->cfg.sign_key = fresh.active;
	r->core->cfg.device_keys = fresh.devices;
	r->core->cfg.require_device_signatures = cfg->require_device_signatures;
	keys_fini(r->keys);
	*r->keys = fresh;
	log_info("dispatcher.keys_reloaded", "signing=%s devices_with_keys=%zu",
		 fresh.active ? cmdbus_key_kid(fresh.active) : "none",
		 devkeys_devices(fresh.devices));
	return 0;
}

static void
on_hup(struct loop *l, int signo, void *ud)
{
	struct reload *r = ud;
	struct config cfg;
	char *token = NULL;
	struct http_tokens table = {0};
	char err[1024] = "";
	bool check = false;
	int rc;

	(void)l;
	(void)signo;
	memset(&cfg, 0, sizeof cfg);
	rc = conf_defaults(config_options, &cfg, err, sizeof err);
	if (rc == 0)
		rc =
		    parse_args(r->argc, r->argv, &cfg, &check, err, sizeof err);
	if (rc == 0 && cfg.api_token_file)
		rc = config_read_secret(cfg.api_token_file, &token, err,
					sizeof err);
	if (rc == 0)
		rc = api_tokens_load(&cfg, &table, err, sizeof err);
	if (rc == 0)
		rc = reload_keys(r, &cfg, err, sizeof err);
	if (rc == 0 && r->http)
		rc = http_set_tokens(
		    r->http, token, (const char *const *)cfg.api_token_sha256.v,
		    cfg.api_token_sha256.n, &table);
	if (rc < 0) {
		log_error("dispatcher.reload_failed", "err=%s",
			  err[0] ? err : err_str(rc));
	} else {
		static const char *const names[] = {"error", "warn", "info",
						    "debug"};
		/* Said before the level changes, under the level it was
		 * started with. */
		log_info("dispatcher.reloaded", "tokens=%zu log_level=%s->%s",
			 cfg.api_token_sha256.n + (token ? 1u : 0u) + table.n,
			 names[r->log_level & 3], names[cfg.log_level & 3]);
		if (cfg.log_level != r->log_level) {
			log_set_level((enum log_level)cfg.log_level);
			r->log_level = cfg.log_level;
		}
	}
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	http_tokens_fini(&table);
	conf_free(config_options, &cfg);
}

static void
on_signal(struct loop *l, int signo, void *ud)
{
	(void)ud;
	log_info("dispatcher.signal", "signal=%d", signo);
	loop_stop(l);
}

static struct reload reload_ctx;

static int
run(const struct config *cfg, struct secrets *sec)
{
	char err[512] = "";
	struct store *store = NULL;
	struct loop *loop = NULL;
	struct mqtt *mqtt = NULL;
	struct http *http = NULL;
	struct core core;
	bool core_ready = false;
	struct store_port sp;
	struct bus_port bp;
	struct mqtt_config mc;
	struct mqtt_events ev;
	struct core_config cc;
	struct http_config hc;
	int rc;

	rc = store_open(cfg->db_path, &store, err, sizeof err);
	if (rc < 0) {
		log_error("dispatcher.store_failed", "db=%s err=%s",
			  cfg->db_path, err);
		goto out;
	}
	loop = loop_new();
	if (!loop) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = loop_add_signal(loop, SIGTERM, on_signal, NULL)) < 0 ||
	    (rc = loop_add_signal(loop, SIGINT, on_signal, NULL)) < 0)
		goto out;

	mc = (struct mqtt_config){
	    .host = cfg->mqtt_host,
	    .port = (unsigned)cfg->mqtt_port,
	    .client_id = cfg->mqtt_client_id,
	    .username = cfg->mqtt_username,
	    .password = sec->mqtt_password,
	    .v5 = cfg->mqtt_protocol == CONFIG_MQTT_V5,
	    .keepalive_s = (unsigned)(cfg->mqtt_keepalive_ms / 1000),
	    .session_expiry_s =
		(uint32_t)(cfg->device_session_expiry_ms / 1000),
	    .prefix = cfg->topic_prefix,
	};
	ev = (struct mqtt_events){
	    .connected = ev_connected,
	    .published = ev_published,
	    .message = ev_message,
	    .ud = &core,
	};
	rc = mqtt_new(loop, &mc, &ev, &mqtt, err, sizeof err);
	if (rc < 0) {
		log_error("dispatcher.mqtt_failed", "err=%s", err);
		goto out;
	}
	store_port(store, &sp);
	mqtt_bus_port(mqtt, &bp);
	cc = (struct core_config){
	    .prefix = cfg->topic_prefix,
	    .session_expiry_ms = cfg->device_session_expiry_ms,
	    .sign_key = sec->keys.active,
	    .device_keys = sec->keys.devices,
	    .require_device_signatures = cfg->require_device_signatures,
	    .outbox_window = (uint32_t)cfg->outbox_window,
	    .retry_initial_ms = cfg->retry_initial_ms,
	    .retry_max_ms = cfg->retry_max_ms,
	    .timeout_grace_ms = cfg->timeout_grace_ms,
	    .lost_grace_ms = cfg->lost_grace_ms,
	    .device_stale_ms = cfg->device_stale_after_ms,
	    .retention_ms = cfg->retention_ms,
	};
	rc = core_init(&core, &cc, &clock_system, &sp, &bp);
	if (rc < 0)
		goto out;
	core_ready = true;
	if ((rc = loop_add_prepare(loop, on_prepare, &core)) < 0 ||
	    (rc = loop_add_timer(loop, cfg->sweep_interval_ms,
				 cfg->sweep_interval_ms, on_sweep, &core,
				 NULL)) < 0)
		goto out;

	hc = (struct http_config){
	    .bind = cfg->http_bind,
	    .port = (unsigned)cfg->http_port,
	    .token = sec->api_token,
	    .token_sha256 = (const char *const *)cfg->api_token_sha256.v,
	    .ntoken_sha256 = cfg->api_token_sha256.n,
	    .tokens = &sec->api_tokens,
	    .tls_cert_pem = sec->tls_cert,
	    .tls_key_pem = sec->tls_key,
	    .audit_log = cfg->audit_log,
	    .max_wait_ms = cfg->max_wait_ms,
	    .max_waiters = (size_t)cfg->max_waiters,
	    .snapshot_begin = store_snapshot_begin,
	    .snapshot_end = store_snapshot_end,
	    .snapshot_ud = store,
	};
	rc = http_new(loop, &hc, &core, &http, err, sizeof err);
	if (rc < 0) {
		log_error("dispatcher.http_failed", "err=%s", err);
		goto out;
	}
	reload_ctx.http = http;
	reload_ctx.log_level = cfg->log_level;
	reload_ctx.core = &core;
	reload_ctx.keys = &sec->keys;
	if ((rc = loop_add_signal(loop, SIGHUP, on_hup, &reload_ctx)) < 0)
		goto out;
	rc = mqtt_start(mqtt);
	if (rc < 0)
		goto out;
	log_info("dispatcher.started",
		 "version=%s db=%s http=%s:%u mqtt=%s:%llu protocol=%s "
		 "signing=%s",
		 CMDBUS_VERSION, cfg->db_path, cfg->http_bind, http_port(http),
		 cfg->mqtt_host, (unsigned long long)cfg->mqtt_port,
		 mc.v5 ? "5" : "3.1.1",
		 sec->keys.active ? cmdbus_key_kid(sec->keys.active) : "none");

	rc = loop_run(loop);
	/* What the last pass wrote is committed before the store closes. */
	core_flush(&core);
	log_info("dispatcher.stopping",
		 "published=%llu received=%llu "
		 "dropped=%llu",
		 (unsigned long long)core.stats.published,
		 (unsigned long long)core.stats.received,
		 (unsigned long long)core.stats.dropped);
out:
	/* Each request and message was handled to the end inside its
	 * callback, so nothing is in flight: commands not yet acknowledged
	 * are still unfinished in the database and go again at the next
	 * start. */
	mqtt_stop(mqtt);
	http_free(http);
	mqtt_free(mqtt);
	if (core_ready)
		core_fini(&core);
	store_close(store);
	loop_free(loop);
	if (rc < 0 && !err[0])
		log_error("dispatcher.failed", "rc=%s", err_str(rc));
	return rc;
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct secrets sec;
	char err[1024] = "";
	bool check = false;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--hash-token") == 0)
			return hash_token(argc, argv, i);
		if (strcmp(argv[i], "--version") == 0) {
			printf(PROG " %s\n", CMDBUS_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "-t") == 0 ||
		    strcmp(argv[i], "--check") == 0)
			check = true;
	}

	memset(&cfg, 0, sizeof cfg);
	memset(&sec, 0, sizeof sec);
	reload_ctx.argc = argc;
	reload_ctx.argv = argv;
	rc = conf_defaults(config_options, &cfg, err, sizeof err);
	if (rc == 0)
		rc = parse_args(argc, argv, &cfg, &check, err, sizeof err);
	if (rc == 0)
		rc = secrets_load(&cfg, &sec, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr, "%s\n", err[0] ? err : err_str(rc));
		if (!check)
			fprintf(stderr, "Try '" PROG " --help'.\n");
		secrets_free(&sec);
		conf_free(config_options, &cfg);
		return 1;
	}
	if (check) {
		printf("config ok\n");
		secrets_free(&sec);
		conf_free(config_options, &cfg);
		return 0;
	}

	log_init(PROG, (enum log_level)cfg.log_level, cfg.log_syslog);
	/* Peers that hang up must cost an error return, not the process. */
	signal(SIGPIPE, SIG_IGN);
	rc = run(&cfg, &sec);
	secrets_free(&sec);
	conf_free(config_options, &cfg);
	return rc < 0 ? 1 : 0;
}
