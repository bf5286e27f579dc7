/* SPDX-License-Identifier: MIT */
/* Fuzzes the REST router with any method and path a client may send: the
 * route found must be one of the method's (or GET's for HEAD), its "*"
 * parameters must be path segments without '/', and the Allow list must
 * stay a terminated string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Input: METHOD NUL PATH; without a NUL the whole input is a path
	 * tried with every method the API knows and one it does not. */
	static const char *const methods[] = {"GET",	"HEAD", "POST",
					      "DELETE", "PUT",	"get"};
	struct request *rq = calloc(1, sizeof *rq);
	char *s = malloc(size + 1);
	const char *path;
	size_t nm = sizeof methods / sizeof methods[0];
	const char *one[1];
	const char *const *ms = methods;

	if (!rq || !s) {
		free(rq);
		free(s);
		return 0;
	}
	memcpy(s, data, size);
	s[size] = '\0';
	char *nul = memchr(s, '\0', size);
	if (nul && nul < s + size) {
		one[0] = s;
		ms = one;
		nm = 1;
		path = nul + 1;
	} else {
		path = s;
	}
	for (size_t i = 0; i < nm; i++) {
		bool known = false;
		const struct route *r =
		    http_route_find(ms[i], path, rq, &known);
		if (memchr(rq->allow, '\0', sizeof rq->allow) == NULL)
			abort();
		if (!r)
			continue;
		if (!known)
			abort();
		if (strcmp(r->method, ms[i]) != 0 &&
		    !(strcmp(ms[i], "HEAD") == 0 &&
		      strcmp(r->method, "GET") == 0))
			abort();
		if (strchr(rq->param, '/') || strchr(rq->param2, '/'))
			abort();
		if (strchr(r->path, '*') == NULL && strcmp(r->path, path) != 0)
			abort();
	}
	free(s);
	free(rq);
	return 0;
}
