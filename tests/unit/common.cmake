# SPDX-License-Identifier: MIT
# Unit tests of common/: one executable per module.
foreach(_m parse conf buf id log loop clock err)
  cmdbus_unit_test(common_${_m}
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_common_${_m}.c
    LIBS cmdbus_common)
endforeach()
