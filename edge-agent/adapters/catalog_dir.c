/* SPDX-License-Identifier: MIT */
/* The catalog directory on disk: files read whole and bounded, handed to
 * the catalog parser, then the system facts the core must not look up
 * itself (environment values, user and group ids) filled in. */
#include "catalog_dir.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "file_read.h"

static int
want_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 &&
	       strcmp(d->d_name + n - 5, ".conf") == 0;
}

/* Fills env pairs from the agent's own environment (unset names are left
 * out) and the ids of user and group. */
static int
resolve(struct catalog_action *a, const char *path, char *err, size_t errlen)
{
	if (a->nenv_names) {
		a->env = calloc(a->nenv_names, sizeof(*a->env));
		if (!a->env)
			return -ENOMEM;
	}
	for (size_t i = 0; i < a->nenv_names; i++) {
		const char *v = getenv(a->env_names[i]);
		if (!v)
			continue;
		a->env[a->nenv].key = strdup(a->env_names[i]);
		a->env[a->nenv].value = strdup(v);
		a->nenv++;
		if (!a->env[a->nenv - 1].key || !a->env[a->nenv - 1].value)
			return -ENOMEM;
	}
	if (a->user) {
		struct passwd *pw;

		errno = 0;
		pw = getpwnam(a->user);
		if (!pw) {
			snprintf(err, errlen, "%s: user '%s' does not exist",
				 path, a->user);
			return -ERR_CONFIG;
		}
		a->uid = (unsigned)pw->pw_uid;
		a->gid = (unsigned)pw->pw_gid;
		a->run_as = true;
	}
	if (a->group) {
		struct group *gr;

		errno = 0;
		gr = getgrnam(a->group);
		if (!gr) {
			snprintf(err, errlen, "%s: group '%s' does not exist",
				 path, a->group);
			return -ERR_CONFIG;
		}
		a->gid = (unsigned)gr->gr_gid;
	}
	return 0;
}

void
catalog_dir_free(struct catalog_action **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		catalog_action_fini(v[i]);
		free(v[i]);
	}
	free(v);
}

int
catalog_dir_load(const char *dir, struct catalog_action ***out, size_t *n,
		 char *err, size_t errlen)
{
	struct dirent **names = NULL;
	struct catalog_action **v = NULL;
	size_t nv = 0;
	int count, rc = 0;

	*out = NULL;
	*n = 0;
	count = scandir(dir, &names, want_file, alphasort);
	if (count < 0) {
		rc = -errno;
		snprintf(err, errlen, "catalog_dir %s: %s", dir, strerror(-rc));
		return rc;
	}
	if (count > CATALOG_DIR_MAX_FILES) {
		snprintf(err, errlen, "catalog_dir %s: more than %d actions",
			 dir, CATALOG_DIR_MAX_FILES);
		rc = -ERR_CONFIG;
	}
	if (rc == 0 && count > 0 && !(v = calloc((size_t)count, sizeof(*v))))
		rc = -ENOMEM;
	for (int i = 0; i < count && rc == 0; i++) {
		char path[4096 + 256], name[256];
		size_t nlen = strlen(names[i]->d_name) - 5, len = 0;
		char *text = NULL;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		/* A name too long for an action is refused by the parser,
		 * never cut short into another valid name. */
		snprintf(name, sizeof(name), "%.*s", (int)nlen,
			 names[i]->d_name);
		rc = file_read_whole(path, CATALOG_FILE_MAX, true, &text, &len);
		if (rc) {
			snprintf(err, errlen, "%s: %s", path,
				 rc == -EINVAL ? "not a regular file"
					       : strerror(-rc));
			break;
		}
		v[nv] = calloc(1, sizeof(**v));
		if (!v[nv]) {
			free(text);
			rc = -ENOMEM;
			break;
		}
		rc = catalog_parse(name, path, text, len, v[nv], err, errlen);
		free(text);
		if (rc) {
			free(v[nv]);
			v[nv] = NULL;
			break;
		}
		nv++;
		rc = resolve(v[nv - 1], path, err, errlen);
	}
	for (int i = 0; i < count; i++)
		free(names[i]);
	free(names);
	if (rc) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "catalog_dir %s: out of memory",
				 dir);
		catalog_dir_free(v, nv);
		return rc;
	}
	*out = v;
	*n = nv;
	return 0;
}
