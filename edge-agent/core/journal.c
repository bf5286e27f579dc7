/* SPDX-License-Identifier: MIT */
/* The journal's records and index: each record is framed by its length
 * and a CRC-32C of its body, appended and synced before the agent acts,
 * read back at open up to the first record that does not check out, and
 * rewritten with the live records only when the file has grown. */
#include "journal_index.h"
#include "journal_rec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

/* ---- the in-memory file (io NULL) ---- */

static int
mem_load(void *ud, char **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	(void)ud;
	return 0;
}

static int
mem_append(void *ud, const void *p, size_t n)
{
	struct journal *j = ud;

	if (j->mem_len + n > j->mem_cap) {
		size_t cap = j->mem_cap ? j->mem_cap : 4096;
		char *m;
		while (cap < j->mem_len + n)
			cap *= 2;
		m = realloc(j->mem, cap);
		if (!m)
			return -ENOMEM;
		j->mem = m;
		j->mem_cap = cap;
	}
	memcpy(j->mem + j->mem_len, p, n);
	j->mem_len += n;
	return 0;
}

static int
mem_sync(void *ud)
{
	(void)ud;
	return 0;
}

static int
mem_truncate(void *ud, uint64_t size)
{
	struct journal *j = ud;

	if (size < j->mem_len)
		j->mem_len = (size_t)size;
	return 0;
}

static int
mem_read_at(void *ud, uint64_t off, void *p, size_t n)
{
	struct journal *j = ud;

	if (off + n > j->mem_len)
		return -EIO;
	memcpy(p, j->mem + off, n);
	return 0;
}

static int
mem_replace(void *ud, const void *p, size_t n)
{
	struct journal *j = ud;
	char *m = malloc(n ? n : 1);

	if (!m)
		return -ENOMEM;
	memcpy(m, p, n);
	free(j->mem);
	j->mem = m;
	j->mem_len = j->mem_cap = n;
	return 0;
}

/* Applies a record, found at file offset `at`, to the index. */
static int
rec_apply(struct journal *j, const struct rec *r, uint64_t at, bool old)
{
	struct journal_entry *e = index_get(j, r->id);

	if (!e)
		return -ENOMEM;
	e->old = old;
	e->state = r->type;
	if (r->keep_until > e->keep_until || r->type == JREC_RECEIVED)
		e->keep_until = r->keep_until;
	switch (r->type) {
	case JREC_RECEIVED:
		e->idempotent = r->idempotent;
		e->exp = r->exp;
		snprintf(e->sha, sizeof(e->sha), "%s", r->sha);
		e->cmd_off = at + r->blob_at;
		e->cmd_len = r->blob_len;
		e->pid = 0;
		e->pid_start = 0;
		break;
	case JREC_STARTED:
		e->pid = (long)r->pid;
		e->pid_start = r->pid_start;
		break;
	case JREC_FINISHED:
		e->msg_off = at + r->blob_at;
		e->msg_len = r->blob_len;
		index_set_pending(j, e, NULL, 0);
		break;
	case JREC_TOMBSTONE:
		break;
	}
	/* Not forgettable before its keep_until: the sweep is due then. */
	if ((r->type == JREC_FINISHED || r->type == JREC_TOMBSTONE) &&
	    e->keep_until < j->forget_at)
		j->forget_at = e->keep_until;
	return 0;
}

/* Appends and syncs one record; a failure leaves the file to be cut back
 * to its last good size before the next write, so a torn record never
 * sits in front of good ones. */
static int
journal_write(struct journal *j, const unsigned char *b, size_t n)
{
	int rc;

	if (j->broken) {
		rc = j->io.truncate(j->io.ud, j->size);
		if (rc)
			goto fail;
		j->broken = false;
	}
	rc = j->io.append(j->io.ud, b, n);
	if (rc == 0)
		rc = j->io.sync(j->io.ud);
	if (rc == 0) {
		j->size += n;
		return 0;
	}
	j->broken = true;
fail:
	j->stats.write_failed++;
	log_error("journal.write_failed", "bytes=%zu error=\"%s\"", n,
		  err_str(rc));
	return rc;
}

/* Appends records r[0..n) (at most two) in one write and one sync, then
 * applies them to the index. */
static int
write_recs(struct journal *j, const struct rec *r, size_t n)
{
	unsigned char *b[2] = {NULL, NULL}, *all = NULL;
	size_t len[2] = {0, 0}, at[2] = {0, 0}, total = 0;
	uint64_t base = j->size;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = rec_encode(&r[i], &b[i], &len[i], &at[i]);
		total += len[i];
	}
	/* Room in the index first: once the records are durable, applying
	 * them must not fail. */
	if (rc == 0 && !journal_find(j, r[0].id))
		rc = index_reserve(j);
	if (rc == 0 && n > 1) {
		all = malloc(total);
		if (!all)
			rc = -ENOMEM;
		else {
			memcpy(all, b[0], len[0]);
			memcpy(all + len[0], b[1], len[1]);
		}
	}
	if (rc == 0)
		rc = journal_write(j, n > 1 ? all : b[0], total);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct rec applied = r[i];
		applied.blob_at = at[i];
		rc = rec_apply(j, &applied, base, false);
		base += len[i];
	}
	free(all);
	free(b[0]);
	free(b[1]);
	return rc;
}

static int
write_rec(struct journal *j, const struct rec *r)
{
	return write_recs(j, r, 1);
}

int
journal_received(struct journal *j, const char *id, const char *sha,
		 uint64_t exp, uint64_t keep_until, bool idempotent,
		 const char *cmd, size_t cmd_len)
{
	struct rec r;

	memset(&r, 0, sizeof(r));
	r.type = JREC_RECEIVED;
	snprintf(r.id, sizeof(r.id), "%s", id);
	snprintf(r.sha, sizeof(r.sha), "%s", sha);
	r.exp = exp;
	r.keep_until = keep_until;
	r.idempotent = idempotent;
	r.blob = cmd;
	r.blob_len = (uint32_t)cmd_len;
	return write_rec(j, &r);
}

int
journal_ran(struct journal *j, const char *id, const char *sha, uint64_t exp,
	    uint64_t keep_until, bool idempotent, const char *cmd,
	    size_t cmd_len, const char *msg, size_t msg_len)
{
	struct rec r[2];

	memset(r, 0, sizeof(r));
	r[0].type = JREC_RECEIVED;
	snprintf(r[0].id, sizeof(r[0].id), "%s", id);
	snprintf(r[0].sha, sizeof(r[0].sha), "%s", sha);
	r[0].exp = exp;
	r[0].keep_until = keep_until;
	r[0].idempotent = idempotent;
	r[0].blob = cmd;
	r[0].blob_len = (uint32_t)cmd_len;
	r[1].type = JREC_FINISHED;
	snprintf(r[1].id, sizeof(r[1].id), "%s", id);
	r[1].keep_until = keep_until;
	r[1].blob = msg;
	r[1].blob_len = (uint32_t)msg_len;
	return write_recs(j, r, 2);
}

int
journal_started(struct journal *j, const char *id, long pid, uint64_t pid_start)
{
	struct journal_entry *e = journal_find(j, id);
	struct rec r;

	if (!e)
		return -ENOENT;
	memset(&r, 0, sizeof(r));
	r.type = JREC_STARTED;
	snprintf(r.id, sizeof(r.id), "%s", id);
	r.keep_until = e->keep_until;
	r.idempotent = e->idempotent;
	r.pid = (uint64_t)pid;
	r.pid_start = pid_start;
	return write_rec(j, &r);
}

int
journal_tombstone(struct journal *j, const char *id, uint64_t keep_until)
{
	struct rec r;

	memset(&r, 0, sizeof(r));
	r.type = JREC_TOMBSTONE;
	snprintf(r.id, sizeof(r.id), "%s", id);
	r.keep_until = keep_until;
	return write_rec(j, &r);
}

int
journal_finished(struct journal *j, const char *id, uint64_t keep_until,
		 const char *msg, size_t len)
{
	struct journal_entry *e;
	struct rec r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.type = JREC_FINISHED;
	snprintf(r.id, sizeof(r.id), "%s", id);
	r.keep_until = keep_until;
	r.blob = msg;
	r.blob_len = (uint32_t)len;
	rc = write_rec(j, &r);
	if (rc == 0)
		return 0;
	/* Not durable, so not published: kept to be written again. */
	e = journal_find(j, id);
	if (e && e->state != JREC_FINISHED) {
		char *copy = malloc(len ? len : 1);
		if (copy) {
			memcpy(copy, msg, len);
			index_set_pending(j, e, copy, len);
			if (keep_until > e->keep_until)
				e->keep_until = keep_until;
		}
	}
	return rc;
}

void
journal_retry(struct journal *j,
	      void (*done)(void *ud, const char *id, const char *msg,
			   size_t len),
	      void *ud)
{
	for (size_t i = 0; i < j->n && j->npending; i++) {
		struct journal_entry *e = &j->v[i];
		char id[CMDBUS_ID_BUF], *msg;
		size_t len;

		if (!e->pending)
			continue;
		msg = e->pending;
		len = e->pending_len;
		e->pending = NULL;
		j->npending--;
		snprintf(id, sizeof(id), "%s", e->id);
		if (journal_finished(j, id, e->keep_until, msg, len) != 0) {
			e = journal_find(j, id);
			if (e && !e->pending)
				index_set_pending(j, e, msg, len);
			else
				free(msg);
			return; /* the file still fails: try later */
		}
		if (done)
			done(ud, id, msg, len);
		free(msg);
	}
}

static int
read_blob(struct journal *j, uint64_t off, uint32_t n, char **out, size_t *len)
{
	char *b = malloc((size_t)n + 1);
	int rc;

	if (!b)
		return -ENOMEM;
	rc = n ? j->io.read_at(j->io.ud, off, b, n) : 0;
	if (rc) {
		free(b);
		return rc;
	}
	b[n] = '\0';
	*out = b;
	*len = n;
	return 0;
}

int
journal_read_msg(struct journal *j, const struct journal_entry *e, char **out,
		 size_t *len)
{
	if (e->state != JREC_FINISHED)
		return -ENOENT;
	return read_blob(j, e->msg_off, e->msg_len, out, len);
}

int
journal_read_cmd(struct journal *j, const struct journal_entry *e, char **out,
		 size_t *len)
{
	if (e->cmd_len == 0)
		return -ENOENT;
	return read_blob(j, e->cmd_off, e->cmd_len, out, len);
}

/* ---- open ---- */

static bool
all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Reads records from buf; returns the length of the good prefix and
 * whether what follows it is a torn tail (else: corruption). */
static size_t
scan(struct journal *j, const char *buf, size_t len, bool *torn, int *err)
{
	size_t off = JOURNAL_MAGIC_LEN;

	*torn = true;
	*err = 0;
	while (off < len) {
		const unsigned char *h = (const unsigned char *)buf + off;
		size_t left = len - off;
		uint32_t blen, crc;
		struct rec r;

		if (left < JOURNAL_HDR)
			return off;
		blen = get32(h);
		crc = get32(h + 4);
		if (blen == 0 || blen > JOURNAL_BODY_MAX) {
			/* Zeros where a header should be: the file grew but
			 * its last pages never reached the disk. */
			*torn = all_zero(buf + off, left);
			return off;
		}
		if (left - JOURNAL_HDR < blen)
			return off;
		if (journal_crc32c(h + JOURNAL_HDR, blen) != crc ||
		    rec_decode(h + JOURNAL_HDR, blen, &r) != 0) {
			/* The last record, followed by nothing or by the
			 * zeros the file was grown with. */
			*torn = all_zero((const char *)h + JOURNAL_HDR + blen,
					 left - JOURNAL_HDR - blen);
			return off;
		}
		*err = rec_apply(j, &r, off, true);
		if (*err)
			return off;
		j->stats.loaded++;
		off += JOURNAL_HDR + blen;
	}
	return off;
}

int
journal_open(struct journal *j, const struct journal_io *io,
	     uint64_t compact_at)
{
	char *buf = NULL;
	size_t len = 0, good, end;
	bool torn, room;
	int rc, err;

	memset(j, 0, sizeof(*j));
	j->forget_at = UINT64_MAX;
	j->compact_at = compact_at ? compact_at : 1024 * 1024;
	j->next_compact = j->compact_at;
	if (io) {
		j->io = *io;
	} else {
		j->in_memory = true;
		j->io.load = mem_load;
		j->io.append = mem_append;
		j->io.sync = mem_sync;
		j->io.truncate = mem_truncate;
		j->io.read_at = mem_read_at;
		j->io.replace = mem_replace;
		j->io.ud = j;
	}
	rc = j->io.load(j->io.ud, &buf, &len);
	if (rc)
		return rc;
	if (len < JOURNAL_MAGIC_LEN || all_zero(buf, len)) {
		/* Empty, or torn while it was being created (its size, or
		 * the zeros it was grown with, made durable before its
		 * magic). */
		if (len && !all_zero(buf, len) &&
		    memcmp(buf, JOURNAL_MAGIC, len) != 0) {
			free(buf);
			return -ERR_MALFORMED;
		}
		free(buf);
		if (len)
			rc = j->io.truncate(j->io.ud, 0);
		if (rc == 0)
			rc = journal_write(j,
					   (const unsigned char *)JOURNAL_MAGIC,
					   JOURNAL_MAGIC_LEN);
		return rc;
	}
	if (memcmp(buf, JOURNAL_MAGIC, JOURNAL_MAGIC_LEN) != 0) {
		free(buf);
		return -ERR_MALFORMED;
	}
	good = scan(j, buf, len, &torn, &err);
	/* Zeros the file was grown with are room for records, not loss:
	 * only what comes before them was cut. */
	end = len;
	if (j->io.zero_tail)
		while (end > good && buf[end - 1] == 0)
			end--;
	room = end == good;
	free(buf);
	if (err) {
		journal_close(j);
		return err;
	}
	j->size = good;
	if (good < len) {
		if (room) {
			/* Cut like a torn tail: the file grows again. */
		} else if (torn) {
			j->stats.dropped_tail = end - good;
			log_warn("journal.torn_tail",
				 "offset=%zu dropped_bytes=%zu", good,
				 end - good);
		} else {
			/* Records after a bad one cannot even be framed:
			 * what came before is kept, the rest is cut so the
			 * file can be appended to again. */
			j->stats.corrupt = end - good;
			log_error("journal.corrupt",
				  "offset=%zu dropped_bytes=%zu "
				  "reason=\"a record in the middle fails its "
				  "checksum; later records are lost\"",
				  good, end - good);
		}
		rc = j->io.truncate(j->io.ud, good);
		if (rc) {
			journal_close(j);
			return rc;
		}
	}
	return 0;
}

void
journal_close(struct journal *j)
{
	for (size_t i = 0; i < j->n; i++)
		free(j->v[i].pending);
	free(j->v);
	free(j->slot);
	free(j->mem);
	j->v = NULL;
	j->slot = NULL;
	j->mem = NULL;
	j->n = j->cap = j->hcap = j->npending = 0;
}

/* ---- maintenance ---- */

static bool
forgettable(const struct journal_entry *e, uint64_t now)
{
	return (e->state == JREC_FINISHED || e->state == JREC_TOMBSTONE) &&
	       !e->pending && e->keep_until < now;
}

/* Appends the live records of e to the image; the new offsets go to
 * *cmd_off and *msg_off. */
static int
image_add(struct journal *j, const struct journal_entry *e, unsigned char **img,
	  size_t *len, size_t *cap, uint64_t *cmd_off, uint64_t *msg_off)
{
	struct rec r;
	char *blob = NULL;
	size_t blen = 0;
	int rc = 0;

	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		unsigned char *b = NULL;
		size_t n = 0, at = 0;

		memset(&r, 0, sizeof(r));
		snprintf(r.id, sizeof(r.id), "%s", e->id);
		r.keep_until = e->keep_until;
		r.idempotent = e->idempotent;
		if (pass == 0 &&
		    (e->state == JREC_RECEIVED || e->state == JREC_STARTED)) {
			r.type = JREC_RECEIVED;
			r.exp = e->exp;
			snprintf(r.sha, sizeof(r.sha), "%s", e->sha);
			if (e->cmd_len)
				rc = journal_read_cmd(j, e, &blob, &blen);
		} else if (pass == 1 && e->state == JREC_STARTED) {
			r.type = JREC_STARTED;
			r.pid = (uint64_t)e->pid;
			r.pid_start = e->pid_start;
		} else if (pass == 0 && e->state == JREC_FINISHED) {
			r.type = JREC_FINISHED;
			rc = journal_read_msg(j, e, &blob, &blen);
		} else if (pass == 0 && e->state == JREC_TOMBSTONE) {
			r.type = JREC_TOMBSTONE;
		} else {
			continue;
		}
		r.blob = blob;
		r.blob_len = (uint32_t)blen;
		if (rc == 0)
			rc = rec_encode(&r, &b, &n, &at);
		if (rc == 0 && *len + n > *cap) {
			size_t nc = *cap * 2 + n;
			unsigned char *ni = realloc(*img, nc);
			if (!ni)
				rc = -ENOMEM;
			else {
				*img = ni;
				*cap = nc;
			}
		}
		if (rc == 0) {
			memcpy(*img + *len, b, n);
			if (r.type == JREC_RECEIVED)
				*cmd_off = *len + at;
			else if (r.type == JREC_FINISHED)
				*msg_off = *len + at;
			*len += n;
		}
		free(b);
		free(blob);
		blob = NULL;
		blen = 0;
	}
	return rc;
}

int
journal_maintain(struct journal *j, uint64_t now)
{
	unsigned char *img;
	uint64_t *offs;
	size_t len = JOURNAL_MAGIC_LEN, cap = 4096, k = 0;
	bool compact = j->size >= j->next_compact || j->broken;
	int rc = 0;

	/* The sweep visits every entry: it runs only once one is due, and
	 * then at most once per JOURNAL_SWEEP_MS (ids may be remembered a
	 * little longer than promised, never less), unless compaction needs
	 * the live set now. */
	if (compact || (now > j->forget_at && now >= j->next_sweep)) {
		j->forget_at = UINT64_MAX;
		for (size_t i = 0; i < j->n; i++) {
			struct journal_entry *e = &j->v[i];
			if (forgettable(e, now))
				continue;
			if ((e->state == JREC_FINISHED ||
			     e->state == JREC_TOMBSTONE) &&
			    e->keep_until < j->forget_at)
				j->forget_at = e->keep_until;
			if (k != i)
				j->v[k] = *e;
			k++;
		}
		j->next_sweep = now + JOURNAL_SWEEP_MS;
		if (k != j->n) {
			size_t vcap = j->cap;
			j->n = k;
			/* Memory goes back once the ids are forgotten. */
			while (vcap > 64 && j->n < vcap / 4)
				vcap /= 2;
			if (vcap == j->cap || index_resize(j, vcap) != 0)
				index_rehash(j, j->hcap);
		}
	}
	if (!compact)
		return 0;
	img = malloc(cap);
	offs = calloc(j->n * 2 + 1, sizeof(*offs));
	if (!img || !offs) {
		free(img);
		free(offs);
		return -ENOMEM;
	}
	memcpy(img, JOURNAL_MAGIC, JOURNAL_MAGIC_LEN);
	for (size_t i = 0; i < j->n && rc == 0; i++)
		rc = image_add(j, &j->v[i], &img, &len, &cap, &offs[2 * i],
			       &offs[2 * i + 1]);
	/* Worth it only when at least half the file is dead (or the file
	 * needs repair after a failed write). */
	if (rc == 0 && (j->broken || len * 2 <= j->size))
		rc = j->io.replace(j->io.ud, img, len);
	else if (rc == 0)
		rc = 1;
	/* Not tried again before the file could be half dead. */
	if (rc >= 0)
		j->next_compact =
		    len * 2 > j->compact_at ? len * 2 : j->compact_at;
	if (rc == 0) {
		for (size_t i = 0; i < j->n; i++) {
			j->v[i].cmd_off = offs[2 * i];
			j->v[i].msg_off = offs[2 * i + 1];
		}
		log_info("journal.compacted",
			 "bytes_before=%llu bytes_after=%zu "
			 "entries=%zu",
			 (unsigned long long)j->size, len, j->n);
		j->size = len;
		j->broken = false;
		j->stats.compactions++;
	}
	free(img);
	free(offs);
	return rc > 0 ? 0 : rc;
}
