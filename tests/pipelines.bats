#!/usr/bin/env bats
# The ready-made pipelines in pipelines/: the plain pipe, RCA-only re-runs
# on kept groups, replay of recorded model calls, and the ablations.

load test_helper

CFG=examples/configs/basic.yaml

setup() {
	cd "$AIOPS_ROOT" || exit 1
}

teardown() {
	fake_llm_stop "$BATS_TEST_TMPDIR"
}

# The overall score records of a stream, one "name value" a line.
scores() {
	jq -r 'select(.kind == "score" and .incident_id == null) | "\(.name) \(.value)"' "$@"
}

# A kept baseline run of examples/data in $BATS_TEST_TMPDIR/k.
keep_run() {
	aiops-harness run --config "${1:-$CFG}" --dataset examples/data --keep "$BATS_TEST_TMPDIR/k" \
		--set mlflow.enabled=false --quiet "${@:2}" >/dev/null
}

@test "full.sh gives the scores the driver gives" {
	keep_run
	d=$BATS_TEST_TMPDIR
	run -0 bash -c "pipelines/full.sh $CFG examples/data --set mlflow.store='$d/mlruns' \
		>'$d/full.jsonl' 2>'$d/full.err'"
	[ "$(scores "$d/full.jsonl")" = "$(scores "$d/k/final.jsonl")" ]
	[ -n "$(scores "$d/full.jsonl")" ]
}

@test "rca-only.sh on kept groups re-runs to the kept result" {
	keep_run
	d=$BATS_TEST_TMPDIR
	run -0 bash -c "pipelines/rca-only.sh '$d/k' '$d/k/config.json' >'$d/again.jsonl'"
	[ "$(scores "$d/again.jsonl")" = "$(scores "$d/k/final.jsonl")" ]
	diff <(jq -c 'select(.kind == "rca")' "$d/again.jsonl" | mask) <(jq -c 'select(.kind == "rca")' "$d/k/final.jsonl" | mask)
}

@test "rca-only.sh with another setting changes only what follows correlation" {
	keep_run
	d=$BATS_TEST_TMPDIR
	run -0 bash -c "pipelines/rca-only.sh '$d/k' '$d/k/config.json' --set pipeline.rca.top_k=1 >'$d/top1.jsonl'"
	[ "$(jq -s 'map(select(.kind == "rca") | .candidates | length) | max' "$d/top1.jsonl")" = 1 ]
	[ "$(jq -c 'select(.kind == "group")' "$d/top1.jsonl")" = "$(jq -c 'select(.kind == "group")' "$d/k/01-correlate.jsonl")" ]
}

@test "rca-only.sh without kept groups is a usage error" {
	run -2 pipelines/rca-only.sh "$BATS_TEST_TMPDIR" $CFG
	[ "$output" = "rca-only.sh: no NN-correlate.jsonl in '$BATS_TEST_TMPDIR'" ]
}

@test "replay.sh re-scores a model run exactly, with the server gone" {
	d=$BATS_TEST_TMPDIR
	fake_llm_start "$d" --log "$d/req.log" --answer "$FIX/rca/answer.json"
	cat >"$d/model.yaml" <<-YAML
	experiment: {name: replay-test}
	provider:
	  type: openai_compat
	  default_model: fake-model
	  params: {base_url: "http://127.0.0.1:$(cat "$d/port")/v1", concurrency: 2, max_attempts: 2}
	pipeline:
	  rca: {prompt: $AIOPS_ROOT/examples/prompts/rca.txt}
	  remediation: {prompt: $AIOPS_ROOT/examples/prompts/remediate.txt, catalog: $AIOPS_ROOT/examples/actions.yaml}
	YAML
	keep_run "$d/model.yaml"
	[ "$(grep -c '"kind":"llm_call"' "$d/k/final.jsonl")" -gt 0 ]
	fake_llm_stop "$d"
	run -0 bash -c "pipelines/replay.sh '$d/k' >'$d/replayed.jsonl'"
	[ "$(scores "$d/replayed.jsonl")" = "$(scores "$d/k/final.jsonl")" ]
	[ "$(grep -c 'replay miss' "$d/replayed.jsonl")" = 0 ]
}

@test "ablate.sh rca: one oracle group per incident, no label inside" {
	d=$BATS_TEST_TMPDIR
	mkdir "$d/data"
	cp examples/data/*.jsonl "$d/data/"
	jq -c '.title = "CANARY-ab12 " + .title | .root_cause.component = "CANARY-ab12"' \
		examples/data/incidents.jsonl >"$d/data/incidents.jsonl"
	aiops-harness run --config $CFG --dataset "$d/data" --keep "$d/k" --set mlflow.enabled=false --quiet >/dev/null
	run -0 bash -c "pipelines/ablate.sh rca '$d/k' $CFG >'$d/abl.jsonl'"
	[ "$(jq -c 'select(.kind == "group") | .id' "$d/abl.jsonl" | tr -d '"\n')" = "O0001O0002O0003O0004O0005O0006O0007" ]
	[ "$(jq -c 'select(.kind == "group") | select(.detected and .method == "oracle")' "$d/abl.jsonl" | wc -l)" = 7 ]
	[ "$(jq -c 'select(.kind == "group" or .kind == "rca")' "$d/abl.jsonl" | grep -c CANARY-ab12)" = 0 ]
	[ "$(scores "$d/abl.jsonl" | grep '^detection_recall ')" = "detection_recall 1" ]
}

@test "ablate.sh remediate: the labelled root cause replaces the rca, with a warning" {
	keep_run
	d=$BATS_TEST_TMPDIR
	run -0 --separate-stderr bash -c "pipelines/ablate.sh remediate '$d/k' $CFG >'$d/abl.jsonl'"
	[ "$stderr" = "ablate.sh: remediate mode shows the labelled root cause to the remediation stage" ]
	[ "$(jq -r 'select(.kind == "rca") | .provider' "$d/abl.jsonl" | sort -u)" = oracle ]
	[ "$(scores "$d/abl.jsonl" | grep '^remediation_match ')" = "remediation_match 1" ]
}

@test "ablate.sh needs a mode" {
	run -2 pipelines/ablate.sh detect "$BATS_TEST_TMPDIR" $CFG
	[ "$output" = "usage: ablate.sh rca|remediate KEPT_DIR CONFIG [--set KEY=VALUE]..." ]
}

@test "the pipeline scripts are shellcheck clean" {
	command -v shellcheck >/dev/null || skip "shellcheck is not installed"
	run -0 shellcheck -x pipelines/*.sh
}
