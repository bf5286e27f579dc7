# SPDX-License-Identifier: MIT
# Strict warnings on an INTERFACE target, in the spirit of curl's
# PickyWarnings.cmake; -Werror only when CMDBUS_WERROR is on.
add_library(cmdbus_warnings INTERFACE)
target_compile_options(cmdbus_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wold-style-definition -Wformat=2 -Wformat-security -Wvla -Wcast-qual
  -Wpointer-arith -Wwrite-strings -Wundef -Wnull-dereference
  -Wimplicit-fallthrough -Wmissing-declarations -Wredundant-decls
  -Wnested-externs -Wdouble-promotion -Wno-unused-parameter
  $<$<C_COMPILER_ID:GNU>:-Wlogical-op -Wduplicated-cond -Wjump-misses-init>)
if(CMDBUS_WERROR)
  target_compile_options(cmdbus_warnings INTERFACE -Werror)
endif()
