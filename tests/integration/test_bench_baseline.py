# SPDX-License-Identifier: MIT
"""Smoke test of the benchmarks' raw baselines (bench/baseline/): each
program runs for a moment against a real broker, a temporary database or
a socket and prints the one JSON line the benchmark orchestrator reads;
bench-responder answers a real command as the contract says."""

import hashlib
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from harness import (MOSQUITTO, MqttSub, Proc, START_DEADLINE, command,
                     free_port, mqtt_pub, new_id, port_accepts, wait_until)

PROGRAMS = {name: os.environ.get(var) for name, var in (
    ("rtt", "CMDBUS_BENCH_MQTT_RTT"), ("sqlite", "CMDBUS_BENCH_SQLITE"),
    ("mhd", "CMDBUS_BENCH_MHD"), ("responder", "CMDBUS_BENCH_RESPONDER"))}

# The bench broker's settings (docs/benchmarks.md), anonymous.
BROKER_CONF = """listener {port} 127.0.0.1
allow_anonymous true
set_tcp_nodelay true
max_queued_messages 100000
max_inflight_messages 1000
persistence false
max_connections -1
"""


def json_line(text):
    """The last line of stdout that is a JSON object."""
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError("no JSON line in %r" % text)


@unittest.skipUnless(all(PROGRAMS.values()) and MOSQUITTO,
                     "bench programs or mosquitto not given")
class BaselineSmoke(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = Path(tempfile.mkdtemp(prefix="cmdbus-bench-"))
        cls.port = free_port()
        (cls.dir / "mosquitto.conf").write_text(
            BROKER_CONF.format(port=cls.port))
        cls.broker = Proc("mosquitto", [MOSQUITTO, "-c",
                                        cls.dir / "mosquitto.conf"],
                          cls.dir / "mosquitto.log").start()
        try:
            wait_until(lambda: port_accepts(cls.port), START_DEADLINE,
                       "mosquitto to accept connections")
        except AssertionError:
            cls.broker.kill()
            raise

    @classmethod
    def tearDownClass(cls):
        problems = cls.broker.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)
        if problems:
            raise AssertionError("; ".join(problems))

    def run_json(self, *argv, timeout=30):
        p = subprocess.run([str(a) for a in argv], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json_line(p.stdout)

    def rtt(self, *args):
        return self.run_json(PROGRAMS["rtt"], "--host", "127.0.0.1",
                             "--port", self.port, *args)

    def test_mqtt_sequential(self):
        r = self.rtt("--mode", "seq", "--count", 200, "--size", 300)
        self.assertEqual(r["bench"], "mqtt_rtt_seq")
        self.assertEqual(r["count"], 200)
        self.assertGreater(r["p50_us"], 0)
        self.assertLessEqual(r["p50_us"], r["p99_us"])

    def test_mqtt_pipelined(self):
        r = self.rtt("--mode", "pipe", "--conns", 20, "--window", 40,
                     "--duration", 1, "--protocol", 311)
        self.assertEqual((r["bench"], r["conns"], r["window"]),
                         ("mqtt_rtt_pipe", 20, 40))
        self.assertGreater(r["rate"], 0)

    def test_mqtt_fanout(self):
        r = self.rtt("--mode", "fanout", "--devices", 300, "--procs", 2)
        self.assertEqual((r["bench"], r["devices"], r["received"]),
                         ("mqtt_fanout", 300, 300))
        self.assertGreater(r["ms"], 0)

    def test_sqlite(self):
        for batch, rows in ((1, 50), (1000, 2000)):
            r = self.run_json(PROGRAMS["sqlite"], "--dir", self.dir,
                              "--rows", rows, "--batch", batch)
            self.assertEqual((r["bench"], r["batch"], r["rows"]),
                             ("sqlite", batch, rows))
            self.assertGreater(r["rows_per_s"], 0)
        self.assertEqual(list(self.dir.glob("bench-sqlite-*")), [],
                         "the database is left behind")

    def test_mhd_serves_with_keep_alive(self):
        p = subprocess.Popen([PROGRAMS["mhd"], "--port", "0"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            ready = json.loads(p.stdout.readline())
            self.assertEqual(ready["event"], "ready")
            conn = http.client.HTTPConnection("127.0.0.1", ready["port"],
                                              timeout=10)
            for _ in range(2):  # the same connection both times
                conn.request("GET", "/v1/executions/x")
                resp = conn.getresponse()
                body = json.loads(resp.read())
                self.assertEqual(resp.status, 200)
                self.assertEqual(body["state"], "SUCCEEDED")
                self.assertNotEqual(resp.getheader("Connection"), "close")
            conn.close()
            p.terminate()
            out, err = p.communicate(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(json_line(out), {"bench": "mhd", "requests": 2})

    def test_responder_answers_a_command(self):
        device = "bench-smoke"
        p = subprocess.Popen([PROGRAMS["responder"], "--host", "127.0.0.1",
                              "--port", str(self.port), "--device", device],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            self.assertEqual(json.loads(p.stdout.readline()),
                             {"event": "ready", "device": device})
            with MqttSub(self.port, "x", "x",
                         ["cmdbus/v1/%s/+" % device]) as sub:
                sub.wait_subscribed()
                cid = new_id()
                env = command(cid, device, "ping", {})
                sent = json.loads(env)["payload"].encode()
                self.assertEqual(mqtt_pub(self.port, "x", "x",
                                          "cmdbus/v1/%s/cmd" % device, env),
                                 0)

                def result():
                    for topic, text in sub.messages():
                        if topic.endswith("/result"):
                            return json.loads(json.loads(text)["payload"])
                    return None
                wait_until(result, 10, "the responder's result")
                status = [json.loads(json.loads(t)["payload"])
                          for topic, t in sub.messages()
                          if topic.endswith("/status")]
            res = result()
            self.assertEqual((res["type"], res["id"], res["state"],
                              res["stdout"], res["exit_code"]),
                             ("result", cid, "SUCCEEDED", "pong", 0))
            self.assertEqual(res["cmd_sha256"],
                             hashlib.sha256(sent).hexdigest())
            self.assertTrue(status and status[0]["online"])
            self.assertEqual(status[0]["actions"], [{"name": "ping"}])
            p.terminate()
            out, err = p.communicate(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(json_line(out),
                         {"bench": "responder", "commands": 1, "errors": 0})


if __name__ == "__main__":
    unittest.main()
