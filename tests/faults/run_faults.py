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

import mounts  # noqa: E402
import netns  # noqa: E402
from checks import COUNTERS, check  # noqa: E402
from inject import KINDS, LIBFAKETIME, Injector  # noqa: E402
from load import (CLOCK_SKEW_MS, DISPATCHER_FAST, Load,  # noqa: E402
                  make_fleet)

QUIESCE_DEADLINE = 90.0

# Faults of each kind: --quick, and the full run. Agent kills at a chosen
# point take the four points in turn.
PLANS = {
    "quick": {"broker-kill": 10, "broker-kill-nopersist": 10,
              "broker-stop": 2, "broker-kill-agent-down": 4,
              "agent-kill": 20, "agent-crashpoint": 4,
              "dispatcher-kill": 20, "dispatcher-disk-full": 1,
              "agent-disk-full": 1, "agent-clock-skew": 2,
              "partition-agent": 3, "partition-agent-halfopen": 3,
              "partition-agent-loss": 2, "partition-dispatcher": 3},
    "full": {"broker-kill": 90, "broker-kill-nopersist": 90,
             "broker-stop": 8, "broker-kill-agent-down": 20,
             "agent-kill": 180, "agent-crashpoint": 20,
             "dispatcher-kill": 200, "dispatcher-disk-full": 5,
             "agent-disk-full": 5, "agent-clock-skew": 6,
             "partition-agent": 25, "partition-agent-halfopen": 25,
             "partition-agent-loss": 25, "partition-dispatcher": 25},
}

# Kinds that need what a machine may not allow, and why they are skipped.
DISK_KINDS = ("dispatcher-disk-full", "agent-disk-full")
# With any of these planned, every program runs in a network namespace
# of its own (netns.py).
PARTITION_KINDS = ("partition-agent", "partition-agent-halfopen",
                   "partition-agent-loss", "partition-dispatcher")


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
    p.add_argument("--only", metavar="KIND[,KIND]",
                   help="run only these kinds of the plan (as many of "
                   "each as it says)")
    args = p.parse_args(argv)
    if args.only is not None:
        args.only = [k.strip() for k in args.only.split(",") if k.strip()]
        unknown = [k for k in args.only if k not in dict(KINDS)]
        if unknown or not args.only:
            p.error("--only: unknown kind %s (kinds: %s)" % (
                ", ".join(unknown) or "(none given)",
                ", ".join(k for k, _ in KINDS)))
    return args


def schedule(plan, scale, rng, skipped=()):
    order = []
    for kind, n in plan.items():
        if kind not in skipped:
            order += [kind] * max(1, int(round(n * scale)))
    rng.shuffle(order)
    return order


def stop_durations(n, rng, low=5.0, high=60.0):
    """n broker-stop durations, one from each of n equal strata of
    [low, high], in random order: even two stops cover both ends."""
    step = (high - low) / max(n, 1)
    secs = [rng.uniform(low + i * step, low + (i + 1) * step)
            for i in range(n)]
    rng.shuffle(secs)
    return secs


def agent_has_crashpoints(path):
    """Whether the agent was built with CMDBUS_CRASHPOINTS (its crash
    point log key is in the binary)."""
    try:
        return b"crashpoint.hit" in Path(path).read_bytes()
    except OSError:
        return False


def find_skips(agent):
    """{kind: why} of the kinds this machine or build cannot run."""
    skips = {}
    ok, why = mounts.available()
    if not ok:
        for kind in DISK_KINDS:
            skips[kind] = why
    if not os.path.exists(LIBFAKETIME):
        skips["agent-clock-skew"] = "%s not found (Debian package " \
            "libfaketime)" % LIBFAKETIME
    if not agent_has_crashpoints(agent):
        skips["agent-crashpoint"] = "the agent was built without " \
            "CMDBUS_CRASHPOINTS"
    ok, why = netns.available()
    if not ok:
        for kind in PARTITION_KINDS:
            skips[kind] = why
    return skips


def fmt_secs(values):
    if not values:
        return "-", "-"
    return ("%.1f" % statistics.median(values), "%.1f" % max(values))


def print_table(kinds_done, recoveries, affected, found, info, elapsed,
                skips=None, out=sys.stdout):
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
    for kind, why in sorted((skips or {}).items()):
        out.write("%-34s  skipped: %s\n" % (names.get(kind, kind), why))
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


def unmount(mnts, save_under):
    """Unmounts the tmpfs mounts, first copying what they hold into
    save_under (the run's directory, when it is kept)."""
    for name, m in mnts.items():
        m.unmount(save_to=None if save_under is None else
                  Path(save_under) / ("saved-" + name))


def main(argv):
    args = parse_args(argv)
    build = Path(args.build).resolve()
    os.environ["CMDBUS_DISPATCHER"] = str(build / "dispatcher" /
                                          "cmdbus-dispatcher")
    os.environ["CMDBUS_AGENT"] = str(build / "edge-agent" / "cmdbus-agent")
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    plan = PLANS["quick" if args.quick else "full"]
    if args.only:
        plan = {k: n for k, n in plan.items() if k in args.only}
    skips = {k: why for k, why in find_skips(
        os.environ["CMDBUS_AGENT"]).items() if k in plan}
    for kind, why in sorted(skips.items()):
        print("faults: %s skipped: %s" % (kind, why), flush=True)
    order = schedule(plan, args.scale, rng, skips)
    print("faults: %d faults (%s), %d agents, seed %d" % (
        len(order), ", ".join("%s %d" % (k, order.count(k)) for k in plan
                              if k not in skips),
        args.agents, seed), flush=True)

    t_start = time.monotonic()
    c, truth, mnts = make_fleet(
        args.agents, tmpfs=not any(k in skips for k in DISK_KINDS))
    c.keep = args.keep
    for d in c.devices.values():
        d.env["CMDBUS_CRASHPOINT_FILE"] = str(c.dir / ("crash-" + d.id))
    load = Load(c, rate=args.rate, seed=rng.randrange(1 << 30))
    inj = Injector(c, rng, load, mnts,
                   stop_secs=stop_durations(order.count("broker-stop"), rng))
    net = None
    if any(k in PARTITION_KINDS for k in order):
        net = netns.Net()
        inj.partitions = netns.Partitions(
            net, c, rng,
            keepalive=float(DISPATCHER_FAST["mqtt_keepalive"].rstrip("s")))
    kinds_done, ends = {}, []
    problems = []
    try:
        if net is not None:
            net.setup(["dispatcher"] + sorted(c.devices))
            net.attach(c)
        c.start()
        load.start()
        for i, kind in enumerate(order):
            # A random moment under load.
            time.sleep(rng.uniform(0.2, 1.0))
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
        if net is not None:
            left = net.teardown()
            if left:
                problems.append("network namespaces or links left: %s" %
                                left)
        found, info = check(load, truth, c.dispatcher_config()["db_path"],
                            CLOCK_SKEW_MS)
    except BaseException:
        load.stop()
        c.kill_all()
        if net is not None:
            net.teardown()
        c.keep = True
        unmount(mnts, c.dir)
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
                time.monotonic() - t_start, skips)

    failed = any(found[name] for name in COUNTERS)
    if bad_integrity or info["integrity_check at the end"] != "ok":
        print("faults: FAILED: integrity_check: %s" % bad_integrity)
        failed = True
    if info["unparsable ground-truth lines"]:
        print("faults: FAILED: the ground-truth file has unparsable lines")
        failed = True
    for p in problems + inj.problems:
        print("faults: FAILED: %s" % p)
        failed = True
    if failed:
        c.keep = True
    unmount(mnts, c.dir if c.keep else None)
    c.remove_dir()
    print("faults: %s" % ("FAILED" if failed else "passed, every counter 0"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
