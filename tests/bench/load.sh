#!/usr/bin/env bash
# bench-load: aiops-load throughput beside `jq -c .` and `cat` on the same
# file, and peak RSS at 1 M and 4 M lines of sorted input.  A benchmark, not
# a test: it asserts nothing.
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

secs() { # command... -> median seconds of 3 runs
	if command -v hyperfine >/dev/null; then
		hyperfine -N --runs 3 --warmup 1 --export-json "$work/h.json" "$*" >/dev/null 2>&1 || true
		jq -r '.results[0].median' "$work/h.json"
	else
		/usr/bin/time -f %e sh -c "$* >/dev/null" 2>&1 | tail -n1
	fi
}
rss() { # command... -> peak RSS in KiB
	/usr/bin/time -f %M sh -c "$* >/dev/null 2>/dev/null" 2>&1 | tail -n1
}

t_load=$(secs "sh -c '$bin/aiops-load --dataset $work/d1 >/dev/null 2>&1'")
t_jq=$(secs "sh -c 'jq -c . $work/all1.jsonl >/dev/null'")
t_cat=$(secs "sh -c 'cat $work/all1.jsonl >/dev/null'")
r1=$(rss "$bin/aiops-load --dataset $work/d1")
r4=$(rss "$bin/aiops-load --dataset $work/d4")

printf '\nbench-load: %d signal lines, %.1f MB (page cache warm)\n\n' "$n1" "$(echo "$bytes/1000000" | bc -l)"
printf '%-28s %10s %12s %10s\n' tool seconds records/s MB/s
for row in "aiops-load --dataset:$t_load" "jq -c .:$t_jq" "cat:$t_cat"; do
	name=${row%%:*} t=${row##*:}
	awk -v n="$name" -v t="$t" -v r="$n1" -v b="$bytes" \
		'BEGIN { printf "%-28s %10.3f %12.0f %10.1f\n", n, t, r / t, b / t / 1e6 }'
done
awk -v a="$t_jq" -v b="$t_load" 'BEGIN { printf "\naiops-load vs jq -c .: %.2fx\n", a / b }'
printf '\npeak RSS (sorted input): %d lines %d KiB, %d lines %d KiB (%+.1f%%)\n' \
	"$n1" "$r1" "$n4" "$r4" "$(echo "($r4 - $r1) * 100 / $r1" | bc -l)"
