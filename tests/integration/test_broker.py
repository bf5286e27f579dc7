# SPDX-License-Identifier: MIT
"""The broker's rights (broker-conf/cmdbus.acl through test.conf.in): a
device reads only its own command topic and writes only its own result and
status topics, whatever client id it picks; the dispatcher writes commands
and reads results and status. Checked with mosquitto_sub/mosquitto_pub and
each user's credentials; every "nothing received" is judged after a
positive control on the same subscription has arrived, so a slow broker
cannot pass for a strict one."""

import unittest

import os
import pwd
import re

import harness
from harness import (BROKER_CONF, DISPATCHER_USER, ClusterTestCase, Device,
                     MqttSub, Proc, mqtt_pub)


class BrokerRights(ClusterTestCase):
    protocol = 5

    def setUp(self):
        super().setUp()
        self.dev1 = Device("dev-1")
        self.dev2 = Device("dev-2")
        self.c = self.cluster(self.dev1, self.dev2).start_broker()
        self.port = self.c.broker_port

    def sub(self, user, password, topics, client_id=None):
        return MqttSub(self.port, user, password, topics,
                       client_id=client_id,
                       protocol=self.protocol).wait_subscribed()

    def pub(self, user, password, topic, payload, retain=False):
        rc = mqtt_pub(self.port, user, password, topic, payload,
                      retain=retain, protocol=self.protocol)
        self.assertEqual(rc, 0, "mosquitto_pub as %s to %s" % (user, topic))

    def as_dispatcher(self, topic, payload, retain=False):
        self.pub(DISPATCHER_USER, self.c.dispatcher_password, topic,
                 payload, retain)

    def test_device_reads_only_its_own_commands(self):
        d1 = self.dev1
        # dev-1 asks for dev-2's commands outright, through a wildcard, and
        # with dev-2's client id: the ACL goes by user name only.
        with self.sub("dev-1", d1.password,
                      ["cmdbus/v1/dev-2/cmd", "cmdbus/v1/#",
                       "cmdbus/v1/+/cmd"]) as s1, \
             self.sub("dev-1", d1.password, ["cmdbus/v1/dev-2/cmd"],
                      client_id="dev-2") as spoof, \
             self.sub("dev-2", self.dev2.password,
                      ["cmdbus/v1/dev-2/cmd"]) as s2:
            self.as_dispatcher("cmdbus/v1/dev-2/cmd", "for-dev-2")
            self.as_dispatcher("cmdbus/v1/dev-1/cmd", "for-dev-1")
            s2.wait_for("for-dev-2")
            s1.wait_for("for-dev-1")
            self.assertNotIn("for-dev-2", s1.payloads())
            self.assertEqual(
                {t for t, _ in s1.messages()}, {"cmdbus/v1/dev-1/cmd"})
            # The spoofed client id sees nothing: its user's own command
            # topic was not asked for, and dev-2's is not readable.
            self.assertEqual(spoof.messages(), [])

    def test_device_cannot_send_commands(self):
        with self.sub("dev-2", self.dev2.password,
                      ["cmdbus/v1/dev-2/cmd"]) as s2:
            self.pub("dev-1", self.dev1.password, "cmdbus/v1/dev-2/cmd",
                     "forged-cmd")
            self.pub("dev-1", self.dev1.password, "cmdbus/v1/dev-1/cmd",
                     "own-cmd")
            self.as_dispatcher("cmdbus/v1/dev-2/cmd", "real-cmd")
            s2.wait_for("real-cmd")
            self.assertEqual(s2.payloads(), ["real-cmd"])

    def test_device_writes_only_its_own_results_and_status(self):
        with self.sub(DISPATCHER_USER, self.c.dispatcher_password,
                      ["cmdbus/v1/+/result", "cmdbus/v1/+/status"]) as sd:
            self.pub("dev-1", self.dev1.password, "cmdbus/v1/dev-2/result",
                     "forged-result")
            self.pub("dev-1", self.dev1.password, "cmdbus/v1/dev-2/status",
                     "forged-status")
            self.pub("dev-2", self.dev2.password, "cmdbus/v1/dev-2/result",
                     "real-result")
            self.pub("dev-2", self.dev2.password, "cmdbus/v1/dev-2/status",
                     "real-status")
            self.pub("dev-1", self.dev1.password, "cmdbus/v1/dev-1/result",
                     "own-result")
            sd.wait_for("real-result")
            sd.wait_for("real-status")
            sd.wait_for("own-result")
            got = sd.payloads()
            self.assertNotIn("forged-result", got)
            self.assertNotIn("forged-status", got)

    def test_retained_status_cannot_be_overwritten_or_read(self):
        topic = "cmdbus/v1/dev-2/status"
        self.pub("dev-2", self.dev2.password, topic, "dev-2-online",
                 retain=True)
        self.pub("dev-1", self.dev1.password, topic, "forged-offline",
                 retain=True)
        # A new subscriber gets the retained message at once: dev-2's own.
        with self.sub(DISPATCHER_USER, self.c.dispatcher_password,
                      [topic]) as sd:
            sd.wait_for("dev-2-online")
            self.assertEqual(sd.payloads(), ["dev-2-online"])
        # Devices cannot read each other's status, retained or live.
        with self.sub("dev-1", self.dev1.password,
                      ["cmdbus/v1/+/status", "cmdbus/v1/dev-1/cmd"]) as s1:
            self.as_dispatcher("cmdbus/v1/dev-1/cmd", "marker")
            s1.wait_for("marker")
            self.assertEqual(s1.payloads(), ["marker"])

    def test_dispatcher_cannot_write_results_or_read_commands(self):
        with self.sub(DISPATCHER_USER, self.c.dispatcher_password,
                      ["cmdbus/v1/+/result"]) as sd, \
             self.sub("dev-1", self.dev1.password,
                      ["cmdbus/v1/dev-1/cmd"]) as s1:
            self.as_dispatcher("cmdbus/v1/dev-1/result", "fake-result")
            self.pub("dev-1", self.dev1.password, "cmdbus/v1/dev-1/result",
                     "real-result")
            sd.wait_for("real-result")
            self.assertEqual(sd.payloads(), ["real-result"])
            self.as_dispatcher("cmdbus/v1/dev-1/cmd", "cmd")
            s1.wait_for("cmd")

    def test_unknown_and_wrong_logins_are_refused(self):
        topic = "cmdbus/v1/dev-1/result"
        self.assertNotEqual(mqtt_pub(self.port, "dev-1", "wrong", topic, "x",
                                     protocol=self.protocol), 0)
        self.assertNotEqual(mqtt_pub(self.port, "dev-3", "x", topic, "x",
                                     protocol=self.protocol), 0)


class BrokerRightsMqtt311(BrokerRights):
    protocol = 311


class ProductionConfig(ClusterTestCase):
    """broker-conf/cmdbus.conf itself loads, opens its two listeners and
    no other, and enforces logins and the ACL. Only its file paths and
    ports are changed, on loopback, and the persistence location it leaves
    to Debian's main file is supplied."""

    def render(self, c, dispatcher_port, device_port):
        text = (BROKER_CONF / "cmdbus.conf").read_text()
        swaps = [
            ("listener 1885 127.0.0.1\n",
             "listener %d 127.0.0.1\n" % dispatcher_port),
            ("listener 8885\n", "listener %d 127.0.0.1\n" % device_port),
            ("password_file /etc/mosquitto/cmdbus.passwd\n",
             "password_file %s/passwd\n" % c.dir),
            ("acl_file /etc/mosquitto/cmdbus.acl\n",
             "acl_file %s/acl\n" % c.dir),
            ("#persistence_location /var/lib/mosquitto/\n",
             "persistence_location %s/\n" % c.dir),
        ]
        for old, new in swaps:
            self.assertEqual(text.count(old), 1, old)
            text = text.replace(old, new)
        text += "user %s\nlog_dest stderr\n" % pwd.getpwuid(
            os.getuid()).pw_name
        path = c.dir / "production.conf"
        path.write_text(text)
        return path

    def test_shipped_config_works(self):
        dev1 = Device("dev-1")
        c = self.cluster(dev1)
        # The test broker makes the password and ACL files; then it goes.
        c.start_broker()
        self.assertEqual(c.stop_broker(), [])
        disp_port, dev_port = harness.free_port(), harness.free_port()
        conf = self.render(c, disp_port, dev_port)
        c.broker = Proc("mosquitto", [harness.MOSQUITTO, "-c", conf],
                        c.dir / "mosquitto-production.log").start()
        for port in (disp_port, dev_port):
            harness.wait_until(lambda: c._accepting(c.broker, port),
                               harness.START_DEADLINE,
                               "the listener on %d" % port)
        log = c.broker.log_text()
        self.assertNotIn("Error", log)
        opened = set(int(p) for p in re.findall(
            r"Opening ipv[46] listen socket on port (\d+)", log))
        self.assertEqual(opened, {disp_port, dev_port}, log)
        with MqttSub(dev_port, "dev-1", dev1.password,
                     ["cmdbus/v1/#"]).wait_subscribed() as s1:
            mqtt_pub(disp_port, DISPATCHER_USER, c.dispatcher_password,
                     "cmdbus/v1/dev-2/cmd", "not-yours")
            mqtt_pub(disp_port, DISPATCHER_USER, c.dispatcher_password,
                     "cmdbus/v1/dev-1/cmd", "yours")
            s1.wait_for("yours")
            self.assertEqual(s1.payloads(), ["yours"])
        self.assertNotEqual(mqtt_pub(dev_port, "dev-1", "wrong",
                                     "cmdbus/v1/dev-1/result", "x"), 0)


if __name__ == "__main__":
    unittest.main()
