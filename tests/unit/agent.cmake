# SPDX-License-Identifier: MIT
# Unit tests of the edge agent: the core through fakes and a fake clock
# (checks, handlers, runs, queue and cancels, live output),
# the journal (on a fake file and a real one), the output keeper, real
# processes through the exec adapter, the system-facts parsers, and the
# program's option table.
# The core through messages, one executable per concern, over the fake
# ports of agent_fake_core.c.
cmdbus_unit_test(agent_checks
  SOURCES unit/test_agent_checks.c unit/agent_fake_core.c
          unit/test_keys.c
  LIBS agent_core OpenSSL::Crypto)
# Signed commands: each refusal with its code, and the agent's own
# signature on what it publishes.
cmdbus_unit_test(agent_signing
  SOURCES unit/test_agent_signing.c unit/agent_fake_core.c
          unit/test_keys.c
  LIBS agent_core OpenSSL::Crypto)
foreach(area handlers runs queue stream)
  cmdbus_unit_test(agent_${area}
    SOURCES unit/test_agent_${area}.c unit/agent_fake_core.c
    LIBS agent_core)
endforeach()
cmdbus_unit_test(agent_journal
  SOURCES unit/test_agent_journal.c unit/agent_fake_file.c
  LIBS agent_core)
# The journal's index: lookups among many ids, forgetting, a replay
# after forgetting, one write for a ping, zeros as room.
cmdbus_unit_test(agent_journal_index
  SOURCES unit/test_agent_journal_index.c unit/agent_fake_file.c
          unit/agent_fake_core.c
  LIBS agent_core)
cmdbus_unit_test(agent_journal_core
  SOURCES unit/test_agent_journal_core.c unit/agent_fake_file.c
          unit/agent_fake_core.c
  LIBS agent_core)
cmdbus_unit_test(agent_journal_file
  SOURCES unit/test_agent_journal_file.c
  LIBS agent_journal_file)
cmdbus_unit_test(agent_output
  SOURCES unit/test_agent_output.c
  LIBS agent_core)
cmdbus_unit_test(agent_exec
  SOURCES unit/test_agent_exec.c
  LIBS agent_exec)
cmdbus_unit_test(agent_sysinfo
  SOURCES unit/test_agent_sysinfo.c
  LIBS agent_sysinfo)
cmdbus_unit_test(agent_config
  SOURCES unit/test_agent_config.c ${PROJECT_SOURCE_DIR}/edge-agent/config.c
  LIBS cmdbus_agent)
target_include_directories(test_agent_config PRIVATE
  ${PROJECT_SOURCE_DIR}/edge-agent)
# The catalog on its own: parsing, parameter rules and substitution.
cmdbus_unit_test(agent_catalog
  SOURCES unit/test_agent_catalog.c
          ${PROJECT_SOURCE_DIR}/edge-agent/core/catalog.c
          ${PROJECT_SOURCE_DIR}/edge-agent/core/catalog_param.c
  LIBS cmdbus_schema cmdbus_common)
target_include_directories(test_agent_catalog PRIVATE
  ${PROJECT_SOURCE_DIR}/edge-agent/core)
# The registry inside the core: catalog, shell, run-as, reload, status.
cmdbus_unit_test(agent_registry
  SOURCES unit/test_agent_registry.c unit/agent_fake_core.c
  LIBS agent_core)
