/* SPDX-License-Identifier: MIT */
/* The state of one agents process: its devices, each a libmosquitto
 * connection on the process's epoll set, the runs waiting out their
 * service time, and the counters of the stats line. */
#ifndef LG_AGENTS_H
#define LG_AGENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdbus/proto.h"
#include "lg.h"

struct mosquitto;

#define DEV_RING 16 /* finished ids remembered per device */

/* A finished (or tombstoned) id: enough to send its result again with
 * the same bytes, since the encoding is canonical. */
struct fin {
	char id[CMDBUS_ID_BUF];
	char sha[CMDBUS_SHA256_HEX + 1];
	uint8_t state;	/* enum cmdbus_state */
	bool tombstone; /* canceled before it arrived */
	uint64_t started, finished;
};

struct dev {
	struct lg_proc *p;
	struct mosquitto *m;
	uint32_t idx;
	int fd;		 /* registered socket, -1 when none */
	uint32_t events; /* registered epoll events */
	char id[CMDBUS_NAME_BUF];
	char boot_id[32];
	bool connecting; /* counted in p->pending */
	bool ready;	 /* status acknowledged once */
	bool up;	 /* CONNACK seen, not lost since */
	bool retry;	 /* in the reconnect list */
	int status_mid;
	struct fin *ring; /* DEV_RING entries, made on first command */
	unsigned ring_next;
};

/* A run waiting out --service-ms. All runs wait the same time, so the
 * queue is in due order. */
struct run {
	uint32_t dev;
	bool canceled;
	char id[CMDBUS_ID_BUF];
	char sha[CMDBUS_SHA256_HEX + 1];
	uint64_t started; /* wall ms */
	uint64_t due_us;  /* monotonic */
};

struct lg_proc {
	const struct lg_agents_opts *o;
	int epfd;
	struct dev *devs;
	uint32_t ndev;
	uint32_t next_connect; /* first device not yet connected */
	uint32_t pending;      /* connecting, not yet ready */
	uint32_t nready;
	bool stopping;
	uint32_t *retry; /* devices to reconnect */
	uint32_t nretry;
	struct run *runs; /* ring buffer */
	size_t runs_cap, runs_head, runs_len;
	uint64_t pid;
	uint64_t commands, results, cancels, errors;
};

/* device.c */
int dev_setup(struct lg_proc *p, uint32_t idx);
void dev_teardown(struct dev *d);
int dev_connect(struct dev *d);
/* Keeps the epoll registration in step with libmosquitto. */
void dev_sync(struct dev *d);
/* The connection failed or closed. */
void dev_lost(struct dev *d);
/* Finishes the runs whose service time is over. */
void dev_finish_due(struct lg_proc *p, uint64_t now_us);
/* Publishes the offline status and disconnects. */
void dev_goodbye(struct dev *d);

#endif
