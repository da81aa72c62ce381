#!/usr/bin/env bats
# aiops-correlate: detectors, grouping, ranking and the stream contract.

load test_helper

CF="$FIX/correlate"

setup_file() {
	export SCEN="$BATS_FILE_TMPDIR/scen"
	python3 "$FIX/correlate/gen.py" "$SCEN"
}

# The group records of a run, one compact line each.
groups() {
	jq -c 'select(.kind == "group")' "$@"
}

@test "--help exits 0 and lists the thresholds" {
	run aiops-correlate --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: aiops-correlate"* ]]
	[[ "$output" == *"--detect-threshold"* ]]
	[[ "$output" == *"--emit-undetected"* ]]
	[[ "$output" == *"pipeline.correlation"* ]]
}

@test "an unknown option is a usage error (exit 2)" {
	run aiops-correlate --no-such-option </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == "aiops-correlate: unknown option '--no-such-option'"* ]]
}

@test "a bad threshold value is a usage error (exit 2)" {
	run aiops-correlate --window-s nonsense </dev/null
	[ "$status" -eq 2 ]
	run aiops-correlate --error-levels ERROR,LOUD </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown level 'LOUD'"* ]]
}

@test "passes foreign kinds through byte for byte and in order, incident included" {
	run aiops-correlate "$CF/passthrough.jsonl"
	[ "$status" -eq 0 ]
	expected=$(grep -v -E '"kind":"(log|metric|span)"' "$CF/passthrough.jsonl")
	got=$(printf '%s\n' "$output" | grep -v -E '"kind":"(stage|stage_end)"')
	[ "$got" = "$expected" ]
}

@test "consumes signals by default and forwards them with --keep-signals" {
	run aiops-correlate "$CF/passthrough.jsonl"
	[ "$(printf '%s\n' "$output" | grep -c -E '"kind":"(log|metric|span)"')" -eq 0 ]
	run aiops-correlate --keep-signals "$CF/passthrough.jsonl"
	got=$(printf '%s\n' "$output" | grep -v -E '"kind":"(stage|stage_end)"')
	[ "$got" = "$(cat "$CF/passthrough.jsonl")" ]
}

@test "writes the stage record first with every threshold, stage_end last" {
	run aiops-correlate "$CF/passthrough.jsonl"
	first=$(printf '%s\n' "$output" | head -n1)
	last=$(printf '%s\n' "$output" | tail -n1)
	[ "$(jq -r .kind <<<"$first")" = stage ]
	[ "$(jq -r .stage <<<"$first")" = correlate ]
	[ "$(jq -c '.params | [.window_s, .quiet_s, .max_duration_s, .detect_threshold, .min_signals, .metric_z, .span_z, .burst_factor, .keep_signals, .emit_undetected]' <<<"$first")" = '[60,120,1800,12,2,4,4,4,false,false]' ]
	[ "$(jq -r .kind <<<"$last")" = stage_end ]
	[ "$(jq -c '[.records_in, .records_out, .rejects, .groups]' <<<"$last")" = '[7,4,0,0]' ]
}

@test "reads pipeline.correlation from the config, and flags override it" {
	d=$(scratch)
	printf 'pipeline:\n  correlation:\n    window_s: 30s\n    detect_threshold: 20\n' >"$d/c.yaml"
	run aiops-correlate --config "$d/c.yaml" --detect-threshold 15 </dev/null
	[ "$status" -eq 0 ]
	[ "$(head -n1 <<<"$output" | jq -c '.params | [.window_s, .detect_threshold]')" = '[30,15]' ]
	run aiops-correlate --set pipeline.correlation.quiet_s=5m </dev/null
	[ "$(head -n1 <<<"$output" | jq -c '.params.quiet_s')" = 300 ]
}

@test "turns a broken line into a reject and keeps going; --strict exits 1" {
	d=$(scratch)
	{ cat "$CF/passthrough.jsonl"; echo '{"kind":"zz","n":'; echo '{"kind":"zz","n":9}'; } >"$d/in"
	run aiops-correlate "$d/in"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c '"kind":"reject"')" -eq 1 ]
	[[ "$output" == *'{"kind":"zz","n":9}'* ]]
	run aiops-correlate --strict "$d/in"
	[ "$status" -eq 1 ]
}

@test "rejects a signal without a timestamp, naming the line" {
	d=$(scratch)
	echo '{"kind":"log","id":"logs:1","service":"api","level":"INFO","msg":"x"}' >"$d/in"
	run aiops-correlate "$d/in"
	[ "$status" -eq 0 ]
	[[ "$output" == *"aiops-correlate: $d/in:1: log: missing or bad \"ts\""* ]]
	[ "$(printf '%s\n' "$output" | grep '"kind":"reject"' | jq -r .reason)" = 'log: missing or bad "ts"' ]
}

@test "a closed reader (| head -n1) is quiet" {
	d=$(scratch)
	bash -c "aiops-correlate --keep-signals '$SCEN/quiet.jsonl' 2>'$d/err' | head -n1 >/dev/null"
	[ ! -s "$d/err" ]
}

@test "a failed write (/dev/full) exits 1" {
	run bash -c "aiops-correlate '$CF/passthrough.jsonl' >/dev/full"
	[ "$status" -eq 1 ]
	[[ "$output" == *"aiops-correlate: write error"* ]]
}

@test "a latency fault on a database propagating to its callers: one group, the database ranked first" {
	run aiops-correlate "$SCEN/db_latency.jsonl"
	[ "$status" -eq 0 ]
	g=$(groups <<<"$output")
	[ "$(wc -l <<<"$g")" -eq 1 ]
	[ "$(jq -r .id <<<"$g")" = G0001 ]
	[ "$(jq -r .detected <<<"$g")" = true ]
	[ "$(jq -r '.services[0].service' <<<"$g")" = orders-db ]
	[ "$(jq -r '[.services[].service] | .[1:3] | join(",")' <<<"$g")" = api,web ]
	# start within the fault's first signals, detection soon after
	start=$(jq -r .start_ts <<<"$g")
	[[ "$start" > "2024-05-01T00:14:59.999Z" && "$start" < "2024-05-01T00:15:30.000Z" ]]
	det=$(jq -r .detected_ts <<<"$g")
	[[ ! "$det" < "$start" && "$det" < "2024-05-01T00:16:00.000Z" ]]
	[ "$(jq -r .end_ts <<<"$g")" \< "2024-05-01T00:21:00.000Z" ]
	[ "$(jq -r .method <<<"$g")" = stat ]
	[ "$(jq -r .decision_latency_ms <<<"$g")" = 0 ]
	[ "$(jq -c '.evidence.edges' <<<"$g")" = '[{"from":"api","to":"orders-db"},{"from":"web","to":"api"}]' ]
	[ "$(jq -r '[.evidence.spans[] | select(.service == "orders-db")][0].observed_p95_ms > 400' <<<"$g")" = true ]
	[ "$(jq -r '.evidence.logs[0].template' <<<"$g")" = 'slow query on orders-db took <DUR> (threshold <DUR>)' ]
	[ "$(jq -c 'keys' <<<"$g")" = '["anomaly_count","decision_latency_ms","detected","detected_ts","end_ts","evidence","id","kind","method","score","services","signal_count","start_ts"]' ]
	[ "$(tojson_len "$g")" -le 8192 ]
}

tojson_len() {
	printf '%s' "$1" | wc -c
}

@test "the incident label passes through untouched after the groups it matches" {
	run aiops-correlate "$SCEN/db_latency.jsonl"
	[ "$(printf '%s\n' "$output" | jq -r .kind | grep -v '^stage' | tr '\n' ' ')" = "run group incident " ]
}

@test "a quiet stretch (with null metric values) yields no group" {
	run aiops-correlate "$SCEN/quiet.jsonl"
	[ "$status" -eq 0 ]
	[ -z "$(groups <<<"$output")" ]
	[ "$(tail -n1 <<<"$output" | jq .groups_detected)" -eq 0 ]
}

@test "a chronic ERROR logger yields no group" {
	run aiops-correlate "$SCEN/chronic.jsonl"
	[ -z "$(groups <<<"$output")" ]
}

@test "a periodic batch job spike yields no group" {
	run aiops-correlate "$SCEN/batch.jsonl"
	[ -z "$(groups <<<"$output")" ]
}

@test "--emit-undetected writes the groups below the threshold with detected false" {
	run aiops-correlate --emit-undetected "$SCEN/batch.jsonl"
	g=$(groups <<<"$output")
	[ -n "$g" ]
	[ "$(jq -r .detected <<<"$g" | sort -u)" = false ]
	[ "$(jq -r .detected_ts <<<"$g" | sort -u)" = null ]
	[ "$(jq -r '.services[0].service' <<<"$g" | sort -u)" = api ]
	[ "$(jq -r .id <<<"$g" | head -n1)" = G0001 ]
}

@test "max_duration_s caps a group: a long fault splits into several" {
	run aiops-correlate --max-duration-s 90 "$SCEN/db_latency.jsonl"
	g=$(groups <<<"$output")
	[ "$(wc -l <<<"$g")" -ge 2 ]
	jq -e -s 'all(.[]; ((.end_ts | sub("\\.[0-9]+Z$"; "Z") | fromdate) - (.start_ts | sub("\\.[0-9]+Z$"; "Z") | fromdate)) <= 90)' <<<"$g"
	[ "$(jq -r .id <<<"$g" | tr '\n' ' ')" = "$(seq -f 'G%04g' 1 "$(wc -l <<<"$g")" | tr '\n' ' ')" ]
}

@test "detect_threshold decides: set high, the fault is not detected" {
	run aiops-correlate --detect-threshold 100000 "$SCEN/db_latency.jsonl"
	[ -z "$(groups <<<"$output")" ]
	[ "$(tail -n1 <<<"$output" | jq .groups_undetected)" -ge 1 ]
}

@test "max_group_bytes bounds the group record" {
	run aiops-correlate --max-group-bytes 1200 "$SCEN/db_latency.jsonl"
	g=$(groups <<<"$output")
	[ "$(tojson_len "$g")" -le 1200 ]
	[ "$(jq -r '.services[0].service' <<<"$g")" = orders-db ]
}

@test "the output is deterministic: two runs are identical after mask" {
	d=$(scratch)
	cat "$SCEN"/quiet.jsonl "$SCEN"/db_latency.jsonl >"$d/in"
	aiops-correlate --emit-undetected "$d/in" | mask >"$d/a"
	aiops-correlate --emit-undetected "$d/in" | mask >"$d/b"
	cmp "$d/a" "$d/b"
	[ "$(grep -c '"kind":"group"' "$d/a")" -ge 1 ]
}

@test "memory stays bounded: small caps still work" {
	run aiops-correlate --max-templates 2 --span-cache 4 --max-keys 3 --max-group-keys 2 "$SCEN/db_latency.jsonl"
	[ "$status" -eq 0 ]
	[ "$(tail -n1 <<<"$output" | jq '.templates <= 2 and .template_evictions > 0 and .dropped_keys > 0')" = true ]
}

@test "examples/data: each incident yields one detected group led by its root cause" {
	[ -x "$AIOPS_BIN/aiops-load" ] || skip "aiops-load is not built"
	[ -f "$AIOPS_ROOT/examples/data/incidents.jsonl" ] || skip "no examples/data"
	d=$(scratch)
	run pipe "aiops-load --dataset '$AIOPS_ROOT/examples/data' | aiops-correlate >'$d/out'"
	[ "$status" -eq 0 ]
	# Every incident: exactly one detected group overlapping it, starting at
	# most 120 s before the fault, whose top service is the root cause.
	jq -s -e '
		def t: sub("\\.[0-9]+Z$"; "Z") | fromdate;
		[.[] | select(.kind == "group")] as $g
		| [.[] | select(.kind == "incident")] as $i
		| ($i | length) > 0 and
		  all($i[]; . as $inc
		    | [$g[] | select(.detected and (.start_ts | t) <= ($inc.resolved_ts | t)
		                     and (.end_ts | t) >= ($inc.start_ts | t))] as $m
		    | ($m | length) == 1
		      and ($m[0].start_ts | t) >= ($inc.start_ts | t) - 120
		      and $m[0].services[0].service == $inc.root_cause.service)
		  and ($g | length) == ($i | length)' "$d/out"
}
