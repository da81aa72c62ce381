#!/usr/bin/env bats
# Tests for aiops-synth, the seeded synthetic dataset generator.

load test_helper
bats_require_minimum_version 1.5.0

ROOT="$BATS_TEST_DIRNAME/.."

# A small dataset shared read-only by the tests: 40 minutes, all seven faults.
SMALL=(--seed 7 --duration 40m --rate 3)

setup_file() {
	aiops-synth "${SMALL[@]}" --out "$BATS_FILE_TMPDIR/a"
}

setup() {
	A="$BATS_FILE_TMPDIR/a"
}

# Prints the incident of one fault type as compact JSON.
incident() {
	jq -c --arg f "$1" 'select(.root_cause.fault == $f)' "$A/incidents.jsonl"
}

@test "writes the four files of a dataset" {
	run ls "$A"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'incidents.jsonl\nlogs.jsonl\nmetrics.jsonl\ntraces.jsonl')" ]
	for f in logs metrics traces incidents; do
		run jq -e . "$A/$f.jsonl"
		[ "$status" -eq 0 ]
	done
}

@test "--services 4 (the least): a database's log names only services that exist" {
	local d="$BATS_TEST_TMPDIR/s4"
	# Before the fix a database log line named svcs[4] of a 4-entry array
	# (ASan: heap-buffer-overflow; the eval's noise arm runs this).
	run -0 aiops-synth --seed 5 --services 4 --faults 0 --start 2024-05-01T00:00:00Z --duration 2h --out "$d"
	names=$(jq -r '.service' "$d/logs.jsonl" "$d/metrics.jsonl" | sort -u | paste -sd' ')
	users=$(jq -r 'select(.message | test("connection authorized: user=")) | .message | capture("user=(?<u>[^ ]+)").u' \
		"$d/logs.jsonl" | sort -u)
	[ -n "$users" ]
	for u in $users; do [[ " $names " == *" $u "* ]]; done
}

@test "gives the same bytes for the same seed" {
	aiops-synth "${SMALL[@]}" --out "$BATS_TEST_TMPDIR/b"
	diff -r "$A" "$BATS_TEST_TMPDIR/b"
}

@test "gives different data for a different seed" {
	aiops-synth --seed 8 --duration 40m --rate 3 --out "$BATS_TEST_TMPDIR/b"
	for f in logs metrics traces incidents; do
		run cmp -s "$A/$f.jsonl" "$BATS_TEST_TMPDIR/b/$f.jsonl"
		[ "$status" -ne 0 ]
	done
}

@test "labels one incident of every fault type with the mapped action" {
	run jq -rs 'map("\(.root_cause.fault)=\(.expected_actions | join(","))") | sort | join(" ")' "$A/incidents.jsonl"
	[ "$output" = "bad_deploy=rollback cpu_saturation=scale_out db_exhaustion=increase_pool error_burst=restart latency=scale_out memory_leak=restart network_partition=failover" ]
	run jq -rs '[.[].id] | join(" ")' "$A/incidents.jsonl"
	[ "$output" = "INC-001 INC-002 INC-003 INC-004 INC-005 INC-006 INC-007" ]
}

@test "orders the incident times and keeps incidents apart" {
	run jq -rs '[.[] | .start_ts < .detected_ts and .detected_ts < .resolved_ts] | all' "$A/incidents.jsonl"
	[ "$output" = true ]
	run jq -rs '[range(1; length) as $i | .[$i - 1].resolved_ts < .[$i].start_ts] | all' "$A/incidents.jsonl"
	[ "$output" = true ]
}

@test "keeps a quiet stretch of ten minutes in the default dataset" {
	run jq -rs '
	    def s: sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601;
	    [range(1; length) as $i | (.[$i].start_ts | s) - (.[$i - 1].resolved_ts | s)]
	    | max >= 600' "$ROOT/examples/data/incidents.jsonl"
	[ "$output" = true ]
}

@test "memory_leak leaves OOM kill and restart logs and counts the restart" {
	inc=$(incident memory_leak)
	svc=$(jq -r .root_cause.service <<<"$inc")
	run jq -r --arg s "$svc" 'select(.service == $s) | .message' "$A/logs.jsonl"
	[[ "$output" == *"OOMKilled"* ]]
	[[ "$output" == *"restarting container $svc-1"* ]]
	run jq -r --arg s "$svc" 'select(.service == $s and .name == "restarts_total") | .value' "$A/metrics.jsonl"
	[ "$(head -n1 <<<"$output")" = 0 ]
	[ "$(tail -n1 <<<"$output")" = 1 ]
	run jq -rs --arg s "$svc" --argjson inc "$inc" '
	    [.[] | select(.service == $s and .name == "memory_bytes")] as $m
	    | ($m | map(select(.timestamp < $inc.start_ts)) | map(.value) | max) as $before
	    | ($m | map(select(.timestamp >= $inc.start_ts and .timestamp < $inc.resolved_ts)) | map(.value) | max) as $during
	    | $during > 2 * $before' "$A/metrics.jsonl"
	[ "$output" = true ]
}

@test "bad_deploy logs the deploy before the errors and rolls back" {
	inc=$(incident bad_deploy)
	run jq -rs --argjson inc "$inc" '
	    [.[] | select(.service == $inc.root_cause.service and .timestamp >= $inc.start_ts and .timestamp < $inc.resolved_ts)]
	    | (map(select(.message | startswith("deployed version"))) | first.timestamp) as $deploy
	    | (map(select(.level == "ERROR")) | first.timestamp) as $error
	    | $deploy == $inc.start_ts and $deploy < $error' "$A/logs.jsonl"
	[ "$output" = true ]
	run jq -r --argjson inc "$inc" 'select(.service == $inc.root_cause.service and .timestamp == $inc.resolved_ts) | .message' "$A/logs.jsonl"
	[[ "$output" == "deployed version "*"(rollback)" ]]
}

@test "db_exhaustion fills the pool and logs pool errors at the root" {
	inc=$(incident db_exhaustion)
	run jq -r --argjson inc "$inc" 'select(.service == $inc.root_cause.service and .name == "db_connections" and .timestamp >= $inc.start_ts and .timestamp < $inc.resolved_ts) | .value' "$A/metrics.jsonl"
	[[ "$output" == *50* ]]
	run jq -r --argjson inc "$inc" 'select(.service == $inc.root_cause.service and .timestamp >= $inc.start_ts and .timestamp < $inc.resolved_ts) | .message' "$A/logs.jsonl"
	[[ "$output" == *"connection pool exhausted"* ]]
	[ "$(jq -r .root_cause.component <<<"$inc")" = connection-pool ]
}

@test "network_partition makes calls to the peer fail" {
	inc=$(incident network_partition)
	run jq -r --argjson inc "$inc" 'select(.service == $inc.root_cause.service and .timestamp >= $inc.start_ts and .timestamp < $inc.resolved_ts and .level == "ERROR") | .message' "$A/logs.jsonl"
	peer=$(jq -r .peer_service <<<"$inc")
	[[ "$output" == *"call to $peer failed: dial tcp"* ]]
}

@test "error_burst raises the error rate and fails spans at the root" {
	inc=$(incident error_burst)
	run jq -rs --argjson inc "$inc" '
	    map(select(.service == $inc.root_cause.service and .name == "error_rate"))
	    | (map(select(.timestamp < $inc.start_ts)) | map(.value) | max) as $before
	    | (map(select(.timestamp >= $inc.start_ts and .timestamp < $inc.resolved_ts)) | map(.value) | max) as $during
	    | $during > 0.2 and $during > 10 * $before' "$A/metrics.jsonl"
	[ "$output" = true ]
	run jq -r --argjson inc "$inc" 'select(.service == $inc.root_cause.service and .timestamp >= $inc.start_ts and .level == "ERROR") | .message' "$A/logs.jsonl"
	[[ "$output" == *"unhandled exception"* || "$output" == *"panic recovered"* ]]
	# The small dataset samples too few traces; the example one has enough.
	E="$ROOT/examples/data"
	inc=$(jq -c 'select(.root_cause.fault == "error_burst")' "$E/incidents.jsonl")
	run jq -r --argjson inc "$inc" 'select(.service == $inc.root_cause.service and .timestamp >= $inc.start_ts and .timestamp < $inc.resolved_ts) | .status' "$E/traces.jsonl"
	[[ "$output" == *ERROR* ]]
}

@test "latency and cpu_saturation raise p95 and cpu at the root" {
	inc=$(incident latency)
	run jq -rs --argjson inc "$inc" '
	    map(select(.service == $inc.root_cause.service and .name == "latency_p95_ms"))
	    | (map(.value) | sort | .[length / 2 | floor]) as $median
	    | (map(select(.timestamp >= $inc.start_ts and .timestamp < $inc.resolved_ts)) | map(.value) | max) as $during
	    | $during > 3 * $median' "$A/metrics.jsonl"
	[ "$output" = true ]
	inc=$(incident cpu_saturation)
	run jq -rs --argjson inc "$inc" '
	    map(select(.service == $inc.root_cause.service and .name == "cpu_usage" and .timestamp >= $inc.start_ts and .timestamp < $inc.resolved_ts))
	    | map(.value) | max >= 0.95' "$A/metrics.jsonl"
	[ "$output" = true ]
}

@test "symptoms reach the callers after the root" {
	inc=$(incident db_exhaustion)
	run jq -rs --argjson inc "$inc" '
	    map(select(.level != "INFO" and .level != "DEBUG" and .timestamp >= $inc.start_ts and .timestamp < $inc.resolved_ts
	        and ((.message | test("pool exhausted|timeout calling")))))
	    | (map(select(.service == $inc.root_cause.service)) | first.timestamp) as $root
	    | (map(select(.service != $inc.root_cause.service)) | first.timestamp) as $caller
	    | $root < $caller' "$A/logs.jsonl"
	[ "$output" = true ]
}

@test "builds traces on the call graph from the frontend down" {
	run jq -rs '
	    (map({key: .span_id, value: .service}) | from_entries) as $svc
	    | [.[] | select(.parent_id == null) | .service] | unique | join(" ")' "$A/traces.jsonl"
	[ "$output" = frontend ]
	run jq -rs '
	    (map({key: .span_id, value: .}) | from_entries) as $by
	    | [.[] | select(.parent_id != null) | $by[.parent_id] as $p
	       | ($p != null and $p.trace_id == .trace_id and $p.timestamp <= .timestamp)] | all' "$A/traces.jsonl"
	[ "$output" = true ]
	run jq -rs '
	    (map({key: .span_id, value: .service}) | from_entries) as $svc
	    | [.[] | select(.parent_id != null) | "\($svc[.parent_id])>\(.service)"] | unique | join(" ")' "$A/traces.jsonl"
	[[ "$output" == *"frontend>api-gateway"* ]]
	[[ "$output" == *"api-gateway>checkout"* ]]
	[[ "$output" == *"checkout>postgres-orders"* ]]
	[[ "$output" == *"cart>redis-cache"* ]]
}

@test "sorts every file by timestamp" {
	for f in logs metrics traces; do
		jq -r .timestamp "$A/$f.jsonl" >"$BATS_TEST_TMPDIR/ts"
		LC_ALL=C sort -c "$BATS_TEST_TMPDIR/ts"
	done
	jq -r .start_ts "$A/incidents.jsonl" | LC_ALL=C sort -c
}

@test "--unsorted shuffles the same lines" {
	aiops-synth "${SMALL[@]}" --unsorted --out "$BATS_TEST_TMPDIR/u"
	jq -r .timestamp "$BATS_TEST_TMPDIR/u/logs.jsonl" >"$BATS_TEST_TMPDIR/ts"
	run -1 env LC_ALL=C sort -c "$BATS_TEST_TMPDIR/ts"
	for f in logs metrics traces incidents; do
		LC_ALL=C sort "$A/$f.jsonl" >"$BATS_TEST_TMPDIR/x"
		LC_ALL=C sort "$BATS_TEST_TMPDIR/u/$f.jsonl" >"$BATS_TEST_TMPDIR/y"
		cmp "$BATS_TEST_TMPDIR/x" "$BATS_TEST_TMPDIR/y"
	done
	aiops-synth "${SMALL[@]}" --unsorted --out "$BATS_TEST_TMPDIR/v"
	diff -r "$BATS_TEST_TMPDIR/u" "$BATS_TEST_TMPDIR/v"
}

@test "--gzip writes files that decompress to the plain bytes" {
	aiops-synth "${SMALL[@]}" --gzip --out "$BATS_TEST_TMPDIR/g"
	for f in logs metrics traces incidents; do
		gzip -dc "$BATS_TEST_TMPDIR/g/$f.jsonl.gz" | cmp - "$A/$f.jsonl"
	done
}

@test "--format csv writes long-form CSV with headers" {
	aiops-synth "${SMALL[@]}" --format csv --out "$BATS_TEST_TMPDIR/c"
	[ "$(head -n1 "$BATS_TEST_TMPDIR/c/metrics.csv")" = "timestamp,service,name,value,unit,host" ]
	[ "$(head -n1 "$BATS_TEST_TMPDIR/c/logs.csv")" = "timestamp,service,level,message,trace_id,span_id" ]
	[ "$(head -n1 "$BATS_TEST_TMPDIR/c/traces.csv")" = "timestamp,service,trace_id,span_id,parent_id,name,duration_ms,status" ]
	[ "$(($(wc -l <"$BATS_TEST_TMPDIR/c/metrics.csv") - 1))" -eq "$(wc -l <"$A/metrics.jsonl")" ]
	cmp "$BATS_TEST_TMPDIR/c/incidents.jsonl" "$A/incidents.jsonl"
}

@test "--format otlp writes collector file-exporter JSON" {
	aiops-synth "${SMALL[@]}" --format otlp --out "$BATS_TEST_TMPDIR/o"
	run jq -r '.resourceSpans[0].scopeSpans[0].spans[0].status.code' "$BATS_TEST_TMPDIR/o/traces.otlp.jsonl"
	[ "$(sort -u <<<"$output" | tr '\n' ' ')" = "1 2 " ]
	run jq -r '.resourceMetrics[0].resource.attributes[] | select(.key == "service.name") | .value.stringValue' "$BATS_TEST_TMPDIR/o/metrics.otlp.jsonl"
	[ "$(head -n1 <<<"$output")" = frontend ]
	run jq -e '.resourceLogs[0].scopeLogs[0].logRecords[0].timeUnixNano | test("^[0-9]{19}$")' "$BATS_TEST_TMPDIR/o/logs.otlp.jsonl"
	[ "$status" -eq 0 ]
}

@test "usage error exits 2 with the program name on stderr" {
	run -2 --separate-stderr aiops-synth --bogus
	[ "$output" = "" ]
	[[ "$stderr" == "aiops-synth: unknown option '--bogus'"* ]]
	run -2 --separate-stderr aiops-synth --mix latency,nosuch --out "$BATS_TEST_TMPDIR/x"
	[ "$stderr" = "aiops-synth: --mix: unknown fault 'nosuch'" ]
	run -2 --separate-stderr aiops-synth --duration soon
	[[ "$stderr" == "aiops-synth: --duration: invalid value 'soon'"* ]]
}

@test "--help prints the usage on stdout and exits 0" {
	run -0 --separate-stderr aiops-synth --help
	[[ "$output" == "usage: aiops-synth [--seed N]"* ]]
	[ "$stderr" = "" ]
}

@test "a write error exits 1" {
	[ -w /dev/full ] || skip "no /dev/full"
	mkdir "$BATS_TEST_TMPDIR/full"
	ln -s /dev/full "$BATS_TEST_TMPDIR/full/metrics.jsonl"
	run -1 --separate-stderr aiops-synth "${SMALL[@]}" --out "$BATS_TEST_TMPDIR/full"
	[[ "$stderr" == "aiops-synth: $BATS_TEST_TMPDIR/full/metrics.jsonl: "* ]]
}

@test "examples/data is a fresh run of the documented command" {
	cmd=$(sed -n 's/^    \$ \(aiops-synth .*\)$/\1/p' "$ROOT/examples/data/README.md")
	[ "$cmd" = "aiops-synth --seed 42 --out examples/data" ]
	aiops-synth --seed 42 --out "$BATS_TEST_TMPDIR/d"
	for f in logs metrics traces incidents; do
		cmp "$BATS_TEST_TMPDIR/d/$f.jsonl" "$ROOT/examples/data/$f.jsonl"
	done
}

# The median duration_ms of the spans selected by a jq filter over the
# traces of $1, given the incident $2.
span_median() {
	jq -s --argjson inc "$2" "map(select($3) | .duration_ms) | sort | .[length / 2 | floor]" "$1/traces.jsonl"
}

@test "network_delay with --client-spans: the delay is only in the callers' client spans" {
	d=$BATS_TEST_TMPDIR
	aiops-synth --seed 5 --duration 1h --faults 1 --mix network_delay --client-spans --out "$d" >/dev/null
	inc=$(jq -c . "$d/incidents.jsonl")
	[ "$(jq -r .root_cause.fault <<<"$inc")" = network_delay ]
	[ "$(jq -r '.expected_actions | join(",")' <<<"$inc")" = failover ]
	root=$(jq -r .root_cause.service <<<"$inc")
	during='.timestamp >= $inc.start_ts and .timestamp < $inc.resolved_ts'
	before='.timestamp < $inc.start_ts'
	# The root's own spans keep their duration...
	own_before=$(span_median "$d" "$inc" ".service == \$inc.root_cause.service and $before")
	own_during=$(span_median "$d" "$inc" ".service == \$inc.root_cause.service and $during")
	awk -v a="$own_before" -v b="$own_during" 'BEGIN { exit !(b < 1.5 * a + 5) }'
	# ...while the callers' client spans to it grow by the delay.
	call_before=$(span_median "$d" "$inc" ".name == \"call \(\$inc.root_cause.service)\" and $before")
	call_during=$(span_median "$d" "$inc" ".name == \"call \(\$inc.root_cause.service)\" and $during")
	awk -v a="$call_before" -v b="$call_during" 'BEGIN { exit !(b > a + 100) }'
	# The delayed pod itself logs nothing of it (background noise aside).
	run -0 jq -c --argjson inc "$inc" "select(.service == \$inc.root_cause.service and $during and (.message | test(\"slow|timeout|delay\")))" "$d/logs.jsonl"
	[ -z "$output" ]
	[ -n "$root" ]
}

@test "--client-spans: a call is a client span of the caller around the callee's span" {
	d=$BATS_TEST_TMPDIR
	aiops-synth --seed 3 --duration 20m --rate 2 --faults 0 --client-spans --out "$d" >/dev/null
	# Every span whose parent is of another service has a "call <service>"
	# parent that starts no later and lasts longer; and there are some.
	run -0 jq -sr '(map({key: .span_id, value: .}) | from_entries) as $by |
		[.[] | select(.parent_id != null) | {c: ., p: $by[.parent_id]} | select(.p.service != .c.service)] |
		"\(length) \(map(select(.p.name == "call \(.c.service)" and .p.timestamp <= .c.timestamp and .p.duration_ms > .c.duration_ms)) | length)"' "$d/traces.jsonl"
	read -r n good <<<"$output"
	[ "$n" -gt 0 ]
	[ "$good" -eq "$n" ]
	# Without the flag there are none.
	aiops-synth --seed 3 --duration 20m --rate 2 --faults 0 --out "$d/plain" >/dev/null
	run -0 jq -s 'map(select(.name | startswith("call "))) | length' "$d/plain/traces.jsonl"
	[ "$output" -eq 0 ]
}

@test "network_delay is left out of the default mix and offered by --mix" {
	run -0 aiops-synth --help
	[[ "$output" == *"(--mix also takes: network_delay)"* ]]
	[[ "$output" == *"--client-spans"* ]]
	run -0 jq -rs 'map(.root_cause.fault) | index("network_delay")' "$A/incidents.jsonl"
	[ "$output" = null ]
}
