#!/usr/bin/env bash
# Re-runs RCA onward (rca, remediate, exec, metrics) on the groups of a run
# kept with `aiops-harness run --keep DIR`, usually with another model, and
# writes the new stream on stdout.  The correlation is not re-done, so
# models are compared on exactly the same groups.
#   pipelines/rca-only.sh KEPT_DIR CONFIG [--set KEY=VALUE]... >rescored.jsonl
set -u -o pipefail
usage() { echo "usage: rca-only.sh KEPT_DIR CONFIG [--set KEY=VALUE]..." >&2; exit 2; }
[ $# -ge 2 ] || usage
dir=$1 cfg=$2
shift 2
sets=()
while [ $# -gt 0 ]; do
	if [ "$1" != --set ] || [ $# -lt 2 ]; then usage; fi
	sets+=(--set "$2")
	shift 2
done
groups=
for f in "$dir"/[0-9][0-9]-correlate.jsonl; do [ -f "$f" ] && groups=$f && break; done
[ -n "$groups" ] || { echo "rca-only.sh: no NN-correlate.jsonl in '$dir'" >&2; exit 2; }
c=(--config "$cfg" "${sets[@]}")
aiops-rca "${c[@]}" <"$groups" |
	aiops-remediate "${c[@]}" |
	aiops-exec "${c[@]}" |
	aiops-metrics "${c[@]}"
