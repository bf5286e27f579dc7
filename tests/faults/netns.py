# SPDX-License-Identifier: MIT
"""Network partitions for the fault suite: one network namespace per
program with a veth pair to the root namespace (where the broker stays),
addresses from 198.18.0.0/15, and iptables rules inside a victim's
namespace that cut, half-open or thin out its connection to the broker.
Everything a Net creates is removed by its teardown(), even on failure."""

import atexit
import fcntl
import ipaddress
import os
import re
import shutil
import subprocess
import time

# 198.18.0.0/15 is reserved for benchmarking (RFC 2544): nothing real uses
# it. A run takes one /24 of it, one /30 per namespace.
NET_BASE = ipaddress.ip_network("198.18.0.0/15")
BLOCKS = list(NET_BASE.subnets(new_prefix=24))
HOSTS_PER_BLOCK = 64
# Held while a run picks its block and creates its links, so that two runs
# at once never take the same addresses.
LOCK_PATH = "/tmp/cmdbus-netns.lock"
CMD_TIMEOUT = 10.0
# Bounds of the wait for a deleted namespace or link to be gone.
GONE_TRIES = 50
GONE_INTERVAL = 0.1

# Namespace names are cmdbus-<tag><pid>-<name>; host-end links are
# cb<tag><pid>h<index> (at most 15 characters). The pid lets a later run
# remove what a run killed outright left behind.
NS_RE = re.compile(r"^cmdbus-([a-z])(\d+)-")
LINK_RE = re.compile(r"^cb([a-z])(\d+)h\d+$")
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


def _tool(name):
    found = shutil.which(name)
    if found:
        return found
    for d in ("/usr/sbin", "/sbin"):
        cand = os.path.join(d, name)
        if os.access(cand, os.X_OK):
            return cand
    return None


IP = _tool("ip")
IPTABLES = _tool("iptables")


class NetError(Exception):
    pass


def _run(argv, check=True):
    """Runs one command (bounded in time); returns its stdout. Raises
    NetError when it fails and `check` is set."""
    try:
        r = subprocess.run([str(a) for a in argv], capture_output=True,
                           text=True, timeout=CMD_TIMEOUT,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        if check:
            raise NetError("%s: %s" % (" ".join(map(str, argv)), e))
        return ""
    if check and r.returncode != 0:
        raise NetError("%s: %s" % (" ".join(map(str, argv)),
                                   (r.stderr or r.stdout).strip()
                                   or "status %d" % r.returncode))
    return r.stdout


def _pid_alive(pid):
    return os.path.exists("/proc/%d" % pid)


def namespaces():
    """The names of every named network namespace."""
    out = _run([IP, "netns", "list"], check=False)
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def links():
    """The names of every link of the root namespace."""
    out = _run([IP, "-o", "link", "show"], check=False)
    names = set()
    for line in out.splitlines():
        parts = line.split(":")
        if len(parts) > 2:
            names.add(parts[1].strip().split("@")[0])
    return names


def _used_blocks():
    """The /24s of 198.18.0.0/15 that an address of the root namespace is
    in (another run's, or anybody's)."""
    out = _run([IP, "-o", "-4", "addr", "show"], check=False)
    used = set()
    for m in re.finditer(r"\binet (\d+\.\d+\.\d+\.\d+)/", out):
        addr = ipaddress.ip_address(m.group(1))
        if addr in NET_BASE:
            used.add(ipaddress.ip_network("%s/24" % addr, strict=False))
    return used


def sweep_stale():
    """Removes the namespaces and links of runs whose process is gone (a
    run killed with SIGKILL cannot tear down)."""
    for ns in sorted(namespaces()):
        m = NS_RE.match(ns)
        if m and not _pid_alive(int(m.group(2))):
            _run([IP, "netns", "del", ns], check=False)
    for link in sorted(links()):
        m = LINK_RE.match(link)
        if m and not _pid_alive(int(m.group(2))):
            _run([IP, "link", "del", link], check=False)


class Host:
    """One namespace: its name, the host end of its veth pair in the root
    namespace with `host_addr`, the namespace end with `ns_addr`."""

    def __init__(self, name, ns, link, host_addr, ns_addr):
        self.name = name
        self.ns = ns
        self.link = link
        self.host_addr = host_addr
        self.ns_addr = ns_addr

    @property
    def wrap(self):
        """The prefix that runs a program in this namespace. `ip netns
        exec` execs the program: same pid, same process group."""
        return [IP, "netns", "exec", self.ns]


class Net:
    """The namespaces of one run. setup(names) creates them; teardown()
    (idempotent, also run at exit) removes every namespace, link and rule
    this object created and returns what is still there."""

    def __init__(self, tag="f"):
        self.prefix = "cmdbus-%s%d" % (tag, os.getpid())
        self.link_prefix = "cb%s%d" % (tag, os.getpid())
        self.hosts = {}
        self.block = None
        self._ns = []
        self._links = []
        atexit.register(self.teardown)

    # -- set-up ---------------------------------------------------------

    def setup(self, names):
        """One namespace per name (a program: "dispatcher", a device id),
        the first one's host-end address being where the broker listens.
        On failure, whatever was created is removed and NetError raised."""
        names = list(names)
        if not IP or not IPTABLES:
            raise NetError("ip or iptables not found")
        if not 0 < len(names) <= HOSTS_PER_BLOCK:
            raise NetError("between 1 and %d namespaces" % HOSTS_PER_BLOCK)
        try:
            try:
                lock = open(LOCK_PATH, "a")
            except OSError as e:
                raise NetError("cannot open %s: %s" % (LOCK_PATH, e))
            with lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                sweep_stale()
                self.block = self._free_block()
                for k, name in enumerate(names):
                    self._add(k, name)
        except BaseException:
            self.teardown()
            raise
        return self

    def _free_block(self):
        used = _used_blocks()
        start = os.getpid() % len(BLOCKS)
        for i in range(len(BLOCKS)):
            block = BLOCKS[(start + i) % len(BLOCKS)]
            if block not in used:
                return block
        raise NetError("no free /24 left in %s" % NET_BASE)

    def _add(self, k, name):
        if not NAME_RE.match(name) or name in self.hosts:
            raise NetError("bad or repeated namespace name %r" % name)
        base = self.block.network_address + 4 * k
        host_addr, ns_addr = str(base + 1), str(base + 2)
        ns = "%s-%s" % (self.prefix, name)
        link = "%sh%d" % (self.link_prefix, k)
        # Recorded before they exist: a half-made pair is removed too.
        self._ns.append(ns)
        self._links.append(link)
        _run([IP, "netns", "add", ns])
        _run([IP, "link", "add", link, "type", "veth", "peer", "name",
              "veth0", "netns", ns])
        _run([IP, "addr", "add", host_addr + "/30", "dev", link])
        _run([IP, "link", "set", link, "up"])
        _run([IP, "-n", ns, "addr", "add", ns_addr + "/30", "dev", "veth0"])
        _run([IP, "-n", ns, "link", "set", "veth0", "up"])
        _run([IP, "-n", ns, "link", "set", "lo", "up"])
        # A route to the run's own /24 only, not a default route: even on
        # a machine that forwards, nothing leaves for elsewhere.
        _run([IP, "-n", ns, "route", "add", str(self.block), "via",
              host_addr])
        self.hosts[name] = Host(name, ns, link, host_addr, ns_addr)

    @property
    def broker_addr(self):
        """The first namespace's host-end address: the broker's listener
        for every namespace (the root namespace answers on any of its
        addresses, whatever the link)."""
        return next(iter(self.hosts.values())).host_addr

    def attach(self, cluster, dispatcher="dispatcher"):
        """Makes a Cluster (not started) run its dispatcher and agents in
        the namespaces of their names, the broker listen on broker_addr
        too, and the harness reach the REST API through the veth."""
        d = self.hosts[dispatcher]
        cluster.dispatcher_wrap = d.wrap
        cluster.http_host = d.ns_addr
        cluster.broker_extra_hosts = [self.broker_addr]
        cluster.dispatcher_options["mqtt_host"] = self.broker_addr
        cluster.dispatcher_options["http_bind"] = d.ns_addr
        for device in cluster.devices.values():
            device.wrap = self.hosts[device.id].wrap
            device.options["mqtt_host"] = self.broker_addr

    # -- rules ----------------------------------------------------------

    def iptables(self, name, *args):
        """iptables inside one of this run's namespaces (never the root
        namespace's)."""
        return _run([IP, "netns", "exec", self.hosts[name].ns, IPTABLES] +
                    [str(a) for a in args])

    def rules(self, name):
        """The rules (not the policies) of a namespace's filter table."""
        return [r for r in self.iptables(name, "-S").splitlines()
                if r.strip() and not r.startswith("-P ")]

    def clear(self, name):
        """Flushes the chains the partitions use and checks that no rule
        is left."""
        for chain in ("INPUT", "OUTPUT"):
            self.iptables(name, "-F", chain)
        left = self.rules(name)
        if left:
            raise NetError("rules left in %s: %s" % (self.hosts[name].ns,
                                                     left))

    # -- teardown -------------------------------------------------------

    def teardown(self):
        """Removes every link and namespace this run created (deleting a
        namespace frees its veth asynchronously, so the host end is
        deleted explicitly), waits until they are gone, and returns the
        names still present (an empty list when all went)."""
        for link in self._links:
            _run([IP, "link", "del", link], check=False)
        for ns in self._ns:
            _run([IP, "netns", "del", ns], check=False)
        left = []
        for _ in range(GONE_TRIES):
            left = sorted((set(self._ns) & namespaces()) |
                          (set(self._links) & links()))
            if not left:
                break
            time.sleep(GONE_INTERVAL)
        if not left:
            self._ns, self._links = [], []
            self.hosts = {}
        return left


def available():
    """(True, "") when this machine lets the suite build partitions, else
    (False, the reason): found by creating a namespace, a veth pair and
    the kinds of iptables rules the partitions use, then removing them."""
    if not IP or not IPTABLES:
        return False, "ip or iptables not found"
    net = Net(tag="p")
    try:
        net.setup(["probe"])
        h = net.hosts["probe"]
        net.iptables("probe", "-A", "OUTPUT", "-p", "tcp", "-d",
                     h.host_addr, "-m", "statistic", "--mode", "random",
                     "--probability", "0.5", "-j", "DROP")
        net.iptables("probe", "-A", "INPUT", "-p", "tcp", "-s",
                     h.host_addr, "-j", "REJECT", "--reject-with",
                     "tcp-reset")
        net.clear("probe")
    except NetError as e:
        return False, str(e)
    finally:
        left = net.teardown()
    if left:
        return False, "could not remove %s" % left
    return True, ""


class Partitions:
    """The partition faults on a running cluster whose programs are in a
    Net's namespaces. Each method cuts, half-opens or thins out one
    program's connection to the broker (rules in its namespace, matching
    the broker's address and port only, so the harness's REST traffic
    still flows), waits, removes the rules, and returns (description,
    device id or None for the whole fleet) once connectivity is back."""

    def __init__(self, net, cluster, rng, keepalive=5.0,
                 dispatcher="dispatcher"):
        self.net = net
        self.c = cluster
        self.rng = rng
        self.keepalive = keepalive
        self.dispatcher = dispatcher

    def duration(self):
        """From 1 s to past the keepalive (the broker and the programs
        give up on a silent peer after 1.5 keepalives)."""
        return self.rng.uniform(1.0, 1.5 * self.keepalive + 2.0)

    def _specs(self, mode, probability=None):
        """The rules of a mode: (chain, arguments)."""
        out = ["-p", "tcp", "-d", self.net.broker_addr,
               "--dport", self.c.broker_port]
        inp = ["-p", "tcp", "-s", self.net.broker_addr,
               "--sport", self.c.broker_port]
        drop = ["-j", "DROP"]
        if mode == "drop":
            return [("OUTPUT", out + drop), ("INPUT", inp + drop)]
        if mode == "reject":
            # Resets are let through: each side's rule would otherwise
            # drop the reset that the other side's rule sends.
            reject = ["!", "--tcp-flags", "RST", "RST",
                      "-j", "REJECT", "--reject-with", "tcp-reset"]
            return [("OUTPUT", out + reject), ("INPUT", inp + reject)]
        if mode == "halfopen-in":
            return [("INPUT", inp + drop)]
        if mode == "halfopen-out":
            return [("OUTPUT", out + drop)]
        if mode == "loss":
            stat = ["-m", "statistic", "--mode", "random",
                    "--probability", "%.2f" % probability]
            return [("OUTPUT", out + stat + drop),
                    ("INPUT", inp + stat + drop)]
        raise ValueError(mode)

    def _cut(self, name, mode, probability=None):
        secs = self.duration()
        try:
            for chain, args in self._specs(mode, probability):
                self.net.iptables(name, "-A", chain, *args)
            time.sleep(secs)
        finally:
            self.net.clear(name)
        what = {
            "drop": "cut from the broker (DROP both ways)",
            "reject": "cut from the broker (REJECT with TCP reset)",
            "halfopen-in": "half-open: the broker's packets dropped, its "
                           "own still sent",
            "halfopen-out": "half-open: its packets to the broker dropped, "
                            "the broker's still received",
            "loss": "%d%% of packets to and from the broker lost" % (
                round(100 * (probability or 0))),
        }[mode]
        return "%s for %.1fs" % (what, secs)

    def _agent(self, modes, loss=False):
        device_id = self.rng.choice(sorted(self.c.devices))
        mode = self.rng.choice(modes)
        p = self.rng.uniform(0.2, 0.7) if loss else None
        return "agent %s %s" % (device_id, self._cut(device_id, mode, p)), \
            device_id

    def agent(self):
        return self._agent(("drop", "drop", "reject"))

    def agent_halfopen(self):
        return self._agent(("halfopen-in", "halfopen-out"))

    def agent_loss(self):
        return self._agent(("loss",), loss=True)

    def dispatcher_cut(self):
        mode = self.rng.choice(("drop", "reject", "halfopen-in",
                                "halfopen-out", "loss"))
        p = self.rng.uniform(0.2, 0.7) if mode == "loss" else None
        return "dispatcher %s" % self._cut(self.dispatcher, mode, p), None

    def run(self, kind):
        """One fault by its name in the suite."""
        return {
            "partition-agent": self.agent,
            "partition-agent-halfopen": self.agent_halfopen,
            "partition-agent-loss": self.agent_loss,
            "partition-dispatcher": self.dispatcher_cut,
        }[kind]()
