# SPDX-License-Identifier: MIT
"""A broker with the production profile (broker-conf/production) made by
cmdbus-provision in a temporary directory, and a small MQTT 3.1.1 client
on the standard library that reports the broker's exact answers: CONNACK
return codes, SUBACK codes, PUBACKs and every PUBLISH received."""

import os
import pwd
import select
import socket
import ssl
import struct
import subprocess
import time
from pathlib import Path

from harness_procs import MOSQUITTO, START_DEADLINE, Proc, free_port, \
    port_accepts, wait_until

REPO = Path(__file__).resolve().parents[2]
PROVISION = REPO / "broker-conf" / "cmdbus-provision"
PREFIX = "cmdbus/v1"
DISPATCHER = "cmdbus-dispatcher"


class Refused(Exception):
    """The broker refused the connection: a CONNACK code, or the TLS
    handshake or the connection failed before any CONNACK."""


def _utf8(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("!H", len(b)) + b


def _packet(first, body):
    n, out = len(body), bytearray([first])
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out) + body


class Client:
    """One MQTT 3.1.1 connection, TLS when ssl_ctx is given; connect()
    raises Refused unless the broker accepts."""

    def __init__(self, port, client_id, user, password, ssl_ctx=None,
                 clean=True, timeout=5.0):
        self.inbox = []      # (topic, payload) of every PUBLISH received
        self.acks = {}       # packet id -> (type, body)
        self.next_pid = 1
        self.timeout = timeout
        self.buf = b""
        try:
            raw = socket.create_connection(("127.0.0.1", port),
                                           timeout=timeout)
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as e:
            raise Refused("connection: %s" % e)
        try:
            self.sock = (ssl_ctx.wrap_socket(raw, server_hostname="localhost")
                         if ssl_ctx else raw)
        except (OSError, ssl.SSLError) as e:
            raw.close()
            raise Refused("TLS handshake: %s" % e)
        flags = 0xC0 | (0x02 if clean else 0)
        body = (_utf8("MQTT") + bytes([4, flags]) + struct.pack("!H", 60) +
                _utf8(client_id) + _utf8(user) + _utf8(password))
        try:
            self.sock.sendall(_packet(0x10, body))
            kind, rest = self._read_packet()
        except (OSError, ssl.SSLError, EOFError) as e:
            self.close()
            raise Refused("before CONNACK: %s" % e)
        if kind >> 4 != 2 or rest[1] != 0:
            self.close()
            raise Refused("CONNACK code %d" % rest[1])
        self.session_present = bool(rest[0] & 1)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no packet from the broker")
        if not (isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()):
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                raise TimeoutError("no packet from the broker")
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("the broker closed the connection")
        self.buf += data

    def _read_packet(self, deadline=None):
        deadline = deadline or time.monotonic() + self.timeout
        while True:
            if len(self.buf) >= 2:
                n, mult, i = 0, 1, 1
                while i < len(self.buf) and i <= 4:
                    n += (self.buf[i] & 0x7F) * mult
                    mult *= 128
                    if not self.buf[i] & 0x80:
                        break
                    i += 1
                else:
                    i = None
                if i is not None and len(self.buf) >= i + 1 + n:
                    first, body = self.buf[0], self.buf[i + 1:i + 1 + n]
                    self.buf = self.buf[i + 1 + n:]
                    return first, body
            self._fill(deadline)

    def _pump(self, deadline):
        """Reads one packet: a PUBLISH is acknowledged and kept, an ack is
        filed by its packet id."""
        first, body = self._read_packet(deadline)
        kind = first >> 4
        if kind == 3:
            tlen = struct.unpack("!H", body[:2])[0]
            topic = body[2:2 + tlen].decode()
            off = 2 + tlen
            if (first >> 1) & 3:
                pid = body[off:off + 2]
                off += 2
                self.sock.sendall(_packet(0x40, pid))
            self.inbox.append((topic, body[off:].decode(errors="replace")))
        elif kind in (4, 9):
            self.acks[struct.unpack("!H", body[:2])[0]] = (kind, body[2:])

    def _await(self, pid):
        deadline = time.monotonic() + self.timeout
        while pid not in self.acks:
            self._pump(deadline)
        return self.acks.pop(pid)[1]

    def _pid(self):
        pid, self.next_pid = self.next_pid, self.next_pid % 65535 + 1
        return pid

    def subscribe(self, topic, qos=1):
        """The SUBACK code: the granted QoS, or 0x80 for a refusal."""
        pid = self._pid()
        self.sock.sendall(_packet(0x82, struct.pack("!H", pid) +
                                  _utf8(topic) + bytes([qos])))
        return self._await(pid)[0]

    def publish(self, topic, payload, retain=False):
        """QoS 1; returns once the broker acknowledged (MQTT 3.1.1 has no
        refusal code: a publish the ACL drops is acknowledged too)."""
        pid = self._pid()
        self.sock.sendall(_packet(0x32 | (1 if retain else 0),
                                  _utf8(topic) + struct.pack("!H", pid) +
                                  payload.encode()))
        self._await(pid)

    def wait_for(self, pred, timeout=10.0, what="a message"):
        deadline = time.monotonic() + timeout
        while not pred(self.inbox):
            try:
                self._pump(deadline)
            except TimeoutError:
                raise AssertionError("timed out waiting for %s; got %s" %
                                     (what, self.inbox))
        return self.inbox

    def close(self):
        try:
            self.sock.sendall(_packet(0xE0, b""))
        except (OSError, ssl.SSLError, AttributeError):
            pass
        try:
            self.sock.close()
        except (OSError, AttributeError):
            pass


class ProvisionedBroker:
    """cmdbus-provision init in `root`, a broker with the rendered profile
    (logging to stderr) on three free loopback-reachable ports."""

    def __init__(self, root):
        self.root = Path(root)
        self.dir = self.root / "provision"
        self.data = self.root / "data"
        self.data.mkdir()
        self.device_port = free_port()
        self.dispatcher_port = free_port()
        self.admin_port = free_port()
        self.provision("init", "--host", "localhost", "--host", "127.0.0.1",
                       "--device-port", str(self.device_port),
                       "--dispatcher-port", str(self.dispatcher_port),
                       "--admin-port", str(self.admin_port),
                       "--user", pwd.getpwuid(os.getuid()).pw_name,
                       "--data-dir", str(self.data),
                       "--device-etc", str(self.dir / "devices"))
        conf = self.dir / "mosquitto.conf"
        conf.write_text(conf.read_text().replace("log_dest syslog",
                                                 "log_dest stderr"))
        self.conf = conf
        self.broker = None

    def provision(self, *args, check=True):
        r = subprocess.run([str(PROVISION), "--dir", str(self.dir)] +
                           list(args), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        out = r.stdout.decode(errors="replace")
        if check and r.returncode != 0:
            raise AssertionError("cmdbus-provision %s failed (%d): %s" %
                                 (" ".join(args), r.returncode, out))
        return r.returncode, out

    def start(self):
        self.broker = Proc("mosquitto", [MOSQUITTO, "-c", self.conf],
                           self.root / "mosquitto.log").start()
        for port in (self.device_port, self.dispatcher_port,
                     self.admin_port):
            wait_until(lambda: port_accepts(port), START_DEADLINE,
                       "the broker's listener on %d" % port)
        return self

    def reload(self):
        """SIGHUP: the broker reads its configuration again (and the CRL)."""
        self.broker.popen.send_signal(1)

    def stop(self):
        return self.broker.stop() if self.broker else []

    def secret(self, *parts):
        return (self.dir.joinpath(*parts)).read_text().splitlines()[0]

    def device_ctx(self, device):
        """TLS as that device: the server CA, its certificate and key."""
        ctx = ssl.create_default_context(
            cafile=str(self.dir / "ca" / "server-ca.pem"))
        d = self.dir / "devices" / device
        ctx.load_cert_chain(str(d / ("%s.pem" % device)),
                            str(d / ("%s.key" % device)))
        return ctx

    def bare_ctx(self):
        """TLS with no client certificate."""
        return ssl.create_default_context(
            cafile=str(self.dir / "ca" / "server-ca.pem"))

    def device(self, device, client_id=None, user=None, password=None,
               clean=True):
        return Client(self.device_port, client_id or device, user or device,
                      password or self.secret("devices", device,
                                              "mqtt.password"),
                      ssl_ctx=self.device_ctx(device), clean=clean)

    def dispatcher(self, clean=True):
        return Client(self.dispatcher_port, DISPATCHER, DISPATCHER,
                      self.secret("dispatcher", "mqtt.password"), clean=clean)
