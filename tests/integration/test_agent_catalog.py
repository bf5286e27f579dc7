# SPDX-License-Identifier: MIT
"""Catalog actions, the shell action and SIGHUP on a real agent: values
reach argv literally, bad arguments are refused naming the parameter, the
status lists every action with its rules, a reload adds actions without
dropping the connection and a bad catalog keeps the old one, and a
catalog action runs as its own user. Also the drop to an unprivileged
user after start."""

import os
import pwd
import shutil
import signal
import tempfile
import unittest

from harness import (ClusterTestCase, Device, execution_by_device,
                     wait_until)

DEV = "cat-1"

SAY = """# echo a message, n times at most 5
argv /bin/echo
argv {msg}
argv n={n}
param msg regex [ -~]*
param n int 1 5
default n 1
timeout 5s
"""

COLOR = """argv /bin/echo
argv {c}
param c enum red green
"""

ENV = """argv /usr/bin/env
env CMDBUS_IT_MARK
env CMDBUS_IT_UNSET
"""

WHOAMI = """argv /usr/bin/id
argv -un
user nobody
"""


class Catalog(ClusterTestCase):
    def setUp(self):
        super().setUp()
        os.environ["CMDBUS_IT_MARK"] = "marked"
        os.environ.pop("CMDBUS_IT_UNSET", None)
        self.dev = Device(DEV)
        self.c = self.cluster(self.dev)
        self.cat = self.c.dir / "catalog"
        self.cat.mkdir()
        files = {"say": SAY, "color": COLOR, "env.show": ENV}
        if os.geteuid() == 0:
            files["whoami"] = WHOAMI
        for name, text in files.items():
            (self.cat / (name + ".conf")).write_text(text)
        (self.cat / "README").write_text("not an action\n")
        self.dev.options.update({"catalog_dir": self.cat,
                                 "shell_enabled": "true"})
        runas = os.environ.get("CMDBUS_RUNAS")
        if runas:
            self.dev.options["runas_helper"] = runas
        self.c.start()

    def run_one(self, action, args, state="SUCCEEDED"):
        job = self.c.wait_job(self.c.submit(action, [DEV], args=args)["id"])
        e = execution_by_device(job)[DEV]
        self.assertEqual(e["state"], state, e)
        return e["result"]

    def actions(self):
        view = self.c.get_json("/v1/devices/" + DEV)
        return {a["name"]: a.get("params", {}) for a in view["actions"]}

    def test_status_lists_rules(self):
        acts = self.actions()
        self.assertEqual(acts["say"], {"msg": "^([ -~]*)$",
                                       "n": "^[0-9]{1,19}$"})
        self.assertEqual(acts["color"], {"c": "^(red|green)$"})
        self.assertIn("shell", acts)
        self.assertNotIn("exec", acts)
        self.assertNotIn("README", acts)

    def test_values_stay_literal(self):
        msg = "hi; $(id) `id` 'q' \"d\" | cat > /tmp/x"
        r = self.run_one("say", {"msg": msg, "n": "3"})
        self.assertEqual(r["stdout"], msg + " n=3\n")
        r = self.run_one("say", {"msg": "x"})
        self.assertEqual(r["stdout"], "x n=1\n")
        r = self.run_one("color", {"c": "green"})
        self.assertEqual(r["stdout"], "green\n")

    def test_bad_args_name_the_parameter(self):
        for action, args, field in (
                ("say", {"msg": "x", "n": "9"}, "args.n"),
                ("say", {"msg": "x", "n": "1; reboot"}, "args.n"),
                ("say", {"msg": "x", "extra": "1"}, "args.extra"),
                ("say", {"n": "2"}, "args.msg"),
                ("say", {"msg": "tab\there"}, "args.msg"),
                ("color", {"c": "blue"}, "args.c")):
            r = self.run_one(action, args, state="REJECTED")
            self.assertEqual(r["error"]["code"], "bad_args", r)
            self.assertTrue(r["error"]["message"].startswith(field + ":"),
                            r["error"])

    def test_environment_allowlist(self):
        r = self.run_one("env.show", {})
        lines = set(r["stdout"].splitlines())
        self.assertIn("CMDBUS_IT_MARK=marked", lines)
        self.assertFalse(any(l.startswith("CMDBUS_IT_UNSET=")
                             for l in lines))
        # Nothing else of the agent's environment leaks through.
        self.assertEqual({l.split("=", 1)[0] for l in lines},
                         {"PATH", "LANG", "CMDBUS_IT_MARK"})

    def test_shell(self):
        r = self.run_one("shell", {"script": "echo $((1+2)); "
                                   "echo oops >&2; exit 3"},
                         state="FAILED")
        self.assertEqual(r["exit_code"], 3)
        self.assertEqual(r["stdout"], "3\n")
        self.assertEqual(r["stderr"], "oops\n")

    @unittest.skipUnless(os.geteuid() == 0, "needs root to switch users")
    def test_runs_as_its_user(self):
        r = self.run_one("whoami", {})
        self.assertEqual(r["stdout"], "nobody\n")

    def test_sighup_reload(self):
        proc = self.dev.proc
        (self.cat / "late.conf").write_text("argv /bin/echo\nargv late\n")
        os.kill(proc.popen.pid, signal.SIGHUP)
        wait_until(lambda: "late" in self.actions(), 20,
                   "the reloaded catalog in the status")
        self.assertEqual(self.run_one("late", {})["stdout"], "late\n")
        # The log level was read again from the configuration file.
        self.assertIn("agent.reload config=", proc.log_text())

        # A bad file: the old catalog stays, the log says file:line.
        (self.cat / "broken.conf").write_text(
            "argv /bin/echo\nparam x glob *\n")
        os.kill(proc.popen.pid, signal.SIGHUP)
        wait_until(lambda: "broken.conf:2:" in proc.log_text(), 20,
                   "the reload failure in the log")
        self.assertIn("catalog=kept", proc.log_text())
        self.assertEqual(self.run_one("late", {})["stdout"], "late\n")
        acts = self.actions()
        self.assertIn("late", acts)
        self.assertNotIn("broken", acts)
        # Never reconnected for a reload.
        self.assertEqual(proc.log_text().count("mqtt.connected"), 1)
        self.assertTrue(proc.alive())


if __name__ == "__main__":
    unittest.main()


@unittest.skipUnless(os.geteuid() == 0, "needs root to drop privileges")
class PrivilegeDrop(ClusterTestCase):
    """Started as root with `user nobody`: once its state and files are
    open the agent holds no root id, and what it runs neither."""

    def test_drops_to_nobody(self):
        nobody = pwd.getpwnam("nobody")
        # The state directory belongs to the user the agent becomes; the
        # cluster's own directory is private to root.
        state = tempfile.mkdtemp(prefix="cmdbus-it-nobody-")
        self.addCleanup(shutil.rmtree, state, True)
        os.chown(state, nobody.pw_uid, nobody.pw_gid)
        dev = Device("drop-1", exec_enabled=True,
                     options={"user": "nobody", "state_dir": state})
        c = self.cluster(dev).start()
        pid = dev.proc.popen.pid
        with open("/proc/%d/status" % pid) as f:
            ids = dict(l.split(":", 1) for l in f if ":" in l)
        self.assertEqual(ids["Uid"].split(), [str(nobody.pw_uid)] * 4)
        self.assertEqual(ids["Gid"].split(), [str(nobody.pw_gid)] * 4)
        self.assertEqual(ids["Groups"].split(), [str(nobody.pw_gid)])
        self.assertIn("agent.privdrop user=nobody", dev.proc.log_text())
        job = c.wait_job(c.submit("exec", ["drop-1"],
                                  args={"argv": ["id", "-u"]})["id"])
        e = execution_by_device(job)["drop-1"]
        self.assertEqual(e["state"], "SUCCEEDED", e)
        self.assertEqual(e["result"]["stdout"], "%d\n" % nobody.pw_uid)
