#!/usr/bin/env bats
# Tests for aiops-remediate: the runbook baseline, the action catalog's
# checks on model answers (against tests/servers/fake_llm.py), prompts, and
# the canary that proves incident labels never reach a model.

load test_helper
bats_require_minimum_version 1.5.0
export -f mask   # for pipelines run with `pipe`

G="$FIX/rca/groups.jsonl"
R="$FIX/remediate/rca.jsonl"
TEMPLATE="$AIOPS_ROOT/examples/prompts/remediate.txt"
CATALOG="$AIOPS_ROOT/examples/actions.yaml"

# Starts the fake server with the given arguments and writes $CFG.
start_fake() {
	local d=$BATS_TEST_TMPDIR
	fake_llm_start "$d" --log "$d/req.log" "$@"
	PORT=$(cat "$d/port")
	CFG=$d/cfg.yaml
	cat >"$CFG" <<-YAML
	provider:
	  type: openai_compat
	  default_model: fake-model
	  params: {base_url: "http://127.0.0.1:$PORT/v1", max_attempts: 2, backoff_base_s: 0.01, backoff_cap_s: 0.02, timeout_s: 10, concurrency: ${CONC:-1}}
	pipeline:
	  remediation: {prompt: "$TEMPLATE", catalog: "$CATALOG"}
	YAML
}

teardown() {
	fake_llm_stop "$BATS_TEST_TMPDIR"
}

@test "baseline: writes the expected remediations after the rca records" {
	run pipe "aiops-rca '$G' | aiops-remediate | mask"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$FIX/remediate/baseline.expected")" ]
}

@test "baseline: follows the catalog's runbook for every fault type" {
	run pipe "aiops-remediate '$R' | jq -r 'select(.kind==\"remediation\") | \"\(.root_cause.fault) \(.steps | map(.action + \":\" + .target + \":\" + .risk + \":\" + (.params | tojson)) | join(\",\"))\"'"
	[ "$status" -eq 0 ]
	[ "$output" = 'db_exhaustion increase_pool:checkout:medium:{"size":100}
bad_deploy rollback:auth:medium:{"to_version":"previous"}
memory_leak restart:cart:medium:{"mode":"rolling"}
network_partition failover:shipping:high:{"to":"standby"}
latency scale_out:search:low:{"replicas":2}
cpu_saturation scale_out:payment:low:{"replicas":2}
error_burst restart:catalog:medium:{"mode":"rolling"}' ]
}

@test "forwards every record byte for byte and in order" {
	run pipe "aiops-remediate '$G' | grep -v -e '^{\"kind\":\"stage\",\"stage\":\"remediate\"' -e '^{\"kind\":\"stage_end\",\"stage\":\"remediate\"'"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$G")" ]
	aiops-rca "$G" >"$BATS_TEST_TMPDIR/rca.jsonl"
	run -0 pipe "aiops-remediate '$BATS_TEST_TMPDIR/rca.jsonl' | grep -v -e '\"kind\":\"remediation\"' -e '^{\"kind\":\"stage\",\"stage\":\"remediate\"' -e '^{\"kind\":\"stage_end\",\"stage\":\"remediate\"'"
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/rca.jsonl")" ]
}

@test "the built-in catalog is examples/actions.yaml" {
	run -0 pipe "aiops-remediate </dev/null | sed -n 1p | jq -c '.params | [.catalog, .catalog_sha256]'"
	[ "$output" = "[null,\"$(sha256sum "$CATALOG" | cut -d' ' -f1)\"]" ]
	a=$(aiops-remediate "$R" | mask | tail -n +2)
	b=$(aiops-remediate --catalog "$CATALOG" "$R" | mask | tail -n +2)
	[ "$a" = "$b" ]
}

@test "an rca with an error gives a remediation with the error and no steps" {
	run -0 pipe "aiops-remediate <<<'{\"kind\":\"rca\",\"group_id\":\"G9\",\"candidates\":[],\"summary\":null,\"error\":\"model call failed: HTTP 500\"}' | mask | jq -c 'select(.kind==\"remediation\")'"
	[ "$output" = '{"kind":"remediation","group_id":"G9","root_cause":{"service":null,"fault":null},"steps":[],"dropped":[],"provider":"baseline","model":"baseline","error":"rca failed: model call failed: HTTP 500"}' ]
}

@test "a root cause without a fault type gets no runbook steps" {
	run -0 pipe "aiops-remediate <<<'{\"kind\":\"rca\",\"group_id\":\"G9\",\"candidates\":[{\"service\":\"auth\",\"component\":null,\"fault\":null,\"confidence\":1,\"reason\":\"x\"}]}' | jq -c 'select(.kind==\"remediation\") | [.steps, .error]'"
	[ "$output" = '[[],"the root cause has no fault type, so no runbook applies"]' ]
	run -0 pipe "aiops-remediate <<<'{\"kind\":\"rca\",\"group_id\":\"G9\",\"candidates\":[{\"service\":\"auth\",\"fault\":\"disk_full\",\"confidence\":1}]}' | jq -c 'select(.kind==\"remediation\") | .error'"
	[ "$output" = '"no runbook entry for fault '"'"'disk_full'"'"'"' ]
}

@test "an rca without a group_id becomes a reject" {
	run --separate-stderr aiops-remediate <<<'{"kind":"rca","candidates":[]}'
	[ "$status" -eq 0 ]
	[ "$stderr" = 'aiops-remediate: <stdin>:1: rca without a string "group_id"' ]
}

@test "a catalog is checked when loaded: a bad entry is a config error" {
	c=$BATS_TEST_TMPDIR/c.yaml
	sed 's/risk: high/risk: extreme/' "$CATALOG" >"$c"
	run --separate-stderr aiops-remediate --catalog "$c" </dev/null
	[ "$status" -eq 2 ]
	[ "$stderr" = "aiops-remediate: $c: actions.failover.risk: expected low, medium or high" ]
	sed 's/        default: 2$/        default: 99/' "$CATALOG" >"$c"
	run --separate-stderr aiops-remediate --catalog "$c" </dev/null
	[ "$status" -eq 2 ]
	[ "$stderr" = "aiops-remediate: $c: actions.scale_out.params.replicas.default: param 'replicas': 99 is above the maximum 20" ]
	sed 's/- {action: failover}/- {action: reboot}/' "$CATALOG" >"$c"
	run --separate-stderr aiops-remediate --catalog "$c" </dev/null
	[ "$status" -eq 2 ]
	[ "$stderr" = "aiops-remediate: $c: runbook.network_partition[0]: unknown action 'reboot'" ]
	sed "s/pattern: '\\[A-Za-z0-9/pattern: '[[:nope:]/" "$CATALOG" >"$c"
	run --separate-stderr aiops-remediate --catalog "$c" </dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == "aiops-remediate: $c: actions.clear_cache.params.pattern.pattern: bad regular expression "* ]]
	# a memory bomb for regcomp (the catalog fuzzer's out-of-memory) is refused before it
	sed "s/pattern: '\[A-Za-z0-9/pattern: '((a{100}){100}){100}[A-Za-z0-9/" "$CATALOG" >"$c"
	run --separate-stderr aiops-remediate --catalog "$c" </dev/null
	[ "$status" -eq 2 ]
	[[ "$stderr" == "aiops-remediate: $c: actions.clear_cache.params.pattern.pattern: bad regular expression '((a{100}){100}){100}"*"': too many repetitions (it expands to more than 2048 atoms)" ]]
}

@test "a custom catalog changes the runbook" {
	c=$BATS_TEST_TMPDIR/c.yaml
	sed 's/- {action: increase_pool}/- {action: throttle, params: {rate_per_s: 50}}\n    - {action: increase_pool, params: {size: 250}}/' "$CATALOG" >"$c"
	run -0 pipe "aiops-remediate --catalog '$c' '$R' | jq -c 'select(.kind==\"remediation\" and .group_id==\"G0001\") | .steps'"
	[ "$output" = '[{"id":"s1","action":"throttle","target":"checkout","params":{"rate_per_s":50,"scope":"non_critical"},"risk":"medium","rationale":"runbook for db_exhaustion on checkout"},{"id":"s2","action":"increase_pool","target":"checkout","params":{"size":250},"risk":"medium","rationale":"runbook for db_exhaustion on checkout"}]' ]
}

@test "--emit-prompt shows the root cause, the group's evidence and the catalog" {
	run pipe "aiops-rca '$G' | aiops-remediate --emit-prompt --prompt '$TEMPLATE' | jq -r 'select(.kind==\"prompt\" and .group_id==\"G0001\") | .messages[1].content'"
	[ "$status" -eq 0 ]
	[[ "$output" == *'Root cause found by the analysis: {"service":"checkout","component":"connection-pool","fault":"db_exhaustion","confidence":0.6,'* ]]
	[[ "$output" == *"connection pool exhausted: <*>/<*> connections in use"* ]]
	[[ "$output" == *"- increase_pool (target: service, risk: medium): Raise the size of the service's connection pool to its database."* ]]
	[[ "$output" == *"    param size: integer 10..500, default 100 - the new maximum number of connections"* ]]
	[[ "$output" == *"    param rate_per_s: integer 1..100000, required - requests per second allowed through"* ]]
	[[ "$output" == *"Propose at most 5 steps"* ]]
	run -0 pipe "aiops-rca '$G' | aiops-remediate --emit-prompt --prompt '$TEMPLATE' | jq -c 'select(.kind==\"prompt\")' | wc -l"
	[ "$output" = 7 ]
}

@test "a group that was evicted or never seen leaves the evidence out with a note" {
	run -0 pipe "aiops-rca '$G' | aiops-remediate --max-groups 1 --emit-prompt --prompt '$TEMPLATE' | jq -r 'select(.kind==\"prompt\") | .messages[1].content | test(\"evidence is not available\")' | paste -sd' '"
	[ "$output" = "false false false false false false false" ]
	run -0 pipe "aiops-remediate --emit-prompt --prompt '$TEMPLATE' '$R' | jq -r 'select(.kind==\"prompt\") | .messages[1].content | test(\"evidence is not available\")' | sort -u"
	[ "$output" = true ]
	# Two groups remembered, G0001 evicted before its rca arrives.
	run -0 pipe "{ grep -e G0001 -e G0003 -e G0004 '$G' | grep '\"kind\":\"group\"'; grep G0001 '$R'; } | aiops-remediate --max-groups 2 --emit-prompt --prompt '$TEMPLATE' | jq -r 'select(.kind==\"prompt\") | .messages[1].content | test(\"evidence is not available\")'"
	[ "$output" = true ]
}

@test "canary: incident labels never reach a remediation prompt" {
	run pipe "aiops-rca '$FIX/rca/groups-canary.jsonl' | aiops-remediate --emit-prompt --prompt '$TEMPLATE' | jq -c 'select(.kind==\"prompt\")'"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "$output" != *CANARY* ]]
}

@test "model: drops unknown actions and bad params with the reason, keeps the rest" {
	start_fake --answer "$FIX/remediate/answer.json"
	run pipe "grep -e G0001 '$G' | grep '\"kind\":\"group\"' | cat - '$R' | head -n2 | aiops-remediate --config '$CFG' | mask | jq -c 'select(.kind==\"remediation\")'"
	[ "$status" -eq 0 ]
	[ "$output" = '{"kind":"remediation","group_id":"G0001","root_cause":{"service":"checkout","fault":"db_exhaustion"},"steps":[{"id":"s1","action":"increase_pool","target":"checkout","params":{"size":200},"risk":"medium","rationale":"the pool is exhausted"},{"id":"s2","action":"scale_out","target":"checkout","params":{"replicas":2},"risk":"low","rationale":"default replicas"}],"dropped":[{"action":"reboot","reason":"unknown action '"'reboot'"'"},{"action":"restart","reason":"param '"'mode'"': \"fast\" is not one of rolling, all"},{"action":"rollback","reason":"param '"'to_version'"': \"latest!\" does not match previous|v?[0-9]+\\.[0-9]+\\.[0-9]+"},{"action":"scale_out","reason":"param '"'replicas'"': 50 is above the maximum 20"},{"action":"throttle","reason":"missing required param '"'rate_per_s'"'"},{"action":"restart","reason":"unknown param '"'force'"' for action '"'restart'"'"}],"provider":"openai_compat","model":"fake-model"}' ]
}

@test "model: steps past max_steps are dropped" {
	start_fake --answer "$FIX/remediate/answer.json"
	run -0 pipe "head -n1 '$R' | aiops-remediate --config '$CFG' --max-steps 1 | jq -c 'select(.kind==\"remediation\") | [(.steps | map(.action)), (.dropped | map(.reason) | last)]'"
	[ "$output" = '[["increase_pool"],"more than max_steps (1) steps"]' ]
}

@test "model: sends the remediation schema with the catalog's actions" {
	start_fake --answer "$FIX/remediate/answer.json"
	run pipe "head -n1 '$R' | aiops-remediate --config '$CFG' >/dev/null && jq -c -s '.[0].body.response_format.json_schema | [.name, (.schema.properties.steps.items.anyOf | map(.properties.action.enum[0])), (.schema.properties.steps.items.anyOf | map(.required) | unique)]' '$BATS_TEST_TMPDIR/req.log'"
	[ "$status" -eq 0 ]
	[ "$output" = '["remediation",["restart","rollback","scale_out","failover","clear_cache","increase_pool","throttle"],[["action","target","params","rationale"]]]' ]
}

@test "model: each action's step schema has exactly its own params, enums and bounds (issue 19, item 7)" {
	start_fake --answer "$FIX/remediate/answer.json"
	run -0 pipe "head -n1 '$R' | aiops-remediate --config '$CFG' >/dev/null && jq -c -s '.[0].body.response_format.json_schema.schema.properties.steps.items.anyOf[] | [.properties.action.enum, .properties.params.properties, .properties.params.required, .properties.params.additionalProperties, .additionalProperties]' '$BATS_TEST_TMPDIR/req.log'"
	# restart has only mode (no to_version), its values and null (optional)
	[ "${lines[0]}" = '[["restart"],{"mode":{"enum":["rolling","all",null],"type":["string","null"]}},["mode"],false,false]' ]
	[ "${lines[2]}" = '[["scale_out"],{"replicas":{"maximum":20,"minimum":1,"type":["integer","null"]}},["replicas"],false,false]' ]
	# a required param is not nullable
	[ "${lines[6]}" = '[["throttle"],{"rate_per_s":{"maximum":100000,"minimum":1,"type":"integer"},"scope":{"enum":["all","non_critical",null],"type":["string","null"]}},["rate_per_s","scope"],false,false]' ]
}

@test "model: a bad answer is repaired once, then gives an error" {
	start_fake --answer "$FIX/remediate/answer.json" --faults notjson,notjson
	run --separate-stderr pipe "head -n1 '$R' | aiops-remediate --config '$CFG' | jq -c 'select(.kind==\"llm_call\" or .kind==\"remediation\") | [.kind, .purpose, .steps, .error]'"
	[ "$status" -eq 0 ]
	[[ "$stderr" == "aiops-remediate: 1 of 1 model answers failed: invalid answer after a repair round: the answer is not valid JSON ("* ]]
	[ "${lines[0]}" = '["llm_call","remediation",null,null]' ]
	[ "${lines[1]}" = '["llm_call","repair",null,null]' ]
	[[ "${lines[2]}" == '["remediation",null,[],"invalid answer after a repair round: the answer is not valid JSON ('* ]]
}

@test "model: a failed call gives a remediation with an error, and the run goes on" {
	start_fake --answer "$FIX/remediate/answer.json" --faults 503,503
	run --separate-stderr pipe "head -n2 '$R' | aiops-remediate --config '$CFG' | jq -c 'select(.kind==\"remediation\") | [.group_id, (.steps | length), (.error // \"\" | startswith(\"model call failed: \"))]'"
	[ "$status" -eq 0 ]
	[[ "$stderr" == "aiops-remediate: 1 of 2 model answers failed: model call failed: HTTP 503"* ]]
	[ "$output" = '["G0001",0,true]
["G0003",2,false]' ]
}

@test "model: keeps input order while several rca records are in flight" {
	CONC=4 start_fake --answer "$FIX/remediate/answer.json"
	run -0 pipe "aiops-remediate --config '$CFG' '$R' | jq -r 'select(.kind==\"rca\" or .kind==\"remediation\") | \"\(.kind) \(.group_id)\"' | paste -sd' '"
	[ "$output" = "rca G0001 remediation G0001 rca G0003 remediation G0003 rca G0004 remediation G0004 rca G0005 remediation G0005 rca G0006 remediation G0006 rca G0007 remediation G0007 rca G0008 remediation G0008" ]
}

@test "model: canary labels reach no request, and the key no output" {
	start_fake --answer "$FIX/remediate/answer.json"
	OPENAI_API_KEY=sk-test-KEY-5d2e run --separate-stderr pipe "aiops-rca '$FIX/rca/groups-canary.jsonl' | aiops-remediate --config '$CFG'"
	[ "$status" -eq 0 ]
	[ "$(jq -c 'select(.kind=="llm_call")' <<<"$output" | wc -l)" -eq 2 ]
	[[ "$(jq -c 'select(.kind=="llm_call")' <<<"$output")" != *CANARY* ]]
	[[ "$output$stderr" != *KEY-5d2e* ]]
	run grep -c CANARY "$BATS_TEST_TMPDIR/req.log"
	[ "$output" = 0 ]
}

@test "max_calls: stops with exit 1 and a message" {
	start_fake --answer "$FIX/remediate/answer.json"
	run --separate-stderr aiops-remediate --config "$CFG" --max-calls 1 "$R"
	[ "$status" -eq 1 ]
	[ "$stderr" = "aiops-remediate: call budget exceeded: max_calls is 1, 1 used, 1 more needed" ]
}

@test "--max-text bounds the answer schema sent to the model; unbounded by default" {
	run -0 pipe "aiops-rca '$G' | aiops-remediate --emit-prompt --prompt '$TEMPLATE' | jq -c 'select(.kind==\"prompt\") | .schema.properties.steps | [.maxItems, .items.anyOf[0].properties.target.maxLength]' | sort -u"
	[ "$output" = "[null,null]" ]
	run -0 pipe "aiops-rca '$G' | aiops-remediate --emit-prompt --prompt '$TEMPLATE' --max-steps 2 --max-text 80 | jq -c 'select(.kind==\"prompt\") | .schema.properties.steps | [.maxItems, (.items.anyOf | map(.properties.target.maxLength) | unique), (.items.anyOf | map(.properties.action.maxLength) | unique)]' | sort -u"
	[ "$output" = "[2,[80],[null]]" ]
}

# --- issue 17: model output with a NUL is rejected, never cut there ---

@test "model: a target with an escaped or raw NUL is rejected, not cut to its prefix (issue 17, finding 4)" {
	ans='{"steps":[{"action":"restart","target":"checkout\u0000evil","params":{"mode":"rolling"},"rationale":"x"}]}'
	# escaped: the six characters \u0000 inside the answer's JSON text
	jq -nc --arg c "$ans" '{content: $c}' >"$BATS_TEST_TMPDIR/script.jsonl"
	jq -nc --arg c "$ans" '{content: $c}' >>"$BATS_TEST_TMPDIR/script.jsonl"
	# raw: a NUL byte in the answer text itself (\u0000 in the provider's envelope)
	jq -nc '{content: "{\"steps\":[{\"action\":\"restart\",\"target\":\"checkout\u0000evil\",\"params\":{\"mode\":\"rolling\"},\"rationale\":\"x\"}]}"}' >>"$BATS_TEST_TMPDIR/script.jsonl"
	jq -nc '{content: "{\"steps\":[{\"action\":\"restart\",\"target\":\"checkout\u0000evil\",\"params\":{\"mode\":\"rolling\"},\"rationale\":\"x\"}]}"}' >>"$BATS_TEST_TMPDIR/script.jsonl"
	# raw, right after a backslash: shown as \u0000 it would read as an
	# escaped backslash and "u0000", so only the raw-NUL flag catches it
	jq -nc '{content: "{\"steps\":[{\"action\":\"restart\",\"target\":\"checkout\\\u0000evil\",\"params\":{\"mode\":\"rolling\"},\"rationale\":\"x\"}]}"}' >>"$BATS_TEST_TMPDIR/script.jsonl"
	jq -nc '{content: "{\"steps\":[{\"action\":\"restart\",\"target\":\"checkout\\\u0000evil\",\"params\":{\"mode\":\"rolling\"},\"rationale\":\"x\"}]}"}' >>"$BATS_TEST_TMPDIR/script.jsonl"
	start_fake --script "$BATS_TEST_TMPDIR/script.jsonl"
	run pipe "head -n1 '$R' | aiops-remediate --config '$CFG' | jq -c 'select(.kind==\"remediation\") | [.steps, .error]'"
	[ "$status" -eq 0 ]
	# the failed answer is said once on stderr (issue 16) and is the record's error
	want='invalid answer after a repair round: the answer is not valid JSON (the answer contains a NUL character (\u0000): rejected, never cut there)'
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = "aiops-remediate: 1 of 1 model answers failed: $want" ]
	[ "${lines[1]}" = "$(jq -nc --arg e "$want" '[[], $e]')" ]
	run pipe "sed -n 2p '$R' | aiops-remediate --config '$CFG' | jq -c 'select(.kind==\"remediation\") | [.steps, .error]'"
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = "aiops-remediate: 1 of 1 model answers failed: $want" ]
	[ "${lines[1]}" = "$(jq -nc --arg e "$want" '[[], $e]')" ]
	run pipe "sed -n 3p '$R' | aiops-remediate --config '$CFG' | jq -c 'select(.kind==\"remediation\") | [.steps, .error]'"
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = "aiops-remediate: 1 of 1 model answers failed: $want" ]
	[ "${lines[1]}" = "$(jq -nc --arg e "$want" '[[], $e]')" ]
}

# --- issue 17: bounded output (finding 7) ---

@test "model: an oversized answer is an error with its size; a long rationale is cut with a mark" {
	head -c 1100000 /dev/zero | tr '\0' x |
		jq -Rc '{content: ({steps: [{action: "restart", target: "checkout", params: {mode: "rolling"}, rationale: .}]} | tojson)}' >"$BATS_TEST_TMPDIR/script.jsonl"
	long=$(head -c 5000 /dev/zero | tr '\0' y)
	jq -nc --arg r "$long" '{content: ({steps: [{action: "restart", target: "checkout", params: {mode: "rolling"}, rationale: $r}]} | tojson)}' >>"$BATS_TEST_TMPDIR/script.jsonl"
	start_fake --script "$BATS_TEST_TMPDIR/script.jsonl"
	run pipe "head -n1 '$R' | aiops-remediate --config '$CFG' | jq -c 'select(.kind==\"remediation\") | [(.steps | length), .error]'"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == 'aiops-remediate: 1 of 1 model answers failed: model call failed: the answer is 11000'*' bytes, over the limit of 1048576 bytes' ]]
	[[ "${lines[1]}" == '[0,"model call failed: the answer is 11000'*' bytes, over the limit of 1048576 bytes"]' ]]
	run pipe "sed -n 2p '$R' | aiops-remediate --config '$CFG' | jq -r 'select(.kind==\"remediation\") | .steps[0].rationale | [length, .[-20:]] | @tsv'"
	[ "$output" = "$(printf '2000\tyy [cut: 5000 bytes]')" ]
}
