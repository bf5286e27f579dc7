/* SPDX-License-Identifier: MIT */
/* The fixture of the REST adapter's tests (test_dispatcher_http_fx.h). */
#include "test_dispatcher_http_fx.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/clock.h"
#include "common/log.h"

static void
quiet(enum log_level level, const char *line, void *ud)
{
	(void)level;
	(void)line;
	(void)ud;
}

static void
on_done(struct loop *l, int fd, unsigned events, void *ud)
{
	char c;
	(void)events;
	(void)ud;
	if (read(fd, &c, 1) == 1)
		loop_stop(l);
}

static void *
client(void *arg)
{
	struct call *c = arg;
	struct sockaddr_in sa;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)c->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof sa) == 0) {
		size_t off = 0, n = strlen(c->req);
		while (off < n) {
			ssize_t w =
			    send(s, c->req + off, n - off, MSG_NOSIGNAL);
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		for (;;) {
			ssize_t r = recv(s, c->resp + c->len,
					 sizeof c->resp - 1 - c->len, 0);
			if (r <= 0)
				break;
			c->len += (size_t)r;
		}
	}
	c->resp[c->len] = '\0';
	if (s >= 0)
		close(s);
	(void)!write(c->done_fd, "x", 1);
	return NULL;
}

/* As the dispatcher does before each wait: the pass's group commit. */
static uint64_t
on_prepare(struct loop *l, void *ud)
{
	(void)l;
	core_flush(ud);
	return UINT64_MAX;
}

unsigned
fx_call(struct fx *f, struct call *c, const char *req, const char **body)
{
	pthread_t t;

	memset(c, 0, sizeof *c);
	c->port = http_port(f->http);
	c->req = req;
	c->done_fd = f->pipe[1];
	assert_int_equal(pthread_create(&t, NULL, client, c), 0);
	assert_int_equal(loop_run(f->loop), 0);
	pthread_join(t, NULL);
	unsigned status = 0;
	assert_int_equal(sscanf(c->resp, "HTTP/1.1 %u", &status), 1);
	const char *b = strstr(c->resp, "\r\n\r\n");
	assert_non_null(b);
	*body = b + 4;
	return status;
}

unsigned
fx_post(struct fx *f, struct call *c, const char *ctype, const char *json,
	const char **body)
{
	static char req[4096];
	snprintf(req, sizeof req,
		 "POST /v1/jobs HTTP/1.1\r\nHost: t\r\n" AUTH
		 "Content-Type: %s\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n%s",
		 ctype, strlen(json), json);
	return fx_call(f, c, req, body);
}

int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct store_port sp;
	struct bus_port bp;
	char err[256] = "";

	log_set_sink(quiet, NULL);
	f->loop = loop_new();
	assert_non_null(f->loop);
	assert_int_equal(pipe(f->pipe), 0);
	assert_int_equal(
	    loop_add_fd(f->loop, f->pipe[0], LOOP_READ, on_done, f), 0);
	assert_int_equal(store_open(":memory:", &f->store, err, sizeof err), 0);
	store_port(f->store, &sp);
	fake_bus_init(&f->bus);
	fake_bus_port(&f->bus, &bp);
	struct core_config cc = {.prefix = "cmdbus/v1",
				 .session_expiry_ms = 7 * 86400000ull};
	assert_int_equal(core_init(&f->core, &cc, &clock_system, &sp, &bp), 0);
	assert_int_equal(loop_add_prepare(f->loop, on_prepare, &f->core), 0);
	struct http_config hc = {.bind = "127.0.0.1",
				 .port = 0,
				 .token = TOKEN,
				 .snapshot_begin = store_snapshot_begin,
				 .snapshot_end = store_snapshot_end,
				 .snapshot_ud = f->store};
	int rc = http_new(f->loop, &hc, &f->core, &f->http, err, sizeof err);
	if (rc != 0)
		fail_msg("http_new: %s", err);
	assert_true(http_port(f->http) > 0);
	*state = f;
	return 0;
}

int
fx_teardown(void **state)
{
	struct fx *f = *state;
	http_free(f->http);
	core_fini(&f->core);
	store_close(f->store);
	fake_bus_fini(&f->bus);
	loop_del_fd(f->loop, f->pipe[0]);
	loop_free(f->loop);
	close(f->pipe[0]);
	close(f->pipe[1]);
	free(f);
	log_set_sink(NULL, NULL);
	return 0;
}

unsigned
fx_get(struct fx *f, struct call *c, const char *path, const char **body)
{
	static char req[1024];
	snprintf(req, sizeof req,
		 "GET %s HTTP/1.1\r\nHost: t\r\n" AUTH
		 "Connection: close\r\n\r\n",
		 path);
	return fx_call(f, c, req, body);
}
