# SPDX-License-Identifier: MIT
"""docs/examples/firmware_agent.c, built with the project, against the real
broker and dispatcher: its handler is listed in the status with its
parameter rule, runs through REST, and is held to the same checks as any
other action (a bad or unknown parameter is REJECTED with bad_args)."""

import os
import unittest

from harness import (ClusterTestCase, Device, Proc, execution_by_device,
                     wait_until)

DEV = "fw-1"


class LibraryExample(ClusterTestCase):
    def setUp(self):
        super().setUp()
        path = os.environ.get("CMDBUS_EXAMPLE_FIRMWARE_AGENT")
        if not path:
            self.fail("CMDBUS_EXAMPLE_FIRMWARE_AGENT is not set (ctest "
                      "sets it to the built example)")
        self.dev = Device(DEV)
        self.c = self.cluster(self.dev)
        self.c.start_broker()
        self.c.start_dispatcher()
        state = self.c.dir / "fw-state"
        state.mkdir()
        env = dict(os.environ, CMDBUS_MQTT_PASSWORD=self.dev.password)
        # Registered as the device's process: the cluster stops it with
        # SIGTERM and fails the test unless it exits 0 and clean.
        self.dev.proc = Proc("firmware_agent", [
            path, DEV, "127.0.0.1", self.c.broker_port, state],
            self.c.dir / "firmware_agent.log", env=env).start()
        self.c.wait_online([DEV])

    def run_one(self, args, state):
        job = self.c.wait_job(self.c.submit("led.set", [DEV],
                                            args=args)["id"])
        e = execution_by_device(job)[DEV]
        self.assertEqual(e["state"], state, e)
        return e["result"]

    def test_handler_through_rest(self):
        view = self.c.get_json("/v1/devices/" + DEV)
        acts = {a["name"]: a.get("params") for a in view["actions"]}
        self.assertEqual(acts.get("led.set"), {"state": "^(on|off)$"})

        r = self.run_one({"state": "on"}, "SUCCEEDED")
        self.assertEqual(r["stdout"], "led on\n")
        self.assertEqual(r["exit_code"], 0)
        r = self.run_one({"state": "off"}, "SUCCEEDED")
        self.assertEqual(r["stdout"], "led off\n")

        for args, field in (({"state": "blink"}, "args.state"),
                            ({"state": "on", "level": "3"}, "args.level")):
            r = self.run_one(args, "REJECTED")
            self.assertEqual(r["error"]["code"], "bad_args", r)
            self.assertTrue(r["error"]["message"].startswith(field),
                            r["error"])


if __name__ == "__main__":
    unittest.main()
