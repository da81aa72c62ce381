#!/usr/bin/env bash
# bench-load: aiops-load throughput (wall and CPU seconds) beside `jq -c .`
# and `cat` on the same file, and peak RSS at 1 M and 4 M lines of sorted
# input.  A benchmark, not a test: it asserts nothing.
#   BIN=bin tests/bench/load.sh [WORKDIR]
set -eu
bin=${BIN:-bin}
work=${1:-${TMPDIR:-/tmp}/aiops-bench-load}
mkdir -p "$work"
export LC_ALL=C TZ=UTC

# >= 1 M signal lines: at --rate 100, 150 minutes give about 1.1 M lines
# (logs, metrics and spans) and 9 hours about 4 M.
gen() { # dir duration rate
	[ -s "$1/traces.jsonl" ] || "$bin/aiops-synth" --duration "$2" --rate "$3" --out "$1" >/dev/null
}
gen "$work/d1" 150m 100
gen "$work/d4" 9h 100
cat "$work/d1/logs.jsonl" "$work/d1/metrics.jsonl" "$work/d1/traces.jsonl" >"$work/all1.jsonl"
n1=$(cat "$work"/d1/{logs,metrics,traces}.jsonl | wc -l)
n4=$(cat "$work"/d4/{logs,metrics,traces}.jsonl | wc -l)
bytes=$(wc -c <"$work/all1.jsonl")

# Warm the page cache.
cat "$work"/d1/* "$work"/d4/* >/dev/null

# Wall and CPU (user + system) seconds of one run: "WALL CPU".
timed() { # command...
	/usr/bin/time -o "$work/time" -f '%e %U %S' sh -c "$* >/dev/null 2>&1" || true
	awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$work/time"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
rss() { # command... -> peak RSS in KiB
	/usr/bin/time -f %M sh -c "$* >/dev/null 2>/dev/null" 2>&1 | tail -n1
}

# Three interleaved rounds (load, jq, cat, load, ...): a burst of load
# from elsewhere on the shared machine hits every tool alike.
names=(aiops-load jq cat)
cmds=("$bin/aiops-load --run-id 0 --dataset $work/d1" "jq -c . $work/all1.jsonl" "cat $work/all1.jsonl")
: >"$work/times"
for _ in 1 2 3; do
	for i in 0 1 2; do
		echo "$i $(timed "${cmds[$i]}")" >>"$work/times"
	done
done
for i in 0 1 2; do
	wall[i]=$(awk -v i="$i" '$1 == i { print $2 }' "$work/times" | median)
	cpu[i]=$(awk -v i="$i" '$1 == i { print $3 }' "$work/times" | median)
done
r1=$(rss "$bin/aiops-load --dataset $work/d1")
r4=$(rss "$bin/aiops-load --dataset $work/d4")

printf '\nbench-load: %d signal lines, %.1f MB (page cache warm; medians of 3 interleaved runs)\n\n' \
	"$n1" "$(echo "$bytes/1000000" | bc -l)"
printf '%-12s %9s %9s %12s %10s\n' tool wall-s cpu-s records/s MB/s
for i in 0 1 2; do
	awk -v n="${names[$i]}" -v t="${wall[$i]}" -v c="${cpu[$i]}" -v r="$n1" -v b="$bytes" \
		'BEGIN { if (t > 0) printf "%-12s %9.3f %9.2f %12.0f %10.1f\n", n, t, c, r / t, b / t / 1e6
		else printf "%-12s %9.3f %9.2f %12s %10s\n", n, t, c, "-", "-" }'
done
awk -v a="${wall[1]}" -v b="${wall[0]}" -v c="${cpu[1]}" -v d="${cpu[0]}" \
	'BEGIN { printf "\naiops-load vs jq -c .: %.2fx by CPU seconds (the measure on a shared machine), %.2fx by wall\n", c / d, a / b }'
printf '\npeak RSS (sorted input): %d lines %d KiB, %d lines %d KiB (%+.1f%%)\n' \
	"$n1" "$r1" "$n4" "$r4" "$(echo "($r4 - $r1) * 100 / $r1" | bc -l)"
