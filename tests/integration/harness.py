# SPDX-License-Identifier: MIT
"""Integration test harness: a real Mosquitto on a free loopback port, the
real cmdbus-dispatcher and cmdbus-agent programs, a small REST client, and
a teardown that always runs and fails the test when a program did not exit
cleanly or printed a sanitizer report."""

import atexit
import ctypes
import http.client
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BROKER_CONF = REPO / "broker-conf"
PREFIX = "cmdbus/v1"
DISPATCHER_USER = "cmdbus-dispatcher"

# Lines that mean a sanitizer found something; UBSan's own reports start
# with "file:line:col: runtime error:".
SANITIZER_MARKERS = (
    "AddressSanitizer",
    "LeakSanitizer",
    "UndefinedBehaviorSanitizer",
    "runtime error:",
)

# Deadlines, in seconds. Generous: the programs run under ASan on a small
# shared machine. Nothing waits for a fixed time; these only bound polls.
START_DEADLINE = 30.0
STOP_DEADLINE = 20.0
RESULT_DEADLINE = 30.0
POLL_INTERVAL = 0.05


def _tool(env_name, name, extra_dirs=("/usr/sbin", "/sbin")):
    """The path of a program: $env_name, else PATH, else the sbin dirs."""
    path = os.environ.get(env_name)
    if path:
        return path
    found = shutil.which(name)
    if found:
        return found
    for d in extra_dirs:
        cand = os.path.join(d, name)
        if os.access(cand, os.X_OK):
            return cand
    return None


MOSQUITTO = _tool("MOSQUITTO", "mosquitto")
MOSQUITTO_PASSWD = _tool("MOSQUITTO_PASSWD", "mosquitto_passwd")
MOSQUITTO_SUB = _tool("MOSQUITTO_SUB", "mosquitto_sub")
MOSQUITTO_PUB = _tool("MOSQUITTO_PUB", "mosquitto_pub")


def dispatcher_path():
    return os.environ.get("CMDBUS_DISPATCHER")


def agent_path():
    return os.environ.get("CMDBUS_AGENT")


def free_port():
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_accepts(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(pred, timeout, what, interval=POLL_INTERVAL):
    """Polls pred() until it returns a true value, which is returned; raises
    AssertionError naming `what` when the deadline passes first."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(
                "timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


# Children die with the harness even when it is killed outright (a ctest
# timeout): the kernel sends them SIGKILL when their parent goes away.
try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - non-glibc systems
    _libc = None
_PR_SET_PDEATHSIG = 1


def _child_setup():
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _sanitizer_env(env):
    """Sanitizer settings that make every finding fatal and visible, unless
    the caller chose its own."""
    env.setdefault("ASAN_OPTIONS",
                   "detect_leaks=1:halt_on_error=1:print_stacktrace=1")
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    env.setdefault("LSAN_OPTIONS", "exitcode=23")
    return env


class Proc:
    """One child process in its own process group, its stdout and stderr
    kept in a log file."""

    def __init__(self, name, argv, log_path, env=None, expect_clean=True):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.expect_clean = expect_clean
        self.env = _sanitizer_env(dict(os.environ if env is None else env))
        self.popen = None
        self.returncode = None

    def start(self):
        # Append: a restarted program keeps one log across its lives.
        with open(self.log_path, "ab") as log:
            log.write(("=== start %s: %s\n" % (
                time.strftime("%H:%M:%S"), " ".join(self.argv))).encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=self.env,
                start_new_session=True, preexec_fn=_child_setup)
        self.returncode = None
        return self

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def exited(self):
        """True once the process has exited (it is reaped here)."""
        return self.popen is not None and self.popen.poll() is not None

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def _signal_group(self, sig):
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, deadline=STOP_DEADLINE):
        """SIGTERM to the process group, SIGKILL after the deadline. Returns
        a list of problems: a non-zero exit status, a kill, or a sanitizer
        report in the log."""
        if self.popen is None:
            return []
        problems = []
        if self.popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=deadline)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.popen.wait()
                problems.append("%s did not exit within %.0fs of SIGTERM "
                                "and was killed" % (self.name, deadline))
        else:
            problems.append("%s had already exited (status %s) before it "
                            "was asked to stop" % (self.name,
                                                   self.popen.returncode))
        self.returncode = self.popen.returncode
        self.popen = None
        if self.expect_clean and self.returncode != 0 and not problems:
            problems.append("%s exited with status %s after SIGTERM "
                            "(expected 0)" % (self.name, self.returncode))
        problems.extend(self.sanitizer_findings())
        return problems

    def kill(self):
        """SIGKILL without judging: for emergencies and atexit."""
        if self.popen is not None:
            self._signal_group(signal.SIGKILL)
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.popen = None

    def sanitizer_findings(self):
        text = self.log_text()
        for marker in SANITIZER_MARKERS:
            if marker in text:
                return ["%s printed a sanitizer report (%r) in %s" % (
                    self.name, marker, self.log_path)]
        return []


_LIVE_CLUSTERS = []


def _kill_everything():
    for cluster in list(_LIVE_CLUSTERS):
        cluster.kill_all()
        cluster.remove_dir()


atexit.register(_kill_everything)


def _on_sigterm(signum, frame):
    # Turn SIGTERM into an exception so that teardown and atexit run.
    raise SystemExit(128 + signum)


try:
    signal.signal(signal.SIGTERM, _on_sigterm)
except ValueError:  # imported outside the main thread
    pass


class RestResponse:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise AssertionError("response %d is not JSON: %r (%s)" % (
                self.status, self.body[:200], e))

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


class Device:
    def __init__(self, device_id, labels=None, exec_enabled=False,
                 options=None):
        self.id = device_id
        self.labels = dict(labels or {})
        self.exec_enabled = exec_enabled
        self.options = dict(options or {})
        self.password = secrets.token_hex(16)
        self.proc = None


class Cluster:
    """A broker, a dispatcher and agents in one temporary directory.

    Use it as a context manager, or call close() (which returns the list of
    problems found while stopping) and then remove_dir()."""

    def __init__(self, devices=(), protocol=5, keep=None):
        self.dir = Path(tempfile.mkdtemp(prefix="cmdbus-it-"))
        self.keep = (os.environ.get("CMDBUS_KEEP_TMP") == "1"
                     if keep is None else keep)
        self.protocol = protocol
        self.token = secrets.token_hex(24)
        self.dispatcher_password = secrets.token_hex(16)
        self.devices = {}
        self.broker = None
        self.broker_port = None
        self.dispatcher = None
        self.http_port = None
        self.dispatcher_options = {}
        self.problems = []
        for d in devices:
            self.add_device(d)
        _LIVE_CLUSTERS.append(self)

    # -- set-up ---------------------------------------------------------

    def add_device(self, device):
        if self.broker is not None:
            raise RuntimeError("declare devices before the broker starts")
        self.devices[device.id] = device
        return device

    def _write(self, name, text, mode=0o600):
        path = self.dir / name
        path.write_text(text)
        os.chmod(path, mode)
        return path

    def start_broker(self):
        if not MOSQUITTO or not MOSQUITTO_PASSWD:
            raise AssertionError("mosquitto or mosquitto_passwd not found "
                                 "(set MOSQUITTO and MOSQUITTO_PASSWD)")
        if self.broker_port is None:
            self.broker_port = free_port()
            template = (BROKER_CONF / "test.conf.in").read_text()
            conf = (template.replace("@PORT@", str(self.broker_port))
                    .replace("@DIR@", str(self.dir))
                    .replace("@USER@", pwd.getpwuid(os.getuid()).pw_name))
            self._write("mosquitto.conf", conf)
            shutil.copyfile(BROKER_CONF / "cmdbus.acl", self.dir / "acl")
            passwd = self.dir / "passwd"
            users = [(DISPATCHER_USER, self.dispatcher_password)]
            users += [(d.id, d.password) for d in self.devices.values()]
            for i, (user, password) in enumerate(users):
                argv = [MOSQUITTO_PASSWD]
                argv += ["-c"] if i == 0 else []
                argv += ["-b", str(passwd), user, password]
                subprocess.run(argv, check=True, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
        self.broker = Proc("mosquitto", [MOSQUITTO, "-c",
                                         self.dir / "mosquitto.conf"],
                           self.dir / "mosquitto.log").start()
        wait_until(lambda: self._accepting(self.broker, self.broker_port),
                   START_DEADLINE, "mosquitto to accept connections")
        return self

    def _accepting(self, proc, port):
        if proc.exited():
            raise AssertionError("%s exited during start-up:\n%s" % (
                proc.name, proc.log_text()[-4000:]))
        return port_accepts(port)

    def dispatcher_config(self):
        opts = {
            "db_path": self.dir / "dispatcher.db",
            "http_bind": "127.0.0.1",
            "http_port": self.http_port,
            "api_token_file": self.dir / "api-token",
            "mqtt_host": "127.0.0.1",
            "mqtt_port": self.broker_port,
            "mqtt_client_id": "cmdbus-dispatcher",
            "mqtt_username": DISPATCHER_USER,
            "mqtt_password_file": self.dir / "dispatcher.mqtt-password",
            "mqtt_protocol": self.protocol,
            "mqtt_keepalive": "10s",
            "topic_prefix": PREFIX,
            "log_level": "debug",
        }
        opts.update(self.dispatcher_options)
        return opts

    def start_dispatcher(self, wait=True, **options):
        path = dispatcher_path()
        if not path:
            raise AssertionError("CMDBUS_DISPATCHER is not set (ctest sets "
                                 "it to the built cmdbus-dispatcher)")
        self.dispatcher_options.update(options)
        if self.http_port is None:
            self.http_port = free_port()
        self._write("api-token", self.token + "\n")
        self._write("dispatcher.mqtt-password",
                    self.dispatcher_password + "\n")
        conf = self._write("dispatcher.conf",
                           _render_conf(self.dispatcher_config()))
        self.dispatcher = Proc("cmdbus-dispatcher", [path, "-c", conf],
                               self.dir / "dispatcher.log").start()
        if wait:
            self.wait_healthy()
        return self

    def health(self):
        """The status of GET /healthz, or None when nobody answers."""
        try:
            return self.request("GET", "/healthz", token=None,
                                timeout=5).status
        except OSError:
            return None

    def wait_healthy(self, timeout=START_DEADLINE):
        def healthy():
            if self.dispatcher.exited():
                raise AssertionError("cmdbus-dispatcher exited during "
                                     "start-up:\n" +
                                     self.dispatcher.log_text()[-4000:])
            try:
                r = self.request("GET", "/healthz", token=None)
            except OSError:
                return False
            return r.status == 200
        wait_until(healthy, timeout, "the dispatcher's /healthz to answer "
                   "200")

    def agent_config(self, device):
        lines = [
            ("device_id", device.id),
            ("mqtt_host", "127.0.0.1"),
            ("mqtt_port", self.broker_port),
            ("mqtt_password_file", self.dir / (device.id + ".mqtt-password")),
            ("mqtt_protocol", self.protocol),
            ("mqtt_keepalive", "10s"),
            ("topic_prefix", PREFIX),
            ("exec_enabled", "true" if device.exec_enabled else "false"),
            ("state_dir", self.dir / ("agent-" + device.id)),
            ("kill_grace", "1s"),
            ("shutdown_grace", "1s"),
            ("log_level", "debug"),
        ]
        lines += [("label", "%s=%s" % kv) for kv in device.labels.items()]
        # A device's own options replace the defaults above of that name.
        lines = [(k, v) for k, v in lines if k not in device.options]
        lines += list(device.options.items())
        return lines

    def start_agent(self, device_id):
        path = agent_path()
        if not path:
            raise AssertionError("CMDBUS_AGENT is not set (ctest sets it to "
                                 "the built cmdbus-agent)")
        device = self.devices[device_id]
        (self.dir / ("agent-" + device.id)).mkdir(exist_ok=True)
        self._write(device.id + ".mqtt-password", device.password + "\n")
        conf = self._write("agent-%s.conf" % device.id,
                           _render_conf(self.agent_config(device)))
        device.proc = Proc("cmdbus-agent[%s]" % device.id,
                           [path, "-c", conf],
                           self.dir / ("agent-%s.log" % device.id)).start()
        return device.proc

    def start(self, agents=None, wait_online=True):
        """Broker, dispatcher, then the agents (all declared ones unless
        `agents` lists some), waiting until each shows online."""
        self.start_broker()
        self.start_dispatcher()
        ids = list(self.devices) if agents is None else list(agents)
        for device_id in ids:
            self.start_agent(device_id)
        if wait_online and ids:
            self.wait_online(ids)
        return self

    # -- stopping -------------------------------------------------------

    def _stopped(self, proc):
        problems = proc.stop() if proc is not None else []
        self.problems.extend(problems)
        return problems

    def stop_agent(self, device_id):
        device = self.devices[device_id]
        problems = self._stopped(device.proc)
        device.proc = None
        return problems

    def stop_dispatcher(self):
        problems = self._stopped(self.dispatcher)
        self.dispatcher = None
        return problems

    def stop_broker(self):
        problems = self._stopped(self.broker)
        self.broker = None
        return problems

    def close(self):
        """Stops everything (agents, then the dispatcher, then the broker)
        and returns every problem seen while stopping, in this call or
        earlier ones."""
        for device_id in list(self.devices):
            if self.devices[device_id].proc is not None:
                self.stop_agent(device_id)
        if self.dispatcher is not None:
            self.stop_dispatcher()
        if self.broker is not None:
            self.stop_broker()
        return list(self.problems)

    def kill_all(self):
        for device in self.devices.values():
            if device.proc is not None:
                device.proc.kill()
                device.proc = None
        for proc in (self.dispatcher, self.broker):
            if proc is not None:
                proc.kill()
        self.dispatcher = None
        self.broker = None

    def remove_dir(self):
        if self in _LIVE_CLUSTERS:
            _LIVE_CLUSTERS.remove(self)
        if self.keep:
            sys.stderr.write("kept %s\n" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def dump_logs(self, out=None):
        out = out or sys.stderr
        for log in sorted(self.dir.glob("*.log")):
            out.write("\n----- %s -----\n" % log)
            text = log.read_text(errors="replace")
            if len(text) > 60000:
                text = "[... %d bytes cut ...]\n" % (len(text) - 60000) + \
                    text[-60000:]
            out.write(text)
        out.write("\n----- end of logs (%s) -----\n" % self.dir)
        out.flush()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        problems = self.close()
        if exc_type is not None or problems:
            self.dump_logs()
        self.remove_dir()
        if problems and exc_type is None:
            raise AssertionError("teardown: " + "; ".join(problems))
        return False

    # -- REST -----------------------------------------------------------

    def request(self, method, path, body=None, token="default",
                content_type="application/json", headers=None, timeout=10):
        """One HTTP request. `body` may be a dict (sent as JSON), str or
        bytes; token None sends no Authorization header, content_type None
        no Content-Type. Never raises for an HTTP error status: returns
        it. (http.client rather than urllib, which would add a
        Content-Type of its own.)"""
        if token == "default":
            token = self.token
        data = None
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
            elif isinstance(body, str):
                data = body.encode()
            else:
                data = bytes(body)
        hdrs = {}
        if data is not None and content_type is not None:
            hdrs["Content-Type"] = content_type
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        hdrs.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port,
                                          timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            return RestResponse(resp.status,
                                resp.read().decode(errors="replace"),
                                resp.headers)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def get_json(self, path, status=200):
        r = self.get(path)
        if r.status != status:
            raise AssertionError("GET %s: expected %d, got %r" % (
                path, status, r))
        return r.json()

    def submit(self, action, devices=None, labels=None, args=None,
               timeout_ms=20000, ttl_ms=600000, **extra):
        """POST /v1/jobs; asserts 201 and returns the job view."""
        if labels is not None:
            target = {"labels": labels}
        else:
            target = {"devices": list(devices)}
        body = {"target": target, "action": action,
                "args": {} if args is None else args,
                "timeout_ms": timeout_ms, "ttl_ms": ttl_ms}
        body.update(extra)
        r = self.post("/v1/jobs", body)
        if r.status != 201:
            raise AssertionError("POST /v1/jobs: expected 201, got %r" % r)
        return r.json()

    # -- views ----------------------------------------------------------

    def devices_view(self):
        view = self.get_json("/v1/devices")
        return view["devices"] if isinstance(view, dict) else view

    def online_ids(self):
        return {d.get("id") for d in self.devices_view()
                if d.get("online") is True}

    def wait_online(self, ids, timeout=START_DEADLINE):
        ids = set(ids)

        def check():
            for device_id in ids:
                proc = self.devices[device_id].proc
                if proc is not None and proc.exited():
                    raise AssertionError(
                        "%s exited during start-up:\n%s" % (
                            proc.name, proc.log_text()[-4000:]))
            return ids <= self.online_ids()
        wait_until(check, timeout, "devices %s to show online" %
                   sorted(ids))

    def wait_offline(self, ids, timeout=START_DEADLINE):
        ids = set(ids)
        wait_until(lambda: not (ids & self.online_ids()), timeout,
                   "devices %s to show offline" % sorted(ids))

    def wait_job(self, job_id, timeout=RESULT_DEADLINE, state="COMPLETED"):
        """Polls GET /v1/jobs/{id} until the job reaches `state`."""
        box = {}

        def done():
            box["job"] = self.get_json("/v1/jobs/" + job_id)
            return box["job"].get("state") == state
        try:
            wait_until(done, timeout, "job %s to become %s" % (job_id,
                                                                state))
        except AssertionError as e:
            raise AssertionError("%s; last view: %s" % (
                e, json.dumps(box.get("job"))[:3000]))
        return box["job"]


def _render_conf(options):
    """`key value` lines from a dict or a list of pairs."""
    items = options.items() if isinstance(options, dict) else options
    return "".join("%s %s\n" % (k, v) for k, v in items if v is not None)


class ClusterTestCase(unittest.TestCase):
    """A test case that owns clusters: each is stopped in tearDown (which
    fails the test on any exit or sanitizer problem), its logs printed when
    the test failed, and its directory removed afterwards."""

    def setUp(self):
        self._clusters = []

    def cluster(self, *devices, protocol=5):
        c = Cluster(devices, protocol=protocol)
        self._clusters.append(c)
        return c

    def tearDown(self):
        problems = []
        for c in self._clusters:
            problems.extend(c.close())
        if problems:
            self.fail("teardown: " + "; ".join(problems))

    def run(self, result=None):
        if result is None:
            result = self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        try:
            return super().run(result)
        finally:
            failed = len(result.failures) + len(result.errors) > before
            for c in getattr(self, "_clusters", []):
                c.kill_all()
                if failed:
                    sys.stderr.write("\n===== logs of %s =====\n" % self.id())
                    c.dump_logs()
                c.remove_dir()


def execution_by_device(job):
    """{device id: execution view} of a job view."""
    return {e["device"]: e for e in job["executions"]}


class MqttSub:
    """A mosquitto_sub child that collects `topic payload` lines in a
    thread; wait_subscribed() returns once the broker acknowledged the
    subscriptions, so that later publishes are not missed."""

    def __init__(self, port, user, password, topics, client_id=None,
                 protocol=5):
        if not MOSQUITTO_SUB:
            raise AssertionError("mosquitto_sub not found")
        argv = [MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", str(port),
                "-u", user, "-P", password, "-q", "1", "-v", "-d",
                "-V", "5" if protocol == 5 else "311"]
        for t in topics:
            argv += ["-t", t]
        if client_id:
            argv += ["-i", client_id]
        # mosquitto_sub flushes its debug lines (the SUBACK we wait for)
        # only with the next message unless stdout is line-buffered.
        stdbuf = shutil.which("stdbuf")
        if stdbuf:
            argv = [stdbuf, "-oL"] + argv
        self.lines = []
        self.suback = threading.Event()
        self.lock = threading.Lock()
        self.popen = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, preexec_fn=_child_setup)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.popen.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            with self.lock:
                self.lines.append(line)
            if "received SUBACK" in line:
                self.suback.set()

    def wait_subscribed(self, timeout=START_DEADLINE):
        if not self.suback.wait(timeout):
            self.close()
            raise AssertionError("mosquitto_sub got no SUBACK: %s" %
                                 self.output())
        return self

    def output(self):
        with self.lock:
            return "\n".join(self.lines)

    def messages(self):
        """(topic, payload) pairs received so far; debug lines skipped."""
        out = []
        with self.lock:
            lines = list(self.lines)
        for line in lines:
            if (line.startswith("Client ") or line.startswith("Subscribed ")
                    or " " not in line):
                continue
            topic, payload = line.split(" ", 1)
            out.append((topic, payload))
        return out

    def payloads(self):
        return [p for _, p in self.messages()]

    def wait_for(self, payload, timeout=RESULT_DEADLINE):
        wait_until(lambda: payload in self.payloads(), timeout,
                   "mosquitto_sub to receive %r (got %s)" % (
                       payload, self.messages()))

    def close(self):
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.thread.join(timeout=5)
        self.popen.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def mqtt_pub(port, user, password, topic, payload, retain=False,
             protocol=5):
    """Publishes one QoS 1 message with mosquitto_pub; returns its exit
    status (the broker acknowledges even a publish the ACL drops)."""
    if not MOSQUITTO_PUB:
        raise AssertionError("mosquitto_pub not found")
    argv = [MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(port), "-u", user,
            "-P", password, "-t", topic, "-q", "1", "-m", payload,
            "-V", "5" if protocol == 5 else "311"]
    if retain:
        argv.append("-r")
    return subprocess.run(argv, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=30).returncode


# -- delivery and fault helpers ----------------------------------------

_PROM_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_PROM_LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
_PROM_TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def parse_prometheus(text):
    """Parses Prometheus text exposition format 0.0.4 strictly and returns
    {series: value}, series as `name{l="v",...}` exactly as written.
    Raises AssertionError at the first line that breaks the format: a
    sample before its family's TYPE, a family declared twice, a bad name,
    label or escape, a value that is not a float, a series given twice, or
    histogram buckets that are not cumulative up to +Inf = _count."""
    import re
    sample_re = re.compile(
        r"^(%s)(\{(?:%s=\"(?:[^\"\\\n]|\\[\\\"n])*\"(?:,%s=\"(?:[^\"\\\n]|"
        r"\\[\\\"n])*\")*)?\})? (\S+)$" % (_PROM_NAME, _PROM_LABEL,
                                         _PROM_LABEL))
    if not text.endswith("\n"):
        raise AssertionError("metrics text does not end with a newline")
    types, helps, out = {}, set(), {}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d %r" % (n, line)
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) (%s) (.+)$" % _PROM_NAME, line)
            if not m:
                raise AssertionError("bad comment: " + where)
            kw, name, rest = m.groups()
            if kw == "HELP":
                if name in helps:
                    raise AssertionError("HELP twice: " + where)
                helps.add(name)
            else:
                if name in types or rest not in _PROM_TYPES:
                    raise AssertionError("bad or repeated TYPE: " + where)
                types[name] = rest
            continue
        m = sample_re.match(line)
        if not m:
            raise AssertionError("bad sample: " + where)
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        family = name
        if name not in types:
            for sfx in ("_bucket", "_sum", "_count"):
                base = name[:-len(sfx)]
                if name.endswith(sfx) and types.get(base) == "histogram":
                    family = base
        if family not in types or family not in helps:
            raise AssertionError("sample before its HELP/TYPE: " + where)
        if value not in ("+Inf", "-Inf", "NaN"):
            try:
                float(value)
            except ValueError:
                raise AssertionError("bad value: " + where)
        series = name + labels
        if series in out:
            raise AssertionError("series twice: " + where)
        out[series] = float(value)
    for family, kind in types.items():
        if kind != "histogram":
            continue
        buckets = [(k, v) for k, v in out.items()
                   if k.startswith(family + "_bucket{")]
        values = [v for _, v in buckets]
        if values != sorted(values) or not buckets or \
                not buckets[-1][0].endswith('le="+Inf"}') or \
                buckets[-1][1] != out.get(family + "_count"):
            raise AssertionError("histogram %s is not cumulative up to "
                                 "+Inf = _count" % family)
    return out


def metrics(cluster):
    """GET /metrics, strictly parsed."""
    r = cluster.get("/metrics")
    if r.status != 200:
        raise AssertionError("GET /metrics: %r" % r)
    return parse_prometheus(r.body)


def envelope(payload):
    """An unsigned envelope around a payload dict, as text."""
    return json.dumps({"v": 1, "alg": "none",
                       "payload": json.dumps(payload)})


def wait_exec_state(cluster, exec_id, states, timeout=RESULT_DEADLINE):
    """Polls GET /v1/executions/{id} until its state is one of `states`;
    returns the view."""
    states = {states} if isinstance(states, str) else set(states)
    box = {}

    def check():
        box["e"] = cluster.get_json("/v1/executions/" + exec_id)
        return box["e"]["state"] in states
    try:
        wait_until(check, timeout, "execution %s to reach %s" % (
            exec_id, sorted(states)))
    except AssertionError as e:
        raise AssertionError("%s; last view: %s" % (
            e, json.dumps(box.get("e"))[:2000]))
    return box["e"]


# -- talking to one agent directly, as the dispatcher would -------------


def new_id():
    """A fresh execution id (26 characters, like a ULID)."""
    return secrets.token_hex(13).upper()


def envelope(payload):
    """An unsigned envelope around a payload (a dict or exact text)."""
    if not isinstance(payload, str):
        payload = json.dumps(payload, separators=(",", ":"))
    return json.dumps({"v": 1, "alg": "none", "payload": payload},
                      separators=(",", ":"))


def command(cid, device, action, args, timeout_ms=30000, idempotent=False,
            stream=False, iat=None, exp=None, max_output=None):
    """An unsigned command envelope; iat and exp in ms (default now and
    now + 1 h)."""
    now = int(time.time() * 1000)
    p = {"type": "command", "id": cid, "device": device,
         "iat": now if iat is None else iat,
         "exp": now + 3600000 if exp is None else exp,
         "timeout_ms": timeout_ms, "action": action, "args": args,
         "idempotent": idempotent, "stream": stream}
    if max_output is not None:
        p["max_output"] = max_output
    return envelope(p)


def cancel(cid, device, exp_ms=60000):
    now = int(time.time() * 1000)
    return envelope({"type": "cancel", "id": cid, "device": device,
                     "iat": now, "exp": now + exp_ms})


class AgentLink:
    """A broker and one agent of a Cluster, without a dispatcher: commands
    go out with mosquitto_pub under the dispatcher's credentials and
    everything the agent says is collected with mosquitto_sub."""

    def __init__(self, cluster, device_id, start=True):
        self.c = cluster
        self.device = device_id
        if self.c.broker is None:
            self.c.start_broker()
        self.sub = MqttSub(self.c.broker_port, DISPATCHER_USER,
                           self.c.dispatcher_password,
                           ["%s/%s/result" % (PREFIX, device_id),
                            "%s/%s/status" % (PREFIX, device_id)],
                           protocol=self.c.protocol).wait_subscribed()
        self.onlines = 0
        if start:
            self.c.start_agent(device_id)
            self.wait_online()

    def close(self):
        self.sub.close()

    def publish_raw(self, payload, device=None):
        topic = "%s/%s/cmd" % (PREFIX, device or self.device)
        if len(payload) < 100000:
            rc = mqtt_pub(self.c.broker_port, DISPATCHER_USER,
                          self.c.dispatcher_password, topic, payload,
                          protocol=self.c.protocol)
        else:
            # Too long for one argv element: from a file.
            path = self.c.dir / "big-message"
            path.write_text(payload)
            rc = subprocess.run(
                [MOSQUITTO_PUB, "-h", "127.0.0.1", "-p",
                 str(self.c.broker_port), "-u", DISPATCHER_USER, "-P",
                 self.c.dispatcher_password, "-t", topic, "-q", "1",
                 "-f", str(path),
                 "-V", "5" if self.c.protocol == 5 else "311"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, timeout=30).returncode
        if rc != 0:
            raise AssertionError("mosquitto_pub failed: %d" % rc)

    def publish(self, env):
        self.publish_raw(env)

    def _decoded(self):
        out = []
        for topic, text in self.sub.messages():
            try:
                env = json.loads(text)
                out.append((topic, text, json.loads(env["payload"])))
            except (ValueError, KeyError, TypeError):
                continue
        return out

    def wait_online(self, timeout=START_DEADLINE):
        """Waits for an online status newer than the last one waited for."""
        def count():
            return sum(1 for _, _, p in self._decoded()
                       if p.get("type") == "status" and p.get("online"))
        wait_until(lambda: count() > self.onlines, timeout,
                   "an online status of %s" % self.device)
        self.onlines = count()

    def raw_results(self, cid):
        return [t for _, t, p in self._decoded()
                if p.get("type") == "result" and p.get("id") == cid]

    def results(self, cid):
        return [p for _, _, p in self._decoded()
                if p.get("type") == "result" and p.get("id") == cid]

    def reports(self, cid, state=None):
        return [p for _, _, p in self._decoded()
                if p.get("type") == "report" and p.get("id") == cid
                and (state is None or p.get("state") == state)]

    def outputs(self, cid):
        return [p for _, _, p in self._decoded()
                if p.get("type") == "output" and p.get("id") == cid]

    def wait_results(self, cid, n=1, timeout=RESULT_DEADLINE):
        wait_until(lambda: len(self.results(cid)) >= n, timeout,
                   "%d result(s) for %s" % (n, cid))
        return self.results(cid)

    def wait_report(self, cid, state, timeout=RESULT_DEADLINE):
        wait_until(lambda: self.reports(cid, state), timeout,
                   "a %s report for %s" % (state, cid))
        return self.reports(cid, state)[-1]
