/* SPDX-License-Identifier: MIT */
/* Journal records as bytes: a u32 body length and a u32 CRC-32C of the
 * body, little-endian, then the body: type, flags, id, keep-until time
 * and the type's own fields. */
#include "journal_rec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/* ---- CRC-32C ---- */

uint32_t
journal_crc32c(const void *p, size_t n)
{
	static uint32_t table[256];
	static bool ready;
	const unsigned char *b = p;
	uint32_t crc = 0xffffffffu;

	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
			table[i] = c;
		}
		ready = true;
	}
	for (size_t i = 0; i < n; i++)
		crc = table[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

/* ---- little-endian fields ---- */

static void
put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

uint32_t
get32(const unsigned char *p)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int
rec_encode(const struct rec *r, unsigned char **out, size_t *outlen,
	   size_t *blob_at)
{
	size_t idlen = strlen(r->id);
	size_t body = 3 + idlen + 8, n, at;
	unsigned char *b, *p;

	/* Only ids the contract allows: what is written must read back
	 * (see rec_decode()). */
	if (idlen == 0 || idlen > CMDBUS_ID_MAX || !cmdbus_valid_id(r->id))
		return -EINVAL;
	if (r->type == JREC_RECEIVED)
		body += 8 + CMDBUS_SHA256_HEX + 4 + r->blob_len;
	else if (r->type == JREC_STARTED)
		body += 16;
	else if (r->type == JREC_FINISHED)
		body += 4 + r->blob_len;
	if (body > JOURNAL_BODY_MAX)
		return -ERR_TOO_LARGE;
	n = JOURNAL_HDR + body;
	b = malloc(n);
	if (!b)
		return -ENOMEM;
	p = b + JOURNAL_HDR;
	*p++ = (unsigned char)r->type;
	*p++ = r->idempotent ? FLAG_IDEMPOTENT : 0;
	*p++ = (unsigned char)idlen;
	memcpy(p, r->id, idlen);
	p += idlen;
	put64(p, r->keep_until);
	p += 8;
	at = 0;
	if (r->type == JREC_RECEIVED) {
		put64(p, r->exp);
		p += 8;
		memset(p, '0', CMDBUS_SHA256_HEX);
		memcpy(p, r->sha, strnlen(r->sha, CMDBUS_SHA256_HEX));
		p += CMDBUS_SHA256_HEX;
	}
	if (r->type == JREC_RECEIVED || r->type == JREC_FINISHED) {
		put32(p, r->blob_len);
		p += 4;
		at = (size_t)(p - b);
		if (r->blob_len)
			memcpy(p, r->blob, r->blob_len);
		p += r->blob_len;
	} else if (r->type == JREC_STARTED) {
		put64(p, r->pid);
		put64(p + 8, r->pid_start);
		p += 16;
	}
	put32(b, (uint32_t)body);
	put32(b + 4, journal_crc32c(b + JOURNAL_HDR, body));
	*out = b;
	*outlen = n;
	if (blob_at)
		*blob_at = at;
	return 0;
}

int
rec_decode(const unsigned char *b, size_t n, struct rec *r)
{
	const unsigned char *p = b, *end = b + n;
	size_t idlen;

	memset(r, 0, sizeof(*r));
	if (n < 3)
		return -ERR_MALFORMED;
	r->type = (enum journal_rec)p[0];
	r->idempotent = (p[1] & FLAG_IDEMPOTENT) != 0;
	idlen = p[2];
	p += 3;
	if (r->type < JREC_RECEIVED || r->type > JREC_TOMBSTONE || idlen == 0 ||
	    idlen > CMDBUS_ID_MAX || (size_t)(end - p) < idlen + 8)
		return -ERR_MALFORMED;
	memcpy(r->id, p, idlen);
	r->id[idlen] = '\0';
	/* A NUL or a stray byte inside a CRC-valid id would index an id
	 * that is not the one on disk, and one that compaction can never
	 * write again (so the file could never shrink). */
	if (!cmdbus_valid_id(r->id))
		return -ERR_MALFORMED;
	p += idlen;
	r->keep_until = get64(p);
	p += 8;
	if (r->type == JREC_RECEIVED) {
		if ((size_t)(end - p) < 8 + CMDBUS_SHA256_HEX)
			return -ERR_MALFORMED;
		r->exp = get64(p);
		p += 8;
		memcpy(r->sha, p, CMDBUS_SHA256_HEX);
		r->sha[CMDBUS_SHA256_HEX] = '\0';
		p += CMDBUS_SHA256_HEX;
	}
	if (r->type == JREC_RECEIVED || r->type == JREC_FINISHED) {
		if ((size_t)(end - p) < 4)
			return -ERR_MALFORMED;
		r->blob_len = get32(p);
		p += 4;
		if ((size_t)(end - p) != r->blob_len)
			return -ERR_MALFORMED;
		r->blob = (const char *)p;
		r->blob_at = JOURNAL_HDR + (size_t)(p - b);
		p += r->blob_len;
	} else if (r->type == JREC_STARTED) {
		if ((size_t)(end - p) < 16)
			return -ERR_MALFORMED;
		r->pid = get64(p);
		r->pid_start = get64(p + 8);
		p += 16;
	}
	return p == end ? 0 : -ERR_MALFORMED;
}
