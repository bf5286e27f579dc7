#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The real cmdbus-agent's footprint: its stripped size, its idle memory
once connected, and the CPU it spends per ping compared with
bench-responder, a bare libmosquitto responder, both driven by sequential
action calls through a dispatcher and broker that the caller started.
Prints one JSON object on stdout; progress goes to stderr."""

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

WARMUP = 50


def log(msg):
    print("footprint: " + msg, file=sys.stderr, flush=True)


class Rest:
    """One keep-alive connection to the dispatcher's REST API."""

    def __init__(self, url, token):
        u = urllib.parse.urlsplit(url)
        if u.scheme != "http":
            raise SystemExit("footprint: --url must be http://HOST:PORT")
        self.host, self.port = u.hostname, u.port or 80
        self.base = u.path.rstrip("/")
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = "Bearer " + token
        self.conn = None

    def call(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=timeout)
            try:
                self.conn.request(method, self.base + path, body=data,
                                  headers=self.headers)
                r = self.conn.getresponse()
                text = r.read()
                return r.status, (json.loads(text) if text else None)
            except (http.client.HTTPException, OSError):
                # The server may close an idle keep-alive connection.
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn:
            self.conn.close()


def wait_online(rest, device, proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("footprint: %s exited with %s before it was "
                             "online" % (device, proc.returncode))
        status, body = rest.call("GET", "/v1/devices/" + device)
        if status == 200 and body and body.get("online"):
            return
        time.sleep(0.05)
    raise SystemExit("footprint: %s not online after %.0f s" % (device,
                                                                timeout))


def smaps(pid):
    """Rss, Pss and private memory (KiB) from smaps_rollup, and the
    private KiB of the largest mappings from smaps, to say where it
    goes."""
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":"):
                try:
                    out[parts[0][:-1]] = int(parts[1])
                except ValueError:
                    pass
    by_map = {}
    name = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if not parts[0].endswith(":") or "-" in parts[0]:
                # A mapping line: address perms offset dev inode [path].
                name = os.path.basename(parts[5]) if len(parts) > 5 \
                    else "[anon]"
            elif parts[0] in ("Private_Clean:", "Private_Dirty:"):
                by_map[name] = by_map.get(name, 0) + int(parts[1])
    top = sorted(((k, v) for k, v in by_map.items() if v > 0),
                 key=lambda kv: -kv[1])[:8]
    return {
        "rss_kb": out.get("Rss", 0),
        "pss_kb": out.get("Pss", 0),
        "private_kb": out.get("Private_Clean", 0) +
        out.get("Private_Dirty", 0),
        "private_by_mapping_kb": dict(top),
    }


def cpu_ns(pid):
    """CPU time of every thread of pid: nanoseconds from schedstat, and
    utime+stime from stat (in clock ticks, converted)."""
    sched = 0
    ticks = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
            sched += int(f.read().split()[0])
        with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
            fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return sched, ticks * 1e9 / os.sysconf("SC_CLK_TCK")


def pings(rest, device, n):
    """n sequential action calls; returns how many did not succeed."""
    bad = 0
    for _ in range(n):
        status, body = rest.call("POST",
                                 "/v1/devices/%s/actions/ping" % device,
                                 {"timeout_ms": 10000})
        if status != 200 or not body or body.get("state") != "SUCCEEDED":
            bad += 1
    return bad


def cpu_per_ping(rest, device, pid, n):
    if pings(rest, device, WARMUP):
        raise SystemExit("footprint: %s does not answer pings" % device)
    s0, t0 = cpu_ns(pid)
    w0 = time.monotonic()
    bad = pings(rest, device, n)
    wall = time.monotonic() - w0
    s1, t1 = cpu_ns(pid)
    if bad:
        raise SystemExit("footprint: %d of %d pings to %s failed" % (
            bad, n, device))
    return {"cpu_us": (s1 - s0) / n / 1000.0,
            "cpu_us_stat": (t1 - t0) / n / 1000.0,
            "calls_per_s": n / wall}


def stop(proc):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--agent", required=True, help="the cmdbus-agent to "
                    "measure")
    ap.add_argument("--responder", required=True,
                    help="bench-responder, the bare libmosquitto floor")
    ap.add_argument("--url", required=True, help="the dispatcher, "
                    "http://127.0.0.1:PORT")
    ap.add_argument("--token", default="", help="its API token")
    ap.add_argument("--host", default="127.0.0.1", help="the broker")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--prefix", default="cmdbus/v1")
    ap.add_argument("--protocol", default="5", choices=("5", "311"))
    ap.add_argument("--pings", type=int, default=2000,
                    help="sequential action calls per program")
    ap.add_argument("--idle", type=float, default=2.0,
                    help="seconds connected before memory is read")
    ap.add_argument("--device", default="fp-agent")
    ap.add_argument("--responder-device", default="fp-responder")
    ap.add_argument("--workdir", help="kept; default a temporary "
                    "directory, removed")
    args = ap.parse_args()

    work = args.workdir or tempfile.mkdtemp(prefix="cmdbus-footprint-")
    os.makedirs(work, exist_ok=True)
    rest = Rest(args.url, args.token)
    agent = responder = None
    try:
        stripped = os.path.join(work, "cmdbus-agent.stripped")
        shutil.copyfile(args.agent, stripped)
        subprocess.run([shutil.which("strip") or "strip", stripped],
                       check=True)
        stripped_bytes = os.path.getsize(stripped)

        state = os.path.join(work, "agent-state")
        os.makedirs(state, exist_ok=True)
        conf = os.path.join(work, "agent.conf")
        with open(conf, "w") as f:
            f.write("device_id %s\nmqtt_host %s\nmqtt_port %d\n"
                    "mqtt_protocol %s\ntopic_prefix %s\nstate_dir %s\n"
                    "log_level warn\n" % (
                        args.device, args.host, args.port, args.protocol,
                        args.prefix, state))
        with open(os.path.join(work, "agent.log"), "w") as lf:
            agent = subprocess.Popen([args.agent, "-c", conf],
                                     stdin=subprocess.DEVNULL, stdout=lf,
                                     stderr=subprocess.STDOUT)
        wait_online(rest, args.device, agent)
        time.sleep(args.idle)
        mem = smaps(agent.pid)
        log("agent idle: %s" % json.dumps(mem))
        a = cpu_per_ping(rest, args.device, agent.pid, args.pings)
        log("agent: %.1f us CPU per ping, %.0f calls/s" % (
            a["cpu_us"], a["calls_per_s"]))
        # The journal remembers every id until its exp has passed, in
        # memory too: what the pings left behind, and the file (grown
        # ahead with zeros, compacted past 1 MiB).
        after = smaps(agent.pid)
        journal_bytes = os.path.getsize(os.path.join(state, "journal"))

        with open(os.path.join(work, "responder.log"), "w") as lf:
            responder = subprocess.Popen(
                [args.responder, "--host", args.host, "--port",
                 str(args.port), "--prefix", args.prefix, "--device",
                 args.responder_device, "--protocol", args.protocol],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=lf)
        wait_online(rest, args.responder_device, responder)
        time.sleep(args.idle)
        rmem = smaps(responder.pid)
        r = cpu_per_ping(rest, args.responder_device, responder.pid,
                         args.pings)
        log("responder: %.1f us CPU per ping, %.0f calls/s" % (
            r["cpu_us"], r["calls_per_s"]))
    finally:
        stop(agent)
        stop(responder)
        rest.close()
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    print(json.dumps({
        "bench": "agent_footprint",
        "stripped_bytes": stripped_bytes,
        "rss_kb": mem["rss_kb"],
        "pss_kb": mem["pss_kb"],
        "private_kb": mem["private_kb"],
        "cpu_us_per_ping": round(a["cpu_us"], 1),
        "responder_cpu_us_per_ping": round(r["cpu_us"], 1),
        "ratio": round(a["cpu_us"] / r["cpu_us"], 2) if r["cpu_us"] else None,
        "pings": args.pings,
        "cpu_us_per_ping_stat": round(a["cpu_us_stat"], 1),
        "responder_cpu_us_per_ping_stat": round(r["cpu_us_stat"], 1),
        "agent_calls_per_s": round(a["calls_per_s"]),
        "responder_calls_per_s": round(r["calls_per_s"]),
        "private_kb_after_pings": after["private_kb"],
        "journal_bytes_after_pings": journal_bytes,
        "responder_rss_kb": rmem["rss_kb"],
        "responder_private_kb": rmem["private_kb"],
        "private_by_mapping_kb": mem["private_by_mapping_kb"],
    }), flush=True)


if __name__ == "__main__":
    main()
