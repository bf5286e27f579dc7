# SPDX-License-Identifier: MIT
"""The cmdbus operator CLI against a real broker, dispatcher and three
agents: run and exec with their exit statuses, label selector terms,
rollouts (batches, an abort), offline and unknown targets, paging through
jobs and devices, jobs, devices and output with --json checked, the
one-line errors, and the progress line shown on a pseudo-terminal and
absent when piped."""

import json
import os
import pty
import select
import subprocess
import time
import unittest

from harness import (RESULT_DEADLINE, ClusterTestCase, Device, free_port,
                     wait_until)

CLI = os.environ.get("CMDBUS_CLI", "")


def fleet():
    return (Device("cli-1", {"site": "lab", "role": "web"},
                   exec_enabled=True),
            Device("cli-2", {"site": "lab", "role": "db"},
                   exec_enabled=True),
            Device("cli-3", {"site": "edge", "role": "web"},
                   exec_enabled=True))


def run_pty(argv, env, timeout):
    """Runs argv on a pseudo-terminal; (exit status, everything it wrote)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


@unittest.skipUnless(CLI, "CMDBUS_CLI is not set")
class Cli(ClusterTestCase):

    def setUp(self):
        super().setUp()
        self.c = self.cluster(*fleet()).start()
        self.env = dict(os.environ)
        self.env.update(CMDBUS_URL="http://127.0.0.1:%d" % self.c.http_port,
                        CMDBUS_TOKEN=self.c.token,
                        HOME=str(self.c.dir))

    def cli(self, *args, status=0, env=None):
        p = subprocess.run([CLI] + list(args), env=env or self.env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=RESULT_DEADLINE + 30)
        self.assertEqual(p.returncode, status,
                         "cmdbus %s: %r %r" % (args, p.stdout, p.stderr))
        return p

    def cli_json(self, *args, status=0):
        return json.loads(self.cli("--json", *args, status=status).stdout)

    def cli_pages(self, *args):
        """--json of a list: one page body per line."""
        return [json.loads(ln) for ln in
                self.cli("--json", *args).stdout.splitlines()]

    def devices_of(self, *selector):
        args = []
        for term in selector:
            args += ["-l", term]
        job = self.cli_json("run", *args, "ping")
        self.assertEqual(job["state"], "COMPLETED")
        self.assertEqual(job["targets"]["matched"], len(job["executions"]))
        return sorted(e["device"] for e in job["executions"])

    def test_run_and_queries(self):
        # A device list, human table.
        p = self.cli("run", "-t", "cli-1,cli-2", "--timeout", "10s", "ping")
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0].split()[:3], ["DEVICE", "STATE", "EXIT"])
        rows = {ln.split()[0]: ln.split()[1] for ln in lines[1:]}
        self.assertEqual(rows, {"cli-1": "SUCCEEDED", "cli-2": "SUCCEEDED"})
        # Piped: no progress line, no terminal controls.
        self.assertNotIn("\r", p.stdout)
        self.assertNotIn("\033", p.stdout)

        # A label selector, --json.
        job = self.cli_json("run", "-l", "role=web", "ping")
        self.assertEqual(job["state"], "COMPLETED")
        self.assertEqual(sorted(e["device"] for e in job["executions"]),
                         ["cli-1", "cli-3"])
        self.assertTrue(all(e["state"] == "SUCCEEDED"
                            for e in job["executions"]))

        # exec: the first line of stdout in the table, then a failing one.
        p = self.cli("exec", "-t", "cli-1", "--", "echo", "hi")
        row = p.stdout.splitlines()[1].split()
        self.assertEqual(row, ["cli-1", "SUCCEEDED", "0", "hi"])
        job = self.cli_json("exec", "-t", "cli-1", "--", "false", status=1)
        self.assertEqual(job["executions"][0]["state"], "FAILED")
        self.assertEqual(job["executions"][0]["result"]["exit_code"], 1)
        exec_id = self.cli_json("exec", "-t", "cli-1", "--", "echo",
                                "out")["executions"][0]["id"]

        # --wait=false prints the id and returns.
        p = self.cli("run", "--all", "--wait=false", "ping")
        job_id = p.stdout.strip()
        self.assertRegex(job_id, r"^[0-9A-HJKMNP-TV-Z]{26}$")
        self.c.wait_job(job_id)

        # jobs ls / show.
        jobs = self.cli_json("jobs", "ls")["jobs"]
        self.assertIn(job_id, [j["id"] for j in jobs])
        p = self.cli("jobs")
        self.assertIn(job_id, p.stdout)
        shown = self.cli_json("jobs", "show", job_id)
        self.assertEqual(shown["id"], job_id)
        self.assertEqual(len(shown["executions"]), 3)
        p = self.cli("jobs", "show", job_id)
        self.assertIn("COMPLETED", p.stdout)
        self.assertIn("cli-3", p.stdout)

        # devices ls / show.
        devs = self.cli_json("devices", "ls")["devices"]
        self.assertEqual(sorted(d["id"] for d in devs),
                         ["cli-1", "cli-2", "cli-3"])
        self.assertTrue(all(d["online"] for d in devs))
        dev = self.cli_json("devices", "show", "cli-2")
        self.assertEqual(dev["labels"], {"site": "lab", "role": "db"})
        p = self.cli("devices")
        self.assertIn("role=db", p.stdout)
        p = self.cli("devices", "show", "cli-3")
        self.assertIn("online", p.stdout)

        # output, plain and --json, with and without --follow.
        self.assertEqual(self.cli("output", exec_id).stdout, "out\n")
        self.assertEqual(self.cli("output", exec_id, "--follow").stdout,
                         "out\n")
        # --json --follow: the events' data lines (or the one view of a
        # server that answers once).
        events = [json.loads(ln) for ln in self.cli(
            "--json", "output", exec_id, "--follow").stdout.splitlines()]
        if len(events) == 1 and "final" in events[0]:
            self.assertEqual(events[0]["stdout"], "out\n")
        else:
            self.assertEqual("".join(e["data"] for e in events
                                     if e.get("stream") == "stdout"),
                             "out\n")
            self.assertEqual(events[-1]["state"], "SUCCEEDED")

        # --follow on a single-device run prints its output.
        p = self.cli("exec", "-t", "cli-1", "--follow", "--", "echo", "live")
        self.assertEqual(p.stdout, "live\n")

        # 404 is one clear line.
        p = self.cli("jobs", "show", "01ARZ3NDEKTSV4RRFFQ69G5FAV", status=1)
        self.assertIn("404 not found", p.stderr)

    def test_cancel(self):
        job_id = self.cli("exec", "-t", "cli-1", "--wait=false", "--",
                          "sleep", "30").stdout.strip()
        wait_until(lambda: self.c.get_json("/v1/jobs/" + job_id)
                   ["executions"][0]["state"] == "RUNNING",
                   RESULT_DEADLINE, "the sleep to run")
        self.cli_json("jobs", "cancel", job_id)
        self.c.wait_job(job_id, state="CANCELED")
        # Cancelling a finished job changes nothing: the server answers
        # 409 and the CLI says so and exits 1.
        p = self.cli("jobs", "cancel", job_id, status=1)
        self.assertIn("409", p.stderr)
        self.assertEqual(self.c.get_json("/v1/jobs/" + job_id)["state"],
                         "CANCELED")

    def test_errors(self):
        # A bad flag and a missing target are usage errors.
        self.assertIn("unknown flag", self.cli("run", "--all", "--frob",
                                               "ping", status=2).stderr)
        self.cli("run", "ping", status=2)
        # Connection refused.
        env = dict(self.env, CMDBUS_URL="http://127.0.0.1:%d" % free_port())
        p = self.cli("jobs", status=2, env=env)
        self.assertIn("connection refused", p.stderr)
        # A wrong token.
        p = self.cli("--token", "wrong", "devices", status=1)
        self.assertIn("401 unauthorized", p.stderr)
        # A 400 names the field: an unknown action name is fine, a bad
        # device id is not.
        p = self.cli("run", "-t", "bad id!", "ping", status=1)
        self.assertIn("400 bad request in field target.devices[0]",
                      p.stderr)
        # The config file is read when nothing else is given.
        conf = self.c.dir / ".config" / "cmdbus"
        conf.mkdir(parents=True)
        (conf / "config").write_text("url %s\ntoken %s\n" % (
            self.env["CMDBUS_URL"], self.c.token))
        env = {k: v for k, v in self.env.items()
               if k not in ("CMDBUS_URL", "CMDBUS_TOKEN",
                            "XDG_CONFIG_HOME")}
        self.assertIn("cli-1", self.cli("devices", env=env).stdout)

    def test_progress_on_terminal(self):
        # exec sleeps a little so that at least one redraw happens.
        env = dict(self.env, LC_ALL="C")
        status, out = run_pty([CLI, "exec", "-t", "cli-1", "--", "sleep",
                               "1.5"], env, RESULT_DEADLINE)
        self.assertEqual(status, 0, out)
        self.assertRegex(out, r"\r\033\[K0/1 done - 0 ok - 0 failed - "
                              r"0 offline - \d+\.\ds")
        self.assertIn("cli-1", out)
        self.assertIn("SUCCEEDED", out)


    def test_selector_terms(self):
        # in, !=, notin and several terms, each picking its devices.
        self.assertEqual(self.devices_of("role in (db, cache)"), ["cli-2"])
        self.assertEqual(self.devices_of("role!=db"), ["cli-1", "cli-3"])
        self.assertEqual(self.devices_of("site notin (lab)"), ["cli-3"])
        self.assertEqual(self.devices_of("site in(lab,edge)", "role != web"),
                         ["cli-2"])
        self.assertEqual(self.devices_of("site=lab, role in (web)"),
                         ["cli-1"])
        # Usage errors name the key or quote the term, before any request.
        p = self.cli("run", "-l", "role=web", "-l", "role!=db", "ping",
                     status=2)
        self.assertIn("'role' is given twice", p.stderr)
        p = self.cli("run", "-l", "role in web", "ping", status=2)
        self.assertIn("'role in web'", p.stderr)
        # A selector that matches nothing is the server's 400.
        p = self.cli("run", "-l", "role in (nothing)", "ping", status=1)
        self.assertIn("400 bad request", p.stderr)

    def test_offline_and_unknown_targets(self):
        self.c.stop_agent("cli-3")
        self.c.wait_offline(["cli-3"])
        # skip: the offline device's execution ends at once, as offline.
        p = self.cli("run", "-t", "cli-1,cli-3", "--offline", "skip",
                     "ping", status=1)
        self.assertRegex(p.stderr, r"1 offline \(cli-3\)")
        rows = {ln.split()[0]: ln.split() for ln in
                p.stdout.splitlines()[1:]}
        self.assertEqual(rows["cli-1"][1:3], ["SUCCEEDED", "0"])
        self.assertEqual(rows["cli-3"][1:4], ["EXPIRED", "-", "offline"])
        self.assertEqual(p.stdout.splitlines()[0].split(),
                         ["DEVICE", "STATE", "EXIT", "REASON", "OUTPUT"])
        # A device never seen, allowed: named as unknown.
        job = self.cli_json("run", "-t", "cli-1,ghost-9", "--allow-unknown",
                            "--offline", "skip", "ping", status=1)
        self.assertEqual(job["targets"]["unknown"], ["ghost-9"])
        p = self.cli("run", "-t", "cli-1,ghost-9", "--allow-unknown",
                     "--offline", "skip", "ping", status=1)
        self.assertRegex(p.stderr, r"1 unknown \(ghost-9\)")
        # Not allowed: the server refuses the list.
        p = self.cli("run", "-t", "cli-1,ghost-9", "ping", status=1)
        self.assertIn("target.devices", p.stderr)
        # --allow-unknown without a device list is a usage error.
        self.cli("run", "--all", "--allow-unknown", "ping", status=2)

    def test_rollout_batches_and_abort(self):
        # One at a time through three devices, to the end.
        job = self.cli_json("exec", "--all", "--batch", "1", "--", "true")
        self.assertEqual(job["state"], "COMPLETED")
        self.assertEqual([e["state"] for e in job["executions"]],
                         ["SUCCEEDED"] * 3)
        self.assertEqual(job["rollout"]["batch_size"], 1)
        self.assertEqual(job["rollout"]["phase"], "done")
        # The progress line names the batch on a terminal.
        env = dict(self.env, LC_ALL="C")
        status, out = run_pty([CLI, "exec", "--all", "--batch", "1", "--",
                               "sleep", "0.3"], env, RESULT_DEADLINE)
        self.assertEqual(status, 0, out)
        self.assertRegex(out, r"\r\033\[Kbatch \d+( \(last\))? - \d/3 "
                              r"done - ")

        # A failing command with no failure allowed: ABORTED, exit 1, the
        # reason on stderr, the unreleased executions canceled.
        p = self.cli("exec", "--all", "--batch", "1", "--max-failures", "0",
                     "--", "false", status=1)
        self.assertIn("aborted: max_failures exceeded", p.stderr)
        self.assertIn("rollout_aborted", p.stdout)
        job_id = self.cli_json("jobs", "ls", "--limit", "1")["jobs"][0]["id"]
        job = self.c.get_json("/v1/jobs/" + job_id)
        self.assertEqual(job["state"], "ABORTED")
        self.assertEqual(job["rollout"]["phase"], "aborted")
        self.assertEqual(sorted(e["state"] for e in job["executions"]),
                         ["CANCELED", "CANCELED", "FAILED"])
        shown = self.cli("jobs", "show", job_id).stdout
        self.assertRegex(shown, r"rollout +aborted")
        self.assertRegex(shown, r"aborted +max_failures exceeded")
        self.assertRegex(shown, r"reasons +.*rollout_aborted=2")
        self.assertRegex(shown, r"targets +3 matched")
        # --json keeps the server's body.
        job = self.cli_json("exec", "--all", "--batch", "1",
                            "--max-failures", "0", "--", "false", status=1)
        self.assertEqual(job["state"], "ABORTED")
        self.assertIn("max_failures exceeded", job["abort_reason"])

    def test_paging(self):
        made = [self.c.submit("ping", devices=["cli-1"])["id"]
                for _ in range(65)]
        for job_id in made[-3:]:
            self.c.wait_job(job_id)
        newest_first = list(reversed(made))
        # Every page followed: 20 + 20 + 20 + 5, newest first, no repeat.
        pages = self.cli_pages("jobs", "ls", "--limit", "0",
                               "--page-size", "20")
        self.assertEqual([len(p["jobs"]) for p in pages], [20, 20, 20, 5])
        self.assertIsNone(pages[-1]["next_cursor"])
        ids = [j["id"] for p in pages for j in p["jobs"]]
        self.assertEqual(ids, newest_first)
        # --limit stops the walk and never asks for more than it shows.
        pages = self.cli_pages("jobs", "ls", "--limit", "45",
                               "--page-size", "20")
        self.assertEqual([len(p["jobs"]) for p in pages], [20, 20, 5])
        self.assertEqual([j["id"] for p in pages for j in p["jobs"]],
                         newest_first[:45])
        # The default is the newest 50, with a note that there are more.
        p = self.cli("jobs", "ls")
        rows = p.stdout.splitlines()[1:]
        self.assertEqual([r.split()[0] for r in rows], newest_first[:50])
        self.assertIn("--limit", p.stderr)
        p = self.cli("jobs", "ls", "--limit", "0", "--page-size", "7")
        self.assertEqual(len(p.stdout.splitlines()) - 1, 65)
        self.assertEqual(p.stderr, "")
        # A state filter goes with every page.
        pages = self.cli_pages("jobs", "ls", "--state", "completed",
                               "--limit", "0")
        self.assertGreaterEqual(sum(len(p["jobs"]) for p in pages), 3)
        self.assertTrue(all(j["state"] == "COMPLETED"
                            for p in pages for j in p["jobs"]))
        # Devices: all by default, here two pages of 2 and 1.
        pages = self.cli_pages("devices", "ls", "--page-size", "2")
        self.assertEqual([[d["id"] for d in p["devices"]] for p in pages],
                         [["cli-1", "cli-2"], ["cli-3"]])
        p = self.cli("devices", "ls", "--page-size", "1")
        self.assertEqual([r.split()[0] for r in p.stdout.splitlines()[1:]],
                         ["cli-1", "cli-2", "cli-3"])


if __name__ == "__main__":
    unittest.main()
