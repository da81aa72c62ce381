#!/usr/bin/env bash
# The `make bench` aggregator: runs every benchmark, prints one table and
# writes it, with the machine description, into bench/results.md between
# the markers <!-- bench:begin --> and <!-- bench:end --> (the analysis
# outside them is kept).
#
#   BENCH_BIN=bin BENCH_SIZES="1000000 10000000" tests/bench/report.sh
#
# Knobs (environment):
#   BENCH_SIZES       signal counts for aiops-load/aiops-correlate (default
#                     "1000000 10000000"; the first one also sizes the
#                     pass-through and pipeline rows)
#   BENCH_RUNS        timed repetitions, interleaved, median kept (default 3;
#                     sizes above 2 M: BENCH_RUNS_LARGE, default 1)
#   BENCH_CACHE       generated inputs (default build/bench-cache)
#   BENCH_OUT         rows, logs and the table (default build/bench)
#   BENCH_ONLY        a subset of: scale pass pipeline llm mlflow
#   BENCH_RESULTS     the results file (default bench/results.md; "-" for none)
#   AIOPS_BENCH_LLM_LOG  the output of a bench-llm run made just before (by
#                     make bench); without it tests/bench/llm.sh is run here
#   BENCH_EXTRA       files with other benchmarks' output to append verbatim
#                     (the stage engineers' bench-load and bench-correlate)
# A benchmark whose stage is not built prints a "not built yet" row.
# Benchmarks are not tests: nothing here fails on a missed target.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export BENCH_BIN=${BENCH_BIN:-$root/bin}
export BENCH_CACHE=${BENCH_CACHE:-$root/build/bench-cache}
export BENCH_SIZES=${BENCH_SIZES:-1000000 10000000}
out=${BENCH_OUT:-$root/build/bench}
only=${BENCH_ONLY:-scale pass pipeline llm mlflow}
results=${BENCH_RESULTS:-$root/bench/results.md}
mkdir -p "$out" "$BENCH_CACHE"
export BENCH_ROWS=$out/rows.tsv
: >"$BENCH_ROWS"

want() { case " $only " in *" $1 "*) return 0 ;; esac; return 1; }
row() { local IFS=$'\t'; printf '%s\n' "$*" >>"$BENCH_ROWS"; }

load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
load_start=$(load_avg)
t_start=$(date +%s)

want scale && "$here/scale.sh"
want pass && "$here/pass.sh"
want pipeline && "$here/pipeline.sh"

if want llm; then
	log=${AIOPS_BENCH_LLM_LOG:-}
	if [ -z "$log" ] || [ ! -s "$log" ]; then
		log=$out/bench-llm.txt
		unit=${AIOPS_UNIT:-$root/build/unit}
		if [ -x "$here/llm.sh" ] && [ -x "$unit/t_llm" ]; then
			AIOPS_UNIT=$unit "$here/llm.sh" >"$log" 2>&1
		else
			: >"$log"
		fi
	fi
	if grep -q -E '^[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$' "$log"; then
		hdr=$(grep -m1 '^bench-llm: [0-9]* calls' "$log" | sed 's/^bench-llm: //; s/, fake_llm.py.*//')
		top=$(grep -E '^[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$' "$log" | tail -n1 | awk '{print $1}')
		grep -E '^[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$' "$log" |
			while read -r c ok wall ideal r; do
				if [ "$c" = "$top" ]; then
					v=$(awk -v r="$r" 'BEGIN { exit !(r <= 1.15) }' && echo met || echo MISSED)
					tg="<= 1.15x ideal"
				else
					v=- tg=-
				fi
				row "LLM stage, concurrency $c" "$hdr" "$ok calls ok, wall $wall s" \
					"ideal ceil(N/c) x delay = $ideal s" "${r}x ideal" "$tg" "$v"
			done
	else
		row "LLM stage (bench-llm)" "-" "not built yet (tests/bench/llm.sh or t_llm missing, or it failed: see $log)" "" "" "<= 1.15x ideal" "not built yet"
	fi
fi

want mlflow && "$here/mlflow.sh"

load_end=$(load_avg)
t_end=$(date +%s)

# The table, aligned for the terminal.
header=$'benchmark\tinput\tresult\treference (same run)\tratio\ttarget\tverdict\tcpu s (same run)'
{
	printf '%s\n' "$header"
	cat "$BENCH_ROWS"
} | awk -F'\t' '
	{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR; if (NF > nf) nf = NF }
	END {
		for (r = 1; r <= n; r++) {
			line = ""
			for (i = 1; i <= nf; i++) line = line sprintf("%-*s  ", w[i], c[r, i])
			sub(/ +$/, "", line); print line
			if (r == 1) { line = ""; for (i = 1; i <= nf; i++) { s = ""; for (k = 0; k < w[i]; k++) s = s "-"; line = line s "  " } sub(/ +$/, "", line); print line }
		}
	}' >"$out/table.txt"
echo
echo "make bench: $(wc -l <"$BENCH_ROWS") rows, $(((t_end - t_start) / 60)) min $(((t_end - t_start) % 60)) s; load average $load_start at the start, $load_end at the end"
echo
cat "$out/table.txt"

# The machine, for bench/results.md.
machine() {
	local cpu mem cc jc
	cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)
	mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	cc=$(${CC:-cc} --version 2>/dev/null | head -n1)
	jc=$(pkg-config --modversion json-c 2>/dev/null || echo '?')
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?') (plus the working tree)"
	echo "- nproc: $(nproc), CPU: ${cpu:-?}, memory: $mem, kernel $(uname -r)"
	echo "- compiler: $cc, CFLAGS -O2 -g; json-c $jc; $(jq --version 2>/dev/null); $(cat --version | head -n1); GNU parallel $(parallel --version 2>/dev/null | head -n1 | awk '{print $3}')"
	echo "- load average (1/5/15 min): $load_start at the start, $load_end at the end; the machine is shared, so absolute times are noisy and only the same-run ratios are meant to be compared"
	echo "- sizes: BENCH_SIZES=\"$BENCH_SIZES\", repetitions: ${BENCH_RUNS:-3} interleaved (median), ${BENCH_RUNS_LARGE:-1} above 2 M signals; wall time $(((t_end - t_start) / 60)) min"
}

[ "$results" = - ] && exit 0
mkdir -p "$(dirname "$results")"
gen=$out/results.gen.md
{
	# shellcheck disable=SC2016 # backquotes are Markdown
	echo '<!-- bench:begin (written by tests/bench/report.sh: `make bench`; edit outside the markers) -->'
	echo
	echo '### Machine'
	echo
	machine
	echo
	echo '### Table'
	echo
	echo '| benchmark | input | result | reference (same run) | ratio | target | verdict | cpu s (same run) |'
	echo '| --- | --- | --- | --- | --- | --- | --- | --- |'
	awk -F'\t' '{ for (i = 1; i <= 8; i++) { gsub(/\|/, "\\|", $i); if ($i == "") $i = " " } print "| " $1 " | " $2 " | " $3 " | " $4 " | " $5 " | " $6 " | " $7 " | " $8 " |" }' OFS='' "$BENCH_ROWS"
	for f in ${BENCH_EXTRA:-}; do
		[ -s "$f" ] || continue
		echo
		echo "### $(basename "$f" .txt) (its own script, same session)"
		echo
		echo '```'
		grep -v -E '^(cc|ar|rm|make)' "$f" | sed -e '/^$/N;/^\n$/D'
		echo '```'
	done
	echo
	echo '<!-- bench:end -->'
} >"$gen"
if [ -f "$results" ] && grep -q '<!-- bench:begin' "$results" && grep -q '<!-- bench:end -->' "$results"; then
	awk -v gen="$gen" '
		/<!-- bench:begin/ { while ((getline l < gen) > 0) print l; skip = 1; next }
		/<!-- bench:end -->/ { skip = 0; next }
		!skip { print }' "$results" >"$results.tmp" && mv "$results.tmp" "$results"
else
	{
		echo '# Benchmark results'
		echo
		# shellcheck disable=SC2016 # backquotes are Markdown
		echo 'Written by `make bench` (mk/bench.mk, tests/bench/report.sh).'
		echo
		cat "$gen"
	} >"$results"
fi
echo
echo "make bench: results in $results (table also in $out/table.txt)"
