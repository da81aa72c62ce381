#!/usr/bin/env bash
# Runs the unit tests and every bats suite (or the suites named; the
# stream contract is tests/contract.bats), then prints one closing line:
#   N passed, N failed, N skipped
# A suite or unit folder that does not exist, a suite whose TAP plan (1..N)
# does not match the tests it reported, and a suite that runs longer than
# AIOPS_SUITE_TIMEOUT seconds (default 1800) are failures, never skipped.
# Usage: tests/run.sh [--unit-only | --contract] [tests/NAME.bats ...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 2
bin=${AIOPS_BIN:-$root/bin}
unit=${AIOPS_UNIT:-$root/build/unit}
pass=0 fail=0 skip=0
limit=${AIOPS_SUITE_TIMEOUT:-1800}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Fails when $log's plan (1..N) is missing or does not match its tests.
plan() { # name
	local want seen
	want=$(sed -n -E 's/^1\.\.([0-9]+)$/\1/p' "$log" | head -n 1)
	seen=$(grep -E -c '^(not )?ok ' "$log" || true)
	if [ -z "$want" ] || [ "$want" -ne "$seen" ]; then
		echo "not ok - $1: plan 1..${want:-?} but $seen tests reported"
		fail=$((fail + 1))
	fi
}

# Counts TAP lines in $log.
count() {
	local p f s
	p=$(grep -E -c '^ok ' "$log" || true)
	s=$(grep -E -c '^ok .*# (skip|SKIP)' "$log" || true)
	f=$(grep -E -c '^not ok ' "$log" || true)
	pass=$((pass + p - s)) skip=$((skip + s)) fail=$((fail + f))
}

mode=all
case "${1:-}" in
--unit-only) mode=unit; shift ;;
--contract) mode=contract; shift ;;
esac

if [ "$mode" = all ] || [ "$mode" = unit ]; then
	if ! [ -d "$unit" ] || [ -z "$(ls -A "$unit" 2>/dev/null)" ]; then
		echo "not ok - unit tests: no folder or no tests in $unit"
		fail=$((fail + 1))
	fi
	for t in "$unit"/*; do
		[ -x "$t" ] || continue
		echo "# unit: $(basename "$t")"
		"$t" >"$log" 2>&1
		rc=$?
		cat "$log"
		count
		plan "$(basename "$t")"
		if [ $rc -ne 0 ] && ! grep -q '^not ok' "$log"; then
			echo "not ok - $(basename "$t") exited $rc"
			fail=$((fail + 1))
		fi
	done
fi

if [ "$mode" = all ] || [ "$mode" = contract ]; then
	if [ "$mode" = contract ] && [ $# -eq 0 ]; then
		set -- tests/aiops-*.bats
	fi
	if [ $# -eq 0 ]; then
		set -- tests/*.bats
	fi
	for suite in "$@"; do
		if ! [ -f "$suite" ]; then
			echo "not ok - $suite: no such suite"
			fail=$((fail + 1))
			continue
		fi
		echo "# bats: $suite"
		AIOPS_BIN=$bin timeout -k 10 "$limit" bats --tap "$suite" >"$log" 2>&1
		rc=$?
		cat "$log"
		count
		plan "$suite"
		[ $rc -ne 124 ] || echo "# $suite: stopped after $limit s"
		if [ $rc -ne 0 ] && ! grep -q '^not ok' "$log"; then
			echo "not ok - $suite exited $rc"
			fail=$((fail + 1))
		fi
	done
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
