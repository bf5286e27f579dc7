# SPDX-License-Identifier: MIT
"""The agent over TLS to a real Mosquitto TLS listener that requires a
client certificate, with certificates made by the openssl CLI in the test:
with its certificate the agent connects and serves; without one, or
trusting another CA, or checking a certificate made for another host, it
never gets in; mqtt_tls_insecure lifts only the host name check."""

import shutil
import subprocess
import unittest

from harness import (ClusterTestCase, Device, execution_by_device,
                     free_port, wait_until)

OPENSSL = shutil.which("openssl")


def openssl(*args, cwd):
    subprocess.run([OPENSSL] + list(args), cwd=cwd, check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=" + name, "-keyout", name + ".key",
            "-out", name + ".crt", cwd=d)


def make_cert(d, ca, name, cn, san=None):
    """A key and a certificate signed by `ca`; `san` an extension value
    such as IP:127.0.0.1."""
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + cn,
            "-keyout", name + ".key", "-out", name + ".csr", cwd=d)
    ext = d / (name + ".ext")
    ext.write_text(("subjectAltName=%s\n" % san) if san else
                   "basicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt",
            "-CAkey", ca + ".key", "-CAcreateserial", "-days", "2",
            "-extfile", ext.name, "-out", name + ".crt", cwd=d)


@unittest.skipUnless(OPENSSL, "openssl not found")
class AgentTls(ClusterTestCase):
    def setUp(self):
        super().setUp()
        devices = [Device(n) for n in ("tls-ok", "tls-nocert", "tls-otherca",
                                       "tls-wronghost", "tls-insecure")]
        self.c = self.cluster(*devices)
        d = self.c.dir / "pki"
        d.mkdir()
        self.pki = d
        make_ca(d, "ca")
        make_ca(d, "other-ca")
        make_cert(d, "ca", "server", "127.0.0.1", "IP:127.0.0.1")
        make_cert(d, "ca", "badhost", "elsewhere", "DNS:elsewhere.example")
        make_cert(d, "ca", "client", "tls-ok")

        # The broker with its plain listener (for the dispatcher) and two
        # TLS listeners that require a client certificate: one with the
        # right host in its certificate, one with another host.
        self.tls_port, self.badhost_port = free_port(), free_port()
        self.c.start_broker()
        self.c.stop_broker()
        conf = self.c.dir / "mosquitto.conf"
        extra = ""
        for port, cert in ((self.tls_port, "server"),
                           (self.badhost_port, "badhost")):
            extra += ("\nlistener %d 127.0.0.1\ncafile %s\ncertfile %s\n"
                      "keyfile %s\nrequire_certificate true\n"
                      "tls_version tlsv1.2\n" % (
                          port, d / "ca.crt", d / (cert + ".crt"),
                          d / (cert + ".key")))
        conf.write_text(conf.read_text() + extra)
        self.c.start_broker()
        wait_until(lambda: self.c._accepting(self.c.broker, self.tls_port),
                   20, "the TLS listener")
        self.c.start_dispatcher()

    def tls_options(self, dev, port, ca="ca", cert=True, **more):
        opts = {"mqtt_port": port,
                "mqtt_tls_ca_file": self.pki / (ca + ".crt")}
        if cert:
            opts["mqtt_tls_cert_file"] = self.pki / "client.crt"
            opts["mqtt_tls_key_file"] = self.pki / "client.key"
        opts.update(more)
        self.c.devices[dev].options.update(opts)

    def never_online(self, dev, marker):
        """The agent keeps running, logs why it is refused, stays out."""
        proc = self.c.start_agent(dev)
        wait_until(lambda: marker in proc.log_text(), 20,
                   "%s to be refused" % dev)
        self.assertTrue(proc.alive())
        self.assertNotIn("mqtt.connected", proc.log_text())
        self.assertNotIn(dev, self.c.online_ids())

    def test_mutual_tls(self):
        self.tls_options("tls-ok", self.tls_port,
                         mqtt_tls_version="tlsv1.2")
        proc = self.c.start_agent("tls-ok")
        self.c.wait_online(["tls-ok"])
        self.assertIn("tls=1", proc.log_text())
        job = self.c.wait_job(self.c.submit("ping", ["tls-ok"])["id"])
        e = execution_by_device(job)["tls-ok"]
        self.assertEqual(e["state"], "SUCCEEDED", e)
        self.assertEqual(e["result"]["stdout"], "pong")

    def test_refusals(self):
        # No client certificate: the broker refuses the handshake.
        self.tls_options("tls-nocert", self.tls_port, cert=False)
        self.never_online("tls-nocert", "certificate required")
        # The broker's certificate is not from the CA the agent trusts.
        self.tls_options("tls-otherca", self.tls_port, ca="other-ca")
        self.never_online("tls-otherca", "certificate verify failed")
        # The certificate names another host.
        self.tls_options("tls-wronghost", self.badhost_port)
        self.never_online("tls-wronghost",
                          "host name verification failed")

    def test_insecure_skips_only_the_host_check(self):
        self.tls_options("tls-insecure", self.badhost_port,
                         mqtt_tls_insecure="true")
        self.c.start_agent("tls-insecure")
        self.c.wait_online(["tls-insecure"])


if __name__ == "__main__":
    unittest.main()
