# SPDX-License-Identifier: MIT
"""The checks of the fault suite, made once everything has stopped: the
ground-truth file (one line per start of the marking action) against the
dispatcher's database and what the load saw through the REST API. Each
counter lists the executions behind it, so that a violation can be
followed into the logs."""

import json
import sqlite3

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "CANCELED", "REJECTED",
            "EXPIRED", "LOST"}

# The action's start is stamped by the script after the agent has spawned
# it; the agent checks `exp` plus skew just before. This much is allowed
# between the two on a loaded machine.
SPAWN_ALLOWANCE_MS = 500

COUNTERS = ("lost", "run twice", "recorded twice", "run after expiry",
            "state mismatch")


def read_truth(path):
    """{token: [start_ms, ...]} and the number of lines that do not parse."""
    starts, bad = {}, 0
    with open(path, errors="replace") as f:
        for line in f:
            parts = line.split()
            if len(parts) != 3 or not parts[1].isdigit():
                bad += 1
                continue
            starts.setdefault(parts[0], []).append(int(parts[1]))
    return starts, bad


def read_db(db_path):
    """{exec id: row dict} of every execution, with its job's token."""
    con = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    try:
        rows = con.execute(
            "SELECT e.id, e.state, e.exp_at, e.finished_at, e.error_code,"
            " e.late_results, j.args FROM executions e"
            " JOIN jobs j ON j.id = e.job").fetchall()
        integrity = "; ".join(r[0] for r in con.execute(
            "PRAGMA integrity_check").fetchall())
    finally:
        con.close()
    execs = {}
    for (eid, state, exp_at, finished_at, err, late, args) in rows:
        try:
            token = json.loads(args).get("token")
        except ValueError:
            token = None
        execs[eid] = {"state": state, "exp_at": exp_at,
                      "finished_at": finished_at, "error": err,
                      "late": late, "token": token}
    return execs, integrity


def check(load, truth_path, db_path, skew_ms):
    """Returns (counters {name: [details]}, info {name: value})."""
    starts, bad_lines = read_truth(truth_path)
    execs, integrity = read_db(db_path)
    by_token = {}
    for eid, row in execs.items():
        if row["token"]:
            by_token.setdefault(row["token"], []).append(eid)
    found = {name: [] for name in COUNTERS}

    # lost: a 201 whose execution is gone or never ended.
    with load.lock:
        accepted = dict(load.accepted)
        first_terminal = dict(load.first_terminal)
        post_outcomes = dict(load.post_outcomes)
    for eid, token in sorted(accepted.items()):
        row = execs.get(eid)
        if row is None:
            found["lost"].append("%s (token %s): accepted, not in the "
                                 "database" % (eid, token))
        elif row["state"] not in TERMINAL:
            found["lost"].append("%s (token %s): still %s" % (
                eid, token, row["state"]))

    # run twice: every command of the load is non-idempotent.
    for token, times in sorted(starts.items()):
        if len(times) > 1:
            found["run twice"].append("token %s (execution %s) started %d "
                                      "times at %s" % (
                                          token, by_token.get(token),
                                          len(times), times))

    # recorded twice: the end first seen through the API changed later.
    for eid, (_, summary) in sorted(first_terminal.items()):
        row = execs.get(eid)
        now = None if row is None else (row["state"], row["finished_at"])
        if now != summary:
            found["recorded twice"].append("%s: first seen %s, now %s" % (
                eid, summary, now))

    # run after expiry, and state mismatch.
    for token, times in sorted(starts.items()):
        eids = by_token.get(token)
        if not eids:
            found["state mismatch"].append(
                "token %s ran (at %s) but no job carries it" % (token, times))
            continue
        for eid in eids:
            row = execs[eid]
            late = [t for t in times
                    if t > row["exp_at"] + skew_ms + SPAWN_ALLOWANCE_MS]
            if late:
                found["run after expiry"].append(
                    "%s (token %s): started at %s, exp %d + skew %d" % (
                        eid, token, late, row["exp_at"], skew_ms))
            if row["state"] == "SUCCEEDED" or row["state"] not in TERMINAL:
                continue  # an unfinished one counts as lost
            if row["state"] == "LOST" and row["error"] == "interrupted":
                continue
            found["state mismatch"].append(
                "%s (token %s): ran at %s, state %s (%s)" % (
                    eid, token, times, row["state"], row["error"]))
    for eid, row in sorted(execs.items()):
        if row["state"] == "SUCCEEDED" and row["token"] not in starts:
            found["state mismatch"].append(
                "%s (token %s): SUCCEEDED, never ran" % (eid, row["token"]))

    states = {}
    for eid in accepted:
        st = execs.get(eid, {}).get("state", "missing")
        states[st] = states.get(st, 0) + 1
    info = {
        "jobs submitted": sum(post_outcomes.values()),
        "POST outcomes": post_outcomes,
        "accepted (201)": len(accepted),
        "executions in the database": len(execs),
        "runs in the ground truth": sum(len(t) for t in starts.values()),
        "unparsable ground-truth lines": bad_lines,
        "final states of the 201s": states,
        "late or duplicate results (counted, harmless)": sum(
            r["late"] for r in execs.values()),
        "integrity_check at the end": integrity,
    }
    return found, info
