#!/usr/bin/env bash
# mlflow_assessments.sh URL RUN_ID: the assessments on the traces linked to
# an MLflow run, read through the tracking server's REST API only (the
# traces as mlflow_traces.sh finds them, then GET /api/3.0/mlflow/traces/ID
# for each one's trace_info.assessments).  Prints one JSON object a line,
# sorted by trace name:
#   {"trace_id", "name", "assessments": [{"name", "type" (expectation or
#    feedback), "source_type", "source_id", "value" (an expectation's
#    serialized value parsed), "error_code", "rationale", "incident_id",
#    "group_id", "run_id" (the aiops.* metadata)}]}
# Assessments are listed in creation order.
set -eu -o pipefail
[ $# -eq 2 ] || { echo "usage: mlflow_assessments.sh URL RUN_ID" >&2; exit 2; }
url=$1 run=$2
"$(dirname "$0")/mlflow_traces.sh" "$url" "$run" | jq -r '"\(.trace_id) \(.name)"' |
	while read -r id name; do
		curl -fsS "$url/api/3.0/mlflow/traces/$id" |
			jq -c --arg id "$id" --arg name "$name" '
				{trace_id: $id, name: $name,
				 assessments: [.trace.trace_info.assessments // [] | sort_by(.create_time)[]
					| {name: .assessment_name,
					   type: (if .expectation then "expectation" else "feedback" end),
					   source_type: .source.source_type, source_id: .source.source_id,
					   value: (if .expectation then (.expectation.serialized_value.value | fromjson)
						   else .feedback.value end),
					   error_code: .feedback.error.error_code, rationale,
					   incident_id: .metadata."aiops.incident_id",
					   group_id: .metadata."aiops.group_id", run_id: .metadata."aiops.run_id"}]}'
	done
