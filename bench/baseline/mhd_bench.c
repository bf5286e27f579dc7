/* SPDX-License-Identifier: MIT */
/* bench-mhd: the raw libmicrohttpd baseline. Serves one fixed JSON body,
 * the size and shape of a finished execution's view, with the dispatcher's
 * daemon options: external epoll driven by one thread, turbo, suspend and
 * resume allowed, the same connection limits. What the dispatcher adds on
 * top (routing, auth, the database read, encoding) is what a ratio against
 * this measures. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "bench_util.h"

/* The dispatcher's limits (dispatcher/http/http.c). */
#define CONN_MEMORY_LIMIT (64u * 1024u)
#define CONN_LIMIT 256u
#define CONN_PER_IP_LIMIT 64u
#define CONN_TIMEOUT_S 30u

static const char body[] =
    "{\"id\":\"01KAKX5Q2M7H3ZP9D4V6N8R0TB\",\"job\":"
    "\"01KAKX5Q2M7H3ZP9D4V6N8R0TA\",\"device\":\"lg-00042\","
    "\"action\":\"ping\",\"state\":\"SUCCEEDED\",\"created_at\":"
    "1763700000000,\"updated_at\":1763700000002,\"published_at\":"
    "1763700000001,\"finished_at\":1763700000002,\"late_results\":0,"
    "\"result\":{\"type\":\"result\",\"id\":\"01KAKX5Q2M7H3ZP9D4V6N8R0TB\","
    "\"device\":\"lg-00042\",\"boot_id\":\"01KAKWZZ8S1N5C6J4Q2M3E7X9Y\","
    "\"state\":\"SUCCEEDED\",\"cmd_sha256\":\"3b2c5f0e1d4a6978b1c2d3e4f5a6"
    "b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e\",\"exit_code\":0,"
    "\"stdout\":\"pong\",\"stderr\":\"\",\"stdout_truncated\":false,"
    "\"stderr_truncated\":false,\"stdout_bytes\":4,\"stderr_bytes\":0,"
    "\"started_at\":1763700000001,\"finished_at\":1763700000002}}";

static volatile sig_atomic_t stop;
static unsigned long long served;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
	   const char *method, const char *version, const char *upload,
	   size_t *upload_size, void **ctx)
{
	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	/* Like the dispatcher: the first call only sees the headers, the
	 * answer comes on the next one. A response queued on the first call
	 * makes MHD close the connection, as it cannot know the client sent
	 * no body, and every request would pay for a new connection. */
	if (*ctx == NULL) {
		*ctx = (void *)(uintptr_t)body;
		return MHD_YES;
	}
	*upload_size = 0;
	/* One response per request, as the dispatcher makes one per
	 * answer. */
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    sizeof body - 1, (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-store");
	enum MHD_Result r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	served++;
	return r;
}

static void
usage(FILE *f)
{
	fputs(
	    "usage: bench-mhd --port P [--bind ADDR]\n"
	    "Serves a fixed JSON body (a finished execution's view) on every\n"
	    "path with the dispatcher's libmicrohttpd options until SIGTERM\n"
	    "or SIGINT. Port 0 picks a free one. Prints\n"
	    "{\"event\":\"ready\",\"port\":P,...} once listening and\n"
	    "{\"bench\":\"mhd\",\"requests\":N} at exit.\n",
	    f);
}

int
main(int argc, char **argv)
{
	unsigned port = 0;
	const char *bind_addr = "127.0.0.1";
	bool have_port = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--port")) {
			port = (unsigned)bench_opt_u64(
			    a, bench_opt_arg(argc, argv, &i, a), 0, 65535);
			have_port = true;
		} else if (!strcmp(a, "--bind")) {
			bind_addr = bench_opt_arg(argc, argv, &i, a);
		} else {
			fprintf(stderr, "bench-mhd: unknown option %s\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!have_port) {
		usage(stderr);
		return 2;
	}
	bench_raise_nofile();

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, bind_addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "bench-mhd: --bind takes an IPv4 address\n");
		return 2;
	}
	struct MHD_Daemon *d = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG |
		MHD_ALLOW_SUSPEND_RESUME,
	    (uint16_t)port, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&sin, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)CONN_MEMORY_LIMIT, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)CONN_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)CONN_PER_IP_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)CONN_TIMEOUT_S, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "bench-mhd: cannot listen on %s port %u\n",
			bind_addr, port);
		return 1;
	}
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	int mhd_ep = info ? info->epoll_fd : -1;
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	unsigned bound = info ? info->port : port;
	/* Like the dispatcher's loop: its own poller watches MHD's epoll
	 * descriptor and calls MHD_run when it is readable or MHD's timeout
	 * says there is work. */
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = mhd_ep};
	if (mhd_ep < 0 || ep < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, mhd_ep, &ev) != 0) {
		fprintf(stderr, "bench-mhd: no epoll descriptor\n");
		MHD_stop_daemon(d);
		return 1;
	}
	printf("{\"event\":\"ready\",\"port\":%u,\"body_bytes\":%zu}\n", bound,
	       sizeof body - 1);
	fflush(stdout);

	while (!stop) {
		MHD_UNSIGNED_LONG_LONG t = 0;
		int timeout = 1000;
		for (int i = 0; i < 8; i++) {
			if (MHD_get_timeout(d, &t) != MHD_YES)
				break;
			if (t > 0) {
				timeout = t < 1000 ? (int)t : 1000;
				break;
			}
			MHD_run(d);
			timeout = 0;
		}
		int n = epoll_wait(ep, &ev, 1, timeout);
		if (n < 0 && errno != EINTR) {
			perror("bench-mhd: epoll_wait");
			break;
		}
		if (n > 0)
			MHD_run(d);
	}
	MHD_stop_daemon(d);
	printf("{\"bench\":\"mhd\",\"requests\":%llu}\n", served);
	return 0;
}
