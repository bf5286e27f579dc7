/* SPDX-License-Identifier: MIT */
/* libmosquitto driven by the common event loop instead of a thread of its
 * own: the client's socket is watched for reading (and for writing while
 * libmosquitto has bytes queued), a 1 s timer runs its keepalive and our
 * reconnects, and every callback runs on the loop. */
#include "mqtt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "common/err.h"
#include "common/id.h"
#include "common/log.h"
#include "cmdbus/topic.h"

#define TICK_MS 1000u
#define BACKOFF_MIN_MS 1000u
#define BACKOFF_MAX_MS 30000u
#define CONNECT_TIMEOUT_MS 15000u /* TCP connect plus CONNACK */
/* Packets read in one loop pass at most: what arrives together is handled
 * together, so that its writes share one group commit, yet a flood cannot
 * keep the loop from the REST API and timers for long. */
#define READS_PER_PASS 256

struct mqtt {
	struct loop *loop;
	struct mosquitto *mosq;
	struct mqtt_events ev;
	char *host;
	int port;
	int keepalive;
	bool v5;
	uint32_t session_expiry_s;
	char filter_result[256], filter_status[256];

	int fd;		    /* the socket watched on the loop, or -1 */
	unsigned fd_events; /* what it is watched for */
	bool connected;	    /* CONNACK accepted and not lost since */
	bool first_done;    /* the first connect call has been made */
	bool running;	    /* between mqtt_start and mqtt_stop */
	uint64_t timer;
	bool have_timer;
	uint64_t attempt_at;   /* loop time of the current attempt */
	uint64_t next_attempt; /* loop time of the next attempt, 0: none */
	uint64_t backoff_ms;
	bool lib_init;
};

static const char *
mosq_err(int rc)
{
	if (rc == MOSQ_ERR_ERRNO)
		return strerror(errno);
	return mosquitto_strerror(rc);
}

static void
schedule_retry(struct mqtt *m)
{
	unsigned char r[2] = {0, 0};
	uint64_t now = loop_now_ms(m->loop);

	if (!m->running || m->next_attempt)
		return;
	if (m->backoff_ms == 0)
		m->backoff_ms = BACKOFF_MIN_MS;
	/* Up to a quarter more, so that many dispatchers restarted
	 * together do not knock on the broker in step. */
	(void)id_random_bytes(r, sizeof r);
	uint64_t jitter =
	    (m->backoff_ms / 4) * ((unsigned)r[0] << 8 | r[1]) / 65535u;
	m->next_attempt = now + m->backoff_ms + jitter;
	log_info("mqtt.retry", "in_ms=%llu",
		 (unsigned long long)(m->backoff_ms + jitter));
	m->backoff_ms *= 2;
	if (m->backoff_ms > BACKOFF_MAX_MS)
		m->backoff_ms = BACKOFF_MAX_MS;
}

static void on_io(struct loop *l, int fd, unsigned events, void *ud);

static unsigned
wanted_events(struct mqtt *m)
{
	return LOOP_READ | (mosquitto_want_write(m->mosq) ? LOOP_WRITE : 0);
}

/* Makes the loop watch the socket libmosquitto has now: it opens one on
 * every connect and closes it itself when the connection fails. Called
 * right after every libmosquitto call that may do either, before any
 * other code can be handed the same descriptor number. */
static void
sync_socket(struct mqtt *m)
{
	int fd = m->running ? mosquitto_socket(m->mosq) : -1;

	if (fd != m->fd) {
		if (m->fd >= 0)
			loop_del_fd(m->loop, m->fd);
		m->fd = -1;
		if (fd >= 0) {
			unsigned ev = wanted_events(m);
			int rc = loop_add_fd(m->loop, fd, ev, on_io, m);
			if (rc < 0) {
				log_error("mqtt.watch_failed", "fd=%d rc=%s",
					  fd, err_str(rc));
			} else {
				m->fd = fd;
				m->fd_events = ev;
			}
		}
	}
	if (m->fd < 0) {
		if (m->connected) {
			m->connected = false;
			log_warn("mqtt.disconnected", "host=%s port=%d",
				 m->host, m->port);
		}
		schedule_retry(m);
	}
}

static void
attempt(struct mqtt *m)
{
	int rc;

	m->next_attempt = 0;
	m->attempt_at = loop_now_ms(m->loop);
	if (m->fd >= 0) {
		loop_del_fd(m->loop, m->fd);
		m->fd = -1;
	}
	if (!m->first_done) {
		m->first_done = true;
		if (m->v5) {
			/* libmosquitto 2.0 keeps CONNECT properties (our
			 * session expiry) only from this call, and uses them
			 * on every reconnect; its TCP connect blocks, which
			 * only happens once, at startup. */
			mosquitto_property *props = NULL;
			rc = mosquitto_property_add_int32(
			    &props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
			    m->session_expiry_s);
			/* The results of a whole fleet come in here: with
			 * MQTT 5's default of 20 unacknowledged messages the
			 * broker would feed them at 20 per round trip. */
			if (rc == MOSQ_ERR_SUCCESS)
				rc = mosquitto_property_add_int16(
				    &props, MQTT_PROP_RECEIVE_MAXIMUM, 65535);
			if (rc == MOSQ_ERR_SUCCESS)
				rc = mosquitto_connect_bind_v5(
				    m->mosq, m->host, m->port, m->keepalive,
				    NULL, props);
			mosquitto_property_free_all(&props);
		} else {
			rc = mosquitto_connect_async(m->mosq, m->host, m->port,
						     m->keepalive);
		}
	} else {
		rc = mosquitto_reconnect_async(m->mosq);
	}
	if (rc != MOSQ_ERR_SUCCESS)
		log_warn("mqtt.connect_failed", "host=%s port=%d err=%s",
			 m->host, m->port, mosq_err(rc));
	else
		log_debug("mqtt.connecting", "host=%s port=%d", m->host,
			  m->port);
	sync_socket(m);
}

static void
on_io(struct loop *l, int fd, unsigned events, void *ud)
{
	struct mqtt *m = ud;
	int rc = MOSQ_ERR_SUCCESS;

	(void)l;
	(void)fd;
	if (events & (LOOP_READ | LOOP_ERROR)) {
		/* libmosquitto writes each PUBACK (and each publish the
		 * messages lead to) at once, and with TCP_NODELAY each would
		 * be a segment of its own: corked while the burst is read,
		 * they leave in as few segments as fit when it ends. */
		int on = 1, off = 0;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
		for (int i = 0; i < READS_PER_PASS; i++) {
			rc = mosquitto_loop_read(m->mosq, 1);
			int sock = mosquitto_socket(m->mosq);
			int avail = 0;
			/* libmosquitto reads one packet per call; read on
			 * while the kernel holds more. */
			if (rc != MOSQ_ERR_SUCCESS || sock < 0 ||
			    ioctl(sock, FIONREAD, &avail) < 0 || avail <= 0)
				break;
		}
		/* The same socket if it is still open (a failed read closes
		 * it; then this fails harmlessly). */
		if (mosquitto_socket(m->mosq) == fd)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off,
					 sizeof off);
	}
	if (rc == MOSQ_ERR_SUCCESS && (events & LOOP_WRITE))
		rc = mosquitto_loop_write(m->mosq, 1);
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
		log_debug("mqtt.io", "err=%s", mosq_err(rc));
	sync_socket(m);
}

static void
on_tick(struct loop *l, uint64_t id, void *ud)
{
	struct mqtt *m = ud;
	uint64_t now = loop_now_ms(l);

	(void)id;
	if (m->fd >= 0) {
		/* Keepalive: sends PINGREQ, and drops a silent broker. */
		mosquitto_loop_misc(m->mosq);
		sync_socket(m);
	}
	if (m->fd >= 0 && !m->connected &&
	    now - m->attempt_at > CONNECT_TIMEOUT_MS) {
		log_warn("mqtt.connect_timeout", "host=%s port=%d", m->host,
			 m->port);
		/* The next attempt (reconnect) closes this socket. */
		loop_del_fd(m->loop, m->fd);
		m->fd = -1;
		schedule_retry(m);
	}
	if (m->fd < 0 && m->running && m->next_attempt &&
	    now >= m->next_attempt)
		attempt(m);
}

static uint64_t
on_prepare(struct loop *l, void *ud)
{
	struct mqtt *m = ud;

	if (m->fd >= 0) {
		unsigned ev = wanted_events(m);
		if (ev != m->fd_events && loop_mod_fd(l, m->fd, ev) == 0)
			m->fd_events = ev;
	}
	return UINT64_MAX;
}

static void
on_connect(struct mosquitto *mosq, void *ud, int rc, int flags,
	   const mosquitto_property *props)
{
	struct mqtt *m = ud;
	char *subs[2] = {m->filter_result, m->filter_status};

	(void)props;
	if (rc != 0) {
		log_error("mqtt.refused", "host=%s port=%d reason=%s", m->host,
			  m->port,
			  m->v5 ? mosquitto_reason_string(rc)
				: mosquitto_connack_string(rc));
		return; /* the broker closes; we retry with backoff */
	}
	m->connected = true;
	m->backoff_ms = 0;
	log_info("mqtt.connected", "host=%s port=%d session_present=%d",
		 m->host, m->port, flags & 1);
	int src = mosquitto_subscribe_multiple(mosq, NULL, 2, subs, 1, 0, NULL);
	if (src != MOSQ_ERR_SUCCESS)
		log_error("mqtt.subscribe_failed", "err=%s", mosq_err(src));
	if (m->ev.connected)
		m->ev.connected(m->ev.ud);
}

static void
on_disconnect(struct mosquitto *mosq, void *ud, int rc,
	      const mosquitto_property *props)
{
	struct mqtt *m = ud;

	(void)mosq;
	(void)props;
	if (m->connected && m->running)
		log_warn("mqtt.connection_lost", "host=%s port=%d reason=%d",
			 m->host, m->port, rc);
	m->connected = false;
}

static void
on_subscribe(struct mosquitto *mosq, void *ud, int mid, int n,
	     const int *granted, const mosquitto_property *props)
{
	(void)mosq;
	(void)ud;
	(void)mid;
	(void)props;
	for (int i = 0; i < n; i++) {
		if (granted[i] >= 0x80)
			log_error("mqtt.subscription_refused",
				  "index=%d reason=%d", i, granted[i]);
	}
}

static void
on_publish(struct mosquitto *mosq, void *ud, int mid, int reason,
	   const mosquitto_property *props)
{
	struct mqtt *m = ud;

	(void)mosq;
	(void)props;
	/* MQTT 5 reason codes of 0x80 and above are refusals (e.g. 0x87
	 * not authorised). */
	if (m->ev.published)
		m->ev.published(m->ev.ud, mid, reason < 0x80);
}

static void
on_message(struct mosquitto *mosq, void *ud,
	   const struct mosquitto_message *msg, const mosquitto_property *props)
{
	struct mqtt *m = ud;

	(void)mosq;
	(void)props;
	if (m->ev.message && msg->topic)
		m->ev.message(m->ev.ud, msg->topic, msg->payload,
			      msg->payloadlen > 0 ? (size_t)msg->payloadlen
						  : 0);
}

static void
on_log(struct mosquitto *mosq, void *ud, int level, const char *str)
{
	(void)mosq;
	(void)ud;
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		log_warn("mqtt.lib", "msg=%s", str);
	else
		log_debug("mqtt.lib", "msg=%s", str);
}

int
mqtt_new(struct loop *l, const struct mqtt_config *cfg,
	 const struct mqtt_events *ev, struct mqtt **out, char *err,
	 size_t errlen)
{
	struct mqtt *m = calloc(1, sizeof *m);
	int rc;

	*out = NULL;
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->loop = l;
	m->ev = *ev;
	m->fd = -1;
	m->port = (int)cfg->port;
	m->keepalive = (int)cfg->keepalive_s;
	m->v5 = cfg->v5;
	m->session_expiry_s = cfg->session_expiry_s;
	m->host = strdup(cfg->host);
	if (!m->host) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	if (cmdbus_topic_filter(m->filter_result, sizeof m->filter_result,
				cfg->prefix, CMDBUS_KIND_RESULT) < 0 ||
	    cmdbus_topic_filter(m->filter_status, sizeof m->filter_status,
				cfg->prefix, CMDBUS_KIND_STATUS) < 0) {
		snprintf(err, errlen, "invalid topic prefix '%s'", cfg->prefix);
		rc = -EINVAL;
		goto fail;
	}

	mosquitto_lib_init();
	m->lib_init = true;
	/* clean_session false: a persistent session (MQTT 5: clean start
	 * 0), so results published while we are away wait for us. */
	m->mosq = mosquitto_new(cfg->client_id, false, m);
	if (!m->mosq) {
		snprintf(err, errlen, "mosquitto_new: %s", strerror(errno));
		rc = -errno;
		goto fail;
	}
	rc = mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION,
				  cfg->v5 ? MQTT_PROTOCOL_V5
					  : MQTT_PROTOCOL_V311);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	if (rc == MOSQ_ERR_SUCCESS && cfg->username)
		rc = mosquitto_username_pw_set(m->mosq, cfg->username,
					       cfg->password);
	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(err, errlen, "mosquitto options: %s", mosq_err(rc));
		rc = -EINVAL;
		goto fail;
	}
	mosquitto_connect_v5_callback_set(m->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(m->mosq, on_disconnect);
	mosquitto_subscribe_v5_callback_set(m->mosq, on_subscribe);
	mosquitto_publish_v5_callback_set(m->mosq, on_publish);
	mosquitto_message_v5_callback_set(m->mosq, on_message);
	mosquitto_log_callback_set(m->mosq, on_log);
	*out = m;
	return 0;
fail:
	mqtt_free(m);
	return rc;
}

int
mqtt_start(struct mqtt *m)
{
	int rc =
	    loop_add_timer(m->loop, TICK_MS, TICK_MS, on_tick, m, &m->timer);
	if (rc < 0)
		return rc;
	m->have_timer = true;
	rc = loop_add_prepare(m->loop, on_prepare, m);
	if (rc < 0)
		return rc;
	m->running = true;
	attempt(m);
	return 0;
}

void
mqtt_stop(struct mqtt *m)
{
	if (!m || !m->running)
		return;
	m->running = false;
	if (m->fd >= 0 && m->connected) {
		/* Outside a libmosquitto callback the DISCONNECT is written
		 * at once. A normal disconnect: the session stays. */
		int rc = mosquitto_disconnect(m->mosq);
		if (rc != MOSQ_ERR_SUCCESS)
			log_debug("mqtt.disconnect", "err=%s", mosq_err(rc));
		log_info("mqtt.stopped", "host=%s port=%d", m->host, m->port);
	}
	m->connected = false;
	if (m->fd >= 0) {
		loop_del_fd(m->loop, m->fd);
		m->fd = -1;
	}
	if (m->have_timer) {
		loop_del_timer(m->loop, m->timer);
		m->have_timer = false;
	}
}

void
mqtt_free(struct mqtt *m)
{
	if (!m)
		return;
	/* -ENOENT when it never started. */
	(void)loop_del_prepare(m->loop, on_prepare, m);
	mqtt_stop(m);
	if (m->mosq)
		mosquitto_destroy(m->mosq);
	if (m->lib_init)
		mosquitto_lib_cleanup();
	free(m->host);
	free(m);
}

bool
mqtt_is_connected(const struct mqtt *m)
{
	return m->connected;
}

static bool
port_is_connected(void *ud)
{
	return mqtt_is_connected(ud);
}

static int
port_publish(void *ud, const char *topic, const void *payload, size_t len,
	     int qos, uint32_t expiry_s, int *mid)
{
	struct mqtt *m = ud;
	mosquitto_property *props = NULL;
	int rc;

	if (!m->connected)
		return -ERR_UNAVAILABLE;
	if (len > CMDBUS_MAX_MESSAGE)
		return -ERR_TOO_LARGE;
	if (m->v5 && expiry_s > 0) {
		rc = mosquitto_property_add_int32(
		    &props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, expiry_s);
		if (rc != MOSQ_ERR_SUCCESS)
			return -ENOMEM;
	}
	rc = mosquitto_publish_v5(m->mosq, mid, topic, (int)len, payload, qos,
				  false, props);
	mosquitto_property_free_all(&props);
	switch (rc) {
	case MOSQ_ERR_SUCCESS:
		return 0;
	case MOSQ_ERR_NO_CONN:
	case MOSQ_ERR_CONN_LOST:
		/* libmosquitto keeps a QoS 1 message it could not write and
		 * sends it after reconnecting. */
		return 0;
	case MOSQ_ERR_NOMEM:
		return -ENOMEM;
	case MOSQ_ERR_PAYLOAD_SIZE:
	case MOSQ_ERR_OVERSIZE_PACKET:
		return -ERR_TOO_LARGE;
	default:
		log_warn("mqtt.publish_failed", "topic=%s err=%s", topic,
			 mosq_err(rc));
		return -EIO;
	}
}

void
mqtt_bus_port(struct mqtt *m, struct bus_port *out)
{
	out->ud = m;
	out->publish = port_publish;
	out->is_connected = port_is_connected;
}
