/* SPDX-License-Identifier: MIT */
/* cmdbus-loadgen: the options of its two modes, and the functions each
 * module exports. `agents` simulates devices that speak the contract;
 * `rest` drives the dispatcher's REST API and measures latency. */
#ifndef LG_H
#define LG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LG_MAX_LABELS 16

struct lg_agents_opts {
	const char *host;
	unsigned port;
	const char *prefix;
	uint64_t count;	       /* devices */
	uint64_t first;	       /* index of the first device */
	const char *id_format; /* printf format with one integer, "lg-%05d" */
	char *label_keys[LG_MAX_LABELS];
	char *label_values[LG_MAX_LABELS];
	size_t nlabels;
	uint64_t service_ms;  /* time from RUNNING to the result */
	uint64_t procs;	      /* processes to fork */
	int protocol;	      /* 5 or 311 */
	uint64_t batch;	      /* connections waiting for CONNACK, per process */
	const char *password; /* NULL: no password */
};

enum lg_rest_kind { LG_SUBMIT, LG_CALL, LG_TRACK, LG_GET };

struct lg_rest_opts {
	const char *url; /* base, without a trailing '/' */
	const char *token;
	enum lg_rest_kind kind;
	const char *action;
	char *args_json; /* validated JSON object, owned */
	uint64_t devices;
	const char *id_format;
	uint64_t requests; /* 0: use duration */
	double duration_s;
	uint64_t concurrency; /* closed loop when > 0 */
	double rate;	      /* open loop when > 0 */
	uint64_t timeout_ms;  /* the job's timeout_ms */
};

/* args.c: parse argv after the mode word. 0, or -1 with a message on
 * stderr. The options' strings are borrowed from argv unless noted. */
int args_agents(int argc, char **argv, struct lg_agents_opts *o);
int args_rest(int argc, char **argv, struct lg_rest_opts *o);
void args_usage(void);
void args_rest_fini(struct lg_rest_opts *o);
/* The device id of index i, by a format holding one %d-like conversion.
 * 0, or -1 when it does not fit or is not a valid device id. */
int args_device_id(const char *fmt, uint64_t i, char *out, size_t outlen);

/* agents.c: runs until SIGINT/SIGTERM; returns the exit status. */
int agents_run(const struct lg_agents_opts *o);

/* rest.c: runs the requests; returns the exit status. */
int rest_run(const struct lg_rest_opts *o);

/* Monotonic time in microseconds. */
uint64_t lg_mono_us(void);
/* Raises the soft limit of open files to the hard limit. */
void lg_raise_nofile(void);

#endif
