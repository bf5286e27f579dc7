#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The fault suite: a real Mosquitto, the dispatcher and several agents
under a steady load of commands, faults injected at random moments, then
quiesce and check that nothing was lost, run twice, recorded twice, run
after its expiry or recorded in a state its run contradicts. Prints a table
of the faults and the counters; exits 1 on any violation."""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "integration"))

from checks import COUNTERS, check  # noqa: E402
from inject import KINDS, Injector  # noqa: E402
from load import CLOCK_SKEW_MS, Load, make_fleet  # noqa: E402

QUIESCE_DEADLINE = 90.0

# Faults of each kind: --quick, and the full run.
PLANS = {
    "quick": {"broker-kill": 10, "broker-kill-nopersist": 10,
              "broker-stop": 5, "broker-kill-agent-down": 4,
              "agent-kill": 20, "dispatcher-kill": 20},
    "full": {"broker-kill": 100, "broker-kill-nopersist": 100,
             "broker-stop": 20, "broker-kill-agent-down": 20,
             "agent-kill": 200, "dispatcher-kill": 200},
}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--build", required=True,
                   help="build directory holding dispatcher/ and "
                   "edge-agent/ (a sanitized build)")
    p.add_argument("--quick", action="store_true",
                   help="the short plan (CI): 20 kills of each program")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiply the number of faults of each kind")
    p.add_argument("--agents", type=int, default=4)
    p.add_argument("--rate", type=float, default=8.0,
                   help="jobs submitted per second at most")
    p.add_argument("--recovery-cap", type=float, default=30.0,
                   help="seconds to wait for a fault's executions to end "
                   "before the next fault")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--keep", action="store_true",
                   help="keep the run's directory (logs, database)")
    return p.parse_args(argv)


def schedule(plan, scale, rng):
    order = []
    for kind, n in plan.items():
        order += [kind] * max(1, int(round(n * scale)))
    rng.shuffle(order)
    return order


def fmt_secs(values):
    if not values:
        return "-", "-"
    return ("%.1f" % statistics.median(values), "%.1f" % max(values))


def print_table(kinds_done, recoveries, affected, found, info, elapsed,
                out=sys.stdout):
    names = dict(KINDS)
    out.write("\n%-34s %8s %9s %12s %9s\n" % (
        "fault", "injected", "affected", "recovery p50", "max (s)"))
    for kind, _ in KINDS:
        n = kinds_done.get(kind, 0)
        if not n:
            continue
        med, mx = fmt_secs(recoveries.get(kind, []))
        out.write("%-34s %8d %9d %12s %9s\n" % (
            names[kind], n, affected.get(kind, 0), med, mx))
    out.write("\n%-34s %8s\n" % ("check", "count"))
    for name in COUNTERS:
        out.write("%-34s %8d\n" % (name, len(found[name])))
    out.write("\n")
    for k, v in info.items():
        out.write("%s: %s\n" % (k, v))
    out.write("duration: %.0fs\n" % elapsed)
    for name in COUNTERS:
        for detail in found[name][:20]:
            out.write("VIOLATION %s: %s\n" % (name, detail))
        if len(found[name]) > 20:
            out.write("VIOLATION %s: ... %d more\n" % (
                name, len(found[name]) - 20))
    out.flush()


def main(argv):
    args = parse_args(argv)
    build = Path(args.build).resolve()
    os.environ["CMDBUS_DISPATCHER"] = str(build / "dispatcher" /
                                          "cmdbus-dispatcher")
    os.environ["CMDBUS_AGENT"] = str(build / "edge-agent" / "cmdbus-agent")
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    plan = PLANS["quick" if args.quick else "full"]
    order = schedule(plan, args.scale, rng)
    print("faults: %d faults (%s), %d agents, seed %d" % (
        len(order), ", ".join("%s %d" % (k, order.count(k)) for k in plan),
        args.agents, seed), flush=True)

    t_start = time.monotonic()
    c, truth = make_fleet(args.agents)
    c.keep = args.keep
    load = Load(c, rate=args.rate, seed=rng.randrange(1 << 30))
    inj = Injector(c, rng)
    kinds_done, ends = {}, []
    problems = []
    try:
        c.start()
        load.start()
        for i, kind in enumerate(order):
            # A random moment under load.
            time.sleep(rng.uniform(0.3, 2.0))
            what, device = inj.inject(kind)
            t_end = time.monotonic()
            # The executions the fault may have touched: those of its
            # device, or all, unfinished when it ended.
            affected = load.unfinished(device)
            ends.append((kind, t_end, affected))
            kinds_done[kind] = kinds_done.get(kind, 0) + 1
            left = load.wait_terminal(affected, args.recovery_cap)
            print("faults: %3d/%d %-22s %s; %d unfinished at its end%s" % (
                i + 1, len(order), kind, what, len(affected),
                ", %d still after %.0fs" % (len(left), args.recovery_cap)
                if left else ""), flush=True)
        load.stop_submitting()
        left = load.wait_terminal(load.unfinished(), QUIESCE_DEADLINE)
        print("faults: quiesced, %d executions unfinished" % len(left),
              flush=True)
        load.stop()
        problems = c.close()
        found, info = check(load, truth, c.dir / "dispatcher.db",
                            CLOCK_SKEW_MS)
    except BaseException:
        load.stop()
        c.kill_all()
        c.keep = True
        c.remove_dir()
        raise

    recoveries, affected_n = {}, {}
    for kind, t_end, affected in ends:
        affected_n[kind] = affected_n.get(kind, 0) + len(affected)
        times = [load.terminal_time(e) for e in affected]
        if not affected:
            continue
        if any(t is None for t in times):
            recoveries.setdefault(kind, []).append(float("inf"))
        else:
            recoveries.setdefault(kind, []).append(max(times) - t_end)
    bad_integrity = [r for r in inj.integrity if r != "ok"]
    info["integrity_check after each dispatcher kill"] = (
        "ok (%d)" % len(inj.integrity) if not bad_integrity
        else "; ".join(bad_integrity))
    info["seed"] = seed
    print_table(kinds_done, recoveries, affected_n, found, info,
                time.monotonic() - t_start)

    failed = any(found[name] for name in COUNTERS)
    if bad_integrity or info["integrity_check at the end"] != "ok":
        print("faults: FAILED: integrity_check: %s" % bad_integrity)
        failed = True
    if info["unparsable ground-truth lines"]:
        print("faults: FAILED: the ground-truth file has unparsable lines")
        failed = True
    for p in problems:
        print("faults: FAILED: %s" % p)
        failed = True
    if failed:
        c.keep = True
    c.remove_dir()
    print("faults: %s" % ("FAILED" if failed else "passed, every counter 0"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
