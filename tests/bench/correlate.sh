#!/usr/bin/env bash
# Benchmark of aiops-correlate: records/s on >= 1 M generated signals beside
# `jq -c .` on the same input in the same run, and peak RSS at 1 M and 4 M
# signals (RSS must not grow with the input: memory is bounded by the window).
#
# Usage: tests/bench/correlate.sh [BIN_DIR]   (default: bin)
# The input is aiops-synth output normalised by aiops-load when that is
# built; otherwise by jq (the same records, slower to prepare).
set -eu
export LC_ALL=C TZ=UTC
bin=${1:-bin}
work=${BENCH_DIR:-$(mktemp -d)}
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
for t in aiops-synth aiops-correlate; do
	[ -x "$bin/$t" ] || { echo "correlate.sh: $bin/$t is not built" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "correlate.sh: jq is needed" >&2; exit 2; }

normalise() { # DIR OUT
	if [ -x "$bin/aiops-load" ]; then
		"$bin/aiops-load" --dataset "$1" >"$2"
		return
	fi
	{
	jq -r '"\(.timestamp)\t" + ({kind:"log", id:("logs:"+(input_line_number|tostring)), ts:.timestamp, service, level, msg:.message} + (if .trace_id then {trace_id, span_id} else {} end) | tojson)' "$1/logs.jsonl"
	jq -r '"\(.timestamp)\t" + ({kind:"metric", id:("metrics:"+(input_line_number|tostring)), ts:.timestamp, service, name, value, unit, labels} | tojson)' "$1/metrics.jsonl"
	jq -r '"\(.timestamp)\t" + ({kind:"span", id:("traces:"+(input_line_number|tostring)), ts:.timestamp, service, trace_id, span_id, parent_id, name, duration_ms, status} | tojson)' "$1/traces.jsonl"
	} | sort -s -t "$(printf '\t')" -k1,1 | cut -f2- >"$2"
}

# About 1.16 M signals: 24 services, 7 h, rate 40; 4.6 M: four times the hours.
gen() { # HOURS OUT
	"$bin/aiops-synth" --seed 11 --services 24 --duration "${1}h" --rate 40 \
		--faults "$1" --out "$work/d$1" >/dev/null
	normalise "$work/d$1" "$2"
}

rss_kb() { # FILE -> peak RSS of aiops-correlate in KiB
	/usr/bin/time -f %M "$bin/aiops-correlate" "$1" 2>&1 >/dev/null | tail -n1
}

secs() { # CMD... -> best wall seconds of 3 runs
	local best= t
	for _ in 1 2 3; do
		t=$( { TIMEFORMAT=%R; time "$@" >/dev/null 2>&1; } 2>&1 )
		if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$t; fi
	done
	echo "$best"
}

gen 7 "$work/1m.jsonl"
n1=$(wc -l <"$work/1m.jsonl")
c=$(secs "$bin/aiops-correlate" "$work/1m.jsonl")
j=$(secs jq -c . "$work/1m.jsonl")
r1=$(rss_kb "$work/1m.jsonl")
gen 28 "$work/4m.jsonl"
n4=$(wc -l <"$work/4m.jsonl")
r4=$(rss_kb "$work/4m.jsonl")
groups=$("$bin/aiops-correlate" "$work/1m.jsonl" | grep -c '"kind":"group"' || true)
awk -v n="$n1" -v c="$c" -v j="$j" -v r1="$r1" -v r4="$r4" -v n4="$n4" -v g="$groups" 'BEGIN {
	printf "bench-correlate: %d signals (%d groups)\n", n, g
	printf "  aiops-correlate  %6.2f s  %9.0f records/s\n", c, n / c
	printf "  jq -c .          %6.2f s  %9.0f records/s\n", j, n / j
	printf "  speed-up         %6.1fx (target >= 3x)\n", j / c
	printf "  peak RSS         %6.1f MiB at %d signals, %.1f MiB at %d signals\n", r1 / 1024, n, r4 / 1024, n4
	if (j / c < 3) { print "bench-correlate: below the 3x target" > "/dev/stderr"; exit 1 }
}'
