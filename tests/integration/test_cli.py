# SPDX-License-Identifier: MIT
"""The cmdbus operator CLI against a real broker, dispatcher and three
agents: run and exec with their exit statuses, jobs, devices and output
with --json checked, the one-line errors, and the progress line shown on
a pseudo-terminal and absent when piped."""

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
            Device("cli-2", {"site": "lab", "role": "db"}),
            Device("cli-3", {"site": "edge", "role": "web"}))


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
        status, out = run_pty([CLI, "exec", "-t", "cli-1", "--", "sleep",
                               "1.5"], self.env, RESULT_DEADLINE)
        self.assertEqual(status, 0, out)
        self.assertRegex(out, r"\r\033\[K0/1 done  0 succeeded  0 failed"
                              r"  0 offline")
        self.assertIn("cli-1", out)
        self.assertIn("SUCCEEDED", out)


if __name__ == "__main__":
    unittest.main()
