#!/usr/bin/env bash
# Ablation: feed labelled ground truth into one stage to measure the next in
# isolation, on a run kept with `aiops-harness run --keep DIR`.
#
#   pipelines/ablate.sh rca KEPT_DIR CONFIG [--set KEY=VALUE]... >out.jsonl
#     Oracle grouping: one group per labelled incident, made of every
#     candidate group (detected or not, re-correlated with
#     --emit-undetected) whose span overlaps the incident's window
#     [start_ts - TOL, resolved_ts + TOL].  Only the window comes from the
#     labels; the evidence and the service ranking are the observed
#     signals', and the root cause label never enters a group, so a model
#     still sees no ground truth.  Then rca, remediate, exec and metrics
#     run as usual: AC@k now measures RCA given perfect detection.
#
#   pipelines/ablate.sh remediate KEPT_DIR CONFIG [--set KEY=VALUE]...
#     Oracle root cause: every matched group's rca is replaced by the
#     labelled root cause (service, component, fault), so remediation is
#     measured given a perfect RCA.  This DOES show a label to the
#     remediation model (said on stderr): use it for measurement only.
#
# TOL is pipeline.metrics.match_tolerance_s from the config (default 60).
set -u -o pipefail
usage() {
	echo "usage: ablate.sh rca|remediate KEPT_DIR CONFIG [--set KEY=VALUE]..." >&2
	exit 2
}
[ $# -ge 3 ] || usage
mode=$1 dir=$2 cfg=$3
shift 3
sets=()
while [ $# -gt 0 ]; do
	if [ "$1" != --set ] || [ $# -lt 2 ]; then usage; fi
	sets+=(--set "$2")
	shift 2
done
c=(--config "$cfg" "${sets[@]}")
find_kept() { # stage
	local f
	for f in "$dir"/[0-9][0-9]-"$1".jsonl; do [ -f "$f" ] && { printf '%s\n' "$f"; return 0; }; done
	echo "ablate.sh: no NN-$1.jsonl in '$dir'" >&2
	exit 2
}
tol=$(aiops-metrics "${c[@]}" --print-config | jq '.pipeline.metrics.match_tolerance_s // 60') || exit 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aiops-ablate.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

case $mode in
rca)
	loaded=$(find_kept load)
	aiops-correlate "${c[@]}" --emit-undetected <"$loaded" >"$tmp/groups.jsonl" || exit 1
	# shellcheck disable=SC2016
	jq -s -c --argjson tol "$tol" '
		# Milliseconds since the epoch of a fixed-width timestamp.
		def ms: ((.[0:19] + "Z") | fromdateiso8601) * 1000 + ((.[20:23] | tonumber?) // 0);
		(map(select(.kind == "group"))) as $gs
		| (map(select(.kind == "incident"))) as $incs
		| (reduce .[] as $r ({seen: false, out: []};
			if $r.kind == "group" then .
			elif $r.kind == "incident" and (.seen | not) then .seen = true | .out += ["ORACLE", $r]
			else .out += [$r] end) | .out) as $rest
		| [ $incs | to_entries[] | .key as $i | .value as $inc
		    | (($inc.start_ts | ms) - $tol * 1000) as $lo
		    | ((($inc.resolved_ts // $inc.start_ts) | ms) + $tol * 1000) as $hi
		    | [ $gs[] | select((.start_ts | ms) <= $hi and ((.end_ts // .start_ts) | ms) >= $lo) ] as $m
		    | select($m | length > 0)
		    | { kind: "group", id: ("O" + (($i + 1) | tostring | "000" + . | .[-4:])),
		        detected: true, method: "oracle",
		        start_ts: ($m | map(.start_ts) | min),
		        detected_ts: ($m | map(.detected_ts // .start_ts) | min),
		        end_ts: ($m | map(.end_ts // .start_ts) | max),
		        decision_latency_ms: 0,
		        score: ($m | map(.score // 0) | add),
		        services: ($m | map(.services[]?) | group_by(.service)
			   | map({service: .[0].service, score: (map(.score) | add),
				  first_ts: (map(.first_ts) | min), anomalies: (map(.anomalies) | add)})
			   | sort_by(-.score, .first_ts)),
		        signal_count: ($m | map(.signal_count // 0) | add),
		        anomaly_count: ($m | map(.anomaly_count // 0) | add),
		        evidence: { logs: ($m | map(.evidence.logs[]?) | unique),
				    metrics: ($m | map(.evidence.metrics[]?) | unique),
				    spans: ($m | map(.evidence.spans[]?) | unique),
				    edges: ($m | map(.evidence.edges[]?) | unique) } } ] as $oracle
		| ($rest | map(if . == "ORACLE" then $oracle[] else . end) | .[])
	' "$tmp/groups.jsonl" >"$tmp/oracle.jsonl" || exit 1
	aiops-rca "${c[@]}" <"$tmp/oracle.jsonl" |
		aiops-remediate "${c[@]}" |
		aiops-exec "${c[@]}" |
		aiops-metrics "${c[@]}"
	;;
remediate)
	echo "ablate.sh: remediate mode shows the labelled root cause to the remediation stage" >&2
	rcad=$(find_kept rca)
	# Score the kept run once to learn which group matched which incident.
	grep -v -F '"kind":"score"' "$rcad" | aiops-metrics "${c[@]}" >"$tmp/matched.jsonl" || exit 1
	# shellcheck disable=SC2016
	jq -s -c '
		(map(select(.kind == "incident")) | map({(.id): .root_cause}) | add // {}) as $rc
		| (map(select(.kind == "score" and .name == "matched" and .value == 1))
		   | map({(.group_id): $rc[.incident_id]}) | add // {}) as $truth
		| .[] | select(.kind != "score" and .kind != "stage" and .kind != "stage_end"
			  or (.kind == "stage" and .stage != "metrics")
			  or (.kind == "stage_end" and .stage != "metrics"))
		| if .kind == "rca" and $truth[.group_id] != null then
			.candidates = [$truth[.group_id] + {confidence: 1, reason: "oracle: the labelled root cause"}]
			| .provider = "oracle" | .model = "labels" | del(.error)
		  else . end
	' "$tmp/matched.jsonl" >"$tmp/oracle.jsonl" || exit 1
	aiops-remediate "${c[@]}" <"$tmp/oracle.jsonl" |
		aiops-exec "${c[@]}" |
		aiops-metrics "${c[@]}"
	;;
*) usage ;;
esac
