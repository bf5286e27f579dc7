# SPDX-License-Identifier: MIT
"""The REST client of the integration tests: one request over
http.client, the job and device views the tests poll, and waits on a job
or an execution reaching a state."""

import http.client
import json

from harness_procs import RESULT_DEADLINE, START_DEADLINE, wait_until


class RestResponse:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise AssertionError("response %d is not JSON: %r (%s)" % (
                self.status, self.body[:200], e))

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


class RestClient:
    """The dispatcher's REST API, mixed into Cluster: it needs
    `http_port`, `token` and `devices` (whose `proc` tells whether an
    agent died while a test waits for it to show online). `http_host` is
    where the dispatcher listens: another address when it runs in a
    network namespace."""

    http_host = "127.0.0.1"

    # -- REST -----------------------------------------------------------

    def request(self, method, path, body=None, token="default",
                content_type="application/json", headers=None, timeout=10):
        """One HTTP request. `body` may be a dict (sent as JSON), str or
        bytes; token None sends no Authorization header, content_type None
        no Content-Type. Never raises for an HTTP error status: returns
        it. (http.client rather than urllib, which would add a
        Content-Type of its own.)"""
        if token == "default":
            token = self.token
        data = None
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode()
            elif isinstance(body, str):
                data = body.encode()
            else:
                data = bytes(body)
        hdrs = {}
        if data is not None and content_type is not None:
            hdrs["Content-Type"] = content_type
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        hdrs.update(headers or {})
        conn = http.client.HTTPConnection(self.http_host, self.http_port,
                                          timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            return RestResponse(resp.status,
                                resp.read().decode(errors="replace"),
                                resp.headers)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def get_json(self, path, status=200):
        r = self.get(path)
        if r.status != status:
            raise AssertionError("GET %s: expected %d, got %r" % (
                path, status, r))
        return r.json()

    def submit(self, action, devices=None, labels=None, args=None,
               timeout_ms=20000, ttl_ms=600000, allow_unknown=False,
               **extra):
        """POST /v1/jobs; asserts 201 and returns the job view.
        allow_unknown queues for devices that never sent a status."""
        if labels is not None:
            target = {"labels": labels}
        else:
            target = {"devices": list(devices)}
            if allow_unknown:
                target["allow_unknown"] = True
        body = {"target": target, "action": action,
                "args": {} if args is None else args,
                "timeout_ms": timeout_ms, "ttl_ms": ttl_ms}
        body.update(extra)
        r = self.post("/v1/jobs", body)
        if r.status != 201:
            raise AssertionError("POST /v1/jobs: expected 201, got %r" % r)
        return r.json()

    # -- views ----------------------------------------------------------

    def devices_view(self):
        view = self.get_json("/v1/devices")
        return view["devices"] if isinstance(view, dict) else view

    def online_ids(self):
        return {d.get("id") for d in self.devices_view()
                if d.get("online") is True}

    def wait_online(self, ids, timeout=START_DEADLINE):
        ids = set(ids)

        def check():
            for device_id in ids:
                proc = self.devices[device_id].proc
                if proc is not None and proc.exited():
                    raise AssertionError(
                        "%s exited during start-up:\n%s" % (
                            proc.name, proc.log_text()[-4000:]))
            return ids <= self.online_ids()
        wait_until(check, timeout, "devices %s to show online" %
                   sorted(ids))

    def wait_offline(self, ids, timeout=START_DEADLINE):
        ids = set(ids)
        wait_until(lambda: not (ids & self.online_ids()), timeout,
                   "devices %s to show offline" % sorted(ids))

    def wait_job(self, job_id, timeout=RESULT_DEADLINE, state="COMPLETED"):
        """Polls GET /v1/jobs/{id} until the job reaches `state`."""
        box = {}

        def done():
            box["job"] = self.get_json("/v1/jobs/" + job_id)
            return box["job"].get("state") == state
        try:
            wait_until(done, timeout, "job %s to become %s" % (job_id,
                                                                state))
        except AssertionError as e:
            raise AssertionError("%s; last view: %s" % (
                e, json.dumps(box.get("job"))[:3000]))
        return box["job"]


def wait_exec_state(cluster, exec_id, states, timeout=RESULT_DEADLINE):
    """Polls GET /v1/executions/{id} until its state is one of `states`;
    returns the view."""
    states = {states} if isinstance(states, str) else set(states)
    box = {}

    def check():
        box["e"] = cluster.get_json("/v1/executions/" + exec_id)
        return box["e"]["state"] in states
    try:
        wait_until(check, timeout, "execution %s to reach %s" % (
            exec_id, sorted(states)))
    except AssertionError as e:
        raise AssertionError("%s; last view: %s" % (
            e, json.dumps(box.get("e"))[:2000]))
    return box["e"]
