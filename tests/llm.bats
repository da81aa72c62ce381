#!/usr/bin/env bats
# Tests for the provider layer (lib/llm, lib/http) driven through the unit
# test binary's driver mode (`t_llm drive`) against tests/servers/fake_llm.py.

load test_helper
bats_require_minimum_version 1.5.0

T_LLM="${AIOPS_UNIT:-$AIOPS_ROOT/build/unit}/t_llm"
KEY=sk-bats-SECRET-9c1f

setup_file() {
	fake_llm_start "$BATS_FILE_TMPDIR/srv" --log "$BATS_FILE_TMPDIR/srv/log.jsonl" --hang-s 3 \
		--models fake-model,vllm/m1,vllm/m2
}

teardown_file() {
	fake_llm_stop "$BATS_FILE_TMPDIR/srv"
}

setup() {
	[ -x "$T_LLM" ] || skip "no $T_LLM (build the unit tests)"
	SRV="$BATS_FILE_TMPDIR/srv"
	PORT=$(cat "$SRV/port")
	LOG="$SRV/log.jsonl"
	D=$(scratch)
	ctl '{"faults": "", "reject": null, "delay_ms": 0, "reset_log": true, "reset_stats": true}'
}

# Sends a control message to the fake server.
ctl() {
	curl -sf -X POST -H 'Content-Type: application/json' -d "$1" \
		"http://127.0.0.1:$PORT/_control" >/dev/null
}

# Writes an openai_compat config to $D/c.yaml with extra params.
openai_cfg() {
	cat >"$D/c.yaml" <<-EOF
	provider:
	  type: openai_compat
	  default_model: fake-model
	  params: {base_url: 'http://127.0.0.1:$PORT/v1', backoff_base_s: 0.01, backoff_cap_s: 0.05${1:+, $1}}
	EOF
}

# A request line: user content, optional extra members.
req() {
	jq -nc --arg u "$1" --argjson extra "${2:-{\}}" \
		'{messages: [{role: "system", content: "You are an SRE."}, {role: "user", content: $u}],
		  purpose: "rca", group_id: "G0001"} + $extra'
}

SCHEMA='{"type":"object","properties":{"summary":{"type":"string"}},"required":["summary"],"additionalProperties":false}'

@test "openai_compat sends the exact body and the Bearer key from the environment" {
	openai_cfg "temperature: 0.1, max_tokens: 200, seed: 3"
	req "why is checkout failing?" "{\"schema\": $SCHEMA, \"schema_name\": \"rca\"}" >"$D/in"
	OPENAI_API_KEY=$KEY run --separate-stderr "$T_LLM" drive --config "$D/c.yaml" --stage rca <"$D/in"
	[ "$status" -eq 0 ]
	[ "$(jq -c .path "$LOG")" = '"/v1/chat/completions"' ]
	[ "$(jq -r '.headers.Authorization' "$LOG")" = "Bearer $KEY" ]
	want=$(jq -cS -n --argjson s "$SCHEMA" '{model: "fake-model", messages: [
		{role: "system", content: "You are an SRE."},
		{role: "user", content: "why is checkout failing?"}], stream: false,
		temperature: 0.1, max_tokens: 200, seed: 3,
		response_format: {type: "json_schema", json_schema: {name: "rca", schema: $s, strict: true}}}')
	[ "$(jq -cS .body "$LOG")" = "$want" ]
}

@test "OPENAI_API_BASE supplies the base URL when the config has none" {
	printf 'provider: {type: openai_compat, default_model: fake-model}\n' >"$D/c.yaml"
	req hello >"$D/in"
	OPENAI_API_BASE="http://127.0.0.1:$PORT/v1" run "$T_LLM" drive --config "$D/c.yaml" <"$D/in"
	[ "$status" -eq 0 ]
	[ "$(jq -r .path "$LOG")" = /v1/chat/completions ]
	[ "$(jq -r '.headers | has("Authorization")' "$LOG")" = false ]
}

@test "the key never appears in output, errors, or the record file" {
	openai_cfg "concurrency: 1"
	req a >"$D/in"
	req b >>"$D/in"
	ctl '{"faults": "401,ok"}'
	OPENAI_API_KEY=$KEY run --separate-stderr "$T_LLM" drive --config "$D/c.yaml" \
		--record "$D/rec.jsonl" <"$D/in"
	[ "$status" -eq 1 ]
	[ "$(jq -s -c '[.[] | select(.kind == "llm_call") | .http_status]' <<<"$output")" = '[401,200]' ]
	[ -z "$(grep SECRET <<<"$output$stderr")" ]
	[ "$(grep -c SECRET "$D/rec.jsonl")" -eq 0 ]
	[ "$(grep -c "Bearer $KEY" "$LOG")" -eq 2 ]
}

@test "a key in the config is a config error" {
	openai_cfg "api_key: sk-nope"
	run --separate-stderr "$T_LLM" drive --config "$D/c.yaml" </dev/null
	[ "$status" -eq 2 ]
	[ "$stderr" = "t_llm: provider.params.api_key: keys are read from the environment only (OPENAI_API_KEY, LLAMA_STACK_API_KEY)" ]
}

@test "429 with Retry-After is honoured and 500 retried, attempts counted" {
	openai_cfg
	req hi >"$D/in"
	ctl '{"faults": "429:retry-after=1,500,ok"}'
	t0=$(date +%s%3N)
	run --separate-stderr "$T_LLM" drive --config "$D/c.yaml" <"$D/in"
	[ "$status" -eq 0 ]
	rec=$(head -n1 <<<"$output")
	# started_at: when the call started (before its first request), not when it ended.
	ms=$(jq '.started_at | capture("^(?<s>[^.]*)\\.(?<f>[0-9]{3})") | ((.s + "Z") | fromdate) * 1000 + (.f | tonumber)' <<<"$rec")
	[ "$ms" -ge $((t0 - 1)) ]
	jq -s -e --argjson ms "$ms" '.[0].t * 1000 >= $ms - 1' "$LOG"
	[ "$(jq -c '[.attempts, .http_status, .error]' <<<"$rec")" = '[3,200,null]' ]
	[ "$(jq .latency_ms <<<"$rec")" -ge 1000 ]
	[ "$(wc -l <"$LOG")" -eq 3 ]
	# The second attempt came at least a second after the first (a lower
	# bound only: an upper one flakes on a loaded machine).
	jq -s -e '(.[1].t - .[0].t) >= 0.99' "$LOG"
	[ "$(tail -n1 <<<"$output" | jq -c '.llm | [.calls, .failures, .retries]')" = '[1,0,2]' ]
}

@test "400 and 429 insufficient_quota are not retried" {
	openai_cfg
	req hi >"$D/in"
	ctl '{"faults": "400,ok"}'
	run --separate-stderr "$T_LLM" drive --config "$D/c.yaml" <"$D/in"
	[ "$status" -eq 1 ]
	[ "$(head -n1 <<<"$output" | jq -c '[.attempts, .http_status, .error, .response]')" = '[1,400,"HTTP 400: fake error 400",null]' ]
	ctl '{"faults": "429:quota,ok"}'
	run --separate-stderr "$T_LLM" drive --config "$D/c.yaml" <"$D/in"
	[ "$status" -eq 1 ]
	[ "$(head -n1 <<<"$output" | jq -c '[.attempts, .http_status, .error]')" = '[1,429,"HTTP 429 (insufficient_quota): You exceeded your current quota"]' ]
	[ "$(wc -l <"$LOG")" -eq 2 ]
}

@test "gives up after max_attempts and still writes the llm_call" {
	openai_cfg "max_attempts: 3"
	req hi >"$D/in"
	ctl '{"faults": "503,503,503,ok"}'
	run --separate-stderr "$T_LLM" drive --config "$D/c.yaml" <"$D/in"
	[ "$status" -eq 1 ]
	[ "$(head -n1 <<<"$output" | jq -c '[.kind, .group_id, .attempts, .http_status, .error]')" = '["llm_call","G0001",3,503,"HTTP 503: fake error 503"]' ]
}

@test "a timeout past timeout_s is retried, then reported" {
	openai_cfg "timeout_s: 0.4, max_attempts: 2"
	req hi >"$D/in"
	ctl '{"faults": "timeout,timeout"}'
	run --separate-stderr "$T_LLM" drive --config "$D/c.yaml" <"$D/in"
	[ "$status" -eq 1 ]
	[ "$(head -n1 <<<"$output" | jq -c '[.attempts, .http_status]')" = '[2,0]' ]
	head -n1 <<<"$output" | jq -e '.error | startswith("curl: (28) ")'
}

@test "keeps the input order at concurrency 4 with variable delays" {
	openai_cfg "concurrency: 4"
	for i in 0 1 2 3 4 5 6 7; do
		req "q$i [[delay_ms=$(( (8 - i) * 60 ))]]" '{"json": true}'
	done >"$D/in"
	start=$(date +%s%N)
	run --separate-stderr "$T_LLM" drive --config "$D/c.yaml" <"$D/in"
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.kind == "result") | .json.echo | split(" ")[0]' <<<"$output" | tr '\n' ' ')" = "q0 q1 q2 q3 q4 q5 q6 q7 " ]
	[ "$(jq -r 'select(.kind == "llm_call") | .group_id' <<<"$output" | uniq -c | awk '{print $1}')" = 8 ]
	# Requests overlapped, never more than four at a time (the server counts
	# them; how much faster that is lives in make bench, not here).
	inflight=$(curl -s "http://127.0.0.1:$PORT/_stats" | jq .max_inflight)
	[ "$inflight" -ge 2 ] && [ "$inflight" -le 4 ]
	# 2160 ms of delays, the longest 480 ms: a lower bound only.
	[ "$ms" -ge 480 ]
}

@test "falls back from json_schema to json_object and remembers it for the run" {
	openai_cfg "concurrency: 4"
	for i in 1 2 3; do req "q$i" "{\"schema\": $SCHEMA}"; done >"$D/in"
	ctl '{"reject": "json_schema"}'
	run --separate-stderr "$T_LLM" drive --config "$D/c.yaml" <"$D/in"
	[ "$status" -eq 0 ]
	[ "$(jq -s -c 'map(.body.response_format.type)' "$LOG")" = '["json_schema","json_schema","json_schema","json_object","json_object","json_object"]' ]
	[ "$(jq -s -c 'map(select(.kind == "llm_call") | .attempts)' <<<"$output")" = '[2,2,2]' ]
	[ "$(jq -s -c 'map(select(.kind == "result") | .json.summary)' <<<"$output")" = '["fake answer","fake answer","fake answer"]' ]
}

@test "falls back to plain text when the server rejects any response_format" {
	openai_cfg
	req q "{\"schema\": $SCHEMA}" >"$D/in"
	ctl '{"reject": "response_format"}'
	run --separate-stderr "$T_LLM" drive --config "$D/c.yaml" <"$D/in"
	[ "$status" -eq 0 ]
	[ "$(jq -s -c 'map(.body.response_format.type)' "$LOG")" = '["json_schema","json_object",null]' ]
	[ "$(head -n1 <<<"$output" | jq .attempts)" -eq 3 ]
}

@test "ollama: native /api/chat with format and options, tokens from eval counts" {
	printf 'provider: {type: ollama, default_model: "llama3.2:3b", params: {temperature: 0, seed: 42, max_tokens: 128, num_ctx: 8192}}\n' >"$D/c.yaml"
	req "why?" "{\"schema\": $SCHEMA}" >"$D/in"
	OLLAMA_BASE_URL="http://127.0.0.1:$PORT" run --separate-stderr "$T_LLM" drive --config "$D/c.yaml" <"$D/in"
	[ "$status" -eq 0 ]
	[ "$(jq -r .path "$LOG")" = /api/chat ]
	want=$(jq -cS -n --argjson s "$SCHEMA" '{model: "llama3.2:3b", messages: [
		{role: "system", content: "You are an SRE."}, {role: "user", content: "why?"}],
		stream: false, format: $s, options: {temperature: 0, seed: 42, num_predict: 128, num_ctx: 8192}}')
	[ "$(jq -cS .body "$LOG")" = "$want" ]
	# fake server: len(content)/4+1 per message; 4 + 2 in, 42/4+1 out
	[ "$(head -n1 <<<"$output" | jq -c '[.provider, .tokens_in, .tokens_out, .params.num_ctx]')" = '["ollama",6,11,8192]' ]
}

@test "ollama: OLLAMA_HOST (host:port) is taken when OLLAMA_BASE_URL is unset" {
	printf 'provider: {type: ollama, default_model: m}\n' >"$D/c.yaml"
	req hi >"$D/in"
	OLLAMA_HOST="127.0.0.1:$PORT" run --separate-stderr "$T_LLM" drive --config "$D/c.yaml" <"$D/in"
	[ "$status" -eq 0 ]
	[ "$(jq -r .path "$LOG")" = /api/chat ]
}

@test "llamastack: an unknown model fails clearly with the served ids" {
	printf 'provider: {type: llamastack, default_model: m1}\n' >"$D/c.yaml"
	LLAMA_STACK_BASE_URL="http://127.0.0.1:$PORT" run --separate-stderr "$T_LLM" drive \
		--config "$D/c.yaml" --check </dev/null
	[ "$status" -eq 1 ]
	[ "$stderr" = "t_llm: model 'm1' is not served by LlamaStack at http://127.0.0.1:$PORT (known: fake-model, vllm/m1, vllm/m2); did you mean 'vllm/m1'?" ]
	[ "$(jq -r .path "$LOG")" = /v1/models ]
}

@test "llamastack: the full id is served on /v1/chat/completions with its key" {
	printf 'provider: {type: llamastack, default_model: vllm/m2}\n' >"$D/c.yaml"
	req hi >"$D/in"
	LLAMA_STACK_BASE_URL="http://127.0.0.1:$PORT" LLAMA_STACK_API_KEY=$KEY \
		run --separate-stderr "$T_LLM" drive --config "$D/c.yaml" <"$D/in"
	[ "$status" -eq 0 ]
	[ "$(jq -s -c 'map([.method, .path, .headers.Authorization == "Bearer '"$KEY"'"])' "$LOG")" = '[["GET","/v1/models",true],["POST","/v1/chat/completions",true]]' ]
	[ "$(head -n1 <<<"$output" | jq -r .provider)" = llamastack ]
	[ -z "$(grep SECRET <<<"$output$stderr")" ]
}

@test "replay answers a recording byte for byte without the network" {
	openai_cfg "seed: 5"
	req one "{\"schema\": $SCHEMA}" >"$D/in"
	req two '{"json": true, "group_id": "G0002"}' >>"$D/in"
	run "$T_LLM" drive --config "$D/c.yaml" --record "$D/rec.jsonl" <"$D/in"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$D/rec.jsonl")" -eq 2 ]
	grep '"kind":"llm_call"' <<<"$output" >"$D/live.jsonl"
	diff "$D/live.jsonl" "$D/rec.jsonl"
	ctl '{"reset_log": true}'
	run "$T_LLM" drive --config "$D/c.yaml" --replay "$D/rec.jsonl" <"$D/in"
	[ "$status" -eq 0 ]
	grep '"kind":"llm_call"' <<<"$output" >"$D/replayed.jsonl"
	diff "$D/rec.jsonl" "$D/replayed.jsonl"
	[ ! -s "$LOG" ]
	# type: replay needs only the file (provider and model come from it).
	printf 'provider: {type: replay, params: {seed: 5, replay_file: "%s"}}\n' "$D/rec.jsonl" >"$D/r.yaml"
	run "$T_LLM" drive --config "$D/r.yaml" <"$D/in"
	[ "$status" -eq 0 ]
	grep '"kind":"llm_call"' <<<"$output" | diff "$D/rec.jsonl" -
}

@test "a replay miss is an error naming the hash, never a live call" {
	openai_cfg
	req recorded >"$D/in"
	"$T_LLM" drive --config "$D/c.yaml" --record "$D/rec.jsonl" <"$D/in" >/dev/null
	ctl '{"reset_log": true}'
	req "changed prompt" >"$D/in2"
	run "$T_LLM" drive --config "$D/c.yaml" --replay "$D/rec.jsonl" <"$D/in2"
	[ "$status" -eq 1 ]
	hash=$(head -n1 <<<"$output" | jq -r .request_hash)
	[ "$(head -n1 <<<"$output" | jq -r .error)" = "replay miss: no recorded call for hash $hash" ]
	[ ! -s "$LOG" ]
	# A different temperature is a different request.
	run "$T_LLM" drive --config "$D/c.yaml" --set provider.params.temperature=0.7 \
		--replay "$D/rec.jsonl" <"$D/in"
	[ "$status" -eq 1 ]
	head -n1 <<<"$output" | jq -e '.error | startswith("replay miss")'
}

@test "malformed and truncated answers: error record or retry, never a crash" {
	openai_cfg "concurrency: 1"
	req a >"$D/in"
	ctl '{"faults": "malformed"}'
	run --separate-stderr "$T_LLM" drive --config "$D/c.yaml" <"$D/in"
	[ "$status" -eq 1 ]
	head -n1 <<<"$output" | jq -e '.error | startswith("malformed response")'
	ctl '{"faults": "truncated,ok"}'
	run --separate-stderr "$T_LLM" drive --config "$D/c.yaml" <"$D/in"
	[ "$status" -eq 0 ]
	[ "$(head -n1 <<<"$output" | jq .attempts)" -eq 2 ]
}
