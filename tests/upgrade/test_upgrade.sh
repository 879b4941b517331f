#!/usr/bin/env bash
# Every released schema version kept in tests/data/states/vN upgrades
# with this build and verifies: tamwild check opens a copy (migrating it,
# after a backup of the old database), checks SQLite's integrity, verifies
# the whole log and replays it against the tables, opens every identity;
# then its at-rest keys are rotated and it verifies again.
#   test_upgrade.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0

for old in "$src"/tests/data/states/v*/; do
	v=$(basename "$old")
	state=$tmp/$v
	cp -r "$old" "$state"
	chmod 700 "$state"
	chmod 600 "$state"/*
	if ! "$build/server/tamwild" check --state "$state" >"$tmp/$v.check" 2>&1; then
		echo "FAIL: $v does not upgrade and verify:"
		cat "$tmp/$v.check"
		exit 1
	fi
	grep -q "all checks passed" "$tmp/$v.check"
	# Its identities open under version 0, the key of the data key...
	grep -q "open under their at-rest keys (version 0: " "$tmp/$v.check"
	# ...and a rotation moves every one of them to a new version.
	if ! "$build/server/tamwild" rekey --state "$state" >"$tmp/$v.rekey" 2>&1 ||
		! grep -q "rekey done: all" "$tmp/$v.rekey" ||
		! "$build/server/tamwild" check --state "$state" >"$tmp/$v.check" 2>&1 ||
		! grep -q "open under their at-rest keys (version 1: " "$tmp/$v.check"; then
		echo "FAIL: $v's identities do not rotate:"
		cat "$tmp/$v.rekey" "$tmp/$v.check"
		exit 1
	fi
	echo "ok: $v upgrades and verifies ($(grep -o '[0-9]* applications' "$tmp/$v.check"))"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "FAIL: no state in tests/data/states"; exit 1; }
echo "$n schema versions upgrade and verify"
