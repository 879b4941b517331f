#!/usr/bin/env bash
# tamwil-prefill on a small count: the folder it makes passes `tamwild
# check` (integrity, every signature and checkpoint of the log, the
# replay equal to the tables), holds the applications asked for in the
# expected states, grows when run again, is measured by tamwil-bench
# --state, and bad command lines are refused with a sentence.
#   test_prefill.sh BUILD_DIR
set -euo pipefail
build=$1
prefill=$build/bench/tamwil-prefill
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
state=$tmp/state

fail() { echo "FAIL: $*"; exit 1; }

# Refusals: each names what was wrong and exits 2.
for args in "-n 10" "--state $state" "--state $state -n -1" \
	"--state $state -n 10x" "--state $state -n 10 --chunk 0" \
	"--state $state -n 99999999" "--state $state -n 10 extra"; do
	set +e
	# shellcheck disable=SC2086
	"$prefill" $args >"$tmp/out" 2>&1
	rc=$?
	set -e
	[ "$rc" -eq 2 ] || fail "'$args' exited $rc, not 2"
	grep -q "^tamwil-prefill: " "$tmp/out" || fail "'$args' said no reason"
done
[ ! -e "$state" ] || fail "a refused command line created the folder"

# 130 applications in transactions of 50: a programme change inside
# no transaction, decisions for every block of 21.
"$prefill" --state "$state" -n 130 --chunk 50 >"$tmp/out"
grep -q "^130 applications in $state: 130 added" "$tmp/out" ||
	fail "unexpected summary: $(cat "$tmp/out")"
"$build/server/tamwild" check --state "$state" >"$tmp/check" 2>&1 ||
	fail "tamwild check failed: $(cat "$tmp/check")"
grep -q "all checks passed" "$tmp/check" || fail "check did not pass"
grep -q "database: 130 applications" "$tmp/check" ||
	fail "check counted: $(grep applications "$tmp/check")"

# Run again: already there; then grown to 150 with fresh principals.
"$prefill" --state "$state" -n 100 >"$tmp/out"
grep -q "already holds 130 applications" "$tmp/out" || fail "not kept"
"$prefill" --state "$state" -n 150 >"$tmp/out"
grep -q "^150 applications in $state: 20 added" "$tmp/out" ||
	fail "not grown: $(cat "$tmp/out")"
"$build/server/tamwild" check --state "$state" >"$tmp/check" 2>&1 ||
	fail "tamwild check failed after growing: $(cat "$tmp/check")"

# A running daemon's folder is refused (its lock is held).
exec 9>"$state/tamwild.lock"
flock -n 9
set +e
"$prefill" --state "$state" -n 200 >"$tmp/out" 2>&1
rc=$?
set -e
exec 9>&-
[ "$rc" -eq 1 ] || fail "a locked folder was filled (exit $rc)"
grep -q "running" "$tmp/out" || fail "no reason for the lock: $(cat "$tmp/out")"

# The benchmark measures the folder: its count is the prefill's.
"$build/bench/tamwil-bench" --state "$state" -w list -c 1 -n 5 --json \
	>"$tmp/bench.json" 2>"$tmp/bench.err" ||
	fail "tamwil-bench --state failed: $(cat "$tmp/bench.err")"
grep -q '"applications_at_start": *150' "$tmp/bench.json" ||
	fail "the benchmark saw: $(cat "$tmp/bench.json")"
echo "ok: prefill, check, growth, lock and benchmark"
