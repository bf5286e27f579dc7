#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The benchmark orchestrator behind `./run bench`: starts a broker, the
dispatcher, real agents and simulated devices, runs every scenario of the
benchmark table next to its raw baseline, and writes docs/benchmarks.md.
Exits non-zero only when a scenario could not run, never for a missed
target."""

import argparse
import sys
import tempfile
import time
import traceback

import bench_report
import bench_scenarios as S
from bench_env import REPO, Bench, RunError, raise_fd_limit, rss_kb

FULL = {
    "call_secs": 5, "seq": 2000, "devices": 1000, "track_conc": 60,
    "track_secs": 10, "batch_jobs": 20, "pipe_secs": 5, "fanout_big": True,
    "submit_secs": 10, "sqlite_rows": 2000, "sqlite_rows_batch": 100000,
    "wrk_secs": 5, "mem_devices": 10000, "mem_rows": 1000000,
    "exec_conc": 16, "exec_secs": 5, "spawn_secs": 2,
}
QUICK = dict(FULL, call_secs=2, seq=300, track_secs=3, batch_jobs=5,
             pipe_secs=2, fanout_big=False, submit_secs=3, sqlite_rows=500,
             sqlite_rows_batch=20000, wrk_secs=2, mem_devices=1000,
             mem_rows=100000, exec_secs=2, spawn_secs=1)


def log(msg):
    print("bench: %s" % msg, file=sys.stderr, flush=True)


def scenarios():
    return [
        bench_report.Scenario(
            "latency", "Single command latency",
            "`POST /v1/devices/{id}/actions/ping`, one at a time, a real "
            "agent."),
        bench_report.Scenario(
            "sustained", "Sustained executions",
            "Executions per second with 1 000 simulated devices, every "
            "result durable."),
        bench_report.Scenario(
            "fanout", "One job to 1 000 devices",
            "Seconds from the POST of one job until every result is "
            "recorded."),
        bench_report.Scenario(
            "fanout10k", "One job to 10 000 devices",
            "Seconds from the POST of one job until every result is "
            "recorded."),
        bench_report.Scenario(
            "submit", "REST job submission",
            "`POST /v1/jobs`, one device per job, 50 in flight."),
        bench_report.Scenario(
            "get", "GET /v1/executions/{id} under wrk",
            "Requests per second reading one execution."),
        bench_report.Scenario(
            "memory", "Dispatcher memory",
            "RSS of the dispatcher with 10 000 devices online and 1 000 000 "
            "stored executions."),
        bench_report.Scenario(
            "footprint", "The real cmdbus-agent",
            "Stripped size, idle memory and CPU per ping against a bare "
            "libmosquitto responder."),
        bench_report.Scenario(
            "exec", "exec of /bin/true through the whole system",
            "Executions per second for one agent (reported; no target)."),
    ]


class Runner:
    def __init__(self, bench, opts, params):
        self.bench = bench
        self.opts = opts
        self.P = params
        self.sc = {s.key: s for s in scenarios()}
        self.order = list(self.sc.values())
        self.loadgen = []

    def wanted(self, key):
        return not self.opts.only or key in self.opts.only

    def attempt(self, key, fn, *args):
        """Runs one scenario; a failure to run is recorded on it, its
        processes other than the shared ones are stopped, and the run goes
        on with the next scenario."""
        sc = self.sc[key]
        if not self.wanted(key) or sc.error:
            return False
        log("%s ..." % sc.title)
        t0 = time.monotonic()
        keep = set(self.bench.procs)
        try:
            fn(self.bench, sc, self.P, self.opts.runs, *args)
            log("%s: done in %.0fs" % (sc.title, time.monotonic() - t0))
            return True
        except (RunError, AssertionError, OSError, KeyError, TypeError,
                ValueError) as e:
            sc.error = str(e) if isinstance(e, RunError) else \
                "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc())
            if not sc.error.startswith("not run"):
                sc.error = "not run: " + sc.error
            log("%s: %s" % (sc.title, sc.error.splitlines()[0]))
            for p in list(self.bench.procs):
                if p not in keep:
                    self.bench.stop(p)
            if self.bench.dispatcher and not self.bench.dispatcher.alive():
                raise RunError("the dispatcher died during %s" % sc.title)
            return False

    def start_loadgen(self, name, first, count, labels, procs):
        p, cmd, secs = self.bench.start_loadgen(name, first, count, labels,
                                                procs)
        self.loadgen.append(p)
        log("%d simulated devices ready in %.1fs" % (count, secs))
        self.bench.wait_online(first + count, "lg-%", 180)
        return cmd

    def run(self):
        b = self.bench
        b.start_broker()
        b.start_dispatcher()
        b.fresh_rss_kb = rss_kb(b.dispatcher.popen.pid)[0]
        b.payload = 400
        b.last_fanout_job = None
        # Quiet first: one real agent, nothing else connected.
        self.attempt("latency", S.latency)
        self.attempt("exec", S.exec_true)
        self.attempt("footprint", S.footprint)
        need_lg = any(self.wanted(k) for k in (
            "sustained", "fanout", "fanout10k", "submit", "get", "memory"))
        if not need_lg:
            return
        try:
            cmd = self.start_loadgen("loadgen-a", 0, self.P["devices"],
                                     "bench=lg,grp=a", 1)
        except RunError as e:
            for k in ("sustained", "fanout", "fanout10k", "submit", "get",
                      "memory"):
                self.sc[k].error = str(e)
            return
        for k in ("sustained", "fanout", "fanout10k", "submit", "memory"):
            self.sc[k].command(cmd + " &")
        self.attempt("sustained", S.sustained)
        self.attempt("fanout", S.fanout, 1000, {"grp": "a"})
        self.attempt("submit", S.submission)
        self.attempt("get", S.get_execution)
        if self.P["fanout_big"]:
            self.attempt("fanout10k", S.fanout, 10000, {"bench": "lg"},
                         True, self.start_rest)
        else:
            self.sc["fanout10k"].skipped = "quick run: 1 000 devices only"
        for k in ("fanout", "fanout10k"):
            if self.sc[k].figures:
                S.fanout_note(self.sc[k], b)
        if self.wanted("memory") and b.last_fanout_job is None:
            # The memory scenario copies a fan-out job: make one.
            S.job_to_all(b, {"bench": "lg"}, b.online_count("lg-%"))
        if self.P["mem_devices"] > self.P["devices"] and \
                b.online_count("lg-%") < self.P["mem_devices"]:
            self.start_rest()
        self.attempt("memory", S.memory)

    def start_rest(self):
        """The other 9 000 simulated devices, in two processes."""
        cmd = self.start_loadgen("loadgen-b", self.P["devices"],
                                 self.P["mem_devices"] - self.P["devices"],
                                 "bench=lg,grp=b", 2)
        self.sc["fanout10k"].command(cmd + " &")
        self.sc["memory"].command(cmd + " &")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true",
                    help="a reduced set: fewer devices, 1 run")
    ap.add_argument("--runs", type=int, default=None,
                    help="runs per scenario (default 3, quick 1)")
    ap.add_argument("--out", default=None,
                    help="the report (default docs/benchmarks.md; with "
                    "--quick build-bench/benchmarks-quick.md)")
    ap.add_argument("--build", default=str(REPO / "build-bench"),
                    help="the Release build directory")
    ap.add_argument("--only", action="append", default=[],
                    help="run only this scenario (repeatable): latency, "
                    "sustained, fanout, fanout10k, submit, get, memory, "
                    "footprint, exec")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (logs, database)")
    opts = ap.parse_args()
    if opts.runs is None:
        opts.runs = 1 if opts.quick else 3
    if opts.out is None:
        opts.out = str(REPO / ("build-bench/benchmarks-quick.md"
                               if opts.quick else "docs/benchmarks.md"))
    opts.fd_limit = raise_fd_limit()
    params = QUICK if opts.quick else FULL
    started = time.time()
    t0 = time.monotonic()
    # On disk, not a tmpfs: a durable commit must cost what it costs.
    workdir = tempfile.mkdtemp(prefix="cmdbus-bench-", dir="/var/tmp")
    bench = Bench(opts.build, workdir, log)
    runner = Runner(bench, opts, params)
    log("work directory %s, %d run(s) per scenario%s" % (
        workdir, opts.runs, ", quick" if opts.quick else ""))
    fatal = None
    try:
        runner.run()
    except (RunError, AssertionError, OSError) as e:
        fatal = str(e)
        log("stopped: %s" % fatal)
        for sc in runner.order:
            if runner.wanted(sc.key) and not sc.error and not sc.figures:
                sc.error = fatal if fatal.startswith("not run") else \
                    "not run: " + fatal
    except KeyboardInterrupt:
        fatal = "interrupted"
    finally:
        for p in runner.loadgen:
            if p in bench.procs:
                for st in bench.stop_loadgen(p):
                    if st.get("errors"):
                        log("warning: %s reported %d errors" % (
                            p.name, st["errors"]))
        bench.stop_all()
    done = [s for s in runner.order if runner.wanted(s.key) and
            not getattr(s, "skipped", None)]
    bench_report.write(opts.out, done, bench, opts, started,
                       time.monotonic() - t0, read_notes())
    log("wrote %s in %.0fs" % (opts.out, time.monotonic() - t0))
    for row in bench_report.summary_rows(done):
        print(row)
    failed = [s.title for s in done if s.error]
    if not opts.keep and not failed and fatal is None:
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        log("logs kept in %s" % workdir)
    if failed or fatal:
        log("FAILED to run: %s" % ", ".join(failed or [fatal]))
        return 1
    return 0


def read_notes():
    try:
        with open(REPO / "bench" / "notes.md") as f:
            return f.read()
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
