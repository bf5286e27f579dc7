/* SPDX-License-Identifier: MIT */
/* libmosquitto on the common event loop. The socket is watched for reading,
 * and for writing while libmosquitto has bytes to send; keepalive runs on
 * a one-second timer. libmosquitto 2.0 forgets CONNECT properties (the
 * session expiry) on its own reconnect, so every attempt is a full
 * connect with them; and because that connect blocks, it is preceded by
 * a non-blocking TCP probe on the loop, so an unreachable broker never
 * stalls the agent for the kernel's connect timeout. */
#include "mqtt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "common/id.h"
#include "common/log.h"

#define BACKOFF_MIN_MS 1000u
#define BACKOFF_MAX_MS 60000u
#define PROBE_TIMEOUT_MS 10000u
#define CONNACK_TIMEOUT_MS 15000u
#define MAX_UNACKED 10000u /* QoS 1 publishes queued or in flight */

enum mqtt_state {
	ST_IDLE,       /* not started */
	ST_WAIT,       /* waiting to retry */
	ST_PROBING,    /* non-blocking TCP probe under way */
	ST_CONNECTING, /* CONNECT sent, waiting for CONNACK */
	ST_CONNECTED,
	ST_CLOSING, /* DISCONNECT sent */
	ST_CLOSED,  /* down for good */
};

struct mqtt {
	struct loop *loop;
	struct mosquitto *mosq;
	struct mqtt_events ev;
	char *host, *sub_topic;
	unsigned port;
	int protocol;
	int keepalive_s;
	uint32_t session_expiry_s;
	enum mqtt_state state;
	int fd; /* libmosquitto's socket as registered, or -1 */
	unsigned fd_events;
	int probe_fd;
	uint64_t backoff_ms;
	uint64_t retry_timer, probe_timer, misc_timer, connack_timer;
	bool has_retry_timer, has_probe_timer, has_misc_timer,
	    has_connack_timer;
	size_t unacked;
	bool lib_init;
	bool tls;
};

static void start_probe(struct mqtt *m);

static const char *
mosq_err(int rc)
{
	return mosquitto_strerror(rc);
}

static void
del_timer(struct mqtt *m, uint64_t id, bool *has)
{
	if (*has)
		loop_del_timer(m->loop, id);
	*has = false;
}

static void on_socket(struct loop *l, int fd, unsigned events, void *ud);

/* Keeps the loop's registration in step with libmosquitto's socket:
 * called after every libmosquitto call that may open, close or fill it. */
static void
sync_socket(struct mqtt *m)
{
	bool up = m->state == ST_CONNECTING || m->state == ST_CONNECTED ||
		  m->state == ST_CLOSING;
	int s = up ? mosquitto_socket(m->mosq) : -1;
	unsigned want = LOOP_READ;

	if (s >= 0 && mosquitto_want_write(m->mosq))
		want |= LOOP_WRITE;
	if (s != m->fd) {
		if (m->fd >= 0)
			loop_del_fd(m->loop, m->fd);
		m->fd = -1;
		if (s >= 0 &&
		    loop_add_fd(m->loop, s, want, on_socket, m) == 0) {
			m->fd = s;
			m->fd_events = want;
		}
		return;
	}
	if (s >= 0 && want != m->fd_events) {
		loop_mod_fd(m->loop, s, want);
		m->fd_events = want;
	}
}

static uint64_t
on_prepare(struct loop *l, void *ud)
{
	sync_socket(ud);
	return UINT64_MAX;
}

static void
on_retry_timer(struct loop *l, uint64_t id, void *ud)
{
	struct mqtt *m = ud;

	m->has_retry_timer = false;
	if (m->state == ST_WAIT)
		start_probe(m);
}

/* Waits before the next attempt: the backoff doubles up to a minute and
 * the wait is drawn from its upper half, so a fleet that lost its broker
 * does not come back in lockstep. */
static void
schedule_retry(struct mqtt *m)
{
	uint32_t r = 0;
	uint64_t half = m->backoff_ms / 2, wait;

	m->state = ST_WAIT;
	(void)id_random_bytes(&r, sizeof(r));
	wait = half + (half ? r % (half + 1) : 0);
	if (m->backoff_ms < BACKOFF_MAX_MS)
		m->backoff_ms *= 2;
	if (m->backoff_ms > BACKOFF_MAX_MS)
		m->backoff_ms = BACKOFF_MAX_MS;
	del_timer(m, m->retry_timer, &m->has_retry_timer);
	if (loop_add_timer(m->loop, wait, 0, on_retry_timer, m,
			   &m->retry_timer) == 0)
		m->has_retry_timer = true;
	log_info("mqtt.retry", "host=%s port=%u in_ms=%" PRIu64, m->host,
		 m->port, wait);
}

/* The connection is gone, whatever the cause. */
static void
connection_lost(struct mqtt *m, const char *why)
{
	bool was_up = m->state == ST_CONNECTED;

	del_timer(m, m->connack_timer, &m->has_connack_timer);
	if (m->state == ST_CLOSING || m->state == ST_CLOSED) {
		m->state = ST_CLOSED;
		sync_socket(m);
		log_info("mqtt.closed", "host=%s port=%u", m->host, m->port);
		if (m->ev.on_disconnect)
			m->ev.on_disconnect(m->ev.ud);
		return;
	}
	if (m->state != ST_CONNECTING && m->state != ST_CONNECTED)
		return;
	m->state = ST_WAIT;
	sync_socket(m);
	log_warn("mqtt.disconnected", "host=%s port=%u reason=\"%s\"", m->host,
		 m->port, why);
	schedule_retry(m);
	if (was_up && m->ev.on_disconnect)
		m->ev.on_disconnect(m->ev.ud);
}

/* Sends what libmosquitto holds. It writes each packet on its own, and
 * with TCP_NODELAY each would be a segment of its own: corked, what one
 * pass queued (a report and a result) leaves in as few segments as fit,
 * and uncorking sends them at once, so nothing waits. */
static int
flush_out(struct mqtt *m)
{
	int s = mosquitto_socket(m->mosq), on = 1, off = 0, rc;

	if (s < 0)
		return MOSQ_ERR_SUCCESS;
	(void)setsockopt(s, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
	rc = mosquitto_loop_write(m->mosq, 1);
	s = mosquitto_socket(m->mosq);
	if (s >= 0)
		(void)setsockopt(s, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
	return rc;
}

static void
on_socket(struct loop *l, int fd, unsigned events, void *ud)
{
	struct mqtt *m = ud;
	int rc = MOSQ_ERR_SUCCESS;

	if (events & (LOOP_READ | LOOP_ERROR))
		rc = mosquitto_loop_read(m->mosq, 1);
	/* What reading queued (answers to the message read) goes out now,
	 * without a wait in poll for a socket that is nearly always
	 * writable. */
	if (rc == MOSQ_ERR_SUCCESS &&
	    ((events & LOOP_WRITE) || mosquitto_want_write(m->mosq)))
		rc = flush_out(m);
	if (rc != MOSQ_ERR_SUCCESS)
		connection_lost(m, mosq_err(rc));
	sync_socket(m);
}

static void
on_misc_timer(struct loop *l, uint64_t id, void *ud)
{
	struct mqtt *m = ud;
	int rc;

	if (m->state != ST_CONNECTING && m->state != ST_CONNECTED &&
	    m->state != ST_CLOSING)
		return;
	rc = mosquitto_loop_misc(m->mosq);
	if (rc != MOSQ_ERR_SUCCESS)
		connection_lost(m, mosq_err(rc));
	sync_socket(m);
}

static void
on_connack_timer(struct loop *l, uint64_t id, void *ud)
{
	struct mqtt *m = ud;

	m->has_connack_timer = false;
	if (m->state != ST_CONNECTING)
		return;
	/* Dropping the socket without DISCONNECT: the next connect closes
	 * it, and nothing was established that a will would describe. */
	connection_lost(m, "no CONNACK in time");
}

static void
do_connect(struct mqtt *m)
{
	mosquitto_property *props = NULL;
	int rc;

	if (m->protocol == 5 && mosquitto_property_add_int32(
				    &props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
				    m->session_expiry_s) != 0) {
		schedule_retry(m);
		return;
	}
	rc = mosquitto_connect_bind_v5(m->mosq, m->host, (int)m->port,
				       m->keepalive_s, NULL, props);
	mosquitto_property_free_all(&props);
	if (rc != MOSQ_ERR_SUCCESS) {
		log_warn("mqtt.connect_failed", "host=%s port=%u reason=\"%s\"",
			 m->host, m->port,
			 rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosq_err(rc));
		schedule_retry(m);
		return;
	}
	m->state = ST_CONNECTING;
	if (loop_add_timer(m->loop, CONNACK_TIMEOUT_MS, 0, on_connack_timer, m,
			   &m->connack_timer) == 0)
		m->has_connack_timer = true;
	sync_socket(m);
}

static void
probe_close(struct mqtt *m)
{
	del_timer(m, m->probe_timer, &m->has_probe_timer);
	if (m->probe_fd >= 0) {
		loop_del_fd(m->loop, m->probe_fd);
		close(m->probe_fd);
		m->probe_fd = -1;
	}
}

static void
probe_failed(struct mqtt *m, const char *why)
{
	probe_close(m);
	log_warn("mqtt.connect_failed", "host=%s port=%u reason=\"%s\"",
		 m->host, m->port, why);
	schedule_retry(m);
}

static void
on_probe(struct loop *l, int fd, unsigned events, void *ud)
{
	struct mqtt *m = ud;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		soerr = errno;
	if (soerr) {
		probe_failed(m, strerror(soerr));
		return;
	}
	probe_close(m);
	do_connect(m);
}

static void
on_probe_timer(struct loop *l, uint64_t id, void *ud)
{
	struct mqtt *m = ud;

	m->has_probe_timer = false;
	probe_failed(m, "connect timed out");
}

static void
start_probe(struct mqtt *m)
{
	struct addrinfo hints, *res = NULL;
	char port[16];
	int fd, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", m->port);
	m->state = ST_PROBING;
	rc = getaddrinfo(m->host, port, &hints, &res);
	if (rc != 0) {
		probe_failed(m, gai_strerror(rc));
		return;
	}
	fd = socket(res->ai_family,
		    res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    res->ai_protocol);
	if (fd < 0) {
		freeaddrinfo(res);
		probe_failed(m, strerror(errno));
		return;
	}
	m->probe_fd = fd;
	rc = connect(fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (rc == 0) {
		probe_close(m);
		do_connect(m);
		return;
	}
	if (errno != EINPROGRESS) {
		probe_failed(m, strerror(errno));
		return;
	}
	if (loop_add_fd(m->loop, fd, LOOP_WRITE, on_probe, m) != 0 ||
	    loop_add_timer(m->loop, PROBE_TIMEOUT_MS, 0, on_probe_timer, m,
			   &m->probe_timer) != 0) {
		probe_failed(m, "event loop refused the probe");
		return;
	}
	m->has_probe_timer = true;
}

/* ---- libmosquitto callbacks (called from inside its loop functions) */

static void
cb_connect(struct mosquitto *mosq, void *ud, int rc, int flags,
	   const mosquitto_property *props)
{
	struct mqtt *m = ud;
	int src;

	if (m->state != ST_CONNECTING)
		return;
	del_timer(m, m->connack_timer, &m->has_connack_timer);
	if (rc != 0) {
		/* Refused (bad credentials, not authorised): libmosquitto
		 * closes the socket; retry with backoff, the broker's
		 * configuration may be fixed meanwhile. */
		log_error("mqtt.refused", "host=%s port=%u reason=\"%s\"",
			  m->host, m->port,
			  m->protocol == 5 ? mosquitto_reason_string(rc)
					   : mosquitto_connack_string(rc));
		connection_lost(m, "connection refused");
		return;
	}
	m->state = ST_CONNECTED;
	m->backoff_ms = BACKOFF_MIN_MS;
	/* Subscribed again on every connect: harmless with a present
	 * session, and needed when the broker lost it. */
	src = mosquitto_subscribe_v5(mosq, NULL, m->sub_topic, 1, 0, NULL);
	if (src != MOSQ_ERR_SUCCESS)
		log_error("mqtt.subscribe_failed", "topic=%s reason=\"%s\"",
			  m->sub_topic, mosq_err(src));
	log_info("mqtt.connected",
		 "host=%s port=%u protocol=%d tls=%d session_present=%d",
		 m->host, m->port, m->protocol, m->tls, (flags & 1) != 0);
	if (m->ev.on_connect)
		m->ev.on_connect(m->ev.ud, (flags & 1) != 0);
}

static void
cb_disconnect(struct mosquitto *mosq, void *ud, int rc,
	      const mosquitto_property *props)
{
	struct mqtt *m = ud;

	connection_lost(m, rc == 0 ? "disconnected" : mosq_err(rc));
}

static void
cb_message(struct mosquitto *mosq, void *ud,
	   const struct mosquitto_message *msg, const mosquitto_property *props)
{
	struct mqtt *m = ud;

	if (m->ev.on_message && msg->payloadlen >= 0)
		m->ev.on_message(m->ev.ud, msg->topic,
				 msg->payload ? msg->payload : "",
				 (size_t)msg->payloadlen, msg->retain);
}

static void
cb_publish(struct mosquitto *mosq, void *ud, int mid, int reason,
	   const mosquitto_property *props)
{
	struct mqtt *m = ud;

	if (m->unacked > 0)
		m->unacked--;
	/* 16 is "no matching subscribers": delivered, nobody listening. */
	if (reason != 0 && reason != 16)
		log_warn("mqtt.publish_refused", "mid=%d reason=%d", mid,
			 reason);
}

static void
cb_log(struct mosquitto *mosq, void *ud, int level, const char *str)
{
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		log_debug("mqtt.lib", "message=\"%s\"", str);
}

/* ---- public */

int
mqtt_new(struct loop *l, const struct mqtt_config *cfg,
	 const struct mqtt_events *ev, struct mqtt **out, char *err,
	 size_t errlen)
{
	struct mqtt *m;
	int rc;

	*out = NULL;
	if (cfg->keepalive_ms < 5000 || cfg->keepalive_ms > 65535000u ||
	    !cfg->host || !cfg->client_id || !cfg->sub_topic ||
	    cfg->port == 0 || cfg->port > 65535 ||
	    (cfg->protocol != 5 && cfg->protocol != 311)) {
		snprintf(err, errlen, "invalid MQTT settings");
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->loop = l;
	m->ev = *ev;
	m->fd = m->probe_fd = -1;
	m->port = cfg->port;
	m->protocol = cfg->protocol;
	m->keepalive_s = (int)(cfg->keepalive_ms / 1000);
	m->session_expiry_s = cfg->session_expiry_ms / 1000 > UINT32_MAX
				  ? UINT32_MAX
				  : (uint32_t)(cfg->session_expiry_ms / 1000);
	m->backoff_ms = BACKOFF_MIN_MS;
	m->host = strdup(cfg->host);
	m->sub_topic = strdup(cfg->sub_topic);
	if (!m->host || !m->sub_topic) {
		snprintf(err, errlen, "out of memory");
		mqtt_free(m);
		return -ENOMEM;
	}
	mosquitto_lib_init();
	m->lib_init = true;
	/* clean_session false: MQTT 3.1.1 clean session 0, MQTT 5 clean
	 * start 0 with the session expiry sent at each connect. */
	m->mosq = mosquitto_new(cfg->client_id, false, m);
	if (!m->mosq) {
		snprintf(err, errlen, "mosquitto_new: %s", strerror(errno));
		mqtt_free(m);
		return -ENOMEM;
	}
	mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION,
			     cfg->protocol == 5 ? MQTT_PROTOCOL_V5
						: MQTT_PROTOCOL_V311);
	mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	rc = mosquitto_username_pw_set(
	    m->mosq, cfg->username ? cfg->username : cfg->client_id,
	    cfg->password);
	if (rc == MOSQ_ERR_SUCCESS && cfg->tls_ca_file) {
		/* The broker's certificate is always verified against the
		 * CA; "insecure" only skips the host name match. */
		rc = mosquitto_tls_set(m->mosq, cfg->tls_ca_file, NULL,
				       cfg->tls_cert_file, cfg->tls_key_file,
				       NULL);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_tls_opts_set(m->mosq, 1,
						    cfg->tls_version, NULL);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_tls_insecure_set(m->mosq,
							cfg->tls_insecure);
		if (rc != MOSQ_ERR_SUCCESS) {
			snprintf(err, errlen, "MQTT TLS setup: %s",
				 rc == MOSQ_ERR_ERRNO ? strerror(errno)
						      : mosq_err(rc));
			mqtt_free(m);
			return -EINVAL;
		}
		m->tls = true;
	}
	if (rc == MOSQ_ERR_SUCCESS && cfg->will_topic) {
		mosquitto_property *wp = NULL;
		if (cfg->protocol == 5 &&
		    mosquitto_property_add_int32(&wp,
						 MQTT_PROP_WILL_DELAY_INTERVAL,
						 cfg->will_delay_s) != 0)
			rc = MOSQ_ERR_NOMEM;
		if (rc == MOSQ_ERR_SUCCESS) {
			rc = mosquitto_will_set_v5(
			    m->mosq, cfg->will_topic, (int)cfg->will_len,
			    cfg->will_payload, 1, true, wp);
			if (rc != MOSQ_ERR_SUCCESS)
				mosquitto_property_free_all(&wp);
		}
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(err, errlen, "MQTT client setup: %s", mosq_err(rc));
		mqtt_free(m);
		return -EINVAL;
	}
	mosquitto_connect_v5_callback_set(m->mosq, cb_connect);
	mosquitto_disconnect_v5_callback_set(m->mosq, cb_disconnect);
	mosquitto_message_v5_callback_set(m->mosq, cb_message);
	mosquitto_publish_v5_callback_set(m->mosq, cb_publish);
	mosquitto_log_callback_set(m->mosq, cb_log);
	if (loop_add_prepare(l, on_prepare, m) != 0 ||
	    loop_add_timer(l, 1000, 1000, on_misc_timer, m, &m->misc_timer) !=
		0) {
		snprintf(err, errlen, "event loop setup failed");
		mqtt_free(m);
		return -ENOMEM;
	}
	m->has_misc_timer = true;
	*out = m;
	return 0;
}

void
mqtt_free(struct mqtt *m)
{
	if (!m)
		return;
	probe_close(m);
	del_timer(m, m->retry_timer, &m->has_retry_timer);
	del_timer(m, m->misc_timer, &m->has_misc_timer);
	del_timer(m, m->connack_timer, &m->has_connack_timer);
	if (m->fd >= 0)
		loop_del_fd(m->loop, m->fd);
	(void)loop_del_prepare(m->loop, on_prepare, m);
	if (m->mosq)
		mosquitto_destroy(m->mosq);
	if (m->lib_init)
		mosquitto_lib_cleanup();
	free(m->host);
	free(m->sub_topic);
	free(m);
}

void
mqtt_start(struct mqtt *m)
{
	if (m->state == ST_IDLE)
		start_probe(m);
}

int
mqtt_publish(struct mqtt *m, const char *topic, const void *payload, size_t len,
	     bool retain)
{
	int rc;

	if (m->state == ST_CLOSED || m->state == ST_CLOSING)
		return -EIO;
	if (len > (size_t)MQTT_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (m->unacked >= MAX_UNACKED)
		return -ENOBUFS;
	rc = mosquitto_publish_v5(m->mosq, NULL, topic, (int)len, payload, 1,
				  retain, NULL);
	/* A QoS 1 publish while disconnected answers NO_CONN yet stays
	 * queued in libmosquitto, which sends it after the next connect. */
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
		log_warn("mqtt.publish_failed", "topic=%s reason=\"%s\"", topic,
			 mosq_err(rc));
		sync_socket(m);
		return rc == MOSQ_ERR_NOMEM ? -ENOMEM
		       : rc == MOSQ_ERR_PAYLOAD_SIZE ||
			       rc == MOSQ_ERR_OVERSIZE_PACKET
			   ? -EMSGSIZE
			   : -EIO;
	}
	m->unacked++;
	sync_socket(m);
	return 0;
}

bool
mqtt_connected(const struct mqtt *m)
{
	return m->state == ST_CONNECTED;
}

size_t
mqtt_unacked(const struct mqtt *m)
{
	return m->unacked;
}

void
mqtt_disconnect(struct mqtt *m)
{
	probe_close(m);
	del_timer(m, m->retry_timer, &m->has_retry_timer);
	if (m->state != ST_CONNECTED) {
		/* Not connected, or still waiting for CONNACK: there is no
		 * session to close politely. */
		bool notify = m->state != ST_CLOSED;
		m->state = ST_CLOSED;
		sync_socket(m);
		if (notify && m->ev.on_disconnect)
			m->ev.on_disconnect(m->ev.ud);
		return;
	}
	m->state = ST_CLOSING;
	if (mosquitto_disconnect_v5(m->mosq, 0, NULL) != MOSQ_ERR_SUCCESS)
		connection_lost(m, "disconnect failed");
	sync_socket(m);
}

bool
mqtt_closed(const struct mqtt *m)
{
	return m->state == ST_CLOSED;
}
