# SPDX-License-Identifier: MIT
# Unit tests of the cmdbus CLI: argument parsing, the URL and token lookup
# (flags, environment, config file), the -l selector terms, the request
# body and the progress line.
cmdbus_unit_test(cli_args SOURCES unit/test_cli_args.c LIBS cli_args)
cmdbus_unit_test(cli_config SOURCES unit/test_cli_config.c LIBS cli_args)
cmdbus_unit_test(cli_body SOURCES unit/test_cli_body.c LIBS cli_args)
cmdbus_unit_test(cli_selector SOURCES unit/test_cli_selector.c LIBS cli_args)
cmdbus_unit_test(cli_render SOURCES unit/test_cli_render.c ../cli/render.c
                 LIBS cli_args)
