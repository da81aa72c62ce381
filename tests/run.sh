#!/usr/bin/env bash
# Runs the unit tests, every bats suite (or the suites named), and the
# shared stream-contract check, then prints one closing line:
#   N passed, N failed, N skipped
# Usage: tests/run.sh [--unit-only | --contract] [tests/NAME.bats ...]
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root" || exit 2
bin=${AIOPS_BIN:-$root/bin}
unit=${AIOPS_UNIT:-$root/build/unit}
pass=0 fail=0 skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

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
	for t in "$unit"/*; do
		[ -x "$t" ] || continue
		echo "# unit: $(basename "$t")"
		"$t" >"$log" 2>&1
		rc=$?
		cat "$log"
		count
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
		[ -f "$suite" ] || continue
		echo "# bats: $suite"
		AIOPS_BIN=$bin bats --tap "$suite" >"$log" 2>&1
		rc=$?
		cat "$log"
		count
		if [ $rc -ne 0 ] && ! grep -q '^not ok' "$log"; then
			echo "not ok - $suite exited $rc"
			fail=$((fail + 1))
		fi
	done
	contract=$root/../shared/checks/contract.sh
	if [ "$mode" = all ] && [ -x "$contract" ]; then
		echo "# contract: ../shared/checks/contract.sh"
		BIN=$bin "$contract" >"$log" 2>&1
		sed -e 's/^ok    /ok - /' -e 's/^FAIL  /not ok - /' "$log" | grep -v -E '^[0-9]+ passed' >"$log.2"
		mv "$log.2" "$log"
		cat "$log"
		count
	fi
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
