# SPDX-License-Identifier: MIT
"""MQTT from the outside: mosquitto_sub and mosquitto_pub wrapped for the
tests, the unsigned envelopes, commands and cancels the dispatcher would
send, and AgentLink, which talks to one agent with no dispatcher."""

import json
import secrets
import shutil
import subprocess
import threading
import time

from harness_cluster import DISPATCHER_USER, PREFIX
from harness_procs import (MOSQUITTO_PUB, MOSQUITTO_SUB, RESULT_DEADLINE,
                           START_DEADLINE, _child_setup, wait_until)


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
