/* SPDX-License-Identifier: MIT */
/* The command line of both modes, checked with bounded parsing, and the
 * device ids made from --id-format. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/jsonv.h"
#include "cmdbus/proto.h"
#include "cmdbus/topic.h"
#include "common/parse.h"
#include "lg.h"

void
args_usage(void)
{
	fputs(
	    "usage: cmdbus-loadgen agents --host H --port P [options]\n"
	    "       cmdbus-loadgen rest --url URL --kind submit|call|track "
	    "[options]\n"
	    "\n"
	    "agents: simulate devices that follow the cmdbus contract, one "
	    "MQTT\nconnection each (client id = username = device id, "
	    "persistent\nsession, QoS 1, retained online status, ACCEPTED and "
	    "RUNNING\nreports, then the result).\n"
	    "  --prefix P         topic prefix (cmdbus/v1)\n"
	    "  --count N          devices (1)\n"
	    "  --first K          index of the first device (0)\n"
	    "  --id-format F      device id from the index, one %d with an\n"
	    "                     optional 0 flag and width (lg-%05d)\n"
	    "  --labels k=v,...   labels in the status\n"
	    "  --service-ms D     time from RUNNING to the result (0)\n"
	    "  --procs J          split the devices over J processes (1)\n"
	    "  --protocol 5|311   MQTT version (5)\n"
	    "  --batch B          connections awaiting CONNACK per process "
	    "(64)\n"
	    "  --password-file F  one password for every device (none)\n"
	    "Prints {\"event\":\"ready\",...} once every device is subscribed "
	    "and\nits status published; on SIGINT/SIGTERM one "
	    "{\"event\":\"stats\",...}\nline per process, then exits 0.\n"
	    "\n"
	    "rest: drive the REST API and record latency.\n"
	    "  --token T          bearer token\n"
	    "  --kind K           submit: POST /v1/jobs, latency to the 201\n"
	    "                     call: POST /v1/devices/ID/actions/ACTION, "
	    "to the 200\n"
	    "                     track: POST /v1/jobs, then GET "
	    "/v1/jobs/ID?wait=60\n"
	    "                     until finished, submit to terminal\n"
	    "                     get: GET --url itself, to the 200 (the "
	    "client's\n                     own ceiling against a trivial "
	    "server)\n"
	    "  --action A         action (ping)\n"
	    "  --args JSON        the action's args object ({})\n"
	    "  --devices N        round-robin over N device ids (1)\n"
	    "  --id-format F      as above (lg-%05d)\n"
	    "  --timeout-ms T     the job's timeout_ms (30000)\n"
	    "  --requests M | --duration S\n"
	    "  --concurrency C | --rate R   closed loop with C in flight, or\n"
	    "                     open loop at R starts per second (latency "
	    "from\n                     the scheduled start)\n"
	    "Prints one {\"event\":\"rest\",...} line; exits 1 when a request "
	    "failed.\n",
	    stdout);
}

int
args_device_id(const char *fmt, uint64_t i, char *out, size_t outlen)
{
	const char *p = strchr(fmt, '%');
	size_t pre, width = 0, n;
	bool zero = false;
	char digits[24];
	int dl;

	if (!p)
		return -1;
	pre = (size_t)(p - fmt);
	p++;
	if (*p == '0') {
		zero = true;
		p++;
	}
	while (*p >= '0' && *p <= '9' && width < 32)
		width = width * 10 + (size_t)(*p++ - '0');
	if (*p != 'd' && *p != 'u')
		return -1;
	p++;
	if (strchr(p, '%'))
		return -1;
	dl = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)i);
	if (dl < 0)
		return -1;
	n = pre + ((size_t)dl > width ? (size_t)dl : width) + strlen(p);
	if (n + 1 > outlen)
		return -1;
	memcpy(out, fmt, pre);
	n = pre;
	for (size_t k = (size_t)dl; k < width; k++)
		out[n++] = zero ? '0' : ' ';
	memcpy(out + n, digits, (size_t)dl);
	n += (size_t)dl;
	memcpy(out + n, p, strlen(p) + 1);
	return cmdbus_valid_device_id(out) ? 0 : -1;
}

static int
need(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "loadgen: %s needs a value\n", argv[*i]);
		return -1;
	}
	(*i)++;
	return 0;
}

static int
num(const char *flag, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	if (parse_u64(v, min, max, out) != 0) {
		fprintf(stderr,
			"loadgen: %s: '%s' is not an integer in "
			"%llu..%llu\n",
			flag, v, (unsigned long long)min,
			(unsigned long long)max);
		return -1;
	}
	return 0;
}

/* A positive decimal number such as 2.5, without strtod's acceptance of
 * hex, infinities and trailing junk. */
static int
pos_real(const char *flag, const char *v, double *out)
{
	uint64_t ip = 0, frac = 0, scale = 1;
	const char *dot = strchr(v, '.');
	char whole[24];
	size_t wl = dot ? (size_t)(dot - v) : strlen(v);

	if (wl == 0 || wl >= sizeof(whole))
		goto bad;
	memcpy(whole, v, wl);
	whole[wl] = '\0';
	if (parse_u64(whole, 0, 1000000000, &ip) != 0)
		goto bad;
	if (dot) {
		const char *f = dot + 1;
		if (!*f || strlen(f) > 6)
			goto bad;
		for (; *f; f++) {
			if (*f < '0' || *f > '9')
				goto bad;
			frac = frac * 10 + (uint64_t)(*f - '0');
			scale *= 10;
		}
	}
	*out = (double)ip + (double)frac / (double)scale;
	if (*out <= 0)
		goto bad;
	return 0;
bad:
	fprintf(stderr, "loadgen: %s: '%s' is not a positive number\n", flag,
		v);
	return -1;
}

/* Reads the first line of a file into a static buffer. */
static const char *
read_password(const char *path)
{
	static char pw[256];
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (!fgets(pw, sizeof(pw), f))
		pw[0] = '\0';
	fclose(f);
	pw[strcspn(pw, "\r\n")] = '\0';
	return pw;
}

static int
parse_labels(const char *v, struct lg_agents_opts *o)
{
	/* The labels live as long as the program: split a static copy. */
	static char copy[1024];
	char *save = NULL, *tok;

	if (strlen(v) >= sizeof(copy)) {
		fprintf(stderr, "loadgen: --labels too long\n");
		return -1;
	}
	memcpy(copy, v, strlen(v) + 1);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq || o->nlabels == LG_MAX_LABELS) {
			fprintf(stderr,
				"loadgen: --labels: '%s' is not k=v "
				"(at most %d)\n",
				tok, LG_MAX_LABELS);
			return -1;
		}
		*eq = '\0';
		if (!cmdbus_valid_label(tok)) {
			fprintf(stderr, "loadgen: --labels: bad key '%s'\n",
				tok);
			return -1;
		}
		o->label_keys[o->nlabels] = tok;
		o->label_values[o->nlabels] = eq + 1;
		o->nlabels++;
	}
	return 0;
}

int
args_agents(int argc, char **argv, struct lg_agents_opts *o)
{
	uint64_t v;
	char id[CMDBUS_NAME_BUF];

	memset(o, 0, sizeof(*o));
	o->prefix = CMDBUS_DEFAULT_PREFIX;
	o->count = 1;
	o->id_format = "lg-%05d";
	o->procs = 1;
	o->protocol = 5;
	o->batch = 64;
	for (int i = 0; i < argc; i++) {
		const char *f = argv[i];
		if (strcmp(f, "--help") == 0) {
			args_usage();
			exit(0);
		}
		if (need(argc, argv, &i) != 0)
			return -1;
		if (strcmp(f, "--host") == 0)
			o->host = argv[i];
		else if (strcmp(f, "--port") == 0) {
			if (num(f, argv[i], 1, 65535, &v) != 0)
				return -1;
			o->port = (unsigned)v;
		} else if (strcmp(f, "--prefix") == 0)
			o->prefix = argv[i];
		else if (strcmp(f, "--count") == 0) {
			if (num(f, argv[i], 1, 1000000, &o->count) != 0)
				return -1;
		} else if (strcmp(f, "--first") == 0) {
			if (num(f, argv[i], 0, 100000000, &o->first) != 0)
				return -1;
		} else if (strcmp(f, "--id-format") == 0)
			o->id_format = argv[i];
		else if (strcmp(f, "--labels") == 0) {
			if (parse_labels(argv[i], o) != 0)
				return -1;
		} else if (strcmp(f, "--service-ms") == 0) {
			if (num(f, argv[i], 0, 3600000, &o->service_ms) != 0)
				return -1;
		} else if (strcmp(f, "--procs") == 0) {
			if (num(f, argv[i], 1, 256, &o->procs) != 0)
				return -1;
		} else if (strcmp(f, "--protocol") == 0) {
			if (strcmp(argv[i], "5") == 0)
				o->protocol = 5;
			else if (strcmp(argv[i], "311") == 0)
				o->protocol = 311;
			else {
				fprintf(stderr, "loadgen: --protocol is 5 or "
						"311\n");
				return -1;
			}
		} else if (strcmp(f, "--batch") == 0) {
			if (num(f, argv[i], 1, 100000, &o->batch) != 0)
				return -1;
		} else if (strcmp(f, "--password-file") == 0) {
			if (!(o->password = read_password(argv[i])))
				return -1;
		} else {
			fprintf(stderr, "loadgen: unknown option %s\n", f);
			return -1;
		}
	}
	if (!o->host || !o->port) {
		fprintf(stderr, "loadgen: agents needs --host and --port\n");
		return -1;
	}
	if (!cmdbus_prefix_valid(o->prefix)) {
		fprintf(stderr, "loadgen: bad --prefix\n");
		return -1;
	}
	if (args_device_id(o->id_format, o->first + o->count - 1, id,
			   sizeof(id)) != 0) {
		fprintf(stderr, "loadgen: --id-format does not make valid "
				"device ids\n");
		return -1;
	}
	if (o->procs > o->count)
		o->procs = o->count;
	return 0;
}

static int
check_args_json(const char *v, struct lg_rest_opts *o)
{
	struct cmdbus_jsonv *doc = NULL;
	char err[128];

	if (cmdbus_jsonv_parse(v, strlen(v), &doc, err, sizeof(err)) != 0 ||
	    cmdbus_jnode_type(cmdbus_jsonv_root(doc)) != CMDBUS_JOBJECT) {
		fprintf(stderr, "loadgen: --args is not a JSON object%s%s\n",
			doc ? "" : ": ", doc ? "" : err);
		cmdbus_jsonv_free(doc);
		return -1;
	}
	cmdbus_jsonv_free(doc);
	free(o->args_json);
	o->args_json = strdup(v);
	return o->args_json ? 0 : -1;
}

int
args_rest(int argc, char **argv, struct lg_rest_opts *o)
{
	static char url[1024];
	char id[CMDBUS_NAME_BUF];
	bool has_kind = false;

	memset(o, 0, sizeof(*o));
	o->action = "ping";
	o->devices = 1;
	o->id_format = "lg-%05d";
	o->timeout_ms = 30000;
	for (int i = 0; i < argc; i++) {
		const char *f = argv[i];
		if (strcmp(f, "--help") == 0) {
			args_usage();
			exit(0);
		}
		if (need(argc, argv, &i) != 0)
			goto fail;
		if (strcmp(f, "--url") == 0) {
			size_t n = strlen(argv[i]);
			if (n >= sizeof(url))
				goto fail;
			memcpy(url, argv[i], n + 1);
			while (n > 0 && url[n - 1] == '/')
				url[--n] = '\0';
			o->url = url;
		} else if (strcmp(f, "--token") == 0)
			o->token = argv[i];
		else if (strcmp(f, "--kind") == 0) {
			has_kind = true;
			if (strcmp(argv[i], "submit") == 0)
				o->kind = LG_SUBMIT;
			else if (strcmp(argv[i], "call") == 0)
				o->kind = LG_CALL;
			else if (strcmp(argv[i], "track") == 0)
				o->kind = LG_TRACK;
			else if (strcmp(argv[i], "get") == 0)
				o->kind = LG_GET;
			else {
				fprintf(stderr, "loadgen: --kind is submit, "
						"call or track\n");
				goto fail;
			}
		} else if (strcmp(f, "--action") == 0) {
			o->action = argv[i];
			if (!cmdbus_valid_action(o->action)) {
				fprintf(stderr, "loadgen: bad --action\n");
				goto fail;
			}
		} else if (strcmp(f, "--args") == 0) {
			if (check_args_json(argv[i], o) != 0)
				goto fail;
		} else if (strcmp(f, "--devices") == 0) {
			if (num(f, argv[i], 1, 1000000, &o->devices) != 0)
				goto fail;
		} else if (strcmp(f, "--id-format") == 0)
			o->id_format = argv[i];
		else if (strcmp(f, "--timeout-ms") == 0) {
			if (num(f, argv[i], 1, 86400000, &o->timeout_ms) != 0)
				goto fail;
		} else if (strcmp(f, "--requests") == 0) {
			if (num(f, argv[i], 1, 100000000, &o->requests) != 0)
				goto fail;
		} else if (strcmp(f, "--duration") == 0) {
			if (pos_real(f, argv[i], &o->duration_s) != 0)
				goto fail;
		} else if (strcmp(f, "--concurrency") == 0) {
			if (num(f, argv[i], 1, 100000, &o->concurrency) != 0)
				goto fail;
		} else if (strcmp(f, "--rate") == 0) {
			if (pos_real(f, argv[i], &o->rate) != 0)
				goto fail;
		} else {
			fprintf(stderr, "loadgen: unknown option %s\n", f);
			goto fail;
		}
	}
	if (!o->url || !has_kind) {
		fprintf(stderr, "loadgen: rest needs --url and --kind\n");
		goto fail;
	}
	if ((o->requests == 0) == (o->duration_s <= 0)) {
		fprintf(stderr, "loadgen: give one of --requests and "
				"--duration\n");
		goto fail;
	}
	if ((o->concurrency == 0) == (o->rate <= 0)) {
		fprintf(stderr, "loadgen: give one of --concurrency and "
				"--rate\n");
		goto fail;
	}
	if (args_device_id(o->id_format, o->devices - 1, id, sizeof(id))) {
		fprintf(stderr, "loadgen: --id-format does not make valid "
				"device ids\n");
		goto fail;
	}
	if (!o->args_json && !(o->args_json = strdup("{}")))
		goto fail;
	return 0;
fail:
	args_rest_fini(o);
	return -1;
}

void
args_rest_fini(struct lg_rest_opts *o)
{
	free(o->args_json);
	o->args_json = NULL;
}
