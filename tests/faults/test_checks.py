# SPDX-License-Identifier: MIT
"""The fault suite's checks on made-up evidence: a database, a
ground-truth file and what the load saw, with one violation of each kind,
so that every counter is shown to count (and a clean run to count none).
Runs without any program: `python3 tests/faults/test_checks.py`."""

import shutil
import sqlite3
import sys
import tempfile
import threading
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from checks import check  # noqa: E402

SKEW = 1000
EXP = 2_000_000


class FakeLoad:
    def __init__(self):
        self.lock = threading.Lock()
        self.accepted = {}
        self.first_terminal = {}
        self.post_outcomes = {"201": 0}


class Checks(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="cmdbus-faults-test-"))
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.db = self.dir / "d.db"
        con = sqlite3.connect(self.db)
        con.executescript(
            "CREATE TABLE jobs (id TEXT PRIMARY KEY, args TEXT);"
            "CREATE TABLE executions (id TEXT PRIMARY KEY, job TEXT,"
            " state TEXT, exp_at INTEGER, finished_at INTEGER,"
            " error_code TEXT, late_results INTEGER);")
        con.commit()
        con.close()
        self.truth = self.dir / "truth"
        self.truth.write_text("")
        self.load = FakeLoad()

    def add(self, eid, state, starts=(), error=None, accepted=True,
            seen=None, finished_at=5):
        token = "tok-" + eid
        con = sqlite3.connect(self.db)
        con.execute("INSERT INTO jobs VALUES (?, ?)",
                    ("job-" + eid, '{"token":"%s","ms":"0"}' % token))
        con.execute("INSERT INTO executions VALUES (?,?,?,?,?,?,0)",
                    (eid, "job-" + eid, state, EXP, finished_at, error))
        con.commit()
        con.close()
        with open(self.truth, "a") as f:
            for t in starts:
                f.write("%s %d 42\n" % (token, t))
        if accepted:
            self.load.accepted[eid] = token
        if seen is not None:
            self.load.first_terminal[eid] = (0.0, seen)

    def counts(self):
        found, _ = check(self.load, self.truth, self.db, SKEW)
        return {k: len(v) for k, v in found.items() if v}

    def test_clean(self):
        self.add("e1", "SUCCEEDED", [EXP - 10], seen=("SUCCEEDED", 5))
        self.add("e2", "LOST", [EXP - 10], error="interrupted")
        self.add("e3", "EXPIRED")
        self.add("e4", "LOST", error="interrupted")
        self.assertEqual(self.counts(), {})

    def test_lost(self):
        self.add("e1", "RUNNING", [EXP - 10])
        self.load.accepted["gone"] = "tok-gone"
        self.assertEqual(self.counts(), {"lost": 2})

    def test_run_twice(self):
        self.add("e1", "SUCCEEDED", [EXP - 10, EXP - 5])
        self.assertEqual(self.counts(), {"run twice": 1})

    def test_recorded_twice(self):
        self.add("e1", "SUCCEEDED", [EXP - 10], seen=("LOST", 4))
        self.add("e2", "SUCCEEDED", [EXP - 10], seen=("SUCCEEDED", 4))
        self.assertEqual(self.counts(), {"recorded twice": 2})

    def test_run_after_expiry(self):
        self.add("e1", "SUCCEEDED", [EXP + SKEW + 5000])
        self.assertEqual(self.counts(), {"run after expiry": 1})

    def test_state_mismatch(self):
        self.add("e1", "SUCCEEDED")
        self.add("e2", "EXPIRED", [EXP - 10])
        self.add("e3", "LOST", [EXP - 10], error="expired")
        with open(self.truth, "a") as f:
            f.write("tok-nobody 5 42\n")
        self.assertEqual(self.counts(), {"state mismatch": 4})


if __name__ == "__main__":
    unittest.main()
