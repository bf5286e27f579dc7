# SPDX-License-Identifier: MIT
"""Refusals: an agent answers an unknown action REJECTED/unknown_action,
and the dispatcher's REST API answers bad requests with the right status
and a JSON error naming the field."""

import json
import socket
import unittest

from harness import ClusterTestCase, Device, execution_by_device

UNKNOWN_ID = "01JD3ZZZZZZZZZZZZZZZZZZZZZ"


class Rejects(ClusterTestCase):
    def setUp(self):
        super().setUp()
        self.c = self.cluster(Device("dev-1", {"site": "lab"}),
                              Device("dev-2", {"site": "lab"})).start()

    def assert_error(self, r, status, code, field=None):
        self.assertEqual(r.status, status, r)
        self.assertIn("json", r.headers.get("Content-Type", ""), r.headers)
        err = r.json()["error"]
        self.assertEqual(err["code"], code, r)
        self.assertIsInstance(err["message"], str)
        self.assertTrue(err["message"], r)
        if field is not None:
            self.assertEqual(err.get("field"), field, r)
        return err

    def test_unknown_action_is_rejected_by_the_agent(self):
        job = self.c.wait_job(self.c.submit("no-such-action",
                                            ["dev-1"])["id"])
        self.assertEqual(job["counts"], {"REJECTED": 1})
        e = execution_by_device(job)["dev-1"]
        self.assertEqual(e["state"], "REJECTED")
        r = e["result"]
        self.assertEqual(r["state"], "REJECTED")
        self.assertEqual(r["device"], "dev-1")
        self.assertEqual(r["error"]["code"], "unknown_action")
        self.assertTrue(r["error"]["message"])
        for key in ("stdout", "stderr", "exit_code"):
            self.assertNotIn(key, r)

    def test_malformed_bodies_name_the_field(self):
        good = {"target": {"devices": ["dev-1", "dev-2"]}, "action": "ping",
                "args": {}, "timeout_ms": 1000}

        def without(key):
            body = dict(good)
            del body[key]
            return body

        cases = [
            ("missing action", without("action"), "action"),
            ("missing target", without("target"), "target"),
            ("bad device id",
             dict(good, target={"devices": ["dev-1", "bad/id"]}),
             "target.devices[1]"),
            ("empty device list", dict(good, target={"devices": []}),
             "target.devices"),
            ("bad action name", dict(good, action="Bad Action"), "action"),
            ("args not an object", dict(good, args=["echo", "hi"]), "args"),
            ("args a string", dict(good, args="echo hi"), "args"),
            ("timeout_ms 0", dict(good, timeout_ms=0), "timeout_ms"),
            ("timeout_ms fraction", dict(good, timeout_ms=1.5),
             "timeout_ms"),
            ("timeout_ms string", dict(good, timeout_ms="1000"),
             "timeout_ms"),
        ]
        for name, body, field in cases:
            with self.subTest(name):
                self.assert_error(self.c.post("/v1/jobs", body), 400,
                                  "malformed", field)

        raw_cases = [
            ("not JSON", "{not json"),
            ("truncated", json.dumps(good)[:-1]),
            ("not an object", "[1,2,3]"),
            ("empty body", ""),
            ("trailing garbage", json.dumps(good) + " x"),
            ("duplicate key", '{"action":"ping","action":"info",'
                              '"target":{"devices":["dev-1"]}}'),
        ]
        for name, body in raw_cases:
            with self.subTest(name):
                self.assert_error(self.c.post("/v1/jobs", body), 400,
                                  "malformed")
        # The same request, well formed, is accepted: the refusals above
        # were about their one broken field.
        self.assertEqual(self.c.post("/v1/jobs", good).status, 201)

    def test_unknown_ids_are_404(self):
        for path in ("/v1/jobs/" + UNKNOWN_ID,
                     "/v1/executions/" + UNKNOWN_ID,
                     "/v1/devices/dev-9",
                     "/v1/nothing-here"):
            with self.subTest(path):
                self.assert_error(self.c.get(path), 404, "not_found")

    def test_wrong_method_is_405(self):
        self.assert_error(self.c.request("DELETE", "/v1/jobs"), 405,
                          "method_not_allowed")
        self.assert_error(self.c.request("PUT", "/v1/devices"), 405,
                          "method_not_allowed")

    def test_token_is_required(self):
        body = {"target": {"devices": ["dev-1"]}, "action": "ping"}
        for token in (None, "wrong-" + self.c.token, self.c.token[:-1]):
            with self.subTest(token=token):
                self.assert_error(self.c.get("/v1/devices", token=token),
                                  401, "unauthorized")
                self.assert_error(self.c.post("/v1/jobs", body, token=token),
                                  401, "unauthorized")
        r = self.c.request("GET", "/v1/devices", token=None,
                           headers={"Authorization": "Basic " + "x" * 20})
        self.assert_error(r, 401, "unauthorized")
        # Liveness needs no token; everything else works with the right one.
        self.assertEqual(self.c.get("/healthz", token=None).status, 200)
        self.assertEqual(self.c.get("/v1/devices").status, 200)

    def test_wrong_content_type_is_415(self):
        body = {"target": {"devices": ["dev-1"]}, "action": "ping"}
        for ctype in ("text/plain", "application/x-www-form-urlencoded",
                      None):
            with self.subTest(content_type=ctype):
                self.assert_error(self.c.post("/v1/jobs", body,
                                              content_type=ctype),
                                  415, "unsupported_media_type")
        r = self.c.post("/v1/jobs", body,
                        content_type="application/json; charset=utf-8")
        self.assertEqual(r.status, 201, r)

    def test_huge_body_is_413(self):
        filler = "x" * (1024 * 1024 + 16)
        body = json.dumps({"target": {"devices": ["dev-1"]},
                           "action": "ping", "args": {"pad": filler}})
        status, text = self.raw_post("/v1/jobs", body.encode())
        self.assertEqual(status, 413, text[:300])
        self.assertEqual(json.loads(text)["error"]["code"], "too_large")
        # The dispatcher is still well after it.
        self.assertEqual(self.c.get("/v1/devices").status, 200)

    def raw_post(self, path, data):
        """POST with `Expect: 100-continue`, so that a server refusing the
        size can answer before the body is sent; the body is sent only
        when the server asks for it (or says nothing for a while)."""
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Authorization: Bearer %s\r\n"
                "Content-Type: application/json\r\n"
                "Content-Length: %d\r\nExpect: 100-continue\r\n"
                "Connection: close\r\n\r\n" % (path, self.c.token,
                                               len(data))).encode()
        with socket.create_connection(("127.0.0.1", self.c.http_port),
                                      timeout=20) as s:
            s.sendall(head)
            s.settimeout(3)
            first = b""
            try:
                first = s.recv(65536)
            except socket.timeout:
                pass
            if not first or first.startswith(b"HTTP/1.1 100"):
                s.settimeout(20)
                try:
                    s.sendall(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                if first.startswith(b"HTTP/1.1 100"):
                    first = first.split(b"\r\n\r\n", 1)[1]
            s.settimeout(20)
            chunks = [first]
            while True:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        raw = b"".join(chunks)
        head, _, body = raw.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0].decode(errors="replace")
        parts = status_line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            self.fail("no HTTP response: %r" % raw[:300])
        return int(parts[1]), body.decode(errors="replace")


if __name__ == "__main__":
    unittest.main()
