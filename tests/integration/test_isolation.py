# SPDX-License-Identifier: MIT
"""Device isolation on the production broker profile: five devices made
by cmdbus-provision each try to take every other device's client id, read
every other device's commands, forge every other device's results, status
and commands, and read everything; every attempt must be refused while
the victims keep their queued commands. Then disable, revoke and rotate
must shut out the old credentials."""

import tempfile
import unittest

from harness_isolation import PREFIX, Client, ProvisionedBroker, Refused
from harness_procs import wait_until

DEVICES = ["dev-a", "dev-b", "dev-c", "dev-d", "dev-e"]
QUEUED = 3  # commands queued for each device before the attacks


def cmd(device):
    return "%s/%s/cmd" % (PREFIX, device)


class Tally:
    """Attempts and refusals per kind of attack, printed as a table."""

    def __init__(self):
        self.rows = {}
        self.breaches = []

    def add(self, kind, refused, detail):
        a, r = self.rows.get(kind, (0, 0))
        self.rows[kind] = (a + 1, r + (1 if refused else 0))
        if not refused:
            self.breaches.append("%s: %s" % (kind, detail))

    def table(self):
        lines = ["%-44s %8s %8s" % ("attack", "attempts", "refused")]
        for kind, (a, r) in self.rows.items():
            lines.append("%-44s %8d %8d" % (kind, a, r))
        ta = sum(a for a, _ in self.rows.values())
        tr = sum(r for _, r in self.rows.values())
        lines.append("%-44s %8d %8d (%.0f%%)" % ("total", ta, tr,
                                                 100.0 * tr / ta))
        return "\n".join(lines)


class Isolation(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="cmdbus-iso-")
        self.b = ProvisionedBroker(self.tmp.name).start()
        self.addCleanup(self._stop)
        for d in DEVICES:
            self.b.provision("device", "add", d, "--label", "site=t")

    def _stop(self):
        problems = self.b.stop()
        self.tmp.cleanup()
        self.assertEqual(problems, [])

    def refused_connect(self, **kw):
        try:
            c = self.b.device(**kw)
        except Refused:
            return True
        c.close()
        return False

    def test_devices_cannot_reach_each_other(self):
        b, t = self.b, Tally()
        disp = b.dispatcher(clean=False)
        self.addCleanup(disp.close)
        for topic in ("%s/+/result" % PREFIX, "%s/+/status" % PREFIX):
            self.assertEqual(disp.subscribe(topic), 1)

        # Each device's persistent session with its command subscription;
        # then it goes offline and commands queue up for it.
        for d in DEVICES:
            c = b.device(d, clean=False)
            self.assertEqual(c.subscribe(cmd(d)), 1)
            c.close()
        sent = {d: ["real-%s-%d" % (d, i) for i in range(QUEUED)]
                for d in DEVICES}
        for d in DEVICES:
            for p in sent[d]:
                disp.publish(cmd(d), p)

        got = {d: [] for d in DEVICES}
        for a in DEVICES:
            others = [v for v in DEVICES if v != a]
            for v in others:
                # Its own certificate and password, the victim's client id,
                # a clean session that would wipe the victim's queue.
                t.add("connect with another's client id",
                      self.refused_connect(device=a, client_id=v),
                      "%s as client id %s" % (a, v))
                # The victim's user name with the attacker's password.
                t.add("connect with another's user name",
                      self.refused_connect(device=a, client_id=v, user=v),
                      "%s as user %s" % (a, v))
            # Its own persistent session (a clean one would discard its
            # queue); commands it receives here count as delivered.
            c = b.device(a, clean=False)
            for v in others:
                t.add("subscribe to another's cmd",
                      c.subscribe(cmd(v)) == 0x80, "%s reads %s" % (a, v))
            for topic in ("#", "%s/#" % PREFIX, "%s/+/cmd" % PREFIX,
                          "%s/+/result" % PREFIX, "%s/+/status" % PREFIX,
                          "$SYS/#", "$CONTROL/dynamic-security/#"):
                t.add("subscribe to a wildcard",
                      c.subscribe(topic) == 0x80, "%s reads %s" % (a, topic))
            for v in others:
                c.publish("%s/%s/result" % (PREFIX, v), "forged-by-" + a)
                c.publish("%s/%s/status" % (PREFIX, v), "forged-by-" + a,
                          retain=True)
                c.publish(cmd(v), "forged-by-" + a)
            c.publish("$CONTROL/dynamic-security/v1",
                      '{"commands":[{"command":"deleteClient",'
                      '"username":"%s"}]}' % others[0])
            # Its own result, allowed: the dispatcher sees it after any
            # forgery above, since the broker keeps one client's order.
            c.publish("%s/%s/result" % (PREFIX, a), "marker-" + a)
            c.close()
            disp.wait_for(lambda m, a=a: ("%s/%s/result" % (PREFIX, a),
                                          "marker-" + a) in m,
                          what="the marker of " + a)
            got[a] += [p for tp, p in c.inbox]
            for v in others:
                t.add("publish another's result", True, "")
                t.add("publish another's status", True, "")
                t.add("publish another's cmd", True, "")
            t.add("publish to $CONTROL", True, "")

        # What the dispatcher saw: exactly the five markers, nothing forged.
        forged = [m for m in disp.inbox if "forged" in m[1]]
        for topic, payload in forged:
            kind = topic.rsplit("/", 1)[1]
            t.breaches.append("forged %s delivered: %s" % (kind, payload))
            t.rows["publish another's " + kind] = (
                t.rows["publish another's " + kind][0],
                t.rows["publish another's " + kind][1] - 1)
        self.assertEqual(sorted(p for _, p in disp.inbox),
                         sorted("marker-" + d for d in DEVICES))

        # A late command for each, then every victim collects its queue.
        for d in DEVICES:
            sent[d].append("late-" + d)
            disp.publish(cmd(d), "late-" + d)
        for d in DEVICES:
            c = b.device(d, clean=False)
            if not c.session_present:
                t.breaches.append("the session of %s was lost" % d)
            c.wait_for(lambda m, d=d: (cmd(d), "late-" + d) in m,
                       what="the late command of " + d)
            got[d] += [p for tp, p in c.inbox]
            wrong = [m for m in c.inbox if m[0] != cmd(d)]
            self.assertEqual(wrong, [], d)
            c.close()
        for d in DEVICES:
            forged_cmds = [p for p in got[d] if "forged" in p]
            if forged_cmds:
                t.rows["publish another's cmd"] = (
                    t.rows["publish another's cmd"][0],
                    t.rows["publish another's cmd"][1] - len(forged_cmds))
                t.breaches.append("%s got %s" % (d, forged_cmds))
        # The $CONTROL forgery deleted nobody: every device still logs in.
        for d in DEVICES:
            b.device(d).close()

        print("\n" + t.table())
        self.assertEqual(t.breaches, [])
        for d in DEVICES:
            self.assertEqual(sorted(set(got[d])), sorted(sent[d]), d)

    def test_certificate_and_credentials_are_both_required(self):
        b = self.b
        # No client certificate: the TLS handshake fails.
        with self.assertRaises(Refused):
            Client(b.device_port, "dev-a", "dev-a",
                   b.secret("devices", "dev-a", "mqtt.password"),
                   ssl_ctx=b.bare_ctx()).close()
        # A valid certificate with a wrong password.
        self.assertTrue(self.refused_connect(device="dev-a",
                                             password="x" * 32))
        # The dispatcher's login from a device's certificate, with a
        # device's client id: its client id is bound too.
        self.assertTrue(self.refused_connect(
            device="dev-a", client_id="dev-a", user="cmdbus-dispatcher",
            password=b.secret("dispatcher", "mqtt.password")))

    def cert_refused(self, ctx, login):
        """Whether a certificate is refused although `login` is a valid
        device login: only the CRL can refuse it."""
        try:
            Client(self.b.device_port, login, login,
                   self.b.secret("devices", login, "mqtt.password"),
                   ssl_ctx=ctx).close()
            return False
        except Refused:
            return True

    def test_disable_revoke_rotate(self):
        b = self.b
        b.device("dev-a").close()
        b.provision("device", "disable", "dev-a")
        self.assertTrue(self.refused_connect(device="dev-a"))
        b.provision("device", "disable", "dev-a")
        b.provision("device", "enable", "dev-a")
        b.device("dev-a").close()

        # Revoked: the dynsec client is gone at once; after the reload the
        # CRL refuses its certificate even under another device's login.
        ctx_b = b.device_ctx("dev-b")
        pw_b = b.secret("devices", "dev-b", "mqtt.password")
        self.assertFalse(self.cert_refused(ctx_b, "dev-a"))
        b.provision("device", "revoke", "dev-b")
        with self.assertRaises(Refused):
            Client(b.device_port, "dev-b", "dev-b", pw_b,
                   ssl_ctx=b.device_ctx("dev-a")).close()
        rc, out = b.provision("device", "revoke", "dev-b")
        self.assertIn("already revoked", out)
        b.reload()
        wait_until(lambda: self.cert_refused(ctx_b, "dev-a"), 10,
                   "the revoked certificate of dev-b to be refused")

        # Rotated: the old certificate and password stop working, the new
        # ones work.
        ctx_c = b.device_ctx("dev-c")
        old_pw = b.secret("devices", "dev-c", "mqtt.password")
        b.provision("device", "rotate", "dev-c")
        b.reload()
        wait_until(lambda: self.cert_refused(ctx_c, "dev-d"), 10,
                   "the old certificate of dev-c to be refused")
        self.assertTrue(self.refused_connect(device="dev-c",
                                             password=old_pw))
        b.device("dev-c").close()

        rc, out = b.provision("device", "list")
        self.assertRegex(out, r"dev-b +revoked")
        self.assertRegex(out, r"dev-c +active")
        self.assertRegex(out, r"dev-a +active .*site=t")
        for bad in ("dev-a", "cmdbus-dispatcher", "cmdbus-admin", "a/b",
                    "-x"):
            rc, out = b.provision("device", "add", bad, check=False)
            self.assertNotEqual(rc, 0, bad)

        # A device that signs its results: its key in its files and
        # snippet, its public key where device_keys_dir points, gone on
        # revoke.
        b.provision("device", "add", "dev-s", "--sign-key")
        pub = b.dir / "device-keys" / "dev-s.pem"
        self.assertIn(b"PUBLIC KEY", pub.read_bytes())
        snippet = (b.dir / "devices" / "dev-s" / "agent.conf").read_text()
        self.assertRegex(snippet, r"result_sign_key_file \S+/dev-s\.sign\.key")
        self.assertIn("result_sign_kid dev-s", snippet)
        b.provision("device", "revoke", "dev-s")
        self.assertFalse(pub.exists())


if __name__ == "__main__":
    unittest.main()
