/* SPDX-License-Identifier: MIT */
/* The REST API's tokens: the table of named tokens with their roles (the
 * api_tokens_file format), kept as SHA-256 digests only, and the lookup
 * of a presented bearer token, which compares it with every entry in
 * constant time. */
#include "http_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "cmdbus/msg.h"

static const char *const role_names[] = {"none", "read", "operate", "admin"};

const char *
http_role_name(enum http_role r)
{
	return (unsigned)r < 4 ? role_names[r] : "none";
}

int
http_role_parse(const char *s, enum http_role *out)
{
	for (unsigned i = HTTP_ROLE_READ; i <= HTTP_ROLE_ADMIN; i++)
		if (strcmp(s, role_names[i]) == 0) {
			*out = (enum http_role)i;
			return 0;
		}
	return -ERR_CONFIG;
}

static bool
valid_name(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= HTTP_TOKEN_NAME_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789_.-") == n;
}

int
http_tokens_add(struct http_tokens *t, const char *name, enum http_role role,
		const char *sha256, char *err, size_t errlen)
{
	char low[CMDBUS_SHA256_HEX + 1];

	if (!valid_name(name)) {
		snprintf(err, errlen,
			 "a token name is 1..64 of [A-Za-z0-9_.-]");
		return -ERR_CONFIG;
	}
	if (role < HTTP_ROLE_READ || role > HTTP_ROLE_ADMIN) {
		snprintf(err, errlen, "the role is read, operate or admin");
		return -ERR_CONFIG;
	}
	if (strlen(sha256) != CMDBUS_SHA256_HEX ||
	    strspn(sha256, "0123456789abcdefABCDEF") != CMDBUS_SHA256_HEX) {
		snprintf(err, errlen,
			 "the digest is 64 hex digits (the SHA-256 of the "
			 "token, as sha256sum prints it)");
		return -ERR_CONFIG;
	}
	for (size_t i = 0; i <= CMDBUS_SHA256_HEX; i++)
		low[i] = (char)(sha256[i] >= 'A' && sha256[i] <= 'F'
				    ? sha256[i] - 'A' + 'a'
				    : sha256[i]);
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].name, name) == 0) {
			snprintf(err, errlen, "token name '%s' given twice",
				 name);
			return -ERR_CONFIG;
		}
		/* One token under two names would make the audit guess. */
		if (strcmp(t->v[i].sha256, low) == 0) {
			snprintf(err, errlen,
				 "the same token as '%s' (each name needs its "
				 "own token)",
				 t->v[i].name);
			return -ERR_CONFIG;
		}
	}
	if (t->n >= HTTP_TOKENS_MAX) {
		snprintf(err, errlen, "more than %u tokens", HTTP_TOKENS_MAX);
		return -ERR_CONFIG;
	}
	struct http_token *v = realloc(t->v, (t->n + 1) * sizeof *v);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	t->v = v;
	memset(&v[t->n], 0, sizeof v[t->n]);
	memcpy(v[t->n].name, name, strlen(name) + 1);
	v[t->n].role = role;
	memcpy(v[t->n].sha256, low, sizeof low);
	t->n++;
	return 0;
}

/* The next blank-separated word of a line, NUL-terminated in place. */
static char *
word(char **p)
{
	char *s = *p;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return NULL;
	char *e = s + strcspn(s, " \t");
	if (*e)
		*e++ = '\0';
	*p = e;
	return s;
}

int
http_tokens_parse(struct http_tokens *t, const char *text, size_t len,
		  const char *path, char *err, size_t errlen)
{
	char line[512];
	size_t lineno = 0, off = 0;

	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		char why[160];
		int rc;

		lineno++;
		if (memchr(text + off, '\0', n)) {
			snprintf(err, errlen, "%s:%zu: a NUL byte", path,
				 lineno);
			return -ERR_CONFIG;
		}
		if (n >= sizeof line) {
			snprintf(err, errlen, "%s:%zu: line too long", path,
				 lineno);
			return -ERR_CONFIG;
		}
		memcpy(line, text + off, n);
		line[n] = '\0';
		off += n + (nl ? 1 : 0);
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		char *p = line, *name = word(&p);
		if (!name || name[0] == '#')
			continue;
		char *role = word(&p), *sha = role ? word(&p) : NULL;
		enum http_role r = HTTP_ROLE_NONE;
		if (!sha || word(&p)) {
			snprintf(err, errlen,
				 "%s:%zu: expected NAME ROLE SHA256HEX", path,
				 lineno);
			return -ERR_CONFIG;
		}
		if (http_role_parse(role, &r) < 0) {
			snprintf(err, errlen,
				 "%s:%zu: role '%.32s' is not read, operate "
				 "or admin",
				 path, lineno, role);
			return -ERR_CONFIG;
		}
		rc = http_tokens_add(t, name, r, sha, why, sizeof why);
		if (rc < 0) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
			return rc;
		}
	}
	return 0;
}

void
http_tokens_fini(struct http_tokens *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

int
http_auth_build(const char *token, const char *const *sha, size_t n,
		const struct http_tokens *table, struct http_tokens *out)
{
	struct http_tokens t = {0};
	char why[160], name[48];
	int rc = 0;

	memset(out, 0, sizeof *out);
	/* The options that predate roles keep meaning what they did: any
	 * of those tokens may do everything. */
	if (token && token[0]) {
		char d[CMDBUS_SHA256_HEX + 1];
		cmdbus_sha256_hex(token, strlen(token), d);
		rc = http_tokens_add(&t, "api_token_file", HTTP_ROLE_ADMIN, d,
				     why, sizeof why);
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		snprintf(name, sizeof name, "api_token_sha256.%zu", i + 1);
		rc = http_tokens_add(&t, name, HTTP_ROLE_ADMIN, sha[i], why,
				     sizeof why);
	}
	for (size_t i = 0; rc == 0 && table && i < table->n; i++)
		rc = http_tokens_add(&t, table->v[i].name, table->v[i].role,
				     table->v[i].sha256, why, sizeof why);
	if (rc < 0) {
		http_tokens_fini(&t);
		return rc == -ENOMEM ? rc : -EINVAL;
	}
	*out = t;
	return 0;
}

const struct http_token *
http_auth_find(const struct http_tokens *t, const char *header)
{
	char sha[CMDBUS_SHA256_HEX + 1];
	const struct http_token *found = NULL;

	if (!header || strncasecmp(header, "Bearer ", 7) != 0)
		return NULL;
	header += 7;
	while (*header == ' ')
		header++;
	size_t len = strlen(header);
	while (len > 0 && header[len - 1] == ' ')
		len--;
	if (len == 0)
		return NULL;
	cmdbus_sha256_hex(header, len, sha);
	/* Every entry is compared to its end, so that the time taken says
	 * nothing about which entry, if any, matched or how closely. */
	for (size_t k = 0; k < t->n; k++) {
		unsigned char diff = 0;
		for (size_t i = 0; i < CMDBUS_SHA256_HEX; i++)
			diff |= (unsigned char)(sha[i] ^ t->v[k].sha256[i]);
		if (diff == 0)
			found = &t->v[k];
	}
	return found;
}
