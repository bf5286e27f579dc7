/* SPDX-License-Identifier: MIT */
/* cmdbus, the operator's command line: parse the arguments, resolve the
 * dispatcher's URL and token, run one command, exit with its status. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "http.h"

static const char usage[] =
    "usage: cmdbus [--url URL] [--token TOKEN] [--json] COMMAND ...\n"
    "\n"
    "  run  TARGET [--batch N|N%] [--max-failures N|N%] [--canary N]\n"
    "       [--offline wait|skip|fail] [--timeout D] [--ttl D] [--stream]\n"
    "       [--wait=false] [--follow] ACTION [key=value ...]\n"
    "  exec TARGET [same flags] -- COMMAND [ARG ...]\n"
    "  jobs [ls [--state S] [--limit N] [--page-size N] | show ID |\n"
    "       cancel ID]\n"
    "  devices [ls [--limit N] [--page-size N] | show ID]\n"
    "  output EXEC_ID [--follow]\n"
    "\n"
    "TARGET is -t DEVICE[,DEVICE...] [--allow-unknown] (repeatable),\n"
    "-l SELECTOR (repeatable: key=value, key!=value, 'key in (a,b)',\n"
    "'key notin (a,b)') or --all. URL and token come from --url/--token,\n"
    "else CMDBUS_URL and CMDBUS_TOKEN, else ~/.config/cmdbus/config.\n"
    "Exit status: 0 all succeeded, 1 some failed, the job was aborted or\n"
    "canceled, or the server refused, 2 usage or connection error.\n"
    "See cmdbus(1).\n";

/* Whether the locale's character set is UTF-8, judged from the variables
 * that choose it (LC_ALL, then LC_CTYPE, then LANG), so that the program
 * need not switch its own locale for one character of the progress line. */
static bool
locale_utf8(void)
{
	static const char *const vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v == NULL || *v == '\0')
			continue;
		return strstr(v, "UTF-8") != NULL ||
		       strstr(v, "utf-8") != NULL ||
		       strstr(v, "UTF8") != NULL || strstr(v, "utf8") != NULL;
	}
	return false;
}

/* ~/.config/cmdbus/config, or $XDG_CONFIG_HOME/cmdbus/config; NULL when
 * there is no home to look in. The caller frees. */
static char *
config_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	size_t n;
	char *p;

	if (xdg != NULL && *xdg == '/') {
		n = strlen(xdg) + sizeof("/cmdbus/config");
		if ((p = malloc(n)) != NULL)
			snprintf(p, n, "%s/cmdbus/config", xdg);
		return p;
	}
	if (home == NULL || *home == '\0')
		return NULL;
	n = strlen(home) + sizeof("/.config/cmdbus/config");
	if ((p = malloc(n)) != NULL)
		snprintf(p, n, "%s/.config/cmdbus/config", home);
	return p;
}

int
main(int argc, char **argv)
{
	struct cli_args a;
	struct cli_config cfg;
	struct cli_ctx ctx;
	char err[512], *path;
	int rc;

	if (cli_args_parse(argc, (const char *const *)argv, &a, err,
			   sizeof(err)) < 0) {
		fprintf(stderr, "cmdbus: %s\n%s", err, usage);
		return EXIT_USAGE;
	}
	if (a.cmd == CLI_HELP) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (a.cmd == CLI_VERSION) {
		printf("cmdbus %s\n", CMDBUS_VERSION);
		return EXIT_OK;
	}
	path = config_path();
	rc = cli_config_resolve(a.url, a.token, getenv("CMDBUS_URL"),
				getenv("CMDBUS_TOKEN"), path, &cfg, err,
				sizeof(err));
	free(path);
	if (rc < 0) {
		fprintf(stderr, "cmdbus: %s\n", err);
		return EXIT_USAGE;
	}
	if (http_global_init() < 0) {
		fprintf(stderr, "cmdbus: cannot initialise the HTTP client\n");
		cli_config_fini(&cfg);
		return EXIT_USAGE;
	}
	ctx.url = cfg.url;
	ctx.token = cfg.token;
	ctx.json = a.json;
	ctx.tty = isatty(STDOUT_FILENO) == 1;
	ctx.utf8 = locale_utf8();
	switch (a.cmd) {
	case CLI_RUN:
	case CLI_EXEC:
		rc = cmd_run(&ctx, &a);
		break;
	case CLI_JOBS:
		rc = cmd_jobs(&ctx, &a);
		break;
	case CLI_DEVICES:
		rc = cmd_devices(&ctx, &a);
		break;
	case CLI_OUTPUT:
		rc = cmd_output(&ctx, &a);
		break;
	default:
		rc = EXIT_USAGE;
		break;
	}
	http_global_fini();
	cli_config_fini(&cfg);
	return rc;
}
