# SPDX-License-Identifier: MIT
"""Live output through the whole system: an agent streams a command that
prints a line every 100 ms, and a follower of
GET /v1/executions/{id}/output?follow=1 (Server-Sent Events) sees the
lines while the command still runs, in order, then the end event; the
output without follow is whole; a chunk published twice is kept once;
followers that hang up are freed."""

import http.client
import json
import socket
import time
import unittest

from apicheck import Api
from harness import (PREFIX, RESULT_DEADLINE, ClusterTestCase, Device,
                     envelope, metrics, mqtt_pub, wait_exec_state,
                     wait_until)

API = Api()
TEMPLATE = "/v1/executions/{id}/output"
SCRIPT = "for i in 1 2 3 4 5 6 7 8 9 10; do echo line $i; sleep 0.1; done"
LINES = "".join("line %d\n" % i for i in range(1, 11))


def follow(cluster, exec_id, timeout=RESULT_DEADLINE):
    """Follows an execution's output; returns (events, headers), each
    event (monotonic time of arrival, name, data as a dict)."""
    conn = http.client.HTTPConnection("127.0.0.1", cluster.http_port,
                                      timeout=timeout)
    try:
        conn.request("GET", "/v1/executions/%s/output?follow=1" % exec_id,
                     headers={"Authorization": "Bearer " + cluster.token,
                              "Accept": "text/event-stream"})
        resp = conn.getresponse()
        if resp.status != 200:
            raise AssertionError("follow: %d %s" % (resp.status,
                                                    resp.read()))
        events, name, data = [], None, None
        while True:
            # readline returns as soon as a line has arrived, so each
            # event is timed when it comes, not when the stream ends.
            line = resp.readline()
            if not line:
                break
            line = line.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data = json.loads(line[len("data: "):])
            elif line == "" and name:
                events.append((time.monotonic(), name, data))
                name, data = None, None
        return events, resp.headers
    finally:
        conn.close()


def open_follow(cluster, exec_id, keep=True):
    """Starts a follow on a raw socket: the socket once answered 200 (or
    True when not kept, closed at once), None when refused."""
    s = socket.create_connection(("127.0.0.1", cluster.http_port))
    s.sendall(("GET /v1/executions/%s/output?follow=1 HTTP/1.1\r\n"
               "Host: x\r\nAuthorization: Bearer %s\r\n"
               "Accept: text/event-stream\r\n\r\n"
               % (exec_id, cluster.token)).encode())
    s.settimeout(10)
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(4096)
        if not b:
            break
        head += b
    if head.startswith(b"HTTP/1.1 200") and keep:
        return s
    s.close()
    return head.startswith(b"HTTP/1.1 200") or None


def counter(cluster, name):
    return metrics(cluster).get(name, 0)


class TestLiveOutput(ClusterTestCase):
    def test_follow_streams_before_the_end(self):
        c = self.cluster(Device("live-1", exec_enabled=True))
        c.start()
        job = c.submit("exec", devices=["live-1"], stream=True,
                       args={"argv": ["sh", "-c", SCRIPT]})
        ex = job["executions"][0]["id"]
        events, headers = follow(c, ex)
        API.schema_for(TEMPLATE, "GET", 200, headers["Content-Type"])
        self.assertTrue(events, "no events")
        names = [e[1] for e in events]
        self.assertEqual(names[-1], "end", names)
        self.assertEqual(names.count("end"), 1, names)
        out = [e for e in events if e[1] == "output"]
        self.assertTrue(out, names)
        # All ten lines, in order, from stdout chunks in seq order.
        self.assertTrue(all(e[2]["stream"] == "stdout" for e in out), out)
        seqs = [e[2]["seq"] for e in out]
        self.assertEqual(seqs, list(range(len(seqs))), seqs)
        self.assertEqual("".join(e[2]["data"] for e in out), LINES)
        # Streamed as it ran: the command takes about a second, and its
        # first lines came well before its end.
        self.assertGreater(len(out), 2, out)
        first, end = out[0][0], events[-1][0]
        self.assertGreater(end - first, 0.5,
                           "first output %.3fs before the end" %
                           (end - first))
        self.assertEqual(events[-1][2], {"id": ex, "state": "SUCCEEDED",
                                         "exit_code": 0})

        # Without follow, after the end: the output whole.
        r = c.get("/v1/executions/%s/output" % ex)
        API.check(TEMPLATE, "GET", r.status, r.headers["Content-Type"],
                  r.body)
        view = r.json()
        self.assertEqual(view["source"], "result")
        self.assertEqual(view["stdout"], LINES)
        self.assertTrue(view["final"])

        # A follow of a finished execution: everything at once, then end.
        t = time.monotonic()
        again, _ = follow(c, ex)
        self.assertLess(time.monotonic() - t, 5)
        self.assertEqual([e[1:] for e in again], [e[1:] for e in events])

        # The same chunk published twice, as the agent: kept once.
        dev = c.devices["live-1"]
        chunk = envelope({"type": "output", "id": ex, "device": "live-1",
                          "stream": "stderr", "seq": 0, "data": "dup\n"})
        seen = counter(c, "cmdbus_output_chunks_total")
        dropped = counter(c, "cmdbus_output_chunks_dropped_total")
        for _ in range(2):
            self.assertEqual(mqtt_pub(c.broker_port, "live-1", dev.password,
                                      "%s/live-1/result" % PREFIX, chunk), 0)
        wait_until(lambda: counter(c, "cmdbus_output_chunks_total") >=
                   seen + 2, RESULT_DEADLINE, "both chunks ingested")
        self.assertEqual(counter(c, "cmdbus_output_chunks_dropped_total"),
                         dropped + 1)
        again, _ = follow(c, ex)
        err = [e[2] for e in again
               if e[1] == "output" and e[2]["stream"] == "stderr"]
        self.assertEqual(err, [{"stream": "stderr", "seq": 0,
                                "data": "dup\n"}])

    def test_chunks_view_and_followers_freed(self):
        c = self.cluster(Device("live-2", exec_enabled=True))
        c.dispatcher_options.update({"max_waiters": 2})
        c.start()
        job = c.submit("exec", devices=["live-2"], stream=True,
                       args={"argv": ["sh", "-c", "echo started; sleep 30"]},
                       timeout_ms=60000)
        ex = job["executions"][0]["id"]

        # While it runs, the output so far comes from the chunks.
        def started():
            v = c.get_json("/v1/executions/%s/output" % ex)
            return v if v["stdout"] else None
        view = wait_until(started, RESULT_DEADLINE, "first chunk stored")
        self.assertEqual(view["source"], "chunks")
        self.assertEqual(view["stdout"], "started\n")
        self.assertFalse(view["final"])

        # Followers that hang up give their place back: more of them,
        # one after another, than max_waiters allows at once.
        for i in range(4):
            wait_until(lambda: open_follow(c, ex, keep=False), 10,
                       "follower %d accepted" % i)

        # Two at once fill max_waiters; a third is refused.
        held = []
        try:
            for i in range(2):
                held.append(wait_until(lambda: open_follow(c, ex), 10,
                                       "held follower %d accepted" % i))
            r = c.request("GET", "/v1/executions/%s/output?follow=1" % ex,
                          headers={"Accept": "text/event-stream"})
            self.assertEqual(r.status, 429, r)
        finally:
            for s in held:
                s.close()
        c.post("/v1/executions/%s/cancel" % ex)
        wait_exec_state(c, ex, ("CANCELED",))


if __name__ == "__main__":
    unittest.main()
