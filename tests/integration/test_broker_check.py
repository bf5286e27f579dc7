# SPDX-License-Identifier: MIT
"""cmdbus-broker-check: clean on the shipped configurations, and one
finding, with its line, for each known pitfall."""

import subprocess
import tempfile
import unittest
from pathlib import Path

BROKER_CONF = Path(__file__).resolve().parents[2] / "broker-conf"
CHECK = BROKER_CONF / "cmdbus-broker-check"

GOOD = """listener 8883
require_certificate true
listener 1885 127.0.0.1
per_listener_settings false
allow_anonymous false
set_tcp_nodelay true
max_packet_size 266240
"""


class BrokerCheck(unittest.TestCase):

    def run_check(self, *args):
        r = subprocess.run([str(CHECK)] + [str(a) for a in args],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=30)
        return r.returncode, r.stdout.decode()

    def check_text(self, text, acl=None):
        with tempfile.TemporaryDirectory() as d:
            conf = Path(d) / "m.conf"
            if acl is not None:
                (Path(d) / "acl").write_text(acl)
                text += "acl_file %s/acl\n" % d
            conf.write_text(text)
            return self.run_check(conf)

    def assertFinding(self, text, needle, acl=None):
        rc, out = self.check_text(text, acl)
        self.assertEqual(rc, 1, out)
        lines = out.splitlines()
        self.assertEqual(len(lines), 1, out)
        self.assertIn(needle, lines[0])
        return lines[0]

    def test_shipped_configurations_are_clean(self):
        rc, out = self.run_check(BROKER_CONF / "production" / "mosquitto.conf")
        self.assertEqual((rc, out.count("\n")), (0, 1), out)
        rc, out = self.run_check("--acl", BROKER_CONF / "cmdbus.acl",
                                 BROKER_CONF / "cmdbus.conf")
        self.assertEqual(rc, 0, out)

    def test_good_is_clean(self):
        self.assertEqual(self.check_text(GOOD)[0], 0)

    def test_listener_option_before_listener(self):
        line = self.assertFinding("cafile /x.pem\n" + GOOD, "'cafile' before")
        self.assertIn("m.conf:1:", line)
        # Global options there are fine...
        self.assertEqual(self.check_text("persistence true\n" + GOOD)[0], 0)
        # ...but security ones are not with per_listener_settings true.
        self.assertFinding(
            "password_file /p\n" + GOOD.replace(
                "per_listener_settings false", "per_listener_settings true"),
            "'password_file' before the first listener with "
            "per_listener_settings true")

    def test_allow_anonymous(self):
        self.assertFinding(GOOD.replace("allow_anonymous false",
                                        "allow_anonymous true"),
                           "allow_anonymous true")

    def test_client_id_in_acl(self):
        self.assertFinding(GOOD, "'%c' in an ACL",
                           acl="pattern read cmdbus/v1/%u/cmd\n"
                               "# %c in a comment is fine\n"
                               "pattern write cmdbus/v1/%c/result\n")
        self.assertEqual(self.check_text(
            GOOD, acl="pattern read cmdbus/v1/%u/cmd\n")[0], 0)

    def test_identity_as_username_with_dynsec(self):
        dynsec = ("plugin /usr/lib/x86_64-linux-gnu/"
                  "mosquitto_dynamic_security.so\n")
        text = GOOD.replace("require_certificate true\n",
                            "require_certificate true\n"
                            "use_identity_as_username true\n")
        self.assertFinding(text + dynsec, "client id binding")
        # Without the plugin, the same option is no finding.
        self.assertEqual(self.check_text(text)[0], 0)

    def test_missing_limits(self):
        self.assertFinding(GOOD.replace("max_packet_size 266240\n", ""),
                           "max_packet_size is not set")
        self.assertFinding(GOOD.replace("set_tcp_nodelay true\n", ""),
                           "set_tcp_nodelay true is not set")


if __name__ == "__main__":
    unittest.main()
