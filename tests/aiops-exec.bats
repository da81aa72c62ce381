#!/usr/bin/env bats
# Tests for aiops-exec, the stage that decides about remediation steps and
# runs the allowed and approved ones.  Programs run here are the recording
# fixtures in tests/fixtures/exec/, never anything that changes the system.

load test_helper
bats_require_minimum_version 1.5.0

setup() {
	D=$(scratch)
	sed -e "s|@FIX@|$FIX|g" -e "s|@D@|$D|g" "$FIX/exec/allow.yaml.in" >"$D/allow.yaml"
	CMD=(aiops-exec --type command --allowlist "$D/allow.yaml" --cooldown-s 0)
}

# step ID ACTION TARGET RISK [PARAMS]: one step as compact JSON.
step() {
	local p=${5:-'{}'}
	jq -nc --arg i "$1" --arg a "$2" --arg t "$3" --arg r "$4" --argjson p "$p" \
		'{id: $i, action: $a, target: $t, params: $p, risk: $r, rationale: "test"}'
}

# rem GID STEP...: a group record whose services are the steps' targets (the
# target scope), then a remediation record with those steps.
rem() {
	local g=$1
	shift
	jq -nc --arg g "$g" '{kind: "group", id: $g, services: [$ARGS.positional[] | fromjson | .target? | strings | {service: .}] | unique}' \
		--args "$@"
	remonly "$g" "$@"
}

# remonly GID STEP...: the remediation record alone (no group: no scope).
remonly() {
	local g=$1
	shift
	jq -nc --arg g "$g" '{kind: "remediation", group_id: $g, steps: [$ARGS.positional[] | fromjson]}' \
		--args "$@"
}

# Prints "step | decision | rule | reason" for each execution record.
decisions() {
	jq -r 'select(.kind == "execution") | [.step_id, .decision, .rule // "-", .reason] | join(" | ")'
}

# The argv the recording program received, one element per line, with a
# newline inside an element shown as \n.
received() {
	[ -f "$D/argv" ] || { echo "(not run)"; return; }
	tr '\n\0' '\036\n' <"$D/argv" | sed 's/\x1e/\\n/g'
}

# Is the process alive (a zombie is not)?
alive() {
	[ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat")" != Z ]
}

# --- the stream contract ---

@test "noop forwards every record byte for byte and writes a dry-run per step" {
	run -0 aiops-exec "$FIX/exec/remediation.jsonl"
	diff -u "$FIX/exec/noop.out" <(mask <<<"$output")
}

@test "foreign kinds keep their bytes and their order" {
	printf '%s\n' '{"kind":"zz","a":  1.50}' '{"kind":"log","msg":"\u00e9"}' >"$D/in"
	run -0 aiops-exec "$D/in"
	[ "$(sed -n 2,3p <<<"$output")" = "$(cat "$D/in")" ]
	[ "$(head -n1 <<<"$output" | jq -r .kind)" = stage ]
	[ "$(tail -n1 <<<"$output" | jq -r .kind)" = stage_end ]
}

@test "turns a broken line into a reject and keeps going" {
	printf '%s\n' '{"kind":"remediation",' "$(rem G1 "$(step s1 restart checkout low)")" >"$D/in"
	run -0 --separate-stderr aiops-exec "$D/in"
	[ "$stderr" = "aiops-exec: $D/in:1: invalid JSON: unexpected end of data" ]
	[ "$(jq -r 'select(.kind == "reject") | .line' <<<"$output")" = 1 ]
	[ "$(decisions <<<"$output")" = "s1 | dry-run | - | noop executor: no allowlist, nothing runs" ]
}

@test "--strict makes a broken line fatal" {
	printf '%s\n' 'nope' >"$D/in"
	run -1 aiops-exec --strict "$D/in"
}

@test "rejects a remediation without a group id or with steps that are not a list" {
	printf '%s\n' '{"kind":"remediation","steps":[]}' '{"kind":"remediation","group_id":"G1","steps":{}}' \
		'{"kind":"remediation","group_id":"G2","error":"model failed"}' >"$D/in"
	run -0 --separate-stderr aiops-exec "$D/in"
	[ "$(jq -r 'select(.kind == "reject") | .line' <<<"$output" | tr '\n' ' ')" = "1 2 " ]
	[ "$(jq -c 'select(.kind == "remediation")' <<<"$output")" = '{"kind":"remediation","group_id":"G2","error":"model failed"}' ]
}

@test "usage errors exit 2" {
	run -2 --separate-stderr aiops-exec --no-such-option
	[ "${stderr%%$'\n'*}" = "aiops-exec: unknown option '--no-such-option'" ]
	run -2 --separate-stderr aiops-exec --type shell </dev/null
	[ "$stderr" = "aiops-exec: type: unknown executor 'shell' (noop or command)" ]
	run -2 --separate-stderr "${CMD[@]}" --approve sometimes </dev/null
	[ "$stderr" = "aiops-exec: approve: unknown mode 'sometimes' (never, file:PATH, tty, auto:low|medium|high)" ]
	run -2 --separate-stderr "${CMD[@]}" --approve file </dev/null
	[ "$stderr" = "aiops-exec: approve file needs approvals_file or file:PATH" ]
	run -2 --separate-stderr "${CMD[@]}" --env 'A,B-C' </dev/null
	[ "$stderr" = "aiops-exec: env: 'B-C' is not a variable name" ]
}

@test "an allowlist that could run something unsafe is a config error" {
	bad() {
		printf '%s\n' "$1" >"$D/bad.yaml"
		run -2 --separate-stderr aiops-exec --type command --allowlist "$D/bad.yaml" </dev/null
		[ "$stderr" = "aiops-exec: $D/bad.yaml: $2" ]
	}
	bad 'actions: {restart: {argv: [kubectl, rollout]}}' \
		"actions.restart.argv[0]: the program must be an absolute path"
	bad "actions: {restart: {argv: ['{target}', x]}}" \
		"actions.restart.argv[0]: the program must be a literal absolute path"
	bad "actions: {restart: {argv: [/bin/echo, '{ns}']}}" \
		"actions.restart.argv[1]: '{ns}' names no parameter"
	bad "actions: {restart: {argv: [/bin/echo, '{target}{target}']}}" \
		"actions.restart.argv[1]: at most one {placeholder} per element"
	bad "actions: {restart: {argv: [/bin/echo, '{x}'], params: {x: {type: string}}}}" \
		"actions.restart.params.x: a string parameter needs a pattern"
	bad "actions: {restart: {argv: [/bin/echo, '{x}'], params: {x: {type: enum, values: [a], default: b}}}}" \
		"actions.restart.params.x.default: the default is not one of the allowed values"
	bad "actions: {restart: {argv: [/bin/echo], shell: true}}" \
		"actions.restart: unknown key 'shell'"
	# nested bounds expand to a million-node regex in regcomp (~200 MB)
	bad "actions: {restart: {argv: [/bin/echo, '{x}'], params: {x: {type: string, pattern: '((a{100}){100}){100}'}}}}" \
		"actions.restart.params.x: bad pattern '((a{100}){100}){100}': too many repetitions (it expands to more than 2048 atoms)"
	bad "target_pattern: '(((x{50}){50}){50})'" \
		"target_pattern: bad pattern '(((x{50}){50}){50})': too many repetitions (it expands to more than 2048 atoms)"
}

@test "a closed reader is quiet" {
	run -0 bash -c "yes '{\"kind\":\"zz\"}' | head -n 100000 | aiops-exec 2>'$D/err' | head -n1"
	[ "$output" = "$(aiops-exec </dev/null | sed -n 1p)" ]
	[ ! -s "$D/err" ]
}

@test "a failed write exits 1" {
	run -1 --separate-stderr bash -c 'aiops-exec "$1" >/dev/full' - "$FIX/exec/remediation.jsonl"
	[ "$stderr" = "aiops-exec: write error: No space left on device" ]
}

# --- noop and --dry-run never run anything ---

@test "noop renders the exact argv from an allowlist and never starts a process" {
	cat >"$D/trap.yaml" <<-EOF
	actions:
	  restart:
	    risk: low
	    argv: ['$FIX/exec/trap/kubectl', rollout, restart, 'deployment/{target}', -n, '{namespace}']
	    params:
	      namespace: {type: enum, values: [shop], default: shop}
	EOF
	cat >"$D/config.yaml" <<-EOF
	pipeline:
	  executor: {type: noop, allowlist: $D/trap.yaml, approve: 'auto:high', env: [TRIPWIRE_LOG]}
	EOF
	rem G1 "$(step s1 restart checkout high)" "$(step s2 restart '$(id)' low)" >"$D/in"
	TRIPWIRE_LOG=$D/called PATH=$FIX/exec/trap run -0 "$AIOPS_BIN/aiops-exec" --config "$D/config.yaml" "$D/in"
	[ ! -e "$D/called" ]
	[ "$(decisions <<<"$output")" = "s1 | dry-run | - | noop executor: nothing runs
s2 | dry-run | allowlist-target | would be refused: target does not match the target pattern" ]
	[ "$(jq -c 'select(.kind == "execution") | .argv' <<<"$output")" = "[\"$FIX/exec/trap/kubectl\",\"rollout\",\"restart\",\"deployment/checkout\",\"-n\",\"shop\"]
null" ]
}

@test "--dry-run overrides the command executor and its approvals" {
	rem G1 "$(step s1 restart checkout low)" "$(step s2 scale_out checkout low '{"replicas":99}')" >"$D/in"
	run -0 "${CMD[@]}" --approve auto:high --dry-run "$D/in"
	[ "$(received)" = "(not run)" ]
	[ "$(decisions <<<"$output")" = "s1 | dry-run | - | dry run: nothing runs
s2 | dry-run | allowlist-param | would be refused: parameter 'replicas' is out of range" ]
	[ "$(jq -c 'select(.kind == "stage") | .params.dry_run' <<<"$output")" = true ]
}

@test "--dry-run with the command executor reads the example allowlist by default" {
	cd "$AIOPS_ROOT"
	rem G1 "$(step s1 scale_out checkout low '{"replicas":6}')" >"$D/in"
	run -0 aiops-exec --type command -n "$D/in"
	[ "$(jq -c 'select(.kind == "execution") | .argv' <<<"$output")" = '["/usr/local/sbin/shop-scale-out","--service","checkout","--add","6","-n","shop"]' ]
	[ "$(jq -r 'select(.kind == "stage") | .params.allowlist' <<<"$output")" -ef examples/executors/commands.yaml ]
}

# --- injection: refused, or one literal argv element ---

@test "passes shell metacharacters in a parameter as one literal argv element" {
	for note in '; rm -rf /' '$(id)' '`id`' '../../etc/passwd' "a'b\"c" '*' '  spaced  '; do
		rm -f "$D/argv"
		rem G1 "$(step s1 throttle checkout low "$(jq -nc --arg n "$note" '{note: $n}')")" >"$D/in"
		run -0 "${CMD[@]}" --approve auto:low "$D/in"
		[ "$(decisions <<<"$output" | tail -n1 | cut -d'|' -f2)" = " executed " ]
		printf '%s\0' annotate checkout "--note=$note" "$note" 10 | cmp - "$D/argv"
	done
}

@test "refuses a line break, a NUL or a leading dash in a parameter" {
	rem G1 "$(step s1 throttle checkout low '{"note":"ok\nrm -rf /"}')" \
		"$(step s2 throttle checkout low '{"note":"ok\rx"}')" \
		"$(step s3 throttle checkout low '{"note":"a\u0000b"}')" \
		"$(step s4 throttle checkout low '{"note":"--all-namespaces"}')" \
		"$(step s5 throttle checkout low '{"note":"\u001b[2J"}')" >"$D/in"
	run -0 "${CMD[@]}" --approve auto:high "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | refused | allowlist-param | parameter 'note' contains a line break
s2 | refused | allowlist-param | parameter 'note' contains a line break
s3 | refused | allowlist-param | parameter 'note' contains a NUL byte
s4 | refused | allowlist-param | parameter 'note' starts with '-'
s5 | refused | allowlist-param | parameter 'note' contains a control character" ]
	[ "$(received)" = "(not run)" ]
}

@test "refuses a NUL in the action, the target or the id, never cutting the string there (issue 17, finding 4)" {
	printf '%s\n' '{"kind":"group","id":"G1","services":[{"service":"checkout"}]}' \
		'{"kind":"remediation","group_id":"G1","steps":[{"id":"s1","action":"restart\u0000evil","target":"checkout","risk":"low"},{"id":"s2","action":"restart","target":"checkout\u0000evil","risk":"low"},{"id":"s3\u0000x","action":"restart","target":"checkout","risk":"low"}]}' >"$D/in"
	run -0 "${CMD[@]}" --approve auto:high "$D/in"
	[ "$(decisions <<<"$output" | cut -d'|' -f2-)" = " refused | step-invalid | the step contains a NUL character (refused, never cut there)
 refused | step-invalid | the step contains a NUL character (refused, never cut there)
 refused | step-invalid | the step contains a NUL character (refused, never cut there)" ]
	[ "$(received)" = "(not run)" ]
}

@test "refuses an overlong or non-UTF-8 parameter" {
	long=$(printf 'x%.0s' $(seq 65))
	rem G1 "$(step s1 throttle checkout low "{\"note\":\"$long\"}")" >"$D/in"
	printf '{"kind":"remediation","group_id":"G2","steps":[{"id":"s1","action":"throttle","target":"checkout","risk":"low","params":{"note":"a\xffb"}}]}\n' >>"$D/in"
	run -0 "${CMD[@]}" --approve auto:high "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | refused | allowlist-param | parameter 'note' is too long
s1 | refused | allowlist-param | parameter 'note' is not valid UTF-8" ]
	jq -e . <<<"$output" >/dev/null
	[ "$(received)" = "(not run)" ]
}

@test "refuses injection through the target" {
	steps=()
	i=0
	for t in '; rm -rf /' '$(id)' '`id`' 'a b' '../../etc/passwd' $'x\ny' '--all' '-n' 'Checkout' "$(printf 'a%.0s' $(seq 64))" ''; do
		i=$((i + 1))
		steps+=("$(step "s$i" restart "$t" low)")
	done
	rem G1 "${steps[@]}" >"$D/in"
	printf '{"kind":"remediation","group_id":"G2","steps":[{"id":"s1","action":"restart","target":"ch\xffeckout","risk":"low"}]}\n' >>"$D/in"
	run -0 "${CMD[@]}" --approve auto:high --max-steps-per-group 0 "$D/in"
	[ "$(decisions <<<"$output" | cut -d'|' -f2,3 | sort | uniq -c | sed 's/^ *//')" = "12  refused | allowlist-target " ]
	[ "$(decisions <<<"$output" | cut -d'|' -f4 | sort -u | tr -s ' ')" = " target contains a line break
 target does not match the target pattern
 target is empty
 target is not valid UTF-8
 target starts with '-'" ]
	[ "$(received)" = "(not run)" ]
}

@test "keeps a target inside its one argv element" {
	rem G1 "$(step s1 restart checkout-v2 low '{"namespace":"staging"}')" >"$D/in"
	run -0 "${CMD[@]}" --approve auto:high "$D/in"
	[ "$(received)" = "rollout
restart
deployment/checkout-v2
-n
staging" ]
}

@test "refuses parameters that break their type, unknown and missing ones" {
	rem G1 "$(step s1 restart checkout low '{"namespace":"kube-system"}')" \
		"$(step s2 scale_out checkout low '{"replicas":"5; rm -rf /"}')" \
		"$(step s3 scale_out checkout low '{"replicas":11}')" \
		"$(step s4 scale_out checkout low '{"replicas":2.5}')" \
		"$(step s5 scale_out checkout low '{"replicas":["3"]}')" \
		"$(step s6 scale_out checkout low '{}')" \
		"$(step s7 restart checkout low '{"namespace":"shop","flags":"--force"}')" \
		"$(step s8 restart checkout low '{"namespace":{"$ne":""}}')" >"$D/in"
	run -0 "${CMD[@]}" --approve auto:high --max-steps-per-group 0 "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | refused | allowlist-param | parameter 'namespace' is not one of the allowed values
s2 | refused | allowlist-param | parameter 'replicas' is not an integer
s3 | refused | allowlist-param | parameter 'replicas' is out of range
s4 | refused | allowlist-param | parameter 'replicas' is not an integer
s5 | refused | allowlist-param | parameter 'replicas' is not an integer
s6 | refused | allowlist-param | missing parameter 'replicas'
s7 | refused | allowlist-param | unknown parameter 'flags'
s8 | refused | allowlist-param | parameter 'namespace' is not a string" ]
	[ "$(received)" = "(not run)" ]
}

@test "an integer given as a string of digits is rendered as a number" {
	rem G1 "$(step s1 scale_out checkout low '{"replicas":"07"}')" >"$D/in"
	run -0 "${CMD[@]}" --approve auto:high "$D/in"
	[ "$(received)" = "scale
deployment/checkout
--replicas=7" ]
}

@test "refuses an action that is not in the allowlist and malformed steps" {
	printf '%s\n' "$(rem G1 "$(step s1 reboot_cluster db low)")" \
		'{"kind":"remediation","group_id":"G2","steps":["restart",{"id":"s2","action":"restart","target":"x"},{"id":"s3","action":"restart","target":"x","risk":"low","params":"ns=shop"},{"action":"restart","target":"x","risk":"low"}]}' >"$D/in"
	run -0 "${CMD[@]}" --approve auto:high "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | refused | allowlist-action | action 'reboot_cluster' is not in the allowlist
 | refused | step-invalid | the step is not an object
s2 | refused | step-invalid | risk is not low, medium or high
s3 | refused | step-invalid | params is not an object
 | refused | step-invalid | the step has no string id" ]
}

@test "an allowlisted name is matched whole: a longer, shorter or differently cased name is refused" {
	rem G1 "$(step s1 restart_everything_now checkout low)" "$(step s2 restartx checkout low)" \
		"$(step s3 restar checkout low)" "$(step s4 Restart checkout low)" \
		"$(step s5 'restart ' checkout low)" >"$D/in"
	run -0 "${CMD[@]}" --approve auto:high "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | refused | allowlist-action | action 'restart_everything_now' is not in the allowlist
s2 | refused | allowlist-action | action 'restartx' is not in the allowlist
s3 | refused | allowlist-action | action 'restar' is not in the allowlist
s4 | refused | allowlist-action | action 'Restart' is not in the allowlist
s5 | refused | allowlist-action | action 'restart ' is not in the allowlist" ]
	[ "$(received)" = "(not run)" ]
}

# --- approvals ---

@test "approve never (the default) refuses every step" {
	rem G1 "$(step s1 restart checkout low)" >"$D/in"
	run -0 "${CMD[@]}" "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | refused | approval-never | approve is never: no step is approved" ]
	[ "$(jq -c 'select(.kind == "execution") | .argv[2:]' <<<"$output")" = '["rollout","restart","deployment/checkout","-n","shop"]' ]
	[ "$(received)" = "(not run)" ]
}

# approval FILE RUN GID STEP-JSON APPROVER [EXTRA-JSON]: appends an approval
# of that step (its digest computed with jq, as the man page says) to FILE.
approval() {
	local dg
	dg=$(jq -cS '{action, params: (.params // {}), target}' <<<"$4" | tr -d '\n' | sha256sum | cut -d' ' -f1)
	jq -nc --arg r "$2" --arg g "$3" --argjson s "$4" --arg a "$5" --arg d "$dg" --argjson x "${6:-{\}}" \
		'{run_id: $r, group_id: $g, step_id: $s.id, digest: $d, approver: $a} + $x' >>"$1"
}

RUN1=11111111111111111111111111111111
RUN2=22222222222222222222222222222222
POL=(--policy "$AIOPS_ROOT/examples/executors/policy.yaml" --as alice)

@test "approve file runs a step approved for this run, group, step and digest" {
	s1=$(step s1 restart checkout high)
	s2=$(step s2 restart cart low)
	approval "$D/ap.jsonl" $RUN1 G1 "$s1" alice '{"comment":"INC-1"}'
	echo 'not json at all' >>"$D/ap.jsonl"
	approval "$D/ap.jsonl" $RUN1 G1 "$s2" ""
	{ echo "{\"kind\":\"run\",\"run_id\":\"$RUN1\"}"; rem G1 "$s1" "$s2"; } >"$D/in"
	run -0 "${CMD[@]}" "${POL[@]}" --approve "file:$D/ap.jsonl" "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | approved | - | approved by alice
s1 | executed | - | exited with status 0
s2 | refused | approval-file | no approval for G1/s2 in the approvals file" ]
	[ "$(jq -r 'select(.decision == "executed") | [.approver, .run_id, .risk] | join(" ")' <<<"$output")" = "alice $RUN1 high" ]
	# the digest in the record is the one jq computes
	[ "$(jq -r 'select(.decision == "executed") | .digest' <<<"$output")" = "$(jq -r .digest <<<"$(head -n1 "$D/ap.jsonl")")" ]
}

@test "an approval from another run is not replayed (issue 17, finding 1)" {
	s1=$(step s1 restart checkout low)
	approval "$D/ap.jsonl" $RUN1 G1 "$s1" alice
	echo '{"group_id":"G1","step_id":"s1","approver":"alice"}' >"$D/old.jsonl"
	{ echo "{\"kind\":\"run\",\"run_id\":\"$RUN2\"}"; rem G1 "$s1"; } >"$D/in"
	run -0 "${CMD[@]}" "${POL[@]}" --approve "file:$D/ap.jsonl" "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | refused | approval-stale | the approval of G1/s1 by alice is for run $RUN1, not this run ($RUN2)" ]
	run -0 "${CMD[@]}" "${POL[@]}" --approve "file:$D/old.jsonl" "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | refused | approval-stale | the approval of G1/s1 by alice names no run_id and digest (the old form approves nothing)" ]
	# no run record: nothing matches
	rem G1 "$s1" >"$D/in"
	run -0 "${CMD[@]}" "${POL[@]}" --approve "file:$D/ap.jsonl" "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | refused | approval-stale | the approval of G1/s1 by alice is for run $RUN1, not this run (none: no run record was seen)" ]
	[ "$(received)" = "(not run)" ]
}

@test "an approval of another action, target or params approves nothing" {
	approval "$D/ap.jsonl" $RUN1 G1 "$(step s1 restart checkout low)" alice
	approval "$D/ap.jsonl" $RUN1 G1 "$(step s2 restart cart low '{"namespace":"staging"}')" alice
	{ echo "{\"kind\":\"run\",\"run_id\":\"$RUN1\"}"
	  rem G1 "$(step s1 failover checkout low)" "$(step s2 restart cart low '{"namespace":"shop"}')"; } >"$D/in"
	run -0 "${CMD[@]}" "${POL[@]}" --approve "file:$D/ap.jsonl" "$D/in"
	[ "$(decisions <<<"$output" | cut -d'|' -f1-3)" = "s1 | refused | approval-mismatch 
s2 | refused | approval-mismatch " ]
	[ "$(received)" = "(not run)" ]
}

@test "an expired approval or one whose approver lacks the rights is refused" {
	s1=$(step s1 restart checkout low)
	s2=$(step s2 failover checkout low)
	approval "$D/ap.jsonl" $RUN1 G1 "$s1" alice '{"expires_at":"2020-01-01T00:00:00Z"}'
	approval "$D/ap.jsonl" $RUN1 G1 "$s2" bob '{"expires_at":"2200-01-01T00:00:00Z"}'
	{ echo "{\"kind\":\"run\",\"run_id\":\"$RUN1\"}"; rem G1 "$s1" "$s2"; } >"$D/in"
	run -0 "${CMD[@]}" "${POL[@]}" --approve "file:$D/ap.jsonl" "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | refused | approval-expired | the approval of G1/s1 by alice expired at 2020-01-01T00:00:00Z
s2 | refused | approval-rights | approver bob lacks the rights (rbac-action): no role of 'bob' allows action 'failover'" ]
	[ "$(received)" = "(not run)" ]
}

@test "an approval approves its step once, and approve file needs a policy" {
	s1=$(step s1 restart checkout low)
	approval "$D/ap.jsonl" $RUN1 G1 "$s1" alice
	{ echo "{\"kind\":\"run\",\"run_id\":\"$RUN1\"}"; rem G1 "$s1"; rem G1 "$s1"; } >"$D/in"
	run -0 "${CMD[@]}" "${POL[@]}" --approve "file:$D/ap.jsonl" --max-steps-per-group 0 "$D/in"
	[ "$(decisions <<<"$output" | grep -v approved)" = "s1 | executed | - | exited with status 0
s1 | refused | approval-used | the approval of G1/s1 was used already in this run" ]
	run -2 --separate-stderr "${CMD[@]}" --approve "file:$D/ap.jsonl" "$D/in"
	[ "$stderr" = "aiops-exec: approve file needs a policy: every approver's rights are checked against it" ]
}

@test "the shipped approvals example is in the new form and replays nothing" {
	jq -e -s 'length > 0 and all(.[]; has("run_id") and has("group_id") and has("step_id") and has("digest") and has("approver"))' \
		"$AIOPS_ROOT/examples/executors/approvals.jsonl"
	rem G0002 "$(step s1 failover payment high)" >"$D/in"
	cd "$AIOPS_ROOT"
	run -0 aiops-exec --type command --allowlist "$D/allow.yaml" --approve file:examples/executors/approvals.jsonl \
		--policy examples/executors/policy.yaml --as alice "$D/in"
	[ "$(decisions <<<"$output" | cut -d'|' -f2,3)" = " refused | approval-stale " ]
	[ "$(received)" = "(not run)" ]
}

@test "approve file reads approvals_file from the config and refuses when it is missing" {
	s1=$(step s1 restart checkout low)
	approval "$D/ok.jsonl" $RUN1 G1 "$s1" alice
	{ echo "{\"kind\":\"run\",\"run_id\":\"$RUN1\"}"; rem G1 "$s1"; } >"$D/in"
	run -0 "${CMD[@]}" "${POL[@]}" --set pipeline.executor.approve=file --set "pipeline.executor.approvals_file=$D/ok.jsonl" "$D/in"
	[ "$(decisions <<<"$output" | tail -n1)" = "s1 | executed | - | exited with status 0" ]
	run -0 "${CMD[@]}" "${POL[@]}" --approve "file:$D/missing.jsonl" "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | refused | approval-file | cannot read the approvals file: No such file or directory" ]
}

@test "approve auto:low runs a low-risk step and refuses a high-risk one" {
	rem G1 "$(step s1 restart checkout low)" "$(step s2 restart cart high)" "$(step s3 restart cart medium)" >"$D/in"
	run -0 "${CMD[@]}" --approve auto:low "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | approved | - | approved by auto:low
s1 | executed | - | exited with status 0
s2 | refused | approval-auto | risk high is above auto:low
s3 | refused | approval-auto | risk medium is above auto:low" ]
}

@test "approve tty without a terminal refuses" {
	rem G1 "$(step s1 restart checkout low)" >"$D/in"
	run -0 setsid -w "$AIOPS_BIN/aiops-exec" --type command --allowlist "$D/allow.yaml" --approve tty "$D/in" </dev/null
	[ "$(decisions <<<"$output")" = "s1 | refused | approval-tty | no terminal to ask on: /dev/tty: No such device or address" ]
	[ "$(received)" = "(not run)" ]
}

@test "approve tty asks on the terminal, shows argv and risk, and takes only yes" {
	command -v script >/dev/null || skip "script(1) is not installed"
	rem G1 "$(step s1 restart checkout high)" "$(step s2 restart cart low)" >"$D/in"
	printf 'y\nn\n' | script -qec "'$AIOPS_BIN/aiops-exec' --type command --allowlist '$D/allow.yaml' --approve tty --cooldown-s 0 --as erin '$D/in' >'$D/out'" /dev/null >"$D/tty"
	[ "$(decisions <"$D/out")" = "s1 | approved | - | approved by erin
s1 | executed | - | exited with status 0
s2 | refused | approval-tty | not approved on the terminal" ]
	grep -q "aiops-exec: approve step s1 of G1?" "$D/tty"
	grep -q "action restart on checkout, risk high" "$D/tty"
	grep -q "argv: '$FIX/exec/record' '$D/argv' 'rollout' 'restart' 'deployment/checkout' '-n' 'shop'" "$D/tty"
}

# --- risk and target scope ---

@test "the allowlist's risk wins over a lower risk in the record (issue 17, finding 2)" {
	sed 's/^  failover:$/&\n    risk: high/' "$D/allow.yaml" | awk '!(/^    risk: low$/ && prev ~ /risk: high/) {print} {prev = $0}' >"$D/hi.yaml"
	grep -A1 '^  failover:' "$D/hi.yaml" | grep -q 'risk: high'
	rem G1 "$(step s1 failover checkout low)" "$(step s2 restart checkout high)" >"$D/in"
	run -0 aiops-exec --type command --allowlist "$D/hi.yaml" --cooldown-s 0 --approve auto:low "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | refused | approval-auto | risk high is above auto:low
s2 | refused | approval-auto | risk high is above auto:low" ]
	[ "$(jq -r 'select(.kind == "execution") | .risk' <<<"$output" | tr '\n' ' ')" = "high high " ]
	printf '%s\n' "actions: {restart: {argv: [/bin/true]}}" >"$D/norisk.yaml"
	run -2 --separate-stderr aiops-exec --type command --allowlist "$D/norisk.yaml" </dev/null
	[ "$stderr" = "aiops-exec: $D/norisk.yaml: actions.restart.risk: expected low, medium or high" ]
}

@test "a target outside the group's services is refused (issue 17, finding 3)" {
	s1=$(step s1 scale_out zz-no-such-svc low '{"replicas":10}')
	s2=$(step s2 restart kube-system low)
	s3=$(step s3 restart checkout low)
	{ echo '{"kind":"group","id":"G1","services":[{"service":"checkout","score":1}]}'; remonly G1 "$s1" "$s2" "$s3"; remonly G9 "$s3"; } >"$D/in"
	run -0 "${CMD[@]}" --approve auto:high "$D/in"
	[ "$(decisions <<<"$output" | grep -v approved)" = "s1 | refused | target-out-of-scope | target 'zz-no-such-svc' is not one of the services of group G1
s2 | refused | target-out-of-scope | target 'kube-system' is not one of the services of group G1
s3 | executed | - | exited with status 0
s3 | refused | target-out-of-scope | no group record G9 was seen, so its services (the target scope) are unknown" ]
	[ "$(received)" = "scale
deployment/checkout
--replicas=10" ] || [ "$(received | sed -n 3p)" = "deployment/checkout" ]
	# a dry run says so too
	run -0 "${CMD[@]}" -n "$D/in"
	[ "$(decisions <<<"$output" | sed -n 1p)" = "s1 | dry-run | target-out-of-scope | would be refused: target 'zz-no-such-svc' is not one of the services of group G1" ]
}

@test "a policy's extra_targets pattern explicitly widens the scope" {
	{ sed '/^actors:/,$d' "$AIOPS_ROOT/examples/executors/policy.yaml"
	  echo "extra_targets: ['redis-[a-z]+']"
	  sed -n '/^actors:/,$p' "$AIOPS_ROOT/examples/executors/policy.yaml"; } >"$D/pol.yaml"
	{ echo '{"kind":"group","id":"G1","services":[{"service":"checkout"}]}'
	  remonly G1 "$(step s1 restart redis-cart low)" "$(step s2 restart redis low)"; } >"$D/in"
	run -0 "${CMD[@]}" --approve auto:high --policy "$D/pol.yaml" --as alice "$D/in"
	[ "$(decisions <<<"$output" | grep -v approved)" = "s1 | executed | - | exited with status 0
s2 | refused | target-out-of-scope | target 'redis' is not one of the services of group G1" ]
}

# --- the shipped catalog and allowlist agree (issue 17, finding 5) ---

# The catalog as aiops-remediate reads it (the "Action catalog" lines of its
# prompt), one line per action: NAME RISK, then one per parameter:
# NAME PARAM KIND SPEC DEFAULT (KIND enum|integer|string, "-" for none).
catalog_lines() {
	printf '%s\n' '{"kind":"rca","group_id":"G1","candidates":[{"service":"checkout","fault":"latency"}]}' |
		aiops-remediate --catalog "$AIOPS_ROOT/examples/actions.yaml" --emit-prompt \
			--set provider.type=openai_compat --set provider.default_model=m |
		jq -r 'select(.kind == "prompt") | .messages[].content' |
		sed -n '/^Action catalog/,/^$/p' | awk '
		/^- / { a = $2; r = $6; sub(/\).*/, "", r); print a, r; next }
		/^    param / {
			p = $2; sub(/:$/, "", p); d = "-"
			if (match($0, /default "[^"]*"/)) d = substr($0, RSTART + 9, RLENGTH - 10)
			else if (match($0, /default [0-9]+/)) d = substr($0, RSTART + 8, RLENGTH - 8)
			if ($3 == "one" ) { v = $5; sub(/,$/, "", v); print a, p, "enum", v, d }
			else if ($3 == "integer") { v = $4; sub(/,$/, "", v); print a, p, "integer", v, d }
			else print a, p, "string", "-", d
		}'
}

@test "every catalog action, with every enum value, integer bound and default, passes the shipped allowlist" {
	catalog_lines >"$D/cat"
	[ "$(awk 'NF == 2' "$D/cat" | wc -l)" = 7 ]
	# one step per variant: defaults only, then each enum value, each integer
	# bound and each default of each parameter; required ones always present
	awk 'NF == 2 { risk[$1] = $2; acts[++n] = $1 }
	     NF == 5 { np[$1]++; P[$1, np[$1]] = $0 }
	     END {
		for (i = 1; i <= n; i++) {
			a = acts[i]; base = ""
			for (k = 1; k <= np[a]; k++) { split(P[a, k], f, " ")
				if (f[5] == "-") { split(f[4], lo, /\.\.|\|/); base = base sprintf(",\"%s\":%s", f[2], f[3] == "integer" ? lo[1] : "\"" lo[1] "\"") } }
			print a, risk[a], "{" substr(base, 2) "}"
			for (k = 1; k <= np[a]; k++) { split(P[a, k], f, " ")
				if (f[3] == "enum") { m = split(f[4], vs, "|"); for (j = 1; j <= m; j++) print a, risk[a], "{" substr(base ",\"" f[2] "\":\"" vs[j] "\"", 2) "}" }
				if (f[3] == "integer") { split(f[4], b, /\.\./); print a, risk[a], "{" substr(base ",\"" f[2] "\":" b[1], 2) "}"; print a, risk[a], "{" substr(base ",\"" f[2] "\":" b[2], 2) "}" }
				if (f[5] != "-") print a, risk[a], "{" substr(base ",\"" f[2] "\":" (f[3] == "integer" ? f[5] : "\"" f[5] "\""), 2) "}"
			}
		}
	     }' "$D/cat" >"$D/variants"
	[ "$(wc -l <"$D/variants")" -gt 20 ]
	i=0
	while read -r a r p; do
		i=$((i + 1))
		jq -c --arg i "s$i" --arg a "$a" --arg r "$r" '{id: $i, action: $a, target: "checkout", params: ., risk: $r}' <<<"$p"
	done <"$D/variants" >"$D/steps"
	{ echo '{"kind":"group","id":"G1","services":[{"service":"checkout"}]}'
	  jq -sc '{kind: "remediation", group_id: "G1", steps: .}' "$D/steps"; } >"$D/in"
	cd "$AIOPS_ROOT"
	run -0 aiops-exec --type command -n "$D/in"
	[ "$(jq -r 'select(.kind == "execution") | select(.rule != null) | [.step_id, .action, (.params | tostring), .reason] | join(" ")' <<<"$output")" = "" ]
	[ "$(jq -c 'select(.kind == "execution")' <<<"$output" | wc -l)" = "$(wc -l <"$D/steps")" ]
	# the allowlist's risk is the catalog's: the effective risk never rises
	[ "$(jq -r 'select(.kind == "execution") | [.action, .risk] | join(" ")' <<<"$output" | sort -u)" = "$(awk 'NF == 2' "$D/cat" | sort -u)" ]
	# and it names no action the catalog lacks
	[ "$(sed -n '/^actions:/,$p' examples/executors/commands.yaml | grep -E '^  [a-z_]+:$' | tr -d ' :' | sort)" = "$(awk 'NF == 2 {print $1}' "$D/cat" | sort)" ]
	# scale_out adds replicas, as the catalog says, rather than setting the total
	[ "$(jq -c 'select(.kind == "execution" and .action == "scale_out") | .argv' <<<"$output" | head -n1)" = '["/usr/local/sbin/shop-scale-out","--service","checkout","--add","2","-n","shop"]' ]
}

# --- RBAC ---

@test "the policy allows what a role of the actor lists" {
	rem G1 "$(step s1 restart checkout medium)" >"$D/in"
	run -0 "${CMD[@]}" --approve auto:high --policy "$AIOPS_ROOT/examples/executors/policy.yaml" --as bob "$D/in"
	[ "$(decisions <<<"$output" | tail -n1)" = "s1 | executed | - | exited with status 0" ]
	[ "$(jq -r 'select(.kind == "execution") | .actor' <<<"$output" | sort -u)" = bob ]
}

@test "the policy refuses everything it does not explicitly allow, naming the rule" {
	P=(--policy "$AIOPS_ROOT/examples/executors/policy.yaml")
	rem G1 "$(step s1 restart checkout low)" >"$D/in"
	run -0 "${CMD[@]}" --approve auto:high "${P[@]}" "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | refused | rbac-actor | no actor (--as or AIOPS_ACTOR) to check the policy against" ]
	AIOPS_ACTOR=mallory run -0 "${CMD[@]}" --approve auto:high "${P[@]}" "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | refused | rbac-actor | actor 'mallory' has no role in the policy" ]
	rem G1 "$(step s1 rollback checkout low)" "$(step s2 restart postgres-orders low)" \
		"$(step s3 restart checkout high)" >"$D/in"
	AIOPS_ACTOR=alice run -0 "${CMD[@]}" --approve auto:high "${P[@]}" --as bob "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | refused | rbac-action | no role of 'bob' allows action 'rollback'
s2 | refused | rbac-target | no role of 'bob' allows action 'restart' on this target
s3 | refused | rbac-risk | no role of 'bob' allows action 'restart' at risk high" ]
	[ "$(received)" = "(not run)" ]
}

# --- guards ---

@test "max_steps_per_group and max_steps_per_run bound what runs" {
	rem G1 "$(step s1 restart a low)" "$(step s2 restart b low)" "$(step s3 restart c low)" >"$D/in"
	rem G2 "$(step s1 restart d low)" "$(step s2 restart e low)" >>"$D/in"
	run -0 "${CMD[@]}" --approve auto:high --max-steps-per-group 2 --max-steps-per-run 3 "$D/in"
	[ "$(decisions <<<"$output" | grep -v approved)" = "s1 | executed | - | exited with status 0
s2 | executed | - | exited with status 0
s3 | refused | max-steps-per-group | this group already ran 2 steps (max_steps_per_group)
s1 | executed | - | exited with status 0
s2 | refused | max-steps-per-run | this run already ran 3 steps (max_steps_per_run)" ]
}

@test "a target in its cool-down is refused" {
	rem G1 "$(step s1 restart checkout low)" >"$D/in"
	rem G2 "$(step s1 restart checkout low)" "$(step s2 restart cart low)" >>"$D/in"
	run -0 aiops-exec --type command --allowlist "$D/allow.yaml" --approve auto:high --cooldown-s 10m "$D/in"
	[ "$(decisions <<<"$output" | grep -v approved)" = "s1 | executed | - | exited with status 0
s1 | refused | cooldown | a step ran on this target 0s ago (cooldown_s 600)
s2 | executed | - | exited with status 0" ]
}

@test "a failed step halts the rest of its group, not the other groups" {
	rem G1 "$(step s1 failover checkout low)" "$(step s2 restart checkout low)" >"$D/in"
	rem G2 "$(step s1 restart cart low)" >>"$D/in"
	run -0 "${CMD[@]}" --approve auto:high "$D/in"
	[ "$(decisions <<<"$output" | grep -v approved)" = "s1 | failed | - | exited with status 3
s2 | refused | group-halted | an earlier step of this group failed
s1 | executed | - | exited with status 0" ]
}

# --- running ---

@test "records the exit code and both tails of a failing program" {
	rem G1 "$(step s1 failover checkout low)" >"$D/in"
	run -0 "${CMD[@]}" --approve auto:high "$D/in"
	[ "$(jq -c 'select(.decision == "failed") | [.exit_code, .stdout_tail, .stderr_tail, .argv]' <<<"$output")" = "[3,\"partial output\\n\",\"fail: something went wrong\\n\",[\"$FIX/exec/fail\"]]" ]
	jq -s -e 'map(select(.decision == "failed"))[0] | .started_at <= .ended_at' <<<"$output"
}

@test "a program that cannot be started fails the step" {
	rem G1 "$(step s1 clear_cache checkout low)" >"$D/in"
	run -0 "${CMD[@]}" --approve auto:high "$D/in"
	[ "$(decisions <<<"$output" | tail -n1)" = "s1 | failed | - | cannot run $FIX/exec/no-such-program: No such file or directory" ]
	[ "$(jq -c 'select(.decision == "failed") | .exit_code' <<<"$output")" = null ]
}

@test "a timeout kills the program and its whole process group" {
	rem G1 "$(step s1 rollback checkout low)" >"$D/in"
	SECONDS=0
	run -0 "${CMD[@]}" --approve auto:high --timeout-s 1 "$D/in"
	[ "$SECONDS" -lt 10 ]
	[ "$(decisions <<<"$output" | tail -n1)" = "s1 | failed | - | timed out after 1s: process group killed (SIGTERM)" ]
	[ "$(jq -r 'select(.decision == "failed") | .stdout_tail' <<<"$output")" = sleeping ]
	! alive "$(cat "$D/sleep.pid")"
	! alive "$(cat "$D/sleep.child")"
}

@test "a program that ignores SIGTERM gets SIGKILL after the grace period" {
	rem G1 "$(step s1 rollback checkout low '{"mode":"ignore"}')" >"$D/in"
	run -0 "${CMD[@]}" --approve auto:high --timeout-s 0.5 --kill-grace-s 0.5 "$D/in"
	[ "$(decisions <<<"$output" | tail -n1)" = "s1 | failed | - | timed out after 0.5s: process group killed (SIGKILL)" ]
	! alive "$(cat "$D/sleep.pid")"
	! alive "$(cat "$D/sleep.child")"
}

@test "keeps only the last tail_bytes of the output" {
	rem G1 "$(step s1 increase_pool checkout low)" >"$D/in"
	run -0 "${CMD[@]}" --approve auto:high --tail-bytes 32 "$D/in"
	[ "$(jq -c 'select(.decision == "executed") | .stdout_tail' <<<"$output")" = '"7\nline 19998\nline 19999\nthe end\n"' ]
}

@test "only allowlisted variables reach the program, and no other value reaches a record" {
	rem G1 "$(step s1 restart checkout low)" >"$D/in"
	SECRET_TOKEN=hunter2-secret LANG=C.UTF-8 TZ=UTC run -0 "${CMD[@]}" --approve auto:high --env 'TZ, LANG, NOT_SET' --audit "$D/audit" "$D/in"
	[ "$(tr '\0' '\n' <"$D/argv.env" | sort)" = "LANG=C.UTF-8
PATH=/usr/local/bin:/usr/bin:/bin
TZ=UTC" ]
	! grep -q hunter2 <<<"$output"
	! grep -q hunter2 "$D/audit"
	PATH=/opt/x:$PATH run -0 "${CMD[@]}" --approve auto:high --env '[PATH]' "$D/in"
	[ "$(tr '\0' '\n' <"$D/argv.env")" = "PATH=/opt/x:$PATH" ]
}

@test "the audit file gets every decision, appended" {
	echo '{"kind":"execution","note":"an earlier run"}' >"$D/audit"
	rem G1 "$(step s1 restart checkout low)" "$(step s2 rollback checkout high)" "$(step s3 nope x low)" >"$D/in"
	run -0 "${CMD[@]}" --approve auto:low --audit "$D/audit" "$D/in"
	[ "$(head -n1 "$D/audit")" = '{"kind":"execution","note":"an earlier run"}' ]
	[ "$(tail -n +2 "$D/audit")" = "$(jq -c 'select(.kind == "execution")' <<<"$output")" ]
	[ "$(tail -n +2 "$D/audit" | decisions)" = "s1 | approved | - | approved by auto:low
s1 | executed | - | exited with status 0
s2 | refused | approval-auto | risk high is above auto:low
s3 | refused | allowlist-action | action 'nope' is not in the allowlist" ]
	[ "$(stat -c %a "$D/audit")" = 644 ]
	rm "$D/audit"
	run -0 "${CMD[@]}" --audit "$D/audit" "$D/in"
	[ "$(stat -c %a "$D/audit")" = 600 ]
	[ "$(wc -l <"$D/audit")" = 3 ]
}

@test "an audit file that cannot be opened stops the stage before anything runs" {
	run -1 --separate-stderr "${CMD[@]}" --audit "$D/no/such/dir/audit" </dev/null
	[ "$stderr" = "aiops-exec: $D/no/such/dir/audit: No such file or directory" ]
	[ -z "$output" ]
}

@test "stage_end counts the decisions" {
	rem G1 "$(step s1 restart checkout low)" "$(step s2 failover cart low)" "$(step s3 restart cart high)" >"$D/in"
	run -0 "${CMD[@]}" --approve auto:low "$D/in"
	[ "$(tail -n1 <<<"$output" | jq -c .executions)" = '{"dry-run":0,"refused":1,"approved":2,"executed":1,"failed":1}' ]
}
