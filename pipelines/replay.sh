#!/usr/bin/env bash
# Re-scores a kept run without calling any model: the rca and remediate
# stages answer from the run's recorded llm_call records (provider type
# replay; a call that was not recorded is an error, never a new call).
# The config must be the one the run was made with (its provider and model
# are part of the replay key); the kept run's own config.json is used when
# none is given.
#   pipelines/replay.sh KEPT_DIR [CONFIG] >rescored.jsonl
set -u -o pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then echo "usage: replay.sh KEPT_DIR [CONFIG]" >&2; exit 2; fi
dir=$1 cfg=${2:-$1/config.json}
[ -f "$dir/final.jsonl" ] || { echo "replay.sh: no final.jsonl in '$dir'" >&2; exit 2; }
calls=$dir/llm_calls.jsonl
grep -F '"kind":"llm_call"' "$dir/final.jsonl" >"$calls" || true
here=$(cd "$(dirname "$0")" && pwd)
"$here/rca-only.sh" "$dir" "$cfg" --set provider.type=replay \
	--set "provider.params.replay_file=$calls"
