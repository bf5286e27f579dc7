# SPDX-License-Identifier: MIT
"""Self-test of the harness, with a broker and no cmdbus program: the
broker starts from broker-conf/test.conf.in and demands a login, and the
teardown notices every way a program can end badly."""

import sys
import unittest

import harness
from harness import Cluster, Device, Proc, mqtt_pub


class BrokerStarts(unittest.TestCase):
    def test_broker_accepts_only_known_users(self):
        dev = Device("dev-1")
        with Cluster([dev]) as c:
            c.start_broker()
            port = c.broker_port
            topic = "cmdbus/v1/dev-1/result"
            self.assertEqual(mqtt_pub(port, "dev-1", dev.password, topic,
                                      "x"), 0)
            self.assertNotEqual(mqtt_pub(port, "dev-1", "wrong", topic,
                                         "x"), 0)
            self.assertNotEqual(mqtt_pub(port, "nobody", "x", topic, "x"),
                                0)
            # Both protocol versions the programs may speak.
            self.assertEqual(mqtt_pub(port, "dev-1", dev.password, topic,
                                      "x", protocol=311), 0)

    def test_broker_restart_keeps_port(self):
        with Cluster([Device("dev-1")]) as c:
            c.start_broker()
            port = c.broker_port
            self.assertEqual(c.stop_broker(), [])
            self.assertFalse(harness.port_accepts(port))
            c.start_broker()
            self.assertEqual(c.broker_port, port)
            self.assertTrue(harness.port_accepts(port))


class TeardownJudges(unittest.TestCase):
    def _proc(self, c, name, script):
        """Starts a shell script that prints 42 once its trap is set."""
        p = Proc(name, ["/bin/sh", "-c", script],
                 c.dir / (name + ".log")).start()
        harness.wait_until(lambda: "42" in p.log_text().splitlines(), 10,
                           "the script to start")
        return p

    def _stopped(self, script):
        c = Cluster()
        try:
            return self._proc(c, "p", script).stop(deadline=3)
        finally:
            c.kill_all()
            c.remove_dir()

    def test_clean_exit_is_no_problem(self):
        self.assertEqual(self._stopped(
            'trap "exit 0" TERM; echo $((6*7)); while :; do sleep 0.05; done'),
            [])

    def test_nonzero_exit_is_a_problem(self):
        problems = self._stopped(
            'trap "exit 3" TERM; echo $((6*7)); while :; do sleep 0.05; done')
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("status 3", problems[0])

    def test_sanitizer_report_is_a_problem(self):
        problems = self._stopped(
            'trap "exit 0" TERM; echo $((6*7)); '
            'echo "==1==ERROR: LeakSanitizer: detected memory leaks" >&2; '
            'while :; do sleep 0.05; done')
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("LeakSanitizer", problems[0])

    def test_ignoring_sigterm_is_a_problem(self):
        problems = self._stopped(
            'trap "" TERM; echo $((6*7)); while :; do sleep 0.05; done')
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("killed", problems[0])

    def test_early_death_is_a_problem(self):
        problems = self._stopped('echo $((6*7)); exit 0')
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("already exited", problems[0])

    def test_cluster_exit_raises_on_problems(self):
        def run():
            with Cluster() as c:
                c.dispatcher = self._proc(
                    c, "fake-dispatcher",
                    'trap "exit 1" TERM; echo $((6*7)); '
                    'while :; do sleep 0.05; done')
        # The logs the failing teardown prints are noise here.
        saved, sys.stderr = sys.stderr, open("/dev/null", "w")
        try:
            with self.assertRaisesRegex(AssertionError, "status 1"):
                run()
        finally:
            sys.stderr.close()
            sys.stderr = saved


if __name__ == "__main__":
    unittest.main()
