# SPDX-License-Identifier: MIT
"""A fleet for the integration tests: a dozen labelled agents, two of them
known to the registry but offline, started once for a whole test class;
each agent runs exec in a working directory of its own, so that a command
can leave a per-device marker. Also the label matcher the expectations
are computed with, and the peak concurrency of a set of runs."""

import json
import secrets
import unittest

from apicheck import Api
from harness import RESULT_DEADLINE, Cluster, Device, wait_until

API = Api()

# Every device of the fleet with its labels. A device without `tier`
# shows how `notin` treats a missing label.
FLEET = {
    "web-1": {"env": "prod", "tier": "web"},
    "web-2": {"env": "prod", "tier": "web"},
    "web-3": {"env": "staging", "tier": "web"},
    "web-4": {"env": "dev", "tier": "web"},
    "db-1": {"env": "prod", "tier": "db"},
    "db-2": {"env": "staging", "tier": "db"},
    "db-3": {"env": "dev", "tier": "db"},
    "edge-1": {"env": "prod"},
    "edge-2": {"env": "staging"},
    "edge-3": {"env": "dev", "site": "sz"},
    "gone-1": {"env": "prod", "tier": "web"},
    "gone-2": {"env": "staging"},
}
# Started, registered, then stopped: the registry knows them offline.
OFFLINE = ("gone-1", "gone-2")
ONLINE = tuple(d for d in FLEET if d not in OFFLINE)

FINISHED = {"COMPLETED", "CANCELED", "ABORTED"}


def selected(selector, fleet=FLEET):
    """The ids of `fleet` a label selector picks, by the rules of
    docs/protocol.md (Targets), sorted."""
    def term_holds(labels, key, term):
        value = labels.get(key)
        if isinstance(term, str):
            return value == term
        if "in" in term:
            return value in term["in"]
        return value not in term["notin"]
    return sorted(d for d, labels in fleet.items()
                  if all(term_holds(labels, k, t)
                         for k, t in selector.items()))


def peak_concurrency(runs):
    """The largest number of runs under way at one moment; `runs` are
    (started_at, finished_at) pairs. A run that ends at the millisecond
    another starts does not overlap it."""
    events = []
    for start, end in runs:
        events.append((start, 1))
        events.append((end, -1))
    peak = cur = 0
    for _, step in sorted(events):  # -1 sorts before +1 at a tie
        cur += step
        peak = max(peak, cur)
    return peak


def run_times(job):
    """(started_at, finished_at) of each execution of a job view that ran
    (its agent's result carries started_at)."""
    out = []
    for e in job["executions"]:
        r = e.get("result") or {}
        if "started_at" in r:
            out.append((r["started_at"], r["finished_at"]))
    return out


def pid_gone(pid):
    """True when no process has this pid, or only its zombie is left."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return True
    # The state follows the command name, which is in parentheses.
    return stat[stat.rindex(")") + 2] in "ZX"


class FleetCase(unittest.TestCase):
    """A test class sharing one cluster: the broker, the dispatcher and
    every agent of FLEET, those of OFFLINE stopped after they registered.
    Each test starts with the dispatcher up and the OFFLINE agents down,
    whatever the test before it left; the cluster is stopped (and its
    exit statuses and sanitizer reports judged) after the last test."""

    # Short timers so that expiries and sweeps take a fraction of a
    # second: the sweep runs every 200 ms, an unstarted command sent to an
    # offline device expires 2 s after its exp.
    DISPATCHER_OPTIONS = {"sweep_interval": "200ms", "timeout_grace": "2s"}

    c = None
    _failed = False

    @classmethod
    def setUpClass(cls):
        c = Cluster(Device(d, labels, exec_enabled=True)
                    for d, labels in FLEET.items())
        cls.c = c
        try:
            for d in c.devices.values():
                work = c.dir / ("work-" + d.id)
                work.mkdir()
                d.options["exec_cwd"] = work
            c.dispatcher_options.update(cls.DISPATCHER_OPTIONS)
            c.start()
            for d in OFFLINE:
                problems = c.stop_agent(d)
                if problems:
                    raise AssertionError("; ".join(problems))
            c.wait_offline(OFFLINE)
        except BaseException:
            cls._abandon()
            raise

    @classmethod
    def _abandon(cls):
        c = cls.c
        c.kill_all()
        c.dump_logs()
        c.remove_dir()
        cls.c = None

    @classmethod
    def tearDownClass(cls):
        c = cls.c
        if c is None:
            return
        problems = c.close()
        if problems or cls._failed:
            c.dump_logs()
        c.remove_dir()
        if problems:
            raise AssertionError("teardown: " + "; ".join(problems))

    def run(self, result=None):
        if result is None:
            result = self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        try:
            return super().run(result)
        finally:
            if len(result.failures) + len(result.errors) > before:
                type(self)._failed = True

    def setUp(self):
        c = self.c
        if c is None:
            self.skipTest("the fleet did not start")
        if c.dispatcher is None:
            c.start_dispatcher()
        for d in OFFLINE:
            if c.devices[d].proc is not None:
                self.assertEqual(c.stop_agent(d), [])
        c.wait_offline(OFFLINE)
        self.token = secrets.token_hex(4)

    # -- REST, checked against docs/rest-api.yaml ------------------------

    def call(self, method, path, template, body=None, status=None, **kw):
        r = self.c.request(method, path, body=body, **kw)
        API.check(template, method, r.status,
                  r.headers.get("Content-Type", ""), r.body)
        if status is not None:
            self.assertEqual(r.status, status, "%s %s: %r" % (method, path,
                                                               r))
        return r

    def job_view(self, job_id):
        return self.call("GET", "/v1/jobs/" + job_id, "/v1/jobs/{id}",
                         status=200).json()

    def exec_view(self, exec_id):
        return self.call("GET", "/v1/executions/" + exec_id,
                         "/v1/executions/{id}", status=200).json()

    def create(self, devices=None, labels=None, script=None, action=None,
               status=201, allow_unknown=None, **extra):
        """POST /v1/jobs: an exec of `sh -c script` (or `action`) on a
        device list or a label selector; returns the response."""
        target = {"labels": labels} if labels is not None else \
            {"devices": list(devices)}
        if allow_unknown is not None:
            target["allow_unknown"] = allow_unknown
        body = {"target": target, "timeout_ms": 20000, "ttl_ms": 600000}
        if script is not None:
            body.update(action="exec", args={"argv": ["sh", "-c", script]})
        else:
            body.update(action=action or "ping")
        body.update(extra)
        return self.call("POST", "/v1/jobs", "/v1/jobs", body, status)

    def submit(self, *args, **kw):
        return self.create(*args, **kw).json()

    def wait_finished(self, job_id, timeout=RESULT_DEADLINE, watch=None):
        """Polls the job until it is finished; `watch(view)` sees every
        view on the way. Returns the last view."""
        box = {}

        def done():
            box["v"] = self.job_view(job_id)
            if watch is not None:
                watch(box["v"])
            return box["v"]["state"] in FINISHED
        try:
            wait_until(done, timeout, "job %s to finish" % job_id)
        except AssertionError as e:
            raise AssertionError("%s; last view: %s" % (
                e, json.dumps(box.get("v"))[:4000]))
        return box["v"]

    def wait_execs(self, job_id, pred, what, timeout=RESULT_DEADLINE):
        """Polls the job until pred(view) holds; returns the view."""
        box = {}

        def check():
            box["v"] = self.job_view(job_id)
            return pred(box["v"])
        try:
            wait_until(check, timeout, what)
        except AssertionError as e:
            raise AssertionError("%s; last view: %s" % (
                e, json.dumps(box.get("v"))[:4000]))
        return box["v"]

    # -- the devices' working directories --------------------------------

    def workfile(self, device, name):
        return self.c.dir / ("work-" + device) / name

    def marker(self, device, name):
        """The text a command left in `name` on `device`, None if none."""
        try:
            return self.workfile(device, name).read_text()
        except FileNotFoundError:
            return None

    # -- the dispatcher ---------------------------------------------------

    def kill_dispatcher(self):
        """kill -9: no shutdown, no final commit."""
        self.c.dispatcher.kill()
        self.c.dispatcher = None

    def start_agent(self, device):
        self.c.start_agent(device)
        self.c.wait_online([device])

    def stop_agent(self, device):
        self.assertEqual(self.c.stop_agent(device), [])
        self.c.wait_offline([device])


def by_device(job):
    return {e["device"]: e for e in job["executions"]}


def error_code(execution):
    return (execution.get("error") or {}).get("code")


__all__ = ["API", "FINISHED", "FLEET", "FleetCase", "OFFLINE", "ONLINE",
           "by_device", "error_code", "peak_concurrency",
           "pid_gone", "run_times", "selected"]
