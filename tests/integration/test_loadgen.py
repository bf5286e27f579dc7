# SPDX-License-Identifier: MIT
"""cmdbus-loadgen against the real dispatcher and a real broker: 50
simulated devices come online, then 100 tracked jobs (10 in flight) all
end SUCCEEDED, and both modes print the result lines the benchmark
orchestrator reads."""

import json
import os
import signal
import subprocess
import unittest

from harness import (START_DEADLINE, STOP_DEADLINE, ClusterTestCase,
                     SANITIZER_MARKERS, free_port, wait_until)

LOADGEN = os.environ.get("CMDBUS_LOADGEN")
DEVICES = 50


def json_lines(text):
    return [json.loads(line) for line in text.splitlines()
            if line.startswith("{")]


def online(cluster):
    view = cluster.get_json("/v1/devices?limit=200")
    return sum(1 for d in view["devices"] if d.get("online") is True)


@unittest.skipUnless(LOADGEN, "CMDBUS_LOADGEN is not set")
class LoadgenTest(ClusterTestCase):
    def test_agents_and_tracked_jobs(self):
        c = self.cluster()
        # The bench broker: anonymous, as in docs/benchmarks.md; the
        # harness starts what is already written.
        c.broker_port = free_port()
        (c.dir / "mosquitto.conf").write_text(
            "listener %d 127.0.0.1\nallow_anonymous true\n"
            "set_tcp_nodelay true\nmax_queued_messages 100000\n"
            "max_inflight_messages 1000\npersistence false\n"
            "max_connections -1\nlog_dest stderr\nlog_type error\n"
            "log_type warning\n" % c.broker_port)
        c.start_broker()
        c.start_dispatcher(mqtt_password_file=None, mqtt_username=None)
        err_path = c.dir / "loadgen-agents.err"
        with open(err_path, "wb") as err:
            agents = subprocess.Popen(
                [LOADGEN, "agents", "--host", "127.0.0.1", "--port",
                 str(c.broker_port), "--count", str(DEVICES), "--procs",
                 "2", "--labels", "site=lg"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=err, start_new_session=True)
        try:
            ready = json.loads(agents.stdout.readline())
            self.assertEqual(ready["event"], "ready")
            self.assertEqual(ready["devices"], DEVICES)
            wait_until(lambda: online(c) == DEVICES, START_DEADLINE,
                       "every simulated device online at the dispatcher")

            rest = subprocess.run(
                [LOADGEN, "rest", "--url",
                 "http://127.0.0.1:%d" % c.http_port, "--token", c.token,
                 "--kind", "track", "--devices", str(DEVICES),
                 "--requests", "100", "--concurrency", "10"],
                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                timeout=120)
            self.assertEqual(rest.returncode, 0, rest.stderr)
            line = json_lines(rest.stdout)[-1]
            self.assertEqual(line["event"], "rest")
            self.assertEqual(line["kind"], "track")
            self.assertEqual(line["requests"], 100)
            self.assertEqual(line["ok"], 100)
            self.assertEqual(line["errors"], 0)
            self.assertGreater(line["rate"], 0)
            self.assertLessEqual(line["p50_ms"], line["p99_ms"])
            self.assertLessEqual(line["p99_ms"], line["max_ms"])
        finally:
            os.killpg(agents.pid, signal.SIGTERM)
            out, _ = agents.communicate(timeout=STOP_DEADLINE)
        self.assertEqual(agents.returncode, 0,
                         err_path.read_text(errors="replace")[-2000:])
        stats = [s for s in json_lines(out.decode())
                 if s["event"] == "stats"]
        self.assertEqual(len(stats), 2)  # one line per process
        self.assertEqual(sum(s["commands"] for s in stats), 100)
        self.assertEqual(sum(s["results"] for s in stats), 100)
        self.assertEqual(sum(s["errors"] for s in stats), 0)
        err_text = err_path.read_text(errors="replace")
        for marker in SANITIZER_MARKERS:
            self.assertNotIn(marker, err_text)
        # A clean stop publishes every device's offline status.
        wait_until(lambda: online(c) == 0, START_DEADLINE,
                   "every simulated device offline")


if __name__ == "__main__":
    unittest.main()
