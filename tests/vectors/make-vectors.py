#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the golden vectors and their MANIFEST from the definitions below.
# Run from anywhere: python3 tests/vectors/make-vectors.py. Signatures are
# made with the test keys in keys/ through the openssl command; Ed25519 is
# deterministic, so running this again gives the same bytes.
import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "keys")

ID = "01JD3QX4Z5W8K2N7R9T1V3B6YC"
ID2 = "01JD3QX4Z5W8K2N7R9T1V3B6YD"
JOB = "01JD3QWZ8M2P4R6T8V0X2Z4B6D"
BOOT = "01JD3PA7C9E1G3J5K7M9N1Q3S5"
IAT = 1763700000000
EXP = 1763786400000

manifest = []

for sub in ("payload", "envelope", "rest"):
    shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)


def canon(obj):
    """The canonical form: compact, insertion order, raw UTF-8."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def write(rel, data, schema, expect, rejects="-", opts="-"):
    if isinstance(data, str):
        data = data.encode("utf-8")
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    manifest.append((rel, schema, expect, rejects, opts))


def sign(kind, payload, key="test-2026a"):
    msg = b"cmdbus/v1/" + kind.encode() + b"\0" + payload.encode("utf-8")
    keyfile = os.path.join(KEYS, key + ".key.pem")
    # Ed25519 signs the whole message at once: openssl wants a file.
    with tempfile.NamedTemporaryFile() as t:
        t.write(msg)
        t.flush()
        out = subprocess.run(
            ["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", keyfile,
             "-in", t.name], capture_output=True, check=True).stdout
    assert len(out) == 64
    return base64.b64encode(out).decode()


def envelope(payload, kind=None, kid="test-2026a", key=None):
    if kind is None:
        return canon({"v": 1, "alg": "none", "payload": payload})
    return canon({"v": 1, "alg": "ed25519", "kid": kid,
                  "sig": sign(kind, payload, key or kid),
                  "payload": payload})


# ---------------------------------------------------------------- payloads
def valid(name, obj_or_text, schema):
    text = obj_or_text if isinstance(obj_or_text, str) else canon(obj_or_text)
    write("payload/valid/%s.json" % name, text, schema, "ok")
    return text


def invalid(name, data, schema, field, rejects, code="malformed"):
    if isinstance(data, dict):
        data = canon(data)
    write("payload/invalid/%s.json" % name, data, schema,
          "error %s %s" % (code, field if field else "-"), rejects)


command_exec = {
    "type": "command", "id": ID, "job": JOB, "device": "dev-1",
    "iat": IAT, "exp": EXP, "timeout_ms": 30000, "action": "exec",
    "args": {"argv": ["uname", "-a"]}, "max_output": 65536,
    "idempotent": False, "stream": False}
cmd_text = valid("command-exec", command_exec, "command")
CMD_SHA = hashlib.sha256(cmd_text.encode()).hexdigest()

valid("command-minimal", {
    "type": "command", "id": ID, "device": "d", "iat": 0, "exp": 0,
    "timeout_ms": 1, "action": "ping", "args": {}, "max_output": 65536,
    "idempotent": False, "stream": False}, "command")
valid("command-exec-stdin-env", {
    "type": "command", "id": ID, "job": JOB, "device": "edge.gw-07_a",
    "iat": IAT, "exp": EXP, "timeout_ms": 600000, "action": "exec",
    "args": {"argv": ["/usr/bin/tee", "/tmp/x"], "stdin": "line 1\nline 2\u0000",
             "env": {"LC_ALL": "C", "DEBUG": "1"}},
    "max_output": 1024, "idempotent": True, "stream": True}, "command")
# args keep their literals: numbers as written, escapes canonical.
valid("command-args-literals",
      '{"type":"command","id":"%s","device":"dev-1","iat":%d,"exp":%d,'
      '"timeout_ms":5000,"action":"restart","args":{"service":"nginx",'
      '"n":-3,"f":1.50,"e":1E+3,"nested":{"list":[true,false,null,[]]},'
      '"text":"tab\\there \\"q\\" \\\\ /slash \\u0001 caf\u00e9 \U0001F600"},'
      '"max_output":9007199254740991,"idempotent":false,"stream":false}'
      % (ID, IAT, EXP), "command")
valid("command-shell", {
    "type": "command", "id": ID, "device": "dev-1", "iat": IAT,
    "exp": IAT, "timeout_ms": 1000, "action": "shell",
    "args": {"script": "echo $((1+2)) | cat"}, "max_output": 65536,
    "idempotent": False, "stream": False}, "command")

valid("cancel", {"type": "cancel", "id": ID, "device": "dev-1",
                 "iat": IAT, "exp": EXP}, "cancel")

valid("report-accepted", {
    "type": "report", "id": ID, "device": "dev-1", "boot_id": BOOT,
    "state": "ACCEPTED", "at": IAT + 5, "cmd_sha256": CMD_SHA}, "report")
valid("report-running", {
    "type": "report", "id": ID, "device": "dev-1", "boot_id": BOOT,
    "state": "RUNNING", "at": IAT + 7, "pid": 4242,
    "cmd_sha256": CMD_SHA}, "report")
valid("report-accepted-minimal", {
    "type": "report", "id": ID, "device": "dev-1", "boot_id": BOOT,
    "state": "ACCEPTED", "at": IAT + 5}, "report")

valid("output-text", {
    "type": "output", "id": ID, "device": "dev-1", "stream": "stdout",
    "seq": 0, "data": "Linux dev-1 6.1.0 x86_64\n"}, "output")
valid("output-b64", {
    "type": "output", "id": ID, "device": "dev-1", "stream": "stderr",
    "seq": 3, "data_b64": "AP/+gA=="}, "output")
valid("output-empty", {
    "type": "output", "id": ID, "device": "dev-1", "stream": "stdout",
    "seq": 1, "data": ""}, "output")


def result(state, **kw):
    r = {"type": "result", "id": ID, "device": "dev-1", "boot_id": BOOT,
         "state": state}
    r.update(kw)
    return r


def streams(out="", err="", ob=None, eb=None, ot=False, et=False,
            out_key="stdout", err_key="stderr"):
    s = {out_key: out, err_key: err, "stdout_truncated": ot,
         "stderr_truncated": et,
         "stdout_bytes": ob if ob is not None else len(out.encode()),
         "stderr_bytes": eb if eb is not None else len(err.encode())}
    return s


def run_result(state, first, st, **tail):
    r = result(state, cmd_sha256=CMD_SHA)
    r.update(first)
    r.update(st)
    r.update(tail)
    return r


valid("result-succeeded", run_result(
    "SUCCEEDED", {"exit_code": 0},
    streams("Linux dev-1 6.1.0-13-amd64 x86_64 GNU/Linux\n"),
    started_at=IAT + 7, finished_at=IAT + 19), "result")
valid("result-succeeded-ping", result(
    "SUCCEEDED", exit_code=0, **streams("pong"), finished_at=IAT + 6),
    "result")
valid("result-failed-exit", run_result(
    "FAILED", {"exit_code": 2},
    streams("", "ls: cannot access '/nope': No such file or directory\n"),
    started_at=IAT + 7, finished_at=IAT + 9), "result")
valid("result-failed-signal", run_result(
    "FAILED", {"signal": 11}, streams("partial"),
    started_at=IAT + 7, finished_at=IAT + 9), "result")
valid("result-failed-spawn", run_result(
    "FAILED", {}, streams(), finished_at=IAT + 7,
    error={"code": "spawn_failed",
           "message": "argv[0] 'nope' not found on the exec path"}),
    "result")
valid("result-timed-out", run_result(
    "TIMED_OUT", {"signal": 15},
    streams("head...tail", "", ob=1048576, ot=True),
    started_at=IAT + 7, finished_at=IAT + 3600007,
    clamped_timeout_ms=3600000), "result")
valid("result-canceled-b64", run_result(
    "CANCELED", {"exit_code": 143},
    streams("AP8=", "//5lcnIK", ob=2, eb=6,
            out_key="stdout_b64", err_key="stderr_b64"),
    started_at=IAT + 7, finished_at=IAT + 8), "result")
valid("result-b64-nul", run_result(
    "SUCCEEDED", {"exit_code": 0},
    streams("aGVsbG8Ad29ybGQ=", "", ob=11, out_key="stdout_b64"),
    started_at=IAT + 7, finished_at=IAT + 8), "result")
valid("result-rejected", result(
    "REJECTED", cmd_sha256=CMD_SHA, finished_at=IAT + 1,
    error={"code": "bad_args", "message": "unknown parameter 'foo'"}),
    "result")
valid("result-expired", result(
    "EXPIRED", finished_at=EXP + 61000,
    error={"code": "expired", "message": "the command expired before it "
           "could start"}), "result")
valid("result-lost", result(
    "LOST", cmd_sha256=CMD_SHA, started_at=IAT + 7, finished_at=IAT + 90000,
    error={"code": "interrupted", "message": "the agent restarted while "
           "the command ran"}), "result")

status_online = {
    "type": "status", "device": "dev-1", "online": True, "boot_id": BOOT,
    "agent": "cmdbus-agent/0.1.0", "at": IAT,
    "labels": {"site": "sz", "role": "web"},
    "actions": [{"name": "ping"}, {"name": "info"}, {"name": "exec"},
                {"name": "restart",
                 "params": {"service": "^(nginx|sshd)$"}}],
    "health": {"uptime_s": 86400, "load1": 0.25, "mem_avail_kb": 1048576,
               "disk_avail_kb": 20971520}}
valid("status-online", status_online, "status")
valid("status-online-minimal", {
    "type": "status", "device": "dev-1", "online": True, "boot_id": BOOT,
    "agent": "cmdbus-agent/0.1.0", "at": IAT, "labels": {},
    "actions": []}, "status")
valid("status-offline", {
    "type": "status", "device": "dev-1", "online": False,
    "boot_id": BOOT}, "status")

# Invalid payloads: what JSON itself forbids. JSON Schema sees a parsed
# document, so it cannot tell any of these (schema-rejects no).
base = '{"type":"cancel","id":"%s","device":"dev-1","iat":1,"exp":2' % ID
invalid("json-duplicate-key", base + ',"device":"dev-2"}', "cancel", "",
        "no")
invalid("json-duplicate-key-escaped", base + ',"d\\u0065vice":"dev-2"}',
        "cancel", "", "no")
invalid("json-lone-high-surrogate", base + ',"x":"\\ud800"}', "cancel", "",
        "no")
invalid("json-lone-low-surrogate", base + ',"x":"\\udc00\\ud800"}',
        "cancel", "", "no")
invalid("json-invalid-utf8", base.encode() + b',"x":"\xff"}', "cancel", "",
        "no")
invalid("json-overlong-utf8", base.encode() + b',"x":"\xc0\xaf"}',
        "cancel", "", "no")
invalid("json-utf8-surrogate", base.encode() + b',"x":"\xed\xa0\x80"}',
        "cancel", "", "no")
invalid("json-utf8-above-max", base.encode() + b',"x":"\xf4\x90\x80\x80"}',
        "cancel", "", "no")
invalid("json-leading-zero", base.replace('"iat":1', '"iat":01') + "}",
        "cancel", "", "no")
invalid("json-plus-sign", base.replace('"iat":1', '"iat":+1') + "}",
        "cancel", "", "no")
invalid("json-nan", base + ',"x":NaN}', "cancel", "", "no")
invalid("json-infinity", base + ',"x":-Infinity}', "cancel", "", "no")
invalid("json-trailing-garbage", base + '}x', "cancel", "", "no")
invalid("json-two-values", base + '}{}', "cancel", "", "no")
invalid("json-control-char", base + ',"x":"a\tb"}', "cancel", "", "no")
invalid("json-nul-in-key", base + ',"a\\u0000b":1}', "cancel", "", "no")
invalid("json-too-deep", base + ',"x":' + "[" * 32 + "]" * 32 + "}",
        "cancel", "", "no")
invalid("json-empty", "", "payload", "", "no")
invalid("json-truncated", base, "cancel", "", "no")

# Invalid payloads: the schema of the contract.
invalid("not-an-object", '["cancel"]', "payload", "", "yes")
invalid("missing-type", {"id": ID, "device": "dev-1"}, "payload", "type",
        "yes")
invalid("unknown-type", {"type": "hello", "id": ID}, "payload", "type",
        "yes")


def cmd(**kw):
    c = dict(command_exec)
    c.update(kw)
    return c


def drop(d, *keys):
    d = dict(d)
    for k in keys:
        del d[k]
    return d


invalid("command-missing-args", drop(command_exec, "args"), "command",
        "args", "yes")
invalid("command-args-not-object", cmd(args=["uname"]), "command", "args",
        "yes")
invalid("command-exp-before-iat", cmd(exp=IAT - 1), "command", "exp", "no")
invalid("command-timeout-zero", cmd(timeout_ms=0), "command", "timeout_ms",
        "yes")
invalid("command-int-fraction",
        canon(command_exec).replace('"timeout_ms":30000',
                                    '"timeout_ms":30000.0'),
        "command", "timeout_ms", "no")
invalid("command-int-exponent",
        canon(command_exec).replace('"iat":%d' % IAT, '"iat":1.7637e12'),
        "command", "iat", "no")
invalid("command-int-negative", cmd(iat=-1), "command", "iat", "yes")
invalid("command-int-too-big", cmd(exp=9007199254740992), "command", "exp",
        "yes")
invalid("command-int-string", cmd(iat=str(IAT)), "command", "iat", "yes")
invalid("command-bad-device", cmd(device="dev/1"), "command", "device",
        "yes")
invalid("command-device-too-long", cmd(device="d" * 65), "command",
        "device", "yes")
invalid("command-bad-id", cmd(id="short"), "command", "id", "yes")
invalid("command-id-with-nul", cmd(id=ID + "\u0000"), "command", "id",
        "yes")
invalid("command-bad-job", cmd(job="job id"), "command", "job", "yes")
invalid("command-bad-action", cmd(action="Exec"), "command", "action",
        "yes")
invalid("command-max-output-zero", cmd(max_output=0), "command",
        "max_output", "yes")
invalid("command-idempotent-string", cmd(idempotent="false"), "command",
        "idempotent", "yes")
invalid("command-stream-null", cmd(stream=None), "command", "stream", "yes")
invalid("command-missing-device", drop(command_exec, "device"), "command",
        "device", "yes")
invalid("cancel-exp-before-iat", {"type": "cancel", "id": ID,
                                  "device": "dev-1", "iat": 2, "exp": 1},
        "cancel", "exp", "no")
invalid("cancel-missing-exp", {"type": "cancel", "id": ID,
                               "device": "dev-1", "iat": 2},
        "cancel", "exp", "yes")

report = {"type": "report", "id": ID, "device": "dev-1", "boot_id": BOOT,
          "state": "RUNNING", "at": IAT, "pid": 42}
invalid("report-terminal-state", dict(report, state="SUCCEEDED"), "report",
        "state", "yes")
invalid("report-unknown-state", dict(report, state="running"), "report",
        "state", "yes")
invalid("report-running-without-pid", drop(report, "pid"), "report", "pid",
        "yes")
invalid("report-pid-zero", dict(report, pid=0), "report", "pid", "yes")
invalid("report-bad-sha256", dict(report, cmd_sha256=CMD_SHA.upper()),
        "report", "cmd_sha256", "yes")
invalid("report-bad-boot-id", dict(report, boot_id="x"), "report",
        "boot_id", "yes")

output = {"type": "output", "id": ID, "device": "dev-1", "stream": "stdout",
          "seq": 0, "data": "x"}
invalid("output-both-data", dict(output, data_b64="eA=="), "output",
        "data_b64", "yes")
invalid("output-no-data", drop(output, "data"), "output", "data", "yes")
invalid("output-chunk-too-large", dict(output, data="x" * 16385), "output",
        "data", "yes")
invalid("output-b64-chunk-too-large",
        dict(drop(output, "data"), data_b64="eHh4" * 5461 + "eHg="),
        "output", "data_b64", "no")
invalid("output-b64-bad-char", dict(drop(output, "data"), data_b64="eA=*"),
        "output", "data_b64", "yes")
invalid("output-b64-no-padding", dict(drop(output, "data"), data_b64="eA"),
        "output", "data_b64", "yes")
invalid("output-b64-line-break",
        dict(drop(output, "data"), data_b64="eHh4\neHh4"), "output",
        "data_b64", "yes")
invalid("output-b64-pad-bits", dict(drop(output, "data"), data_b64="eB=="),
        "output", "data_b64", "yes")
invalid("output-bad-stream", dict(output, stream="stdin"), "output",
        "stream", "yes")
invalid("output-missing-seq", drop(output, "seq"), "output", "seq", "yes")

ok_run = run_result("SUCCEEDED", {"exit_code": 0}, streams("pong"),
                    started_at=IAT, finished_at=IAT + 1)
ok_rej = result("REJECTED", finished_at=IAT,
                error={"code": "expired", "message": "m"})
invalid("result-not-terminal", dict(ok_run, state="RUNNING"), "result",
        "state", "yes")
invalid("result-missing-stderr", drop(ok_run, "stderr"), "result", "stderr",
        "yes")
invalid("result-both-stdout", dict(ok_run, stdout_b64="cG9uZw=="), "result",
        "stdout_b64", "yes")
invalid("result-exit-and-signal", dict(ok_run, state="FAILED", signal=9),
        "result", "signal", "yes")
invalid("result-succeeded-nonzero", dict(ok_run, exit_code=1), "result",
        "exit_code", "yes")
invalid("result-exit-code-range", dict(ok_run, state="FAILED",
                                       exit_code=256), "result",
        "exit_code", "yes")
invalid("result-missing-truncated", drop(ok_run, "stdout_truncated"),
        "result", "stdout_truncated", "yes")
invalid("result-missing-bytes", drop(ok_run, "stderr_bytes"),
        "result", "stderr_bytes", "yes")
invalid("result-bytes-below-kept", dict(ok_run, stdout_bytes=3), "result",
        "stdout_bytes", "no")
invalid("result-missing-finished-at", drop(ok_run, "finished_at"), "result",
        "finished_at", "yes")
invalid("result-rejected-with-stream", dict(ok_rej, stdout="x"), "result",
        "stdout", "yes")
invalid("result-rejected-without-error", drop(ok_rej, "error"), "result",
        "error", "yes")
invalid("result-lost-with-exit-code", dict(ok_rej, state="LOST",
                                           exit_code=0), "result",
        "exit_code", "yes")
invalid("result-error-missing-message",
        dict(ok_rej, error={"code": "expired"}), "result", "error.message",
        "yes")
invalid("result-error-bad-code",
        dict(ok_rej, error={"code": "Bad Code", "message": "m"}), "result",
        "error.code", "yes")
invalid("result-error-not-object", dict(ok_rej, error="expired"), "result",
        "error", "yes")
invalid("result-clamped-zero", dict(ok_run, clamped_timeout_ms=0), "result",
        "clamped_timeout_ms", "yes")

status = {"type": "status", "device": "dev-1", "online": True,
          "boot_id": BOOT, "agent": "cmdbus-agent/0.1.0", "at": IAT,
          "labels": {"site": "sz"},
          "actions": [{"name": "ping"}, {"name": "info"}],
          "health": {"uptime_s": 1, "load1": 0.5, "mem_avail_kb": 1,
                     "disk_avail_kb": 1}}
invalid("status-online-without-agent", drop(status, "agent"), "status",
        "agent", "yes")
invalid("status-online-without-at", drop(status, "at"), "status", "at",
        "yes")
invalid("status-offline-without-boot-id",
        {"type": "status", "device": "dev-1", "online": False}, "status",
        "boot_id", "yes")
invalid("status-online-not-bool", dict(status, online="true"), "status",
        "online", "yes")
invalid("status-bad-label-value", dict(status, labels={"site": "s z"}),
        "status", "labels.site", "yes")
invalid("status-bad-label-key", dict(status, labels={"s z": "x"}),
        "status", "labels", "yes")
invalid("status-bad-action-name",
        dict(status, actions=[{"name": "ping"}, {"name": "Info"}]),
        "status", "actions[1].name", "yes")
invalid("status-duplicate-action",
        dict(status, actions=[{"name": "ping"},
                              {"name": "ping", "params": {"a": "x"}}]),
        "status", "actions[1].name", "no")
invalid("status-param-not-string",
        dict(status, actions=[{"name": "restart", "params": {"svc": 1}}]),
        "status", "actions[0].params.svc", "yes")
invalid("status-health-incomplete",
        dict(status, health={"uptime_s": 1, "load1": 0.5,
                             "mem_avail_kb": 1}),
        "status", "health.disk_avail_kb", "yes")
invalid("status-health-negative-load",
        dict(status, health={"uptime_s": 1, "load1": -0.5,
                             "mem_avail_kb": 1, "disk_avail_kb": 1}),
        "status", "health.load1", "yes")

# ---------------------------------------------------------------- envelope
p_cmd = cmd_text
p_res = canon(run_result("SUCCEEDED", {"exit_code": 0}, streams("pong"),
                         started_at=IAT + 7, finished_at=IAT + 8))
p_sta = canon({"type": "status", "device": "dev-1", "online": False,
               "boot_id": BOOT})


def env_valid(name, text, opts):
    write("envelope/valid/%s.json" % name, text, "envelope", "ok", "-", opts)


def env_invalid(name, text, field, rejects, opts, code="malformed"):
    if isinstance(text, dict):
        text = canon(text)
    write("envelope/invalid/%s.json" % name, text, "envelope",
          "error %s %s" % (code, field if field else "-"), rejects, opts)


env_valid("unsigned-cmd", envelope(p_cmd), "kind=cmd trust=none")
env_valid("signed-cmd", envelope(p_cmd, "cmd"), "kind=cmd trust=test")
env_valid("signed-result", envelope(p_res, "result"),
          "kind=result trust=test")
env_valid("signed-status", envelope(p_sta, "status"),
          "kind=status trust=test")
env_valid("signed-second-key", envelope(p_cmd, "cmd", kid="test-2026b"),
          "kind=cmd trust=test")
env_valid("unknown-alg-untrusted",
          canon({"v": 1, "alg": "ed448", "kid": "k1", "sig": "AAAA",
                 "payload": p_cmd}), "kind=cmd trust=none")
env_valid("extra-field", canon({"v": 1, "alg": "none", "note": "ignored",
                                "payload": p_cmd}), "kind=cmd trust=none")

signed = json.loads(envelope(p_cmd, "cmd"))


def env(**kw):
    e = dict(signed)
    for k, v in kw.items():
        if v is None:
            del e[k]
        else:
            e[k] = v
    return e


env_invalid("missing-v", env(v=None), "v", "yes", "kind=cmd trust=test")
env_invalid("v-2", env(v=2), "v", "yes", "kind=cmd trust=test")
env_invalid("v-string", env(v="1"), "v", "yes", "kind=cmd trust=test")
env_invalid("v-fraction", canon(signed).replace('"v":1', '"v":1.0'), "v",
            "no", "kind=cmd trust=test")
env_invalid("missing-payload", env(payload=None), "payload", "yes",
            "kind=cmd trust=test")
env_invalid("payload-not-string", env(payload=json.loads(p_cmd)), "payload",
            "yes", "kind=cmd trust=test")
env_invalid("missing-alg", env(alg=None), "alg", "yes",
            "kind=cmd trust=test")
env_invalid("none-with-kid", {"v": 1, "alg": "none", "kid": "test-2026a",
                              "payload": p_cmd}, "kid", "yes",
            "kind=cmd trust=test")
env_invalid("none-with-sig", {"v": 1, "alg": "none",
                              "sig": signed["sig"], "payload": p_cmd},
            "sig", "yes", "kind=cmd trust=test")
env_invalid("ed25519-without-kid", env(kid=None), "kid", "yes",
            "kind=cmd trust=test")
env_invalid("ed25519-without-sig", env(sig=None), "sig", "yes",
            "kind=cmd trust=test")
env_invalid("sig-short", env(sig=signed["sig"][:84]), "sig", "yes",
            "kind=cmd trust=test")
env_invalid("sig-not-base64", env(sig="!" * 88), "sig", "yes",
            "kind=cmd trust=test")
env_invalid("kid-bad-chars", env(kid="test 2026a"), "kid", "yes",
            "kind=cmd trust=test")
env_invalid("not-an-object", "[1]", "", "yes", "kind=cmd trust=test")
env_invalid("duplicate-key",
            canon(signed)[:-1] + ',"alg":"none"}', "", "no",
            "kind=cmd trust=test")
env_invalid("unsigned-when-trusting", envelope(p_cmd), "alg", "no",
            "kind=cmd trust=test", "bad_signature")
env_invalid("unknown-alg-when-trusting",
            env(alg="ed448"), "alg", "no", "kind=cmd trust=test",
            "bad_signature")
env_invalid("unknown-kid", envelope(p_cmd, "cmd", kid="test-2026z",
                                    key="test-2026a"),
            "kid", "no", "kind=cmd trust=test", "bad_signature")
env_invalid("wrong-kind", envelope(p_cmd, "cmd"), "sig", "no",
            "kind=result trust=test", "bad_signature")
sig = bytearray(base64.b64decode(signed["sig"]))
sig[10] ^= 1
env_invalid("sig-flipped", env(sig=base64.b64encode(
    bytes(sig)).decode()), "sig", "no", "kind=cmd trust=test",
            "bad_signature")
env_invalid("payload-tampered",
            env(payload=p_cmd.replace('"timeout_ms":30000',
                                      '"timeout_ms":30001')),
            "sig", "no", "kind=cmd trust=test", "bad_signature")
env_invalid("signed-by-other-key",
            envelope(p_cmd, "cmd", kid="test-2026a", key="test-2026b"),
            "sig", "no", "kind=cmd trust=test", "bad_signature")

# ---------------------------------------------------------------- REST
def rest_valid(name, obj, schema="rest-job-request"):
    text = obj if isinstance(obj, str) else canon(obj)
    write("rest/valid/%s.json" % name, text, schema, "ok")


def rest_invalid(name, obj, field, rejects, code="malformed"):
    text = obj if isinstance(obj, str) else canon(obj)
    write("rest/invalid/%s.json" % name, text, "rest-job-request",
          "error %s %s" % (code, field if field else "-"), rejects)


job = {"target": {"devices": ["dev-1", "dev-2"]}, "action": "exec",
       "args": {"argv": ["uptime"]}, "timeout_ms": 10000,
       "ttl_ms": 600000}
rest_valid("job-devices", job)
rest_valid("job-minimal", {"target": {"all": True}, "action": "ping"})
rest_valid("job-labels-rollout", {
    "target": {"labels": {"site": "lab", "role": "web"}}, "action": "info",
    "stream": True,
    "rollout": {"batch_size": "25%", "max_failure_pct": 10,
                "offline": "skip"},
    "idempotency_key": "deploy 2026-11-21 #4"})
rest_valid("job-rollout-count", {
    "target": {"devices": ["dev-1"]}, "action": "ping",
    "rollout": {"batch_size": 5, "max_failures": 0, "offline": "fail"}})


def jobw(**kw):
    j = dict(job)
    for k, v in kw.items():
        if v is None:
            del j[k]
        else:
            j[k] = v
    return j


rest_invalid("target-two-forms",
             jobw(target={"devices": ["dev-1"], "all": True}), "target",
             "yes")
rest_invalid("target-missing", jobw(target=None), "target", "yes")
rest_invalid("target-empty", jobw(target={}), "target", "yes")
rest_invalid("devices-empty", jobw(target={"devices": []}),
             "target.devices", "yes")
rest_invalid("devices-duplicate",
             jobw(target={"devices": ["dev-1", "dev-2", "dev-1"]}),
             "target.devices[2]", "yes")
rest_invalid("devices-bad-id", jobw(target={"devices": ["dev-1", "a/b"]}),
             "target.devices[1]", "yes")
rest_invalid("labels-empty", jobw(target={"labels": {}}), "target.labels",
             "yes")
rest_invalid("labels-bad-value", jobw(target={"labels": {"site": ""}}),
             "target.labels.site", "yes")
rest_invalid("all-false", jobw(target={"all": False}), "target.all", "yes")
rest_invalid("missing-action", jobw(action=None), "action", "yes")
rest_invalid("bad-action", jobw(action="rm -rf"), "action", "yes")
rest_invalid("args-not-object", jobw(args="uptime"), "args", "yes")
rest_invalid("timeout-zero", jobw(timeout_ms=0), "timeout_ms", "yes")
rest_invalid("timeout-too-big", jobw(timeout_ms=86400001), "timeout_ms",
             "yes")
rest_invalid("timeout-fraction",
             canon(job).replace('"timeout_ms":10000', '"timeout_ms":1e4'),
             "timeout_ms", "no")
rest_invalid("ttl-too-small", jobw(ttl_ms=999), "ttl_ms", "yes")
rest_invalid("stream-not-bool", jobw(stream=1), "stream", "yes")
rest_invalid("rollout-pct-zero", jobw(rollout={"batch_size": "0%"}),
             "rollout.batch_size", "yes")
rest_invalid("rollout-pct-over", jobw(rollout={"batch_size": "101%"}),
             "rollout.batch_size", "yes")
rest_invalid("rollout-batch-zero", jobw(rollout={"batch_size": 0}),
             "rollout.batch_size", "yes")
rest_invalid("rollout-both-thresholds",
             jobw(rollout={"max_failures": 1, "max_failure_pct": 5}),
             "rollout.max_failure_pct", "yes")
rest_invalid("rollout-failure-pct-over",
             jobw(rollout={"max_failure_pct": 101}),
             "rollout.max_failure_pct", "yes")
rest_invalid("rollout-bad-offline", jobw(rollout={"offline": "later"}),
             "rollout.offline", "yes")
rest_invalid("idempotency-key-too-long", jobw(idempotency_key="k" * 129),
             "idempotency_key", "yes")
rest_invalid("idempotency-key-control", jobw(idempotency_key="a\nb"),
             "idempotency_key", "yes")
# Targeting: label selector terms, allow_unknown, the canary.
rest_valid("job-labels-terms", {
    "target": {"labels": {"env": "prod", "role": {"in": ["web", "db"]},
                          "zone": {"notin": ["b"]}}},
    "action": "ping",
    "rollout": {"batch_size": 10, "max_failures": 2, "offline": "wait",
                "canary": 2}})
rest_valid("job-devices-allow-unknown", {
    "target": {"devices": ["dev-1", "dev-9"], "allow_unknown": True},
    "action": "ping"})
rest_valid("job-labels-max", {
    "target": {"labels": dict(
        [("k%02d" % i, "v") for i in range(15)] +
        [("set", {"in": ["v%02d" % i for i in range(64)]})])},
    "action": "ping"})
rest_invalid("labels-term-number", jobw(target={"labels": {"env": 1}}),
             "target.labels.env", "yes")
rest_invalid("labels-term-array", jobw(target={"labels": {"env": ["a"]}}),
             "target.labels.env", "yes")
rest_invalid("labels-term-empty-object",
             jobw(target={"labels": {"env": {}}}), "target.labels.env",
             "yes")
rest_invalid("labels-term-unknown-op",
             jobw(target={"labels": {"env": {"eq": ["a"]}}}),
             "target.labels.env", "yes")
rest_invalid("labels-term-two-ops",
             jobw(target={"labels": {"env": {"in": ["a"],
                                             "notin": ["b"]}}}),
             "target.labels.env", "yes")
rest_invalid("labels-in-empty", jobw(target={"labels": {"env": {"in": []}}}),
             "target.labels.env.in", "yes")
rest_invalid("labels-in-not-array",
             jobw(target={"labels": {"env": {"in": "a"}}}),
             "target.labels.env.in", "yes")
rest_invalid("labels-in-bad-value",
             jobw(target={"labels": {"env": {"in": ["a", "b c"]}}}),
             "target.labels.env.in[1]", "yes")
rest_invalid("labels-in-duplicate",
             jobw(target={"labels": {"env": {"in": ["a", "b", "a"]}}}),
             "target.labels.env.in[2]", "yes")
rest_invalid("labels-notin-too-many",
             jobw(target={"labels": {"env": {
                 "notin": ["v%02d" % i for i in range(65)]}}}),
             "target.labels.env.notin", "yes")
rest_invalid("labels-too-many-keys",
             jobw(target={"labels": dict(("k%02d" % i, "v")
                                         for i in range(17))}),
             "target.labels", "yes")
rest_invalid("labels-bad-key", jobw(target={"labels": {"e v": "x"}}),
             "target.labels", "yes")
rest_invalid("allow-unknown-not-bool",
             jobw(target={"devices": ["dev-1"], "allow_unknown": 1}),
             "target.allow_unknown", "yes")
rest_invalid("allow-unknown-with-labels",
             jobw(target={"labels": {"env": "prod"}, "allow_unknown": True}),
             "target.allow_unknown", "yes")
rest_invalid("allow-unknown-with-all",
             jobw(target={"all": True, "allow_unknown": False}),
             "target.allow_unknown", "yes")
rest_invalid("rollout-canary-over", jobw(rollout={"canary": 10001}),
             "rollout.canary", "yes")
rest_invalid("rollout-canary-negative", jobw(rollout={"canary": -1}),
             "rollout.canary", "yes")
rest_invalid("rollout-canary-fraction",
             canon(jobw(rollout={"canary": 1})).replace('"canary":1',
                                                        '"canary":1.0'),
             "rollout.canary", "no")
rest_invalid("body-duplicate-key", canon(job)[:-1] + ',"action":"ping"}',
             "", "no")
rest_invalid("body-not-object", "[]", "", "yes")

# Views, as the dispatcher encodes them (checked byte for byte by
# test_schema_rest_views, and against their schemas).
result_doc = json.loads(p_res)
execution = {"id": ID, "job": JOB, "device": "dev-1", "action": "exec",
             "state": "SUCCEEDED", "created_at": IAT - 100,
             "updated_at": IAT + 9, "published_at": IAT,
             "finished_at": IAT + 9, "result": result_doc}
rest_valid("execution-view", execution, "rest-execution")
rest_valid("execution-view-expired", {
    "id": ID2, "job": JOB, "device": "dev-2", "action": "exec",
    "state": "EXPIRED", "created_at": IAT - 100, "updated_at": EXP,
    "finished_at": EXP,
    "error": {"code": "expired", "message": "never delivered before exp"},
    "late_results": 1}, "rest-execution")
rest_valid("job-view", {
    "id": JOB, "state": "COMPLETED", "action": "exec",
    "args": {"argv": ["uname", "-a"]}, "timeout_ms": 30000,
    "ttl_ms": 86400000, "stream": False, "created_at": IAT - 100,
    "finished_at": EXP, "counts": {"SUCCEEDED": 1, "EXPIRED": 1},
    "executions": [execution, {
        "id": ID2, "job": JOB, "device": "dev-2", "action": "exec",
        "state": "EXPIRED", "created_at": IAT - 100, "updated_at": EXP,
        "finished_at": EXP,
        "error": {"code": "expired", "message": "never delivered"}}]},
    "rest-job")
# A rollout aborted by its canary: every member of the job detail.
job_targets = {"matched": 4, "offline": ["dev-3"], "unknown": []}
rest_valid("job-view-rollout", {
    "id": JOB, "state": "ABORTED", "action": "exec",
    "args": {"argv": ["uname", "-a"]}, "timeout_ms": 30000,
    "ttl_ms": 86400000, "stream": False, "created_at": IAT - 100,
    "finished_at": EXP,
    "counts": {"SUCCEEDED": 1, "FAILED": 1, "CANCELED": 2},
    "reasons": {"rollout_aborted": 2},
    "targets": job_targets,
    "rollout": {"batch_size": 2, "max_failures": 1, "offline": "skip",
                "canary": 2, "phase": "aborted", "released": 2,
                "in_progress": 0, "waiting": 0, "failures": 1, "batch": 0},
    "abort_reason": "canary failed: 1 of 2 canary executions did not "
                    "succeed",
    "executions": []}, "rest-job")
rest_valid("job-view-targets-unknown", {
    "id": JOB, "state": "RUNNING", "action": "ping", "args": {},
    "timeout_ms": 30000, "ttl_ms": 3600000, "stream": False,
    "created_at": IAT, "counts": {"QUEUED": 2},
    "targets": {"matched": 2, "offline": [], "unknown": ["dev-9"]},
    "rollout": {"batch_size": 2, "offline": "wait", "canary": 0,
                "phase": "done", "released": 2, "in_progress": 2,
                "waiting": 0, "failures": 0, "batch": 1},
    "executions": []}, "rest-job")
rest_valid("error-body", {"error": {"code": "malformed",
                                    "message": "device 'dev-1' is listed "
                                    "twice",
                                    "field": "target.devices[2]"}},
           "rest-error")
# A device as the dispatcher shows it after the status-online payload
# (test_schema_rest_devices builds it from that vector), and one only ever seen
# through its will.
device = {"id": "dev-1", "online": True, "last_seen": IAT + 40,
          "boot_id": BOOT}
for k in ("agent", "labels", "actions", "health"):
    device[k] = status_online[k]
device_will = {"id": "dev-2", "online": False, "last_seen": EXP,
               "boot_id": BOOT, "labels": {}, "actions": []}
rest_valid("device-view", device, "rest-device")
rest_valid("device-view-never-online", device_will, "rest-device")
# Online by its last status, but silent for three heartbeats since.
device_stale = {"id": "dev-1", "online": True, "stale": True,
                "last_seen": IAT + 40, "boot_id": BOOT,
                "labels": {}, "actions": []}
rest_valid("device-view-stale", device_stale, "rest-device")
rest_valid("devices-view", {"devices": [device, device_will]},
           "rest-devices")
rest_valid("health-ok", {"status": "ok", "database": True, "broker": True},
           "rest-health")
rest_valid("health-unavailable", {"status": "unavailable", "database": True,
                                  "broker": False}, "rest-health")

# Pages of the REST lists and the other views of the full API (checked
# byte for byte by test_schema_rest_views, and against their schemas).
job_summary = {"id": JOB, "state": "COMPLETED", "action": "exec",
               "args": {"argv": ["uname", "-a"]}, "timeout_ms": 30000,
               "ttl_ms": 86400000, "stream": False, "created_at": IAT - 100,
               "finished_at": EXP, "counts": {"SUCCEEDED": 1, "EXPIRED": 1}}
rest_valid("jobs-page", {"jobs": [job_summary], "next_cursor": JOB},
           "rest-jobs")
rest_valid("jobs-page-last", {"jobs": [], "next_cursor": None}, "rest-jobs")
rest_valid("jobs-page-aborted", {"jobs": [dict(
    job_summary, state="ABORTED",
    counts={"SUCCEEDED": 1, "FAILED": 1, "CANCELED": 2},
    abort_reason="max_failures exceeded: 1 failures, at most 0 allowed")],
    "next_cursor": None}, "rest-jobs")
rest_valid("executions-page", {"executions": [execution],
                               "next_cursor": None}, "rest-executions")
rest_valid("output-view", {
    "id": ID, "state": "SUCCEEDED", "final": True, "source": "result",
    "stdout": result_doc.get("stdout", ""),
    "stderr": result_doc.get("stderr", ""),
    "stdout_truncated": result_doc.get("stdout_truncated", False),
    "stderr_truncated": result_doc.get("stderr_truncated", False),
    "stdout_bytes": result_doc.get("stdout_bytes", 0),
    "stderr_bytes": result_doc.get("stderr_bytes", 0)}, "rest-output")
rest_valid("output-view-queued", {
    "id": ID2, "state": "QUEUED", "final": False, "source": "result",
    "stdout": "",
    "stderr": "", "stdout_truncated": False, "stderr_truncated": False,
    "stdout_bytes": 0, "stderr_bytes": 0}, "rest-output")
rest_valid("output-view-chunks", {
    "id": ID2, "state": "RUNNING", "final": False, "source": "chunks",
    "stdout": "line 1\nline 2\n", "stderr": "", "stdout_truncated": False,
    "stderr_truncated": False, "stdout_bytes": 14, "stderr_bytes": 0},
    "rest-output")
rest_valid("action-call", {"args": {"argv": ["uname", "-a"]},
                           "timeout_ms": 5000}, "rest-action-call")
for name, obj, field in (
        ("action-call-args-not-object", {"args": ["uptime"]}, "args"),
        ("action-call-timeout-zero", {"timeout_ms": 0}, "timeout_ms"),
        ("action-call-timeout-too-big", {"timeout_ms": 86400001},
         "timeout_ms")):
    write("rest/invalid/%s.json" % name, canon(obj), "rest-action-call",
          "error malformed %s" % field, "yes")

# ---------------------------------------------------------------- manifest
with open(os.path.join(HERE, "MANIFEST"), "w") as f:
    f.write("# path\tschema\texpectation\tschema-rejects\toptions\n")
    for row in manifest:
        f.write("\t".join(row) + "\n")
print("%d vectors" % len(manifest))
