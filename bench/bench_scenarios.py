# SPDX-License-Identifier: MIT
"""The scenarios of the issue's table, each measured `runs` times with its
raw baseline measured in the same run right beside it. A scenario raises
RunError when it cannot run; a missed target is only reported."""

import os
import re
import sys
import time

from bench_env import RunError, display, rss_kb, run_json
from bench_report import fmt

UNFINISHED = "('QUEUED','PUBLISHED','DELIVERED','RUNNING')"
WRK_OPTS = ["-t2", "-c50"]


def rest(bench, sc, extra, timeout):
    argv = [bench.program("cmdbus-loadgen"), "rest", "--url", bench.url,
            "--token", bench.token] + [str(a) for a in extra]
    obj, cmd = run_json(argv, timeout, "cmdbus-loadgen rest", True)
    sc.command(cmd)
    if obj.get("event") != "rest":
        raise RunError("cmdbus-loadgen rest printed no rest line: %r" % obj)
    if obj.get("errors"):
        sc.notes.append("`%s` counted %d failed request(s) of %d, by "
                        "status: %s." % (cmd.split(" --url")[0] + " rest",
                                         obj["errors"], obj["requests"],
                                         obj.get("status")))
    return obj


def rtt(bench, sc, extra, timeout=300):
    argv = [bench.program("bench-mqtt-rtt"), "--host", "127.0.0.1",
            "--port", bench.mqtt_port] + [str(a) for a in extra]
    obj, cmd = run_json(argv, timeout, "bench-mqtt-rtt")
    sc.command(cmd)
    return obj


def wait_drained(bench, deadline=180.0):
    """Waits until the dispatcher has nothing unfinished, so that the next
    measurement does not share the machine with the last one's tail."""
    end = time.monotonic() + deadline
    while True:
        with bench.db() as c:
            n = c.execute("SELECT count(*) FROM executions WHERE state IN "
                          + UNFINISHED).fetchone()[0]
        if n == 0:
            return
        bench.check_alive(bench.dispatcher)
        if time.monotonic() > end:
            raise RunError("%d executions still unfinished %.0fs after the "
                           "load stopped" % (n, deadline))
        time.sleep(0.2)


def command_size(bench, default=400):
    """The size of a stored ping command, the payload size of the raw
    round-trip baselines."""
    try:
        with bench.db() as c:
            row = c.execute("SELECT length(command) FROM executions WHERE "
                            "command IS NOT NULL ORDER BY created_at DESC "
                            "LIMIT 1").fetchone()
        return row[0] if row and row[0] else default
    except Exception:  # noqa: BLE001 - any failure: the default size
        return default


# -- single command latency ---------------------------------------------


def latency(bench, sc, P, runs):
    agent = bench.start_agent("agent-00000")
    call = ["--kind", "call", "--action", "ping", "--devices", 1,
            "--id-format", "agent-%05d", "--concurrency", 1]
    # Warm-up (connections, caches, the SQLite pages), not counted.
    rest(bench, sc, call + ["--requests", 20], 120)
    bench.payload = command_size(bench)
    p50 = sc.figure("p50", "ms", "≤ 1 ms", lambda v: v <= 1.0,
                    baseline="ms raw MQTT", decimals=3)
    p99 = sc.figure("p99", "ms", "≤ 3 ms", lambda v: v <= 3.0,
                    baseline="ms raw MQTT", decimals=3)
    calls = []
    for _ in range(runs):
        base = rtt(bench, sc, ["--mode", "seq", "--count", P["seq"],
                               "--size", bench.payload])
        r = rest(bench, sc, call + ["--duration", P["call_secs"]],
                 P["call_secs"] + 120)
        if r["ok"] == 0:
            raise RunError("no call succeeded: %r" % r)
        p50.add(r["p50_ms"], base["p50_us"] / 1000.0)
        p99.add(r["p99_ms"], base["p99_us"] / 1000.0)
        calls.append(r["ok"])
    bench.stop(agent)
    sc.notes.append(
        "A real `cmdbus-agent` (device agent-00000) answers `ping`; the "
        "latency is from sending the POST to reading the 200 with the "
        "finished execution, one call at a time. The baseline is a QoS 1 "
        "request and response of the same size (%d bytes, the stored ping "
        "command) through the same broker, libmosquitto on both ends. "
        "Ratio: how many raw round trips one call costs." % bench.payload)
    sc.figure("calls measured", "calls", None, None).values = calls


# -- exec of /bin/true ---------------------------------------------------

SPAWN_CODE = (
    "import json,os,time\n"
    "n=0;t0=time.monotonic();end=t0+{secs}\n"
    "while time.monotonic()<end:\n"
    " os.waitpid(os.posix_spawn('/bin/true',['/bin/true'],{{}}),0);n+=1\n"
    "print(json.dumps({{'bench':'spawn','rate':n/(time.monotonic()-t0)}}))")


def exec_true(bench, sc, P, runs):
    agent = bench.start_agent("exec-00000", exec_enabled=True)
    track = ["--kind", "track", "--action", "exec", "--args",
             '{"argv":["/bin/true"]}', "--devices", 1, "--id-format",
             "exec-%05d", "--concurrency", P["exec_conc"]]
    rate = sc.figure("executions/s per agent", "/s", None, None,
                     baseline="/s raw spawn", decimals=0)
    p99 = sc.figure("p99 submit → terminal", "ms", None, None, decimals=1)
    code = SPAWN_CODE.format(secs=P["spawn_secs"])
    for _ in range(runs):
        base, cmd = run_json([sys.executable, "-c", code], 60,
                             "the raw spawn baseline")
        sc.command(cmd)
        r = rest(bench, sc, track + ["--duration", P["exec_secs"]],
                 P["exec_secs"] + 120)
        if r["ok"] == 0:
            raise RunError("no exec succeeded: %r" % r)
        rate.add(r["rate"], base["rate"])
        p99.add(r["p99_ms"])
        wait_drained(bench)
    bench.stop(agent)
    sc.notes.append(
        "A real `cmdbus-agent` with `exec_enabled true` and the default "
        "`max_running 4` runs `/bin/true` for jobs submitted closed loop "
        "(`rest --kind track`, %d in flight), each counted when its job is "
        "finished. The baseline is this machine's raw rate of "
        "`posix_spawn` + `waitpid` of `/bin/true`, one at a time, from "
        "Python." % P["exec_conc"])


# -- agent footprint ----------------------------------------------------


def footprint(bench, sc, P, runs):
    script = os.path.join(os.path.dirname(__file__), "footprint.py")
    if not os.path.exists(script):
        raise RunError("not run: program missing: bench/footprint.py")
    argv = [sys.executable, script, "--agent", bench.program("cmdbus-agent"),
            "--responder", bench.program("bench-responder"), "--url",
            bench.url, "--token", bench.token, "--host", "127.0.0.1",
            "--port", bench.mqtt_port]
    size = sc.figure("stripped size", "KB", "≤ 100 KB",
                     lambda v: v <= 100.0, decimals=1)
    priv = sc.figure("idle private", "KB", "≤ 1 MB (1 024 KB)",
                     lambda v: v <= 1024, decimals=0)
    rss = sc.figure("idle RSS", "KB", None, None, decimals=0)
    pss = sc.figure("idle PSS", "KB", None, None, decimals=0)
    cpu = sc.figure("CPU per ping", "µs", "≤ 2× the bare responder",
                    None, baseline="µs bare responder",
                    ratio_check=lambda r: r <= 2.0, decimals=1)
    for _ in range(runs):
        obj, cmd = run_json(argv, 600, "bench/footprint.py")
        sc.command(cmd)
        size.add(obj["stripped_bytes"] / 1000.0)
        priv.add(obj["private_kb"])
        rss.add(obj["rss_kb"])
        pss.add(obj["pss_kb"])
        cpu.add(obj["cpu_us_per_ping"], obj["responder_cpu_us_per_ping"])
    sc.notes.append(
        "`bench/footprint.py` starts a real `cmdbus-agent` and measures "
        "its stripped size (a copy through `strip`; KB = 1 000 bytes), its "
        "idle memory from /proc/PID/smaps_rollup once connected, and the "
        "CPU time (utime + stime) it spends per `ping` called through the "
        "dispatcher; then the same calls answered by `bench-responder`, a "
        "bare libmosquitto responder, as the baseline.")


# -- sustained executions -----------------------------------------------


def sustained(bench, sc, P, runs):
    n = P["devices"]
    track = ["--kind", "track", "--action", "ping", "--devices", n,
             "--concurrency", P["track_conc"], "--duration",
             P["track_secs"]]
    rate = sc.figure("executions/s, %s devices" % "{:,}".format(n).replace(
        ",", " "), "/s", "≥ 50% of raw round trips/s", None,
        baseline="round trips/s raw MQTT",
        ratio_check=lambda r: r >= 0.5)
    p99 = sc.figure("p99 submit → terminal", "ms", None, None, decimals=1)
    many = sc.figure("executions/s, %d jobs to all %s devices" % (
        P["batch_jobs"], fmt(n)), "/s", "≥ 50% of raw round trips/s", None,
        baseline="round trips/s raw MQTT",
        ratio_check=lambda r: r >= 0.5)
    for _ in range(runs):
        base = rtt(bench, sc, ["--mode", "pipe", "--conns", 1000, "--window",
                               100, "--duration", P["pipe_secs"], "--size",
                               bench.payload], P["pipe_secs"] + 120)
        r = rest(bench, sc, track, P["track_secs"] + 180)
        if r["ok"] == 0:
            raise RunError("no execution finished: %r" % r)
        rate.add(r["rate"], base["rate"])
        p99.add(r["p99_ms"])
        wait_drained(bench)
        many.add(jobs_batch(bench, sc, {"grp": "a"}, P["batch_jobs"], n),
                 base["rate"])
        wait_drained(bench)
    sc.notes.append(
        "%d simulated devices (`cmdbus-loadgen agents`) answer `ping` at "
        "once; `rest --kind track` keeps %d jobs of one device each in "
        "flight (POST /v1/jobs, then GET /v1/jobs/ID?wait=60), every result "
        "durable in SQLite before the job reads finished. The baseline: "
        "pipelined QoS 1 round trips through the same broker, 1 000 "
        "connections with a window of 100, %d-byte payloads. The "
        "dispatcher takes at most 64 connections from one address, which "
        "caps the one-device jobs in flight; the second figure has no such "
        "cap: %d jobs to all %s devices posted back to back, timed from "
        "the first POST until the last job is finished." % (
            n, P["track_conc"], bench.payload, P["batch_jobs"], fmt(n)))


def jobs_batch(bench, sc, selector, jobs, per, deadline=300.0):
    """Posts `jobs` ping jobs to the selector back to back and waits for
    all; returns executions per second from the first POST to the last
    finished job."""
    import json
    body = {"target": {"labels": selector}, "action": "ping"}
    sc.command("for i in $(seq %d); do curl -s -H \"Authorization: Bearer "
               "$TOKEN\" -H 'Content-Type: application/json' -d '%s' "
               "$URL/v1/jobs; done  # then GET $URL/v1/jobs/ID?wait=60 for "
               "each until none is RUNNING" % (
                   jobs, json.dumps(body, separators=(",", ":"))))
    t0 = time.monotonic()
    ids = []
    for _ in range(jobs):
        status, job = bench.api("POST", "/v1/jobs", body)
        if status != 201 or not job:
            raise RunError("POST /v1/jobs answered %s" % status)
        ids.append(job["id"])
    ok = 0
    for jid in ids:
        while True:
            status, view = bench.api("GET", "/v1/jobs/%s?wait=60" % jid)
            if status != 200 or not view:
                raise RunError("GET /v1/jobs/%s answered %s" % (jid, status))
            if view["state"] != "RUNNING":
                break
            if time.monotonic() - t0 > deadline:
                raise RunError("%d jobs not finished after %.0fs" % (
                    jobs, deadline))
        ok += view["counts"].get("SUCCEEDED", 0)
    secs = time.monotonic() - t0
    if ok != jobs * per:
        raise RunError("%d jobs to %d devices: %d SUCCEEDED" % (jobs, per,
                                                                 ok))
    return ok / secs


# -- one job to many devices --------------------------------------------


def job_to_all(bench, selector, expected, deadline=120.0):
    """POST one ping job to the selector, wait until it is finished;
    returns the seconds from the POST to the finished job."""
    t0 = time.monotonic()
    status, job = bench.api("POST", "/v1/jobs", {
        "target": {"labels": selector}, "action": "ping"})
    if status != 201 or not job:
        raise RunError("POST /v1/jobs answered %s" % status)
    while True:
        status, view = bench.api("GET", "/v1/jobs/%s?wait=60" % job["id"])
        if status != 200 or not view:
            raise RunError("GET /v1/jobs/%s answered %s" % (job["id"],
                                                            status))
        if view["state"] != "RUNNING":
            break
        if time.monotonic() - t0 > deadline:
            raise RunError("job to %d devices not finished after %.0fs" % (
                expected, deadline))
    secs = time.monotonic() - t0
    ok = view["counts"].get("SUCCEEDED", 0)
    if ok != expected:
        raise RunError("job to %d devices: %d SUCCEEDED, counts %r" % (
            expected, ok, view["counts"]))
    bench.last_fanout_job = job["id"]
    return secs


def fanout_cmd(selector):
    import json
    body = json.dumps({"target": {"labels": selector}, "action": "ping"},
                      separators=(",", ":"))
    return ("curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: "
            "application/json' -d '%s' $URL/v1/jobs  # then GET "
            "$URL/v1/jobs/ID?wait=60 until state is not RUNNING" % body)


def fanout(bench, sc, P, runs, n, selector, baselines_first=False,
           start_more=None):
    """One job to n devices. With baselines_first, every baseline is
    measured before start_more() brings the rest of the devices online:
    the broker's descriptors do not stretch to both at once."""
    fig = sc.figure("one job to %s devices" % "{:,}".format(n).replace(
        ",", " "), "s", "≤ 1.5 s" if n == 10000 else None,
        (lambda v: v <= 1.5) if n == 10000 else None,
        baseline="s raw MQTT fan-out", decimals=3)
    bases = []
    failed = []

    def baseline():
        # A failed baseline fails the scenario, but only after the cmdbus
        # side is measured: the figure is worth having anyway.
        try:
            return rtt(bench, sc, ["--mode", "fanout", "--devices", n,
                                   "--size", bench.payload])["ms"] / 1000.0
        except RunError as e:
            failed.append(str(e))
            return None

    if baselines_first:
        bases = [baseline() for _ in range(runs)]
        start_more()
    for i in range(runs):
        base = bases[i] if baselines_first else baseline()
        sc.command(fanout_cmd(selector))
        secs = job_to_all(bench, selector, n)
        fig.values.append(secs)
        if base is not None:
            fig.base_values.append(base)
        wait_drained(bench)
    if failed:
        raise RunError("the baseline failed: " + failed[0])


def bench_fd_limit():
    import resource
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def fanout_note(sc, bench):
    sc.notes.append(
        "One `ping` job to every simulated device with a label (POST "
        "/v1/jobs with a label selector), timed from sending the POST until "
        "GET /v1/jobs/ID?wait=60 shows it finished with every result "
        "recorded. The baseline: one %d-byte QoS 1 message to each of N "
        "subscribed connections through the same broker, until all have "
        "it." % bench.payload)
    if sc.key == "fanout10k":
        sc.notes.append(
            "The 10 000-device baselines run first, before the other 9 000 "
            "simulated devices connect: this machine's limit of open files "
            "(%d) cannot hold both sets of connections at once." %
            bench_fd_limit())


# -- REST submission ----------------------------------------------------


def submission(bench, sc, P, runs):
    sdir = bench.dir / "sqlite"
    sdir.mkdir(exist_ok=True)
    rate = sc.figure("jobs/s", "/s", "≥ 5 000 jobs/s", lambda v: v >= 5000,
                     baseline="rows/s raw SQLite, 1 row per commit")
    p99 = sc.figure("p99 POST → 201", "ms", None, None, decimals=2)
    batch = sc.figure("raw SQLite, 1 000 rows per commit", "rows/s", None,
                      None)
    for _ in range(runs):
        argv = [bench.program("bench-sqlite"), "--dir", sdir, "--rows",
                P["sqlite_rows"], "--batch", 1]
        one, cmd = run_json(argv, 300, "bench-sqlite")
        sc.command(cmd)
        argv = [bench.program("bench-sqlite"), "--dir", sdir, "--rows",
                P["sqlite_rows_batch"], "--batch", 1000]
        many, cmd = run_json(argv, 300, "bench-sqlite")
        sc.command(cmd)
        r = rest(bench, sc, ["--kind", "submit", "--action", "ping",
                             "--devices", P["devices"], "--concurrency", 50,
                             "--duration", P["submit_secs"]],
                 P["submit_secs"] + 120)
        if r["ok"] == 0:
            raise RunError("no job was created: %r" % r)
        rate.add(r["rate"], one["rows_per_s"])
        p99.add(r["p99_ms"])
        batch.add(many["rows_per_s"])
        wait_drained(bench)
    sc.notes.append(
        "`rest --kind submit`: POST /v1/jobs, one device per job (round "
        "robin over %d simulated devices), 50 requests in flight; each job "
        "is durable (its own commit) before the 201. The baseline is raw "
        "SQLite in WAL mode with synchronous=FULL on the same disk, a row "
        "like an execution's, one row per commit (and, for scale, 1 000 "
        "per commit). The executions these jobs create are delivered and "
        "answered meanwhile, and drained before the next run." %
        P["devices"])


# -- GET /v1/executions/{id} under wrk ----------------------------------


def wrk(bench, sc, url, secs):
    argv = ["wrk"] + WRK_OPTS + ["-d%ds" % secs, "-H",
                                 "Authorization: Bearer " + bench.token, url]
    import subprocess
    try:
        p = subprocess.run(argv, capture_output=True, text=True,
                           timeout=secs + 60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RunError("wrk failed: %s" % e) from e
    sc.command(display(argv))
    m = re.search(r"Requests/sec:\s*([0-9.]+)", p.stdout)
    if p.returncode != 0 or not m:
        raise RunError("wrk failed (%d): %s" % (p.returncode,
                                                 p.stdout + p.stderr))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", p.stdout)
    if errors:
        raise RunError("wrk saw %s error responses from %s" % (
            errors.group(1), url))
    return float(m.group(1))


def get_execution(bench, sc, P, runs):
    import shutil
    if shutil.which("wrk") is None:
        raise RunError("not run: program missing: wrk (apt-get install "
                       "wrk)")
    def last_finished():
        with bench.db() as c:
            return c.execute("SELECT id FROM executions WHERE state = "
                             "'SUCCEEDED' ORDER BY created_at DESC "
                             "LIMIT 1").fetchone()

    row = last_finished()
    if not row:
        # Run on its own (--only get): one call to a real agent makes
        # the execution to read.
        agent = bench.start_agent("agent-00000")
        status, _ = bench.api("POST",
                              "/v1/devices/agent-00000/actions/ping", {})
        bench.stop(agent)
        row = last_finished()
        if status != 200 or not row:
            raise RunError("no finished execution to read (a ping call "
                           "answered %s)" % status)
    from bench_env import free_port, port_accepts, wait_until
    fig = sc.figure("GET /v1/executions/{id}", "req/s",
                    "≥ 50% of raw libmicrohttpd", None,
                    baseline="req/s raw libmicrohttpd",
                    ratio_check=lambda r: r >= 0.5)
    for _ in range(runs):
        port = free_port()
        mhd_argv = [bench.program("bench-mhd"), "--port", port]
        mhd = bench._start("bench-mhd", mhd_argv)
        wait_until(lambda: port_accepts(port) or bench.check_alive(mhd),
                   30, "bench-mhd on port %d" % port)
        sc.command(display(mhd_argv) + " &")
        base = wrk(bench, sc, "http://127.0.0.1:%d/v1/executions/%s" % (
            port, row[0]), P["wrk_secs"])
        bench.stop(mhd)
        fig.add(wrk(bench, sc, "%s/v1/executions/%s" % (bench.url, row[0]),
                    P["wrk_secs"]), base)
    sc.notes.append(
        "wrk with the same options against the dispatcher (one stored, "
        "finished execution; the bearer token checked on every request) "
        "and against `bench-mhd`, libmicrohttpd with the dispatcher's "
        "options serving a fixed JSON body the size of an execution view.")


# -- dispatcher memory ----------------------------------------------------


def prefill(bench, target):
    """Copies the last fan-out job and its executions until the database
    holds `target` executions, with the dispatcher stopped: the schema is
    the dispatcher's own, the rows are real ones under new ids. Returns
    (rows added, seconds)."""
    import sqlite3
    t0 = time.monotonic()
    c = sqlite3.connect(str(bench.db_path))
    try:
        have = c.execute("SELECT count(*) FROM executions").fetchone()[0]
        tmpl = bench.last_fanout_job
        per = c.execute("SELECT count(*) FROM executions WHERE job = ?",
                        (tmpl,)).fetchone()[0]
        if per == 0 or have >= target:
            return 0, 0.0
        jcols = [r[1] for r in c.execute("PRAGMA table_info(jobs)")]
        ecols = [r[1] for r in c.execute("PRAGMA table_info(executions)")]
        jsel = ", ".join("?1" if k == "id" else "NULL" if k ==
                         "idempotency_key" else k for k in jcols)
        esel = ", ".join("?1 || substr(id, 11)" if k == "id" else "?2"
                         if k == "job" else k for k in ecols)
        crock = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
        copies = (target - have + per - 1) // per
        c.execute("BEGIN")
        for k in range(copies):
            # A fresh 10-character time part per copy keeps every id a
            # unique, well-formed ULID.
            pre = "7" + "".join(crock[(k >> (5 * i)) & 31]
                                for i in range(8, -1, -1))
            jid = pre + tmpl[10:]
            c.execute("INSERT INTO jobs (%s) SELECT %s FROM jobs WHERE id ="
                      " ?2" % (", ".join(jcols), jsel), (jid, tmpl))
            c.execute("INSERT INTO executions (%s) SELECT %s FROM executions"
                      " WHERE job = ?3" % (", ".join(ecols), esel),
                      (pre, jid, tmpl))
        c.execute("COMMIT")
        added = c.execute("SELECT count(*) FROM executions").fetchone()[0] \
            - have
    finally:
        c.close()
    return added, time.monotonic() - t0


def memory(bench, sc, P, runs):
    n = P["mem_devices"]
    idle = sc.figure("RSS idle, %s devices online, %s executions stored" % (
        fmt(n), fmt(P["mem_rows"])), "MB", "≤ 64 MB", lambda v: v <= 64.0,
        baseline="MB fresh dispatcher", decimals=1)
    busy = sc.figure("RSS after a job to all %s devices" % fmt(n), "MB",
                     "≤ 64 MB", lambda v: v <= 64.0,
                     baseline="MB fresh dispatcher", decimals=1)
    hwm = sc.figure("peak RSS (VmHWM) at the end", "MB", "≤ 64 MB",
                    lambda v: v <= 64.0, decimals=1)
    fresh = bench.fresh_rss_kb / 1024.0
    bench.stop_dispatcher()
    added, secs = prefill(bench, P["mem_rows"])
    bench.start_dispatcher()
    bench.wait_online(n, "lg-%", 120)
    with bench.db() as c:
        total = c.execute("SELECT count(*) FROM executions").fetchone()[0]
    idle.add(rss_kb(bench.dispatcher.popen.pid)[0] / 1024.0, fresh)
    for _ in range(runs):
        job_to_all(bench, {"bench": "lg"}, n)
        wait_drained(bench)
        busy.add(rss_kb(bench.dispatcher.popen.pid)[0] / 1024.0, fresh)
    hwm.add(rss_kb(bench.dispatcher.popen.pid)[1] / 1024.0)
    sc.command("# with the dispatcher stopped: copy a job to all %d "
               "devices and its executions until %d are stored" % (
                   n, P["mem_rows"]))
    sc.command("grep -E 'VmRSS|VmHWM' /proc/$(pgrep -f cmdbus-dispatcher)"
               "/status")
    sc.notes.append(
        "The database held %s executions (%s copied in %.1f s with the "
        "dispatcher stopped: copies of a real job to all %s devices under "
        "new ids, in one transaction, through `sqlite3`; creating them "
        "through the API, 100 jobs to 10 000 devices, would take about 100 "
        "times the fan-out figure above). The dispatcher was then started "
        "again and the %s simulated devices came back online; VmRSS was "
        "read once idle, then after each of %d jobs to every device (each "
        "finished), and VmHWM at the end. The baseline is the RSS of the "
        "freshly started dispatcher (empty database, no devices) at the "
        "beginning of the run." % (fmt(total), fmt(added), secs, fmt(n),
                                   fmt(n), runs))
