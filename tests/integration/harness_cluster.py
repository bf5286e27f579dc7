# SPDX-License-Identifier: MIT
"""A broker, a dispatcher and agents in one temporary directory: their
generated configurations, start-up in order, an orderly stop that reports
every problem, and the test case that always tears them down."""

import atexit
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from harness_procs import (MOSQUITTO, MOSQUITTO_PASSWD, START_DEADLINE, Proc,
                           agent_path, dispatcher_path, free_port,
                           port_accepts, wait_until)
from harness_rest import RestClient

REPO = Path(__file__).resolve().parents[2]
BROKER_CONF = REPO / "broker-conf"
PREFIX = "cmdbus/v1"
DISPATCHER_USER = "cmdbus-dispatcher"


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


class Device:
    def __init__(self, device_id, labels=None, exec_enabled=False,
                 options=None):
        self.id = device_id
        self.labels = dict(labels or {})
        self.exec_enabled = exec_enabled
        self.options = dict(options or {})
        self.password = secrets.token_hex(16)
        # Extra environment variables of the agent's process.
        self.env = {}
        # Put before the agent's argv, e.g. ["ip", "netns", "exec", NS] to
        # run it in a network namespace (a prefix that execs the program,
        # so that the process keeps its pid and its signals).
        self.wrap = []
        self.proc = None


class Cluster(RestClient):
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
        # The dispatcher's counterpart of Device.wrap, and more addresses
        # the broker listens on (its port), for programs in namespaces.
        self.dispatcher_wrap = []
        self.broker_extra_hosts = []
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
            conf += "".join("listener %d %s\n" % (self.broker_port, host)
                            for host in self.broker_extra_hosts)
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
        self.dispatcher = Proc("cmdbus-dispatcher",
                               list(self.dispatcher_wrap) + [path, "-c", conf],
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
                           list(device.wrap) + [path, "-c", conf],
                           self.dir / ("agent-%s.log" % device.id),
                           env=dict(os.environ, **device.env)).start()
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
