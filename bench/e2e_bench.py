# SPDX-License-Identifier: MIT
"""Results through a real broker into a real dispatcher: N executions are
created on D simulated devices (each a plain MQTT 3.1.1 client in this
process), their commands collected, then every device publishes all its
results at once (QoS 1) and the time until the dispatcher has recorded
them all is measured. Prints results recorded per second.

    python3 bench/e2e_bench.py --dispatcher BUILD/dispatcher/cmdbus-dispatcher
        [-n 2000] [-d 2]
"""

import argparse
import hashlib
import json
import os
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] /
                       "tests" / "integration"))


def _varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _str(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


class Client:
    """The least of MQTT 3.1.1 a device needs: connect, subscribe, receive
    QoS 1 publishes (acknowledged), publish QoS 1."""

    def __init__(self, port, user, password):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.mid = 0
        payload = _str("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", 60)
        payload += _str(user) + _str(user) + _str(password)
        self._send(0x10, payload)
        kind, body = self.read()
        assert kind == 0x20 and body[1] == 0, "CONNACK refused"

    def _send(self, first, body):
        self.sock.sendall(bytes([first]) + _varint(len(body)) + body)

    def read(self):
        while True:
            if len(self.buf) >= 2:
                mult, n, i = 1, 0, 1
                while i < len(self.buf):
                    b = self.buf[i]
                    n += (b & 127) * mult
                    mult *= 128
                    i += 1
                    if not b & 128:
                        break
                else:
                    i = None
                if i is not None and len(self.buf) >= i + n:
                    pkt = self.buf[:i + n]
                    self.buf = self.buf[i + n:]
                    return pkt[0], pkt[i:]
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("broker closed the connection")
            self.buf += chunk

    def subscribe(self, topic):
        self.mid += 1
        self._send(0x82, struct.pack("!H", self.mid) + _str(topic) +
                   bytes([1]))
        kind, _ = self.read()
        assert kind == 0x90

    def publish(self, topic, payload, qos=1, retain=False):
        self.mid = self.mid % 65535 + 1
        body = _str(topic)
        if qos:
            body += struct.pack("!H", self.mid)
        self._send(0x30 | (qos << 1) | (1 if retain else 0),
                   body + payload.encode())

    def next_publish(self):
        """The next PUBLISH (topic, payload), acknowledged; other packets
        (PUBACKs of our own) are skipped and counted."""
        while True:
            kind, body = self.read()
            if kind & 0xF0 == 0x40:
                continue
            if kind & 0xF0 != 0x30:
                continue
            tlen = struct.unpack("!H", body[:2])[0]
            topic = body[2:2 + tlen].decode()
            rest = body[2 + tlen:]
            if (kind >> 1) & 3:
                mid = rest[:2]
                rest = rest[2:]
                self._send(0x40, mid)
            return topic, rest.decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dispatcher", required=True)
    ap.add_argument("-n", type=int, default=2000, help="executions")
    ap.add_argument("-d", type=int, default=2, help="devices")
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    os.environ["CMDBUS_DISPATCHER"] = args.dispatcher
    import harness

    devices = [harness.Device("bench-%d" % i) for i in range(args.d)]
    per_dev = args.n // args.d
    c = harness.Cluster(devices)
    c.dispatcher_options["log_level"] = "warn"
    # Options of this version only (the bench also measures older ones).
    helptext = subprocess.run([args.dispatcher, "--help"],
                              stdout=subprocess.PIPE, text=True).stdout
    if "--outbox_window" in helptext:
        c.dispatcher_options.update({"outbox_window": min(per_dev, 1000),
                                     "retry_initial": "1h",
                                     "retry_max": "1h"})
    try:
        c.start_broker()
        c.start_dispatcher()
        clients = []
        for d in devices:
            cl = Client(c.broker_port, d.id, d.password)
            cl.subscribe("%s/%s/cmd" % (harness.PREFIX, d.id))
            boot = "01JD3BENCH%016d" % len(clients)
            status = {"type": "status", "device": d.id, "online": True,
                      "boot_id": boot, "agent": "bench/1",
                      "at": int(time.time() * 1000)}
            cl.publish("%s/%s/status" % (harness.PREFIX, d.id),
                       harness.envelope(status), retain=True)
            clients.append((cl, d.id, boot))
        c.wait_online([d.id for d in devices])
        ids = [d.id for d in devices]
        # Collect every command while the jobs are created.
        cmds = {}

        def collect(cl, dev):
            got = []
            while len(got) < per_dev:
                _, env = cl.next_publish()
                payload = json.loads(env)["payload"]
                got.append(payload)
            cmds[dev] = got
        threads = [threading.Thread(target=collect, args=(cl, dev))
                   for cl, dev, _ in clients]
        for t in threads:
            t.start()
        for _ in range(per_dev):
            c.submit("ping", ids)
        for t in threads:
            t.join(120)
        results = {}
        now = int(time.time() * 1000)
        for cl, dev, boot in clients:
            out = []
            for p in cmds[dev]:
                cmd = json.loads(p)
                res = {"type": "result", "id": cmd["id"], "device": dev,
                       "boot_id": boot, "state": "SUCCEEDED",
                       "cmd_sha256": hashlib.sha256(p.encode()).hexdigest(),
                       "exit_code": 0, "stdout": "pong", "stderr": "",
                       "stdout_truncated": False, "stderr_truncated": False,
                       "stdout_bytes": 4, "stderr_bytes": 0,
                       "started_at": now, "finished_at": now}
                out.append(harness.envelope(res))
            results[dev] = out
        # Progress is read from the database itself (WAL: a reader never
        # blocks the dispatcher), which every version has.
        db = sqlite3.connect("file:%s?mode=ro" % (c.dir / "dispatcher.db"),
                             uri=True)

        def recorded():
            return db.execute("SELECT count(*) FROM executions WHERE "
                              "state = 'SUCCEEDED'").fetchone()[0]
        t0 = time.monotonic()

        # Published round robin, at most `window` ahead of what is
        # recorded, so that the broker's queue towards the dispatcher
        # (max_queued_messages 1000 in the test broker) never drops.
        total = per_dev * len(clients)
        window = 500
        topics = {dev: "%s/%s/result" % (harness.PREFIX, dev)
                  for _, dev, _ in clients}
        sent, done = 0, 0
        for i in range(per_dev):
            for cl, dev, _ in clients:
                while sent - done >= window:
                    time.sleep(0.001)  # leave the CPUs to the others
                    done = recorded()
                cl.publish(topics[dev], results[dev][i])
                sent += 1
        while done < total:
            if time.monotonic() - t0 > args.timeout:
                rows = db.execute("SELECT state, count(*) FROM executions "
                                  "GROUP BY state").fetchall()
                raise SystemExit("timed out: %r" % rows)
            time.sleep(0.001)
            done = recorded()
        dt = time.monotonic() - t0
        db.close()
        commits = ""
        r = c.get("/metrics")
        if r.status == 200:
            m = harness.parse_prometheus(r.body)
            commits = " group_commits=%d" % m.get(
                "cmdbus_db_commit_seconds_count", 0)
        print("results=%d devices=%d seconds=%.3f results/s=%.0f%s" % (
            total, len(clients), dt, total / dt, commits))
    finally:
        c.kill_all()
        c.remove_dir()


if __name__ == "__main__":
    main()
