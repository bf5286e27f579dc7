# SPDX-License-Identifier: MIT
"""Integration test harness: a real Mosquitto on a free loopback port, the
real cmdbus-dispatcher and cmdbus-agent programs, a small REST client, and
a teardown that always runs and fails the test when a program did not exit
cleanly or printed a sanitizer report.

The tests import everything from here; the parts live beside it, one
concern each: harness_procs (programs, ports, deadlines, Proc),
harness_cluster (broker, dispatcher and agents with their configurations,
teardown), harness_rest (the REST client and waits on jobs and
executions), harness_mqtt (mosquitto_sub/pub, envelopes, AgentLink) and
harness_prometheus (the /metrics parser)."""

from harness_cluster import (BROKER_CONF, DISPATCHER_USER, PREFIX, REPO,
                             Cluster, ClusterTestCase, Device,
                             execution_by_device)
from harness_mqtt import (AgentLink, MqttSub, cancel, command, envelope,
                          mqtt_pub, new_id)
from harness_procs import (MOSQUITTO, MOSQUITTO_PASSWD, MOSQUITTO_PUB,
                           MOSQUITTO_SUB, POLL_INTERVAL, RESULT_DEADLINE,
                           SANITIZER_MARKERS, START_DEADLINE, STOP_DEADLINE,
                           Proc, agent_path, dispatcher_path, free_port,
                           pid_alive, port_accepts, wait_until)
from harness_prometheus import metrics, parse_prometheus
from harness_rest import RestClient, RestResponse, wait_exec_state

__all__ = [
    "AgentLink", "BROKER_CONF", "Cluster", "ClusterTestCase",
    "DISPATCHER_USER", "Device", "MOSQUITTO", "MOSQUITTO_PASSWD",
    "MOSQUITTO_PUB", "MOSQUITTO_SUB", "MqttSub", "POLL_INTERVAL", "PREFIX",
    "Proc", "REPO", "RESULT_DEADLINE", "RestClient", "RestResponse",
    "SANITIZER_MARKERS", "START_DEADLINE", "STOP_DEADLINE", "agent_path",
    "cancel", "command", "dispatcher_path", "envelope", "execution_by_device",
    "free_port", "metrics", "mqtt_pub", "new_id", "parse_prometheus",
    "pid_alive", "port_accepts", "wait_exec_state", "wait_until",
]
