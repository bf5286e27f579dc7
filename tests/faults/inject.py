# SPDX-License-Identifier: MIT
"""The faults: the broker killed with SIGKILL (persistence on or off, or
while an agent is down) or stopped with SIGSTOP for 5 to 60 s; an agent
killed with SIGKILL, at a random moment or at a chosen point of a
command's life; the dispatcher killed with SIGKILL (its database checked
with `PRAGMA integrity_check` on a copy taken while it is down); the
dispatcher's or an agent's disk full; an agent's clock skewed. Each
injector returns when the fault has ended, that is when the victim runs
again (or has its space or its clock back)."""

import os
import shutil
import signal
import sqlite3
import tempfile
import time

RESTART_DEADLINE = 30.0

# How long a disk-full fault or a crash point may take to bite (a 507, a
# refused journal write, the agent's death), jobs being sent to make it.
BITE_DEADLINE = 30.0

# The crash points compiled into test builds of the agent, in the order of
# a command's life (edge-agent, CMDBUS_CRASHPOINTS).
CRASH_POINTS = ("received", "journaled", "running", "finished")

LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

KINDS = (
    ("broker-kill", "broker kill -9, persistence on"),
    ("broker-kill-nopersist", "broker kill -9, persistence off"),
    ("broker-stop", "broker SIGSTOP, then SIGCONT"),
    ("broker-kill-agent-down", "broker kill -9, an agent down"),
    ("agent-kill", "agent kill -9"),
    ("dispatcher-kill", "dispatcher kill -9"),
    ("agent-crashpoint", "agent killed at a chosen point"),
    ("dispatcher-disk-full", "dispatcher's disk full"),
    ("agent-disk-full", "agent's journal disk full"),
    ("agent-clock-skew", "agent's clock skewed"),
    ("partition-agent", "agent cut from the broker"),
    ("partition-agent-halfopen", "agent half-open to the broker"),
    ("partition-agent-loss", "agent's packets lost at random"),
    ("partition-dispatcher", "dispatcher cut from the broker"),
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


def _log_tail(path, offset):
    """What a log file holds past offset."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def _log_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


class Injector:
    """Injects one fault of a kind into a running cluster, its load and
    its tmpfs mounts (make_fleet); `integrity` collects the result of the
    check after each dispatcher kill, `problems` every fault that did not
    do what it must (a disk-full fault that no request felt, a skewed
    agent that ran a command)."""

    def __init__(self, cluster, rng, load, mounts, stop_secs=(),
                 down_range=(0.1, 1.0)):
        self.c = cluster
        self.rng = rng
        self.load = load
        self.mounts = mounts
        # The durations of the broker stops, in order (drawn from strata
        # of 5 to 60 s by the caller, so that a short plan covers both
        # ends); more stops than given draw from the whole range.
        self.stop_secs = list(stop_secs)
        self.down_range = down_range
        self.integrity = []
        self.problems = []
        self.crash_count = 0
        self.device = None
        # netns.Partitions, when the programs run in network namespaces.
        self.partitions = None

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
        secs = self.stop_secs.pop(0) if self.stop_secs else \
            self.rng.uniform(5.0, 60.0)
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
        result = integrity_check(self.c.dispatcher_config()["db_path"])
        self.integrity.append(result)
        self._down()
        self.c.start_dispatcher(wait=False)
        self.c.wait_healthy(timeout=RESTART_DEADLINE)
        return "dispatcher killed, restarted (integrity_check: %s)" % result

    def _agent_crashpoint(self):
        """An agent killed at a chosen point of a command's life: the crash
        point armed through the agent's CMDBUS_CRASHPOINT_FILE, commands
        sent to it until it dies there (SIGKILL, by itself), then
        restarted. The points take turns."""
        point = CRASH_POINTS[self.crash_count % len(CRASH_POINTS)]
        self.crash_count += 1
        device_id = self.rng.choice(sorted(self.c.devices))
        self.device = device_id
        dev = self.c.devices[device_id]
        arm = dev.env["CMDBUS_CRASHPOINT_FILE"]
        with open(arm, "w") as f:
            f.write(point + "\n")
        deadline = time.monotonic() + BITE_DEADLINE
        while dev.proc.alive() and time.monotonic() < deadline:
            # A run of 0.3 s, so that "running" finds one under way.
            self.load.submit(device_id, 1, ms=300)
            time.sleep(0.3)
        try:
            os.unlink(arm)
        except FileNotFoundError:
            pass
        if dev.proc.alive():
            self.problems.append(
                "crash point %s of %s: not hit within %.0fs (an agent built "
                "without CMDBUS_CRASHPOINTS?)" % (point, device_id,
                                                  BITE_DEADLINE))
            return "crash point %s of agent %s: not hit" % (point, device_id)
        status = dev.proc.popen.returncode
        dev.proc = None
        if status != -signal.SIGKILL:
            self.problems.append("crash point %s of %s: the agent exited "
                                 "with status %s, not SIGKILL" % (
                                     point, device_id, status))
        self._down()
        self.c.start_agent(device_id)
        return "agent %s killed at crash point %s, restarted" % (
            device_id, point)

    def _dispatcher_disk_full(self):
        """The dispatcher's database disk filled under load until a
        request is refused with 507, kept full for 1 to 3 s more, then
        given back; the dispatcher must recover without a restart."""
        mnt = self.mounts["dispatcher"]
        before = self.load.outcomes(507)
        mnt.fill()
        t0 = time.monotonic()
        while self.load.outcomes(507) == before and \
                time.monotonic() - t0 < BITE_DEADLINE:
            # Jobs beside the steady load, so that the write-ahead log
            # runs out of the room it already has sooner.
            self.load.submit(self.rng.choice(sorted(self.c.devices)), 2,
                             ms=0)
            time.sleep(0.1)
        bite = time.monotonic() - t0
        if self.load.outcomes(507) == before:
            self.problems.append("dispatcher disk full: no request was "
                                 "answered 507 within %.0fs" % BITE_DEADLINE)
        time.sleep(self.rng.uniform(1.0, 3.0))
        mnt.release()
        return "dispatcher's disk full, first 507 after %.1fs, %d in all" % (
            bite, self.load.outcomes(507) - before)

    def _agent_disk_full(self):
        """An agent's state disk filled until it refuses to journal a
        command (journal.write_failed in its log), kept full for 1 to 3 s
        more under load, then given back."""
        device_id = self.rng.choice(sorted(self.c.devices))
        self.device = device_id
        dev = self.c.devices[device_id]
        log = dev.proc.log_path
        offset = _log_size(log)
        mnt = self.mounts[device_id]
        mnt.fill()
        t0 = time.monotonic()
        refused = False
        while time.monotonic() - t0 < BITE_DEADLINE:
            if "journal.write_failed" in _log_tail(log, offset):
                refused = True
                break
            # The journal writes into the room it grew ahead first:
            # commands until that is used up.
            self.load.submit(device_id, 4, ms=0)
            time.sleep(0.2)
        bite = time.monotonic() - t0
        if not refused:
            self.problems.append("agent %s disk full: no journal write "
                                 "failed within %.0fs" % (device_id,
                                                          BITE_DEADLINE))
        time.sleep(self.rng.uniform(1.0, 3.0))
        mnt.release()
        return "agent %s's disk full, first refused write after %.1fs" % (
            device_id, bite)

    def _agent_clock_skew(self):
        """An agent restarted with its clock ahead of the dispatcher's by
        more than any command's TTL (every command looks expired) or
        behind by more than its allowed skew (every command looks issued
        in the future), through libfaketime. Probes sent to it must end
        EXPIRED or REJECTED and run nothing; then it gets the real clock
        back (each restart an orderly stop, not a kill)."""
        device_id = self.rng.choice(sorted(self.c.devices))
        self.device = device_id
        dev = self.c.devices[device_id]
        ahead = self.rng.random() < 0.5
        secs = self.rng.uniform(90.0, 300.0) if ahead else \
            self.rng.uniform(5.0, 300.0)
        self.c.stop_agent(device_id)
        plain = dict(dev.env)
        asan = os.environ.get("ASAN_OPTIONS", "detect_leaks=1:"
                              "halt_on_error=1:print_stacktrace=1")
        dev.env.update({
            "LD_PRELOAD": LIBFAKETIME,
            "FAKETIME": "%+ds" % (secs if ahead else -secs),
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            # libfaketime is preloaded ahead of the sanitizer's runtime.
            "ASAN_OPTIONS": asan + ":verify_asan_link_order=0",
        })
        try:
            self.c.start_agent(device_id)
        finally:
            dev.env = plain
        want = "EXPIRED" if ahead else "REJECTED"
        probes = [e for _, e in self.load.submit(device_id, 3, ms=0) if e]
        left = self.load.wait_terminal(probes, BITE_DEADLINE)
        for e in probes:
            state = self.load.terminal_state(e)
            if e in left or state != want:
                self.problems.append(
                    "agent %s with its clock %s by %.0fs: probe %s ended %s, "
                    "not %s" % (device_id, "ahead" if ahead else "behind",
                                secs, e, state, want))
        time.sleep(self.rng.uniform(0.5, 2.0))
        self.c.stop_agent(device_id)
        self.c.start_agent(device_id)
        return "agent %s's clock %s by %.0fs, %d probes refused" % (
            device_id, "ahead" if ahead else "behind", secs,
            sum(1 for e in probes if self.load.terminal_state(e) == want))

    def _partition(self, kind):
        """A partition (netns.py): ends when the rules are removed."""
        what, self.device = self.partitions.run(kind)
        return what

    def _partition_agent(self):
        return self._partition("partition-agent")

    def _partition_agent_halfopen(self):
        return self._partition("partition-agent-halfopen")

    def _partition_agent_loss(self):
        return self._partition("partition-agent-loss")

    def _partition_dispatcher(self):
        return self._partition("partition-dispatcher")
