#!/usr/bin/env bash
# aiops-mlflow against MLflow's own Python client, logging the same run of
# 1,000 incidents (params, per-incident metrics, artifacts) to the same real
# MLflow server (tests/servers/mlflow-env.sh, SQLite store) in the same run.
#
# The stream: aiops-synth with 1,000 faults (4 services, 4200 minutes, rate
# 1), through the baseline pipeline load | correlate | rca | remediate |
# exec | metrics; the signals are dropped (aiops-mlflow forwards them
# without logging them) and the rest kept in BENCH_CACHE.
# The reference: tests/bench/mlflow_client.py (MlflowClient.log_batch and
# log_artifacts) reading the same stream.  Both get a warm-up round (the
# server's first requests are slow), then BENCH_RUNS interleaved rounds,
# each into a new experiment.  The Python side is timed as a process (what
# a user runs: interpreter, import mlflow, logging) and, from its own
# clock, the logging alone; both ratios are reported, the first decides.
set -u
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
n_inc=${BENCH_MLFLOW_INCIDENTS:-1000}

for s in aiops-mlflow aiops-load aiops-correlate aiops-rca aiops-remediate aiops-exec aiops-metrics aiops-synth; do
	if ! have "$s"; then
		add_row "aiops-mlflow" "$n_inc incidents" "not built yet ($s)" "" "" ">= 5x Python client" "not built yet"
		exit 0
	fi
done
envsh=$BENCH_ROOT/tests/servers/mlflow-env.sh
if ! venv=$("$envsh" ensure 2>"$bench_tmp/env.err"); then
	add_row "aiops-mlflow" "$n_inc incidents" "skipped: no MLflow environment ($(tail -n1 "$bench_tmp/env.err"))" "" "" ">= 5x Python client" "-"
	exit 0
fi
py=$venv/bin/python

d=$BENCH_CACHE/mlflow-$n_inc
stream=$d/stream.jsonl
if [ ! -s "$stream" ]; then
	mkdir -p "$d"
	cfg=$BENCH_ROOT/examples/configs/basic.yaml
	b=$BENCH_BIN
	note "mlflow: generating a run of $n_inc incidents"
	"$b/aiops-synth" --seed 3 --services 4 --interval 60s --rate 1 --faults "$n_inc" \
		--duration "$((n_inc * 4 + 200))m" --out "$d/data" >/dev/null || exit 1
	(cd "$BENCH_ROOT" && set -o pipefail &&
		"$b/aiops-load" --config "$cfg" --run-id 0 --dataset "$d/data" |
		"$b/aiops-correlate" --config "$cfg" | "$b/aiops-rca" --config "$cfg" |
		"$b/aiops-remediate" --config "$cfg" | "$b/aiops-exec" --config "$cfg" |
		"$b/aiops-metrics" --config "$cfg" |
		grep -v -E '^\{"kind":"(log|metric|span)"' >"$stream.tmp") || exit 1
	mv "$stream.tmp" "$stream"
fi
points=$(jq -s '[.[] | select(.kind == "score" and .incident_id != null and (.value | type) == "number")] | length' "$stream")

srv=$bench_tmp/mlflow
# shellcheck disable=SC2317 # called from the EXIT trap
stop_server() { "$envsh" stop "$srv" >/dev/null 2>&1; rm -rf "$bench_tmp"; }
trap stop_server EXIT
note "mlflow: starting the MLflow server"
url=$("$envsh" start "$srv") || { add_row "aiops-mlflow" "$n_inc incidents" "skipped: the MLflow server did not start" "" "" ">= 5x Python client" "-"; exit 0; }
export AIOPS_SPOOL_DIR=$bench_tmp/spool

one_c() { # experiment
	timed "$BENCH_BIN/aiops-mlflow" --tracking-uri "$url" --experiment "$1" "$stream"
}
walls_c='' walls_py='' logs_py='' imports_py=''
for r in $(seq 0 "$BENCH_RUNS"); do
	note "mlflow: round $r of $BENCH_RUNS (0 is the warm-up)"
	one_c "bench-aiops-$r" || exit 1
	wc_=$T_WALL
	t0=$(date +%s%N)
	out=$(set -o pipefail; "$py" "$BENCH_ROOT/tests/bench/mlflow_client.py" "$url" "bench-py-$r" "$stream" 2>/dev/null | tail -n1) || {
		note "mlflow: the Python client failed"; exit 1; }
	t1=$(date +%s%N)
	[ "$r" -eq 0 ] && continue
	walls_c="$walls_c $wc_"
	walls_py="$walls_py $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')"
	logs_py="$logs_py $(jq -r .log_s <<<"$out")"
	imports_py="$imports_py $(jq -r .import_s <<<"$out")"
done
# shellcheck disable=SC2086 # lists of numbers
{ c=$(median $walls_c); p=$(median $walls_py); pl=$(median $logs_py); pi=$(median $imports_py); }
params=$(jq -r .params <<<"$out")
r=$(ratio "$p" "$c")
add_row "aiops-mlflow" "$n_inc incidents: $params params, $points per-incident points, 7 artifacts" \
	"$c s" "Python MlflowClient $p s (import $pi s, logging $pl s)" \
	"${r}x (process); $(ratio "$pl" "$c")x (logging alone)" ">= 5x Python client" \
	"$(ge "$r" 5 && echo met || echo MISSED)"
