# SPDX-License-Identifier: MIT
# Integration tests (label integration): a real Mosquitto on a free
# loopback port, the real programs, Python 3 standard library only. They
# are registered only when the broker is installed, so a machine without
# one still runs the unit set.
find_program(CMDBUS_MOSQUITTO mosquitto PATHS /usr/sbin /sbin)
find_program(CMDBUS_MOSQUITTO_PASSWD mosquitto_passwd)
find_program(CMDBUS_MOSQUITTO_SUB mosquitto_sub)
find_program(CMDBUS_MOSQUITTO_PUB mosquitto_pub)
# The tests need nothing beyond the standard library; prefer the system's
# interpreter over whatever a version manager put first on PATH.
find_program(CMDBUS_IT_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT CMDBUS_IT_PYTHON)
  set(CMDBUS_IT_PYTHON ${Python3_EXECUTABLE})
endif()

if(NOT CMDBUS_MOSQUITTO OR NOT CMDBUS_MOSQUITTO_PASSWD)
  message(STATUS "mosquitto not found: integration tests not registered")
  return()
endif()

set(_it_dir ${CMAKE_CURRENT_LIST_DIR})
set(_it_env
  MOSQUITTO=${CMDBUS_MOSQUITTO}
  MOSQUITTO_PASSWD=${CMDBUS_MOSQUITTO_PASSWD}
  PYTHONDONTWRITEBYTECODE=1)
if(CMDBUS_MOSQUITTO_SUB AND CMDBUS_MOSQUITTO_PUB)
  list(APPEND _it_env MOSQUITTO_SUB=${CMDBUS_MOSQUITTO_SUB}
       MOSQUITTO_PUB=${CMDBUS_MOSQUITTO_PUB})
endif()

# cmdbus_integration_test(NAME [PROGRAMS] [TIMEOUT seconds]): runs
# test_NAME.py; PROGRAMS passes the dispatcher and agent paths.
function(cmdbus_integration_test name)
  cmake_parse_arguments(T "PROGRAMS" "TIMEOUT" "" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set(env ${_it_env})
  if(T_PROGRAMS)
    list(APPEND env CMDBUS_DISPATCHER=$<TARGET_FILE:cmdbus-dispatcher>
         CMDBUS_AGENT=$<TARGET_FILE:cmdbus-agent>)
  endif()
  add_test(NAME integration.${name}
           COMMAND ${CMDBUS_IT_PYTHON} -m unittest -v test_${name}
           WORKING_DIRECTORY ${_it_dir})
  set_tests_properties(integration.${name} PROPERTIES
    LABELS integration TIMEOUT ${T_TIMEOUT} ENVIRONMENT "${env}")
endfunction()

# The harness itself and the broker's rights need only the broker.
cmdbus_integration_test(harness TIMEOUT 120)
if(CMDBUS_MOSQUITTO_SUB AND CMDBUS_MOSQUITTO_PUB)
  cmdbus_integration_test(broker TIMEOUT 300)
else()
  message(STATUS "mosquitto_sub/pub not found: integration.broker skipped")
endif()

# The end-to-end tests need both programs.
if(TARGET cmdbus-dispatcher AND TARGET cmdbus-agent)
  cmdbus_integration_test(e2e PROGRAMS TIMEOUT 300)
  cmdbus_integration_test(rejects PROGRAMS TIMEOUT 300)
  cmdbus_integration_test(restart PROGRAMS TIMEOUT 300)
  cmdbus_integration_test(rest_api PROGRAMS TIMEOUT 300)
  cmdbus_integration_test(rest_auth PROGRAMS TIMEOUT 120)
  cmdbus_integration_test(delivery PROGRAMS TIMEOUT 300)
  cmdbus_integration_test(faults PROGRAMS TIMEOUT 300)
  cmdbus_integration_test(agent_journal PROGRAMS TIMEOUT 300)
  cmdbus_integration_test(agent_faults PROGRAMS TIMEOUT 300)
  cmdbus_integration_test(live_output PROGRAMS TIMEOUT 120)
  cmdbus_integration_test(signing PROGRAMS TIMEOUT 120)
  cmdbus_integration_test(fleet PROGRAMS TIMEOUT 180)
  if(TARGET cmdbus-cli)
    cmdbus_integration_test(cli PROGRAMS TIMEOUT 300)
    set_property(TEST integration.cli APPEND PROPERTY ENVIRONMENT
      CMDBUS_CLI=$<TARGET_FILE:cmdbus-cli>)
  endif()
else()
  message(STATUS "cmdbus-dispatcher or cmdbus-agent not defined: "
                 "end-to-end tests not registered")
endif()

# Crash points (-DCMDBUS_CRASHPOINTS=ON builds only, so that a build
# without them shows no silently skipped test).
if(CMDBUS_CRASHPOINTS AND TARGET cmdbus-dispatcher AND TARGET cmdbus-agent)
  cmdbus_integration_test(agent_crashpoints PROGRAMS TIMEOUT 180)
endif()

# Catalog actions, shell and SIGHUP; the run-as helper from the build.
if(TARGET cmdbus-dispatcher AND TARGET cmdbus-agent AND TARGET cmdbus-runas)
  cmdbus_integration_test(agent_catalog PROGRAMS TIMEOUT 180)
  set_property(TEST integration.agent_catalog APPEND PROPERTY ENVIRONMENT
    CMDBUS_RUNAS=$<TARGET_FILE:cmdbus-runas>)
endif()

# The agent over TLS and mutual TLS (certificates made with openssl).
if(TARGET cmdbus-dispatcher AND TARGET cmdbus-agent)
  cmdbus_integration_test(agent_tls PROGRAMS TIMEOUT 180)
endif()

# The bad-input corpus (tests/badinput/) at a real agent and the REST API.
if(TARGET cmdbus-dispatcher AND TARGET cmdbus-agent AND CMDBUS_MOSQUITTO_SUB)
  cmdbus_integration_test(bad_input PROGRAMS TIMEOUT 180)
endif()

# The library example of docs/examples, run against the real programs.
if(TARGET cmdbus-dispatcher AND TARGET example_firmware_agent)
  cmdbus_integration_test(library_example PROGRAMS TIMEOUT 180)
  set_property(TEST integration.library_example APPEND PROPERTY ENVIRONMENT
    CMDBUS_EXAMPLE_FIRMWARE_AGENT=$<TARGET_FILE:example_firmware_agent>)
endif()

# Broker isolation on the production profile made by cmdbus-provision
# (openssl, mosquitto_ctrl), and the configuration check.
find_program(CMDBUS_MOSQUITTO_CTRL mosquitto_ctrl)
find_program(CMDBUS_OPENSSL openssl)
if(CMDBUS_MOSQUITTO_CTRL AND CMDBUS_OPENSSL
   AND EXISTS /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so)
  cmdbus_integration_test(isolation TIMEOUT 120)
else()
  message(STATUS "mosquitto_ctrl, openssl or the dynamic-security plugin "
                 "not found: integration.isolation not registered")
endif()
cmdbus_integration_test(broker_check TIMEOUT 60)

# The benchmarks' raw baselines (bench/baseline/), a moment each.
if(TARGET bench-mqtt-rtt AND TARGET bench-sqlite AND TARGET bench-mhd
   AND TARGET bench-responder AND CMDBUS_MOSQUITTO_SUB AND CMDBUS_MOSQUITTO_PUB)
  cmdbus_integration_test(bench_baseline TIMEOUT 60)
  set_property(TEST integration.bench_baseline APPEND PROPERTY ENVIRONMENT
    CMDBUS_BENCH_MQTT_RTT=$<TARGET_FILE:bench-mqtt-rtt>
    CMDBUS_BENCH_SQLITE=$<TARGET_FILE:bench-sqlite>
    CMDBUS_BENCH_MHD=$<TARGET_FILE:bench-mhd>
    CMDBUS_BENCH_RESPONDER=$<TARGET_FILE:bench-responder>)
endif()

# The load generator of the benchmarks (bench/loadgen), smoke-tested
# against the real dispatcher.
if(TARGET cmdbus-dispatcher AND TARGET cmdbus-loadgen)
  cmdbus_integration_test(loadgen PROGRAMS TIMEOUT 120)
  set_property(TEST integration.loadgen APPEND PROPERTY ENVIRONMENT
    CMDBUS_LOADGEN=$<TARGET_FILE:cmdbus-loadgen>)
endif()
