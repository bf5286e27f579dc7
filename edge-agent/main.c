/* SPDX-License-Identifier: MIT */
/* cmdbus-agent: the edge agent program. Wiring only: flags and config
 * file into the library's configuration, logging, SIGTERM/SIGINT to an
 * orderly stop, SIGHUP to a reload, dropping root, and the library's
 * run. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdbus/agent.h"
#include "common/conf.h"
#include "common/err.h"
#include "common/log.h"

#include "adapters/privdrop.h"
#include "config.h"

static struct cmdbus_agent *g_agent;
static const char *g_conf_path;

static void
on_signal(int signo)
{
	if (signo == SIGHUP)
		cmdbus_agent_reload(g_agent);
	else
		cmdbus_agent_stop(g_agent);
}

/* On the agent's loop at SIGHUP: the log level is read again from the
 * file (flags given at start are not re-applied); anything else in the
 * file needs a restart. A file that no longer loads changes nothing. */
static void
on_reload(void *ud)
{
	struct agent_conf fresh;
	char err[512];

	if (!g_conf_path)
		return;
	memset(&fresh, 0, sizeof(fresh));
	if (conf_defaults(agent_conf_options, &fresh, err, sizeof(err)) == 0 &&
	    conf_load_file(agent_conf_options, &fresh, g_conf_path, err,
			   sizeof(err)) == 0) {
		log_set_level((enum log_level)fresh.log_level);
		log_info("agent.reload", "config=%s log_level=%d", g_conf_path,
			 fresh.log_level);
	} else {
		log_error("agent.reload_failed",
			  "config=%s reason=\"%s\" log_level=kept", g_conf_path,
			  err);
	}
	conf_free(agent_conf_options, &fresh);
}

/* Root is left for `user` when one is set. Staying root with exec or
 * shell enabled (which run anything) is allowed, as a device may need it,
 * but said loudly: catalog actions, fixed argv templates that may name
 * their own user, are the way to run privileged work. */
static int
drop_privileges(const struct agent_conf *conf)
{
	char err[256];

	if (conf->user) {
		if (privdrop(conf->user, conf->group, err, sizeof(err)) != 0) {
			log_error("agent.privdrop_failed",
				  "user=%s reason=\"%s\"", conf->user, err);
			return -1;
		}
		log_info("agent.privdrop", "user=%s uid=%u gid=%u", conf->user,
			 (unsigned)getuid(), (unsigned)getgid());
		return 0;
	}
	if (geteuid() == 0 && (conf->exec_enabled || conf->shell_enabled))
		log_warn("agent.root",
			 "reason=\"exec or shell enabled while running as "
			 "root: any caller may run anything as root; set "
			 "user to drop privileges\"");
	return 0;
}

static const char *
type_hint(enum conf_type t)
{
	switch (t) {
	case CONF_U64:
		return "N";
	case CONF_BOOL:
		return "BOOL";
	case CONF_DURATION:
		return "DURATION";
	case CONF_SIZE:
		return "SIZE";
	case CONF_ENUM:
		return "CHOICE";
	default:
		return "VALUE";
	}
}

static void
usage(FILE *f)
{
	fprintf(
	    f, "usage: cmdbus-agent [-c FILE] [--check | -t] [--KEY VALUE]...\n"
	       "\n"
	       "The cmdbus edge agent: takes commands for this device over "
	       "MQTT, checks\nthem, runs them and publishes their results.\n"
	       "\n"
	       "  -c FILE          read options from FILE (key value lines)\n"
	       "  --check, -t      validate the configuration and exit\n"
	       "  --help           show this help\n"
	       "  --version        show the version\n"
	       "\nOptions (in the file as `key value`, or as flags `--key "
	       "value`; flags win):\n");
	for (const struct conf_option *o = agent_conf_options; o->name; o++) {
		char flag[64];
		snprintf(flag, sizeof(flag), "--%s %s", o->name,
			 type_hint(o->type));
		fprintf(f, "  %-32s %s", flag, o->help);
		if (o->def)
			fprintf(f, " (default: %s)", o->def);
		fputc('\n', f);
	}
}

/* "--exec-enabled" -> "exec_enabled" into key. */
static void
flag_key(const char *arg, size_t n, char *key, size_t keylen)
{
	size_t i;

	for (i = 0; i < n && i + 1 < keylen; i++)
		key[i] = arg[i] == '-' ? '_' : arg[i];
	key[i] = '\0';
}

enum mode { MODE_RUN, MODE_CHECK, MODE_EXIT0 };

/* Two passes over argv: the first finds -c and the modes, the second
 * applies the flags over what the file set. -1 on a usage error. */
static int
parse_args(int argc, char **argv, const char **conf_path, enum mode *mode)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr,
					"cmdbus-agent: %s needs a file\n", a);
				return -1;
			}
			*conf_path = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			*conf_path = a + 9;
		} else if (strcmp(a, "--check") == 0 || strcmp(a, "-t") == 0) {
			*mode = MODE_CHECK;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			*mode = MODE_EXIT0;
			return 0;
		} else if (strcmp(a, "--version") == 0) {
			printf("cmdbus-agent %s\n", CMDBUS_AGENT_VERSION);
			*mode = MODE_EXIT0;
			return 0;
		}
	}
	return 0;
}

static int
apply_flags(int argc, char **argv, struct agent_conf *c)
{
	char err[512];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *value;
		const struct conf_option *o;
		char key[64];

		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			i++;
			continue;
		}
		if (strncmp(a, "--config=", 9) == 0 ||
		    strcmp(a, "--check") == 0 || strcmp(a, "-t") == 0)
			continue;
		if (strncmp(a, "--", 2) != 0) {
			fprintf(stderr,
				"cmdbus-agent: unexpected argument '%s'"
				" (see --help)\n",
				a);
			return -1;
		}
		a += 2;
		eq = strchr(a, '=');
		flag_key(a, eq ? (size_t)(eq - a) : strlen(a), key,
			 sizeof(key));
		o = conf_find(agent_conf_options, key);
		if (!o) {
			fprintf(stderr,
				"cmdbus-agent: unknown option '--%s' "
				"(see --help)\n",
				key);
			return -1;
		}
		if (eq) {
			value = eq + 1;
		} else if (o->type == CONF_BOOL &&
			   (i + 1 >= argc || argv[i + 1][0] == '-')) {
			value = "true"; /* a bare boolean flag switches it on */
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			fprintf(stderr, "cmdbus-agent: --%s needs a value\n",
				key);
			return -1;
		}
		if (conf_set(agent_conf_options, c, key, value, err,
			     sizeof(err)) != 0) {
			fprintf(stderr, "cmdbus-agent: --%s: %s\n", key, err);
			return -1;
		}
	}
	return 0;
}

static int
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGHUP, &sa, NULL) != 0)
		return -errno;
	return 0;
}

int
main(int argc, char **argv)
{
	struct agent_conf conf;
	struct agent_files files;
	struct cmdbus_agent_config cfg;
	const char *conf_path = NULL;
	enum mode mode = MODE_RUN;
	char err[512];
	int rc, status = 1;

	memset(&conf, 0, sizeof(conf));
	memset(&files, 0, sizeof(files));
	log_init("cmdbus-agent", LOG_LVL_INFO, false);
	if (parse_args(argc, argv, &conf_path, &mode) != 0)
		return 1;
	if (mode == MODE_EXIT0)
		return 0;
	if (conf_defaults(agent_conf_options, &conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "cmdbus-agent: %s\n", err);
		goto out;
	}
	if (conf_path) {
		rc = conf_load_file(agent_conf_options, &conf, conf_path, err,
				    sizeof(err));
		if (rc == -ERR_CONFIG) {
			fprintf(stderr, "%s\n", err);
			goto out;
		}
		if (rc) {
			fprintf(stderr, "%s: %s\n", conf_path, err_str(rc));
			goto out;
		}
	}
	if (apply_flags(argc, argv, &conf) != 0)
		goto out;
	if (agent_conf_resolve(&conf, conf_path ? conf_path : "flags", &cfg,
			       &files, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	if (cmdbus_agent_config_check(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", conf_path ? conf_path : "flags",
			err);
		goto out;
	}
	if (mode == MODE_CHECK) {
		printf("config ok\n");
		status = 0;
		goto out;
	}

	log_init("cmdbus-agent", (enum log_level)conf.log_level,
		 conf.log_syslog);
	g_conf_path = conf_path;
	cfg.on_reload = on_reload;
	rc = cmdbus_agent_new(&cfg, &g_agent, err, sizeof(err));
	agent_files_fini(&files);
	if (rc) {
		fprintf(stderr, "cmdbus-agent: %s\n", err);
		goto out;
	}
	if (drop_privileges(&conf) != 0)
		goto out;
	if (install_signals() != 0) {
		fprintf(stderr,
			"cmdbus-agent: cannot install signal handlers\n");
		goto out;
	}
	rc = cmdbus_agent_run(g_agent);
	if (rc)
		log_error("agent.failed", "reason=\"%s\"", err_str(rc));
	status = rc == 0 ? 0 : 1;
out:
	/* Handlers stay installed with g_agent gone: restore defaults so a
	 * late signal cannot touch freed memory. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	cmdbus_agent_free(g_agent);
	g_agent = NULL;
	agent_files_fini(&files);
	conf_free(agent_conf_options, &conf);
	return status;
}
