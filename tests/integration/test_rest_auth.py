# SPDX-License-Identifier: MIT
"""REST authentication and authorization against the real dispatcher:
every route of docs/rest-api.yaml with no token, a malformed header, a
wrong token, a token revoked by SIGHUP and a valid token lacking the
role (401 or 403, each answer checked against the API description); one
allowed call per role; the audit log's lines; the request-target limits;
and HTTPS when libmicrohttpd has TLS."""

import hashlib
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import unittest

from apicheck import Api
from harness import ClusterTestCase, wait_until

API = Api()

# Values for the "{...}" of the path templates: well-formed, unknown.
PARAMS = {"id": "01JAAAAAAAAAAAAAAAAAAAAAAA", "action": "sys.ping"}

TOKENS = {
    "reader": ("read", "reader-token-0123456789"),
    "ops": ("operate", "ops-token-0123456789abc"),
    "root": ("admin", "root-token-0123456789ab"),
    "gone": ("read", "gone-token-0123456789ab"),
}


def tokens_file(names):
    lines = ["# name role sha256 of the token", ""]
    for n in names:
        role, tok = TOKENS[n]
        lines.append("%s %s %s" % (n, role,
                                    hashlib.sha256(tok.encode()).hexdigest()))
    return "\n".join(lines) + "\n"


def routes():
    """(template, method, path) for every operation of the API."""
    out = []
    for template, ops in API.doc["paths"].items():
        path = template
        for k, v in PARAMS.items():
            path = path.replace("{%s}" % k, v)
        for method in ops:
            if method in ("get", "post", "put", "delete", "patch"):
                out.append((template, method.upper(), path))
    return out


def required_role(template, method):
    if template == "/healthz":
        return None
    if template == "/v1/tokens":
        return "admin"
    return "operate" if method == "POST" else "read"


class RestAuthTest(ClusterTestCase):

    def start(self, **options):
        c = self.cluster()
        c._write("api-tokens", tokens_file(["reader", "ops", "root", "gone"]))
        c.start_broker()
        c.start_dispatcher(api_tokens_file=c.dir / "api-tokens",
                           audit_log=c.dir / "audit.jsonl", max_wait="1s",
                           **options)
        return c

    def check(self, template, method, r, status):
        self.assertEqual(r.status, status, "%s %s: %r" % (method, template,
                                                         r))
        API.check(template, method.lower(), r.status,
                  r.headers.get("Content-Type", "").split(";")[0], r.body)
        code = {401: "unauthorized", 403: "forbidden"}.get(status)
        if code:
            self.assertEqual(r.json()["error"]["code"], code)
        if status == 401:
            self.assertEqual(r.headers.get("WWW-Authenticate"), "Bearer")

    def test_every_route_refused(self):
        c = self.start()
        # A revoked token: accepted, then gone after SIGHUP.
        r = c.get("/v1/jobs", token=TOKENS["gone"][1])
        self.assertEqual(r.status, 200)
        c._write("api-tokens", tokens_file(["reader", "ops", "root"]))
        os.killpg(c.dispatcher.popen.pid, signal.SIGHUP)
        wait_until(lambda: c.get("/v1/jobs",
                                 token=TOKENS["gone"][1]).status == 401,
                   5, "the revoked token refused")
        body = {"target": {"devices": ["ghost-1"], "allow_unknown": True},
                "action": "sys.ping"}
        bad_headers = ["Bearer", "Bearer ", "Basic " + TOKENS["root"][1],
                       "bearer" + TOKENS["root"][1],
                       "Bearer " + TOKENS["root"][1] + " x"]
        rank = {"read": 1, "operate": 2, "admin": 3}
        n = 0
        for template, method, path in routes():
            need = required_role(template, method)
            b = body if method == "POST" else None
            if need is None:
                self.assertEqual(c.request(method, path, token=None).status,
                                 200)
                continue
            self.check(template, method,
                       c.request(method, path, body=b, token=None), 401)
            for h in bad_headers:
                r = c.request(method, path, body=b, token=None,
                              headers={"Authorization": h})
                self.check(template, method, r, 401)
            for tok in ("wrong-" + TOKENS["root"][1], TOKENS["gone"][1],
                        TOKENS["root"][1].upper()):
                self.check(template, method,
                           c.request(method, path, body=b, token=tok), 401)
            for name in ("reader", "ops"):
                role, tok = TOKENS[name]
                if rank[role] < rank[need]:
                    self.check(template, method,
                               c.request(method, path, body=b, token=tok),
                               403)
                    n += 1
        self.assertGreaterEqual(n, 6)
        # Nothing refused left a trace in the audit.
        audit = c.dir / "audit.jsonl"
        self.assertEqual(audit.read_text() if audit.exists() else "", "")

    def test_allowed_calls_and_audit(self):
        c = self.start()
        reader, ops, root = (TOKENS[n][1] for n in ("reader", "ops", "root"))
        # read: every GET.
        self.check("/v1/jobs", "GET", c.get("/v1/jobs", token=reader), 200)
        self.check("/metrics", "GET", c.get("/metrics", token=reader), 200)
        # operate: a job, its cancel, an execution's cancel, an action.
        r = c.post("/v1/jobs", {"target": {"devices": ["ghost-1", "ghost-2"],
                                           "allow_unknown": True},
                                "action": "sys.ping"}, token=ops)
        self.check("/v1/jobs", "POST", r, 201)
        job = r.json()
        r = c.post("/v1/executions/%s/cancel" % job["executions"][0]["id"],
                   token=ops)
        self.assertEqual(r.status, 200, r)
        r = c.post("/v1/jobs/%s/cancel" % job["id"], token=ops)
        self.assertEqual(r.status, 200, r)
        r = c.post("/v1/devices/ghost-3/actions/sys.info", {}, token=ops)
        self.assertEqual(r.status, 202, r)  # nobody answers within 1 s
        # admin: the token list, names and roles only.
        r = c.get("/v1/tokens", token=root)
        self.check("/v1/tokens", "GET", r, 200)
        listed = r.json()["tokens"]
        self.assertEqual([(t["name"], t["role"]) for t in listed],
                         [("api_token_file", "admin"), ("reader", "read"),
                          ("ops", "operate"), ("root", "admin"),
                          ("gone", "read")])
        self.assertNotIn(hashlib.sha256(ops.encode()).hexdigest(), r.body)
        # The legacy token file stays an admin token.
        self.assertEqual(c.get("/v1/tokens").status, 200)

        lines = [json.loads(x) for x in
                 (c.dir / "audit.jsonl").read_text().splitlines()]
        self.assertEqual([x["event"] for x in lines],
                         ["job.create", "exec.cancel", "job.cancel",
                          "action.call"])
        for x in lines:
            self.assertEqual((x["who"], x["role"]), ("ops", "operate"))
        create, ecancel, jcancel, action = lines
        self.assertEqual(create["job"], job["id"])
        self.assertEqual((create["action"], create["target"],
                          create["devices"], create["status"]),
                         ("sys.ping", "devices", 2, 201))
        self.assertEqual((create["method"], create["route"]),
                         ("POST", "/v1/jobs"))
        self.assertEqual((ecancel["job"], ecancel["execution"],
                          ecancel["device"]),
                         (job["id"], job["executions"][0]["id"],
                          job["executions"][0]["device"]))
        self.assertEqual((jcancel["job"], jcancel["action"],
                          jcancel["devices"]), (job["id"], "sys.ping", 2))
        self.assertEqual((action["device"], action["action"],
                          action["target"]),
                         ("ghost-3", "sys.info", "device"))
        log = c.dispatcher.log_text()
        self.assertIn("audit.request", log)
        self.assertIn("who=ops", log)

    def test_request_target_limits(self):
        c = self.start()
        for path in ("/v1/jobs/../tokens", "/v1//jobs", "/v1/jobs/",
                     "/v1/jobs%2F01JAAAAAAAAAAAAAAAAAAAAAAA",
                     "/v1/./jobs", "/v1/devices/a%2e%2e"):
            r = c.get(path)
            self.assertEqual(r.status, 400, "%s: %r" % (path, r))
            self.assertEqual(r.json()["error"]["code"], "malformed")
        # Even a bad path says nothing to a caller without a token.
        self.assertEqual(c.get("/v1/jobs/../x", token=None).status, 401)
        r = c.get("/v1/jobs?limit=5&x=" + "a" * 2100)
        self.assertEqual(r.status, 414, r)
        r = c.get("/v1/jobs?" + "&".join("a%d=1" % i for i in range(65)))
        self.assertEqual(r.status, 414, r)
        self.assertEqual(c.get("/v1/jobs?limit=5").status, 200)

    @unittest.skipUnless(shutil.which("openssl"), "openssl not installed")
    def test_https(self):
        c = self.cluster()
        key, cert = c.dir / "rest-key.pem", c.dir / "rest-cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ed25519",
                        "-nodes", "-keyout", str(key), "-out", str(cert),
                        "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        c.start_broker()
        c.start_dispatcher(wait=False, http_tls_cert_file=cert,
                           http_tls_key_file=key)
        ctx = ssl.create_default_context(cafile=str(cert))

        def get(path, token):
            conn = http.client.HTTPSConnection("127.0.0.1", c.http_port,
                                               context=ctx, timeout=5)
            try:
                conn.request("GET", path, headers={
                    "Authorization": "Bearer " + token})
                resp = conn.getresponse()
                return resp.status, resp.read()
            finally:
                conn.close()

        def up():
            try:
                return get("/healthz", "x")[0] == 200
            except (OSError, ssl.SSLError):
                return False
        wait_until(up, 10, "HTTPS /healthz")
        self.assertEqual(get("/v1/jobs", c.token)[0], 200)
        self.assertEqual(get("/v1/jobs", "wrong")[0], 401)
        # Plain HTTP on the TLS port is not served.
        conn = http.client.HTTPConnection("127.0.0.1", c.http_port,
                                          timeout=5)
        try:
            conn.request("GET", "/healthz")
            st = conn.getresponse().status
        except (OSError, http.client.HTTPException):
            st = None
        finally:
            conn.close()
        self.assertNotEqual(st, 200)


if __name__ == "__main__":
    unittest.main()
