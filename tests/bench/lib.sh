# Shared helpers of the `make bench` scripts (tests/bench/{scale,pass,
# pipeline,mlflow,report}.sh).  Sourced, not run.
#
#   BENCH_BIN     the built stages (default bin)
#   BENCH_CACHE   generated inputs, kept between runs (default build/bench-cache,
#                 ignored by git; never the repository itself)
#   BENCH_ROWS    the table rows are appended here (TSV, see add_row)
#   BENCH_RUNS    timed repetitions per command (default 3; the median is kept)
#
# Timing discipline: the machine is shared, so every number that is
# compared is measured in the same run as its reference, and repetitions
# are interleaved (A B A B A B, not A A A B B B) so a burst of load from
# elsewhere hits both sides.  The median of the repetitions is reported.
# shellcheck shell=bash

export LC_ALL=C TZ=UTC
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_BIN=$(cd "${BENCH_BIN:-$BENCH_ROOT/bin}" 2>/dev/null && pwd || echo "${BENCH_BIN:-$BENCH_ROOT/bin}")
BENCH_CACHE=${BENCH_CACHE:-$BENCH_ROOT/build/bench-cache}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_ROWS=${BENCH_ROWS:-/dev/stdout}

bench_tmp=$(mktemp -d "${TMPDIR:-/tmp}/aiops-bench.XXXXXX")
# shellcheck disable=SC2317 # called from the EXIT trap
bench_cleanup() { rm -rf "$bench_tmp"; }
trap bench_cleanup EXIT

have() { [ -x "$BENCH_BIN/$1" ]; }

note() { printf '%s\n' "$*" >&2; }

# One row of the table, tab-separated:
#   benchmark, input, result, reference (measured in the same run), ratio,
#   target, verdict (met / MISSED / - / not built yet), and optionally the
#   CPU seconds (user + system, median) of the stage and of its references
#   beside the wall times of the result and reference columns
add_row() {
	local IFS=$'\t'
	if [ "$BENCH_ROWS" = /dev/stdout ]; then
		printf '%s\n' "$*"
	else
		printf '%s\n' "$*" >>"$BENCH_ROWS"
	fi
}

# Lines per minute of aiops-synth at --rate 100 with 10 services, roughly
# (traffic follows a daily sine, so the rate depends on the hours covered);
# dataset() corrects the duration from the count it gets.
synth_minutes() { # signals -> minutes
	echo $((($1 + 6999) / 7000))
}

# human 1000000 -> 1M, 250000 -> 250k
human() {
	awk -v n="$1" 'BEGIN {
		if (n >= 1e6 && n % 1e6 == 0) printf "%dM", n / 1e6
		else if (n >= 1e6) printf "%.1fM", n / 1e6
		else if (n >= 1e3) printf "%dk", n / 1e3
		else printf "%d", n }'
}

# A generated dataset of N signals (within 3%) in $BENCH_CACHE/synth-N,
# reused when complete: the aiops-synth files, and loaded.jsonl, the
# aiops-load output (the input of aiops-correlate).  Prints the directory.
dataset() { # N
	local n=$1 d=$BENCH_CACHE/synth-$1 m f args lines
	if ! grep -q '^v2 ' "$d/.done" 2>/dev/null; then
		m=$(synth_minutes "$n")
		for _ in 1 2 3; do
			[ "$m" -ge 5 ] || m=5
			f=$((m / 20))
			[ "$f" -ge 7 ] || f=7
			[ "$m" -ge 40 ] || f=1
			args="--seed 42 --duration ${m}m --rate 100 --faults $f"
			rm -rf "$d"
			mkdir -p "$d" || return 1
			note "bench: generating about $(human "$n") signals (aiops-synth $args)"
			# shellcheck disable=SC2086 # words of the argument list
			"$BENCH_BIN/aiops-synth" $args --out "$d/data" >/dev/null || return 1
			lines=$(cat "$d"/data/{logs,metrics,traces}.jsonl | wc -l)
			if awk -v a="$lines" -v b="$n" 'BEGIN { d = (a - b) / b; exit !(d < 0.03 && d > -0.03) }'; then
				break
			fi
			m=$(awk -v m="$m" -v a="$lines" -v b="$n" 'BEGIN { printf "%d", m * b / a + 0.5 }')
		done
		echo "v2 $args ($lines lines)" >"$d/.done"
	fi
	if [ ! -f "$d/.loaded" ] && have aiops-load; then
		"$BENCH_BIN/aiops-load" --run-id 0 --dataset "$d/data" >"$d/loaded.jsonl" 2>/dev/null || return 1
		touch "$d/.loaded"
	fi
	echo "$d"
}

# Signal lines and bytes of a dataset's three signal files.
signal_files() { # dir
	local f
	for f in logs metrics traces; do echo "$1/data/$f.jsonl"; done
}

# Runs a command once: stdout to /dev/null, stderr kept in $bench_tmp/err.
# Sets T_WALL (seconds), T_RSS (peak KiB), T_CPU (user+sys seconds).
# The command runs directly (no shell) unless it is a single string given
# with -c, which runs under bash (pipes): then T_RSS is the largest process.
T_WALL=0 T_RSS=0 T_CPU=0
timed() {
	local t0 t1 rc u s
	if [ "$1" = -c ]; then set -- bash -o pipefail -c "$2"; fi
	t0=$(date +%s%N)
	/usr/bin/time -o "$bench_tmp/time" -f '%M %U %S' "$@" >/dev/null 2>"$bench_tmp/err"
	rc=$?
	t1=$(date +%s%N)
	T_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
	read -r T_RSS u s < <(tail -n1 "$bench_tmp/time")
	T_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	if [ $rc -ne 0 ]; then
		note "bench: '$*' exited $rc: $(tail -n3 "$bench_tmp/err")"
	fi
	return $rc
}

# The median of numbers given as arguments.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Times several commands, interleaved, BENCH_RUNS times (after one warm-up
# round when BENCH_WARMUP=1, the default).  Commands are given as NAME=CMD
# (CMD run by bash).  For each NAME sets BW[NAME] (median wall seconds),
# BC[NAME] (median CPU seconds, user + system, of all its processes) and
# BR[NAME] (largest peak RSS in KiB).
# shellcheck disable=SC2034 # BW BC BR are read by the callers
compare() {
	local runs=${RUNS:-$BENCH_RUNS} r spec name cmd
	declare -gA BW BR BC
	local -A walls cpus
	if [ "${BENCH_WARMUP:-1}" = 1 ]; then
		for spec in "$@"; do timed -c "${spec#*=}" || true; done
	fi
	for ((r = 1; r <= runs; r++)); do
		for spec in "$@"; do
			name=${spec%%=*} cmd=${spec#*=}
			timed -c "$cmd" || return 1
			walls[$name]="${walls[$name]:-} $T_WALL"
			cpus[$name]="${cpus[$name]:-} $T_CPU"
			if [ "${BR[$name]:-0}" -lt "$T_RSS" ]; then BR[$name]=$T_RSS; fi
		done
	done
	for spec in "$@"; do
		name=${spec%%=*}
		# shellcheck disable=SC2086 # a list of numbers
		BW[$name]=$(median ${walls[$name]})
		# shellcheck disable=SC2086 # a list of numbers
		BC[$name]=$(median ${cpus[$name]})
	done
}

# Formats: fmt_rate RECORDS SECONDS -> "1.23 M rec/s"
fmt_rate() {
	awk -v n="$1" -v t="$2" 'BEGIN { r = n / t
		if (r >= 1e6) printf "%.2f M rec/s", r / 1e6; else printf "%.0f k rec/s", r / 1e3 }'
}
fmt_mbs() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.0f MB/s", b / t / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "nan"; else printf "%.2f", a / b }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
