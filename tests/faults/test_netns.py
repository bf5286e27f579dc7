# SPDX-License-Identifier: MIT
"""The fault suite's network namespaces (tests/faults/netns.py) on their
own: a connection from one namespace to a listener on another's host-end
address, cut by a rule and restored, and a teardown that leaves nothing.
Skipped, with the reason, where the machine does not allow namespaces."""

import random
import socket
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

import netns  # noqa: E402
from harness_cluster import Cluster, Device  # noqa: E402

# A client in a namespace: "ok", or the name of the error.
CLIENT = """import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=%s)
    print("ok")
except OSError as e:
    print(type(e).__name__)
"""
CONNECT_TIMEOUT = 0.7

# A client in a namespace that holds its connection open until killed.
HOLDER = """import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
print("connected")
s.settimeout(None)
while s.recv(100):
    pass
"""


def setUpModule():
    ok, why = netns.available()
    if not ok:
        sys.stderr.write("partitions skipped: %s\n" % why)
        raise unittest.SkipTest("partitions skipped: %s" % why)


class NetnsTest(unittest.TestCase):
    def setUp(self):
        self.net = netns.Net(tag="t")
        self.addCleanup(self.net.teardown)
        self.net.setup(["a", "b"])
        self.listener = socket.socket()
        self.addCleanup(self.listener.close)
        self.listener.bind((self.net.broker_addr, 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]

    def connect(self, name):
        """Connects from a namespace to the listener; returns "ok" or the
        error's name."""
        r = subprocess.run(
            self.net.hosts[name].wrap +
            [sys.executable, "-c", CLIENT % CONNECT_TIMEOUT,
             self.net.broker_addr, str(self.port)],
            capture_output=True, text=True, timeout=10)
        return r.stdout.strip() or r.stderr.strip()

    def test_addresses(self):
        a, b = self.net.hosts["a"], self.net.hosts["b"]
        for h in (a, b):
            self.assertIn(netns.ipaddress.ip_address(h.host_addr),
                          netns.NET_BASE)
        self.assertEqual(self.net.broker_addr, a.host_addr)
        num = [int(netns.ipaddress.ip_address(x)) for x in (
            a.host_addr, a.ns_addr, b.host_addr, b.ns_addr)]
        self.assertEqual(num[0] % 4, 1)
        self.assertEqual([n - num[0] for n in num], [0, 1, 4, 5])

    def test_cut_and_restore(self):
        # From b, through its own veth, to the listener on a's host end.
        self.assertEqual(self.connect("b"), "ok")
        self.net.iptables("b", "-A", "OUTPUT", "-p", "tcp", "-d",
                          self.net.broker_addr, "--dport", self.port,
                          "-j", "DROP")
        self.assertEqual(self.connect("b"), "TimeoutError")
        self.assertEqual(self.connect("a"), "ok")  # a has no rule
        self.net.clear("b")
        self.assertEqual(self.net.rules("b"), [])
        self.assertEqual(self.connect("b"), "ok")
        self.net.iptables("b", "-A", "OUTPUT", "-p", "tcp", "-d",
                          self.net.broker_addr, "--dport", self.port,
                          "-j", "REJECT", "--reject-with", "tcp-reset")
        self.assertEqual(self.connect("b"), "ConnectionRefusedError")
        self.net.clear("b")
        self.assertEqual(self.connect("b"), "ok")

    def test_partition_rules_removed(self):
        c = Cluster([Device("dev-1")])
        self.addCleanup(c.remove_dir)
        c.broker_port = self.port
        p = netns.Partitions(self.net, c, random.Random(1), keepalive=0.0)
        p.duration = lambda: 0.0
        for mode in ("drop", "reject", "halfopen-in", "halfopen-out",
                     "loss"):
            self.net.hosts["dev-1"] = self.net.hosts["b"]
            what, device = p._agent((mode,), loss=mode == "loss")
            self.assertEqual(device, "dev-1")
            self.assertIn("agent dev-1", what)
            self.assertEqual(self.net.rules("b"), [], mode)
        self.assertEqual(self.connect("b"), "ok")

    def test_reject_resets_an_open_connection(self):
        # The partitions' REJECT rules both ways must reset a connection
        # that is already open, not only refuse new ones.
        client = subprocess.Popen(
            self.net.hosts["b"].wrap +
            [sys.executable, "-u", "-c", HOLDER, self.net.broker_addr,
             str(self.port)], stdout=subprocess.PIPE, text=True)
        self.addCleanup(client.wait, 10)
        self.addCleanup(client.kill)
        self.listener.settimeout(5)
        conn, _ = self.listener.accept()
        self.addCleanup(conn.close)
        conn.settimeout(5)
        self.assertEqual(client.stdout.readline().strip(), "connected")
        c = Cluster([Device("dev-1")])
        self.addCleanup(c.remove_dir)
        c.broker_port = self.port
        p = netns.Partitions(self.net, c, random.Random(1))
        for chain, args in p._specs("reject"):
            self.net.iptables("b", "-A", chain, *args)
        with self.assertRaises(ConnectionResetError):
            for _ in range(20):
                conn.send(b"x")
                conn.recv(1)
        self.net.clear("b")

    def test_attach(self):
        c = Cluster([Device("dev-1")])
        self.addCleanup(c.remove_dir)
        self.net.hosts["dispatcher"] = self.net.hosts["a"]
        self.net.hosts["dev-1"] = self.net.hosts["b"]
        self.net.attach(c)
        self.assertEqual(c.dispatcher_wrap[-1], self.net.hosts["a"].ns)
        self.assertEqual(c.devices["dev-1"].wrap[-1],
                         self.net.hosts["b"].ns)
        self.assertEqual(c.http_host, self.net.hosts["a"].ns_addr)
        self.assertEqual(c.broker_extra_hosts, [self.net.broker_addr])
        self.assertEqual(c.devices["dev-1"].options["mqtt_host"],
                         self.net.broker_addr)

    def test_teardown_leaves_nothing(self):
        created = [h.ns for h in self.net.hosts.values()]
        linked = [h.link for h in self.net.hosts.values()]
        self.assertTrue(set(created) <= netns.namespaces())
        self.assertTrue(set(linked) <= netns.links())
        self.assertEqual(self.net.teardown(), [])
        self.assertEqual(self.net.teardown(), [])  # idempotent
        self.assertFalse(set(created) & netns.namespaces())
        self.assertFalse(set(linked) & netns.links())
        self.assertFalse(any(h.startswith(self.net.prefix)
                             for h in netns.namespaces()))

    def test_stale_swept(self):
        # A namespace and a link named after a process that is gone.
        dead = subprocess.Popen(["true"])
        dead.wait()
        ns = "cmdbus-t%d-stale" % dead.pid
        link = "cbt%dh0" % dead.pid
        try:
            netns._run([netns.IP, "netns", "add", ns])
            netns._run([netns.IP, "link", "add", link, "type", "veth",
                        "peer", "name", "veth0", "netns", ns])
            netns.sweep_stale()
            self.assertNotIn(ns, netns.namespaces())
            self.assertNotIn(link, netns.links())
        finally:
            netns._run([netns.IP, "link", "del", link], check=False)
            netns._run([netns.IP, "netns", "del", ns], check=False)


if __name__ == "__main__":
    unittest.main()
