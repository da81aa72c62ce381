#!/usr/bin/env bats
# The stage skeleton shared by every filter (lib/stage.c), seen through
# aiops-metrics: config sections, --set, --print-config, unknown keys,
# blank and CRLF lines, over-long lines, and the reject record's raw text.

load test_helper

setup() {
	cd "$AIOPS_ROOT" || exit 1
}

@test "--print-config prints the config with every --set applied, as JSON" {
	run -0 aiops-metrics --config examples/configs/basic.yaml --set pipeline.metrics.match_tolerance_s=30 \
		--set 'experiment.tags={a: 1}' --print-config
	echo "$output" | jq -e '.pipeline.metrics.match_tolerance_s == 30 and .experiment.tags == {a: 1}
		and .provider.type == "baseline"'
}

@test "a config value reaches the stage record's params; the flag overrides it" {
	run -0 pipe "aiops-metrics --set pipeline.metrics.match_tolerance_s=30 </dev/null | sed -n 1p"
	echo "$output" | jq -e '.kind == "stage" and .params.match_tolerance_s == 30'
	run -0 pipe "aiops-metrics --set pipeline.metrics.match_tolerance_s=30 --match-tolerance-s 5 </dev/null | sed -n 1p"
	echo "$output" | jq -e '.params.match_tolerance_s == 5'
}

@test "an unknown key in the stage's section is named on stderr" {
	run -0 --separate-stderr aiops-metrics --set pipeline.metrics.match_tolerence_s=30 </dev/null
	[ "$stderr" = "aiops-metrics: config: pipeline.metrics.match_tolerence_s: unknown key, ignored" ]
}

@test "an unknown key is named with the config file and its line; --strict makes it an error" {
	c=$BATS_TEST_TMPDIR/c.yaml
	printf 'pipeline:\n  metrics:\n    match_tolerance_s: 30\n    windw_s: 5\n' >"$c"
	run -0 --separate-stderr aiops-metrics --config "$c" </dev/null
	[ "$stderr" = "aiops-metrics: $c:4: pipeline.metrics.windw_s: unknown key, ignored" ]
	run -2 --separate-stderr aiops-metrics --config "$c" --strict </dev/null
	[ "$stderr" = "aiops-metrics: $c:4: pipeline.metrics.windw_s: unknown key" ]
	[ -z "$output" ]
	# The driver runs the stages on its own copy and names the user's file.
	run -0 --separate-stderr env AIOPS_CONFIG_SOURCE="$c" aiops-metrics --set pipeline.metrics.windw_s=5 </dev/null
	[ "$stderr" = "aiops-metrics: $c:4: pipeline.metrics.windw_s: unknown key, ignored" ]
	run -0 --separate-stderr env AIOPS_KEYS_CHECKED=1 aiops-metrics --config "$c" </dev/null
	[ -z "$stderr" ]
}

@test "--preflight checks the keys at every level of the config, reads nothing, writes nothing" {
	c=$BATS_TEST_TMPDIR/c.yaml
	cat >"$c" <<-YAML
	experiment: {name: x, tagz: {}}
	providr:
	  type: openai_compat
	provider:
	  type: baseline
	  params: {temprature: 0}
	pipeline:
	  rca: {topk: 3, provider: {params: {max_token: 5}}}
	  metric: {}
	  metrics: {match_tolerance_s: 30}
	YAML
	run -0 --separate-stderr aiops-metrics --config "$c" --preflight </dev/null
	[ -z "$output" ]
	[ "$stderr" = "$(printf '%s\n' \
		"aiops-metrics: $c:2: providr: unknown key, ignored" \
		"aiops-metrics: $c:9: pipeline.metric: unknown key, ignored" \
		"aiops-metrics: $c:1: experiment.tagz: unknown key, ignored" \
		"aiops-metrics: $c:6: provider.params.temprature: unknown key, ignored" \
		"aiops-metrics: $c:8: pipeline.rca.provider.params.max_token: unknown key, ignored")" ]
	run -2 --separate-stderr aiops-metrics --config "$c" --preflight --strict </dev/null
	[ "${#stderr_lines[@]}" -eq 5 ]
	# Without --preflight a stage checks its own section only.
	run -0 --separate-stderr aiops-metrics --config "$c" </dev/null
	[ -z "$stderr" ]
}

@test "a config value of the wrong type is a config error" {
	run -2 --separate-stderr aiops-metrics --set pipeline.metrics.match_tolerance_s='[1]' </dev/null
	[ "$stderr" = "aiops-metrics: config: pipeline.metrics.match_tolerance_s: expected a number, got '[1]'" ]
}

@test "blank lines are skipped and CRLF lines are read and forwarded as they came" {
	printf '{"kind":"x","a":1}\r\n\n   \n{"kind":"y"}\n' >"$BATS_TEST_TMPDIR/in"
	run -0 pipe "aiops-metrics '$BATS_TEST_TMPDIR/in' | grep -c -F \$'{\"kind\":\"x\",\"a\":1}\\r'"
	[ "$output" = 1 ]
	run -0 pipe "aiops-metrics '$BATS_TEST_TMPDIR/in' | tail -n 1"
	echo "$output" | jq -e '.records_in == 2 and .rejects == 0'
}

@test "a line over --max-line is a reject with its length and a prefix, and reading goes on" {
	{ printf '{"kind":"x","pad":"'; head -c 5000 /dev/zero | tr '\0' a; printf '"}\n{"kind":"y"}\n'; } >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr aiops-metrics --max-line 1000 "$BATS_TEST_TMPDIR/in"
	[ "$stderr" = "aiops-metrics: $BATS_TEST_TMPDIR/in:1: line too long (5021 bytes, limit 1000)" ]
	echo "$output" | jq -e -s 'map(select(.kind == "reject"))[0] | .raw_truncated and .raw_bytes == 5021
		and (.raw | length) == 4096 and .line == 1'
	echo "$output" | grep -q -x -F '{"kind":"y"}'
}

@test "a line that is not UTF-8 keeps its bytes in raw_b64" {
	printf '{"kind":\xff}\n' >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr aiops-metrics "$BATS_TEST_TMPDIR/in"
	[ "$(echo "$output" | jq -r 'select(.kind == "reject") | .raw_b64' | base64 -d | od -An -tx1 | tr -d ' ')" = 7b226b696e64223aff7d ]
}

@test "a record without a string kind, and a JSON value that is not an object, are rejects" {
	printf '{"kind":5}\n[1,2]\n{"nokind":1}\n' >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr aiops-metrics "$BATS_TEST_TMPDIR/in"
	[ "${stderr_lines[0]}" = "aiops-metrics: $BATS_TEST_TMPDIR/in:1: missing string \"kind\"" ]
	[ "${stderr_lines[1]}" = "aiops-metrics: $BATS_TEST_TMPDIR/in:2: not a JSON object" ]
	[ "${stderr_lines[2]}" = "aiops-metrics: $BATS_TEST_TMPDIR/in:3: missing string \"kind\"" ]
}

@test "an input file that cannot be opened exits 1 naming it" {
	run -1 --separate-stderr aiops-metrics /nonexistent/in.jsonl
	[ "$stderr" = "aiops-metrics: /nonexistent/in.jsonl: No such file or directory" ]
}

@test "--version names the program" {
	run -0 aiops-metrics --version
	[ "$output" = "aiops-metrics 0.1.0" ]
}
