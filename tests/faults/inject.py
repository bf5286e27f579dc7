# SPDX-License-Identifier: MIT
"""The faults: the broker killed with SIGKILL (persistence on or off, or
while an agent is down) or stopped with SIGSTOP for a few seconds; an
agent killed with SIGKILL; the dispatcher killed with SIGKILL (its
database checked with `PRAGMA integrity_check` on a copy taken while it
is down). Each injector returns when the fault has ended, that is when
the victim runs again."""

import os
import shutil
import signal
import sqlite3
import tempfile
import time

RESTART_DEADLINE = 30.0

KINDS = (
    ("broker-kill", "broker kill -9, persistence on"),
    ("broker-kill-nopersist", "broker kill -9, persistence off"),
    ("broker-stop", "broker SIGSTOP, then SIGCONT"),
    ("broker-kill-agent-down", "broker kill -9, an agent down"),
    ("agent-kill", "agent kill -9"),
    ("dispatcher-kill", "dispatcher kill -9"),
)


def integrity_check(db_path):
    """`PRAGMA integrity_check` of a copy of the database and its WAL (the
    copy, so that the check's own recovery and checkpoint do not change
    what the restarted dispatcher finds). Returns "ok" or the problems."""
    tmp = tempfile.mkdtemp(prefix="cmdbus-faults-db-")
    try:
        copy = os.path.join(tmp, "copy.db")
        shutil.copyfile(db_path, copy)
        wal = str(db_path) + "-wal"
        if os.path.exists(wal):
            shutil.copyfile(wal, copy + "-wal")
        con = sqlite3.connect(copy)
        try:
            rows = con.execute("PRAGMA integrity_check").fetchall()
        finally:
            con.close()
        text = "; ".join(str(r[0]) for r in rows)
        return text
    except (OSError, sqlite3.Error) as e:
        return "cannot check: %s" % e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class Injector:
    """Injects one fault of a kind into a running cluster; `integrity`
    collects the result of the check after each dispatcher kill."""

    def __init__(self, cluster, rng, stop_range=(2.0, 8.0),
                 down_range=(0.1, 1.5)):
        self.c = cluster
        self.rng = rng
        self.stop_range = stop_range
        self.down_range = down_range
        self.integrity = []
        self.device = None

    def _set_persistence(self, on):
        conf = self.c.dir / "mosquitto.conf"
        text = conf.read_text()
        want = "persistence %s" % ("true" if on else "false")
        lines = [want if line.startswith("persistence ") else line
                 for line in text.splitlines()]
        conf.write_text("\n".join(lines) + "\n")

    def _down(self):
        time.sleep(self.rng.uniform(*self.down_range))

    def inject(self, kind):
        """Runs one fault; returns a short description of it and the
        device it was confined to (None: the whole fleet)."""
        self.device = None
        what = getattr(self, "_" + kind.replace("-", "_"))()
        return what, self.device

    def _broker_kill(self, persist=True):
        self.c.broker.kill()
        self.c.broker = None
        self._down()
        self._set_persistence(persist)
        self.c.start_broker()
        return "broker killed, restarted (persistence %s)" % (
            "on" if persist else "off")

    def _broker_kill_nopersist(self):
        return self._broker_kill(persist=False)

    def _broker_stop(self):
        secs = self.rng.uniform(*self.stop_range)
        pid = self.c.broker.popen.pid
        os.killpg(pid, signal.SIGSTOP)
        time.sleep(secs)
        os.killpg(pid, signal.SIGCONT)
        return "broker stopped for %.1fs" % secs

    def _broker_kill_agent_down(self):
        """The broker killed while an agent is down with commands queued
        for it in its session; the agent comes back after the broker."""
        device_id = self.rng.choice(sorted(self.c.devices))
        dev = self.c.devices[device_id]
        dev.proc.kill()
        dev.proc = None
        time.sleep(self.rng.uniform(0.5, 2.0))
        persist = self.rng.random() < 0.5
        self.c.broker.kill()
        self.c.broker = None
        self._down()
        self._set_persistence(persist)
        self.c.start_broker()
        self._down()
        self.c.start_agent(device_id)
        return "agent %s killed, then the broker, restarted (persistence " \
            "%s), then the agent" % (device_id, "on" if persist else "off")

    def _agent_kill(self):
        device_id = self.rng.choice(sorted(self.c.devices))
        self.device = device_id
        dev = self.c.devices[device_id]
        dev.proc.kill()
        dev.proc = None
        self._down()
        self.c.start_agent(device_id)
        return "agent %s killed, restarted" % device_id

    def _dispatcher_kill(self):
        self.c.dispatcher.kill()
        self.c.dispatcher = None
        result = integrity_check(self.c.dir / "dispatcher.db")
        self.integrity.append(result)
        self._down()
        self.c.start_dispatcher(wait=False)
        self.c.wait_healthy(timeout=RESTART_DEADLINE)
        return "dispatcher killed, restarted (integrity_check: %s)" % result
