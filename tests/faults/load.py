# SPDX-License-Identifier: MIT
"""The steady load of the fault suite: a fleet of real agents whose catalog
holds one action that appends its token to a ground-truth file with
O_APPEND, a submitter that keeps jobs for it flowing through the REST API,
and a watcher that notes when each accepted execution is first seen
terminal, and in what state."""

import http.client
import json
import random
import secrets
import threading
import time

from harness import Cluster, Device
from mounts import Tmpfs

ACTION = "faults.mark"
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "CANCELED", "REJECTED",
            "EXPIRED", "LOST"}

# The action: one line per start, "TOKEN START_MS PID", written by a single
# printf to a file opened with O_APPEND (`>>`), so lines of concurrent runs
# never mix; then a short sleep, so that a fault can land while it runs.
MARK_SCRIPT = """#!/bin/sh
printf '%s %s %s\\n' "$1" "$(date +%s%3N)" "$$" >> '@FILE@'
exec sleep "$(($2 / 1000)).$(printf %03d $(($2 % 1000)))"
"""

MARK_CATALOG = """argv /bin/sh
argv @SCRIPT@
argv {token}
argv {ms}
param token regex [A-Za-z0-9_-]{8,64}
param ms int 0 5000
timeout 20s
"""

# Dispatcher settings that keep each fault's recovery short: re-sends,
# sweeps and the graces before the dispatcher declares an outcome itself.
DISPATCHER_FAST = {
    "retry_initial": "500ms",
    "retry_max": "2s",
    "timeout_grace": "3s",
    "lost_grace": "3s",
    "sweep_interval": "200ms",
    "mqtt_keepalive": "5s",
    "log_level": "info",
}

CLOCK_SKEW_MS = 1000

# The tmpfs sizes for the disk-full faults: room for the database of a
# full run (tens of MB) and for a journal that compacts past 1 MiB.
DB_FS_MB = 256
JOURNAL_FS_MB = 16


def make_fleet(n_agents, tmpfs=False):
    """A Cluster of n agents (not started) with the marking action in
    their catalog; returns (cluster, path of the ground-truth file,
    {"dispatcher" or device id: Tmpfs}). With tmpfs, the dispatcher's
    database and each agent's state directory are on small tmpfs mounts
    of their own (mounted here), which the disk-full faults fill."""
    devices = [Device("flt-%d" % i, options={
        "clock_skew": "%dms" % CLOCK_SKEW_MS,
        "mqtt_keepalive": "5s",
        "max_running": "4",
        "log_level": "info",
    }) for i in range(1, n_agents + 1)]
    c = Cluster(devices)
    truth = c.dir / "ground-truth"
    truth.touch()
    script = c.dir / "mark.sh"
    script.write_text(MARK_SCRIPT.replace("@FILE@", str(truth)))
    script.chmod(0o755)
    cat = c.dir / "catalog"
    cat.mkdir()
    (cat / (ACTION + ".conf")).write_text(
        MARK_CATALOG.replace("@SCRIPT@", str(script)))
    for d in devices:
        d.options["catalog_dir"] = cat
    c.dispatcher_options.update(DISPATCHER_FAST)
    mounts = {}
    if tmpfs:
        mounts["dispatcher"] = Tmpfs(c.dir / "db-fs", DB_FS_MB).mount()
        c.dispatcher_options["db_path"] = mounts["dispatcher"].path / \
            "dispatcher.db"
        for d in devices:
            mounts[d.id] = Tmpfs(c.dir / ("state-fs-" + d.id),
                                 JOURNAL_FS_MB).mount()
            d.options["state_dir"] = mounts[d.id].path
    return c, truth, mounts


def _request(port, token, method, path, body=None, timeout=5,
             host="127.0.0.1"):
    """(status, parsed JSON or None); raises OSError when nobody answers."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        hdrs = {"Authorization": "Bearer " + token}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, None
    except http.client.HTTPException as e:
        raise OSError(str(e))
    finally:
        conn.close()


class Load:
    """Submits jobs of the marking action to random agents, at most
    `max_outstanding` unfinished at a time, and watches them finish.

    What it knows, for the checks: `accepted` {exec id: token} of every
    201, `tokens` {token: POST outcome}, `first_terminal` {exec id:
    (monotonic time, view summary)}. Everything is guarded by `lock`."""

    def __init__(self, cluster, rate=8.0, max_outstanding=40,
                 short_ttl_share=0.1, seed=None):
        self.c = cluster
        self.rate = rate
        self.max_outstanding = max_outstanding
        self.short_ttl_share = short_ttl_share
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.accepted = {}
        self.tokens = {}
        self.outstanding = {}
        self.first_terminal = {}
        self.post_outcomes = {}
        self._stop = threading.Event()
        self._submitting = threading.Event()
        self._threads = []
        self.seq = 0

    # -- control --------------------------------------------------------

    def start(self):
        self._submitting.set()
        for fn in (self._submit_loop, self._watch_loop):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self._threads.append(t)

    def stop_submitting(self):
        self._submitting.clear()

    def stop(self):
        self._submitting.clear()
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)

    def unfinished(self, device=None):
        """Execution ids accepted and not yet seen terminal (of one
        device, when given)."""
        with self.lock:
            return {e for e, (_, d) in self.outstanding.items()
                    if device is None or d == device}

    def terminal_time(self, exec_id):
        with self.lock:
            seen = self.first_terminal.get(exec_id)
        return None if seen is None else seen[0]

    def terminal_state(self, exec_id):
        """The terminal state first seen of an execution, or None."""
        with self.lock:
            seen = self.first_terminal.get(exec_id)
        return None if seen is None else seen[1][0]

    def wait_terminal(self, exec_ids, timeout):
        """Waits until every id given has been seen terminal or the
        deadline passes; returns the ids still unfinished."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                left = {e for e in exec_ids if e not in self.first_terminal}
            if not left or time.monotonic() >= deadline or \
                    self._stop.is_set():
                return left
            time.sleep(0.1)

    # -- the submitter --------------------------------------------------

    def _count(self, outcome):
        with self.lock:
            self.post_outcomes[outcome] = \
                self.post_outcomes.get(outcome, 0) + 1

    def _submit_one(self, device=None, ms=None, ttl=None):
        """Submits one job (for a random device, duration and TTL unless
        given); returns (its POST status or None when nobody answered,
        the execution id of a 201 or None)."""
        with self.lock:
            self.seq += 1
            seq = self.seq
        token = "t%06d-%s" % (seq, secrets.token_hex(6))
        if device is None:
            device = self.rng.choice(sorted(self.c.devices))
        if ttl is None:
            short = self.rng.random() < self.short_ttl_share
            ttl = self.rng.randint(1500, 3000) if short else 60000
        if ms is None:
            ms = self.rng.choice((0, 100, 300, 600, 1000, 2000))
        body = {"target": {"devices": [device]}, "action": ACTION,
                "args": {"token": token, "ms": str(ms)},
                "timeout_ms": 15000, "ttl_ms": ttl}
        with self.lock:
            self.tokens[token] = "pending"
        try:
            status, view = _request(self.c.http_port, self.c.token, "POST",
                                    "/v1/jobs", body, host=self.c.http_host)
        except OSError:
            # Nobody answered (a dispatcher being killed): the job may or
            # may not exist; the checks look for it in the database.
            with self.lock:
                self.tokens[token] = "no answer"
            self._count("no answer")
            return None, None
        with self.lock:
            self.tokens[token] = status
        self._count(str(status))
        if status != 201 or not view:
            return status, None
        exec_id = view["executions"][0]["id"]
        with self.lock:
            self.accepted[exec_id] = token
            self.outstanding[exec_id] = (time.monotonic(), device)
        return status, exec_id

    def submit(self, device, n, ms=0, ttl=60000):
        """Submits n jobs for one device at once, beside the steady
        load (a fault's probes, or a burst that makes a fault bite);
        returns the (status, execution id) of each."""
        return [self._submit_one(device, ms, ttl) for _ in range(n)]

    def outcomes(self, status):
        """How many POSTs have been answered with this status."""
        with self.lock:
            return self.post_outcomes.get(str(status), 0)

    def _submit_loop(self):
        interval = 1.0 / self.rate
        while not self._stop.is_set():
            if not self._submitting.is_set():
                time.sleep(0.05)
                continue
            with self.lock:
                full = len(self.outstanding) >= self.max_outstanding
            if full:
                time.sleep(0.02)
                continue
            t0 = time.monotonic()
            if self._submit_one()[0] != 201:
                time.sleep(0.2)
            spent = time.monotonic() - t0
            if spent < interval:
                time.sleep(interval - spent)

    # -- the watcher ----------------------------------------------------

    def _watch_once(self):
        for exec_id in sorted(self.unfinished()):
            if self._stop.is_set():
                return
            try:
                status, view = _request(self.c.http_port, self.c.token,
                                        "GET", "/v1/executions/" + exec_id,
                                        host=self.c.http_host)
            except OSError:
                return  # the dispatcher is down: try again later
            if status != 200 or not view:
                continue
            state = view.get("state")
            if state not in TERMINAL:
                continue
            # What a second recording would change: the state or the
            # moment the dispatcher recorded the end.
            summary = (state, view.get("finished_at"))
            with self.lock:
                self.first_terminal.setdefault(exec_id,
                                               (time.monotonic(), summary))
                self.outstanding.pop(exec_id, None)

    def _watch_loop(self):
        while not self._stop.is_set():
            t0 = time.monotonic()
            self._watch_once()
            spent = time.monotonic() - t0
            if spent < 0.25:
                time.sleep(0.25 - spent)
