# SPDX-License-Identifier: MIT
"""Restarts: a job for a stopped agent runs once the agent is back; the
dispatcher's database keeps jobs across its own restart; and a job
accepted while the broker is down is published once it is back, even
across a dispatcher restart. Every stop is a SIGTERM that must end with
status 0."""

import unittest

from harness import (RESULT_DEADLINE, START_DEADLINE, ClusterTestCase, Device,
                     execution_by_device, wait_until)

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "CANCELED", "REJECTED",
            "EXPIRED", "LOST"}


class Restart(ClusterTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.cluster(Device("dev-1", {"site": "lab"}),
                              Device("dev-2", {"site": "edge"})).start()

    def stop_agent(self, device_id):
        self.assertEqual(self.c.stop_agent(device_id), [])

    def stop_dispatcher(self):
        self.assertEqual(self.c.stop_dispatcher(), [])

    def assert_pong(self, job, devices):
        self.assertEqual(job["counts"], {"SUCCEEDED": len(devices)}, job)
        by_dev = execution_by_device(job)
        self.assertEqual(sorted(by_dev), sorted(devices))
        for e in by_dev.values():
            self.assertEqual(e["result"]["stdout"], "pong")

    def test_job_for_a_stopped_agent_runs_when_it_starts(self):
        self.stop_agent("dev-1")
        # Its clean shutdown said so: the dispatcher shows it offline.
        self.c.wait_offline(["dev-1"])
        created = self.c.submit("ping", ["dev-1", "dev-2"])
        # dev-2 answers; dev-1 cannot, so the job stays unfinished.

        def dev2_done():
            view = self.c.get_json("/v1/jobs/" + created["id"])
            return execution_by_device(view)["dev-2"]["state"] in TERMINAL \
                and view
        view = wait_until(dev2_done, RESULT_DEADLINE,
                          "dev-2's execution to finish")
        self.assertEqual(view["state"], "RUNNING")
        e1 = execution_by_device(view)["dev-1"]
        self.assertNotIn(e1["state"], TERMINAL)
        self.assertNotIn("result", e1)

        self.c.start_agent("dev-1")
        job = self.c.wait_job(created["id"])
        self.assert_pong(job, ["dev-1", "dev-2"])
        # The result came from the new agent process.
        boot_id = self.c.get_json("/v1/devices/dev-1")["boot_id"]
        self.assertEqual(execution_by_device(job)["dev-1"]["result"]
                         ["boot_id"], boot_id)

    def test_dispatcher_restart_keeps_jobs(self):
        done = self.c.wait_job(self.c.submit("ping", ["dev-1",
                                                      "dev-2"])["id"])
        self.assert_pong(done, ["dev-1", "dev-2"])
        self.stop_agent("dev-2")
        self.c.wait_offline(["dev-2"])
        pending = self.c.submit("ping", ["dev-2"])
        before_done = self.c.get_json("/v1/jobs/" + done["id"])
        e_id = done["executions"][0]["id"]
        before_exec = self.c.get_json("/v1/executions/" + e_id)

        self.stop_dispatcher()
        self.c.start_dispatcher()
        # The finished job and its execution read back exactly as before.
        self.assertEqual(self.c.get_json("/v1/jobs/" + done["id"]),
                         before_done)
        self.assertEqual(self.c.get_json("/v1/executions/" + e_id),
                         before_exec)
        # The unfinished one is still there and finishes once dev-2 is back.
        again = self.c.get_json("/v1/jobs/" + pending["id"])
        self.assertEqual(again["id"], pending["id"])
        self.assertEqual(again["state"], "RUNNING")
        self.c.start_agent("dev-2")
        self.assert_pong(self.c.wait_job(pending["id"]), ["dev-2"])
        # Presence came back too (from the retained status and the agent).
        self.c.wait_online(["dev-1", "dev-2"])

    def test_job_accepted_while_broker_down_is_published_later(self):
        self.stop_agent("dev-1")
        self.c.wait_offline(["dev-1"])
        self.assertEqual(self.c.stop_broker(), [])
        # The dispatcher notices the broker is gone.
        wait_until(lambda: self.c.health() == 503, START_DEADLINE,
                   "/healthz to report the broker down")
        created = self.c.submit("ping", ["dev-1"])
        e = created["executions"][0]
        self.assertEqual(e["state"], "QUEUED")
        # The database, not the broker, holds it: a dispatcher restart
        # while the broker is still down keeps it.
        self.stop_dispatcher()
        self.c.start_dispatcher(wait=False)
        wait_until(lambda: self.c.health() == 503, START_DEADLINE,
                   "the dispatcher to answer again")
        self.assertEqual(self.c.get_json("/v1/jobs/" + created["id"])
                         ["executions"][0]["state"], "QUEUED")
        self.c.start_broker()
        self.c.wait_healthy()
        self.c.start_agent("dev-1")
        job = self.c.wait_job(created["id"])
        self.assert_pong(job, ["dev-1"])


if __name__ == "__main__":
    unittest.main()
