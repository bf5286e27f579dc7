# SPDX-License-Identifier: MIT
# AddressSanitizer and UndefinedBehaviorSanitizer as an option; ./run test
# switches it on. UBSan findings abort so that a test fails on them.
add_library(cmdbus_sanitizers INTERFACE)
if(CMDBUS_SANITIZE)
  set(_san -fsanitize=address,undefined -fno-sanitize-recover=all
           -fno-omit-frame-pointer)
  target_compile_options(cmdbus_sanitizers INTERFACE ${_san})
  target_link_options(cmdbus_sanitizers INTERFACE ${_san})
endif()
