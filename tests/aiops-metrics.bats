#!/usr/bin/env bats
# Tests for aiops-metrics: every score checked against fixtures computed by
# hand (tests/fixtures/metrics/NAME.in.jsonl -> NAME.scores.jsonl), plus the
# stream contract.

load test_helper
bats_require_minimum_version 1.5.0

M="$BATS_TEST_DIRNAME/fixtures/metrics"

# Runs the stage on a fixture and compares its score records with the
# hand-computed ones (keys sorted on both sides, so only values count).
check_scores() { # NAME INPUT [options...]
	local name=$1 in=$2 out=$BATS_TEST_TMPDIR/out
	shift 2
	aiops-metrics "$@" "$M/$in.in.jsonl" >"$out"
	jq -cS 'select(.kind == "score")' "$out" >"$out.scores"
	jq -cS . "$M/$name.scores.jsonl" >"$out.want"
	diff -u "$out.want" "$out.scores"
}

# Prints "value n" of one overall score.
value() { # NAME FILE
	jq -r --arg n "$1" 'select(.kind == "score" and .name == $n and .incident_id == null)
		| "\(.value) \(.n)"' "$2"
}

@test "scores a perfect run: every incident matched, ranked first and remediated" {
	check_scores perfect perfect
}

@test "counts a missed incident as missed and wrong, never averages it away" {
	check_scores miss miss
}

@test "counts an unmatched detected group as a false positive and ignores undetected groups" {
	check_scores fp fp
}

@test "breaks ties by root service, then overlap, then detected_ts, then id, greedily by incident start" {
	check_scores tie tie
}

@test "counts every detected group overlapping a matched incident as fragmentation" {
	check_scores frag frag
}

@test "handles missing detected_ts, resolved_ts, root_cause and expected_actions per metric" {
	check_scores missing-labels missing-labels
}

# Injected faults with no recovery time (Nezha's labels): an open incident
# ends where the next one starts, less the matching tolerance, so an earlier
# fault that was missed does not take the group of the fault that follows
# it (G1 starts 30 s after B, within the 60 s tolerance of B's start; then
# 30 s before B, which the tolerance also gives to B).
# A group that runs on from one fault into the next (faults one after
# another, no recovery times) is one group for two incidents: counted.
@test "counts the detected groups that overlap two incidents or more as groups_spanning" {
	local in=$BATS_TEST_TMPDIR/in.jsonl
	cat >"$in" <<-'EOF'
	{"kind":"incident","id":"A","start_ts":"2024-05-01T10:00:00Z","resolved_ts":null,"root_cause":{"service":"cart"}}
	{"kind":"incident","id":"B","start_ts":"2024-05-01T10:08:00Z","resolved_ts":null,"root_cause":{"service":"db"}}
	{"kind":"incident","id":"C","start_ts":"2024-05-01T10:30:00Z","resolved_ts":null,"root_cause":{"service":"web"}}
	{"kind":"group","id":"G1","detected":true,"start_ts":"2024-05-01T10:00:20Z","detected_ts":"2024-05-01T10:01:00Z","end_ts":"2024-05-01T10:10:00Z","services":[{"service":"cart","score":1}]}
	{"kind":"group","id":"G2","detected":true,"start_ts":"2024-05-01T10:30:10Z","detected_ts":"2024-05-01T10:31:00Z","end_ts":"2024-05-01T10:33:00Z","services":[{"service":"web","score":1}]}
	{"kind":"group","id":"G3","detected":false,"start_ts":"2024-05-01T10:05:00Z","end_ts":"2024-05-01T10:20:00Z","services":[{"service":"db","score":1}]}
	EOF
	run -0 --separate-stderr aiops-metrics "$in"
	[ "$(jq -r 'select(.kind == "score" and .name == "groups_spanning") | "\(.value) \(.n)"' <<<"$output")" = "1 2" ]
	# Ending G1 before B's reach back (B starts 10:08, tolerance 60 s) spans nothing.
	sed 's/"end_ts":"2024-05-01T10:10:00Z"/"end_ts":"2024-05-01T10:06:00Z"/' "$in" >"$in.1"
	run -0 --separate-stderr aiops-metrics "$in.1"
	[ "$(jq -r 'select(.kind == "score" and .name == "groups_spanning") | "\(.value) \(.n)"' <<<"$output")" = "0 2" ]
}

@test "an incident with no resolved_ts ends where the next one starts (less twice the tolerance), not at the end of the data" {
	local in=$BATS_TEST_TMPDIR/in.jsonl
	cat >"$in" <<-'EOF'
	{"kind":"incident","id":"A","start_ts":"2024-05-01T10:00:00Z","resolved_ts":null,"root_cause":{"service":"cart"}}
	{"kind":"incident","id":"B","start_ts":"2024-05-01T10:08:00Z","resolved_ts":null,"root_cause":{"service":"db"}}
	{"kind":"group","id":"G1","detected":true,"start_ts":"2024-05-01T10:08:30Z","detected_ts":"2024-05-01T10:09:00Z","end_ts":"2024-05-01T10:12:00Z","services":[{"service":"db","score":1}]}
	{"kind":"rca","group_id":"G1","candidates":[{"service":"db","fault":"cpu"}]}
	EOF
	run -0 --separate-stderr aiops-metrics "$in"
	[ "$(jq -r 'select(.kind == "score" and .name == "matched") | "\(.incident_id) \(.value) \(.group_id)"' <<<"$output")" = "A 0 null
B 1 G1" ]
	[ "$(jq -r 'select(.kind == "score" and .name == "rca_ac1" and .incident_id == null) | "\(.value) \(.n)"' <<<"$output")" = "0.5 2" ]
	sed 's/"start_ts":"2024-05-01T10:08:30Z"/"start_ts":"2024-05-01T10:07:30Z"/' "$in" >"$in.1"
	run -0 --separate-stderr aiops-metrics "$in.1"
	[ "$(jq -r 'select(.kind == "score" and .name == "matched") | "\(.incident_id) \(.value) \(.group_id)"' <<<"$output")" = "A 0 null
B 1 G1" ]
	# The last open incident still runs to the end of the data.
	jq -c 'if .id == "B" then .start_ts = "2024-05-01T09:50:00Z" else . end' "$in" >"$in.2"
	run -0 --separate-stderr aiops-metrics "$in.2"
	[ "$(jq -r 'select(.kind == "score" and .name == "matched") | "\(.incident_id) \(.value)"' <<<"$output" | sort)" = "A 1
B 0" ]
}

@test "works on a stream with only groups and incidents" {
	check_scores groups-only groups-only
}

@test "counts LLM calls, failures, retries, tokens and nearest-rank percentiles per stage" {
	check_scores cost cost
}

@test "prices calls from the config's price table into cost_usd" {
	check_scores prices cost --config "$M/prices.yaml"
	check_scores prices cost --prices '{m-small: {input_per_1k: 0.5, output_per_1k: 1.5}, m-large: {input_per_1k: 10, output_per_1k: 30}}'
	[ "$(head -n1 "$BATS_TEST_TMPDIR/out" | jq -c .params.prices)" = '{"m-small":{"input_per_1k":0.5,"output_per_1k":1.5},"m-large":{"input_per_1k":10,"output_per_1k":30}}' ]
}

@test "falls back to stage_end llm counters when no llm_call record was seen" {
	check_scores fallback fallback
}

@test "leaves cost_usd null when the counters come from stage_end records" {
	run -0 aiops-metrics --set 'pipeline.metrics.prices={m: {input_per_1k: 1, output_per_1k: 2}}' \
		"$M/fallback.in.jsonl"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
	[ "$(value cost_usd "$BATS_TEST_TMPDIR/out")" = "null 0" ]
	[ "$(value cost_usd.rca "$BATS_TEST_TMPDIR/out")" = "null 0" ]
}

@test "match_tolerance_s from the command line or the config narrows the overlap" {
	aiops-metrics --match-tolerance-s 0 "$M/frag.in.jsonl" >"$BATS_TEST_TMPDIR/a"
	[ "$(value fragmentation "$BATS_TEST_TMPDIR/a")" = "2 1" ]
	aiops-metrics --set pipeline.metrics.match_tolerance_s=0s "$M/frag.in.jsonl" >"$BATS_TEST_TMPDIR/b"
	[ "$(value fragmentation "$BATS_TEST_TMPDIR/b")" = "2 1" ]
	[ "$(value false_positives "$BATS_TEST_TMPDIR/b")" = "2 3" ]
	[ "$(head -n1 "$BATS_TEST_TMPDIR/b" | jq -c .params)" = '{"match_tolerance_s":0,"prices":null}' ]
}

@test "passes every record through byte for byte and in order, its own kinds included" {
	for f in perfect miss tie cost fallback; do
		aiops-metrics "$M/$f.in.jsonl" >"$BATS_TEST_TMPDIR/out"
		sed '1d;$d' "$BATS_TEST_TMPDIR/out" | grep -v '^{"kind":"score"' >"$BATS_TEST_TMPDIR/fwd"
		cmp "$M/$f.in.jsonl" "$BATS_TEST_TMPDIR/fwd"
	done
}

@test "writes stage first, then the input, then the scores, then stage_end last" {
	aiops-metrics "$M/perfect.in.jsonl" >"$BATS_TEST_TMPDIR/out"
	run jq -r .kind "$BATS_TEST_TMPDIR/out"
	[ "${lines[0]}" = stage ]
	[ "${lines[-1]}" = stage_end ]
	# 13 forwarded records, then only scores up to stage_end.
	[ "$(sed -n '2,14p' "$BATS_TEST_TMPDIR/out" | jq -r .kind | grep -c -v score)" = 13 ]
	[ "$(sed '1,14d;$d' "$BATS_TEST_TMPDIR/out" | jq -r .kind | sort -u)" = score ]
	run jq -c '[.records_in, .records_out, .rejects]' <(tail -n1 "$BATS_TEST_TMPDIR/out")
	[ "$output" = "[13,60,0]" ]
}

@test "gives the same bytes for the same input apart from timings" {
	aiops-metrics --config "$M/prices.yaml" "$M/cost.in.jsonl" "$M/tie.in.jsonl" | mask >"$BATS_TEST_TMPDIR/a"
	aiops-metrics --config "$M/prices.yaml" "$M/cost.in.jsonl" "$M/tie.in.jsonl" | mask >"$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "prints shares like 0.1 without float noise" {
	{
		for i in 1 2 3 4 5 6 7 8 9 10; do
			printf '{"kind":"incident","id":"I%02d","start_ts":"2024-05-01T%02d:00:00.000Z"}\n' "$i" "$i"
		done
		echo '{"kind":"group","id":"G1","start_ts":"2024-05-01T01:00:00.000Z","detected_ts":"2024-05-01T01:00:00.100Z","end_ts":"2024-05-01T01:10:00.000Z"}'
	} >"$BATS_TEST_TMPDIR/in"
	run -0 aiops-metrics --match-tolerance-s 0 "$BATS_TEST_TMPDIR/in"
	[[ "$output" == *'{"kind":"score","name":"detection_recall","value":0.1,"n":10,"unit":"ratio"}'* ]]
	[[ "$output" == *'{"kind":"score","name":"mmtd_s","value":0.1,"n":1,"unit":"s"}'* ]]
}

@test "turns malformed timestamps and a non-boolean detected into rejects and keeps going" {
	run -0 --separate-stderr aiops-metrics "$M/bad.in.jsonl"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/out"
	run jq -c 'select(.kind == "reject") | [.line, .reason]' "$BATS_TEST_TMPDIR/out"
	[ "${lines[0]}" = "[2,\"incident: bad detected_ts 'yesterday': invalid timestamp\"]" ]
	[ "${lines[1]}" = '[3,"group: end_ts is not a timestamp string"]' ]
	[ "${lines[2]}" = '[4,"group: detected is not a boolean"]' ]
	[ "${lines[3]}" = '[5,"incident: missing start_ts"]' ]
	[ "${lines[4]}" = "[7,\"incident: bad start_ts '2024-13-01T11:00:00.000Z': impossible date\"]" ]
	[ "${#lines[@]}" -eq 5 ]
	[ "$(value incidents_total "$BATS_TEST_TMPDIR/out")" = "1 1" ]
	[ "$(value groups_detected "$BATS_TEST_TMPDIR/out")" = "1 1" ]
	[ "$(jq -r 'select(.kind == "reject") | .raw' "$BATS_TEST_TMPDIR/out" | sed -n 1p)" = "$(sed -n 2p "$M/bad.in.jsonl")" ]
	[ "$(jq -c 'select(.kind == "stage_end") | .rejects' "$BATS_TEST_TMPDIR/out")" = 5 ]
	[ "${stderr_lines[0]}" = "aiops-metrics: $M/bad.in.jsonl:2: incident: bad detected_ts 'yesterday': invalid timestamp" ]
	[ "${#stderr_lines[@]}" -eq 5 ]
}

@test "exits 1 at the first malformed timestamp under --strict" {
	run -1 --separate-stderr aiops-metrics --strict "$M/bad.in.jsonl"
	[ "$(printf '%s\n' "$output" | jq -r .kind | tail -n1)" = reject ]
	[ "${stderr_lines[1]}" = "aiops-metrics: stopping at the first bad line (--strict)" ]
}

@test "turns a line that is not JSON into a reject, exit 0, or 1 with --strict" {
	printf '%s\n' '{"kind":"note"}' '{"kind":"incident",' '{"kind":"note","n":2}' >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr aiops-metrics "$BATS_TEST_TMPDIR/in"
	[ "$(printf '%s\n' "$output" | jq -c 'select(.kind == "reject") | [.line, .raw]')" = '[2,"{\"kind\":\"incident\","]' ]
	[ "$(printf '%s\n' "$output" | grep -c -F -x '{"kind":"note","n":2}')" = 1 ]
	run -1 aiops-metrics --strict "$BATS_TEST_TMPDIR/in"
}

@test "writes every score on empty input" {
	run -0 aiops-metrics </dev/null
	[ "$(printf '%s\n' "$output" | jq -r .kind | sort | uniq -c | tr -s ' ')" = " 37 score
 1 stage
 1 stage_end" ]
}

@test "exits 2 on usage and config errors" {
	run -2 --separate-stderr aiops-metrics --no-such-option
	[[ "$stderr" == "aiops-metrics: unknown option '--no-such-option'"* ]]
	run -2 --separate-stderr aiops-metrics --set 'pipeline.metrics.prices={m: {input_per_1k: 1}}' </dev/null
	[ "${stderr_lines[0]}" = "aiops-metrics: prices.m: expected {input_per_1k: NUMBER, output_per_1k: NUMBER}" ]
	run -2 --separate-stderr aiops-metrics --set 'pipeline.metrics.prices=[1]' </dev/null
	[ "${stderr_lines[0]}" = "aiops-metrics: prices: expected {MODEL: {input_per_1k, output_per_1k}}" ]
	run -2 --separate-stderr aiops-metrics --match-tolerance-s=-5 </dev/null
	[ "$output" = "" ]
	run -2 aiops-metrics --match-tolerance-s soon </dev/null
	run -2 --separate-stderr aiops-metrics --prices '{m: ' </dev/null
	[ "${stderr_lines[0]}" = "aiops-metrics: option '--prices': bad value '{m: '" ]
}

@test "prints usage on --help and exits 0" {
	run -0 aiops-metrics --help
	[[ "${lines[0]}" == "usage: aiops-metrics [options] [FILE...]" ]]
	[[ "$output" == *"--match-tolerance-s SECONDS"* ]]
	[[ "$output" == *"--prices TABLE"* ]]
}

@test "is quiet when its reader goes away (| head -n1)" {
	run -0 --separate-stderr bash -c "yes '{\"kind\":\"note\"}' | head -n 200000 | aiops-metrics | head -n1"
	[ "$output" = '{"kind":"stage","stage":"metrics","version":"0.1.0","params":{"match_tolerance_s":60,"prices":null}}' ]
	[ "$stderr" = "" ]
}

@test "exits 1 when stdout cannot be written (/dev/full)" {
	run -1 --separate-stderr bash -c 'aiops-metrics "$1" >/dev/full' _ "$M/perfect.in.jsonl"
	[[ "$stderr" == "aiops-metrics: write error: "* ]]
}

@test "documents every score name in the man page" {
	names=$(jq -r .name "$M"/*.scores.jsonl | sed 's/\..*//' | sort -u)
	for n in $names; do
		grep -q -w -F "$n" "$AIOPS_ROOT/src/aiops-metrics.1" || { echo "undocumented: $n"; false; }
	done
}
