/* SPDX-License-Identifier: MIT */
/* Label selectors of job targets: whether a device's labels, as the JSON
 * object text a store keeps, satisfy every term of a selector. The terms
 * come from cmdbus_job_request_decode (rest.c). */
#include <errno.h>
#include <string.h>

#include "cmdbus/rest.h"
#include "json.h"

/* Whether the label value v[0..len) is one of the term's values. Label
 * values hold no NUL, but the stored text is not trusted to follow that
 * rule, so the length is compared as well as the bytes. */
static bool
term_has(const struct cmdbus_label_term *t, const char *v, size_t len)
{
	for (size_t i = 0; i < t->nvalues; i++)
		if (strlen(t->values[i]) == len &&
		    memcmp(t->values[i], v, len) == 0)
			return true;
	return false;
}

static int
term_check(const struct cmdbus_label_term *t)
{
	if (!t->key || (t->nvalues && !t->values))
		return -EINVAL;
	for (size_t i = 0; i < t->nvalues; i++)
		if (!t->values[i])
			return -EINVAL;
	switch (t->op) {
	case CMDBUS_LABEL_EQ:
		return t->nvalues == 1 ? 0 : -EINVAL;
	case CMDBUS_LABEL_IN:
	case CMDBUS_LABEL_NOTIN:
		return t->nvalues >= 1 ? 0 : -EINVAL;
	}
	return -EINVAL;
}

/* Whether one term holds for the labels object. */
static bool
term_holds(const struct cmdbus_label_term *t, const cJSON *labels)
{
	const cJSON *m = schema_json_get(labels, t->key);
	size_t len = 0;
	const char *v = m ? schema_json_str(m, &len) : NULL;

	/* NOTIN holds for a device without the label, as in Kubernetes
	 * selectors; EQ and IN need the label. */
	if (t->op == CMDBUS_LABEL_NOTIN)
		return !v || !term_has(t, v, len);
	return v && term_has(t, v, len);
}

int
cmdbus_selector_match(const struct cmdbus_label_term *terms, size_t n,
		      const char *labels_json, bool *match)
{
	struct json_err jerr;
	cJSON *root = NULL;
	bool all = true;
	int rc;

	if (!match)
		return -EINVAL;
	*match = false;
	if ((n && !terms) || !labels_json)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if ((rc = term_check(&terms[i])) < 0)
			return rc;
	rc = schema_json_parse(labels_json, strlen(labels_json), &root, &jerr);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		return -EINVAL;
	/* The whole object is checked, not only the members the terms name,
	 * so that a bad record is noticed whatever the selector. */
	rc = cJSON_IsObject(root) ? 0 : -EINVAL;
	for (const cJSON *c = root->child; rc == 0 && c; c = c->next)
		if (!cJSON_IsString(c))
			rc = -EINVAL;
	for (size_t i = 0; rc == 0 && all && i < n; i++)
		all = term_holds(&terms[i], root);
	cJSON_Delete(root);
	if (rc == 0)
		*match = all;
	return rc;
}
