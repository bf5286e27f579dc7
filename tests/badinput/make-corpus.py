#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The bad-input corpus: malformed, mistyped, incomplete, oversized and
hostile messages for an agent's cmd topic and requests for the REST API,
made deterministically (standard library only) from a valid command and a
valid job request. tests/integration/test_bad_input.py imports it; run
alone, it writes the cases under OUTDIR (mqtt/ and rest/, one file each,
plus a manifest) for fuzzing or manual replay."""

import json
import sys
from pathlib import Path

MAX_MESSAGE = 262144       # CMDBUS_MAX_MESSAGE: the broker's and agent's cap
MAX_BODY = 1048576         # CMDBUS_REST_MAX_BODY
MAX_DEPTH = 32             # CMDBUS_MAX_DEPTH
FIXED_NOW_MS = 1767225600000  # 2026-01-01, when no clock is given

# Values every typed field is tried with; each list holds only values the
# field must refuse.
NOT_INT = [None, True, "5000", 1.5, -1, 2 ** 53, 2 ** 64, "1e3", [], {},
           "\u0000"]
NOT_BOOL = [None, "true", 1, 0, [], {}, "yes"]
NOT_STR = [None, True, 7, 1.5, [], {}]
RAW_NUMBERS = ["1e400", "-0.0", "123456789012345678901234567890",
               "1.0", "0x10", "+5", "NaN", "Infinity", "-Infinity", "05"]


def dumps(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def nest(depth, inner="1"):
    return "[" * depth + inner + "]" * depth


def nest_obj(depth, inner="1"):
    return '{"a":' * depth + inner + "}" * depth


class Corpus:
    def __init__(self, device, signed_device, marker, now_ms):
        self.device = device
        self.signed_device = signed_device
        self.marker = marker
        self.now = now_ms
        self.mqtt = []
        self.rest = []

    # -- MQTT ---------------------------------------------------------

    def cid(self):
        return "BAD%023d" % len(self.mqtt)

    def good_payload(self, cid, device=None):
        return {"type": "command", "id": cid,
                "device": device or self.device,
                "iat": self.now, "exp": self.now + 3600000,
                "timeout_ms": 5000, "action": "exec",
                "args": {"argv": ["/bin/sh", "-c",
                                  "echo ran >> '%s'" % self.marker]}}

    def envelope(self, payload_text):
        return dumps({"v": 1, "alg": "none", "payload": payload_text})

    def m(self, cls, name, data, answer=False, broker=False, cid=None,
          device=None):
        """A message for the cmd topic of device (default: the agent that
        trusts no key). answer: a valid id can be read, so the agent may
        answer with a rejection; broker: over the broker's size limit, so
        it never reaches the agent."""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        broker = broker or len(data) > MAX_MESSAGE
        self.mqtt.append({"class": cls, "name": name, "data": data,
                          "id": cid if not broker else None,
                          "answer": answer and not broker,
                          "broker": broker,
                          "device": device or self.device})

    def p(self, cls, name, mutate, answer=True):
        """A valid envelope around the good command changed by mutate
        (a function of the payload dict, or returning its text)."""
        cid = self.cid()
        body = self.good_payload(cid)
        text = mutate(body)
        if text is None:
            text = dumps(body)
        self.m(cls, name, self.envelope(text), answer=answer, cid=cid)

    def make_mqtt(self):
        good = self.good_payload("GOOD0000000000000000000000")
        genv = self.envelope(dumps(good))
        # Not JSON, or not an envelope.
        for i, t in enumerate(["", " ", "{", "}", "[]", "null", "true", "1",
                               '"x"', "{'v':1}", '{"v":1', "{}{}", genv + "x",
                               genv + genv, "/*c*/" + genv, "\ufeff" + genv,
                               genv[:-1], genv[:len(genv) // 2]]):
            self.m("malformed_json", "text%02d" % i, t)
        self.m("invalid_utf8", "raw-ff", b"\xff\xfe\xfd")
        self.m("invalid_utf8", "envelope-bytes",
               genv.encode()[:20] + b"\xc3\x28" + genv.encode()[20:])
        self.m("invalid_utf8", "overlong-slash",
               b'{"v":1,"alg":"none","payload":"\xc0\xaf"}')
        self.m("invalid_utf8", "surrogate-bytes",
               b'{"v":1,"alg":"none","payload":"\xed\xa0\x80"}')
        self.m("invalid_utf8", "lone-surrogate-escape",
               '{"v":1,"alg":"none","payload":"\\ud800"}')
        self.m("embedded_nul", "raw-nul-before", b"\x00" + genv.encode())
        self.m("embedded_nul", "raw-nul-inside",
               genv.encode()[:10] + b"\x00" + genv.encode()[10:])
        self.m("embedded_nul", "raw-nul-after", genv.encode() + b"\x00")
        # Envelope fields, at the agent that trusts a key (one that trusts
        # none ignores alg, kid and sig, as the contract says).
        sgood = self.good_payload("SIGNED00000000000000000000",
                                  self.signed_device)
        env_cases = [
            ("no-v", {"alg": "none", "payload": dumps(sgood)}),
            ("v2", {"v": 2, "alg": "none", "payload": dumps(sgood)}),
            ("no-alg", {"v": 1, "payload": dumps(sgood)}),
            ("alg-rs256", {"v": 1, "alg": "RS256", "payload": dumps(sgood)}),
            ("alg-ed25519-nosig", {"v": 1, "alg": "ed25519",
                                   "payload": dumps(sgood)}),
            ("none-with-sig", {"v": 1, "alg": "none", "sig": "AAAA",
                               "payload": dumps(sgood)}),
            ("none-with-kid", {"v": 1, "alg": "none", "kid": "k1",
                               "payload": dumps(sgood)}),
            ("ed25519-bad-sig", {"v": 1, "alg": "ed25519", "kid": "k1",
                                 "sig": "!!notbase64!!",
                                 "payload": dumps(sgood)}),
            ("unsigned", {"v": 1, "alg": "none", "payload": dumps(sgood)}),
            ("unknown-kid", {"v": 1, "alg": "ed25519", "kid": "nope",
                             "sig": "A" * 86 + "==",
                             "payload": dumps(sgood)}),
            ("wrong-sig", {"v": 1, "alg": "ed25519", "kid": "test-2026a",
                           "sig": "A" * 86 + "==",
                           "payload": dumps(sgood)}),
            ("no-payload", {"v": 1, "alg": "none"}),
            ("payload-object", {"v": 1, "alg": "none", "payload": sgood}),
        ]
        for name, env in env_cases:
            cid = self.cid()
            self.m("bad_envelope", name,
                   dumps(env).replace("SIGNED00000000000000000000", cid),
                   answer=True, cid=cid, device=self.signed_device)
        for v in NOT_INT:
            self.m("wrong_type", "envelope-v-%s" % dumps(v)[:12],
                   dumps({"v": v, "alg": "none", "payload": dumps(good)}))
        for v in NOT_STR:
            self.m("wrong_type", "envelope-alg-%s" % dumps(v)[:12],
                   dumps({"v": 1, "alg": v, "payload": dumps(sgood)}),
                   device=self.signed_device)
            self.m("wrong_type", "envelope-payload-%s" % dumps(v)[:12],
                   dumps({"v": 1, "alg": "none", "payload": v}))
        for raw in RAW_NUMBERS:
            self.m("huge_number", "envelope-v-" + raw,
                   '{"v":%s,"alg":"none","payload":%s}' % (
                       raw, json.dumps(dumps(good))))
        self.m("malformed_json", "envelope-duplicate-v",
               '{"v":1,"v":1,"alg":"none","payload":%s}' % json.dumps(
                   dumps(good)))
        for d in (MAX_DEPTH + 1, 1000, 100000):
            self.m("deep_nesting", "envelope-%d" % d,
                   '{"v":1,"alg":"none","x":%s,"payload":%s}' % (
                       nest(d), json.dumps(dumps(good))))
        # A valid envelope around a bad payload.
        for i, t in enumerate(["", "{", "[]", "null", "1", '"x"', "{}",
                               dumps(good)[:-1], dumps(good) + "x"]):
            self.m("bad_payload", "text%02d" % i, self.envelope(t))
        for name in ("type", "id"):
            # Without a type or a valid id nothing can be answered.
            self.p("missing_field", "no-" + name,
                   lambda b, n=name: b.pop(n) and None, answer=False)
        for name in ("device", "iat", "exp", "timeout_ms", "action"):
            self.p("missing_field", "no-" + name,
                   lambda b, n=name: b.pop(n) and None)
        for v in ("result", "status", "report", "Command", "", 1, None):
            self.p("wrong_type", "type-%s" % dumps(v), lambda b, v=v:
                   b.update(type=v), answer=False)
        for v in ("short", "a" * 65, "has space", "sl/ash", "", 1, None,
                  "\u00e9" * 10):
            self.p("wrong_type", "id-%s" % dumps(v)[:12],
                   lambda b, v=v: b.update(id=v), answer=False)
        for field in ("iat", "exp", "timeout_ms"):
            for v in NOT_INT:
                self.p("wrong_type", "%s-%s" % (field, dumps(v)[:12]),
                       lambda b, f=field, v=v: b.update({f: v}))
            for raw in RAW_NUMBERS:
                self.p("huge_number", "%s-%s" % (field, raw),
                       lambda b, f=field, r=raw: dumps(b).replace(
                           '"%s":%s' % (f, dumps(b[f])),
                           '"%s":%s' % (f, r)))
        for v in NOT_STR + ["dev 1", "dev-2", "", "x" * 65]:
            self.p("wrong_type", "device-%s" % dumps(v)[:12],
                   lambda b, v=v: b.update(device=v))
        for v in NOT_STR + ["Exec", "", "nope", "a" * 65, "shell"]:
            self.p("wrong_type", "action-%s" % dumps(v)[:12],
                   lambda b, v=v: b.update(action=v))
        for field in ("idempotent", "stream"):
            for v in NOT_BOOL:
                self.p("wrong_type", "%s-%s" % (field, dumps(v)[:12]),
                       lambda b, f=field, v=v: b.update({f: v}))
        self.p("bad_time", "expired", lambda b: b.update(
            iat=self.now - 7200000, exp=self.now - 3600000))
        self.p("bad_time", "not-yet-valid", lambda b: b.update(
            iat=self.now + 3600000, exp=self.now + 7200000))
        self.p("bad_time", "exp-before-iat", lambda b: b.update(
            exp=self.now - 1))
        argvs = [None, "sh", [], [""], [1], [None], ["/bin/sh", 1],
                 ["/bin/sh\u0000x"], ["a" * 5000] * 300, [[]],
                 ["/bin/sh", {"x": 1}]]
        for i, a in enumerate(argvs):
            self.p("bad_args", "argv%02d" % i,
                   lambda b, a=a: b["args"].update(argv=a))
        for i, a in enumerate([None, [], "x", 1, True]):
            self.p("bad_args", "args%02d" % i,
                   lambda b, a=a: b.update(args=a))
        for i, e in enumerate([[], "A=1", {"A": 1}, {"": "x"},
                               {"A=B": "x"}, {"A": None}]):
            self.p("bad_args", "env%02d" % i,
                   lambda b, e=e: b["args"].update(env=e))
        for i, s in enumerate([1, [], {}, True]):
            self.p("bad_args", "stdin%02d" % i,
                   lambda b, s=s: b["args"].update(stdin=s))
        self.p("malformed_json", "duplicate-id",
               lambda b: dumps(b).replace('"type"', '"id":"DUP0000000",'
                                          '"type"', 1))
        self.p("invalid_utf8", "payload-lone-surrogate",
               lambda b: dumps(b).replace("echo ran", "echo \\udc00 ran"))
        self.p("embedded_nul", "payload-nul-escape-in-action",
               lambda b: dumps(b).replace('"exec"', '"ex\\u0000ec"'))
        for d in (MAX_DEPTH + 1, 1000, 50000):
            self.p("deep_nesting", "args-%d" % d,
                   lambda b, d=d: dumps(b).replace(
                       '"args":{', '"args":{"deep":%s,' % nest_obj(d), 1))
        # Sizes around the limit: the largest the broker passes (still
        # refused by the agent, whose cap counts the same bytes) and more.
        # (timeout_ms 0 makes it invalid whatever the size.)
        size = len(self.envelope(dumps(dict(good, timeout_ms=0))))
        self.p("oversized", "at-limit", lambda b: b.update(
            timeout_ms=0, pad="x" * (MAX_MESSAGE - size - 20)))
        for n in (MAX_MESSAGE + 1, 2 * MAX_MESSAGE, 4 * 1048576):
            self.m("oversized", "over-%d" % n,
                   (genv[:-1] + ',"pad":"' + "x" * n + '"}')[:n],
                   broker=True)
        return self.mqtt

    # -- REST ---------------------------------------------------------

    def good_job(self):
        return {"target": {"devices": [self.device]}, "action": "exec",
                "args": {"argv": ["/bin/sh", "-c",
                                  "echo rest >> '%s'" % self.marker]},
                "timeout_ms": 5000}

    def r(self, cls, name, method, path, body=None, status=None,
          field=None, content_type="application/json"):
        """A request that must be refused: any 4xx unless status says
        which; field, when given, is what error.field must start with."""
        if isinstance(body, (dict, list)):
            body = dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8", "surrogatepass")
        self.rest.append({"class": cls, "name": name, "method": method,
                          "path": path, "body": body, "status": status,
                          "field": field, "content_type": content_type})

    def job(self, cls, name, mutate, field=None, status=400):
        b = self.good_job()
        text = mutate(b)
        self.r(cls, name, "POST", "/v1/jobs",
               dumps(b) if text is None else text, status=status,
               field=field)

    def make_rest(self):
        good = dumps(self.good_job())
        for i, t in enumerate(["", " ", "{", "[]", "null", "1", '"x"',
                               "{}", good[:-1], good + "x", good + good,
                               "\ufeff" + good, "{'action':'ping'}"]):
            self.r("malformed_json", "body%02d" % i, "POST", "/v1/jobs", t,
                   status=400)
        self.r("invalid_utf8", "raw-ff", "POST", "/v1/jobs", b"\xff\xfe",
               status=400)
        self.r("invalid_utf8", "in-action", "POST", "/v1/jobs",
               good.encode().replace(b'"exec"', b'"ex\xc3\x28c"'),
               status=400)
        self.r("invalid_utf8", "lone-surrogate", "POST", "/v1/jobs",
               good.replace("echo rest", "echo \\ud800"), status=400)
        self.r("embedded_nul", "raw-nul", "POST", "/v1/jobs",
               good.encode()[:5] + b"\x00" + good.encode()[5:], status=400)
        self.r("embedded_nul", "escaped-nul-action", "POST", "/v1/jobs",
               good.replace('"exec"', '"ex\\u0000ec"'), status=400,
               field="action")
        self.r("malformed_json", "duplicate-key", "POST", "/v1/jobs",
               good.replace('"action"', '"action":"ping","action"', 1),
               status=400)
        for d in (MAX_DEPTH + 1, 1000, 100000):
            self.r("deep_nesting", "args-%d" % d, "POST", "/v1/jobs",
                   good.replace('"args":{', '"args":{"d":%s,' %
                                nest_obj(d), 1), status=400)
            self.r("deep_nesting", "top-%d" % d, "POST", "/v1/jobs",
                   nest(d), status=400)
        self.r("oversized", "body-over-limit", "POST", "/v1/jobs",
               good[:-1] + ',"pad":"' + "x" * MAX_BODY + '"}', status=413)
        self.r("oversized", "args-over-limit", "POST", "/v1/jobs",
               good.replace('"args":{', '"args":{"p":"%s",' % (
                   "x" * (MAX_BODY + 10)), 1), status=413)
        for name in ("target", "action"):
            self.job("missing_field", "no-" + name,
                     lambda b, n=name: b.pop(n) and None, field=name)
        for v in NOT_STR + ["Bad Action", "", "a" * 65, "ex/ec"]:
            self.job("wrong_type", "action-%s" % dumps(v)[:12],
                     lambda b, v=v: b.update(action=v), field="action")
        for field in ("timeout_ms", "ttl_ms"):
            for v in NOT_INT + [0]:
                self.job("wrong_type", "%s-%s" % (field, dumps(v)[:12]),
                         lambda b, f=field, v=v: b.update({f: v}),
                         field=field)
            for raw in RAW_NUMBERS:
                self.job("huge_number", "%s-%s" % (field, raw),
                         lambda b, f=field, r=raw: dumps(b)[:-1] +
                         ',"%s":%s}' % (f, r) if f not in b else
                         dumps(b).replace('"%s":%s' % (f, dumps(b[f])),
                                          '"%s":%s' % (f, r)))
        for v in (None, [], "x", 1, True):
            self.job("wrong_type", "args-%s" % dumps(v)[:12],
                     lambda b, v=v: b.update(args=v), field="args")
        for v in ("yes", 1, None, []):
            self.job("wrong_type", "stream-%s" % dumps(v)[:12],
                     lambda b, v=v: b.update(stream=v), field="stream")
        for v in ("", "x" * 129, "tab\there", 1, None, "\u00e9"):
            self.job("wrong_type", "idempotency_key-%s" % dumps(v)[:12],
                     lambda b, v=v: b.update(idempotency_key=v),
                     field="idempotency_key")
        targets = [
            ("null", None), ("string", "dev-1"), ("list", ["dev-1"]),
            ("empty", {}), ("devices-empty", {"devices": []}),
            ("devices-string", {"devices": "dev-1"}),
            ("devices-bad-id", {"devices": ["dev 1"]}),
            ("devices-slash", {"devices": ["../x"]}),
            ("devices-num", {"devices": [1]}),
            ("devices-null", {"devices": [None]}),
            ("devices-long", {"devices": ["d" * 65]}),
            ("devices-dup", {"devices": ["dev-1", "dev-1"]}),
            ("devices-too-many",
             {"devices": ["d%05d" % i for i in range(10001)]}),
            ("labels-empty", {"labels": {}}),
            ("labels-list", {"labels": ["site"]}),
            ("labels-num", {"labels": {"site": 1}}),
            ("labels-bad-key", {"labels": {"bad key": "x"}}),
            ("labels-bad-value", {"labels": {"site": "a b"}}),
            ("labels-bad-op", {"labels": {"site": {"eq": ["x"]}}}),
            ("labels-in-empty", {"labels": {"site": {"in": []}}}),
            ("labels-in-string", {"labels": {"site": {"in": "x"}}}),
            ("labels-17-keys",
             {"labels": {"k%02d" % i: "v" for i in range(17)}}),
            ("labels-65-values",
             {"labels": {"k": {"in": ["v%d" % i for i in range(65)]}}}),
            ("all-false", {"all": False}), ("all-string", {"all": "yes"}),
            ("two-kinds", {"all": True, "devices": ["dev-1"]}),
        ]
        for name, t in targets:
            self.job("bad_target", name, lambda b, t=t: b.update(target=t),
                     field="target")
        rollouts = [("string", "x"), ("batch-0", {"batch_size": 0}),
                    ("batch-str", {"batch_size": "x"}),
                    ("batch-pct-101", {"batch_size": "101%"}),
                    ("max-fail-pct", {"max_failure_pct": 101}),
                    ("offline-bad", {"offline": "maybe"}),
                    ("both-max", {"max_failures": 1,
                                  "max_failure_pct": 10})]
        for name, ro in rollouts:
            self.job("bad_rollout", name,
                     lambda b, ro=ro: b.update(rollout=ro),
                     field="rollout")
        # Headers, methods and paths.
        self.r("bad_header", "content-type-text", "POST", "/v1/jobs", good,
               status=415, content_type="text/plain")
        self.r("bad_header", "content-type-none", "POST", "/v1/jobs", good,
               status=415, content_type=None)
        self.r("bad_route", "method-put", "PUT", "/v1/jobs", good,
               status=405)
        self.r("bad_route", "method-delete", "DELETE", "/v1/jobs",
               status=405)
        for i, p in enumerate(["/v1/jobs/", "/v1//jobs", "/v1/jobs/..",
                               "/v1/jobs/../devices", "/v1/%2e%2e/jobs",
                               "/v2/jobs", "/v1/jobs/x/y/z", "/V1/JOBS",
                               "/v1/jobs%00", "/" + "a" * 5000]):
            self.r("bad_route", "path%02d" % i, "POST", p, good)
        unknown = "01JD3ZZZZZZZZZZZZZZZZZZZZZ"
        for i, p in enumerate([
                "/v1/jobs/%s/cancel" % unknown,
                "/v1/jobs/bad!id/cancel", "/v1/jobs/short/cancel",
                "/v1/jobs/%s/cancel" % ("a" * 100),
                "/v1/executions/%s/cancel" % unknown,
                "/v1/executions/bad!id/cancel",
                "/v1/executions/%%00/cancel"]):
            self.r("bad_cancel", "cancel%02d" % i, "POST", p)
        for i, (p, body, field) in enumerate([
                ("/v1/devices/bad!id/actions/ping", "{}", None),
                ("/v1/devices/dev-1/actions/Bad", "{}", "action"),
                ("/v1/devices/%s/actions/ping" % ("d" * 65), "{}",
                 "device"),
                ("/v1/devices/dev-1/actions/ping", "[]", None),
                ("/v1/devices/dev-1/actions/ping", "{", None),
                ("/v1/devices/dev-1/actions/ping", '{"args":[]}', "args"),
                ("/v1/devices/dev-1/actions/ping", '{"timeout_ms":0}',
                 "timeout_ms"),
                ("/v1/devices/dev-1/actions/ping", '{"timeout_ms":1e400}',
                 None),
                ("/v1/devices/dev-1/actions/ping", nest(1000), None),
                ("/v1/devices/dev-1/actions/ping", b"\xff", None)]):
            self.r("bad_action_call", "call%02d" % i, "POST", p, body,
                   field=field)
        queries = [("limit", "0"), ("limit", "501"), ("limit", "abc"),
                   ("limit", "-1"), ("limit", "99999999999999999999"),
                   ("limit", ""), ("state", "bogus"), ("state", "running"),
                   ("cursor", "!!"), ("cursor", "a" * 100),
                   ("device", "bad%20id"), ("action", "BAD"),
                   ("since", "-1"), ("since", "1e3"),
                   ("until", "x")]
        for k, v in queries:
            self.r("bad_query", "jobs-%s-%s" % (k, v[:10]), "GET",
                   "/v1/jobs?%s=%s" % (k, v), status=400, field=k)
        for k, v in [("limit", "0"), ("state", "ACCEPTED"),
                     ("cursor", "%00"), ("since", "x")]:
            self.r("bad_query", "device-execs-%s-%s" % (k, v), "GET",
                   "/v1/devices/dev-1/executions?%s=%s" % (k, v),
                   status=400, field=k)
        for k, v in [("wait", "x"), ("wait", "-1")]:
            self.r("bad_query", "job-%s-%s" % (k, v), "GET",
                   "/v1/jobs/%s?%s=%s" % (unknown, k, v), status=400,
                   field=k)
        return self.rest


def make(device="dev-1", signed_device="dev-2",
         marker="/tmp/cmdbus-bad-input-ran", now_ms=FIXED_NOW_MS):
    c = Corpus(device, signed_device, marker, now_ms)
    return c.make_mqtt(), c.make_rest()


def main(argv):
    if len(argv) != 2:
        print("usage: make-corpus.py OUTDIR", file=sys.stderr)
        return 2
    out = Path(argv[1])
    mqtt, rest = make()
    manifest = []
    for kind, cases in (("mqtt", mqtt), ("rest", rest)):
        (out / kind).mkdir(parents=True, exist_ok=True)
        for i, c in enumerate(cases):
            name = "%03d-%s-%s" % (i, c["class"], "".join(
                ch if ch.isalnum() or ch in "-_." else "_"
                for ch in c["name"]))[:80]
            data = c["data"] if kind == "mqtt" else (c["body"] or b"")
            (out / kind / name).write_bytes(data)
            meta = {k: v for k, v in c.items() if k not in ("data", "body")}
            meta["file"] = "%s/%s" % (kind, name)
            manifest.append(meta)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print("%d MQTT and %d REST cases in %s" % (len(mqtt), len(rest), out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
