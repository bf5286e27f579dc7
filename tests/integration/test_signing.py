# SPDX-License-Identifier: MIT
"""Signed commands and device-signed results through a real broker, the
real dispatcher and the real agent: every byte of captured signed
commands flipped in turn, a wrong key and swapped algorithms, all refused
with nothing run; a captured command re-published at once, after it ran,
after an agent restart and after its exp, never run twice; and a result
forged without the device's key refused while the agent's signed result
is recorded."""

import hashlib
import json
import time
import unittest

from harness import (DISPATCHER_USER, PREFIX, ClusterTestCase, Device,
                     MqttSub, metrics, mqtt_pub, wait_exec_state, wait_until)
from harness_signing import make_key, pub_lines, signed_envelope

KID = "disp-test"


def runs(path):
    """Lines of the run file: one per execution that really ran."""
    try:
        return path.read_text().split()
    except FileNotFoundError:
        return []


def results_of(sub):
    """(payload dict, envelope text) of every result the sub saw."""
    out = []
    for _, text in sub.messages():
        try:
            p = json.loads(json.loads(text)["payload"])
        except (ValueError, KeyError, TypeError):
            continue
        if p.get("type") == "result":
            out.append((p, text))
    return out


def onlines(sub):
    """How many online statuses the sub saw."""
    n = 0
    for _, text in sub.messages():
        try:
            p = json.loads(json.loads(text)["payload"])
        except (ValueError, KeyError, TypeError):
            continue
        n += p.get("type") == "status" and p.get("online") is True
    return n


class SignedCommands(ClusterTestCase):

    def test_mutations_and_replays_never_run(self):
        dev = Device("dev-1", exec_enabled=True)
        c = self.cluster(dev)
        priv, pub = make_key(c.dir, "disp")
        rogue, _ = make_key(c.dir, "rogue")
        dev.options = {"trusted_key": "%s=%s" % (KID, pub),
                       "clock_skew": "1s"}
        runfile = c.dir / "runs"
        cmd_topic = "%s/dev-1/cmd" % PREFIX

        # The dispatcher's commands, captured on the device's topic
        # before the agent ever connected; then the dispatcher goes so
        # that it does not send them itself.
        c.start_broker()
        capture = MqttSub(c.broker_port, "dev-1", dev.password, [cmd_topic],
                          client_id="capture-dev-1").wait_subscribed()
        c.start_dispatcher(sign_key_file=priv, sign_kid=KID)
        tags = ["A", "B", "C"]
        for t in tags:
            c.submit("exec", ["dev-1"], allow_unknown=True, args={
                "argv": ["sh", "-c", "echo %s >> %s" % (t, runfile)]})
        wait_until(lambda: len(capture.payloads()) >= 3, 20,
                   "three signed commands on the cmd topic")
        capture.close()
        c.stop_dispatcher()
        captured = {}
        for text in capture.payloads():
            env = json.loads(text)
            self.assertEqual(env["alg"], "ed25519")
            self.assertEqual(env["kid"], KID)
            argv = json.loads(env["payload"])["args"]["argv"]
            captured[argv[2].split()[1]] = text
        self.assertEqual(sorted(captured), tags)

        sub = MqttSub(c.broker_port, DISPATCHER_USER, c.dispatcher_password,
                      ["%s/dev-1/result" % PREFIX,
                       "%s/dev-1/status" % PREFIX],
                      protocol=c.protocol).wait_subscribed()
        self.addCleanup(sub.close)
        c.start_agent("dev-1")
        # Its status comes after its subscription on the same
        # connection: once it is seen, commands reach the agent.
        wait_until(lambda: onlines(sub) >= 1, 20, "the agent online")

        # (a) Every byte of two captured commands flipped in turn, and
        # the third signed with a wrong key, as another kind, or with its
        # algorithm swapped.
        bad = []
        for t in ("A", "B"):
            raw = captured[t].encode()
            for i in range(len(raw)):
                m = bytearray(raw)
                m[i] ^= 0x01
                bad.append(m.decode())
        third = json.loads(captured["C"])
        payload = third["payload"]
        bad.append(signed_envelope(payload, KID, rogue))
        bad.append(signed_envelope(payload, "disp-other", rogue))
        bad.append(signed_envelope(payload, KID, priv, kind="result"))
        bad.append(signed_envelope(payload, KID, priv, kind="status"))
        for alg in ("none", "ed448", "ED25519", "ed25519ph"):
            e = dict(third, alg=alg)
            bad.append(json.dumps(e, separators=(",", ":")))
        bad.append(json.dumps({"v": 1, "alg": "none", "payload": payload},
                              separators=(",", ":")))
        e = dict(third)
        del e["sig"]
        bad.append(json.dumps(e, separators=(",", ":")))
        started = time.monotonic()
        self.assertEqual(pub_lines(c.broker_port, DISPATCHER_USER,
                                   c.dispatcher_password, cmd_topic, bad,
                                   protocol=c.protocol), 0)

        def refused():
            log = dev.proc.log_text()
            return log.count("cmd.dropped") + log.count("cmd.rejected")
        wait_until(lambda: refused() >= len(bad), 60,
                   "the agent to refuse all %d messages" % len(bad))
        self.assertGreaterEqual(len(bad), 500)
        self.assertEqual(runs(runfile), [], "a mutated command ran")
        log = dev.proc.log_text()
        self.assertNotIn("cmd.accepted", log)
        answered = results_of(sub)
        self.assertTrue(answered, "no refusal was answered")
        for p, _ in answered:
            self.assertEqual(p["type"], "result")
            self.assertEqual(p["state"], "REJECTED")
            self.assertEqual(p["error"]["code"], "bad_signature", p)
        elapsed = time.monotonic() - started
        self.assertLess(elapsed, 60)

        # The genuine commands still run, each once: no refusal above
        # used up their ids.
        for t in tags:
            pub_lines(c.broker_port, DISPATCHER_USER, c.dispatcher_password,
                      cmd_topic, [captured[t]], protocol=c.protocol)
        wait_until(lambda: sorted(runs(runfile)) == tags, 20,
                   "the three genuine commands to run")

        def succeeded(t):
            cid = json.loads(json.loads(captured[t])["payload"])["id"]
            return [text for p, text in results_of(sub)
                    if p.get("id") == cid and p.get("state") == "SUCCEEDED"]
        wait_until(lambda: all(succeeded(t) for t in tags), 20,
                   "their results")

        # (b) Replays: at once, after they ran, after an agent restart.
        pub_lines(c.broker_port, DISPATCHER_USER, c.dispatcher_password,
                  cmd_topic, [captured[t] for t in tags] * 2,
                  protocol=c.protocol)
        wait_until(lambda: all(len(succeeded(t)) >= 3 for t in tags), 20,
                   "the journal's answers to the replays")
        seen = onlines(sub)
        c.stop_agent("dev-1")
        c.start_agent("dev-1")
        wait_until(lambda: onlines(sub) > seen, 20,
                   "the agent online again")
        pub_lines(c.broker_port, DISPATCHER_USER, c.dispatcher_password,
                  cmd_topic, [captured[t] for t in tags],
                  protocol=c.protocol)
        wait_until(lambda: all(len(succeeded(t)) >= 4 for t in tags), 20,
                   "the journal's answers after a restart")
        for t in tags:
            answers = succeeded(t)
            self.assertEqual(len(set(answers)), 1,
                             "a replay was not answered byte for byte")

        # After exp: one that ran is answered from the journal, one that
        # never ran is EXPIRED; neither runs.
        now = int(time.time() * 1000)

        def signed_cmd(cid, tag, iat, exp):
            p = {"type": "command", "id": cid, "device": "dev-1",
                 "iat": iat, "exp": exp, "timeout_ms": 10000,
                 "action": "exec",
                 "args": {"argv": ["sh", "-c", "echo %s >> %s" % (
                     tag, runfile)]}}
            return signed_envelope(json.dumps(p, separators=(",", ":")),
                                   KID, priv)
        short = signed_cmd("01JSIGNSHORT00000000000000", "S", now,
                           now + 1500)
        stale = signed_cmd("01JSIGNSTALE00000000000000", "T", now - 9000,
                           now - 5000)
        pub_lines(c.broker_port, DISPATCHER_USER, c.dispatcher_password,
                  cmd_topic, [short, stale], protocol=c.protocol)
        wait_until(lambda: "S" in runs(runfile), 20, "the short command")
        wait_until(lambda: time.time() * 1000 > now + 1500 + 1000 + 200, 10,
                   "exp plus skew to pass")
        pub_lines(c.broker_port, DISPATCHER_USER, c.dispatcher_password,
                  cmd_topic, [short, stale], protocol=c.protocol)

        def answers(cid):
            return [p for p, _ in results_of(sub) if p.get("id") == cid]
        wait_until(lambda: len(answers("01JSIGNSHORT00000000000000")) >= 2
                   and len(answers("01JSIGNSTALE00000000000000")) >= 2, 20,
                   "the answers after exp")
        self.assertEqual(
            {p["state"] for p in answers("01JSIGNSHORT00000000000000")},
            {"SUCCEEDED"})
        self.assertEqual(
            {p["state"] for p in answers("01JSIGNSTALE00000000000000")},
            {"EXPIRED"})
        self.assertEqual(sorted(runs(runfile)), ["A", "B", "C", "S"])


class DeviceSignedResults(ClusterTestCase):

    def test_forged_result_is_refused(self):
        dev = Device("dev-2", exec_enabled=True)
        c = self.cluster(dev)
        keys = c.dir / "device-keys"
        keys.mkdir()
        dpriv, dpub = make_key(c.dir, "dev-2")
        dpub.rename(keys / "dev-2.pem")
        dev.options = {"result_sign_key_file": dpriv}
        c.start_broker()
        c.start_dispatcher(device_keys_dir=keys)
        capture = MqttSub(c.broker_port, "dev-2", dev.password,
                          ["%s/dev-2/cmd" % PREFIX],
                          client_id="capture-dev-2").wait_subscribed()
        self.addCleanup(capture.close)
        c.start_agent("dev-2")
        # Its signed status is accepted: it shows online.
        c.wait_online(["dev-2"])

        job = c.submit("exec", ["dev-2"], args={
            "argv": ["sh", "-c", "sleep 1; echo done"]})
        eid = job["executions"][0]["id"]
        wait_until(lambda: capture.payloads(), 20, "the command")
        payload = json.loads(capture.payloads()[0])["payload"]
        sha = hashlib.sha256(payload.encode()).hexdigest()
        wait_exec_state(c, eid, {"RUNNING"})
        now = int(time.time() * 1000)
        forged = {"type": "result", "id": eid, "device": "dev-2",
                  "boot_id": "01JSIGNBOOT000000000000000",
                  "state": "FAILED", "cmd_sha256": sha, "exit_code": 3,
                  "stdout": "forged", "stderr": "",
                  "stdout_truncated": False, "stderr_truncated": False,
                  "stdout_bytes": 6, "stderr_bytes": 0, "started_at": now,
                  "finished_at": now}
        text = json.dumps({"v": 1, "alg": "none", "payload": json.dumps(
            forged, separators=(",", ":"))}, separators=(",", ":"))
        self.assertEqual(mqtt_pub(c.broker_port, "dev-2", dev.password,
                                  "%s/dev-2/result" % PREFIX, text,
                                  protocol=c.protocol), 0)
        wait_until(lambda: metrics(c).get(
            'cmdbus_messages_dropped_total{reason="signature"}', 0) >= 1,
            20, "the forged result to be dropped for its signature")
        e = wait_exec_state(c, eid, {"SUCCEEDED", "FAILED"})
        self.assertEqual(e["state"], "SUCCEEDED", e)
        self.assertIn("done", json.dumps(e))
        self.assertNotIn("forged", json.dumps(e))


if __name__ == "__main__":
    unittest.main()
