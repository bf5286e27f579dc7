/* SPDX-License-Identifier: MIT */
/* libcmdbus-agent: wires the core to its adapters on one event loop (the
 * core's ports become MQTT publishes, process spawns and system reads),
 * keeps the status fresh, and runs the orderly shutdown: terminate runs,
 * publish their results and the offline status, wait for the broker's
 * acknowledgements, disconnect. */
/* pipe2() is GNU. */
#define _GNU_SOURCE

#include "cmdbus/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdbus/envelope.h"
#include "cmdbus/topic.h"
#include "common/clock.h"
#include "common/id.h"
#include "common/log.h"
#include "common/loop.h"

#include "agent_core.h"
#include "catalog_dir.h"
#ifdef CMDBUS_CRASHPOINTS
#include "crashpoint_file.h"
#endif
#include "exec.h"
#include "journal_file.h"
#include "mqtt.h"
#include "sysinfo.h"

#define WILL_DELAY_S 5	   /* MQTT 5 will delay: rides out a quick reconnect */
#define ACK_WAIT_MS 3000   /* at shutdown, for PUBACKs of the last messages */
#define CLOSE_WAIT_MS 2000 /* at shutdown, for DISCONNECT to go out */
#define SHUTDOWN_TICK_MS 50

enum phase {
	PH_RUN,
	PH_GRACE,    /* no new commands; runs may still finish */
	PH_CHILDREN, /* runs were told to stop; waiting for their ends */
	PH_ACKS,     /* offline status sent; waiting for PUBACKs */
	PH_CLOSING,  /* DISCONNECT sent */
	PH_DONE,
};

struct cmdbus_agent {
	struct loop *loop;
	struct core *core;
	struct exec *exec;
	struct mqtt *mqtt;
	struct sysinfo_snap sys;
	struct cmdbus_key **keys;
	size_t nkeys;
	struct cmdbus_key *sign_key; /* NULL: publishes unsigned */
	char boot_id[ID_ULID_LEN + 1];
	char device_id[CMDBUS_NAME_BUF];
	char topic_cmd[256], topic_result[256], topic_status[256];
	char *catalog_dir; /* NULL: no catalog */
	void (*on_reload)(void *ud);
	void *reload_ud;
	uint64_t heartbeat_ms, kill_grace_ms, shutdown_grace_ms;
	int stop_pipe[2];
	bool running;
	enum phase phase;
	uint64_t deadline;
	uint64_t hb_timer, tick_timer;
	bool has_hb_timer, has_tick_timer;
	struct journal_file *jfile; /* NULL: the journal is in memory */
	struct journal_io jio;
	uint64_t hk_timer; /* housekeeping: core_tick() */
	bool has_hk_timer;
#ifdef CMDBUS_CRASHPOINTS
	const char *crash_file; /* from the environment; NULL: unarmed */
#endif
};

/* cmdbus_agent_config_defaults() and cmdbus_agent_config_check() are in
 * agent_config.c. */

/* ---- ports ---- */

static int
port_publish(void *ud, enum cmdbus_kind kind, const char *msg, size_t len,
	     bool retain)
{
	struct cmdbus_agent *a = ud;
	const char *topic =
	    kind == CMDBUS_KIND_STATUS ? a->topic_status : a->topic_result;

	return mqtt_publish(a->mqtt, topic, msg, len, retain);
}

static int
port_spawn(void *ud, uint64_t token, const struct core_spawn *sp, long *pid)
{
	struct cmdbus_agent *a = ud;

	return exec_spawn(a->exec, token, sp, pid);
}

static void
port_terminate(void *ud, uint64_t token)
{
	struct cmdbus_agent *a = ud;

	exec_terminate(a->exec, token);
}

static int
port_sysinfo(void *ud, struct cmdbus_info *info)
{
	struct cmdbus_agent *a = ud;
	int rc = sysinfo_read(&a->sys);

	if (rc == 0)
		*info = a->sys.info;
	return rc;
}

static int
port_proc_start(void *ud, long pid, uint64_t *start)
{
	(void)ud;
	return exec_proc_start(pid, start);
}

static void
port_kill_stale(void *ud, long pgid, uint64_t start)
{
	(void)ud;
	exec_kill_stale(pgid, start);
}

#ifdef CMDBUS_CRASHPOINTS
static void
port_crashpoint(void *ud, const char *point, const char *id)
{
	struct cmdbus_agent *a = ud;

	crashpoint_check(a->crash_file, point, id);
}
#endif

static void
on_housekeeping(struct loop *l, uint64_t id, void *ud)
{
	struct cmdbus_agent *a = ud;

	(void)id;
	core_tick(a->core);
	/* An idle agent does not wake up for it: the timer comes back with
	 * the next run or unwritten result. */
	if (!core_busy(a->core) && a->has_hk_timer) {
		loop_del_timer(l, a->hk_timer);
		a->has_hk_timer = false;
	}
}

/* The once-a-second tick, while runs or unwritten results need it. */
static void
arm_housekeeping(struct cmdbus_agent *a)
{
	if (a->has_hk_timer || !a->running || !core_busy(a->core))
		return;
	if (loop_add_timer(a->loop, 1000, 1000, on_housekeeping, a,
			   &a->hk_timer) == 0)
		a->has_hk_timer = true;
}

static void
on_exec_output(void *ud, uint64_t token, bool is_err, const void *p, size_t n)
{
	struct cmdbus_agent *a = ud;

	core_on_output(a->core, token, is_err, p, n);
}

static void
on_exec_done(void *ud, uint64_t token, const struct core_exit *ex)
{
	struct cmdbus_agent *a = ud;

	core_on_exit(a->core, token, ex);
	arm_housekeeping(a);
}

/* ---- status ---- */

static void
publish_status(struct cmdbus_agent *a, bool online)
{
	char *msg = NULL;
	size_t len = 0;
	int rc = core_status(a->core, online, &msg, &len);

	if (rc == 0)
		rc = mqtt_publish(a->mqtt, a->topic_status, msg, len, true);
	if (rc)
		log_warn("agent.status_failed", "device=%s online=%d rc=%d",
			 a->device_id, online, rc);
	free(msg);
}

static void
on_heartbeat(struct loop *l, uint64_t id, void *ud)
{
	struct cmdbus_agent *a = ud;

	if (a->phase == PH_RUN && mqtt_connected(a->mqtt))
		publish_status(a, true);
	/* Forgetting old ids and compaction can wait for the heartbeat. */
	core_tick(a->core);
	arm_housekeeping(a);
}

/* ---- MQTT events ---- */

static void
on_mqtt_connect(void *ud, bool session_present)
{
	struct cmdbus_agent *a = ud;

	if (a->phase == PH_RUN) {
		publish_status(a, true);
		/* Runs cut short by an earlier crash are answered now that
		 * the answer can go out. */
		core_on_connect(a->core);
		arm_housekeeping(a);
	}
}

static void
on_mqtt_message(void *ud, const char *topic, const void *payload, size_t len,
		bool retained)
{
	struct cmdbus_agent *a = ud;

	log_debug("cmd.received", "device=%s topic=%s bytes=%zu retained=%d",
		  a->device_id, topic, len, retained);
	/* Commands are never retained; a retained one would come back at
	 * every subscription, so it is refused without an answer. */
	if (retained) {
		log_warn("cmd.dropped",
			 "device=%s reason=retained topic=%s bytes=%zu",
			 a->device_id, topic, len);
		return;
	}
	core_on_message(a->core, topic, payload, len);
	arm_housekeeping(a);
}

static void
on_mqtt_disconnect(void *ud)
{
	struct cmdbus_agent *a = ud;

	log_debug("agent.disconnected", "device=%s", a->device_id);
}

/* ---- shutdown ---- */

static void
on_tick(struct loop *l, uint64_t id, void *ud)
{
	struct cmdbus_agent *a = ud;
	uint64_t now = loop_now_ms(l);

	switch (a->phase) {
	case PH_GRACE:
		if (core_running(a->core) > 0 && now < a->deadline)
			return;
		a->phase = PH_CHILDREN;
		/* SIGTERM now, SIGKILL after the grace, then the pipes may
		 * take EXEC_DRAIN_MS: past that the run is abandoned to
		 * exec_free(). */
		a->deadline = now + a->kill_grace_ms + EXEC_DRAIN_MS + 1000;
		core_shutdown(a->core);
		return;
	case PH_CHILDREN:
		if (exec_active(a->exec) > 0 && now < a->deadline)
			return;
		if (exec_active(a->exec) > 0)
			log_warn("agent.abandoned",
				 "device=%s runs=%zu reason=\"still running "
				 "after SIGKILL; killed without a result\"",
				 a->device_id, exec_active(a->exec));
		if (mqtt_connected(a->mqtt))
			publish_status(a, false);
		a->phase = PH_ACKS;
		a->deadline = now + ACK_WAIT_MS;
		return;
	case PH_ACKS:
		if (mqtt_connected(a->mqtt) && mqtt_unacked(a->mqtt) > 0 &&
		    now < a->deadline)
			return;
		if (mqtt_unacked(a->mqtt) > 0)
			log_warn("agent.unacked", "device=%s messages=%zu",
				 a->device_id, mqtt_unacked(a->mqtt));
		a->phase = PH_CLOSING;
		a->deadline = now + CLOSE_WAIT_MS;
		mqtt_disconnect(a->mqtt);
		return;
	case PH_CLOSING:
		if (!mqtt_closed(a->mqtt) && now < a->deadline)
			return;
		a->phase = PH_DONE;
		loop_stop(l);
		return;
	default:
		return;
	}
}

static void
begin_shutdown(struct cmdbus_agent *a)
{
	if (a->phase != PH_RUN)
		return;
	log_info("agent.stopping", "device=%s running=%zu", a->device_id,
		 core_running(a->core));
	/* Runs may finish on their own for shutdown_grace; the tick then
	 * terminates what is left. */
	a->phase = PH_GRACE;
	a->deadline = loop_now_ms(a->loop) + a->shutdown_grace_ms;
	core_quiesce(a->core);
	if (loop_add_timer(a->loop, SHUTDOWN_TICK_MS, SHUTDOWN_TICK_MS, on_tick,
			   a, &a->tick_timer) == 0)
		a->has_tick_timer = true;
	else
		loop_stop(a->loop);
}

/* Loads catalog_dir and puts it in place of the current catalog; on any
 * failure the current one stays. */
static int
load_catalog(struct cmdbus_agent *a, char *err, size_t errlen)
{
	struct catalog_action **v = NULL;
	size_t n = 0;
	int rc;

	if (!a->catalog_dir)
		return 0;
	rc = catalog_dir_load(a->catalog_dir, &v, &n, err, errlen);
	/* Switching users needs root: say so now rather than at each run. */
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (v[i]->run_as && geteuid() != 0)
			log_warn("agent.catalog_user",
				 "action=%s user=%s reason=\"the agent is not "
				 "root: its runs will fail\"",
				 v[i]->name, v[i]->user);
	if (rc == 0) {
		rc = core_set_catalog(a->core, v, n, err, errlen);
		if (rc == 0)
			free(v); /* the actions now belong to the core */
		else
			catalog_dir_free(v, n);
	}
	if (rc == 0)
		log_info("agent.catalog", "device=%s dir=%s actions=%zu",
			 a->device_id, a->catalog_dir, n);
	return rc;
}

static void
reload(struct cmdbus_agent *a)
{
	char err[512];

	if (a->phase != PH_RUN)
		return;
	if (a->on_reload)
		a->on_reload(a->reload_ud);
	if (load_catalog(a, err, sizeof(err)) != 0) {
		log_error("agent.reload_failed",
			  "device=%s reason=\"%s\" catalog=kept", a->device_id,
			  err);
		return;
	}
	if (mqtt_connected(a->mqtt))
		publish_status(a, true);
}

/* The pipe carries 'x' for a stop and 'r' for a reload, so that both
 * can be asked from a signal handler. */
static void
on_stop_pipe(struct loop *l, int fd, unsigned events, void *ud)
{
	struct cmdbus_agent *a = ud;
	bool stop = false, again = false;
	char buf[64];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == 'r')
				again = true;
			else
				stop = true;
		}
	}
	if (again && !stop)
		reload(a);
	if (stop)
		begin_shutdown(a);
}

void
cmdbus_agent_reload(struct cmdbus_agent *a)
{
	int saved = errno;
	ssize_t n;

	if (!a)
		return;
	n = write(a->stop_pipe[1], "r", 1);
	(void)n; /* a full pipe already holds a request */
	errno = saved;
}

void
cmdbus_agent_stop(struct cmdbus_agent *a)
{
	int saved = errno;
	ssize_t n;

	if (!a)
		return;
	n = write(a->stop_pipe[1], "x", 1);
	(void)n; /* a full pipe already holds a stop request */
	errno = saved;
}

/* ---- lifecycle ---- */

static int
load_keys(struct cmdbus_agent *a, const struct cmdbus_agent_config *cfg,
	  char *err, size_t errlen)
{
	if (cfg->ntrusted_keys > 0 &&
	    !(a->keys = calloc(cfg->ntrusted_keys, sizeof(*a->keys))))
		return -ENOMEM;
	for (size_t i = 0; i < cfg->ntrusted_keys; i++) {
		const struct cmdbus_agent_key *k = &cfg->trusted_keys[i];
		int rc = cmdbus_key_from_pem(k->pem, k->pem_len, k->kid,
					     &a->keys[i]);
		if (rc) {
			snprintf(err, errlen, "trusted key '%s' unusable",
				 k->kid);
			return rc;
		}
		a->nkeys = i + 1;
	}
	if (cfg->sign_key) {
		const struct cmdbus_agent_key *k = cfg->sign_key;
		int rc = cmdbus_key_from_pem(k->pem, k->pem_len,
					     k->kid ? k->kid : cfg->device_id,
					     &a->sign_key);
		if (rc == 0 && !cmdbus_key_is_private(a->sign_key))
			rc = -EINVAL;
		if (rc) {
			snprintf(err, errlen,
				 "sign key is not an Ed25519 private key");
			return rc;
		}
	}
	return 0;
}

static int
agent_setup(struct cmdbus_agent *a, const struct cmdbus_agent_config *cfg,
	    char *err, size_t errlen)
{
	struct core_config cc;
	struct core_ports ports;
	struct mqtt_config mc;
	struct mqtt_events ev;
	struct id_gen gen;
	char *will = NULL;
	size_t will_len = 0;
	int rc;

	snprintf(a->device_id, sizeof(a->device_id), "%s", cfg->device_id);
	a->heartbeat_ms = cfg->heartbeat_ms;
	a->kill_grace_ms = cfg->kill_grace_ms;
	a->shutdown_grace_ms = cfg->shutdown_grace_ms;
	id_gen_init(&gen);
	rc = id_gen_next(&gen, clock_now_ms(&clock_system), a->boot_id);
	if (rc) {
		snprintf(err, errlen, "no randomness for the boot id");
		return rc;
	}
	if (cmdbus_topic_build(a->topic_cmd, sizeof(a->topic_cmd),
			       cfg->topic_prefix, cfg->device_id,
			       CMDBUS_KIND_CMD) != 0 ||
	    cmdbus_topic_build(a->topic_result, sizeof(a->topic_result),
			       cfg->topic_prefix, cfg->device_id,
			       CMDBUS_KIND_RESULT) != 0 ||
	    cmdbus_topic_build(a->topic_status, sizeof(a->topic_status),
			       cfg->topic_prefix, cfg->device_id,
			       CMDBUS_KIND_STATUS) != 0) {
		snprintf(err, errlen, "topics cannot be built");
		return -EINVAL;
	}
	if (pipe2(a->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		rc = -errno;
		a->stop_pipe[0] = a->stop_pipe[1] = -1;
		snprintf(err, errlen, "pipe: %s", strerror(-rc));
		return rc;
	}
	a->loop = loop_new();
	if (!a->loop) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = load_keys(a, cfg, err, errlen);
	if (rc)
		return rc;

	memset(&cc, 0, sizeof(cc));
	cc.device_id = cfg->device_id;
	cc.prefix = cfg->topic_prefix;
	cc.boot_id = a->boot_id;
	cc.labels = cfg->labels;
	cc.nlabels = cfg->nlabels;
	cc.exec_enabled = cfg->exec_enabled;
	cc.shell_enabled = cfg->shell_enabled;
	cc.runas_helper = cfg->runas_helper;
	cc.exec_path = cfg->exec_path;
	cc.exec_cwd = cfg->exec_cwd;
	cc.max_timeout_ms = cfg->max_timeout_ms;
	cc.clock_skew_ms = cfg->clock_skew_ms;
	cc.max_running = cfg->max_running;
	cc.trusted = (const struct cmdbus_key *const *)a->keys;
	cc.ntrusted = a->nkeys;
	cc.sign_key = a->sign_key;
	cc.clock = &clock_system;
	memset(&ports, 0, sizeof(ports));
	ports.publish = port_publish;
	ports.spawn = port_spawn;
	ports.terminate = port_terminate;
	ports.sysinfo = port_sysinfo;
	ports.proc_start = port_proc_start;
	ports.kill_stale = port_kill_stale;
#ifdef CMDBUS_CRASHPOINTS
	/* Test builds: the harness arms a crash through this file. */
	a->crash_file = getenv(CRASHPOINT_ENV);
	if (a->crash_file && a->crash_file[0]) {
		ports.crashpoint = port_crashpoint;
		log_warn("agent.crashpoints", "device=%s file=%s",
			 cfg->device_id, a->crash_file);
	}
#endif
	ports.ud = a;
	if (cfg->state_dir) {
		rc = journal_file_open(cfg->state_dir, &a->jfile, &a->jio, err,
				       errlen);
		if (rc)
			return rc;
		cc.journal = &a->jio;
	}
	rc = core_new(&cc, &ports, &a->core, err, errlen);
	if (rc)
		return rc;
	a->on_reload = cfg->on_reload;
	a->reload_ud = cfg->reload_ud;
	if (cfg->catalog_dir && !(a->catalog_dir = strdup(cfg->catalog_dir))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = load_catalog(a, err, errlen);
	if (rc)
		return rc;
	rc = exec_new(a->loop, cfg->kill_grace_ms, on_exec_done, a, &a->exec);
	if (rc) {
		snprintf(err, errlen, "process handling: %s", strerror(-rc));
		return rc;
	}
	exec_set_output(a->exec, on_exec_output);
	rc = core_status(a->core, false, &will, &will_len);
	if (rc) {
		snprintf(err, errlen, "offline status cannot be encoded");
		return rc;
	}
	memset(&mc, 0, sizeof(mc));
	mc.host = cfg->mqtt_host;
	mc.port = cfg->mqtt_port;
	mc.client_id = cfg->device_id;
	mc.username = cfg->mqtt_username ? cfg->mqtt_username : cfg->device_id;
	mc.password = cfg->mqtt_password;
	mc.tls_ca_file = cfg->mqtt_tls_ca_file;
	mc.tls_cert_file = cfg->mqtt_tls_cert_file;
	mc.tls_key_file = cfg->mqtt_tls_key_file;
	mc.tls_insecure = cfg->mqtt_tls_insecure;
	mc.tls_version = cfg->mqtt_tls_version;
	mc.protocol = cfg->mqtt_protocol;
	mc.keepalive_ms = cfg->mqtt_keepalive_ms;
	mc.session_expiry_ms = cfg->session_expiry_ms;
	mc.sub_topic = a->topic_cmd;
	mc.will_topic = a->topic_status;
	mc.will_payload = will;
	mc.will_len = will_len;
	mc.will_delay_s = WILL_DELAY_S;
	memset(&ev, 0, sizeof(ev));
	ev.on_connect = on_mqtt_connect;
	ev.on_message = on_mqtt_message;
	ev.on_disconnect = on_mqtt_disconnect;
	ev.ud = a;
	rc = mqtt_new(a->loop, &mc, &ev, &a->mqtt, err, errlen);
	free(will);
	if (rc)
		return rc;
	rc = loop_add_fd(a->loop, a->stop_pipe[0], LOOP_READ, on_stop_pipe, a);
	if (rc) {
		snprintf(err, errlen, "event loop setup failed");
		return rc;
	}
	return 0;
}

int
cmdbus_agent_new(const struct cmdbus_agent_config *cfg,
		 struct cmdbus_agent **out, char *err, size_t errlen)
{
	struct cmdbus_agent *a;
	int rc;

	*out = NULL;
	rc = cmdbus_agent_config_check(cfg, err, errlen);
	if (rc)
		return rc;
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	a->stop_pipe[0] = a->stop_pipe[1] = -1;
	rc = agent_setup(a, cfg, err, errlen);
	if (rc) {
		cmdbus_agent_free(a);
		return rc;
	}
	log_info("agent.created",
		 "device=%s boot_id=%s exec_enabled=%d trusted_keys=%zu "
		 "signs_as=%s",
		 a->device_id, a->boot_id, cfg->exec_enabled, a->nkeys,
		 a->sign_key ? cmdbus_key_kid(a->sign_key) : "-");
	*out = a;
	return 0;
}

int
cmdbus_agent_register(struct cmdbus_agent *a, const char *action,
		      cmdbus_agent_handler_fn *fn,
		      const struct cmdbus_agent_param *params, void *ud)
{
	char err[160];
	int rc;

	if (!a)
		return -EINVAL;
	if (a->running)
		return -EBUSY;
	rc = core_register(a->core, action, fn, params, ud, err, sizeof(err));
	if (rc)
		log_error("agent.register_failed", "action=%s reason=\"%s\"",
			  action ? action : "", err);
	return rc;
}

int
cmdbus_agent_run(struct cmdbus_agent *a)
{
	const struct core_stats *st;
	int rc;

	if (!a || a->running || a->phase != PH_RUN)
		return -EINVAL;
	a->running = true;
	rc = loop_add_timer(a->loop, a->heartbeat_ms, a->heartbeat_ms,
			    on_heartbeat, a, &a->hb_timer);
	if (rc)
		return rc;
	a->has_hb_timer = true;
	mqtt_start(a->mqtt);
	rc = loop_run(a->loop);
	st = core_get_stats(a->core);
	log_info("agent.stopped",
		 "device=%s received=%" PRIu64 " runs=%" PRIu64
		 " rejected=%" PRIu64 " duplicates=%" PRIu64
		 " dropped=%" PRIu64,
		 a->device_id, st->received, st->runs, st->rejected,
		 st->duplicates, st->dropped);
	a->running = false;
	return rc;
}

void
cmdbus_agent_free(struct cmdbus_agent *a)
{
	if (!a)
		return;
	/* Children still running here were not reported; kill them rather
	 * than leave them orphaned. */
	exec_free(a->exec);
	mqtt_free(a->mqtt);
	core_free(a->core);
	journal_file_close(a->jfile);
	for (size_t i = 0; i < a->nkeys; i++)
		cmdbus_key_free(a->keys[i]);
	free(a->keys);
	cmdbus_key_free(a->sign_key);
	loop_free(a->loop);
	free(a->catalog_dir);
	if (a->stop_pipe[0] >= 0)
		close(a->stop_pipe[0]);
	if (a->stop_pipe[1] >= 0)
		close(a->stop_pipe[1]);
	free(a);
}
