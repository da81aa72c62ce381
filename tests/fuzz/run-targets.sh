#!/usr/bin/env bash
# Runs libFuzzer targets, up to JOBS at a time, and prints one TAP line per
# target in the order given: "ok - NAME: N executions", or "not ok" with the
# tail of its log (a crash, leak, timeout, sanitizer report, or 0
# executions).  Each target starts from a copy of its seed corpus
# (tests/fuzz/corpus/NAME without the fuzz_ prefix).  Exit status: the
# number of failed targets.
#
#   tests/fuzz/run-targets.sh OUTDIR SECONDS JOBS BIN...
set -u
out=$1 secs=$2 jobs=$3
shift 3

# shellcheck disable=SC2317  # called through xargs
one() { # bin
	local b=$1 n c x
	n=$(basename "$b")
	c=$out/corpus/$n
	mkdir -p "$c"
	cp tests/fuzz/corpus/"${n#fuzz_}"/* "$c"/ 2>/dev/null
	if ASAN_OPTIONS=detect_leaks=1 "$b" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$out/$n-" "$c" \
		>"$out/$n.log" 2>&1; then
		x=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$n.log" | grep -o '[0-9]*$')
		if [ "${x:-0}" -gt 0 ]; then
			echo "ok - $n: $x executions" >"$out/$n.result"
		else
			echo "not ok - $n: 0 executions" >"$out/$n.result"
		fi
	else
		{ echo "not ok - $n: see $out/$n.log"; tail -n 30 "$out/$n.log"; } >"$out/$n.result"
	fi
}
export -f one
export out secs

for b in "$@"; do rm -f "$out/$(basename "$b").result"; done
echo "fuzz: $# targets for $secs s each, $jobs at a time"
# shellcheck disable=SC2016  # $1 is the inner shell's
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'one "$1"' _ {}
fails=0
for b in "$@"; do
	r=$out/$(basename "$b").result
	if [ -f "$r" ]; then
		cat "$r"
		grep -q '^not ok' "$r" && fails=$((fails + 1))
	else
		echo "not ok - $(basename "$b"): no result"
		fails=$((fails + 1))
	fi
done
exit "$fails"
