# SPDX-License-Identifier: MIT
# Unit tests of the edge agent: the core through fakes and a fake clock,
# the output keeper and seen-table, real processes through the exec
# adapter, the system-facts parsers, and the program's option table.
cmdbus_unit_test(agent_core
  SOURCES unit/test_agent_core.c
  LIBS agent_core OpenSSL::Crypto)
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
