# SPDX-License-Identifier: MIT
"""Crash points of a test build (-DCMDBUS_CRASHPOINTS=ON): the agent is
killed by SIGKILL at each named point of one command's life, restarted,
and sent the same command again as the dispatcher would; the command must
end exactly once, as docs/protocol.md ("Crash points") says for that
point."""

import signal
import unittest

from harness import (AgentLink, ClusterTestCase, Device, RESULT_DEADLINE,
                     agent_path, command, new_id, pid_alive, wait_until)

DEV = "dev-1"


@unittest.skipUnless(agent_path(), "CMDBUS_AGENT not set")
class AgentCrashpoints(ClusterTestCase):
    def setUp(self):
        super().setUp()
        device = Device(DEV, exec_enabled=True)
        self.c = self.cluster(device)
        self.arm = self.c.dir / "crashpoint"
        device.env["CMDBUS_CRASHPOINT_FILE"] = str(self.arm)
        self.target = self.c.dir / "appended.txt"
        self.link = AgentLink(self.c, DEV)
        self.addCleanup(self.link.close)

    # -- helpers ----------------------------------------------------------

    def lines(self):
        if not self.target.exists():
            return []
        return self.target.read_text().splitlines()

    def crash_at(self, point, cid, env):
        """Arms `point`, sends env and waits for the agent to die there
        by SIGKILL; then starts it again."""
        self.arm.write_text(point + "\n")
        agent = self.c.devices[DEV].proc
        self.link.publish(env)
        try:
            status = agent.popen.wait(timeout=RESULT_DEADLINE)
        except Exception:
            self.fail("the agent did not crash at %s" % point)
        self.c.devices[DEV].proc = None
        self.assertEqual(status, -signal.SIGKILL, point)
        self.assertIn("crashpoint.hit point=%s exec=%s" % (point, cid),
                      agent.log_text())
        self.assertEqual(agent.sanitizer_findings(), [])
        self.assertFalse(self.arm.exists(), "one arming, one crash")

    def restart(self):
        self.c.start_agent(DEV)
        self.link.wait_online()

    def resend_same(self, cid, env):
        """Sends env again; the answer must be the first result, byte for
        byte. Returns that result."""
        wait_until(lambda: self.link.raw_results(cid), RESULT_DEADLINE,
                   "a result for %s" % cid)
        n = len(self.link.raw_results(cid))
        self.link.publish(env)
        wait_until(lambda: len(self.link.raw_results(cid)) > n,
                   RESULT_DEADLINE, "the answer to the re-send")
        raw = self.link.raw_results(cid)
        self.assertEqual(len(set(raw)), 1, raw)
        return self.link.results(cid)[0]

    def append_cmd(self, cid, **kw):
        return command(cid, DEV, "exec", {"argv": [
            "sh", "-c", "echo ran >> '%s'; echo out" % self.target]}, **kw)

    # -- the four points --------------------------------------------------

    def test_received_nothing_durable_so_the_resend_runs_once(self):
        cid = new_id()
        env = self.append_cmd(cid)
        self.crash_at("received", cid, env)
        self.assertEqual(self.link.reports(cid), [])
        self.assertEqual(self.link.results(cid), [])
        self.restart()
        self.link.publish(env)
        r = self.resend_same(cid, env)
        self.assertEqual(r["state"], "SUCCEEDED", r)
        self.assertEqual(r["stdout"], "out\n", r)
        self.assertEqual(self.lines(), ["ran"])

    def test_journaled_is_lost_after_restart_and_nothing_ran(self):
        cid = new_id()
        env = self.append_cmd(cid)
        self.crash_at("journaled", cid, env)
        # RECEIVED was durable, ACCEPTED never went out.
        self.assertEqual(self.link.reports(cid), [])
        self.restart()
        # Answered after the reconnect, without a re-send.
        r = self.link.wait_results(cid)[0]
        self.assertEqual(r["state"], "LOST", r)
        self.assertEqual(r["error"]["code"], "interrupted", r)
        self.assertEqual(self.resend_same(cid, env), r)
        self.assertEqual(self.link.reports(cid), [])
        self.assertEqual(self.lines(), [])

    def test_journaled_idempotent_runs_again_once(self):
        cid = new_id()
        env = self.append_cmd(cid, idempotent=True)
        self.crash_at("journaled", cid, env)
        self.assertEqual(self.link.reports(cid), [])
        self.restart()
        # A new run with its own ACCEPTED, without a re-send.
        r = self.link.wait_results(cid)[0]
        self.assertEqual(r["state"], "SUCCEEDED", r)
        self.assertEqual(len(self.link.reports(cid, "ACCEPTED")), 1)
        self.assertEqual(self.resend_same(cid, env), r)
        self.assertEqual(self.lines(), ["ran"])

    def test_running_is_lost_and_its_group_killed(self):
        cid = new_id()
        env = command(cid, DEV, "exec", {"argv": [
            "sh", "-c", "sleep 60 & echo $$ $! >> '%s'; wait" %
            self.target]}, timeout_ms=60000)
        self.crash_at("running", cid, env)
        # ACCEPTED may have died with the agent, unsent: the answers to a
        # message leave together once it is handled.
        self.assertLessEqual(len(self.link.reports(cid, "ACCEPTED")), 1)
        # The run was under way and outlives the agent (its own group).
        wait_until(lambda: self.lines(), RESULT_DEADLINE, "the run's line")
        pids = [int(p) for p in self.lines()[0].split()]
        for pid in pids:
            self.assertTrue(pid_alive(pid), pid)
        self.restart()
        r = self.link.wait_results(cid)[0]
        self.assertEqual(r["state"], "LOST", r)
        self.assertEqual(r["error"]["code"], "interrupted", r)
        for pid in pids:
            wait_until(lambda: not pid_alive(pid), RESULT_DEADLINE,
                       "process %d to be killed" % pid)
        self.assertEqual(self.resend_same(cid, env), r)
        self.assertEqual(len(self.lines()), 1)

    def test_finished_result_is_answered_from_the_journal(self):
        cid = new_id()
        env = self.append_cmd(cid)
        self.crash_at("finished", cid, env)
        # Ran to its end, but its result never went out.
        self.assertEqual(self.link.results(cid), [])
        first_boot = self.link.wait_report(cid, "RUNNING")["boot_id"]
        self.restart()
        self.link.publish(env)
        r = self.resend_same(cid, env)
        self.assertEqual(r["state"], "SUCCEEDED", r)
        self.assertEqual(r["stdout"], "out\n", r)
        # The stored result of the first process, not a second run.
        self.assertEqual(r["boot_id"], first_boot, r)
        self.assertEqual(len(self.link.reports(cid, "ACCEPTED")), 1)
        self.assertEqual(self.lines(), ["ran"])

    def test_unarmed_or_other_point_changes_nothing(self):
        # A file naming no point of this command's path (ping takes the
        # combined path) stays armed, and the agent runs on.
        self.arm.write_text("finished\n")
        cid = new_id()
        self.link.publish(command(cid, DEV, "ping", {}))
        r = self.link.wait_results(cid)[0]
        self.assertEqual(r["state"], "SUCCEEDED", r)
        self.assertTrue(self.c.devices[DEV].proc.alive())
        self.assertTrue(self.arm.exists())
        self.arm.unlink()


if __name__ == "__main__":
    unittest.main()
