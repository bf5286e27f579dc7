# SPDX-License-Identifier: MIT
"""Figures of a benchmark run and docs/benchmarks.md: medians, spreads and
ratios to the baseline measured in the same run, the machine and versions,
and the commands that produced every figure."""

import os
import platform
import re
import sqlite3
import statistics
import subprocess
import time

from bench_env import REPO, MOSQUITTO


class Figure:
    """One measured quantity over the runs of a scenario, with the baseline
    measured beside it in each run. ratio_of: "figure/baseline" or
    "baseline/figure" (so that the ratio reads as 'how much of raw'), or
    None when no ratio is meaningful."""

    def __init__(self, name, unit, target=None, check=None, baseline=None,
                 ratio_of="figure/baseline", ratio_check=None, decimals=0):
        self.name = name
        self.unit = unit
        self.target = target
        self.check = check
        self.baseline = baseline
        self.ratio_of = ratio_of
        self.ratio_check = ratio_check
        self.decimals = decimals
        self.values = []
        self.base_values = []

    def add(self, value, base=None):
        self.values.append(value)
        if base is not None:
            self.base_values.append(base)

    def median(self):
        return statistics.median(self.values) if self.values else None

    def base_median(self):
        return (statistics.median(self.base_values)
                if self.base_values else None)

    def ratios(self):
        out = []
        for v, b in zip(self.values, self.base_values):
            if self.ratio_of == "figure/baseline" and b:
                out.append(v / b)
            elif self.ratio_of == "baseline/figure" and v:
                out.append(b / v)
        return out

    def ratio(self):
        r = self.ratios()
        return statistics.median(r) if r else None

    def met(self):
        """True, False, or None when there is no target."""
        if not self.values:
            return None
        results = []
        if self.check is not None:
            results.append(self.check(self.median()))
        if self.ratio_check is not None and self.ratio() is not None:
            results.append(self.ratio_check(self.ratio()))
        if not results:
            return None
        return all(results)


class Scenario:
    def __init__(self, key, title, what):
        self.key = key
        self.title = title
        self.what = what
        self.figures = []
        self.commands = []
        self.notes = []
        self.error = None

    def figure(self, *a, **kw):
        f = Figure(*a, **kw)
        self.figures.append(f)
        return f

    def command(self, text):
        if text not in self.commands:
            self.commands.append(text)


def fmt(v, decimals=0):
    if v is None:
        return "–"
    if decimals == 0:
        return "{:,}".format(int(round(v))).replace(",", " ")
    return "%.*f" % (decimals, v)


def fmt_spread(values, decimals):
    if not values:
        return "–"
    return "%s – %s" % (fmt(min(values), decimals), fmt(max(values),
                                                        decimals))


def met_text(m):
    return {True: "met", False: "**missed**", None: "–"}[m]


# -- the machine and versions ---------------------------------------------


def _first_line(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def _dpkg_version(pkg):
    v = _first_line(["dpkg-query", "-W", "-f=${Version}\n", pkg])
    return v if v and "no packages" not in v else "?"


def machine(db_dir):
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = "%.1f GiB" % (kb / 1048576)
    except (OSError, ValueError, IndexError):
        pass
    disk = _first_line(["findmnt", "-n", "-T", str(db_dir), "-o",
                        "SOURCE,FSTYPE"])
    dev = re.sub(r"^/dev/", "", disk.split()[0]) if disk != "?" else ""
    dev = re.sub(r"p?\d+$", "", dev) if not os.path.exists(
        "/sys/block/%s" % dev) else dev
    rot = ""
    try:
        with open("/sys/block/%s/queue/rotational" % dev) as f:
            rot = ", rotational" if f.read().strip() == "1" else \
                ", non-rotational"
    except OSError:
        pass
    return [
        ("CPU", "%s, %d cores" % (cpu, os.cpu_count() or 0)),
        ("RAM", mem),
        ("kernel", platform.release()),
        ("OS", _first_line(["sh", "-c", ". /etc/os-release && echo "
                            "\"$PRETTY_NAME\""])),
        ("database disk", "%s%s (%s)" % (disk, rot, db_dir)),
    ]


def versions():
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0")
    commit = "?"
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse",
                                 "--short=12", "HEAD"], capture_output=True,
                                text=True, env=env).stdout.strip() or "?"
        dirty = subprocess.run(["git", "-C", str(REPO), "diff", "--quiet",
                                "HEAD", "--"], env=env).returncode != 0
        if dirty:
            commit += " (with uncommitted changes)"
    except OSError:
        pass
    return [
        ("cmdbus", "git %s" % commit),
        ("Mosquitto", _first_line([MOSQUITTO or "mosquitto", "-h"])),
        ("libmosquitto", _dpkg_version("libmosquitto1")),
        ("SQLite", "%s (libsqlite3-0 %s)" % (sqlite3.sqlite_version,
                                             _dpkg_version("libsqlite3-0"))),
        ("libmicrohttpd", _dpkg_version("libmicrohttpd12")),
        ("wrk", _dpkg_version("wrk")),
        ("compiler", _first_line(["cc", "--version"])),
    ]


# -- the document ---------------------------------------------------------


def summary_rows(scenarios):
    rows = []
    for s in scenarios:
        if s.error:
            rows.append("| %s | – | – | – | – | – | **%s** |" % (
                s.title, s.error.splitlines()[0].replace("|", "/")[:300]))
        for f in s.figures:
            if (f.target is None and f.baseline is None) or not f.values:
                continue
            rows.append("| %s: %s | %s %s | %s | %s | %s | %s | %s |" % (
                s.title, f.name, fmt(f.median(), f.decimals), f.unit,
                fmt_spread(f.values, f.decimals),
                "%s %s" % (fmt(f.base_median(), f.decimals), f.baseline)
                if f.baseline else "–",
                fmt(f.ratio(), 2) + "×" if f.ratio() is not None else "–",
                f.target or "–", met_text(f.met())))
    return rows


def scenario_section(s, runs):
    out = ["## %s" % s.title, "", s.what, ""]
    if s.error:
        out += ["**Not run:** %s" % s.error.splitlines()[0], "", "```",
                s.error[-1500:], "```", ""]
    if any(f.values for f in s.figures):
        out += ["| %d run%s | median | spread (min – max) | each run | "
                "baseline (median, same run) | ratio (median, spread) | "
                "target | |" % (runs, "" if runs == 1 else "s"),
                "|---|---|---|---|---|---|---|---|"]
        for f in s.figures:
            if not f.values:
                continue
            ratios = f.ratios()
            out.append("| %s | **%s** %s | %s | %s | %s | %s | %s | %s |" % (
                f.name, fmt(f.median(), f.decimals), f.unit,
                fmt_spread(f.values, f.decimals),
                ", ".join(fmt(v, f.decimals) for v in f.values),
                "%s %s (%s)" % (fmt(f.base_median(), f.decimals), f.baseline,
                                fmt_spread(f.base_values, f.decimals))
                if f.baseline else "–",
                "%s× (%s)" % (fmt(f.ratio(), 2), fmt_spread(ratios, 2))
                if ratios else "–",
                f.target or "–", met_text(f.met())))
        out.append("")
    for n in s.notes:
        out += [n, ""]
    if s.commands:
        out += ["Commands, in the order they ran (each run):", "", "```sh"]
        out += s.commands
        out += ["```", ""]
    return out


def write(path, scenarios, bench, opts, started, elapsed, appendix):
    quick = opts.quick
    lines = [
        "<!-- SPDX-License-Identifier: MIT -->",
        "<!-- Generated by bench/run_bench.py; the appendix comes from "
        "bench/notes.md. -->",
        "# Benchmarks",
        "",
        "Every figure below comes from `./run bench%s` (bench/run_bench.py),"
        " which builds the Release programs in `build-bench/`, starts its "
        "own broker and dispatcher and measures each scenario %d time%s, "
        "each run next to a raw baseline measured in the same run on the "
        "same broker. This machine is shared and noisy: read the ratios "
        "to the baselines before the absolute figures. How each program "
        "works: [bench/README.md](../bench/README.md)." % (
            " --quick" if quick else "", opts.runs,
            "" if opts.runs == 1 else "s"),
        "",
    ]
    if quick:
        lines += ["**Quick run**: fewer devices, fewer requests and %d "
                  "run(s); a check that the benchmarks work, not figures "
                  "to quote." % opts.runs, ""]
    lines += ["Run on %s, %.0f s in all." % (
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)), elapsed),
        "", "| machine | |", "|---|---|"]
    lines += ["| %s | %s |" % kv for kv in machine(bench.dir)]
    lines += ["", "| versions | |", "|---|---|"]
    lines += ["| %s | %s |" % kv for kv in versions()]
    lines += [
        "", "## Summary", "",
        "Ratios: the cmdbus figure over the raw baseline (for latency and "
        "time, how many times the raw figure; for rates, the share of the "
        "raw rate). A missed target is reported here as it is; what the "
        "time goes into is in the scenario's notes.", "",
        "| scenario: figure | median | spread | baseline (median) | ratio |"
        " target | |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += summary_rows(scenarios)
    lines += [
        "", "## Setup of every run", "",
        "The commands below use `$MQTT_PORT`, `$HTTP_PORT`, `$URL`, "
        "`$TOKEN` and `$BENCH_DIR` for the free ports, REST URL, API token"
        " and work directory of the run. The broker "
        "(anonymous access: credentials are not what is measured; the "
        "same broker serves the baselines and cmdbus):", "", "```",
        bench.broker_conf.rstrip(), "```", "",
        "The dispatcher (Release build, the database on disk in "
        "`/var/tmp/cmdbus-bench-*`, defaults but for the log level; it "
        "takes at most 64 connections from one address, which bounds "
        "every closed loop below):",
        "", "```", _display_conf(bench.dispatcher_conf).rstrip(), "```", "",
        "Every program raises its soft limit of open files to the hard "
        "limit (here %s); the 10 000 devices run as several load "
        "generator processes." % opts.fd_limit, "",
    ]
    for s in scenarios:
        lines += scenario_section(s, opts.runs)
    if appendix:
        # Appended as written, but for its own leading comment lines.
        body = appendix.rstrip().splitlines()
        while body and (body[0].startswith("<!--") or
                        body[0].endswith("-->")):
            body.pop(0)
        lines += body + [""]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines))


def _display_conf(text):
    from bench_env import display_text
    return display_text(text)
