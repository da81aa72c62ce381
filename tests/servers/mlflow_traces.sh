#!/usr/bin/env bash
# mlflow_traces.sh URL RUN_ID: the traces linked to an MLflow run, read
# through the tracking server's REST API only (POST
# /api/3.0/mlflow/traces/search with the filter attributes.run_id, then
# GET /api/3.0/mlflow/traces/get for each trace's spans).  Prints one JSON
# object a line, sorted by trace name:
#   {"trace_id", "state", "name" (the root span's), "spans": [{"name",
#    "parent" (the parent's name, null for the root), "type"
#    (mlflow.spanType), "status" (OK/ERROR/UNSET), "start_ms", "end_ms",
#    "group_id" (aiops.group_id), "model" (mlflow.llm.model)}]}
# Spans are listed parents first, then by start time and name.
set -eu -o pipefail
[ $# -eq 2 ] || { echo "usage: mlflow_traces.sh URL RUN_ID" >&2; exit 2; }
url=$1 run=$2
exp=$(curl -fsS "$url/api/2.0/mlflow/runs/get?run_id=$run" | jq -r .run.info.experiment_id)
body=$(jq -cn --arg e "$exp" --arg r "$run" \
	'{locations: [{type: "MLFLOW_EXPERIMENT", mlflow_experiment: {experiment_id: $e}}],
	  filter: "attributes.run_id = '\''\($r)'\''", max_results: 500}')
curl -fsS -X POST -H 'Content-Type: application/json' -d "$body" "$url/api/3.0/mlflow/traces/search" |
	jq -r '.traces // [] | .[] | "\(.trace_id) \(.state)"' |
	while read -r id state; do
		curl -fsS "$url/api/3.0/mlflow/traces/get?trace_id=$id" |
			jq -c --arg id "$id" --arg state "$state" '
				def attr($k): (.attributes // [] | map(select(.key == $k)) | .[0].value.string_value);
				(.trace.spans | map({key: .span_id, value: .name}) | from_entries) as $names
				| (.trace.spans | map({
					name, parent: (if .parent_span_id then $names[.parent_span_id] else null end),
					type: attr("mlflow.spanType"),
					status: (.status.code // "STATUS_CODE_UNSET" | sub("STATUS_CODE_"; "")),
					start_ms: ((.start_time_unix_nano | tonumber) / 1000000 | round),
					end_ms: ((.end_time_unix_nano | tonumber) / 1000000 | round),
					group_id: attr("aiops.group_id"), model: attr("mlflow.llm.model")})
				  | sort_by(.parent != null, .start_ms, .name)) as $spans
				| {trace_id: $id, state: $state, name: ($spans[0].name), spans: $spans}'
	done | jq -s -c 'sort_by(.name) | .[]'
