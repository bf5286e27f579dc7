# SPDX-License-Identifier: MIT
"""The processes of a benchmark run: the bench broker, the dispatcher, real
agents, the load generator's simulated devices, and one-shot measuring
programs whose last stdout line is one JSON object. Process handling is
the integration harness's Proc (own process group, SIGTERM then SIGKILL)."""

import json
import os
import resource
import shlex
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "integration"))

from harness_procs import (MOSQUITTO, Proc, free_port,  # noqa: E402
                           port_accepts, wait_until)

PREFIX = "cmdbus/v1"
START_DEADLINE = 60.0


class RunError(Exception):
    """A scenario could not run (a program missing, crashed or timed out):
    the orchestrator's only reason to exit non-zero."""


def raise_fd_limit():
    """Soft limit of open files up to 65536 or the hard limit, whichever is
    lower; every child inherits it. Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def find_program(build, name):
    """The executable `name` anywhere under the build directory, or None:
    the bench targets' output directories are theirs to choose."""
    for root, _dirs, files in os.walk(build):
        if "CMakeFiles" in root:
            continue
        if name in files:
            path = os.path.join(root, name)
            if os.access(path, os.X_OK):
                return path
    return None


def display(argv):
    """A command line as the report shows it: repository paths relative,
    the secrets and ports of this run as shell variables."""
    out = []
    for a in argv:
        a = str(a)
        if a.startswith(str(REPO) + "/"):
            a = a[len(str(REPO)) + 1:]
        out.append(a)
    return display_text(shlex.join(out))


def display_text(text):
    for value, var in DISPLAY_VARS:
        text = text.replace(value, var)
    return text


# (value, "$VAR") pairs that display() substitutes; filled by the Bench.
DISPLAY_VARS = []


def run_json(argv, timeout, what, partial_ok=False):
    """Runs a measuring program to its end; returns (the last JSON object
    it printed on stdout, the displayed command). A non-zero exit, a
    timeout or no JSON line is a RunError carrying its stderr; with
    partial_ok, a non-zero exit after a JSON line is not (the load
    generator exits 1 when some requests failed: the figure shows it)."""
    try:
        p = subprocess.run([str(a) for a in argv], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout, text=True)
    except subprocess.TimeoutExpired as e:
        raise RunError("%s timed out after %.0fs: %s" % (
            what, timeout, display(argv))) from e
    except OSError as e:
        raise RunError("%s could not start: %s" % (what, e)) from e
    obj = last_json(p.stdout)
    if obj is None or (p.returncode != 0 and not partial_ok):
        raise RunError("%s failed (status %d): %s\n%s" % (
            what, p.returncode, display(argv),
            (p.stderr or p.stdout)[-2000:]))
    return obj, display(argv)


def last_json(text, key=None, value=None):
    """The last line of text that is a JSON object (with obj[key] == value
    when key is given), or None."""
    found = None
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and (key is None or obj.get(key) == value):
            found = obj
    return found


def all_json(text, key, value):
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict) and obj.get(key) == value:
                out.append(obj)
    return out


def rss_kb(pid):
    """VmRSS and VmHWM of a process, in kB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out.get("VmRSS", 0), out.get("VmHWM", 0)


class Bench:
    """Everything one benchmark run starts, in its work directory on disk
    (not a tmpfs: a durable commit there would cost nothing)."""

    def __init__(self, build, workdir, log):
        self.build = build
        self.dir = Path(workdir)
        self.log = log
        self.procs = []
        self.broker = None
        self.dispatcher = None
        self.mqtt_port = None
        self.http_port = None
        self.token = "bench-" + os.urandom(12).hex()
        self.broker_conf = ""
        self.dispatcher_conf = ""
        DISPLAY_VARS.append((str(self.dir), "$BENCH_DIR"))

    # -- programs -----------------------------------------------------

    def program(self, name):
        path = find_program(self.build, name)
        if path is None:
            raise RunError("not run: program missing: %s (not built under "
                           "%s)" % (name, self.build))
        return path

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.http_port

    def _start(self, name, argv):
        p = Proc(name, argv, self.dir / (name + ".log"))
        p.start()
        self.procs.append(p)
        return p

    def stop(self, proc, deadline=30.0):
        """Stops one process; its problems go to the log, not an error:
        a measurement already taken stays valid."""
        if proc in self.procs:
            self.procs.remove(proc)
        for problem in proc.stop(deadline):
            self.log("warning: %s" % problem)

    def stop_all(self):
        for p in reversed(list(self.procs)):
            self.stop(p)

    def check_alive(self, proc):
        if not proc.alive():
            raise RunError("%s exited unexpectedly; end of %s:\n%s" % (
                proc.name, proc.log_path, proc.log_text()[-2000:]))

    # -- broker -------------------------------------------------------

    def start_broker(self):
        if MOSQUITTO is None:
            raise RunError("not run: program missing: mosquitto")
        self.mqtt_port = free_port()
        # Credentials are not what is measured: anonymous on loopback.
        self.broker_conf = "\n".join([
            "listener %d 127.0.0.1" % self.mqtt_port,
            "allow_anonymous true",
            "set_tcp_nodelay true",
            "max_queued_messages 100000",
            "max_inflight_messages 1000",
            "persistence false",
            "max_connections -1",
            "log_type error",
            "log_type warning",
            "",
        ])
        conf = self.dir / "mosquitto.conf"
        conf.write_text(self.broker_conf)
        self.broker = self._start("mosquitto", [MOSQUITTO, "-c", conf])
        wait_until(lambda: port_accepts(self.mqtt_port) or
                   self.check_alive(self.broker), START_DEADLINE,
                   "mosquitto on port %d" % self.mqtt_port)
        DISPLAY_VARS.append(("--port %d" % self.mqtt_port,
                             "--port $MQTT_PORT"))
        DISPLAY_VARS.append(("mqtt_port %d" % self.mqtt_port,
                             "mqtt_port $MQTT_PORT"))
        DISPLAY_VARS.append(("listener %d" % self.mqtt_port,
                             "listener $MQTT_PORT"))

    # -- dispatcher ---------------------------------------------------

    @property
    def db_path(self):
        return self.dir / "dispatcher.db"

    def start_dispatcher(self):
        """Starts (or restarts, keeping its database) the dispatcher and
        waits for /healthz."""
        if self.http_port is None:
            self.http_port = free_port()
            (self.dir / "api-token").write_text(self.token + "\n")
            os.chmod(self.dir / "api-token", 0o600)
            DISPLAY_VARS.append((self.token, "$TOKEN"))
            DISPLAY_VARS.append((self.url, "$URL"))
            DISPLAY_VARS.append(("http_port %d" % self.http_port,
                                 "http_port $HTTP_PORT"))
        # The defaults but for the log level.
        self.dispatcher_conf = "\n".join([
            "db_path %s" % self.db_path,
            "http_bind 127.0.0.1",
            "http_port %d" % self.http_port,
            "api_token_file %s" % (self.dir / "api-token"),
            "mqtt_host 127.0.0.1",
            "mqtt_port %d" % self.mqtt_port,
            "log_level warn",
            "",
        ])
        conf = self.dir / "dispatcher.conf"
        conf.write_text(self.dispatcher_conf)
        self.dispatcher = self._start(
            "dispatcher", [self.program("cmdbus-dispatcher"), "-c", conf])
        wait_until(lambda: self._healthy() or
                   self.check_alive(self.dispatcher), START_DEADLINE,
                   "the dispatcher's /healthz")

    def stop_dispatcher(self):
        self.stop(self.dispatcher)
        self.dispatcher = None

    def _healthy(self):
        try:
            with urllib.request.urlopen(self.url + "/healthz",
                                        timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def api(self, method, path, body=None, timeout=90):
        """One REST request; returns (status, decoded JSON or None)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data,
                                     method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, None

    def db(self):
        """A read-only connection to the dispatcher's database (WAL lets
        it read while the dispatcher writes)."""
        c = sqlite3.connect("file:%s?mode=ro" % self.db_path, uri=True,
                            timeout=10)
        return c

    def online_count(self, like="%"):
        with self.db() as c:
            return c.execute("SELECT count(*) FROM devices WHERE online = 1"
                             " AND id LIKE ?", (like,)).fetchone()[0]

    def wait_online(self, n, like, deadline=START_DEADLINE):
        wait_until(lambda: self.online_count(like) >= n or
                   self.check_alive(self.dispatcher), deadline,
                   "%d devices (%s) online at the dispatcher" % (n, like))

    # -- devices ------------------------------------------------------

    def start_agent(self, device, exec_enabled=False, max_running=None):
        """A real cmdbus-agent on the bench broker; waits until the
        dispatcher shows it online."""
        state = self.dir / ("agent-" + device)
        state.mkdir(exist_ok=True)
        lines = ["device_id %s" % device, "mqtt_host 127.0.0.1",
                 "mqtt_port %d" % self.mqtt_port, "state_dir %s" % state,
                 "exec_enabled %s" % ("true" if exec_enabled else "false"),
                 "log_level warn"]
        if max_running:
            lines.append("max_running %d" % max_running)
        conf = self.dir / ("agent-%s.conf" % device)
        conf.write_text("\n".join(lines) + "\n")
        p = self._start("agent-" + device,
                        [self.program("cmdbus-agent"), "-c", conf])
        self.wait_online(1, device)
        self.check_alive(p)
        return p

    def start_loadgen(self, name, first, count, labels, procs=1,
                      deadline=180.0):
        """`cmdbus-loadgen agents`: count simulated devices from index
        first; returns (proc, displayed command, seconds to ready)."""
        argv = [self.program("cmdbus-loadgen"), "agents", "--host",
                "127.0.0.1", "--port", self.mqtt_port, "--prefix", PREFIX,
                "--count", count, "--first", first, "--labels", labels,
                "--procs", procs]
        t0 = time.monotonic()
        p = self._start(name, argv)

        def ready():
            self.check_alive(p)
            return last_json(p.log_text(), "event", "ready")

        wait_until(ready, deadline, "%s ready" % name, interval=0.2)
        return p, display(argv), time.monotonic() - t0

    def stop_loadgen(self, proc):
        """Stops a loadgen; returns its stats lines (one per process)."""
        self.stop(proc)
        return all_json(proc.log_text(), "event", "stats")
