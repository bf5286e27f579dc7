/* SPDX-License-Identifier: MIT */
/* bench-mqtt-rtt: the raw MQTT baseline. Both ends run here, libmosquitto
 * with TCP_NODELAY at QoS 1 through the broker under test: sequential
 * request/response latency, pipelined round trips per second over many
 * responder connections, and the time to deliver one message to each of N
 * subscribed connections. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "mqtt_pool.h"

#define HDR 16 /* sequence number and send time, at the payload's start */
#define MAX_SAMPLES (4u * 1000u * 1000u)

enum mode { MODE_SEQ, MODE_PIPE, MODE_FANOUT };

struct rtt {
	enum mode mode;
	struct pool *pool;
	struct pool_conn *req; /* the requester's connection */
	char tag[32];	       /* keeps concurrent runs' topics apart */
	size_t responders;
	size_t size;
	unsigned char *buf; /* one request payload */
	uint64_t sent, got, got_in_window;
	uint64_t *lat; /* round-trip samples in ns */
	size_t nlat;
	bool sending; /* pipe: still inside the measured window */
	uint64_t end_ns;
	uint64_t delivered; /* fanout: messages seen by responders */
	uint64_t last_delivery_ns;
};

static void
usage(FILE *f)
{
	fputs(
	    "usage: bench-mqtt-rtt --host H --port P --mode seq|pipe|fanout "
	    "[options]\n"
	    "Raw MQTT QoS 1 request/response through a broker, libmosquitto\n"
	    "with TCP_NODELAY on both ends (this process runs both).\n"
	    "  --mode seq     --count N    N sequential round trips (after "
	    "100\n"
	    "                              for warm-up): p50, p99, mean\n"
	    "  --mode pipe    --conns C --window W --duration S\n"
	    "                              one requester keeps W requests in\n"
	    "                              flight over C responder "
	    "connections\n"
	    "                              for S seconds: round trips/s\n"
	    "  --mode fanout  --devices N  one message to each of N "
	    "subscribed\n"
	    "                              connections: ms until all received\n"
	    "                 [--procs J]  responders split over J processes\n"
	    "                              (default: as few as the descriptor\n"
	    "                              limit allows, 3 per connection)\n"
	    "  --size B       payload bytes, each way (default 400, min 16)\n"
	    "  --protocol 5|311            MQTT version (default 5)\n"
	    "Prints one JSON object on stdout; logs go to stderr.\n",
	    f);
}

static void
put_header(unsigned char *buf, uint64_t seq, uint64_t t)
{
	memcpy(buf, &seq, 8);
	memcpy(buf + 8, &t, 8);
}

static void
send_one(struct rtt *r)
{
	char topic[96];
	size_t dst = (size_t)(r->sent % r->responders);

	snprintf(topic, sizeof topic, "bench/%s/%zu/req", r->tag, dst);
	put_header(r->buf, r->sent, bench_now_ns());
	r->sent++;
	pool_publish(r->req, topic, r->buf, r->size);
}

/* A responder answers with the same bytes on its own response topic; in
 * fanout mode it only counts. */
static void
on_request(struct pool_conn *c, const char *topic, const void *payload,
	   size_t len)
{
	struct rtt *r = pool_conn_ud(c);
	char out[96];

	(void)topic;
	if (r->mode == MODE_FANOUT) {
		r->delivered++;
		r->last_delivery_ns = bench_now_ns();
		return;
	}
	snprintf(out, sizeof out, "bench/%s/%zu/rsp", r->tag,
		 pool_conn_index(c));
	pool_publish(c, out, payload, len);
}

static void
on_response(struct pool_conn *c, const char *topic, const void *payload,
	    size_t len)
{
	struct rtt *r = pool_conn_ud(c);
	uint64_t t0, now = bench_now_ns();

	(void)topic;
	if (len < HDR)
		return;
	memcpy(&t0, (const unsigned char *)payload + 8, 8);
	r->got++;
	if (r->mode == MODE_PIPE) {
		if (now > r->end_ns)
			r->sending = false;
		if (!r->sending)
			return;
		r->got_in_window++;
	}
	if (r->nlat < MAX_SAMPLES)
		r->lat[r->nlat++] = now - t0;
	if (r->mode == MODE_PIPE)
		send_one(r);
}

static void
wait_for(struct rtt *r, uint64_t *counter, uint64_t goal, const char *what)
{
	uint64_t deadline = bench_now_ns() + 60ull * 1000000000u;

	while (*counter < goal) {
		pool_run_once(r->pool, 100);
		if (bench_now_ns() > deadline) {
			fprintf(stderr,
				"bench-mqtt-rtt: %s: %llu of %llu after "
				"60 s\n",
				what, (unsigned long long)*counter,
				(unsigned long long)goal);
			exit(1);
		}
	}
}

static void
setup(struct rtt *r, const struct pool_opts *po, size_t responders)
{
	char fmt[96];

	r->pool = pool_new(po, responders + 1);
	r->responders = responders;
	snprintf(fmt, sizeof fmt, "bench/%s/%%zu/req", r->tag);
	pool_connect(r->pool, responders, fmt, on_request, r);
	snprintf(fmt, sizeof fmt, "bench/%s/+/rsp", r->tag);
	size_t i = pool_connect(r->pool, 1, fmt, on_response, r);
	r->req = pool_conn_at(r->pool, i);
}

static void
run_seq(struct rtt *r, uint64_t count)
{
	const uint64_t warmup = 100;

	for (uint64_t i = 0; i < warmup + count; i++) {
		if (i == warmup)
			r->nlat = 0;
		send_one(r);
		wait_for(r, &r->got, i + 1, "responses");
	}
	uint64_t sum = 0;
	for (size_t i = 0; i < r->nlat; i++)
		sum += r->lat[i];
	double mean = r->nlat ? (double)sum / (double)r->nlat / 1000.0 : 0;
	uint64_t p50 = bench_quantile(r->lat, r->nlat, 0.50);
	uint64_t p99 = bench_quantile(r->lat, r->nlat, 0.99);
	printf("{\"bench\":\"mqtt_rtt_seq\",\"count\":%zu,\"size\":%zu,"
	       "\"p50_us\":%.1f,\"p99_us\":%.1f,\"mean_us\":%.1f,"
	       "\"max_us\":%.1f}\n",
	       r->nlat, r->size, (double)p50 / 1000.0, (double)p99 / 1000.0,
	       mean, (double)bench_quantile(r->lat, r->nlat, 1.0) / 1000.0);
}

static void
run_pipe(struct rtt *r, uint64_t window, uint64_t seconds)
{
	uint64_t start = bench_now_ns();

	r->end_ns = start + seconds * 1000000000u;
	r->sending = true;
	for (uint64_t i = 0; i < window; i++)
		send_one(r);
	while (r->sending) {
		pool_run_once(r->pool, 100);
		if (bench_now_ns() > r->end_ns)
			r->sending = false;
	}
	double secs = (double)(r->end_ns - start) / 1e9;
	/* Let what is in flight arrive, so that nothing is cut off mid
	 * packet when the connections close. */
	uint64_t drain = bench_now_ns() + 5ull * 1000000000u;
	while (r->got < r->sent && bench_now_ns() < drain)
		pool_run_once(r->pool, 50);
	printf("{\"bench\":\"mqtt_rtt_pipe\",\"conns\":%zu,\"window\":%llu,"
	       "\"size\":%zu,\"seconds\":%.2f,\"count\":%llu,\"rate\":%.0f,"
	       "\"p50_us\":%.1f,\"p99_us\":%.1f}\n",
	       r->responders, (unsigned long long)window, r->size, secs,
	       (unsigned long long)r->got_in_window,
	       (double)r->got_in_window / secs,
	       (double)bench_quantile(r->lat, r->nlat, 0.50) / 1000.0,
	       (double)bench_quantile(r->lat, r->nlat, 0.99) / 1000.0);
}

/* What a fanout child tells its parent through the pipe: ready (all its
 * connections subscribed), then done with the time of its last delivery
 * on the monotonic clock, which all processes share. */
struct fanout_note {
	uint32_t done;
	uint32_t pad;
	uint64_t t_ns;
	uint64_t n;
};

static void
note(int fd, uint32_t done, uint64_t t_ns, uint64_t n)
{
	struct fanout_note m = {.done = done, .t_ns = t_ns, .n = n};

	if (write(fd, &m, sizeof m) != (ssize_t)sizeof m)
		_exit(1);
}

/* A child holding responders [lo, hi): subscribes them, says ready, counts
 * deliveries until each has its message, says done. */
static void
fanout_child(struct rtt *r, struct pool_opts po, size_t lo, size_t hi, int wfd)
{
	char fmt[96];

	po.index_base = lo;
	r->pool = pool_new(&po, hi - lo);
	snprintf(fmt, sizeof fmt, "bench/%s/%%zu/req", r->tag);
	pool_connect(r->pool, hi - lo, fmt, on_request, r);
	note(wfd, 0, 0, hi - lo);
	wait_for(r, &r->delivered, hi - lo, "deliveries");
	note(wfd, 1, r->last_delivery_ns, r->delivered);
	pool_free(r->pool);
	_exit(0);
}

/* Reads one note, running the requester's loop meanwhile so that its
 * queued publishes go out and its PUBACKs come in. */
static struct fanout_note
read_note(struct rtt *r, int rfd)
{
	struct fanout_note m;
	uint64_t deadline = bench_now_ns() + 180ull * 1000000000u;

	for (;;) {
		ssize_t n = read(rfd, &m, sizeof m);
		if (n == (ssize_t)sizeof m)
			return m;
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ||
		    bench_now_ns() > deadline) {
			fprintf(stderr, "bench-mqtt-rtt: a fanout process "
					"failed\n");
			exit(1);
		}
		if (r->pool)
			pool_run_once(r->pool, 1);
		else
			usleep(1000);
	}
}

/* Fanout runs the responders in child processes: libmosquitto needs three
 * descriptors per client, so 10,000 of them do not fit under a hard limit
 * of 20,000 in one process. */
static void
run_fanout(struct rtt *r, struct pool_opts po, size_t procs)
{
	size_t n = r->responders;
	int fds[2];

	if (pipe(fds) != 0) {
		perror("bench-mqtt-rtt: pipe");
		exit(1);
	}
	uint64_t t0 = bench_now_ns();
	for (size_t j = 0; j < procs; j++) {
		size_t lo = n * j / procs, hi = n * (j + 1) / procs;
		pid_t pid = fork();
		if (pid < 0) {
			perror("bench-mqtt-rtt: fork");
			exit(1);
		}
		if (pid == 0) {
			close(fds[0]);
			fanout_child(r, po, lo, hi, fds[1]);
		}
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	for (size_t j = 0; j < procs; j++)
		(void)read_note(r, fds[0]);

	po.index_base = n;
	r->pool = pool_new(&po, 1);
	r->req = pool_conn_at(r->pool, pool_connect(r->pool, 1, NULL, NULL, r));
	uint64_t connect_ms = (bench_now_ns() - t0) / 1000000u;
	fprintf(stderr,
		"bench-mqtt-rtt: %zu connections in %zu processes "
		"ready in %llu ms\n",
		n + 1, procs, (unsigned long long)connect_ms);

	uint64_t start = bench_now_ns();
	for (size_t i = 0; i < n; i++)
		send_one(r);
	uint64_t published = bench_now_ns(), last = 0, got = 0;
	for (size_t j = 0; j < procs; j++) {
		struct fanout_note m = read_note(r, fds[0]);
		if (m.t_ns > last)
			last = m.t_ns;
		got += m.n;
	}
	close(fds[0]);
	while (wait(NULL) > 0)
		;
	printf("{\"bench\":\"mqtt_fanout\",\"devices\":%zu,\"size\":%zu,"
	       "\"procs\":%zu,\"received\":%llu,\"ms\":%.1f,"
	       "\"publish_ms\":%.1f,\"connect_ms\":%llu}\n",
	       n, r->size, procs, (unsigned long long)got,
	       (double)(last - start) / 1e6, (double)(published - start) / 1e6,
	       (unsigned long long)connect_ms);
}

int
main(int argc, char **argv)
{
	struct pool_opts po = {.host = NULL, .port = 0, .protocol = 5};
	struct rtt r = {.size = 400};
	const char *mode = NULL;
	uint64_t count = 10000, conns = 100, window = 100, duration = 5,
		 devices = 1000, procs = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--host")) {
			po.host = bench_opt_arg(argc, argv, &i, a);
		} else if (!strcmp(a, "--port")) {
			po.port = (unsigned)bench_opt_u64(
			    a, bench_opt_arg(argc, argv, &i, a), 1, 65535);
		} else if (!strcmp(a, "--mode")) {
			mode = bench_opt_arg(argc, argv, &i, a);
		} else if (!strcmp(a, "--count")) {
			count = bench_opt_u64(
			    a, bench_opt_arg(argc, argv, &i, a), 1, 10000000);
		} else if (!strcmp(a, "--conns")) {
			conns = bench_opt_u64(
			    a, bench_opt_arg(argc, argv, &i, a), 1, 100000);
		} else if (!strcmp(a, "--window")) {
			window = bench_opt_u64(
			    a, bench_opt_arg(argc, argv, &i, a), 1, 100000);
		} else if (!strcmp(a, "--duration")) {
			duration = bench_opt_u64(
			    a, bench_opt_arg(argc, argv, &i, a), 1, 3600);
		} else if (!strcmp(a, "--devices")) {
			devices = bench_opt_u64(
			    a, bench_opt_arg(argc, argv, &i, a), 1, 100000);
		} else if (!strcmp(a, "--procs")) {
			procs = bench_opt_u64(
			    a, bench_opt_arg(argc, argv, &i, a), 1, 64);
		} else if (!strcmp(a, "--size")) {
			r.size = (size_t)bench_opt_u64(
			    a, bench_opt_arg(argc, argv, &i, a), HDR, 262144);
		} else if (!strcmp(a, "--protocol")) {
			po.protocol = (int)bench_opt_u64(
			    a, bench_opt_arg(argc, argv, &i, a), 5, 311);
			if (po.protocol != 5 && po.protocol != 311) {
				fprintf(stderr, "--protocol is 5 or 311\n");
				return 2;
			}
		} else {
			fprintf(stderr, "bench-mqtt-rtt: unknown option %s\n",
				a);
			usage(stderr);
			return 2;
		}
	}
	if (!po.host || !po.port || !mode) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(mode, "seq"))
		r.mode = MODE_SEQ;
	else if (!strcmp(mode, "pipe"))
		r.mode = MODE_PIPE;
	else if (!strcmp(mode, "fanout"))
		r.mode = MODE_FANOUT;
	else {
		fprintf(stderr, "bench-mqtt-rtt: --mode is seq, pipe or "
				"fanout\n");
		return 2;
	}

	size_t responders = r.mode == MODE_SEQ	  ? 1
			    : r.mode == MODE_PIPE ? (size_t)conns
						  : (size_t)devices;
	uint64_t nofile = bench_raise_nofile();
	snprintf(r.tag, sizeof r.tag, "%ld", (long)getpid());
	char idp[48];
	snprintf(idp, sizeof idp, "bench-rtt-%s", r.tag);
	po.id_prefix = idp;
	r.buf = malloc(r.size);
	r.lat =
	    malloc((r.mode == MODE_FANOUT ? 1 : MAX_SAMPLES) * sizeof *r.lat);
	if (!r.buf || !r.lat) {
		fprintf(stderr, "bench-mqtt-rtt: out of memory\n");
		return 1;
	}
	memset(r.buf, 'x', r.size);

	r.responders = responders;
	if (r.mode == MODE_FANOUT) {
		/* libmosquitto gives every client a socket pair besides its
		 * socket (to wake a threaded loop): three descriptors each. */
		size_t per = nofile > 64 ? (size_t)(nofile - 64) / 3 : 1;
		if (procs == 0)
			procs = (responders + per - 1) / per;
		if (responders / procs + 1 > per) {
			fprintf(stderr,
				"bench-mqtt-rtt: %zu connections per process "
				"do not fit in %llu descriptors: raise "
				"--procs\n",
				responders / procs + 1,
				(unsigned long long)nofile);
			return 1;
		}
		run_fanout(&r, po, (size_t)procs);
	} else {
		if (nofile < 3 * (responders + 1) + 16) {
			fprintf(stderr,
				"bench-mqtt-rtt: %zu connections need %zu "
				"descriptors, more than the %llu allowed "
				"(ulimit -n)\n",
				responders + 1, 3 * (responders + 1) + 16,
				(unsigned long long)nofile);
			return 1;
		}
		uint64_t t0 = bench_now_ns();
		setup(&r, &po, responders);
		fprintf(stderr,
			"bench-mqtt-rtt: %zu connections ready in %llu ms\n",
			responders + 1,
			(unsigned long long)(bench_now_ns() - t0) / 1000000u);
		if (r.mode == MODE_SEQ)
			run_seq(&r, count);
		else
			run_pipe(&r, window, duration);
	}
	fflush(stdout);
	pool_free(r.pool);
	free(r.buf);
	free(r.lat);
	return 0;
}
