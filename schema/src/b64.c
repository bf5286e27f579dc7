/* SPDX-License-Identifier: MIT */
/* RFC 4648 base64 for signatures and *_b64 fields, strict on input: the
 * standard alphabet, '=' padding to a multiple of four, no whitespace and
 * zero pad bits, so that every byte string has exactly one encoding. */
#include <errno.h>
#include <stdlib.h>

#include "common/err.h"
#include "json.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
schema_b64_encode(struct sbuf *b, const void *p, size_t n)
{
	const unsigned char *s = p;
	char q[4];
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		unsigned v =
		    (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = alphabet[(v >> 6) & 63];
		q[3] = alphabet[v & 63];
		schema_sbuf_put(b, q, 4);
	}
	if (n - i == 1) {
		unsigned v = (unsigned)s[i] << 16;
		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = '=';
		q[3] = '=';
		schema_sbuf_put(b, q, 4);
	} else if (n - i == 2) {
		unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8;
		q[0] = alphabet[v >> 18];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = alphabet[(v >> 6) & 63];
		q[3] = '=';
		schema_sbuf_put(b, q, 4);
	}
}

static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t
schema_b64_decoded_max(size_t enclen)
{
	return enclen / 4 * 3;
}

int
schema_b64_decode(const char *s, size_t len, char **out, size_t *outlen)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char *o;
	size_t n = 0;

	if (len % 4)
		return -ERR_MALFORMED;
	o = malloc(schema_b64_decoded_max(len) + 1);
	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < len; i += 4) {
		bool last = i + 4 == len;
		int a = b64_val(u[i]), b = b64_val(u[i + 1]);
		int c = b64_val(u[i + 2]), d = b64_val(u[i + 3]);

		if (a < 0 || b < 0)
			goto bad;
		if (last && u[i + 2] == '=' && u[i + 3] == '=') {
			if (b & 15)
				goto bad;
			o[n++] = (unsigned char)(a << 2 | b >> 4);
			break;
		}
		if (c < 0)
			goto bad;
		if (last && u[i + 3] == '=') {
			if (c & 3)
				goto bad;
			o[n++] = (unsigned char)(a << 2 | b >> 4);
			o[n++] = (unsigned char)((b & 15) << 4 | c >> 2);
			break;
		}
		if (d < 0)
			goto bad;
		o[n++] = (unsigned char)(a << 2 | b >> 4);
		o[n++] = (unsigned char)((b & 15) << 4 | c >> 2);
		o[n++] = (unsigned char)((c & 3) << 6 | d);
	}
	o[n] = '\0';
	*out = (char *)o;
	*outlen = n;
	return 0;
bad:
	free(o);
	return -ERR_MALFORMED;
}
