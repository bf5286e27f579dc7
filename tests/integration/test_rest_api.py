# SPDX-License-Identifier: MIT
"""The REST API against a real broker, dispatcher and agents: every
endpoint and error code, pagination, filters, ?wait, action calls,
idempotency, cancels and tokens. Every answer is also checked against
docs/rest-api.yaml (apicheck): its status must be described there for
that path, and its body must match the JSON Schema named for it."""

import hashlib
import json
import os
import signal
import socket
import threading
import time
import unittest

from apicheck import Api
from harness import ClusterTestCase, Device, wait_until

API = Api()
GHOST = "ghost-1"  # never connects


def raw_response(sock, timeout=10):
    """Reads one HTTP response with a Content-Length: (head, body)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.decode().split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head.decode(), body.decode()


class RestCase(ClusterTestCase):
    def call(self, c, method, path, template, body=None, **kw):
        """One request, checked against the API description."""
        r = c.request(method, path, body=body, **kw)
        ctype = r.headers.get("Content-Type", "")
        if method != "HEAD":
            API.check(template, method, r.status, ctype, r.body)
        return r

    def get(self, c, path, template, status=200, **kw):
        r = self.call(c, "GET", path, template, **kw)
        self.assertEqual(r.status, status, r)
        return r.json() if r.status != 204 else None

    def post(self, c, path, template, body=None, status=200, **kw):
        r = self.call(c, "POST", path, template, body=body, **kw)
        self.assertEqual(r.status, status, r)
        return r

    def job(self, c, action="ping", devices=(GHOST,), **extra):
        # The ghost device never sends a status: queued for anyway.
        body = {"target": {"devices": list(devices),
                           "allow_unknown": True},
                "action": action, "ttl_ms": 600000}
        body.update(extra)
        return self.post(c, "/v1/jobs", "/v1/jobs", body, 201).json()


class TestListsAndIdempotency(RestCase):
    def test_pagination_filters_idempotency(self):
        c = self.cluster().start(agents=[])
        ids = [self.job(c)["id"] for _ in range(7)]
        other = self.job(c, action="info")["id"]
        ids.append(other)
        # Newest first, walked with a cursor: no duplicate, no gap.
        seen, cursor, pages = [], None, 0
        while True:
            path = "/v1/jobs?limit=3" + ("&cursor=" + cursor if cursor
                                         else "")
            page = self.get(c, path, "/v1/jobs")
            pages += 1
            self.assertLessEqual(len(page["jobs"]), 3)
            seen += [j["id"] for j in page["jobs"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(pages, 3)
        self.assertEqual(seen, list(reversed(ids)))
        self.assertNotIn("executions", page["jobs"][0])
        # Filters.
        page = self.get(c, "/v1/jobs?action=info", "/v1/jobs")
        self.assertEqual([j["id"] for j in page["jobs"]], [other])
        page = self.get(c, "/v1/jobs?device=" + GHOST, "/v1/jobs")
        self.assertEqual(len(page["jobs"]), 8)
        page = self.get(c, "/v1/jobs?device=ghost-9", "/v1/jobs")
        self.assertEqual(page["jobs"], [])
        page = self.get(c, "/v1/jobs?state=COMPLETED", "/v1/jobs")
        self.assertEqual(page["jobs"], [])
        page = self.get(c, "/v1/jobs?state=RUNNING&limit=500", "/v1/jobs")
        self.assertEqual(len(page["jobs"]), 8)
        first = self.get(c, "/v1/jobs/" + ids[0], "/v1/jobs/{id}")
        t0 = first["created_at"]
        page = self.get(c, "/v1/jobs?until=%d" % (t0 - 1), "/v1/jobs")
        self.assertEqual(page["jobs"], [])
        page = self.get(c, "/v1/jobs?since=%d&until=%d" % (t0, t0),
                        "/v1/jobs")
        self.assertIn(ids[0], [j["id"] for j in page["jobs"]])
        # A device's executions, newest first, paged.
        page = self.get(c, "/v1/devices/%s/executions?limit=5" % GHOST,
                        "/v1/devices/{id}/executions")
        self.assertEqual(len(page["executions"]), 5)
        self.assertIsNotNone(page["next_cursor"])
        page2 = self.get(c, "/v1/devices/%s/executions?limit=5&cursor=%s"
                         % (GHOST, page["next_cursor"]),
                         "/v1/devices/{id}/executions")
        self.assertEqual(len(page2["executions"]), 3)
        self.assertIsNone(page2["next_cursor"])
        got = [e["job"] for e in page["executions"] + page2["executions"]]
        self.assertEqual(got, list(reversed(ids)))
        page = self.get(c, "/v1/devices/%s/executions?action=info" % GHOST,
                        "/v1/devices/{id}/executions")
        self.assertEqual([e["job"] for e in page["executions"]], [other])
        page = self.get(c, "/v1/devices/%s/executions?state=SUCCEEDED"
                        % GHOST, "/v1/devices/{id}/executions")
        self.assertEqual(page["executions"], [])
        self.get(c, "/v1/devices/nobody/executions",
                 "/v1/devices/{id}/executions", status=404)

        # Idempotency: the same request gives the same job back (200);
        # another request under the same key is 409.
        body = {"target": {"devices": [GHOST], "allow_unknown": True},
                "action": "ping",
                "idempotency_key": "deploy-42"}
        a = self.post(c, "/v1/jobs", "/v1/jobs", body, 201).json()
        b = self.post(c, "/v1/jobs", "/v1/jobs", dict(body, timeout_ms=30000),
                      200).json()
        self.assertEqual(a["id"], b["id"])
        self.assertEqual(a["executions"][0]["id"],
                         b["executions"][0]["id"])
        r = self.post(c, "/v1/jobs", "/v1/jobs", dict(body, action="info"),
                      409)
        self.assertEqual(r.json()["error"]["code"], "conflict")
        self.assertEqual(r.json()["error"]["field"], "idempotency_key")
        # Only one job was made for the key.
        page = self.get(c, "/v1/jobs?limit=500", "/v1/jobs")
        self.assertEqual(len(page["jobs"]), 9)


class TestWaitActionsCancel(RestCase):
    def test_wait_action_cancel(self):
        dev = Device("dev-a", labels={"site": "sz"}, exec_enabled=True)
        dev2 = Device("dev-b", labels={"site": "hk"})
        c = self.cluster(dev, dev2)
        # A window of one published execution per device, so that later
        # ones for an offline device stay QUEUED, never published.
        c.dispatcher_options.update({"max_wait": "3s", "outbox_window": 1})
        c.start()

        # ?wait returns as soon as the result lands.
        job = self.job(c, "exec", devices=["dev-a"],
                       args={"argv": ["sleep", "1"]})
        t = time.monotonic()
        view = self.get(c, "/v1/jobs/%s?wait=20" % job["id"],
                        "/v1/jobs/{id}", timeout=30)
        took = time.monotonic() - t
        self.assertEqual(view["state"], "COMPLETED", view)
        self.assertLess(took, 2.9)  # the cap (3s) was not reached
        ex = view["executions"][0]["id"]
        e = self.get(c, "/v1/executions/%s?wait=5" % ex,
                     "/v1/executions/{id}")
        self.assertEqual(e["state"], "SUCCEEDED")
        out = self.get(c, "/v1/executions/%s/output" % ex,
                       "/v1/executions/{id}/output")
        self.assertTrue(out["final"])
        self.assertEqual(out["stdout"], "")

        # ?wait ends with the unfinished view; it is capped by max_wait.
        q = self.job(c)
        t = time.monotonic()
        view = self.get(c, "/v1/jobs/%s?wait=1" % q["id"], "/v1/jobs/{id}")
        self.assertGreaterEqual(time.monotonic() - t, 0.9)
        self.assertEqual(view["state"], "RUNNING")
        qe = q["executions"][0]["id"]
        t = time.monotonic()
        e = self.get(c, "/v1/executions/%s?wait=100" % qe,
                     "/v1/executions/{id}", timeout=30)
        self.assertLess(time.monotonic() - t, 6)
        self.assertIn(e["state"], ("QUEUED", "PUBLISHED"))
        out = self.get(c, "/v1/executions/%s/output?follow=1" % qe,
                       "/v1/executions/{id}/output", timeout=30)
        self.assertFalse(out["final"])

        # Action calls: 200 with the result; 202 and a Location when the
        # device is offline.
        r = self.post(c, "/v1/devices/dev-a/actions/ping", "/v1/devices/"
                      "{id}/actions/{action}", {}, 200)
        self.assertEqual(r.json()["state"], "SUCCEEDED")
        self.assertEqual(r.json()["result"]["stdout"], "pong")
        r = self.post(c, "/v1/devices/dev-a/actions/exec",
                      "/v1/devices/{id}/actions/{action}",
                      {"args": {"argv": ["echo", "hi"]}, "timeout_ms": 5000},
                      200)
        self.assertEqual(r.json()["result"]["stdout"], "hi\n")
        r = self.post(c, "/v1/devices/%s/actions/ping" % GHOST,
                      "/v1/devices/{id}/actions/{action}", None, 202,
                      timeout=30)
        self.assertEqual(r.headers["Location"],
                         "/v1/executions/" + r.json()["id"])
        self.assertNotIn(r.json()["state"], ("SUCCEEDED", "FAILED"))
        r = self.post(c, "/v1/devices/dev-a/actions/ping",
                      "/v1/devices/{id}/actions/{action}",
                      {"args": []}, 400)
        self.assertEqual(r.json()["error"]["field"], "args")

        # Cancel: a queued execution for an offline device (behind the
        # window, never published) is CANCELED at once.
        qq = self.job(c)
        qe = qq["executions"][0]["id"]
        self.assertEqual(self.get(c, "/v1/executions/" + qe,
                                  "/v1/executions/{id}")["state"], "QUEUED")
        e = self.post(c, "/v1/executions/%s/cancel" % qe,
                      "/v1/executions/{id}/cancel", None, 200).json()
        self.assertEqual(e["state"], "CANCELED")
        self.assertEqual(e["error"]["code"], "canceled")
        # Canceling a terminal execution is not an error.
        e = self.post(c, "/v1/executions/%s/cancel" % qe,
                      "/v1/executions/{id}/cancel", None, 200).json()
        self.assertEqual(e["state"], "CANCELED")
        view = self.get(c, "/v1/jobs/" + qq["id"], "/v1/jobs/{id}")
        self.assertEqual(view["state"], "COMPLETED")
        # Canceling a finished job changes nothing and says so.
        err = self.post(c, "/v1/jobs/%s/cancel" % qq["id"],
                        "/v1/jobs/{id}/cancel", None, 409).json()
        self.assertEqual(err["error"]["code"], "conflict")
        self.assertEqual(self.get(c, "/v1/jobs/" + qq["id"],
                                  "/v1/jobs/{id}")["state"], "COMPLETED")
        # A job cancel: the unpublished execution ends at once, the
        # published one (ghost-2's) is told and waits for its agent, so
        # the job is still RUNNING, marked to end CANCELED.
        j = self.job(c, devices=[GHOST, "ghost-2"])
        g2 = [x["id"] for x in j["executions"] if x["device"] == "ghost-2"]
        wait_until(lambda: self.get(c, "/v1/executions/" + g2[0],
                                    "/v1/executions/{id}")["state"] ==
                   "PUBLISHED", 20, "ghost-2's command to be published")
        view = self.post(c, "/v1/jobs/%s/cancel" % j["id"],
                         "/v1/jobs/{id}/cancel", None, 200).json()
        self.assertEqual(view["state"], "RUNNING")
        self.assertEqual(view["counts"], {"CANCELED": 1, "PUBLISHED": 1})
        # With every execution queued, a job cancel ends it CANCELED.
        j = self.job(c, devices=[GHOST])
        view = self.post(c, "/v1/jobs/%s/cancel" % j["id"],
                         "/v1/jobs/{id}/cancel", None, 200).json()
        self.assertEqual(view["state"], "CANCELED")
        self.assertEqual(view["counts"], {"CANCELED": 1})
        # A running process: the agent kills it and answers CANCELED.
        run = self.job(c, "exec", devices=["dev-a"],
                       args={"argv": ["sleep", "30"]}, timeout_ms=60000)
        rid = run["executions"][0]["id"]
        wait_until(lambda: self.get(c, "/v1/executions/" + rid,
                                    "/v1/executions/{id}")["state"] ==
                   "RUNNING", 20, "the sleep to run")
        e = self.post(c, "/v1/jobs/%s/cancel" % run["id"],
                      "/v1/jobs/{id}/cancel", None, 200).json()
        t = time.monotonic()
        view = self.get(c, "/v1/jobs/%s?wait=20" % run["id"],
                        "/v1/jobs/{id}", timeout=30)
        if view["state"] == "RUNNING":  # capped at 3 s: ask again
            view = c.wait_job(run["id"], state="CANCELED")
        self.assertEqual(view["state"], "CANCELED", view)
        self.assertEqual(view["executions"][0]["state"], "CANCELED")
        self.assertLess(time.monotonic() - t, 15)

        # Devices: filters and pages.
        page = self.get(c, "/v1/devices?label=site:sz", "/v1/devices")
        self.assertEqual([d["id"] for d in page["devices"]], ["dev-a"])
        page = self.get(c, "/v1/devices?label=site:sz&label=role:x",
                        "/v1/devices")
        self.assertEqual(page["devices"], [])
        page = self.get(c, "/v1/devices?online=true&limit=1", "/v1/devices")
        self.assertEqual([d["id"] for d in page["devices"]], ["dev-a"])
        page = self.get(c, "/v1/devices?online=true&limit=1&cursor=" +
                        page["next_cursor"], "/v1/devices")
        self.assertEqual([d["id"] for d in page["devices"]], ["dev-b"])
        self.assertIsNone(page["next_cursor"])
        page = self.get(c, "/v1/devices?online=false", "/v1/devices")
        self.assertEqual(page["devices"], [])
        d = self.get(c, "/v1/devices/dev-b", "/v1/devices/{id}")
        self.assertEqual(d["labels"], {"site": "hk"})
        page = self.get(c, "/v1/devices/dev-a/executions?state=CANCELED",
                        "/v1/devices/{id}/executions")
        self.assertEqual([x["id"] for x in page["executions"]], [rid])

        # Metrics: Prometheus text, with the REST requests by route.
        r = self.call(c, "GET", "/metrics", "/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain"))
        self.assertIn('route="/v1/jobs/{id}"', r.body)
        self.assertNotIn(run["id"], r.body)
        self.get(c, "/healthz", "/healthz", token=None)


class TestErrors(RestCase):
    def test_every_error(self):
        c = self.cluster()
        c.dispatcher_options.update({"max_waiters": 1, "max_wait": "2s"})
        c.start(agents=[])
        job = self.job(c)
        eid = job["executions"][0]["id"]
        bad = [
            ("/v1/jobs?limit=0", "/v1/jobs", "limit"),
            ("/v1/jobs?limit=501", "/v1/jobs", "limit"),
            ("/v1/jobs?limit=x", "/v1/jobs", "limit"),
            ("/v1/jobs?cursor=a/b", "/v1/jobs", "cursor"),
            ("/v1/jobs?state=QUEUED", "/v1/jobs", "state"),
            ("/v1/jobs?action=Bad", "/v1/jobs", "action"),
            ("/v1/jobs?device=a%2Fb", "/v1/jobs", "device"),
            ("/v1/jobs?since=-1", "/v1/jobs", "since"),
            ("/v1/jobs?since=5&until=4", "/v1/jobs", "until"),
            ("/v1/jobs/%s?wait=soon" % job["id"], "/v1/jobs/{id}", "wait"),
            ("/v1/executions/%s?wait=-1" % eid, "/v1/executions/{id}",
             "wait"),
            ("/v1/executions/%s/output?follow=2" % eid,
             "/v1/executions/{id}/output", "follow"),
            ("/v1/devices?online=yes", "/v1/devices", "online"),
            ("/v1/devices?label=site", "/v1/devices", "label"),
            ("/v1/devices?limit=0", "/v1/devices", "limit"),
            ("/v1/devices/%s/executions?state=NOPE" % GHOST,
             "/v1/devices/{id}/executions", "state"),
        ]
        for path, template, field in bad:
            r = self.call(c, "GET", path, template)
            self.assertEqual(r.status, 400, path)
            self.assertEqual(r.json()["error"]["code"], "malformed", path)
            self.assertEqual(r.json()["error"]["field"], field, path)
        r = self.post(c, "/v1/jobs", "/v1/jobs", {"action": "ping"}, 400)
        self.assertEqual(r.json()["error"]["field"], "target")
        # 401: no token, a wrong one.
        r = self.call(c, "GET", "/v1/jobs", "/v1/jobs", token=None)
        self.assertEqual(r.status, 401)
        self.assertEqual(r.headers["WWW-Authenticate"], "Bearer")
        r = self.call(c, "GET", "/v1/jobs", "/v1/jobs", token="wrong")
        self.assertEqual(r.status, 401)
        # 404s.
        for path, template in (
                ("/v1/jobs/01JD3QX4Z5W8K2N7R9T1V3B6YC", "/v1/jobs/{id}"),
                ("/v1/executions/01JD3QX4Z5W8K2N7R9T1V3B6YC",
                 "/v1/executions/{id}"),
                ("/v1/executions/01JD3QX4Z5W8K2N7R9T1V3B6YC/output",
                 "/v1/executions/{id}/output"),
                ("/v1/devices/nobody", "/v1/devices/{id}")):
            self.assertEqual(self.call(c, "GET", path, template).status,
                             404)
        for path, template in (
                ("/v1/jobs/01JD3QX4Z5W8K2N7R9T1V3B6YC/cancel",
                 "/v1/jobs/{id}/cancel"),
                ("/v1/executions/01JD3QX4Z5W8K2N7R9T1V3B6YC/cancel",
                 "/v1/executions/{id}/cancel")):
            self.assertEqual(self.call(c, "POST", path, template).status,
                             404)
        r = c.get("/v1/nothing")
        self.assertEqual((r.status, r.json()["error"]["code"]),
                         (404, "not_found"))
        # 405 with Allow.
        r = self.call(c, "DELETE", "/v1/jobs", "/v1/jobs")
        self.assertEqual(r.status, 405)
        self.assertIn("POST", r.headers["Allow"])
        r = self.call(c, "GET", "/v1/jobs/%s/cancel" % job["id"],
                      "/v1/jobs/{id}/cancel")
        self.assertEqual(r.status, 405)
        # 409 is in TestListsAndIdempotency. 413 and 415:
        # The refusal comes from the declared length, before the body.
        s = socket.create_connection(("127.0.0.1", c.http_port))
        s.sendall(("POST /v1/jobs HTTP/1.1\r\nHost: t\r\n"
                   "Authorization: Bearer %s\r\nContent-Type: "
                   "application/json\r\nContent-Length: %d\r\n\r\n"
                   % (c.token, 1024 * 1024 + 1)).encode())
        head, body = raw_response(s)
        s.close()
        self.assertIn(" 413 ", head.split("\r\n")[0])
        API.check("/v1/jobs", "POST", 413, "application/json", body)
        r = self.call(c, "POST", "/v1/jobs", "/v1/jobs", body="{}",
                      content_type="text/plain")
        self.assertEqual(r.status, 415)
        r = self.call(c, "POST", "/v1/devices/x/actions/ping",
                      "/v1/devices/{id}/actions/{action}", body="{}",
                      content_type="text/plain")
        self.assertEqual(r.status, 415)
        # 429: one request may wait; a second is refused meanwhile.
        box = {}

        def waiter():
            box["r"] = c.get("/v1/jobs/%s?wait=2" % job["id"], timeout=20)
        th = threading.Thread(target=waiter)
        th.start()
        time.sleep(0.5)
        r = self.call(c, "GET", "/v1/executions/%s?wait=2" % eid,
                      "/v1/executions/{id}")
        th.join(20)
        self.assertEqual(r.status, 429)
        self.assertEqual(r.json()["error"]["code"], "too_many_requests")
        self.assertEqual(box["r"].status, 200)
        # Without wait nobody is refused.
        self.get(c, "/v1/executions/" + eid, "/v1/executions/{id}")
        # A waiting client that hangs up frees its place.
        # (The wait is 2 s at most here; the place is back well before.)
        s = socket.create_connection(("127.0.0.1", c.http_port))
        s.sendall(("GET /v1/jobs/%s?wait=60 HTTP/1.1\r\nHost: t\r\n"
                   "Authorization: Bearer %s\r\n\r\n" % (job["id"],
                                                         c.token)).encode())
        time.sleep(0.3)
        s.close()
        wait_until(lambda: "http.waiter_gone" in c.dispatcher.log_text(),
                   1.9, "the hang-up to be noticed")
        r = self.call(c, "GET", "/v1/jobs/%s?wait=1" % job["id"],
                      "/v1/jobs/{id}")
        self.assertEqual(r.status, 200)
        # 503: a cancel that must reach the broker while it is down.
        run = self.job(c)  # published to the broker's session
        rid = run["executions"][0]["id"]
        wait_until(lambda: c.get_json("/v1/executions/" + rid)["state"] ==
                   "PUBLISHED", 20, "the command to be published")
        c.stop_broker()
        wait_until(lambda: c.health() == 503, 20, "/healthz to say 503")
        r = self.call(c, "GET", "/healthz", "/healthz", token=None)
        self.assertEqual((r.status, r.json()["broker"]), (503, False))
        r = self.call(c, "POST", "/v1/executions/%s/cancel" % rid,
                      "/v1/executions/{id}/cancel")
        self.assertEqual((r.status, r.json()["error"]["code"]),
                         (503, "unavailable"))


class TestTokens(RestCase):
    def test_hashed_tokens_and_sighup(self):
        c = self.cluster()
        t2, t3 = "second-token-x", "third-token-y"
        h2 = hashlib.sha256(t2.encode()).hexdigest()
        c.dispatcher_options["api_token_sha256"] = h2
        c.start(agents=[])
        self.get(c, "/v1/jobs", "/v1/jobs")
        self.get(c, "/v1/jobs", "/v1/jobs", token=t2)
        self.get(c, "/v1/jobs", "/v1/jobs", status=401, token=t3)
        self.get(c, "/v1/jobs", "/v1/jobs", status=401,
                 token=h2)  # the digest itself is no token
        self.assertNotIn(t2, (c.dir / "dispatcher.conf").read_text())
        # SIGHUP: the file is read again; only tokens and log level apply.
        conf = c.dir / "dispatcher.conf"
        text = conf.read_text().replace(
            h2, hashlib.sha256(t3.encode()).hexdigest())
        conf.write_text(text)
        os.killpg(c.dispatcher.popen.pid, signal.SIGHUP)
        wait_until(lambda: c.get("/v1/jobs", token=t3).status == 200, 10,
                   "the new token to be accepted")
        self.get(c, "/v1/jobs", "/v1/jobs", status=401, token=t2)
        self.get(c, "/v1/jobs", "/v1/jobs")  # the token file's, still
        self.assertIn("log_level=debug->debug", c.dispatcher.log_text())
        self.get(c, "/v1/devices/marker-1", "/v1/devices/{id}", status=404)
        self.assertIn("path=/v1/devices/marker-1", c.dispatcher.log_text())
        # The log level too: at warn, requests are no longer logged.
        text = text.replace("log_level debug", "log_level warn")
        conf.write_text(text)
        os.killpg(c.dispatcher.popen.pid, signal.SIGHUP)
        wait_until(lambda: "log_level=debug->warn" in
                   c.dispatcher.log_text(), 10, "the level to change")
        self.get(c, "/v1/devices/marker-2", "/v1/devices/{id}", status=404)
        self.assertNotIn("path=/v1/devices/marker-2",
                         c.dispatcher.log_text())
        # A bad file keeps the old settings.
        conf.write_text(text + "api_token_sha256 nothex\n")
        os.killpg(c.dispatcher.popen.pid, signal.SIGHUP)
        wait_until(lambda: "dispatcher.reload_failed" in
                   c.dispatcher.log_text(), 10, "the reload to fail")
        self.get(c, "/v1/jobs", "/v1/jobs", token=t3)


if __name__ == "__main__":
    unittest.main()
