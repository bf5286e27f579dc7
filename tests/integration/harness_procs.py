# SPDX-License-Identifier: MIT
"""Child processes for the integration tests: where the programs are,
free ports, polling with a deadline, and Proc, which runs one program in
its own process group and judges how it stopped (exit status, kill,
sanitizer report)."""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

# Lines that mean a sanitizer found something; UBSan's own reports start
# with "file:line:col: runtime error:".
SANITIZER_MARKERS = (
    "AddressSanitizer",
    "LeakSanitizer",
    "UndefinedBehaviorSanitizer",
    "runtime error:",
)

# Deadlines, in seconds. Generous: the programs run under ASan on a small
# shared machine. Nothing waits for a fixed time; these only bound polls.
START_DEADLINE = 30.0
STOP_DEADLINE = 20.0
RESULT_DEADLINE = 30.0
POLL_INTERVAL = 0.05


def _tool(env_name, name, extra_dirs=("/usr/sbin", "/sbin")):
    """The path of a program: $env_name, else PATH, else the sbin dirs."""
    path = os.environ.get(env_name)
    if path:
        return path
    found = shutil.which(name)
    if found:
        return found
    for d in extra_dirs:
        cand = os.path.join(d, name)
        if os.access(cand, os.X_OK):
            return cand
    return None


MOSQUITTO = _tool("MOSQUITTO", "mosquitto")
MOSQUITTO_PASSWD = _tool("MOSQUITTO_PASSWD", "mosquitto_passwd")
MOSQUITTO_SUB = _tool("MOSQUITTO_SUB", "mosquitto_sub")
MOSQUITTO_PUB = _tool("MOSQUITTO_PUB", "mosquitto_pub")


def dispatcher_path():
    return os.environ.get("CMDBUS_DISPATCHER")


def agent_path():
    return os.environ.get("CMDBUS_AGENT")


def free_port():
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_accepts(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def pid_alive(pid):
    """Whether a process exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def wait_until(pred, timeout, what, interval=POLL_INTERVAL):
    """Polls pred() until it returns a true value, which is returned; raises
    AssertionError naming `what` when the deadline passes first."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(
                "timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


# Children die with the harness even when it is killed outright (a ctest
# timeout): the kernel sends them SIGKILL when their parent goes away.
try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - non-glibc systems
    _libc = None
_PR_SET_PDEATHSIG = 1


def _child_setup():
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _sanitizer_env(env):
    """Sanitizer settings that make every finding fatal and visible, unless
    the caller chose its own."""
    env.setdefault("ASAN_OPTIONS",
                   "detect_leaks=1:halt_on_error=1:print_stacktrace=1")
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    env.setdefault("LSAN_OPTIONS", "exitcode=23")
    return env


class Proc:
    """One child process in its own process group, its stdout and stderr
    kept in a log file."""

    def __init__(self, name, argv, log_path, env=None, expect_clean=True):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.expect_clean = expect_clean
        self.env = _sanitizer_env(dict(os.environ if env is None else env))
        self.popen = None
        self.returncode = None

    def start(self):
        # Append: a restarted program keeps one log across its lives.
        with open(self.log_path, "ab") as log:
            log.write(("=== start %s: %s\n" % (
                time.strftime("%H:%M:%S"), " ".join(self.argv))).encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=self.env,
                start_new_session=True, preexec_fn=_child_setup)
        self.returncode = None
        return self

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def exited(self):
        """True once the process has exited (it is reaped here)."""
        return self.popen is not None and self.popen.poll() is not None

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def _signal_group(self, sig):
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, deadline=STOP_DEADLINE):
        """SIGTERM to the process group, SIGKILL after the deadline. Returns
        a list of problems: a non-zero exit status, a kill, or a sanitizer
        report in the log."""
        if self.popen is None:
            return []
        problems = []
        if self.popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=deadline)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.popen.wait()
                problems.append("%s did not exit within %.0fs of SIGTERM "
                                "and was killed" % (self.name, deadline))
        else:
            problems.append("%s had already exited (status %s) before it "
                            "was asked to stop" % (self.name,
                                                   self.popen.returncode))
        self.returncode = self.popen.returncode
        self.popen = None
        if self.expect_clean and self.returncode != 0 and not problems:
            problems.append("%s exited with status %s after SIGTERM "
                            "(expected 0)" % (self.name, self.returncode))
        problems.extend(self.sanitizer_findings())
        return problems

    def kill(self):
        """SIGKILL without judging: for emergencies and atexit."""
        if self.popen is not None:
            self._signal_group(signal.SIGKILL)
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.popen = None

    def sanitizer_findings(self):
        text = self.log_text()
        for marker in SANITIZER_MARKERS:
            if marker in text:
                return ["%s printed a sanitizer report (%r) in %s" % (
                    self.name, marker, self.log_path)]
        return []
