# SPDX-License-Identifier: MIT
# Unit tests of libcmdbus-schema. test_schema_json reaches the private
# strict parser and writer, so it sees schema/src and cJSON.
cmdbus_unit_test(schema_json SOURCES unit/test_schema_json.c
                 LIBS cmdbus_schema PkgConfig::CJSON)
target_include_directories(test_schema_json PRIVATE
                           ${PROJECT_SOURCE_DIR}/schema/src)
cmdbus_unit_test(schema_json_canon SOURCES unit/test_schema_json_canon.c
                 LIBS cmdbus_schema PkgConfig::CJSON)
target_include_directories(test_schema_json_canon PRIVATE
                           ${PROJECT_SOURCE_DIR}/schema/src)
cmdbus_unit_test(schema_vectors SOURCES unit/test_schema_vectors.c
                 unit/test_schema_files.c
                 LIBS cmdbus_schema)
cmdbus_unit_test(schema_topic SOURCES unit/test_schema_topic.c
                 LIBS cmdbus_schema)
cmdbus_unit_test(schema_msg SOURCES unit/test_schema_msg.c
                 LIBS cmdbus_schema)
cmdbus_unit_test(schema_envelope SOURCES unit/test_schema_envelope.c
                 unit/test_schema_files.c
                 LIBS cmdbus_schema)
# REST bodies, one executable per concern: requests, views, devices,
# targeting (label selectors).
cmdbus_unit_test(schema_rest_request SOURCES unit/test_schema_rest_request.c
                 unit/test_schema_files.c
                 LIBS cmdbus_schema)
cmdbus_unit_test(schema_rest_views SOURCES unit/test_schema_rest_views.c
                 unit/test_schema_files.c
                 LIBS cmdbus_schema)
cmdbus_unit_test(schema_rest_devices SOURCES unit/test_schema_rest_devices.c
                 unit/test_schema_files.c
                 LIBS cmdbus_schema)
cmdbus_unit_test(schema_rest_selector SOURCES unit/test_schema_rest_selector.c
                 LIBS cmdbus_schema)
cmdbus_unit_test(schema_action SOURCES unit/test_schema_action.c
                 LIBS cmdbus_schema)
cmdbus_unit_test(schema_jsonv SOURCES unit/test_schema_jsonv.c
                 LIBS cmdbus_schema)
