# SPDX-License-Identifier: MIT
"""Exactly-once on a real agent and broker: the same command envelope
delivered twice, and again after a restart, runs once and gets the same
result bytes; an agent killed with SIGKILL during a run reports it
LOST/interrupted after its restart and kills the group it left behind."""

import base64
import json
import os
import shutil
import subprocess
import time
import unittest

from harness import (AgentLink, ClusterTestCase, Device, RESULT_DEADLINE,
                     agent_path, command, new_id, pid_alive, wait_until)

DEV = "dev-1"


@unittest.skipUnless(agent_path(), "CMDBUS_AGENT not set")
class AgentJournal(ClusterTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.cluster(Device(DEV, exec_enabled=True))
        self.link = AgentLink(self.c, DEV)
        self.addCleanup(self.link.close)

    def test_duplicate_delivery_runs_once_across_restarts(self):
        target = self.c.dir / "appended.txt"
        cid = new_id()
        env = command(cid, DEV, "exec",
                      {"argv": ["sh", "-c", "echo ran >> '%s'" % target]})
        self.link.publish(env)
        self.link.publish(env)
        results = self.link.wait_results(cid, 1)
        self.assertEqual(results[0]["state"], "SUCCEEDED", results)
        # A duplicate while it runs gets its latest report; once it
        # finished, the stored result, byte for byte.
        self.link.publish(env)
        wait_until(lambda: len(self.link.raw_results(cid)) >= 2 and
                   len(self.link.reports(cid)) + len(
                       self.link.raw_results(cid)) >= 4,
                   RESULT_DEADLINE, "answers to both duplicates")
        raw = self.link.raw_results(cid)
        self.assertEqual(len(set(raw)), 1, raw)
        self.assertEqual(target.read_text(), "ran\n")

        # Again after an orderly restart and after a kill -9.
        for how in ("restart", "kill"):
            if how == "restart":
                self.c.stop_agent(DEV)
            else:
                self.c.devices[DEV].proc.kill()
                self.c.devices[DEV].proc = None
            self.c.start_agent(DEV)
            self.link.wait_online()
            n = len(self.link.raw_results(cid))
            self.link.publish(env)
            self.link.wait_results(cid, n + 1)
            self.assertEqual(self.link.raw_results(cid)[-1], raw[0], how)
            self.assertEqual(target.read_text(), "ran\n", how)

    def test_kill_during_run_is_lost_after_restart(self):
        cid = new_id()
        pidfile = self.c.dir / "grandchild.pid"
        self.link.publish(command(
            cid, DEV, "exec",
            {"argv": ["sh", "-c", "sleep 60 & echo $! > '%s'; wait" %
                      pidfile]}, timeout_ms=60000))
        running = self.link.wait_report(cid, "RUNNING")
        leader = running["pid"]
        wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(),
                   RESULT_DEADLINE, "the grandchild's pid")
        grandchild = int(pidfile.read_text())
        self.c.devices[DEV].proc.kill()
        self.c.devices[DEV].proc = None
        # The run outlives the agent (its own process group)...
        self.assertTrue(os.path.exists("/proc/%d" % grandchild))
        self.c.start_agent(DEV)
        # ...until the restarted agent kills the group it left behind.
        result = self.link.wait_results(cid, 1)[0]
        self.assertEqual(result["state"], "LOST", result)
        self.assertEqual(result["error"]["code"], "interrupted", result)
        for pid in (leader, grandchild):
            wait_until(lambda: not pid_alive(pid), RESULT_DEADLINE,
                       "process %d to be killed" % pid)
        # Remembered: a re-send gets the same answer and runs nothing.
        self.link.publish(command(cid, DEV, "exec",
                                  {"argv": ["sh", "-c", "exit 3"]}))
        again = self.link.wait_results(cid, 2)
        self.assertEqual(again[1], again[0])

    def test_kill_between_finishing_and_publishing(self):
        # The broker goes away during the run, so the result is journaled
        # but cannot go out; then the agent is killed. Deterministic, and
        # no hook in the program: the gap is held open from outside.
        target = self.c.dir / "gap.txt"
        cid = new_id()
        env = command(cid, DEV, "exec", {"argv": [
            "sh", "-c", "sleep 1; echo done >> '%s'; echo out" % target]})
        self.link.publish(env)
        self.link.wait_report(cid, "RUNNING")
        self.c.broker.kill()
        self.c.broker = None
        agent = self.c.devices[DEV].proc
        wait_until(lambda: "exec.finished exec=%s" % cid in agent.log_text(),
                   RESULT_DEADLINE, "the run to finish")
        self.assertEqual(self.link.results(cid), [])
        agent.kill()
        self.c.devices[DEV].proc = None
        self.link.close()

        self.c.start_broker()
        self.link = AgentLink(self.c, DEV)
        self.addCleanup(self.link.close)
        # The dispatcher sends unfinished executions again: the stored
        # result answers, and nothing runs a second time.
        self.link.publish(env)
        r = self.link.wait_results(cid)[0]
        self.assertEqual(r["state"], "SUCCEEDED", r)
        self.assertEqual(r["stdout"], "out\n")
        self.assertEqual(target.read_text(), "done\n")
        self.assertEqual(self.link.reports(cid), [])

    def test_idempotent_run_is_run_again_after_a_crash(self):
        cid = new_id()
        marker = self.c.dir / "idem.txt"
        self.link.publish(command(
            cid, DEV, "exec",
            {"argv": ["sh", "-c", "echo run >> '%s'; sleep 60" % marker]},
            timeout_ms=60000, idempotent=True))
        self.link.wait_report(cid, "RUNNING")
        wait_until(marker.exists, RESULT_DEADLINE, "the first run")
        self.c.devices[DEV].proc.kill()
        self.c.devices[DEV].proc = None
        time.sleep(0.2)
        self.c.start_agent(DEV)
        # A new run with its own ACCEPTED and RUNNING.
        wait_until(lambda: len(self.link.reports(cid, "RUNNING")) >= 2,
                   RESULT_DEADLINE, "a second RUNNING report")
        wait_until(lambda: marker.read_text().count("run") == 2,
                   RESULT_DEADLINE, "the second run")
        self.assertEqual(self.link.results(cid), [])


def _sign(key, payload):
    """Ed25519 over "cmdbus/v1/cmd\\0" + payload, with the openssl CLI."""
    data = key.parent / "to-sign"
    data.write_bytes(b"cmdbus/v1/cmd\0" + payload.encode())
    sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", str(key),
                          "-rawin", "-in", str(data)], check=True,
                         stdout=subprocess.PIPE).stdout
    return base64.b64encode(sig).decode()


@unittest.skipUnless(agent_path() and shutil.which("openssl"),
                     "CMDBUS_AGENT not set or no openssl")
class SignedDuplicates(ClusterTestCase):
    def test_signed_duplicate_runs_once_across_a_restart(self):
        c = self.cluster()
        key = c.dir / "disp.key"
        pub = c.dir / "disp.pub"
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519",
                        "-out", str(key)], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout",
                        "-out", str(pub)], check=True)
        c.add_device(Device(DEV, exec_enabled=True,
                            options={"trusted_key": "disp-1=%s" % pub}))
        link = AgentLink(c, DEV)
        self.addCleanup(link.close)
        target = c.dir / "signed.txt"
        cid = new_id()
        payload = json.loads(command(cid, DEV, "exec", {"argv": [
            "sh", "-c", "echo ran >> '%s'" % target]}))["payload"]
        env = json.dumps({"v": 1, "alg": "ed25519", "kid": "disp-1",
                          "sig": _sign(key, payload), "payload": payload},
                         separators=(",", ":"))
        link.publish(env)
        first = link.wait_results(cid)[0]
        self.assertEqual(first["state"], "SUCCEEDED", first)
        c.devices[DEV].proc.kill()
        c.devices[DEV].proc = None
        c.start_agent(DEV)
        link.wait_online()
        link.publish(env)
        link.wait_results(cid, 2)
        raw = link.raw_results(cid)
        self.assertEqual(raw[0], raw[1])
        self.assertEqual(target.read_text(), "ran\n")
        # The same payload unsigned is refused, never answered from the
        # journal (a forger cannot read a result out of it either).
        link.publish(command(cid, DEV, "exec", {"argv": ["true"]}))
        wait_until(lambda: len(link.results(cid)) >= 3, RESULT_DEADLINE,
                   "an answer to the unsigned copy")
        self.assertEqual(link.results(cid)[2]["error"]["code"],
                         "bad_signature")


if __name__ == "__main__":
    unittest.main()
