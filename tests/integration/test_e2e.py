# SPDX-License-Identifier: MIT
"""End to end: jobs go over REST to the real dispatcher, over a real
Mosquitto to real agents, and their results come back into the job and
execution views."""

import json
import os
import re
import socket
import unittest

from harness import ClusterTestCase, Device, execution_by_device

INFO_KEYS = {"os", "kernel", "arch", "hostname", "uptime_s", "load",
             "mem_total_kb", "mem_avail_kb", "disk_total_kb",
             "disk_avail_kb"}
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def fleet():
    """Three agents with different labels; exec enabled on dev-1 only."""
    return (Device("dev-1", {"site": "lab", "role": "web"},
                   exec_enabled=True),
            Device("dev-2", {"site": "lab", "role": "db"}),
            Device("dev-3", {"site": "edge", "role": "web"}))


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


class EndToEnd(ClusterTestCase):
    protocol = 5

    def setUp(self):
        super().setUp()
        self.c = self.cluster(*fleet(), protocol=self.protocol).start()

    def assert_run_result(self, execution, device, state="SUCCEEDED"):
        """The parts of a result every finished run carries."""
        self.assertEqual(execution["state"], state, execution)
        r = execution["result"]
        self.assertEqual(r["type"], "result")
        self.assertEqual(r["id"], execution["id"])
        self.assertEqual(r["device"], device)
        self.assertEqual(r["state"], state)
        self.assertRegex(r["cmd_sha256"], SHA256_HEX)
        self.assertTrue(r["boot_id"])
        for key in ("stdout_truncated", "stderr_truncated"):
            self.assertIs(r[key], False, r)
        self.assertTrue(is_int(r["finished_at"]), r)
        return r

    def test_ping_to_three_agents(self):
        devices = ["dev-1", "dev-2", "dev-3"]
        created = self.c.submit("ping", devices)
        self.assertEqual(created["action"], "ping")
        self.assertEqual(created["state"], "RUNNING")
        self.assertEqual(sorted(e["device"] for e in created["executions"]),
                         devices)
        self.assertEqual(len({e["id"] for e in created["executions"]}), 3)

        job = self.c.wait_job(created["id"])
        self.assertEqual(job["id"], created["id"])
        self.assertEqual(job["counts"], {"SUCCEEDED": 3})
        self.assertTrue(is_int(job.get("finished_at")), job)
        by_dev = execution_by_device(job)
        self.assertEqual(sorted(by_dev), devices)
        boot_ids = set()
        for device, e in by_dev.items():
            self.assertEqual(e["job"], job["id"])
            self.assertEqual(e["action"], "ping")
            r = self.assert_run_result(e, device)
            self.assertEqual(r["exit_code"], 0)
            self.assertEqual(r["stdout"], "pong")
            self.assertEqual(r["stderr"], "")
            self.assertEqual(r["stdout_bytes"], 4)
            boot_ids.add(r["boot_id"])
        self.assertEqual(len(boot_ids), 3, "each agent has its own boot_id")

        # One execution on its own, with the full result.
        e = by_dev["dev-2"]
        one = self.c.get_json("/v1/executions/" + e["id"])
        self.assertEqual(one["id"], e["id"])
        self.assertEqual(one["job"], job["id"])
        self.assertEqual(one["device"], "dev-2")
        self.assertEqual(one["state"], "SUCCEEDED")
        self.assertEqual(one["result"], e["result"])
        self.assertGreaterEqual(one["finished_at"], one["created_at"])

    def test_info_to_three_agents(self):
        job = self.c.wait_job(self.c.submit(
            "info", ["dev-1", "dev-2", "dev-3"])["id"])
        self.assertEqual(job["counts"], {"SUCCEEDED": 3})
        uname = os.uname()
        for device, e in execution_by_device(job).items():
            r = self.assert_run_result(e, device)
            self.assertEqual(r["exit_code"], 0)
            info = self.parse_json(r["stdout"])
            self.assertIsInstance(info, dict)
            self.assertEqual(set(info), INFO_KEYS, info)
            for key in ("os", "kernel", "arch", "hostname"):
                self.assertIsInstance(info[key], str)
                self.assertTrue(info[key], key)
            # The agents run on this machine.
            self.assertEqual(info["kernel"], uname.release)
            self.assertEqual(info["arch"], uname.machine)
            self.assertEqual(info["hostname"], socket.gethostname())
            self.assertEqual(len(info["load"]), 3)
            for v in info["load"]:
                self.assertIsInstance(v, (int, float))
                self.assertGreaterEqual(v, 0)
            for key in ("uptime_s", "mem_total_kb", "mem_avail_kb",
                        "disk_total_kb", "disk_avail_kb"):
                self.assertTrue(is_int(info[key]), key)
            self.assertGreater(info["mem_total_kb"], 0)
            self.assertLessEqual(info["mem_avail_kb"], info["mem_total_kb"])
            self.assertGreater(info["disk_total_kb"], 0)
            self.assertLessEqual(info["disk_avail_kb"],
                                 info["disk_total_kb"])

    def parse_json(self, text):
        try:
            return json.loads(text)
        except ValueError as e:
            self.fail("not JSON: %r (%s)" % (text, e))

    def test_exec_where_enabled_and_disabled(self):
        job = self.c.wait_job(self.c.submit(
            "exec", ["dev-1"], args={"argv": ["echo", "hi"]})["id"])
        e = execution_by_device(job)["dev-1"]
        r = self.assert_run_result(e, "dev-1")
        self.assertEqual(r["exit_code"], 0)
        self.assertEqual(r["stdout"], "hi\n")
        self.assertEqual(r["stderr"], "")
        self.assertEqual(r["stdout_bytes"], 3)
        self.assertTrue(is_int(r["started_at"]), r)

        # A failing command, its stderr, and stdin passed through.
        job = self.c.wait_job(self.c.submit(
            "exec", ["dev-1"],
            args={"argv": ["sh", "-c", "cat; echo oops >&2; exit 3"],
                  "stdin": "from stdin"})["id"])
        r = self.assert_run_result(execution_by_device(job)["dev-1"],
                                   "dev-1", state="FAILED")
        self.assertEqual(r["exit_code"], 3)
        self.assertEqual(r["stdout"], "from stdin")
        self.assertEqual(r["stderr"], "oops\n")

        # dev-2 has exec switched off: refused, nothing run.
        job = self.c.wait_job(self.c.submit(
            "exec", ["dev-2"], args={"argv": ["echo", "hi"]})["id"])
        self.assertEqual(job["counts"], {"REJECTED": 1})
        e = execution_by_device(job)["dev-2"]
        self.assertEqual(e["state"], "REJECTED")
        r = e["result"]
        self.assertEqual(r["state"], "REJECTED")
        self.assertEqual(r["error"]["code"], "action_disabled")
        self.assertNotIn("stdout", r)

    def test_labels_and_all_targets(self):
        cases = [
            ({"role": "web"}, ["dev-1", "dev-3"]),
            ({"site": "lab"}, ["dev-1", "dev-2"]),
            ({"site": "lab", "role": "db"}, ["dev-2"]),
        ]
        for labels, expected in cases:
            with self.subTest(labels=labels):
                created = self.c.submit("ping", labels=labels)
                self.assertEqual(sorted(e["device"]
                                        for e in created["executions"]),
                                 expected)
                job = self.c.wait_job(created["id"])
                self.assertEqual(job["counts"], {"SUCCEEDED": len(expected)})
        r = self.c.post("/v1/jobs", {"target": {"all": True},
                                     "action": "ping"})
        self.assertEqual(r.status, 201, r)
        job = self.c.wait_job(r.json()["id"])
        self.assertEqual(sorted(execution_by_device(job)),
                         ["dev-1", "dev-2", "dev-3"])
        self.assertEqual(job["counts"], {"SUCCEEDED": 3})
        # No device carries this label: nothing to run, named in the 400.
        r = self.c.post("/v1/jobs", {"target": {"labels": {"site": "moon"}},
                                     "action": "ping"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"]["field"].split(".")[0], "target")

    def test_device_views(self):
        devices = {d["id"]: d for d in self.c.devices_view()}
        self.assertEqual(sorted(devices), ["dev-1", "dev-2", "dev-3"])
        d2 = self.c.get_json("/v1/devices/dev-2")
        self.assertEqual(d2["id"], "dev-2")
        self.assertIs(d2["online"], True)
        self.assertEqual(d2["labels"], {"site": "lab", "role": "db"})
        self.assertTrue(d2["boot_id"])
        self.assertTrue(is_int(d2["last_seen"]))
        names2 = {a["name"] for a in d2["actions"]}
        self.assertLessEqual({"ping", "info"}, names2)
        self.assertNotIn("exec", names2)
        names1 = {a["name"] for a in devices["dev-1"]["actions"]}
        self.assertIn("exec", names1)
        self.assertEqual(devices["dev-3"]["labels"],
                         {"site": "edge", "role": "web"})
        self.assertEqual(self.c.get("/v1/devices/dev-9").status, 404)


class EndToEndMqtt311(EndToEnd):
    """The same over MQTT 3.1.1, which the contract also requires."""
    protocol = 311


if __name__ == "__main__":
    unittest.main()
