/* SPDX-License-Identifier: MIT */
/* The rest mode: libcurl's multi interface on one thread, easy handles
 * reused so that connections stay alive, closed loop (C in flight) or
 * open loop (starts scheduled at R per second, latency counted from the
 * scheduled start so that a slow server cannot hide its queue). */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "rest_req.h"
#include "stats.h"

#define MAX_BODY (16u << 20)
#define MAX_SLOTS 20000u

struct slot {
	CURL *h;
	bool busy;
	bool tracking; /* track: waiting on GET /v1/jobs/{id} */
	uint64_t start_us;
	char *post; /* owned request body */
	struct buf body;
	char url[512];
};

struct rest {
	const struct lg_rest_opts *o;
	CURLM *multi;
	struct curl_slist *headers;
	struct slot **slots;
	size_t nslots;
	char *call_body;
	uint64_t started, next_dev;
	struct stats st;
	volatile sig_atomic_t *stop;
};

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	stop_flag = 1;
}

static size_t
on_data(char *p, size_t size, size_t n, void *ud)
{
	struct slot *s = ud;

	return buf_append(&s->body, p, size * n) == 0 ? size * n : 0;
}

static struct slot *
slot_get(struct rest *r)
{
	struct slot *s, **grown;

	for (size_t i = 0; i < r->nslots; i++)
		if (!r->slots[i]->busy)
			return r->slots[i];
	if (r->nslots >= MAX_SLOTS)
		return NULL;
	grown = realloc(r->slots, (r->nslots + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	r->slots = grown;
	if (!(s = calloc(1, sizeof(*s))) || !(s->h = curl_easy_init())) {
		free(s);
		return NULL;
	}
	buf_init(&s->body, MAX_BODY);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(s->h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
	/* The waits are the server's: ?wait=60 and action calls. */
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT, 120L);
	r->slots[r->nslots++] = s;
	return s;
}

static int
slot_send(struct rest *r, struct slot *s, bool post)
{
	buf_reset(&s->body);
	curl_easy_setopt(s->h, CURLOPT_URL, s->url);
	if (post) {
		curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->post);
		curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE,
				 (long)strlen(s->post));
	} else {
		curl_easy_setopt(s->h, CURLOPT_HTTPGET, 1L);
	}
	return curl_multi_add_handle(r->multi, s->h) == CURLM_OK ? 0 : -1;
}

/* Starts one request scheduled at start_us. */
static int
start_one(struct rest *r, uint64_t start_us)
{
	const struct lg_rest_opts *o = r->o;
	struct slot *s = slot_get(r);
	char dev[CMDBUS_NAME_BUF];
	int n;

	if (!s)
		return -ENOMEM;
	if (args_device_id(o->id_format, r->next_dev, dev, sizeof(dev)) != 0)
		return -EINVAL;
	r->next_dev = (r->next_dev + 1) % o->devices;
	free(s->post);
	s->post = NULL;
	if (o->kind == LG_GET) {
		n = snprintf(s->url, sizeof(s->url), "%s", o->url);
		s->post = strdup("");
	} else if (o->kind == LG_CALL) {
		n = snprintf(s->url, sizeof(s->url),
			     "%s/v1/devices/%s/actions/%s", o->url, dev,
			     o->action);
		s->post = strdup(r->call_body);
	} else {
		n = snprintf(s->url, sizeof(s->url), "%s/v1/jobs", o->url);
		if (req_job_body(o, dev, &s->post) != 0)
			s->post = NULL;
	}
	if (n < 0 || (size_t)n >= sizeof(s->url) || !s->post)
		return -ENOMEM;
	s->busy = true;
	s->tracking = false;
	s->start_us = start_us;
	r->started++;
	if (slot_send(r, s, o->kind != LG_GET) != 0) {
		s->busy = false;
		return -EIO;
	}
	return 0;
}

static void
record(struct rest *r, struct slot *s, long status, bool ok)
{
	s->busy = false;
	if (stats_add(&r->st, lg_mono_us() - s->start_us, (int)status, ok))
		r->st.errors++;
}

/* One transfer ended: judge it, or go on to the job's GET. */
static void
on_done(struct rest *r, struct slot *s, CURLcode cc)
{
	long status = 0;
	char id[CMDBUS_ID_BUF];
	enum req_job_state js;
	int n;

	curl_multi_remove_handle(r->multi, s->h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	else if (r->st.errors < 5) /* the first few say why; the rest count */
		fprintf(stderr, "loadgen: %s: %s\n", s->url,
			curl_easy_strerror(cc));
	switch (r->o->kind) {
	case LG_SUBMIT:
		record(r, s, status, status == 201);
		return;
	case LG_CALL:
		record(r, s, status,
		       status == 200 &&
			   req_exec_ok(s->body.data ? s->body.data : "",
				       s->body.len));
		return;
	case LG_GET:
		record(r, s, status, status == 200);
		return;
	case LG_TRACK:
		break;
	}
	if ((status != 201 && !s->tracking) || (status != 200 && s->tracking) ||
	    req_job_read(s->body.data ? s->body.data : "", s->body.len, id,
			 &js) != 0) {
		record(r, s, status, false);
		return;
	}
	if (js != REQ_JOB_RUNNING) {
		record(r, s, status, js == REQ_JOB_OK);
		return;
	}
	n = snprintf(s->url, sizeof(s->url), "%s/v1/jobs/%s?wait=60", r->o->url,
		     id);
	s->tracking = true;
	if (n < 0 || (size_t)n >= sizeof(s->url) || slot_send(r, s, false))
		record(r, s, status, false);
}

static size_t
busy(const struct rest *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nslots; i++)
		n += r->slots[i]->busy;
	return n;
}

int
rest_run(const struct lg_rest_opts *o)
{
	struct rest r;
	char auth[512];
	uint64_t t0, end_us = 0, now;
	int rc = 0, running = 0;
	const char *kinds[] = {"submit", "call", "track", "get"};
	struct sigaction sa;

	memset(&r, 0, sizeof(r));
	r.o = o;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	r.multi = curl_multi_init();
	r.headers = curl_slist_append(NULL, "Content-Type: application/json");
	/* No "Expect: 100-continue" round trip before a body. */
	r.headers = curl_slist_append(r.headers, "Expect:");
	if (o->token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
			 o->token);
		r.headers = curl_slist_append(r.headers, auth);
	}
	if (!r.multi || !r.headers || req_call_body(o, &r.call_body) != 0) {
		fprintf(stderr, "loadgen: setup failed (are --args plain "
				"objects, arrays, strings, non-negative "
				"integers and booleans?)\n");
		rc = 1;
		goto out;
	}
	curl_multi_setopt(r.multi, CURLMOPT_MAXCONNECTS,
			  (long)(o->concurrency ? o->concurrency : 1000));
	t0 = lg_mono_us();
	if (o->duration_s > 0)
		end_us = t0 + (uint64_t)(o->duration_s * 1e6);
	for (;;) {
		CURLMsg *msg;
		int left, timeout = 100;
		bool more, done = false;

		now = lg_mono_us();
		more = !stop_flag &&
		       (o->requests ? r.started < o->requests : now < end_us);
		if (more && o->concurrency) {
			while (busy(&r) < o->concurrency &&
			       (o->requests ? r.started < o->requests
					    : now < end_us))
				if (start_one(&r, lg_mono_us()) != 0) {
					rc = 1;
					goto out;
				}
		} else if (more) {
			/* Open loop: every start whose time has come, each
			 * timed from its schedule. */
			for (;;) {
				uint64_t at =
				    t0 + (uint64_t)((double)r.started * 1e6 /
						    o->rate);
				if (at > now ||
				    (o->requests && r.started >= o->requests) ||
				    (end_us && at >= end_us))
					break;
				if (start_one(&r, at) != 0) {
					fprintf(stderr, "loadgen: out of "
							"slots\n");
					rc = 1;
					goto out;
				}
			}
			{
				uint64_t at =
				    t0 + (uint64_t)((double)r.started * 1e6 /
						    o->rate);
				timeout =
				    at > now ? (int)((at - now) / 1000) : 0;
				if (timeout > 100)
					timeout = 100;
			}
		} else if (busy(&r) == 0) {
			break;
		}
		curl_multi_perform(r.multi, &running);
		while ((msg = curl_multi_info_read(r.multi, &left))) {
			struct slot *s = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  (char **)&s);
			on_done(&r, s, msg->data.result);
			done = true;
		}
		/* A freed slot is refilled at once, not after the next
		 * socket event. */
		if (!done && (busy(&r) > 0 || timeout > 0))
			curl_multi_poll(r.multi, NULL, 0, timeout, NULL);
	}
	stats_print(&r.st, kinds[o->kind], (double)(lg_mono_us() - t0) / 1e6);
	if (r.st.errors > 0)
		rc = 1;
out:
	for (size_t i = 0; i < r.nslots; i++) {
		curl_multi_remove_handle(r.multi, r.slots[i]->h);
		curl_easy_cleanup(r.slots[i]->h);
		buf_fini(&r.slots[i]->body);
		free(r.slots[i]->post);
		free(r.slots[i]);
	}
	free(r.slots);
	free(r.call_body);
	curl_slist_free_all(r.headers);
	if (r.multi)
		curl_multi_cleanup(r.multi);
	stats_fini(&r.st);
	curl_global_cleanup();
	return rc;
}
