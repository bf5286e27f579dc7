# SPDX-License-Identifier: MIT
"""The bad-input corpus (tests/badinput/make-corpus.py) against a real
broker, dispatcher and agent whose exec action appends to a marker file:
every MQTT case published at the agent's cmd topic is refused (answered
REJECTED or EXPIRED with a code when an id can be read, otherwise dropped
and logged, or dropped by the broker when over its size limit), every
REST case gets a 4xx with a JSON error naming its code (and the field
when one is at fault), nothing runs, nothing crashes, and a valid job
still succeeds afterwards."""

import collections
import importlib.util
import json
import socket
import struct
import sys
import time
import unittest
from pathlib import Path

from harness import ClusterTestCase, Device
from harness_cluster import DISPATCHER_USER, PREFIX, REPO
from harness_mqtt import MqttSub

_SPEC = importlib.util.spec_from_file_location(
    "make_corpus", Path(__file__).resolve().parents[1] / "badinput" /
    "make-corpus.py")
corpus = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(corpus)

CASE_DEADLINE = 5.0  # seconds for the agent to answer or drop one case
POLL = 0.005


# -- a minimal MQTT 3.1.1 publisher: hundreds of QoS 1 messages over one
# connection, each acknowledged before the next (mosquitto_pub per case
# would cost a process and a connection each).

def _varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _str(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


class Publisher:
    def __init__(self, port, user, password, client_id):
        self.args = (port, user, password, client_id)
        self.pid = 0
        self.sock = None
        self.connect()

    def connect(self):
        port, user, password, client_id = self.args
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        var = _str("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", 60)
        body = var + _str(client_id) + _str(user) + _str(password)
        self.sock.sendall(b"\x10" + _varint(len(body)) + body)
        ack = self._packet()
        if ack[0] != 0x20 or ack[1][1] != 0:
            raise AssertionError("CONNACK refused: %r" % (ack,))

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("broker closed the connection")
            buf += chunk
        return buf

    def _packet(self):
        head = self._read(1)[0]
        n, mult = 0, 1
        while True:
            b = self._read(1)[0]
            n += (b & 0x7F) * mult
            mult *= 128
            if not b & 0x80:
                break
        return head & 0xF0, self._read(n)

    def publish(self, topic, payload):
        """QoS 1; True once acknowledged, False when the broker closed
        the connection instead (then reconnected for the next one)."""
        self.pid = self.pid % 65535 + 1
        body = _str(topic) + struct.pack("!H", self.pid) + payload
        try:
            self.sock.sendall(b"\x32" + _varint(len(body)) + body)
            while True:
                kind, data = self._packet()
                if kind == 0x40 and struct.unpack("!H", data[:2])[0] == \
                        self.pid:
                    return True
        except (ConnectionError, OSError):
            self.close()
            self.connect()
            return False

    def close(self):
        try:
            self.sock.sendall(b"\xe0\x00")
        except OSError:
            pass
        self.sock.close()


class BadInput(ClusterTestCase):
    def test_corpus_is_refused_and_nothing_runs(self):
        t0 = time.monotonic()
        # dev-1 trusts no key, so payloads reach its decoders; dev-2
        # trusts one, for the envelope's signature fields.
        key = REPO / "tests" / "vectors" / "keys" / "test-2026a.pub.pem"
        self.c = self.cluster(
            Device("dev-1", {"site": "lab"}, exec_enabled=True),
            Device("dev-2", {"site": "lab"}, exec_enabled=True,
                   options={"trusted_key": "test-2026a=%s" % key})).start()
        marker = self.c.dir / "ran"
        mqtt_cases, rest_cases = corpus.make(
            "dev-1", "dev-2", str(marker), int(time.time() * 1000))
        self.assertGreaterEqual(len(mqtt_cases) + len(rest_cases), 300)
        agents = {d: self.c.devices[d].proc for d in ("dev-1", "dev-2")}
        rows = []
        rows += self.mqtt_corpus(mqtt_cases, agents, marker)
        rows += self.rest_corpus(rest_cases)
        self.assertFalse(marker.exists(), "a bad input ran: %s" % (
            marker.read_text() if marker.exists() else ""))
        self.assertEqual(self.c.get_json("/v1/jobs").get("jobs", []), [],
                         "a bad REST request created a job")
        # Still serving: both processes alive and a valid job runs.
        self.assertTrue(all(a.alive() for a in agents.values()))
        self.assertTrue(self.c.dispatcher.alive())
        job = self.c.wait_job(self.c.submit(
            "exec", ["dev-1"], args={"argv": ["/bin/sh", "-c",
                                              "echo ok >> '%s'" % marker]}
        )["id"])
        self.assertEqual(job["counts"], {"SUCCEEDED": 1}, job)
        self.assertEqual(marker.read_text(), "ok\n")
        self.summary(rows, time.monotonic() - t0)

    # -- MQTT ---------------------------------------------------------

    def mqtt_corpus(self, cases, agents, marker):
        sub = MqttSub(self.c.broker_port, DISPATCHER_USER,
                      self.c.dispatcher_password,
                      ["%s/+/result" % PREFIX, "%s/+/status" % PREFIX],
                      client_id="bad-input-sub",
                      protocol=self.c.protocol).wait_subscribed()
        self.addCleanup(sub.close)
        pub = Publisher(self.c.broker_port, DISPATCHER_USER,
                        self.c.dispatcher_password, "bad-input-pub")
        self.addCleanup(pub.close)
        rows = []
        for case in cases:
            with self.subTest(case=case["class"] + "/" + case["name"]):
                agent = agents[case["device"]]
                log = Path(agent.log_path)
                start = log.stat().st_size
                acked = pub.publish("%s/%s/cmd" % (PREFIX, case["device"]),
                                    case["data"])
                if case["broker"]:
                    outcome = "broker:%s" % ("acked" if acked else
                                             "closed")
                    rows.append(("mqtt", case["class"], outcome))
                    continue
                outcome = self.wait_outcome(case, log, start, sub)
                rows.append(("mqtt", case["class"], outcome))
                # Refused: answered REJECTED or EXPIRED with a code, or
                # dropped and logged with a reason.
                self.assertRegex(outcome, r"^(answered:(REJECTED|EXPIRED)/"
                                 r"[a-z_]+|dropped:[a-z_]+)$", case["name"])
                self.assertFalse(marker.exists(), case["name"])
                self.assertTrue(agent.alive(), case["name"])
        # Nothing was accepted or run, whatever the id.
        for _, text in sub.messages():
            try:
                p = json.loads(json.loads(text)["payload"])
            except (ValueError, KeyError, TypeError):
                continue
            if p.get("type") == "report":
                self.fail("a bad command was accepted: %s" % text)
            if p.get("type") == "result":
                self.assertIn(p.get("state"), ("REJECTED", "EXPIRED"), text)
        # The broker's size limit kept the oversized ones from the agents.
        text = "".join(Path(a.log_path).read_text(errors="replace")
                       for a in agents.values())
        for line in text.splitlines():
            if "cmd.received" in line and "bytes=" in line:
                n = int(line.split("bytes=")[1].split()[0])
                self.assertLessEqual(n, corpus.MAX_MESSAGE, line)
        return rows

    def wait_outcome(self, case, log, start, sub):
        deadline = time.monotonic() + CASE_DEADLINE
        while time.monotonic() < deadline:
            if case["id"]:
                for _, text in sub.messages():
                    if case["id"] not in text:
                        continue
                    try:
                        p = json.loads(json.loads(text)["payload"])
                    except (ValueError, KeyError, TypeError):
                        continue
                    if p.get("id") == case["id"] and \
                            p.get("type") == "result":
                        code = (p.get("error") or {}).get("code", "-")
                        return "answered:%s/%s" % (p.get("state"), code)
            with open(log, "rb") as f:
                f.seek(start)
                new = f.read().decode(errors="replace")
            for line in new.splitlines():
                if "cmd.dropped" in line:
                    reason = line.split("reason=")[1].split()[0] \
                        if "reason=" in line else "-"
                    return "dropped:%s" % reason
            time.sleep(POLL)
        return "no outcome within %.0f s" % CASE_DEADLINE

    # -- REST ---------------------------------------------------------

    def oversized(self, case):
        """An oversized body announced with `Expect: 100-continue`, as
        curl sends large bodies: the server answers from the headers and
        the body need not go. (A client that sends it regardless may be
        reset while sending, since the server closes after its 413.)"""
        body = case["body"].encode() if isinstance(case["body"], str) \
            else bytes(case["body"])
        head = ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Authorization: Bearer %s\r\nContent-Type: %s\r\n"
                "Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % (
                    case["method"], case["path"], self.c.token,
                    case["content_type"], len(body))).encode()
        with socket.create_connection(("127.0.0.1", self.c.http_port),
                                      timeout=10) as s:
            s.sendall(head)
            f = s.makefile("rb")
            status = int(f.readline().split()[1])
            if status == 100:
                f.readline()
                s.sendall(body)
                status = int(f.readline().split()[1])
            length = 0
            while True:
                line = f.readline().strip()
                if not line:
                    break
                k, _, v = line.decode().partition(":")
                if k.lower() == "content-length":
                    length = int(v)
            text = f.read(length).decode(errors="replace")
        return collections.namedtuple("Resp", "status body")(status, text)

    def rest_corpus(self, cases):
        rows = []
        for case in cases:
            with self.subTest(case=case["class"] + "/" + case["name"]):
                if case["status"] == 413:
                    r = self.oversized(case)
                else:
                    r = self.c.request(case["method"], case["path"],
                                       body=case["body"],
                                       content_type=case["content_type"])
                code = "-"
                try:
                    err = json.loads(r.body)["error"]
                    code = err["code"]
                    field = err.get("field")
                except (ValueError, KeyError, TypeError):
                    err, field = None, None
                rows.append(("rest", case["class"], "%d %s" % (r.status,
                                                              code)))
                self.assertTrue(400 <= r.status < 500, "%s: %r" % (
                    case["name"], r))
                if case["status"]:
                    self.assertEqual(r.status, case["status"], "%s: %r" % (
                        case["name"], r))
                if case["method"] != "HEAD":
                    self.assertIsNotNone(err, "%s: %r" % (case["name"], r))
                    self.assertTrue(code and err.get("message"), r)
                if case["field"]:
                    self.assertTrue((field or "").startswith(case["field"]),
                                    "%s: field %r, want %s: %r" % (
                                        case["name"], field, case["field"],
                                        r))
        return rows

    def summary(self, rows, secs):
        counts = collections.Counter(rows)
        out = ["", "bad input: %d cases in %.1f s" % (len(rows), secs),
               "%-5s %-16s %-36s %5s" % ("KIND", "CLASS", "OUTCOME",
                                         "CASES")]
        for (kind, cls, outcome), n in sorted(counts.items()):
            out.append("%-5s %-16s %-36s %5d" % (kind, cls, outcome, n))
        by_outcome = collections.Counter((k, o) for k, _, o in rows)
        out.append("totals by outcome:")
        for (kind, outcome), n in sorted(by_outcome.items()):
            out.append("  %-5s %-36s %5d" % (kind, outcome, n))
        sys.stderr.write("\n".join(out) + "\n")


if __name__ == "__main__":
    unittest.main()
