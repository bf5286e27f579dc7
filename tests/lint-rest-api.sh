#!/bin/sh
# SPDX-License-Identifier: MIT
# Lints docs/rest-api.yaml (OpenAPI 3.1) with @redocly/cli from npm,
# installed into $CMDBUS_NPM_DIR (default ./build/npm) on first run, with
# the rules of docs/redocly.yaml. Exits non-zero on any problem.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
DOCS=$HERE/../docs
NPM_DIR=${CMDBUS_NPM_DIR:-./build/npm}
mkdir -p "$NPM_DIR"
NPM_DIR=$(cd "$NPM_DIR" && pwd)
REDOCLY=$NPM_DIR/node_modules/.bin/redocly

if [ ! -x "$REDOCLY" ]; then
	echo "installing @redocly/cli into $NPM_DIR" >&2
	npm install --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error \
		@redocly/cli >&2 || {
		echo "npm install failed" >&2
		exit 1
	}
fi
cd "$DOCS"
# No telemetry and no update check: the lint must not depend on the
# network once the tool is installed.
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	"$REDOCLY" lint --config redocly.yaml rest-api.yaml
