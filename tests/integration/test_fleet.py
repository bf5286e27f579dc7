# SPDX-License-Identifier: MIT
"""Fleet targeting and rollouts on a dozen real agents: label selectors
and the targets they resolve to, batches that are never exceeded,
failure thresholds and canaries that abort and cancel the rest, the
offline policies, a rollout that survives a kill -9 of the dispatcher,
cancel of a running command with a child, and live output followed as
Server-Sent Events. Every REST answer is checked against
docs/rest-api.yaml."""

import time
import unittest

import test_live_output as live
from harness import wait_until
from harness_fleet import (API, OFFLINE, ONLINE, FleetCase, by_device,
                           error_code, peak_concurrency, pid_gone, run_times,
                           selected)

# A command that leaves a marker, so that a test can tell which devices
# ran it; %s is the marker's name.
MARK = "echo ran >> %s"


class Fleet(FleetCase):
    # -- 1. targets ------------------------------------------------------

    def test_label_selection(self):
        # edge-1 has no tier: notin picks it, as a Kubernetes selector.
        self.assertIn("edge-1", selected({"tier": {"notin": ["db"]}}))
        selectors = [
            {"env": "prod"},
            {"env": {"in": ["prod", "staging"]}},
            {"tier": {"notin": ["db"]}},
            {"env": {"in": ["prod", "staging"]}, "tier": {"notin": ["db"]}},
            {"env": "prod", "tier": "web"},
            {"env": {"notin": ["prod", "staging"]}, "site": "sz"},
        ]
        jobs = []
        for sel in selectors:
            expected = selected(sel)
            job = self.submit(labels=sel, ttl_ms=1000)
            got = sorted(e["device"] for e in job["executions"])
            self.assertEqual(got, expected, sel)
            self.assertEqual(job["targets"]["matched"], len(expected), sel)
            self.assertEqual(job["targets"]["offline"],
                             [d for d in sorted(OFFLINE) if d in expected],
                             sel)
            self.assertEqual(job["targets"]["unknown"], [], sel)
            jobs.append((job["id"], expected))
        # The online devices of each job ran it.
        for job_id, expected in jobs:
            online = [d for d in expected if d not in OFFLINE]
            view = self.wait_execs(
                job_id, lambda v: all(
                    by_device(v)[d]["state"] == "SUCCEEDED"
                    for d in online), "the online devices to answer")
            self.assertEqual(sorted(by_device(view)), expected)

        # A device list: offline devices are named, unknown ones refused
        # unless allowed.
        offline = self.submit(["gone-2", "web-1", "gone-1"], ttl_ms=1000)
        self.assertEqual(offline["targets"]["matched"], 3)
        self.assertEqual(sorted(offline["targets"]["offline"]),
                         ["gone-1", "gone-2"])
        self.assertEqual(offline["targets"]["unknown"], [])
        r = self.create(["web-1", "nobody-2", "nobody-1"], status=400)
        err = r.json()["error"]
        self.assertEqual(err["field"], "target.devices", err)
        self.assertIn("nobody-1", err["message"])
        self.assertIn("nobody-2", err["message"])
        unknown = self.submit(["web-1", "nobody-2", "nobody-1"],
                              allow_unknown=True, ttl_ms=1000)
        self.assertEqual(unknown["targets"]["matched"], 3)
        self.assertEqual(sorted(unknown["targets"]["unknown"]),
                         ["nobody-1", "nobody-2"])
        self.assertEqual(unknown["targets"]["offline"], [])
        self.assertEqual(sorted(by_device(unknown)),
                         ["nobody-1", "nobody-2", "web-1"])
        # A selector that matches nothing.
        r = self.create(labels={"env": "moon"}, status=400)
        self.assertEqual(r.json()["error"]["field"], "target")
        # Each list of targets is by id, whatever the request's order.
        self.assertEqual(offline["targets"]["offline"], ["gone-1", "gone-2"])
        self.assertEqual(unknown["targets"]["unknown"],
                         ["nobody-1", "nobody-2"])

    # -- 2. batches --------------------------------------------------------

    def test_batch_size_never_exceeded(self):
        for batch in (3, "30%"):
            with self.subTest(batch_size=batch):
                job = self.submit(ONLINE, script="sleep 0.3",
                                  rollout={"batch_size": batch})
                self.assertEqual(job["rollout"]["batch_size"], 3)
                self.assertLessEqual(job["rollout"]["released"], 3)
                seen = []

                def watch(view):
                    # Sampled while it runs: never more than a batch out.
                    busy = sum(n for s, n in view["counts"].items()
                               if s in ("PUBLISHED", "DELIVERED", "RUNNING"))
                    seen.append((busy, view["rollout"]["in_progress"]))
                view = self.wait_finished(job["id"], watch=watch)
                self.assertEqual(view["state"], "COMPLETED", view)
                self.assertEqual(view["counts"], {"SUCCEEDED": 10})
                self.assertLessEqual(max(b for b, _ in seen), 3, seen)
                self.assertLessEqual(max(p for _, p in seen), 3, seen)
                runs = run_times(view)
                self.assertEqual(len(runs), 10)
                peak = peak_concurrency(runs)
                self.assertLessEqual(peak, 3, runs)
                # And the rollout did run batches side by side.
                self.assertGreaterEqual(peak, 2, runs)
                ro = view["rollout"]
                self.assertEqual((ro["phase"], ro["released"],
                                  ro["in_progress"], ro["waiting"],
                                  ro["failures"]), ("done", 10, 0, 0, 0),
                                 ro)

    # -- 3. failure thresholds ---------------------------------------------

    def assert_aborted(self, view, marker):
        """The never-released executions of an aborted job: CANCELED with
        rollout_aborted, never published, never run. Returns them."""
        self.assertEqual(view["state"], "ABORTED", view)
        self.assertEqual(view["rollout"]["phase"], "aborted", view)
        aborted = [e for e in view["executions"]
                   if error_code(e) == "rollout_aborted"]
        for e in aborted:
            self.assertEqual(e["state"], "CANCELED", e)
            self.assertNotIn("published_at", e)
            self.assertNotIn("result", e)
            self.assertIsNone(self.marker(e["device"], marker), e)
        self.assertEqual(view["reasons"].get("rollout_aborted"),
                         len(aborted), view)
        # Whatever else did not end offline was released and sent.
        for e in view["executions"]:
            if e not in aborted and error_code(e) != "offline":
                self.assertIn("published_at", e)
        return aborted

    def test_max_failures_aborts(self):
        marker = "ran-" + self.token
        # The sleep gives the cancel of an execution released when the
        # first one failed time to arrive before it fails too.
        job = self.submit(ONLINE,
                          script=MARK % marker + "; sleep 2; exit 1",
                          rollout={"batch_size": 2, "max_failures": 1})
        self.assertEqual(job["rollout"]["max_failures"], 1)
        view = self.wait_finished(job["id"])
        aborted = self.assert_aborted(view, marker)
        self.assertEqual(view["abort_reason"],
                         "max_failures exceeded: 2 failures, at most 1 "
                         "allowed")
        self.assertEqual(view["rollout"]["failures"], 2, view)
        self.assertEqual(view["counts"]["FAILED"], 2, view)
        # Two failed; at most one more was released (when the first
        # failed) and was canceled: the other seven never went out.
        self.assertGreaterEqual(len(aborted), 7, view)
        ran = sorted(d for d in ONLINE if self.marker(d, marker))
        failed = sorted(e["device"] for e in view["executions"]
                        if e["state"] == "FAILED")
        self.assertLessEqual(set(failed), set(ran))
        self.assertLessEqual(len(ran), 3, ran)

    def test_max_failure_pct_aborts(self):
        marker = "ran-" + self.token
        # 20 % of 10: two failures allowed, the third aborts. One at a
        # time, so exactly three run.
        job = self.submit(ONLINE, script=MARK % marker + "; exit 1",
                          rollout={"batch_size": 1, "max_failure_pct": 20})
        self.assertEqual(job["rollout"]["max_failures"], 2)
        view = self.wait_finished(job["id"])
        aborted = self.assert_aborted(view, marker)
        self.assertEqual(view["abort_reason"],
                         "max_failures exceeded: 3 failures, at most 2 "
                         "allowed")
        self.assertEqual(view["rollout"]["failures"], 3)
        self.assertEqual(view["counts"], {"FAILED": 3, "CANCELED": 7})
        self.assertEqual(len(aborted), 7)
        self.assertEqual(len([d for d in ONLINE if self.marker(d, marker)]),
                         3)

    # -- 4. offline policies -----------------------------------------------

    def test_offline_wait(self):
        marker = "ran-" + self.token
        job = self.submit(["web-1", "gone-1", "web-2"], script=MARK % marker,
                          rollout={"batch_size": 2, "offline": "wait"},
                          ttl_ms=60000)
        self.assertEqual(job["targets"]["offline"], ["gone-1"])
        self.assertEqual(job["rollout"]["offline"], "wait")
        # The online devices finish; gone-1's execution waits, unsent.
        view = self.wait_execs(job["id"], lambda v: all(
            by_device(v)[d]["state"] == "SUCCEEDED"
            for d in ("web-1", "web-2")), "the online devices to finish")
        time.sleep(0.5)  # a few sweeps: it must still be waiting
        view = self.job_view(job["id"])
        e = by_device(view)["gone-1"]
        self.assertEqual(view["state"], "RUNNING", view)
        self.assertEqual(e["state"], "QUEUED", e)
        self.assertNotIn("published_at", e)
        self.assertEqual(view["rollout"]["waiting"], 1, view)
        self.assertIsNone(self.marker("gone-1", marker))
        # Back before exp: it runs and the job completes.
        self.start_agent("gone-1")
        view = self.wait_finished(job["id"])
        self.assertEqual(view["state"], "COMPLETED", view)
        self.assertEqual(view["counts"], {"SUCCEEDED": 3})
        self.assertEqual(self.marker("gone-1", marker), "ran\n")
        self.stop_agent("gone-1")

        # Still offline at exp: EXPIRED with error offline, no failure.
        job = self.submit(["web-1", "gone-2"], script=MARK % marker,
                          rollout={"offline": "wait"}, ttl_ms=1500)
        view = self.wait_finished(job["id"])
        self.assertEqual(view["state"], "COMPLETED", view)
        e = by_device(view)["gone-2"]
        self.assertEqual((e["state"], error_code(e)), ("EXPIRED", "offline"))
        self.assertNotIn("published_at", e)
        self.assertEqual(view["reasons"], {"offline": 1})
        self.assertEqual(view["rollout"]["failures"], 0)

    def test_offline_skip(self):
        job = self.submit(["gone-2", "web-1"], action="ping",
                          rollout={"batch_size": 1, "offline": "skip"})
        # Skipped at creation: the 201 shows it.
        e = by_device(job)["gone-2"]
        self.assertEqual((e["state"], error_code(e)), ("EXPIRED", "offline"))
        view = self.wait_finished(job["id"])
        self.assertEqual(view["state"], "COMPLETED", view)
        self.assertEqual(view["counts"], {"EXPIRED": 1, "SUCCEEDED": 1})
        self.assertEqual(view["reasons"], {"offline": 1})
        self.assertEqual(view["rollout"]["failures"], 0)
        self.assertNotIn("published_at", by_device(view)["gone-2"])

    def test_offline_fail(self):
        marker = "ran-" + self.token
        # A failure like any other: with none allowed, the job aborts
        # before web-1's turn.
        job = self.submit(["gone-2", "web-1"], script=MARK % marker,
                          rollout={"batch_size": 1, "offline": "fail",
                                   "max_failures": 0})
        view = self.wait_finished(job["id"])
        self.assert_aborted(view, marker)
        self.assertTrue(view["abort_reason"].startswith(
            "max_failures exceeded"), view["abort_reason"])
        self.assertEqual(view["rollout"]["failures"], 1)
        ex = by_device(view)
        self.assertEqual((ex["gone-2"]["state"], error_code(ex["gone-2"])),
                         ("EXPIRED", "offline"))
        self.assertEqual((ex["web-1"]["state"], error_code(ex["web-1"])),
                         ("CANCELED", "rollout_aborted"))
        self.assertEqual(view["reasons"], {"offline": 1,
                                           "rollout_aborted": 1})
        # Without a threshold it is counted, and the rest goes on.
        job = self.submit(["gone-2", "web-1"], action="ping",
                          rollout={"offline": "fail"})
        view = self.wait_finished(job["id"])
        self.assertEqual(view["state"], "COMPLETED", view)
        self.assertEqual(view["rollout"]["failures"], 1)
        self.assertEqual(by_device(view)["web-1"]["state"], "SUCCEEDED")

    # -- 5. canary ---------------------------------------------------------

    def test_canary(self):
        # Batches larger than the canary, so that a canary that is not
        # waited for shows.
        devices = list(ONLINE[:6])
        job = self.submit(devices, script="sleep 0.2",
                          rollout={"canary": 2, "batch_size": 3})
        view = self.wait_finished(job["id"])
        self.assertEqual(view["state"], "COMPLETED", view)
        self.assertEqual(view["counts"], {"SUCCEEDED": 6})
        # The first two, the canary, ended before anything else started.
        ex = by_device(view)
        canary_end = max(ex[d]["result"]["finished_at"]
                         for d in devices[:2])
        rest_start = min(ex[d]["result"]["started_at"] for d in devices[2:])
        self.assertLess(canary_end, rest_start, view)
        self.assertLessEqual(peak_concurrency(run_times(view)), 3)
        self.assertEqual(job["rollout"]["canary"], 2)
        self.assertEqual(job["rollout"]["phase"], "canary")
        self.assertEqual(view["rollout"]["phase"], "done")

        # One canary fails: aborted, the rest never runs.
        marker = "ran-" + self.token
        fail = "fail-" + self.token
        self.workfile(devices[0], fail).write_text("")
        script = "test ! -e %s || exit 1; %s; sleep 0.2" % (
            fail, MARK % marker)
        job = self.submit(devices, script=script,
                          rollout={"canary": 2, "batch_size": 3})
        view = self.wait_finished(job["id"])
        aborted = self.assert_aborted(view, marker)
        self.assertEqual(view["abort_reason"], "canary failed: 1 of 2 "
                         "canary executions did not succeed")
        ex = by_device(view)
        self.assertEqual(ex[devices[0]]["state"], "FAILED")
        self.assertEqual(ex[devices[1]]["state"], "SUCCEEDED")
        self.assertEqual(sorted(e["device"] for e in aborted),
                         sorted(devices[2:]))

    # -- 6. a dispatcher killed mid-rollout --------------------------------

    def test_rollout_survives_kill_9(self):
        runs = "runs-" + self.token
        script = ("echo start >> {0}; sleep 0.5; echo end >> {0}"
                  .format(runs))
        job = self.submit(ONLINE, script=script,
                          rollout={"batch_size": 2})
        self.wait_execs(job["id"], lambda v: "RUNNING" in v["counts"],
                        "the first batch to run")
        self.kill_dispatcher()
        self.c.start_dispatcher()
        view = self.wait_finished(job["id"], timeout=60)
        self.assertEqual(view["state"], "COMPLETED", view)
        self.assertEqual(view["counts"], {"SUCCEEDED": 10})
        for d in ONLINE:
            self.assertEqual(self.marker(d, runs), "start\nend\n", d)
        self.assertLessEqual(peak_concurrency(run_times(view)), 2,
                             run_times(view))
        self.assertEqual(view["rollout"]["released"], 10)

    # -- 7. cancel kills the process group ---------------------------------

    def test_cancel_kills_shell_and_child(self):
        shell, child = "shell-" + self.token, "child-" + self.token
        script = "sleep 30 & echo $! > %s; echo $$ > %s; wait" % (child,
                                                                  shell)
        job = self.submit(["edge-1"], script=script, timeout_ms=60000)
        ex = job["executions"][0]["id"]

        def pids():
            texts = [self.marker("edge-1", n) for n in (shell, child)]
            if all(t and t.endswith("\n") for t in texts):
                return [int(t) for t in texts]
            return None
        shell_pid, child_pid = wait_until(pids, 20, "both pids written")
        wait_until(lambda: self.exec_view(ex)["state"] == "RUNNING", 20,
                   "the execution to show RUNNING")
        self.assertFalse(pid_gone(shell_pid))
        self.assertFalse(pid_gone(child_pid))
        self.call("POST", "/v1/jobs/%s/cancel" % job["id"],
                  "/v1/jobs/{id}/cancel", status=200)
        view = self.wait_finished(job["id"])
        self.assertEqual(view["state"], "CANCELED", view)
        e = self.exec_view(ex)
        self.assertEqual(e["state"], "CANCELED", e)
        self.assertEqual(e["result"]["state"], "CANCELED", e)
        wait_until(lambda: pid_gone(shell_pid) and pid_gone(child_pid), 10,
                   "the shell and its sleep to be gone")

    # -- 8. follow -----------------------------------------------------------

    def test_follow_streams_while_running(self):
        job = self.submit(["web-3"], script=live.SCRIPT, stream=True)
        ex = job["executions"][0]["id"]
        events, headers = live.follow(self.c, ex)
        API.schema_for("/v1/executions/{id}/output", "GET", 200,
                       headers["Content-Type"])
        names = [n for _, n, _ in events]
        self.assertEqual(names[-1], "end", names)
        self.assertEqual(names.count("end"), 1, names)
        out = [(t, d) for t, n, d in events if n == "output"]
        self.assertEqual([d["seq"] for _, d in out], list(range(len(out))))
        self.assertEqual("".join(d["data"] for _, d in out), live.LINES)
        # Spread over the second the command takes: the first line came
        # well before the end, and several arrivals apart.
        self.assertGreater(len(out), 3, out)
        self.assertGreater(events[-1][0] - out[0][0], 0.5)
        self.assertEqual(events[-1][2]["state"], "SUCCEEDED")


if __name__ == "__main__":
    unittest.main()
