/* SPDX-License-Identifier: MIT */
/* Reading the dispatcher's keys: sign_key_file (under sign_kid) and each
 * sign_key KID=/path, of which the one sign_kid names (else the first)
 * signs; and device_keys_dir, whose DEVICE.pem is that device's public
 * key under the key id DEVICE and DEVICE@KID.pem one more under KID. */
#include "keys.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/proto.h"
#include "common/err.h"

static int
load_pem(const char *path, const char *kid, bool want_private,
	 struct cmdbus_key **out, char *err, size_t errlen)
{
	char *pem = NULL;
	size_t len = 0;
	int rc = config_read_file(path, &pem, &len, err, errlen);

	if (rc < 0)
		return rc;
	rc = cmdbus_key_from_pem(pem, len, kid, out);
	explicit_bzero(pem, len);
	free(pem);
	if (rc == 0 && want_private && !cmdbus_key_is_private(*out)) {
		cmdbus_key_free(*out);
		*out = NULL;
		rc = -ERR_CRYPTO;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: not an Ed25519 %s key in PEM", path,
			 want_private ? "private" : "");
		return rc == -ENOMEM ? rc : -ERR_CONFIG;
	}
	return 0;
}

static int
add_signer(struct keys *k, struct cmdbus_key *key)
{
	struct cmdbus_key **v =
	    realloc(k->signers, (k->nsigners + 1) * sizeof(*v));

	if (!v) {
		cmdbus_key_free(key);
		return -ENOMEM;
	}
	k->signers = v;
	k->signers[k->nsigners++] = key;
	return 0;
}

static int
load_signers(const struct config *cfg, struct keys *k, char *err, size_t errlen)
{
	struct cmdbus_key *key;
	int rc;

	if (cfg->sign_key_file) {
		rc = load_pem(cfg->sign_key_file, cfg->sign_kid, true, &key,
			      err, errlen);
		if (rc < 0 || (rc = add_signer(k, key)) < 0)
			return rc;
	}
	for (size_t i = 0; i < cfg->sign_key.n; i++) {
		const char *kv = cfg->sign_key.v[i];
		const char *eq = strchr(kv, '=');
		char kid[CMDBUS_KID_MAX + 1];
		size_t n = eq ? (size_t)(eq - kv) : 0;

		if (!eq || n == 0 || n >= sizeof(kid)) {
			snprintf(err, errlen, "sign_key '%s' is not KID=PATH",
				 kv);
			return -ERR_CONFIG;
		}
		memcpy(kid, kv, n);
		kid[n] = '\0';
		for (size_t j = 0; j < k->nsigners; j++) {
			if (strcmp(cmdbus_key_kid(k->signers[j]), kid) == 0) {
				snprintf(err, errlen,
					 "sign_key: key id '%s' given twice",
					 kid);
				return -ERR_CONFIG;
			}
		}
		rc = load_pem(eq + 1, kid, true, &key, err, errlen);
		if (rc < 0 || (rc = add_signer(k, key)) < 0)
			return rc;
	}
	if (k->nsigners == 0)
		return 0;
	k->active = k->signers[0];
	if (cfg->sign_kid) {
		k->active = NULL;
		for (size_t j = 0; j < k->nsigners && !k->active; j++)
			if (strcmp(cmdbus_key_kid(k->signers[j]),
				   cfg->sign_kid) == 0)
				k->active = k->signers[j];
		if (!k->active) {
			snprintf(err, errlen,
				 "sign_kid '%s' names no signing key",
				 cfg->sign_kid);
			return -ERR_CONFIG;
		}
	}
	return 0;
}

/* One file of device_keys_dir: DEVICE.pem or DEVICE@KID.pem; anything
 * else (not ending in .pem, hidden) is not a key and is skipped. */
static int
load_device_file(struct keys *k, const char *dir, const char *name, char *err,
		 size_t errlen)
{
	char base[CMDBUS_NAME_BUF + CMDBUS_KID_MAX + 8], path[4400];
	size_t len = strlen(name);
	struct cmdbus_key *key = NULL;
	const char *kid;
	char *at;
	int rc;

	if (name[0] == '.' || len <= 4 || strcmp(name + len - 4, ".pem") != 0)
		return 0;
	if (len - 4 >= sizeof(base)) {
		snprintf(err, errlen, "%s/%s: name too long", dir, name);
		return -ERR_CONFIG;
	}
	memcpy(base, name, len - 4);
	base[len - 4] = '\0';
	at = strchr(base, '@');
	if (at)
		*at = '\0';
	kid = at ? at + 1 : base;
	if (!cmdbus_valid_device_id(base)) {
		snprintf(err, errlen,
			 "%s/%s: not DEVICE.pem or DEVICE@KID.pem with a "
			 "valid device id",
			 dir, name);
		return -ERR_CONFIG;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -ERR_CONFIG;
	}
	rc = load_pem(path, kid, false, &key, err, errlen);
	if (rc < 0)
		return rc;
	rc = devkeys_add(k->devices, base, key);
	if (rc < 0) {
		cmdbus_key_free(key);
		snprintf(err, errlen, "%s: %s", path,
			 rc == -ENOMEM ? "out of memory"
				       : "too many keys for one device");
		return rc == -ENOMEM ? rc : -ERR_CONFIG;
	}
	return 0;
}

static int
load_devices(const char *dir, struct keys *k, char *err, size_t errlen)
{
	struct dirent *de;
	DIR *d;
	int rc;

	if ((rc = devkeys_new(&k->devices)) < 0)
		return rc;
	d = opendir(dir);
	if (!d) {
		rc = -errno;
		snprintf(err, errlen, "device_keys_dir %s: %s", dir,
			 strerror(errno));
		return rc;
	}
	rc = 0;
	while (rc == 0 && (de = readdir(d)) != NULL)
		rc = load_device_file(k, dir, de->d_name, err, errlen);
	closedir(d);
	return rc;
}

int
keys_load(const struct config *cfg, struct keys *k, char *err, size_t errlen)
{
	int rc;

	memset(k, 0, sizeof(*k));
	rc = load_signers(cfg, k, err, errlen);
	if (rc == 0 && cfg->device_keys_dir)
		rc = load_devices(cfg->device_keys_dir, k, err, errlen);
	if (rc < 0)
		keys_fini(k);
	return rc;
}

void
keys_fini(struct keys *k)
{
	for (size_t i = 0; i < k->nsigners; i++)
		cmdbus_key_free(k->signers[i]);
	free(k->signers);
	devkeys_free(k->devices);
	memset(k, 0, sizeof(*k));
}
