# SPDX-License-Identifier: MIT
"""Delivery and the dispatcher's own terminal states against a real broker
and real agents: an offline device gets its commands (through a small
outbox window) when it connects; EXPIRED, TIMED_OUT and LOST each happen
when they should; a result on another device's topic is ignored; /metrics
is valid Prometheus text. Intervals are shortened by configuration so
that each test takes seconds."""

import os
import shutil
import signal
import time
import unittest

from harness import (PREFIX, RESULT_DEADLINE, ClusterTestCase, Device,
                     envelope, execution_by_device, metrics, mqtt_pub,
                     wait_exec_state, wait_until)

# Short intervals for tests; the defaults are 10 s / 5 min / 30 s / 1 s.
FAST = {
    "retry_initial": "500ms",
    "retry_max": "2s",
    "timeout_grace": "500ms",
    "lost_grace": "1s",
    "sweep_interval": "100ms",
}


class Delivery(ClusterTestCase):
    def start(self, *devices, agents=None, **options):
        c = self.cluster(*devices)
        c.dispatcher_options.update(FAST)
        c.dispatcher_options.update(options)
        return c.start(agents=agents)

    def test_offline_device_gets_its_commands_through_the_window(self):
        c = self.start(Device("dev-1"), agents=[], outbox_window=2)
        jobs = [c.submit("ping", ["dev-1"], allow_unknown=True) for _ in range(6)]
        # Two in the window went out; the rest wait QUEUED, never sent.
        m = metrics(c)
        self.assertEqual(m["cmdbus_outbox_inflight"], 2, m)
        self.assertEqual(m["cmdbus_outbox_waiting"], 4, m)
        c.start_agent("dev-1")
        for j in jobs:
            done = c.wait_job(j["id"])
            self.assertEqual(done["counts"], {"SUCCEEDED": 1}, done)
        m = metrics(c)
        self.assertEqual(m["cmdbus_outbox_inflight"], 0, m)
        self.assertEqual(m["cmdbus_outbox_waiting"], 0, m)
        self.assertEqual(m['cmdbus_executions{state="SUCCEEDED"}'], 6)
        # One run per command: the agent accepted each id once.
        log = c.devices["dev-1"].proc.log_text()
        for j in jobs:
            self.assertEqual(log.count("cmd.accepted exec=%s " %
                                       j["executions"][0]["id"]), 1)

    def test_expired_when_never_delivered(self):
        c = self.start(Device("dev-1"), agents=[])
        job = c.submit("ping", ["dev-1"], allow_unknown=True, ttl_ms=1000)
        e = wait_exec_state(c, job["executions"][0]["id"], "EXPIRED",
                            timeout=10)
        # The device never came: told as offline, not as a silent expiry.
        self.assertEqual(e["error"]["code"], "offline", e)
        self.assertEqual(c.get_json("/v1/jobs/" + job["id"])["state"],
                         "COMPLETED")
        # It never runs, even when the device connects afterwards.
        c.start_agent("dev-1")
        c.wait_online(["dev-1"])
        self.assertEqual(c.get_json("/v1/executions/" + e["id"])["state"],
                         "EXPIRED")
        self.assertEqual(metrics(c)['cmdbus_dispatcher_declared_total'
                                    '{state="EXPIRED"}'], 1)

    def test_timed_out_when_the_result_never_comes(self):
        c = self.start(Device("dev-1", exec_enabled=True))
        job = c.submit("exec", ["dev-1"], allow_unknown=True,
                       args={"argv": ["sleep", "30"]},
                       timeout_ms=1000)
        exec_id = job["executions"][0]["id"]
        wait_exec_state(c, exec_id, "RUNNING")
        agent = c.devices["dev-1"].proc.popen.pid
        os.kill(agent, signal.SIGSTOP)
        try:
            e = wait_exec_state(c, exec_id, "TIMED_OUT", timeout=15)
            self.assertNotIn("result", e)
        finally:
            os.kill(agent, signal.SIGCONT)
        # The agent's own TIMED_OUT result arrives late: kept as late,
        # the state stays.
        wait_until(lambda: c.get_json("/v1/executions/" + exec_id)
                   .get("late_results", 0) >= 1, RESULT_DEADLINE,
                   "the late result to be counted")
        self.assertEqual(c.get_json("/v1/executions/" + exec_id)["state"],
                         "TIMED_OUT")
        m = metrics(c)
        self.assertEqual(m['cmdbus_dispatcher_declared_total'
                           '{state="TIMED_OUT"}'], 1)
        self.assertGreaterEqual(m["cmdbus_late_results_total"], 1)

    def kill_agent_mid_run(self, c, forget_journal):
        """Runs a long command on dev-1, kills the agent with SIGKILL while
        it runs (and the orphaned command), optionally wipes the agent's
        state directory, restarts it and waits for the new boot. Returns
        the execution id."""
        pidfile = c.dir / "sleep.pid"
        job = c.submit("exec", ["dev-1"], allow_unknown=True, args={"argv": [
            "sh", "-c", "echo $$ > %s; exec sleep 30" % pidfile]},
            timeout_ms=60000)
        exec_id = job["executions"][0]["id"]
        wait_exec_state(c, exec_id, "RUNNING")
        old_boot = c.get_json("/v1/devices/dev-1")["boot_id"]
        try:
            c.devices["dev-1"].proc.kill()
        finally:
            wait_until(lambda: pidfile.exists() and
                       pidfile.read_text().strip(), 10, "the pid file")
            try:
                os.kill(int(pidfile.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass
        if forget_journal:
            shutil.rmtree(c.dir / "agent-dev-1")
        c.start_agent("dev-1")
        wait_until(lambda: c.get_json("/v1/devices/dev-1")["boot_id"] !=
                   old_boot, RESULT_DEADLINE, "the new boot to show")
        return exec_id

    def test_lost_answered_by_the_agents_journal(self):
        c = self.start(Device("dev-1", exec_enabled=True), lost_grace="5s")
        exec_id = self.kill_agent_mid_run(c, forget_journal=False)
        e = wait_exec_state(c, exec_id, "LOST", timeout=15)
        self.assertEqual(e["error"]["code"], "interrupted", e)
        # The agent said so itself, within the grace.
        self.assertIn("result", e)
        self.assertEqual(metrics(c)['cmdbus_dispatcher_declared_total'
                                    '{state="LOST"}'], 0)
        log = c.devices["dev-1"].proc.log_text()
        self.assertEqual(log.count("cmd.accepted exec=%s " % exec_id), 1)

    def test_lost_declared_when_the_agent_cannot_answer(self):
        c = self.start(Device("dev-1", exec_enabled=True))
        exec_id = self.kill_agent_mid_run(c, forget_journal=True)
        e = wait_exec_state(c, exec_id, "LOST", timeout=15)
        self.assertEqual(e["error"]["code"], "interrupted", e)
        self.assertNotIn("result", e)
        self.assertEqual(metrics(c)['cmdbus_dispatcher_declared_total'
                                    '{state="LOST"}'], 1)
        # Never sent again to the new boot, which would have run it twice.
        log = c.devices["dev-1"].proc.log_text()
        self.assertEqual(log.count("cmd.accepted exec=%s " % exec_id), 1)

    def test_result_on_another_devices_topic_is_ignored(self):
        c = self.start(Device("dev-1", exec_enabled=True), Device("dev-2"))
        job = c.submit("exec", ["dev-1"], allow_unknown=True,
                       args={"argv": ["sleep", "2"]},
                       timeout_ms=20000)
        exec_id = job["executions"][0]["id"]
        wait_exec_state(c, exec_id, "RUNNING")
        before = metrics(c)['cmdbus_messages_dropped_total'
                            '{reason="device"}']
        now = int(time.time() * 1000)
        dev2 = c.devices["dev-2"]
        for claimed in ("dev-2", "dev-1"):
            forged = {"type": "result", "id": exec_id, "device": claimed,
                      "boot_id": "01JD3BOOTFORGEDFORGEDFORGE",
                      "state": "FAILED", "exit_code": 1, "stdout": "",
                      "stderr": "forged", "stdout_truncated": False,
                      "stderr_truncated": False, "stdout_bytes": 0,
                      "stderr_bytes": 6, "started_at": now,
                      "finished_at": now}
            self.assertEqual(mqtt_pub(c.broker_port, "dev-2",
                                      dev2.password,
                                      "%s/dev-2/result" % PREFIX,
                                      envelope(forged)), 0)
        wait_until(lambda: metrics(c)['cmdbus_messages_dropped_total'
                                      '{reason="device"}'] >= before + 2,
                   RESULT_DEADLINE, "both forgeries to be dropped")
        e = wait_exec_state(c, exec_id, "SUCCEEDED")
        self.assertEqual(e["result"]["stderr"], "", e)
        self.assertEqual(execution_by_device(
            c.get_json("/v1/jobs/" + job["id"]))["dev-1"]["state"],
            "SUCCEEDED")

    def test_metrics_is_prometheus_text(self):
        c = self.start(Device("dev-1"))
        c.wait_job(c.submit("ping", ["dev-1"], allow_unknown=True)["id"])
        c.get("/v1/jobs/nonexistent-id")
        m = metrics(c)
        self.assertEqual(m["cmdbus_devices_online"], 1)
        self.assertEqual(m["cmdbus_broker_connected"], 1)
        self.assertEqual(m["cmdbus_store_up"], 1)
        self.assertGreaterEqual(m["cmdbus_publishes_total"], 1)
        self.assertGreaterEqual(m["cmdbus_results_total"], 1)
        self.assertGreaterEqual(m["cmdbus_db_commit_seconds_count"], 1)
        self.assertEqual(m['cmdbus_jobs{state="COMPLETED"}'], 1)
        self.assertTrue(any(k.startswith("cmdbus_http_requests_total{")
                            and 'status="201"' in k for k in m), m)

    def test_device_stale_without_heartbeats_and_fresh_after_a_status(self):
        # The agents' heartbeat is 30 s; a status older than
        # device_stale_after marks the device stale though it is online.
        c = self.start(Device("dev-1"), device_stale_after="1s")
        view = c.get_json("/v1/devices/dev-1")
        self.assertTrue(view["online"], view)
        self.assertNotIn("stale", view)
        wait_until(lambda: c.get_json("/v1/devices/dev-1").get("stale"),
                   10, "dev-1 to turn stale")
        listed = c.get_json("/v1/devices")["devices"]
        self.assertEqual([d.get("stale") for d in listed], [True], listed)
        # A new status (the agent restarts and says it is online) makes
        # it fresh again.
        c.stop_agent("dev-1")
        c.start_agent("dev-1")
        c.wait_online(["dev-1"])
        view = c.get_json("/v1/devices/dev-1")
        self.assertTrue(view["online"], view)
        self.assertNotIn("stale", view)

if __name__ == "__main__":
    unittest.main()
