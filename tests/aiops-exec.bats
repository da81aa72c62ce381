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

# rem GID STEP...: a remediation record with those steps.
rem() {
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
	[ "$(jq -c 'select(.kind == "execution") | .argv' <<<"$output")" = '["/usr/bin/kubectl","scale","deployment/checkout","--replicas=6","-n","shop"]' ]
	[ "$(jq -r 'select(.kind == "stage") | .params.allowlist' <<<"$output")" = examples/executors/commands.yaml ]
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

@test "approve file runs only the steps an approver listed" {
	cat >"$D/approvals.jsonl" <<-'EOF'
	{"group_id":"G1","step_id":"s1","approver":"carol"}
	not json at all
	{"group_id":"G1","step_id":"s2","approver":""}
	{"group_id":"G1","step_id":"s3","approver":"carol","action":"restart","target":"cart"}
	{"group_id":"G2","step_id":"s1","approver":"dave","action":"restart","target":"search"}
	EOF
	rem G1 "$(step s1 restart checkout high)" "$(step s2 restart cart low)" "$(step s3 restart catalog low)" >"$D/in"
	rem G2 "$(step s1 restart search low)" >>"$D/in"
	run -0 "${CMD[@]}" --approve "file:$D/approvals.jsonl" "$D/in"
	[ "$(decisions <<<"$output")" = "s1 | approved | - | approved by carol
s1 | executed | - | exited with status 0
s2 | refused | approval-file | no approval for G1/s2 in the approvals file
s3 | refused | approval-file | no approval for G1/s3 in the approvals file
s1 | approved | - | approved by dave
s1 | executed | - | exited with status 0" ]
	[ "$(jq -r 'select(.decision == "executed") | .approver' <<<"$output" | tr '\n' ' ')" = "carol dave " ]
}

@test "approve file reads approvals_file from the config and refuses when it is missing" {
	printf '%s\n' '{"group_id":"G1","step_id":"s1","approver":"carol"}' >"$D/ok.jsonl"
	rem G1 "$(step s1 restart checkout low)" >"$D/in"
	run -0 "${CMD[@]}" --set pipeline.executor.approve=file --set "pipeline.executor.approvals_file=$D/ok.jsonl" "$D/in"
	[ "$(decisions <<<"$output" | tail -n1)" = "s1 | executed | - | exited with status 0" ]
	run -0 "${CMD[@]}" --approve "file:$D/missing.jsonl" "$D/in"
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
