#!/usr/bin/env bats
# Fault injection across the pipe: a stage killed mid-stream, a model server
# that fails ~30% of the time (429, 5xx, timeouts, dropped connections,
# garbage), a full disk on stdout, a reader that goes away.  The MLflow
# server killed mid-run (spool, --resume) is tested in aiops-mlflow.bats.

load test_helper

G="$FIX/rca/groups.jsonl"

setup_file() {
	# A big stream (more than the 1 MiB output buffer) for the disk-full and
	# SIGPIPE tests: the example dataset, loaded once.
	export BIG="$BATS_FILE_TMPDIR/big.jsonl"
	aiops-load --dataset "$AIOPS_ROOT/examples/data" --run-id 0123456789abcdef0123456789abcdef \
		>"$BIG" 2>/dev/null
}

setup() {
	cd "$AIOPS_ROOT" || return 1
	tmp=$(scratch)
}

teardown() {
	fake_llm_stop "$tmp"
}

# The filters and what each reads on stdin.
FILTERS="correlate rca remediate exec metrics mlflow"

# filter_cmd STAGE: the stage's command line, offline, forwarding its input.
filter_cmd() {
	case $1 in
	correlate) echo "aiops-correlate --keep-signals" ;;
	mlflow) echo "aiops-mlflow --store $tmp/mlruns --spool-dir $tmp/spool" ;;
	*) echo "aiops-$1" ;;
	esac
}

# ---- a stage killed mid-stream --------------------------------------------

# A wrapper for pipeline.SECTION.command: runs the real stage, lets its
# first N output lines through, then kills it and itself with SIGKILL.
write_killer() {
	cat >"$tmp/killmid" <<-'EOF'
	#!/usr/bin/env bash
	n=$1; shift
	f=$(mktemp -u) && mkfifo "$f" || exit 9
	"$@" --config "$AIOPS_CONFIG" --unbuffered <&0 >"$f" &
	p=$!
	head -n "$n" <"$f"
	kill -9 "$p"
	rm -f "$f"
	kill -9 $$
	EOF
	chmod +x "$tmp/killmid"
}

@test "a stage SIGKILLed mid-stream fails the run, is named, and --keep keeps what was produced" {
	write_killer
	cat >"$tmp/cfg.yaml" <<-EOF
	experiment: {name: faults}
	provider: {type: baseline}
	pipeline:
	  rca: {command: $tmp/killmid 3 aiops-rca}
	mlflow: {enabled: false}
	EOF
	run -1 --separate-stderr aiops-harness run --config "$tmp/cfg.yaml" --dataset examples/data \
		--keep "$tmp/k" --quiet
	[[ "$stderr" == *"aiops-harness: stage rca ($tmp/killmid 3 aiops-rca) was killed by signal 9"* ]]
	# What the stages before it produced is kept: aiops-load's stream whole
	# (correlate read all of it), correlate's up to where the pipe broke.
	[ "$(tail -n 1 "$tmp/k/00-load.jsonl" | jq -r .kind)" = stage_end ]
	[ "$(head -n 1 "$tmp/k/01-correlate.jsonl" | jq -r '[.kind, .stage] | join(" ")')" = "stage correlate" ]
	# ... and so is what the killed stage wrote before it died.
	[ "$(wc -l <"$tmp/k/02-rca.jsonl")" -eq 3 ]
	[ "$(head -n 1 "$tmp/k/02-rca.jsonl" | jq -r '[.kind, .stage] | join(" ")')" = "stage rca" ]
	run ! grep -q '"kind":"stage_end","stage":"rca"' "$tmp/k/02-rca.jsonl"
	# The stages after it got the truncated stream and did not invent a run.
	if [ -s "$tmp/k/final.jsonl" ]; then
		run ! grep -q '"kind":"stage_end","stage":"rca"' "$tmp/k/final.jsonl"
	fi
}

@test "the first stage (aiops-load) SIGKILLed is named too" {
	write_killer
	cat >"$tmp/cfg.yaml" <<-EOF
	provider: {type: baseline}
	dataset: {command: $tmp/killmid 10 aiops-load --dataset examples/data}
	mlflow: {enabled: false}
	EOF
	run -1 --separate-stderr aiops-harness run --config "$tmp/cfg.yaml" --dataset examples/data \
		--keep "$tmp/k" --quiet
	[[ "$stderr" == *"aiops-harness: stage load ($tmp/killmid 10 aiops-load --dataset examples/data) was killed by signal 9"* ]]
	[ "$(wc -l <"$tmp/k/00-load.jsonl")" -eq 10 ]
}

@test "the stream of the stage upstream of a killed stage is kept whole" {
	write_killer
	cat >"$tmp/cfg.yaml" <<-EOF
	provider: {type: baseline}
	pipeline:
	  rca: {command: $tmp/killmid 1 aiops-rca}
	mlflow: {enabled: false}
	EOF
	run -1 --separate-stderr aiops-harness run --config "$tmp/cfg.yaml" --dataset examples/data \
		--keep "$tmp/k" --quiet
	[[ "$stderr" == *"aiops-harness: stage rca ($tmp/killmid 1 aiops-rca) was killed by signal 9"* ]]
	# The kept file is written by `tee -p FILE`, which goes on writing the
	# file when the killed stage no longer reads: correlate's stream is
	# whole, up to its stage_end.
	[ -s "$tmp/k/01-correlate.jsonl" ]
	[ "$(tail -c 1 "$tmp/k/01-correlate.jsonl" | od -An -c | tr -d ' ')" = '\n' ]
	tail -n 1 "$tmp/k/01-correlate.jsonl" | grep -q '"kind":"stage_end"'
}

# ---- a model server failing ~30% of the time --------------------------------

start_fake() {
	fake_llm_start "$tmp" --log "$tmp/req.log" --answer "$FIX/rca/answer.json" --hang-s 3 "$@"
	OPENAI_API_BASE="http://127.0.0.1:$(cat "$tmp/port")/v1"
	export OPENAI_API_BASE
}

# 40 faults, one per request in arrival order: 14 errors (35%), of every
# kind, then every request is ok.
FAULTS=ok,429,ok,ok,500,ok,ok,timeout,ok,ok,malformed,ok,ok,503,ok,ok,notjson,ok,ok,close,ok,429:retry-after=0,ok,ok,502,ok,ok,timeout,ok,ok,truncated,ok,ok,408,ok,ok,schema-break,ok,ok,500

@test "a model server failing 35% of the time: every detected group gets one rca, retries are recorded, counts reconcile" {
	start_fake --faults "$FAULTS"
	# 21 detected groups: the fixture's seven, three times over, between
	# the fixture's other records.
	for r in 1 2 3; do
		jq -c --arg r "$r" 'if .kind == "group" then .id = "R\($r)-\(.id)" else . end' "$G"
	done >"$tmp/in.jsonl"
	cat >"$tmp/cfg.yaml" <<-EOF
	provider:
	  type: openai_compat
	  default_model: fake-model
	  params: {max_attempts: 4, backoff_base_s: 0.01, backoff_cap_s: 0.05, timeout_s: 1, concurrency: 4}
	EOF
	run -0 --separate-stderr aiops-rca --config "$tmp/cfg.yaml" "$tmp/in.jsonl"
	printf '%s\n' "$output" >"$tmp/out.jsonl"
	want=$(jq -r 'select(.kind == "group" and .detected != false) | .id' "$tmp/in.jsonl")
	[ "$(wc -l <<<"$want")" -eq 21 ]
	# groups in == rca out, one each, in input order.
	[ "$(jq -r 'select(.kind == "rca") | .group_id' "$tmp/out.jsonl")" = "$want" ]
	# An rca without an error has candidates; one with an error has its
	# group's last model call failed for good.
	jq -e -s 'map(select(.kind == "rca" and .error == null)) | all(.candidates | length > 0)' "$tmp/out.jsonl"
	jq -e -s '(map(select(.kind == "llm_call")) | group_by(.group_id) | map({(.[0].group_id): (last.error != null)}) | add) as $f
		| map(select(.kind == "rca")) | all((.error != null) == $f[.group_id])' "$tmp/out.jsonl"
	# Retries are visible: attempts > 1 in llm_call records, and stage_end's
	# llm counts are the sums over those records.
	[ "$(jq -s 'map(select(.kind == "llm_call" and .attempts > 1)) | length' "$tmp/out.jsonl")" -ge 3 ]
	jq -e -s '(map(select(.kind == "llm_call"))) as $c | last.llm as $l
		| $l.calls == ($c | length)
		and $l.retries == ($c | map(.attempts - 1) | add)
		and $l.failures == ($c | map(select(.error != null)) | length)
		and $l.retries > 0' "$tmp/out.jsonl"
	# Every request the server saw is an attempt some llm_call counted.
	[ "$(grep -c '"path": "/v1/chat/completions"' "$tmp/req.log")" -eq \
	  "$(jq -s 'map(select(.kind == "llm_call") | .attempts) | add' "$tmp/out.jsonl")" ]
	# records_in = lines; records_out = forwarded + rca + llm_call.
	# (The input holds a foreign stage record of its own: count by position.)
	jq -e -s --argjson n "$(wc -l <"$tmp/in.jsonl")" 'last as $e | .[1:-1] as $body
		| $e.records_in == $n and $e.rejects == 0
		and $e.records_out == ($body | length)
		and ($body | map(select(.kind != "rca" and .kind != "llm_call")) | length) == $n' \
		"$tmp/out.jsonl"
}

@test "a model server that always fails: every detected group still gets an rca with an error, exit 0" {
	start_fake --faults "$(printf '500,%.0s' $(seq 40))500"
	cat >"$tmp/cfg.yaml" <<-EOF
	provider:
	  type: openai_compat
	  default_model: fake-model
	  params: {max_attempts: 2, backoff_base_s: 0.01, backoff_cap_s: 0.02, timeout_s: 2, concurrency: 2}
	EOF
	run -0 --separate-stderr aiops-rca --config "$tmp/cfg.yaml" "$G"
	[ "$(jq -r 'select(.kind == "rca") | .group_id' <<<"$output")" = \
	  "$(jq -r 'select(.kind == "group" and .detected != false) | .id' "$G")" ]
	jq -e -s 'map(select(.kind == "rca")) | all(.error != null and (.error | test("500")))' <<<"$output"
	jq -e -s 'map(select(.kind == "llm_call")) | all(.attempts == 2)' <<<"$output"
	jq -e -s 'last.llm.failures == last.llm.calls and last.llm.calls == 7' <<<"$output"
}

# ---- disk full and a closed reader --------------------------------------------

@test "disk full on stdout (/dev/full): every stage exits 1 with a write error" {
	rc=0
	aiops-load --dataset examples/data >/dev/full 2>"$tmp/err" || rc=$?
	[ "$rc" -eq 1 ]
	grep -qx 'aiops-load: write error: No space left on device' "$tmp/err"
	for s in $FILTERS; do
		rc=0
		$(filter_cmd "$s") "$BIG" >/dev/full 2>"$tmp/err" || rc=$?
		[ "$rc" -eq 1 ] || { echo "aiops-$s: exit $rc"; cat "$tmp/err"; false; }
		grep -q "^aiops-$s: write error: No space left on device$" "$tmp/err" ||
			{ echo "aiops-$s:"; cat "$tmp/err"; false; }
	done
}

@test "disk full on stdout with a small output (caught at close): exit 1 with a message" {
	for s in $FILTERS; do
		rc=0
		$(filter_cmd "$s") "$FIX/bad/empty.jsonl" >/dev/full 2>"$tmp/err" || rc=$?
		[ "$rc" -eq 1 ] || { echo "aiops-$s: exit $rc"; cat "$tmp/err"; false; }
		grep -q "^aiops-$s: write error: No space left on device$" "$tmp/err"
	done
}

@test "a reader that goes away mid-stream (| head -n 1): every stage stops quietly by SIGPIPE" {
	run -0 pipe "aiops-load --dataset examples/data 2>'$tmp/err' | head -n 1 >/dev/null; echo \${PIPESTATUS[0]}"
	[ "$output" = 141 ]
	[ ! -s "$tmp/err" ]
	for s in $FILTERS; do
		run -0 pipe "$(filter_cmd "$s") '$BIG' 2>'$tmp/err' | head -n 1 >/dev/null; echo \${PIPESTATUS[0]}"
		[ "$output" = 141 ] || { echo "aiops-$s: $output"; cat "$tmp/err"; false; }
		[ ! -s "$tmp/err" ] || { echo "aiops-$s:"; cat "$tmp/err"; false; }
	done
}

@test "a stage that stops reading: the harness names the writer that got SIGPIPE and fails" {
	# A correlation "stage" that reads one line and exits 0: aiops-load,
	# mid-stream, loses its reader.
	cat >"$tmp/cfg.yaml" <<-EOF
	provider: {type: baseline}
	pipeline:
	  correlation: {command: head -n 1}
	mlflow: {enabled: false}
	EOF
	run -1 --separate-stderr aiops-harness run --config "$tmp/cfg.yaml" --dataset examples/data --quiet
	[ "$stderr" = "aiops-harness: stage aiops-load stopped: its reader went away (SIGPIPE)" ]
}
