#!/usr/bin/env bash
# The whole pipeline as a plain pipe, no driver: copy it and change a stage.
#   pipelines/full.sh CONFIG DATASET [--set KEY=VALUE]... >final.jsonl
set -u -o pipefail
usage() { echo "usage: full.sh CONFIG DATASET [--set KEY=VALUE]..." >&2; exit 2; }
[ $# -ge 2 ] || usage
cfg=$1 ds=$2
shift 2
sets=()
while [ $# -gt 0 ]; do
	if [ "$1" != --set ] || [ $# -lt 2 ]; then usage; fi
	sets+=(--set "$2")
	shift 2
done
c=(--config "$cfg" "${sets[@]}")
aiops-load "${c[@]}" --dataset "$ds" |
	aiops-correlate "${c[@]}" |
	aiops-rca "${c[@]}" |
	aiops-remediate "${c[@]}" |
	aiops-exec "${c[@]}" |
	aiops-metrics "${c[@]}" |
	aiops-mlflow "${c[@]}"
