# SPDX-License-Identifier: MIT
"""Faults: the broker killed with SIGKILL and restarted loses nothing (the
dispatcher resends from its database); the dispatcher killed with SIGKILL
mid-run and restarted finishes every accepted job, each command run once;
a full disk answers 507 on job creation while reads keep working, and
recovers without a restart when space returns."""

import os
import subprocess
import unittest

from harness import (RESULT_DEADLINE, ClusterTestCase, Device, metrics,
                     wait_until)

FAST = {
    "retry_initial": "500ms",
    "retry_max": "2s",
    "timeout_grace": "2s",
    "lost_grace": "2s",
    "sweep_interval": "100ms",
}


class Faults(ClusterTestCase):
    def start(self, *devices, agents=None, **options):
        c = self.cluster(*devices)
        c.dispatcher_options.update(FAST)
        c.dispatcher_options.update(options)
        return c.start(agents=agents)

    def accepted_once(self, c, device_id, exec_ids):
        log = c.devices[device_id].proc.log_text()
        for exec_id in exec_ids:
            self.assertEqual(log.count("cmd.accepted exec=%s " % exec_id), 1,
                             exec_id)

    def test_broker_kill9_loses_nothing(self):
        c = self.start(Device("dev-1"), agents=[])
        # Commands sit in dev-1's session at the broker when it dies.
        jobs = [c.submit("ping", ["dev-1"], allow_unknown=True) for _ in range(10)]
        wait_until(lambda: metrics(c)["cmdbus_outbox_inflight"] == 10,
                   RESULT_DEADLINE, "the window to be published")
        c.broker.kill()
        c.broker = None
        wait_until(lambda: c.health() == 503, RESULT_DEADLINE,
                   "/healthz to report the broker down")
        c.start_broker()
        c.wait_healthy()
        c.start_agent("dev-1")
        for j in jobs:
            done = c.wait_job(j["id"])
            self.assertEqual(done["counts"], {"SUCCEEDED": 1}, done)
        self.accepted_once(c, "dev-1",
                           [j["executions"][0]["id"] for j in jobs])

    def test_dispatcher_kill9_mid_run_finishes_every_job(self):
        c = self.start(Device("dev-1", exec_enabled=True))
        jobs = [c.submit("exec", ["dev-1"], allow_unknown=True, args={"argv": ["sleep", "1"]})
                for _ in range(3)]
        jobs += [c.submit("ping", ["dev-1"], allow_unknown=True) for _ in range(3)]
        # SIGKILL right after the 201s: some commands are running, some
        # results will arrive while nobody listens.
        c.dispatcher.kill()
        c.dispatcher = None
        c.start_dispatcher()
        for j in jobs:
            done = c.wait_job(j["id"], timeout=RESULT_DEADLINE)
            self.assertEqual(done["counts"], {"SUCCEEDED": 1}, done)
        self.accepted_once(c, "dev-1",
                           [j["executions"][0]["id"] for j in jobs])

    def test_disk_full_answers_507_and_recovers(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a small tmpfs needs root")
        c = self.cluster(Device("dev-1"))
        mnt = c.dir / "small"
        mnt.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m",
                            "tmpfs", str(mnt)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: %s" %
                          r.stderr.decode(errors="replace"))
        # Runs after tearDown has stopped the dispatcher.
        self.addCleanup(subprocess.run, ["umount", "-l", str(mnt)],
                        stdin=subprocess.DEVNULL)
        c.dispatcher_options.update(FAST)
        c.dispatcher_options["db_path"] = mnt / "dispatcher.db"
        c.start()
        done = c.wait_job(c.submit("ping", ["dev-1"], allow_unknown=True)["id"])
        # Fill the file system. Unbuffered: a buffered file would still
        # hold the bytes of the write that found the disk full and fail
        # again when closed, depending on how much room the database left.
        filler = mnt / "filler"
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        big = {"argv": ["echo", "x" * 60000]}
        body = {"target": {"devices": ["dev-1"]}, "action": "exec",
                "args": big, "timeout_ms": 1000, "ttl_ms": 60000}
        statuses = [c.post("/v1/jobs", body) for _ in range(5)]
        full = [r for r in statuses if r.status == 507]
        self.assertTrue(full, statuses)
        self.assertEqual(full[0].json()["error"]["message"], "storage full")
        # Reads keep working.
        self.assertEqual(c.get_json("/v1/jobs/" + done["id"])["state"],
                         "COMPLETED")
        # Space returns: accepted again, without a restart.
        filler.unlink()
        r = c.post("/v1/jobs", {"target": {"devices": ["dev-1"]},
                                "action": "ping"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(c.wait_job(r.json()["id"])["counts"],
                         {"SUCCEEDED": 1})


if __name__ == "__main__":
    unittest.main()
