#!/usr/bin/env bash
# The full pipeline with the baseline provider (no model, no network) on
# BENCH_PIPE_SIZE signals (default: the first of BENCH_SIZES, else 1 M):
#   aiops-load | aiops-correlate | aiops-rca | aiops-remediate | aiops-exec
#     | aiops-metrics | aiops-mlflow (offline file store in a temp dir)
# Wall time beside aiops-load alone on the same dataset in the same run (the
# source's floor: nothing downstream can be faster); CPU seconds of all its
# processes beside `jq -c .` over the same signal files (issue #18's target:
# >= 3x jq by CPU); and each stage's CPU and wall time from the stage_end
# records the stream carries.
set -u
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
n=${BENCH_PIPE_SIZE:-${BENCH_SIZES%% *}}
n=${n:-1000000}
cfg=$BENCH_ROOT/examples/configs/basic.yaml
stages=(load correlate rca remediate exec metrics mlflow)

missing=
for s in "${stages[@]}"; do have "aiops-$s" || missing="$missing aiops-$s"; done
if [ -n "$missing" ]; then
	add_row "full pipeline (baseline)" "$(human "$n") signals" "not built yet:$missing" "" "" "-" "not built yet"
	exit 0
fi
d=$(dataset "$n") || exit 1
lines=$(cat "$d"/data/{logs,metrics,traces}.jsonl | wc -l)
incidents=$(wc -l <"$d/data/incidents.jsonl")
h=$(human "$lines")
cd "$BENCH_ROOT" || exit 1
export AIOPS_SPOOL_DIR=$bench_tmp/spool
final=$bench_tmp/final.jsonl
b=$BENCH_BIN
pipe="$b/aiops-load --config $cfg --run-id 0 --dataset $d/data | $b/aiops-correlate --config $cfg"
pipe="$pipe | $b/aiops-rca --config $cfg | $b/aiops-remediate --config $cfg | $b/aiops-exec --config $cfg"
pipe="$pipe | $b/aiops-metrics --config $cfg | $b/aiops-mlflow --config $cfg --store $bench_tmp/mlruns 2>/dev/null"
pipe="$pipe | grep -v -E '^\\{\"kind\":\"(log|metric|span)\"' >$final"

note "pipeline: the full baseline pipeline on $h signals ($BENCH_RUNS runs, interleaved with aiops-load alone and jq -c .)"
wp='' wl='' cp='' cj=''
for ((r = 1; r <= BENCH_RUNS; r++)); do
	timed -c "${pipe/>$final/>$final.$r}" || exit 1
	wp="$wp $T_WALL" cp="$cp $T_CPU"
	echo "$T_WALL $r" >>"$bench_tmp/runs"
	timed -c "$b/aiops-load --config $cfg --run-id 0 --dataset $d/data" || exit 1
	wl="$wl $T_WALL"
	timed -c "jq -c . $d/data/logs.jsonl $d/data/metrics.jsonl $d/data/traces.jsonl" || exit 1
	cj="$cj $T_CPU"
done
# shellcheck disable=SC2086 # lists of numbers
{ mp=$(median $wp); ml=$(median $wl); mcp=$(median $cp); mcj=$(median $cj); }
# The stage_end records of the median run (the middle one by wall time).
mid=$(sort -g "$bench_tmp/runs" | awk -v k=$(((BENCH_RUNS + 1) / 2)) 'NR == k { print $2 }')
final=$final.$mid
groups=$(grep -c '"kind":"group"' "$final")
add_row "full pipeline (baseline)" "$h signals, $incidents incidents, $groups groups" \
	"wall $mp s ($(fmt_rate "$lines" "$mp")), runs:$wp s" \
	"aiops-load alone $ml s" "$(ratio "$mp" "$ml")x load" "-" "-"
add_row "full pipeline (baseline), cpu" "$h signals, every process of the pipe" \
	"cpu $mcp s" "jq -c . on the signal files, cpu $mcj s" "cpu $(ratio "$mcj" "$mcp")x jq" \
	">= 3x jq by cpu" "$(ge "$(ratio "$mcj" "$mcp")" 3 && echo met || echo MISSED)" "pipeline $mcp; jq $mcj"
total_cpu=0 maxwall=0
for s in "${stages[@]}"; do
	# This stage's stage_end in the median run.
	read -r cpu wall in out < <(jq -r --arg s "$s" \
		'select(.kind == "stage_end" and .stage == $s) | "\(.cpu_ms) \(.wall_ms) \(.records_in) \(.records_out)"' "$final" | tail -n1)
	total_cpu=$((total_cpu + ${cpu:-0}))
	[ "${wall:-0}" -le "$maxwall" ] || maxwall=$wall
	add_row "  stage $s" "$(human "${in:-0}") in, $(human "${out:-0}") out" \
		"cpu $(awk -v c="${cpu:-0}" 'BEGIN{printf "%.2f", c/1000}') s, wall $(awk -v c="${wall:-0}" 'BEGIN{printf "%.2f", c/1000}') s" \
		"" "" "" ""
done
add_row "  all stages" "2 cores" "cpu $(awk -v c="$total_cpu" 'BEGIN{printf "%.2f", c/1000}') s" \
	"median run's stages: wall $(awk -v w="$maxwall" 'BEGIN{printf "%.2f", w/1000}') s" "$(awk -v c="$total_cpu" -v w="$maxwall" 'BEGIN{printf "%.2f", c/w}') cores busy" "" ""
