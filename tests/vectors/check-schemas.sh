#!/bin/sh
# SPDX-License-Identifier: MIT
# Validates every golden vector against its JSON Schema (schema/json/) with
# ajv-cli, so that the schemas and the C codec agree: valid vectors must
# pass, invalid ones marked schema-rejects=yes must fail (the others break
# rules JSON Schema cannot see: duplicate keys, 1.0 for an integer ...).
# The payload inside each valid envelope is validated too, extracted with
# python3. ajv-cli is installed with npm into $CMDBUS_NPM_DIR (default
# ./build/npm). Prints "N passed, N failed"; exits non-zero on a failure.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SCHEMAS=$ROOT/schema/json
NPM_DIR=${CMDBUS_NPM_DIR:-./build/npm}
mkdir -p "$NPM_DIR"
NPM_DIR=$(cd "$NPM_DIR" && pwd)
AJV=$NPM_DIR/node_modules/.bin/ajv

if [ ! -x "$AJV" ] || [ ! -d "$NPM_DIR/node_modules/ajv-formats" ]; then
	echo "installing ajv-cli into $NPM_DIR" >&2
	npm install --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error \
		ajv-cli@5 ajv-formats@2 >&2 || {
		echo "npm install failed" >&2
		exit 2
	}
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

pass=0
fail=0
skip=0
n=0

# Sort the vectors into batches, one per schema and expected outcome, so
# that node starts a few times rather than once per file.
while IFS='	' read -r path schema expect rejects opts; do
	case $path in '#'* | '') continue ;; esac
	if [ "$expect" = ok ]; then
		echo "$HERE/$path" >>"$TMP/valid.$schema"
		if [ "$schema" = envelope ]; then
			n=$((n + 1))
			if python3 -c 'import json,sys
sys.stdout.write(json.load(open(sys.argv[1], encoding="utf-8"))["payload"])' \
				"$HERE/$path" >"$TMP/payload-$n.json"; then
				echo "$TMP/payload-$n.json" >>"$TMP/valid.payload"
			else
				echo "FAIL $path: payload not extracted" >&2
				fail=$((fail + 1))
			fi
		fi
	elif [ "$rejects" = yes ]; then
		echo "$HERE/$path" >>"$TMP/invalid.$schema"
	else
		skip=$((skip + 1))
	fi
done <"$HERE/MANIFEST"

# batch LIST SCHEMA: runs ajv once over the files of LIST; its per-file
# verdicts ("FILE valid" / "FILE invalid") land in $TMP/out.
batch() {
	main=$SCHEMAS/$2.schema.json
	list=$1
	if [ ! -f "$main" ]; then
		echo "no schema $main" >"$TMP/out"
		return
	fi
	set --
	# Every other schema is a reference, so that $refs between files
	# resolve.
	for s in "$SCHEMAS"/*.schema.json; do
		[ "$s" = "$main" ] || set -- "$@" -r "$s"
	done
	while read -r f; do
		set -- "$@" -d "$f"
	done <"$list"
	# ajv-formats is resolved from the directory it was installed in.
	(cd "$NPM_DIR" && "$AJV" validate --spec=draft2020 -c ajv-formats \
		-s "$main" "$@") >"$TMP/out" 2>&1
}

for list in "$TMP"/valid.* "$TMP"/invalid.*; do
	[ -f "$list" ] || continue
	kind=${list##*/}
	want=${kind%%.*}
	schema=${kind#*.}
	batch "$list" "$schema"
	while read -r f; do
		rel=${f#"$HERE"/}
		if grep -Fxq "$f $want" "$TMP/out"; then
			pass=$((pass + 1))
			continue
		fi
		fail=$((fail + 1))
		if [ "$want" = valid ]; then
			echo "FAIL $rel: refused by $schema.schema.json" >&2
		else
			echo "FAIL $rel: accepted by $schema.schema.json" >&2
		fi
		# The errors ajv printed for this file, if any.
		awk -v f="$f invalid" 'p && /^\// { exit } p { print "    " $0 }
			$0 == f { p = 1 }' "$TMP/out" | head -20 >&2
		grep -Fxq "$f valid" "$TMP/out" || grep -Fxq "$f invalid" \
			"$TMP/out" || sed 's/^/    /' "$TMP/out" | head -5 >&2
	done <"$list"
done

echo "$skip invalid vectors break rules JSON Schema cannot see; skipped"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
