/* SPDX-License-Identifier: MIT */
/* The audit trail of the REST API: who (the token's name) created or
 * canceled which job or execution, or called which action, on what
 * target. Each record is one JSON line appended to the audit file and
 * flushed to disk before the request is answered, and also an audit.*
 * log event at info level. */
#include "http_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "cmdbus/jsonv.h"

int
http_audit_open(struct http *h, const char *path, char *err, size_t errlen)
{
	h->audit_fd = -1;
	if (!path)
		return 0;
	/* O_APPEND: every line lands at the end whatever else writes the
	 * file (a second dispatcher by mistake, logrotate's copytruncate). */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		int rc = -errno;
		snprintf(err, errlen, "audit_log %s: %s", path, err_str(rc));
		return rc;
	}
	h->audit_fd = fd;
	return 0;
}

void
http_audit_close(struct http *h)
{
	if (h->audit_fd >= 0)
		close(h->audit_fd);
	h->audit_fd = -1;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
audit_write(struct http *h, struct request *rq, const struct audit_rec *a,
	    uint64_t now)
{
	struct cmdbus_jsonw *w = cmdbus_jsonw_new();
	char *line = NULL;
	size_t len = 0;
	int rc;

	if (!w)
		return -ENOMEM;
	cmdbus_jsonw_obj_begin(w, NULL);
	cmdbus_jsonw_u64(w, "ts", now);
	cmdbus_jsonw_str(w, "event", a->event);
	cmdbus_jsonw_str(w, "who", rq->who);
	cmdbus_jsonw_str(w, "role", http_role_name(rq->role));
	cmdbus_jsonw_str(w, "method", rq->route ? rq->route->method : "-");
	cmdbus_jsonw_str(w, "route", rq->route ? rq->route->name : "-");
	cmdbus_jsonw_u64(w, "status", a->status);
	if (a->job)
		cmdbus_jsonw_str(w, "job", a->job);
	if (a->exec)
		cmdbus_jsonw_str(w, "execution", a->exec);
	if (a->action)
		cmdbus_jsonw_str(w, "action", a->action);
	if (a->target)
		cmdbus_jsonw_str(w, "target", a->target);
	cmdbus_jsonw_u64(w, "devices", a->ndevices);
	if (a->device)
		cmdbus_jsonw_str(w, "device", a->device);
	cmdbus_jsonw_obj_end(w);
	rc = cmdbus_jsonw_finish(w, &line, &len);
	cmdbus_jsonw_free(w);
	if (rc < 0)
		return rc;
	char *nl = realloc(line, len + 1);
	if (!nl) {
		free(line);
		return -ENOMEM;
	}
	nl[len] = '\n';
	/* One write per line: with O_APPEND lines never interleave. */
	rc = write_all(h->audit_fd, nl, len + 1);
	free(nl);
	if (rc == 0 && fdatasync(h->audit_fd) < 0)
		rc = -errno;
	return rc;
}

void
http_audit(struct http *h, struct request *rq, const struct audit_rec *a)
{
	uint64_t now = clock_now_ms(h->core->clock);

	log_info("audit.request",
		 "event=%s who=%s role=%s method=%s route=%s status=%u "
		 "job=%s exec=%s action=%s target=%s devices=%zu device=%s",
		 a->event, rq->who, http_role_name(rq->role),
		 rq->route ? rq->route->method : "-",
		 rq->route ? rq->route->name : "-", a->status,
		 a->job ? a->job : "-", a->exec ? a->exec : "-",
		 a->action ? a->action : "-", a->target ? a->target : "-",
		 a->ndevices, a->device ? a->device : "-");
	if (h->audit_fd < 0)
		return;
	int rc = audit_write(h, rq, a, now);
	if (rc < 0)
		log_error("audit.write_failed", "event=%s job=%s rc=%s",
			  a->event, a->job ? a->job : "-", err_str(rc));
}
