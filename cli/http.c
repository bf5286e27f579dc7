/* SPDX-License-Identifier: MIT */
/* The libcurl adapter of the CLI: a fresh easy handle per request (the
 * CLI makes a few requests a second at most), the bearer token in a
 * header, the whole answer kept in memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"

#define HTTP_MAX_REPLY (64u * 1024 * 1024)

int
http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void
http_global_fini(void)
{
	curl_global_cleanup();
}

/* What the write callback needs: the reply, and for a stream the
 * handle (to read the status and type once headers are in) and the
 * chunk callback. */
struct sink {
	struct http_reply *r;
	CURL *c;
	http_chunk_fn *on_chunk;
	void *arg;
	int decided; /* whether this answer is streamed is known */
};

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *k = arg;
	struct http_reply *r = k->r;
	size_t n = size * nmemb;
	char *d;

	if (k->on_chunk != NULL && !k->decided) {
		const char *type = NULL;
		long status = 0;

		curl_easy_getinfo(k->c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(k->c, CURLINFO_CONTENT_TYPE, &type);
		k->decided = 1;
		r->streamed = status >= 200 && status <= 299 && type != NULL &&
			      strncmp(type, "text/event-stream", 17) == 0;
	}
	if (r->streamed)
		return k->on_chunk(p, n, k->arg) < 0 ? 0 : n;

	if (r->len + n > HTTP_MAX_REPLY)
		return 0;
	d = realloc(r->body, r->len + n + 1);
	if (d == NULL)
		return 0;
	memcpy(d + r->len, p, n);
	r->len += n;
	d[r->len] = '\0';
	r->body = d;
	return n;
}

static int
curl_failure(CURLcode c, const char *base, char *err, size_t errlen)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
		snprintf(err, errlen,
			 "cannot connect to %s (connection refused)", base);
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(err, errlen, "cannot resolve the host of %s", base);
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(err, errlen, "no answer from %s in time", base);
		return -ETIMEDOUT;
	default:
		snprintf(err, errlen, "request to %s failed: %s", base,
			 curl_easy_strerror(c));
		return -EIO;
	}
}

static int
perform(const char *base, const char *token, const char *method,
	const char *path, const char *body, long timeout_s,
	http_chunk_fn *on_chunk, void *cb_arg, struct http_reply *r, char *err,
	size_t errlen)
{
	struct sink k = {.r = r, .on_chunk = on_chunk, .arg = cb_arg};
	struct curl_slist *hdr = NULL, *h;
	char *url = NULL, *auth = NULL;
	size_t blen = strlen(base), n;
	CURL *c;
	CURLcode cc;
	int rc = -ENOMEM;

	memset(r, 0, sizeof(*r));
	/* A trailing slash on the base is a common way to write a URL. */
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	c = curl_easy_init();
	if (c == NULL)
		goto out;
	k.c = c;
	n = blen + strlen(path) + 1;
	if ((url = malloc(n)) == NULL)
		goto out;
	snprintf(url, n, "%.*s%s", (int)blen, base, path);
	if (token != NULL && *token != '\0') {
		n = strlen(token) + 32;
		if ((auth = malloc(n)) == NULL)
			goto out;
		snprintf(auth, n, "Authorization: Bearer %s", token);
		if ((h = curl_slist_append(hdr, auth)) == NULL)
			goto out;
		hdr = h;
	}
	/* A follower asks for the live event stream; a server that cannot
	 * stream answers once with JSON, which follow.c reads as well. */
	if (on_chunk != NULL) {
		if ((h = curl_slist_append(hdr, "Accept: text/event-stream, "
						"application/json")) == NULL)
			goto out;
		hdr = h;
	}
	if (body != NULL) {
		if ((h = curl_slist_append(
			 hdr, "Content-Type: application/json")) == NULL)
			goto out;
		hdr = h;
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &k);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "cmdbus/" CMDBUS_VERSION);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		rc = curl_failure(cc, base, err, errlen);
		http_reply_fini(r);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->body == NULL && (r->body = calloc(1, 1)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	rc = 0;
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	curl_slist_free_all(hdr);
	free(auth);
	free(url);
	if (c != NULL)
		curl_easy_cleanup(c);
	return rc;
}

int
http_request(const char *base, const char *token, const char *method,
	     const char *path, const char *body, long timeout_s,
	     struct http_reply *r, char *err, size_t errlen)
{
	return perform(base, token, method, path, body, timeout_s, NULL, NULL,
		       r, err, errlen);
}

int
http_stream(const char *base, const char *token, const char *path,
	    http_chunk_fn *on_chunk, void *arg, struct http_reply *r, char *err,
	    size_t errlen)
{
	return perform(base, token, "GET", path, NULL, 0, on_chunk, arg, r, err,
		       errlen);
}

void
http_reply_fini(struct http_reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}
