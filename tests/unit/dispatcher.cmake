# SPDX-License-Identifier: MIT
# Unit tests of cmdbus-dispatcher. The core is driven through fake ports
# (test_dispatcher_fakes.c); the store is tested against real SQLite and
# the REST adapter against a real libmicrohttpd on a loopback port.
cmdbus_unit_test(dispatcher_lifecycle
  SOURCES unit/test_dispatcher_lifecycle.c
  LIBS dispatcher_core)
cmdbus_unit_test(dispatcher_jobs
  SOURCES unit/test_dispatcher_jobs.c unit/test_dispatcher_fakes.c
          unit/test_schema_files.c
  LIBS dispatcher_core)
cmdbus_unit_test(dispatcher_ingest
  SOURCES unit/test_dispatcher_ingest.c unit/test_dispatcher_fakes.c
  LIBS dispatcher_core)
cmdbus_unit_test(dispatcher_devkeys
  SOURCES unit/test_dispatcher_devkeys.c unit/test_dispatcher_fakes.c
          unit/test_keys.c
  LIBS dispatcher_core OpenSSL::Crypto)
cmdbus_unit_test(dispatcher_store
  SOURCES unit/test_dispatcher_store.c unit/test_store_tmp.c
  LIBS dispatcher_store)
cmdbus_unit_test(dispatcher_sync
  SOURCES unit/test_dispatcher_sync.c unit/test_store_tmp.c
  LIBS dispatcher_store Threads::Threads)
cmdbus_unit_test(dispatcher_output
  SOURCES unit/test_dispatcher_output.c
  LIBS dispatcher_store)
cmdbus_unit_test(dispatcher_query
  SOURCES unit/test_dispatcher_query.c
  LIBS dispatcher_store)
cmdbus_unit_test(dispatcher_http
  SOURCES unit/test_dispatcher_http.c unit/test_dispatcher_http_fx.c
          unit/test_dispatcher_fakes.c
  LIBS dispatcher_http dispatcher_store Threads::Threads)
cmdbus_unit_test(dispatcher_http_roles
  SOURCES unit/test_dispatcher_http_roles.c unit/test_dispatcher_http_fx.c
          unit/test_dispatcher_fakes.c
  LIBS dispatcher_http dispatcher_store Threads::Threads)
cmdbus_unit_test(dispatcher_http_auth
  SOURCES unit/test_dispatcher_http_auth.c
  LIBS dispatcher_http)
cmdbus_unit_test(dispatcher_config
  SOURCES unit/test_dispatcher_config.c
          ${PROJECT_SOURCE_DIR}/dispatcher/config.c
  LIBS dispatcher_core)
target_include_directories(test_dispatcher_config PRIVATE
                           ${PROJECT_SOURCE_DIR}/dispatcher)
target_compile_definitions(test_dispatcher_config PRIVATE
  DISPATCHER_EXAMPLE="${PROJECT_SOURCE_DIR}/dispatcher/cmdbus-dispatcher.conf.example")
cmdbus_unit_test(dispatcher_sweep
  SOURCES unit/test_dispatcher_sweep.c unit/test_dispatcher_fakes.c
  LIBS dispatcher_core)
cmdbus_unit_test(dispatcher_metrics
  SOURCES unit/test_dispatcher_metrics.c unit/test_dispatcher_fakes.c
  LIBS dispatcher_core)
cmdbus_unit_test(dispatcher_batch
  SOURCES unit/test_dispatcher_batch.c unit/test_store_tmp.c
  LIBS dispatcher_store)
cmdbus_unit_test(dispatcher_rollout
  SOURCES unit/test_dispatcher_rollout.c unit/test_dispatcher_fakes.c
  LIBS dispatcher_core)
