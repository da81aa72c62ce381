#!/usr/bin/env bats
# aiops-mlflow: a real MLflow server (from the test venv), a recording fake
# server for faults and limits, and the offline file store read back by
# MLflow itself.

load test_helper

SERVERS="$BATS_TEST_DIRNAME/servers"
RUN="$BATS_TEST_DIRNAME/fixtures/mlflow/run.jsonl"

setup_file() {
	export MLF_DIR="$BATS_FILE_TMPDIR/mlflow"
	mkdir -p "$MLF_DIR"
	# Installing it the first time takes minutes: the suite says so (fd 3).
	if ! venv=$(AIOPS_NOTICE_FD=3 "$SERVERS/mlflow-env.sh" ensure 2>"$MLF_DIR/ensure.err"); then
		echo "no MLflow environment: $(tail -n 1 "$MLF_DIR/ensure.err")" >"$MLF_DIR/skip"
		return 0
	fi
	echo "$venv" >"$MLF_DIR/venv"
	if ! "$SERVERS/mlflow-env.sh" start "$MLF_DIR/srv" >"$MLF_DIR/url" 2>"$MLF_DIR/start.err" 3>&-; then
		echo "mlflow server did not start: $(tail -n 1 "$MLF_DIR/start.err")" >"$MLF_DIR/skip"
	fi
}

teardown_file() {
	"$SERVERS/mlflow-env.sh" stop "$MLF_DIR/srv" 3>&- || true
}

setup() {
	cd "$(scratch)" || return 1
}

teardown() {
	if [ -n "${FAKE_PID:-}" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
}

# Skips with the reason when there is no MLflow (python client or server);
# under CI=true an environment that cannot be set up is a failure instead.
no_mlflow() {
	if [ "${CI:-}" = true ]; then
		echo "CI=true: $(cat "$MLF_DIR/skip")"
		return 1
	fi
	skip "$(cat "$MLF_DIR/skip")"
}
need_venv() {
	[ -f "$MLF_DIR/venv" ] || no_mlflow
	PY="$(cat "$MLF_DIR/venv")/bin/python"
}
need_mlflow() {
	need_venv
	[ ! -f "$MLF_DIR/skip" ] || no_mlflow
	URL=$(cat "$MLF_DIR/url")
}

# Skips unless every pipeline stage is built (the harness runs them).
need_stages() {
	local s
	for s in load correlate rca remediate exec metrics; do
		[ -x "$AIOPS_BIN/aiops-$s" ] || skip "aiops-$s is not built"
	done
}

# check URI EXPERIMENT [--traces]: the runs as MLflow's client reads them.
check() {
	"$PY" "$SERVERS/mlflow_check.py" "$@"
}

# stopped_by_term DIR CMD...: runs an aiops-harness command whose rca
# stage blocks (tests/fixtures/harness/tripwire), stops it with SIGTERM once
# the stage started, and fails unless it exits 143.
stopped_by_term() {
	local d=$1 pid rc=0
	shift
	: >"$d/pids"
	"$@" --set "pipeline.rca.command=$H/tripwire block $d" >/dev/null 2>"$d/err" 3>&- &
	pid=$!
	for _ in $(seq 600); do [ -e "$d/started" ] && break; sleep 0.05; done
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ]
}

# start_fake [--fail SPEC]...: the recording fake server; sets FAKE_URL.
start_fake() {
	FAKE_LOG=$PWD/fake.log
	: >"$FAKE_LOG"
	python3 "$SERVERS/fake_mlflow.py" --port-file "$PWD/fake.port" --log "$FAKE_LOG" "$@" \
		3>&- </dev/null &
	FAKE_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$PWD/fake.port" ] && break
		sleep 0.05
	done
	FAKE_URL=http://127.0.0.1:$(cat "$PWD/fake.port")
}

# A loopback port where nothing listens.
dead_url() {
	echo "http://127.0.0.1:$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
}

fast=(--max-attempts 2 --backoff-s 0.01 --timeout-s 5)

# ---- the stream ----

@test "forwards every record byte for byte, stage first and stage_end last" {
	run aiops-mlflow --store st <"$RUN" >out.jsonl
	[ "$status" -eq 0 ]
	aiops-mlflow --store st <"$RUN" >out.jsonl 2>/dev/null
	[ "$(head -n1 out.jsonl | jq -r .kind)" = stage ]
	[ "$(tail -n1 out.jsonl | jq -r '.kind + " " + .stage')" = "stage_end mlflow" ]
	# Then the input as it came, then where the run went.
	sed '1d;$d' out.jsonl | head -n -1 | cmp - "$RUN"
	[ "$(tail -n 2 out.jsonl | head -n 1 | jq -r .kind)" = mlflow_run ]
}

@test "usage: --resume needs an http tracking URI and a readable file" {
	run aiops-mlflow --resume nosuch.jsonl
	[ "$status" -eq 2 ]
	[[ "$output" == *"aiops-mlflow: nosuch.jsonl: No such file"* ]]
	touch s.jsonl
	run aiops-mlflow --resume s.jsonl --store x
	[ "$status" -eq 2 ]
	[[ "$output" == *"--resume needs an http(s) tracking URI"* ]]
	run aiops-mlflow --tracking-uri databricks://x </dev/null
	[ "$status" -eq 2 ]
}

# ---- offline file store ----

@test "offline: writes MLflow's file-store layout and says how to view and migrate it" {
	run aiops-mlflow <"$RUN"
	[ "$status" -eq 0 ]
	[[ "$output" == *"view it: MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri $PWD/mlruns"* ]]
	[[ "$output" == *"mlflow migrate-filestore --source $PWD/mlruns"* ]]
	[ -f mlruns/0/meta.yaml ]
	exp=$(grep -l "^name: 'aiops-test'" mlruns/*/meta.yaml)
	d=$(dirname "$exp")
	[ "$(cat "$d/tags/owner")" = qa ]
	r=$(ls -d "$d"/*/ | grep -v '/tags/$')
	grep -qx 'status: 3' "$r/meta.yaml"
	grep -qx 'start_time: 1714557600000' "$r/meta.yaml"
	[ "$(cat "$r/params/provider.type")" = replay ]
	[ "$(cat "$r/params/rca.top_k")" = 3 ]
	[ ! -e "$r/metrics/rank" ]
	[ "$(cut -d' ' -f1 "$r/metrics/mttd_s")" = 1714557600000 ]
	[ "$(cat "$r/tags/aiops.run_id")" = 0123456789abcdef0123456789abcdef ]
	[ -f "$r/artifacts/eval/incidents.json" ]
	[ "$(jq -c .columns "$r/artifacts/eval/incidents.json")" = '["incident_id","step","model_ttd_s","rank","group_id","true_cause"]' ]
	[ "$(wc -l <"$r/artifacts/llm_calls.jsonl")" -eq 2 ]
	! ls mlruns/.aiops* 2>/dev/null
}

@test "offline: the store is read back by MLflow itself (MLFLOW_ALLOW_FILE_STORE=true)" {
	need_venv
	aiops-mlflow --store st <"$RUN" >/dev/null 2>&1
	check st aiops-test >got.json
	jq -e '.experiment.tags.owner == "qa" and (.runs | length) == 1' got.json
	jq -e '.runs[0] | .status == "FINISHED" and .run_name == "replay-m1-01234567"
		and .start_time == 1714557600000' got.json
	jq -e '.runs[0].params | ."provider.params.max_tokens" == "256" and ."rca.provider.type" == "replay"
		and ."pipeline.rca.top_k" == "3" and ."metrics.match_tolerance_s" == "60"' got.json
	jq -e '.runs[0].metrics | (has("rank") | not) and (has("model_ttd_s") | not)
		and .mttd_s == [[0,300]] and (has("mttd_s.n") | not) and (has("mmtd_s") | not)
		and ."rca.llm.calls" == [[0,2]] and ."load.records_out" == [[0,12]]' got.json
	jq -e '.runs[0].tags | ."aiops.run_id" == "0123456789abcdef0123456789abcdef" and .team == "sre"
		and ."aiops.stage.rca.version" == "0.1.0" and ."mlflow.source.name" == "aiops"
		and (."mlflow.note.content" | contains("mttd_s = 300 s (n=1)"))
		and ."mlflow.loggedArtifacts" == "[{\"path\": \"eval/incidents.json\", \"type\": \"table\"}]"' got.json
	jq -e '.runs[0].artifacts == ["config.json","eval/incidents.json","execution.jsonl",
		"llm_calls.jsonl","rca.jsonl","remediation.jsonl","scores.jsonl"]' got.json
	jq -e '.runs[0].table.data == [["INC1",0,42.5,1,"G0001","db"],["INC2",1,null,7,null,"api"]]' got.json
}

@test "offline: a stage without stage_end or with failed:true marks the run FAILED" {
	{ grep -v '"stage_end","stage":"rca"' "$RUN"
	  echo '{"kind":"stage","stage":"exec","version":"0.1.0","params":{}}'
	  echo '{"kind":"stage_end","stage":"exec","records_in":1,"records_out":1,"rejects":0,"failed":true,"error":"budget exceeded"}'
	} >in.jsonl
	run aiops-mlflow --store st <in.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *"(FAILED)"* ]]
	r=$(dirname "$(ls st/*/*/meta.yaml | head -n1)")
	grep -qx 'status: 4' "$r/meta.yaml"
	[ "$(cat "$r/tags/aiops.failure")" = "stage rca has no stage_end; stage exec failed: budget exceeded" ]
}

@test "offline: a stream without a run record is logged too (experiment aiops)" {
	echo '{"kind":"score","name":"f1","value":0.5,"n":2}' >in.jsonl
	run aiops-mlflow --store st <in.jsonl
	[ "$status" -eq 0 ]
	grep -qx "name: 'aiops'" st/*/meta.yaml
	[ "$(cut -d' ' -f2- st/*/*/metrics/f1)" = "0.5 0" ]
}

# ---- a real MLflow server ----

@test "server: experiment, run, params, metrics with steps, tags, artifacts, table and traces" {
	need_mlflow
	run aiops-mlflow --tracking-uri "$URL" <"$RUN" >/dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"view it: $URL/#/experiments/"*"/runs/"* ]]
	check "$URL" aiops-test --traces >got.json
	jq -e '.experiment.tags.owner == "qa" and (.runs | length) == 1' got.json
	jq -e '.runs[0] | .status == "FINISHED" and .start_time == 1714557600000
		and .run_name == "replay-m1-01234567" and .end_time == 1714557600200' got.json
	jq -e '.runs[0].params | length == 14 and ."mlflow.tracking_uri" == "'"$URL"'" and ."provider.type" == "replay"
		and ."rca.top_k" == "3" and ."load.dataset" == "examples/data"' got.json
	jq -e '.runs[0].metrics | (has("rank") | not) and .rca_ac1 == [[0,1]] and ."rca.llm.latency_p95_ms" == [[0,120]]' got.json
	jq -e '.runs[0].tags | ."aiops.run_id" == "0123456789abcdef0123456789abcdef"
		and ."aiops.dataset.sha256" == "d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35"
		and ."mlflow.user" != null and (."mlflow.note.content" | contains("**Status:** FINISHED"))' got.json
	jq -e '.runs[0].artifacts == ["config.json","eval/incidents.json","execution.jsonl",
		"llm_calls.jsonl","rca.jsonl","remediation.jsonl","scores.jsonl"]' got.json
	jq -e '.runs[0].table.columns[0:4] == ["incident_id","step","model_ttd_s","rank"]
		and .runs[0].table.data[1] == ["INC2",1,null,7,null,"api"]' got.json
	# G0001's trace (its group came by) and G0002's lone call (no group record).
	jq -e '.runs[0].traces | length == 2' got.json
	jq -e '.runs[0].traces[0] | .state == "OK" and .name == "incident G0001" and .span_type == "CHAIN"
		and .attributes."aiops.group_id" == "G0001"
		and .attributes."aiops.dataset.sha256" == "d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35"
		and .request == {"group_id":"G0001","services":["db"]}
		and .response.root_cause.service == "db" and .response.decisions[0].decision == "dry-run"
		and ([.spans[] | "\(.parent) > \(.name)"] | sort) == ["incident G0001 > correlate",
			"incident G0001 > exec s1", "incident G0001 > rca", "incident G0001 > remediate",
			"null > incident G0001", "rca > rca.rca"]' got.json
	jq -e '.runs[0].traces[0].spans[] | select(.name == "rca.rca")
		| .span_type == "CHAT_MODEL" and .model == "m1" and .status == "OK"
		and .inputs.messages[1].content == "What broke?"
		and .outputs.choices[0].message.content == "The db is out of CPU."
		and .token_usage == {"input_tokens":30,"output_tokens":8,"total_tokens":38}
		and .attributes."aiops.group_id" == "G0001"' got.json
	jq -e '.runs[0].traces[1] | .state == "ERROR" and .span_type == "CHAT_MODEL" and .spans == [.spans[0]]
		and .attributes."aiops.error" == "HTTP 503" and .attributes."aiops.group_id" == "G0002"' got.json
}

@test "server: a deleted experiment is restored and reused" {
	need_mlflow
	sed 's/aiops-test/aiops-deleted/g' "$RUN" >in.jsonl
	aiops-mlflow --tracking-uri "$URL" <in.jsonl >/dev/null 2>&1
	id=$(curl -fsS "$URL/api/2.0/mlflow/experiments/get-by-name?experiment_name=aiops-deleted" | jq -r .experiment.experiment_id)
	curl -fsS -X POST -H 'Content-Type: application/json' -d "{\"experiment_id\":\"$id\"}" \
		"$URL/api/2.0/mlflow/experiments/delete" >/dev/null
	run aiops-mlflow --tracking-uri "$URL" <in.jsonl
	[ "$status" -eq 0 ]
	[[ "$output" == *"experiment 'aiops-deleted' ($id) was deleted: restored it"* ]]
	check "$URL" aiops-deleted >got.json
	jq -e --arg id "$id" '.experiment.id == $id and .experiment.lifecycle_stage == "active"
		and (.runs | length) == 2' got.json
}

@test "server: a dead server leaves a spool; --resume sends it once, nothing lost or repeated" {
	need_mlflow
	dead=$(dead_url)
	sed 's/aiops-test/aiops-resume/g' "$RUN" >in.jsonl
	run aiops-mlflow --tracking-uri "$dead" "${fast[@]}" <in.jsonl
	[ "$status" -eq 1 ]
	spool=.aiops-spool/0123456789abcdef0123456789abcdef.jsonl
	[[ "$output" == *"resend it with: aiops-mlflow --resume $spool --tracking-uri $dead --experiment 'aiops-resume'"* ]]
	# The logged records (groups cut to what a trace needs, incidents to
	# their ground truth), then the trailer that keeps the experiment.
	[ "$(grep -c . "$spool")" -eq "$(($(grep -c . in.jsonl) + 1))" ]
	[ "$(jq -c 'select(.kind == "group")' "$spool")" = '{"kind":"group","id":"G0001","detected":true,"services":[{"service":"db","score":1}]}' ]
	[ "$(tail -n 1 "$spool" | jq -r .kind)" = mlflow_spool ]
	cp "$spool" again.jsonl
	run aiops-mlflow --resume "$spool" --tracking-uri "$URL"
	[ "$status" -eq 0 ]
	[ ! -e "$spool" ]
	# Sending the same spool again completes the same run: no duplicates.
	run aiops-mlflow --resume again.jsonl --tracking-uri "$URL"
	[ "$status" -eq 0 ]
	[[ "$output" == *"resuming run"* ]]
	check "$URL" aiops-resume --traces >got.json
	jq -e '(.runs | length) == 1 and .runs[0].status == "FINISHED"' got.json
	jq -e '.runs[0].metrics | .rca_ac1 == [[0,1]] and .mttd_s == [[0,300]]' got.json
	jq -e '.runs[0].traces | length == 2' got.json
	jq -e '.runs[0].artifacts | length == 7' got.json
}

# ---- the fake server: faults, limits, auth ----

@test "fake: 429 and 503 with Retry-After are retried after the hinted wait" {
	start_fake --fail 'experiments/get-by-name:429:1:1' --fail 'runs/create:503:1:1'
	t0=$(date +%s%N)
	run aiops-mlflow --tracking-uri "$FAKE_URL" <"$RUN"
	t1=$(date +%s%N)
	[ "$status" -eq 0 ]
	[ $(((t1 - t0) / 1000000)) -ge 2000 ]
	[ "$(jq -r 'select(.path|endswith("get-by-name")) | .status' "$FAKE_LOG" | tr '\n' ' ')" = "429 404 " ]
	[ "$(jq -r 'select(.path|endswith("runs/create")) | .status' "$FAKE_LOG" | tr '\n' ' ')" = "503 200 " ]
	[ "$(jq -r 'select(.path|endswith("runs/update")) | .body.status' "$FAKE_LOG")" = FINISHED ]
}

@test "fake: 250 params (and the tracking URI) go in 3 log-batch calls of 100, 100 and 51" {
	start_fake
	jq -c '{kind:"run", run_id:"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", experiment:"chunks",
		config: ([range(250)] | map({key:"p\(.)", value:.}) | from_entries)}' -n >in.jsonl
	run aiops-mlflow --tracking-uri "$FAKE_URL" <in.jsonl
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.path|endswith("log-batch")) | .body.params|length' "$FAKE_LOG" | tr '\n' ' ')" = "100 100 51 " ]
	[ "$(curl -fsS "$FAKE_URL/_state" | jq '[.runs[].data.params[]] | length')" -eq 251 ]
}

@test "fake: 2500 metric points go in batches of at most 1000, every request under 1 MB" {
	start_fake
	{ echo '{"kind":"run","run_id":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","experiment":"big",
		"config":{"x":1},"tags":{}}' | jq -c .
	  jq -nc 'range(2500) | {kind:"score", name:"m\(.)", value:., n:1}'
	  # 100 params of 6000 bytes and 100 tags of 8000: 1.4 MB, more than one request.
	  jq -nc '{kind:"stage", stage:"wide", version:"1", params:([range(100)] | map({key:"k\(.)", value:("v" * 7000)}) | from_entries)}'
	  jq -nc '{kind:"stage_end", stage:"wide", records_in:0}'
	} >in.jsonl
	run aiops-mlflow --tracking-uri "$FAKE_URL" --no-traces <in.jsonl
	[ "$status" -eq 0 ]
	jq -e -s '[.[] | select(.path|endswith("log-batch"))] | all(.bytes < 1000000)' "$FAKE_LOG"
	jq -e -s '[.[] | select(.path|endswith("log-batch")) | .body | (.params|length) + (.tags|length) + (.metrics|length)] | all(. <= 1000)' "$FAKE_LOG"
	[ "$(curl -fsS "$FAKE_URL/_state" | jq '[.runs[].data.metrics[] | select(.key | test("^m[0-9]+$"))] | length')" -eq 2500 ]
	[ "$(curl -fsS "$FAKE_URL/_state" | jq '[.runs[].data.params[]] | map(select(.key|startswith("wide.")) | .value | length) | unique')" = "[
  6000
]" ]
	jq -e -s '[.[] | select(.path|endswith("log-batch")) | .body.params[] | select(.key=="wide.k0") | .value | endswith("...[truncated 7000 bytes]")] | length == 1' "$FAKE_LOG"
}

@test "fake: keys are sanitised to MLflow's characters" {
	start_fake
	echo '{"kind":"run","run_id":"cccccccccccccccccccccccccccccccc","experiment":"keys","config":{"a b":{"c$d":"x","/../e":"y"}}}' >in.jsonl
	run aiops-mlflow --tracking-uri "$FAKE_URL" <in.jsonl
	[ "$status" -eq 0 ]
	[ "$(curl -fsS "$FAKE_URL/_state" | jq -c '[.runs[].data.params[].key] | sort')" = '["a b./__/e","a b.c_d","mlflow.tracking_uri"]' ]
}

@test "fake: assessments: a GET of each matched incident's trace, a POST per assessment it lacks; a resend posts none" {
	# The run ends in failure after its assessments: the spool is kept.
	start_fake --fail 'runs/update:500:-1'
	run aiops-mlflow --tracking-uri "$FAKE_URL" "${fast[@]}" <"$RUN"
	[ "$status" -eq 1 ]
	# INC1 is matched to G0001 (its ground truth, model_ttd_s and rank);
	# INC2 was missed: no trace, nothing to assess.
	tid=$(curl -fsS "$FAKE_URL/_state" | jq -r '.assessments | keys[]')
	[ "$(jq -r 'select(.path | contains("/api/3.0/mlflow/traces/tr-")) | "\(.method) \(.path)"' "$FAKE_LOG")" = \
		"GET /api/3.0/mlflow/traces/$tid
POST /api/3.0/mlflow/traces/$tid/assessments
POST /api/3.0/mlflow/traces/$tid/assessments
POST /api/3.0/mlflow/traces/$tid/assessments" ]
	jq -e -s '[.[] | select(.path | endswith("/assessments")) | .body.assessment] | map({assessment_name, source,
			v: (.expectation.serialized_value.value // .feedback.value), md: .metadata."aiops.incident_id"})
		== [{assessment_name: "ground_truth", source: {source_type: "HUMAN",
			source_id: "d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35"},
			v: "{\"root_cause\":{\"service\":\"db\",\"fault\":\"cpu\"},\"expected_actions\":[\"restart\"]}", md: "INC1"},
		    {assessment_name: "model_ttd_s", source: {source_type: "CODE", source_id: "aiops-metrics"}, v: 42.5, md: "INC1"},
		    {assessment_name: "rank", source: {source_type: "CODE", source_id: "aiops-metrics"}, v: 1, md: "INC1"}]' "$FAKE_LOG"
	curl -fsS -X POST -d '{"fail":[]}' "$FAKE_URL/_control" >/dev/null
	: >"$FAKE_LOG"
	run aiops-mlflow --resume .aiops-spool/0123456789abcdef0123456789abcdef.jsonl --tracking-uri "$FAKE_URL"
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 assessments (3 already there)"* ]]
	[ "$(jq -s '[.[] | select(.method == "POST" and (.path | endswith("/assessments")))] | length' "$FAKE_LOG")" -eq 0 ]
}

@test "fake: the evaluation dataset: search, create linked to the experiment, one upsert of the incidents, the run's input; a resend links and upserts again" {
	start_fake --fail 'runs/update:500:-1'
	run aiops-mlflow --tracking-uri "$FAKE_URL" "${fast[@]}" <"$RUN"
	[ "$status" -eq 1 ]
	ds=$(curl -fsS "$FAKE_URL/_state" | jq -r '.datasets | keys[]')
	[ "$(jq -r 'select((.path | test("datasets")) or ((.path | endswith("log-inputs")) and .body.datasets != null)) | "\(.method) \(.path)"' "$FAKE_LOG")" = \
		"POST /api/3.0/mlflow/datasets/search
POST /api/3.0/mlflow/datasets/create
POST /api/3.0/mlflow/datasets/$ds/records
POST /api/2.0/mlflow/runs/log-inputs" ]
	jq -e -s --arg ds "$ds" 'map(select((.path | test("datasets")) or ((.path | endswith("log-inputs")) and .body.datasets != null)) | .body)
		| .[0] == {"filter_string": "name = '\''aiops-incidents-d4735e3a265e'\''"}
		and (.[1] | .name == "aiops-incidents-d4735e3a265e" and .experiment_ids == ["1"]
			and (.tags | fromjson) == {"aiops.dataset.sha256": "d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35",
						   "aiops.dataset.path": "examples/data"})
		and (.[2].records | fromjson) == [{"inputs": {"incident_id": "INC1"},
			"expectations": {"root_cause": {"service": "db", "fault": "cpu"}, "expected_actions": ["restart"]},
			"source": {"source_type": "HUMAN", "source_data": {"dataset_sha256": "d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35"}}}]
		and (.[3].datasets == [{"tags": [{"key": "mlflow.data.context", "value": "evaluation"}],
			"dataset": {"name": "aiops-incidents-d4735e3a265e", "digest": "d4735e3a265e16eee03f59718b9b5d03",
				    "source_type": "mlflow_evaluation_dataset", "source": "{\"dataset_id\":\"\($ds)\"}"}}])' "$FAKE_LOG"
	curl -fsS -X POST -d '{"fail":[]}' "$FAKE_URL/_control" >/dev/null
	: >"$FAKE_LOG"
	run -0 aiops-mlflow --resume .aiops-spool/0123456789abcdef0123456789abcdef.jsonl --tracking-uri "$FAKE_URL"
	[ "$(jq -r 'select((.path | test("datasets")) or ((.path | endswith("log-inputs")) and .body.datasets != null)) | .path' "$FAKE_LOG" | sed 's|^/api/[0-9.]*/mlflow/||')" = \
		"datasets/search
datasets/$ds/add-experiments
datasets/$ds/records
runs/log-inputs" ]
	[ "$(curl -fsS "$FAKE_URL/_state" | jq -c '[(.datasets[].records | length), (.inputs[] | length)]')" = "[1,1]" ]
}

@test "fake: without incident records, no evaluation dataset: the run's input is the local dataset" {
	start_fake
	grep -v '"kind":"incident"' "$RUN" | aiops-mlflow --tracking-uri "$FAKE_URL" >/dev/null 2>&1
	[ "$(jq -s '[.[] | select(.path | contains("/datasets/"))] | length' "$FAKE_LOG")" -eq 0 ]
	jq -e -s 'map(select(.path | endswith("runs/log-inputs")) | (.body.datasets // [])[].dataset)
		== [{"name": "aiops-incidents-d4735e3a265e", "digest": "d4735e3a265e16eee03f59718b9b5d03",
		     "source_type": "local", "source": "{\"uri\":\"examples/data\"}"}]' "$FAKE_LOG"
}

@test "fake: a server failing mid-run leaves a spool; --resume completes the same run" {
	start_fake --fail 'runs/log-batch:503:-1'
	run aiops-mlflow --tracking-uri "$FAKE_URL" "${fast[@]}" <"$RUN"
	[ "$status" -eq 1 ]
	[[ "$output" == *"POST /api/2.0/mlflow/runs/log-batch: HTTP 503 TEMPORARILY_UNAVAILABLE"* ]]
	spool=.aiops-spool/0123456789abcdef0123456789abcdef.jsonl
	[ -s "$spool" ]
	curl -fsS -X POST -d '{"fail":[]}' "$FAKE_URL/_control" >/dev/null
	run aiops-mlflow --resume "$spool" --tracking-uri "$FAKE_URL"
	[ "$status" -eq 0 ]
	[ "$(jq -s '[.[] | select(.path|endswith("runs/create"))] | length' "$FAKE_LOG")" -eq 1 ]
	st=$(curl -fsS "$FAKE_URL/_state")
	[ "$(jq '.runs | length' <<<"$st")" -eq 1 ]
	[ "$(jq -r '.runs[].info.status' <<<"$st")" = FINISHED ]
	npoints=$(jq '[.runs[].data.metrics[]] | length' <<<"$st")
	[ "$(jq '[.runs[].data.metrics[] | select(.key=="mttd_s")] | length' <<<"$st")" -eq 1 ]
	[ "$(jq '.traces | length' <<<"$st")" -eq 2 ]
	[ "$(jq '[.links[][]] | length' <<<"$st")" -eq 2 ]
	# A second resend adds nothing.
	cp "$RUN" again.jsonl
	run aiops-mlflow --resume again.jsonl --tracking-uri "$FAKE_URL"
	[ "$status" -eq 0 ]
	st=$(curl -fsS "$FAKE_URL/_state")
	[ "$(jq '[.runs[].data.metrics[]] | length' <<<"$st")" -eq "$npoints" ]
	[ "$(jq '.runs | length' <<<"$st")" -eq 1 ]
}

@test "fake: traces carry the experiment header and are linked to the run in calls of at most 100" {
	start_fake
	{ head -n 4 "$RUN"
	  jq -nc 'range(150) | {kind:"llm_call", stage:"rca", group_id:"G\(.)", model:"m", purpose:"rca",
		request_hash:"h\(.)", messages:[{role:"user", content:"q\(.)"}], response:"a", latency_ms:5,
		tokens_in:1, tokens_out:1}'
	} >in.jsonl
	run aiops-mlflow --tracking-uri "$FAKE_URL" <in.jsonl
	[ "$status" -eq 0 ]
	jq -e -s '[.[] | select(.path=="/v1/traces")] | length == 150 and all(.experiment_header == "1")' "$FAKE_LOG"
	[ "$(jq -r 'select(.path|endswith("link-to-run")) | .body.trace_ids|length' "$FAKE_LOG" | tr '\n' ' ')" = "100 50 " ]
}

@test "fake: credentials are sent (Bearer, Basic) and never printed" {
	start_fake --fail 'runs/create:400:1'
	MLFLOW_TRACKING_TOKEN=s3cr3t-token run aiops-mlflow --tracking-uri "$FAKE_URL" "${fast[@]}" <"$RUN"
	[ "$status" -eq 1 ]
	[[ "$output" != *s3cr3t* ]]
	[ "$(jq -r .auth "$FAKE_LOG" | sort -u)" = Bearer ]
	! grep -r s3cr3t .aiops-spool
	: >"$FAKE_LOG"
	MLFLOW_TRACKING_USERNAME=u MLFLOW_TRACKING_PASSWORD=pw-secret MLFLOW_TRACKING_TOKEN=t \
		run aiops-mlflow --tracking-uri "$FAKE_URL" <"$RUN"
	[ "$status" -eq 0 ]
	[[ "$output" != *pw-secret* ]]
	[ "$(jq -r .auth "$FAKE_LOG" | sort -u)" = Basic ]
}

@test "config: mlflow.tracking_uri and MLFLOW_TRACKING_URI choose the server" {
	start_fake
	printf 'mlflow:\n  tracking_uri: %s\n' "$FAKE_URL" >c.yaml
	run aiops-mlflow --config c.yaml <"$RUN"
	[ "$status" -eq 0 ]
	[ "$(jq -s '[.[] | select(.path|endswith("runs/create"))] | length' "$FAKE_LOG")" -eq 1 ]
	MLFLOW_TRACKING_URI=$FAKE_URL run aiops-mlflow <"$RUN"
	[ "$status" -eq 0 ]
	[ "$(jq -s '[.[] | select(.path|endswith("runs/create"))] | length' "$FAKE_LOG")" -eq 2 ]
	# Two runs of the same stream: two runs, each with its own traces.
	[ "$(curl -fsS "$FAKE_URL/_state" | jq '.traces | length')" -eq 4 ]
	[ ! -d mlruns ]
}

@test "offline: artifact records become files of the run, mlflow_run says where it went" {
	d=$BATS_TEST_TMPDIR
	printf '%s\n' '{"kind":"run","run_id":"0123456789abcdef0123456789abcdef","experiment":"arts"}' \
		'{"kind":"artifact","path":"benchmark/table.md","content":"| a |\n"}' \
		'{"kind":"artifact","path":"../escape","content":"x"}' >"$d/in.jsonl"
	run -0 --separate-stderr aiops-mlflow --store "$d/mlruns" --parent-run-id abc "$d/in.jsonl"
	[ "${stderr_lines[0]}" = "aiops-mlflow: $d/in.jsonl:3: artifact needs a relative \"path\" ([A-Za-z0-9_./-], no \"..\") and a string \"content\"" ]
	rec=$(echo "$output" | jq -c 'select(.kind == "mlflow_run")')
	echo "$rec" | jq -e --arg s "$d/mlruns" '.aiops_run_id == "0123456789abcdef0123456789abcdef"
		and .run_id == .aiops_run_id and .status == "FINISHED" and .store == $s'
	exp=$(echo "$rec" | jq -r .experiment_id)
	run=$d/mlruns/$exp/0123456789abcdef0123456789abcdef
	[ "$(cat "$run/artifacts/benchmark/table.md")" = "| a |" ]
	[ "$(cat "$run/tags/mlflow.parentRunId")" = abc ]
	# Logging the same run again completes it: still one run.
	printf '%s\n' '{"kind":"run","run_id":"0123456789abcdef0123456789abcdef","experiment":"arts"}' \
		'{"kind":"artifact","path":"more.txt","content":"y"}' | aiops-mlflow --store "$d/mlruns" >/dev/null 2>&1
	[ "$(ls -d "$d/mlruns/$exp"/*/ | wc -l)" = 1 ]
	[ "$(cat "$run/artifacts/more.txt")" = y ]
}

# The temporary directory aiops-mlflow keeps its tables in, under $PWD/tmp.
tmp_left() {
	ls -A "$PWD/tmp"
}

@test "its temporary files go when the reader goes away (SIGPIPE)" {
	mkdir tmp
	# Enough foreign records to fill the 1 MiB output and pipe buffers.
	jq -c -n 'range(60000) | {kind: "log", ts: "2024-05-01T10:00:00.000Z", service: "s", message: "m \(.)"}' >big.jsonl
	run -0 pipe "TMPDIR='$PWD/tmp' aiops-mlflow big.jsonl 2>err | head -n 1 >/dev/null; echo \${PIPESTATUS[0]}"
	[ "$output" = 141 ]
	[ ! -s err ]
	[ -z "$(tmp_left)" ]
}

@test "its temporary files go when it is stopped by SIGTERM, SIGINT or SIGHUP" {
	mkdir tmp
	mkfifo in
	for sig in TERM INT HUP; do
		# A background job starts with SIGINT ignored, and a runner may ignore
		# SIGHUP (nohup) or SIGTERM: every signal sent here gets its default.
		TMPDIR=$PWD/tmp env --default-signal=INT,TERM,HUP aiops-mlflow <in >out 2>err 3>&- &
		pid=$!
		exec 4>in
		cat "$RUN" >&4
		for _ in $(seq 1 100); do [ -n "$(tmp_left)" ] && break; sleep 0.05; done
		[ -n "$(tmp_left)" ]
		kill -s "$sig" "$pid"
		rc=0
		wait "$pid" || rc=$?
		exec 4>&-
		echo "SIG$sig: exit $rc, left: $(tmp_left)"
		[ "$rc" -eq $((128 + $(kill -l "$sig"))) ]
		[ -z "$(tmp_left)" ]
	done
}

@test "server: a run whose stage failed is FAILED, one stopped by the driver's signal KILLED, each saying why" {
	need_mlflow
	H="$AIOPS_ROOT/tests/fixtures/harness"
	cd "$AIOPS_ROOT" || return 1
	run -1 aiops-harness run --config "$H/fake.yaml" --dataset "$H/data" --quiet --set fake.fail=rca \
		--set mlflow.command= --set mlflow.tracking_uri="$URL" --set mlflow.experiment=harness-failed
	check "$URL" harness-failed >"$BATS_TEST_TMPDIR/got.json"
	jq -e '.runs | length == 1 and .[0].status == "FAILED"
		and (.[0].tags."aiops.failure" | test("^stage rca \\(.*fake-stage rca\\) failed \\(exit 3\\)$"))' \
		"$BATS_TEST_TMPDIR/got.json"
	d=$BATS_TEST_TMPDIR
	stopped_by_term "$d" aiops-harness run --config "$H/fake.yaml" --dataset "$H/data" --quiet \
		--set mlflow.command= --set mlflow.tracking_uri="$URL" --set mlflow.experiment=harness-killed
	check "$URL" harness-killed >"$d/got.json"
	jq -e '.runs | length == 1 and .[0].status == "KILLED"
		and .[0].tags."aiops.failure" == "aiops-harness stopped by SIGTERM"' "$d/got.json"
}

@test "server: the resend hint carries --experiment, and following it lands the run there" {
	need_mlflow
	dead=$(dead_url)
	sed 's/0123456789abcdef0123456789abcdef/fedcba9876543210fedcba9876543210/' "$RUN" >in.jsonl
	run aiops-mlflow --tracking-uri "$dead" "${fast[@]}" --experiment hint-x <in.jsonl
	[ "$status" -eq 1 ]
	hint=$(grep -o "resend it with: .*" <<<"$output")
	[[ "$hint" == *" --experiment 'hint-x'" ]]
	cmd=${hint#resend it with: }
	cmd=${cmd/--tracking-uri $dead/--tracking-uri $URL}
	run -0 bash -c "$cmd"
	check "$URL" hint-x >got.json
	jq -e '.runs | length == 1 and .[0].status == "FINISHED"' got.json
}

@test "server: the spool keeps the experiment; --resume without --experiment lands the run there" {
	need_mlflow
	dead=$(dead_url)
	sed -e 's/0123456789abcdef0123456789abcdef/5b00150b00150b00150b00150b00150b/' \
		-e 's/aiops-test/spool-rec/g' "$RUN" >in.jsonl
	run aiops-mlflow --tracking-uri "$dead" "${fast[@]}" --experiment spool-x <in.jsonl
	[ "$status" -eq 1 ]
	spool=.aiops-spool/5b00150b00150b00150b00150b00150b.jsonl
	# Its last line keeps the experiment (and never the tracking URI).
	trailer=$(tail -n 1 "$spool")
	run aiops-mlflow --resume "$spool" --tracking-uri "$URL"
	[ "$status" -eq 0 ]
	# Nothing of the trailer goes downstream.
	[ "$(grep '^{' <<<"$output" | jq -s '[.[] | select(.kind == "mlflow_spool")] | length')" -eq 0 ]
	[ "$(grep '^{' <<<"$output" | jq -r 'select(.kind == "mlflow_run") | .experiment_id')" != null ]
	check "$URL" spool-x >got.json
	jq -e '.runs | length == 1 and .[0].status == "FINISHED"' got.json
	check "$URL" spool-rec >rec.json
	jq -e '.runs | length == 0' rec.json
	[ "$trailer" = '{"kind":"mlflow_spool","experiment":"spool-x"}' ]
}

@test "--resume with an --experiment other than the spool's is a usage error, nothing sent" {
	dead=$(dead_url)
	run aiops-mlflow --tracking-uri "$dead" "${fast[@]}" --experiment spool-x <"$RUN"
	[ "$status" -eq 1 ]
	spool=.aiops-spool/0123456789abcdef0123456789abcdef.jsonl
	start_fake
	run --separate-stderr aiops-mlflow --resume "$spool" --tracking-uri "$FAKE_URL" --experiment other
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == *"--experiment 'other' disagrees with the experiment 'spool-x' kept in $spool"* ]]
	[ ! -s "$FAKE_LOG" ]
	[ -s "$spool" ]
	# The same experiment, said again, is fine.
	run aiops-mlflow --resume "$spool" --tracking-uri "$FAKE_URL" --experiment spool-x
	[ "$status" -eq 0 ]
	[ "$(jq -r '.experiments[].name' <<<"$(curl -fsS "$FAKE_URL/_state")")" = spool-x ]
}

# ---- issue 17: credentials in a tracking URI never appear (finding 6) ----

@test "fake: a password in the tracking URI (flag, config, MLFLOW_TRACKING_URI) appears nowhere" {
	start_fake
	cred=${FAKE_URL/http:\/\//http://u1:PW-CANARY-17@}
	run aiops-mlflow --tracking-uri "$cred" <"$RUN"
	[ "$status" -eq 0 ]
	[[ "$output" != *PW-CANARY* ]]
	[ "$(grep '^{' <<<"$output" | jq -r 'select(.kind == "mlflow_run") | .tracking_uri')" = "${FAKE_URL/http:\/\//http://u1:***@}" ]
	[ "$(grep '^{' <<<"$output" | jq -r 'select(.kind == "stage_end" and .stage == "mlflow") | .redacted')" -ge 1 ]
	printf 'mlflow:\n  tracking_uri: %s\n' "$cred" >c.yaml
	run aiops-mlflow --config c.yaml <"$RUN"
	[ "$status" -eq 0 ]
	[[ "$output" != *PW-CANARY* ]]
	MLFLOW_TRACKING_URI=$cred run aiops-mlflow <"$RUN"
	[ "$status" -eq 0 ]
	[[ "$output" != *PW-CANARY* ]]
	[ "$(jq -s '[.[] | select(.path|endswith("runs/create"))] | length' "$FAKE_LOG")" -eq 3 ]
	! grep -r PW-CANARY . --exclude=fake.log --exclude=c.yaml
}

@test "a dead server's resend hint and spool carry no password from the tracking URI" {
	dead=$(dead_url)
	cred=${dead/http:\/\//http://u1:PW-CANARY-17@}
	run aiops-mlflow --tracking-uri "$cred" "${fast[@]}" <"$RUN"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--tracking-uri ${dead/http:\/\//http://u1:***@}"* ]]
	[[ "$output" != *PW-CANARY* ]]
	! grep -r PW-CANARY .aiops-spool
}

# ---- issue 19: what a reader of the UI sees ----

# batch_items KIND: every item of that kind (params, tags, metrics) the fake
# server received in log-batch calls, as one JSON array.
# The run's own items of its log-batch bodies (not the points logged again
# for its LoggedModel, which carry a model_id).
batch_items() {
	jq -s -c --arg k "$1" '[.[] | select(.path | endswith("runs/log-batch")) | .body[$k] // [] | .[]
		| select(has("model_id") | not)]' "$FAKE_LOG"
}

@test "fake: the run name says provider and model (and the driver's label); its times are the pipeline's" {
	start_fake
	run -0 --separate-stderr aiops-mlflow --tracking-uri "$FAKE_URL" <"$RUN"
	jq -e -s '[.[] | select(.path | endswith("runs/create")) | .body]
		| length == 1 and .[0].run_name == "replay-m1-01234567" and .[0].start_time == 1714557600000' "$FAKE_LOG"
	# The end: started_at plus the longest stage (rca, 200 ms), not the upload's time.
	[ "$(jq -r 'select(.path | endswith("runs/update")) | .body.end_time' "$FAKE_LOG")" = 1714557600200 ]
	: >"$FAKE_LOG"
	run -0 --separate-stderr aiops-mlflow --tracking-uri "$FAKE_URL" --run-label basic <"$RUN"
	[ "$(jq -r 'select(.path | endswith("runs/create")) | .body.run_name' "$FAKE_LOG")" = basic-replay-m1-01234567 ]
	# Without a provider: baseline; an RCA command is named as such.
	aiops-mlflow --store st --set experiment.name=x </dev/null >/dev/null 2>&1
	[ "$(sed -n 's/^run_name: //p' st/*/*/meta.yaml)" = "'baseline-$(ls st/*/ | grep -E '^[0-9a-f]{32}$' | cut -c1-8)'" ]
}

@test "fake: per-incident scores are the table, not metric steps; no NAME.n unless --score-counts" {
	start_fake
	run -0 --separate-stderr aiops-mlflow --tracking-uri "$FAKE_URL" <"$RUN"
	m=$(batch_items metrics)
	jq -e 'all(.step == 0) and (map(.key) | index("rank") == null and index("model_ttd_s") == null
		and index("incident/model_ttd_s") == null and all(endswith(".n") | not))
		and (map(select(.key == "mttd_s")) | length == 1)' <<<"$m"
	[ "$(jq -r 'select(.path | endswith("eval/incidents.json")) | .method' "$FAKE_LOG")" = PUT ]
	: >"$FAKE_LOG"
	run -0 --separate-stderr aiops-mlflow --tracking-uri "$FAKE_URL" --score-counts <"$RUN"
	jq -e 'map(select(.key == "mttd_s.n")) | .[0].value == 1' <<<"$(batch_items metrics)"
}

@test "fake: the param mlflow.tracking_uri is the URI used, its password redacted; offline the store's file URI" {
	start_fake
	cred=${FAKE_URL/http:\/\//http://u1:PW-CANARY-19@}
	run -0 --separate-stderr aiops-mlflow --tracking-uri "$cred" <"$RUN"
	[ "$(batch_items params | jq -r '.[] | select(.key == "mlflow.tracking_uri") | .value')" = "${FAKE_URL/http:\/\//http://u1:***@}" ]
	! grep -q PW-CANARY "$FAKE_LOG"
	aiops-mlflow --store st <"$RUN" >/dev/null 2>&1
	[ "$(cat st/*/*/params/mlflow.tracking_uri)" = "file://$PWD/st" ]
}

@test "fake: --status RUNNING leaves a stage-less run running; a resend ends it; the other experiment is a tag" {
	start_fake
	printf '%s\n' '{"kind":"run","run_id":"fedcba9876543210fedcba9876543210","experiment":"own","config":{"experiment":{"name":"own"}},"started_at":"2024-05-01T10:00:00.000Z"}' >p.jsonl
	run -0 --separate-stderr aiops-mlflow --tracking-uri "$FAKE_URL" --experiment bench --status RUNNING <p.jsonl
	[ "$(jq -r 'select(.kind == "mlflow_run") | .status' <<<"$output")" = RUNNING ]
	[ "$(jq -s '[.[] | select(.path | endswith("runs/update"))] | length' "$FAKE_LOG")" -eq 0 ]
	jq -e 'map(select(.key == "aiops.config_experiment")) | .[0].value == "own"' <<<"$(batch_items tags)"
	# A stream without stages has no pipeline counters.
	jq -e 'map(.key) | index("aiops.rejects") == null and index("aiops.llm_calls") == null' <<<"$(batch_items metrics)"
	echo '{"kind":"score","name":"basic.ac1","value":0.5,"n":4}' >>p.jsonl
	run -0 --separate-stderr aiops-mlflow --tracking-uri "$FAKE_URL" --experiment bench --resume p.jsonl --status FAILED
	[ "$(jq -s '[.[] | select(.path | endswith("runs/create"))] | length' "$FAKE_LOG")" -eq 1 ]
	[ "$(jq -r 'select(.path | endswith("runs/update")) | .body.status' "$FAKE_LOG")" = FAILED ]
	jq -e 'map(select(.key == "basic.ac1")) | .[0].value == 0.5' <<<"$(batch_items metrics)"
	# The pipeline's own run keeps its counters.
	: >"$FAKE_LOG"
	aiops-mlflow --tracking-uri "$FAKE_URL" <"$RUN" >/dev/null 2>&1
	jq -e 'map(select(.key == "aiops.llm_calls")) | .[0].value == 2' <<<"$(batch_items metrics)"
}

@test "fake: a trace's span starts at its llm_call's started_at (the run's start only without one)" {
	start_fake
	sed 's/"request_hash":"h1",/"request_hash":"h1","started_at":"2024-05-01T10:00:01.250Z",/' "$RUN" >in.jsonl
	run -0 --separate-stderr aiops-mlflow --tracking-uri "$FAKE_URL" <in.jsonl
	[ "$(jq -r 'select(.path == "/v1/traces") | .body.resourceSpans[0].scopeSpans[0].spans[]
		| select(.name == "rca.rca") | "\(.startTimeUnixNano) \(.endTimeUnixNano)"' "$FAKE_LOG" | tr '\n' ' ')" = \
		"1714557601250000000 1714557601370000000 1714557600000000000 1714557600050000000 " ]
}

# rest PATH [BODY]: a GET (or a POST of BODY) to the real server's REST API.
rest() {
	if [ $# -gt 1 ]; then
		curl -fsS -X POST -H 'Content-Type: application/json' -d "$2" "$URL/api/2.0/mlflow/$1"
	else
		curl -fsS "$URL/api/2.0/mlflow/$1"
	fi
}

@test "server: a benchmark's parent and children in one experiment; the parent's status and metrics, names and times (REST)" {
	need_mlflow
	need_stages
	d=$BATS_TEST_TMPDIR
	for e in a:bench19 other:other19; do
		sed -e "s/name: aiops-basic/name: ${e#*:}/" -e "s#\\.\\./#$AIOPS_ROOT/examples/#" \
			"$AIOPS_ROOT/examples/configs/basic.yaml" >"$d/${e%%:*}.yaml"
	done
	cd "$AIOPS_ROOT" || return 1
	run -0 --separate-stderr aiops-harness benchmark --config "$d/a.yaml" --config "$d/other.yaml" \
		--dataset examples/data --format json --quiet --keep "$d/k" --set mlflow.tracking_uri="$URL"
	table=$output
	exp=$(rest "experiments/get-by-name?experiment_name=bench19" | jq -r .experiment.experiment_id)
	! rest "experiments/get-by-name?experiment_name=other19" 2>/dev/null
	runs=$(rest runs/search "{\"experiment_ids\":[\"$exp\"]}")
	[ "$(jq '.runs | length' <<<"$runs")" -eq 3 ]
	tag() { jq -r --arg k "$2" '.data.tags // [] | map(select(.key == $k)) | .[0].value // empty' <<<"$1"; }
	metric() { jq -r --arg k "$2" '.data.metrics // [] | map(select(.key == $k)) | .[0].value // empty' <<<"$1"; }
	parent=$(jq -c '.runs[] | select((.data.tags // []) | map(.key) | index("mlflow.parentRunId") | not)' <<<"$runs")
	pid=$(jq -r .info.run_id <<<"$parent")
	jq -e '.info.status == "FINISHED" and .info.end_time >= .info.start_time
		and (.info.run_name | startswith("benchmark-"))' <<<"$parent"
	# The table's numbers per config, no pipeline counters.
	[ "$(metric "$parent" other.ac1)" = "$(jq -r '.[1].ac1.m' <<<"$table")" ]
	[ -n "$(metric "$parent" a.det_f1)" ]
	[ -z "$(metric "$parent" aiops.rejects)" ] && [ -z "$(metric "$parent" aiops.llm_calls)" ]
	for i in 1 2; do
		f=$d/k/0$i-1/final.jsonl
		id=$(jq -r 'select(.kind == "mlflow_run") | .run_id' "$f")
		child=$(rest "runs/get?run_id=$id" | jq -c .run)
		[ "$(tag "$child" mlflow.parentRunId)" = "$pid" ]
		[ "$(jq -r .info.experiment_id <<<"$child")" = "$exp" ]
		aid=$(jq -r 'select(.kind == "run") | .run_id' "$f")
		label=$([ $i = 1 ] && echo a || echo other)
		[ "$(jq -r .info.run_name <<<"$child")" = "$label-baseline-baseline-${aid:0:8}" ]
		# The pipeline's times: started_at, plus the longest stage.
		start=$(jq -r 'select(.kind == "run") | .started_at | capture("^(?<s>[^.]*)\\.(?<f>[0-9]{3})")
			| ((.s + "Z") | fromdate) * 1000 + (.f | tonumber)' "$f")
		wall=$(jq -s '[.[] | select(.kind == "stage_end" and .stage != "mlflow") | .wall_ms] | max' "$f")
		[ "$(jq -r .info.start_time <<<"$child")" = "$start" ]
		[ "$(jq -r .info.end_time <<<"$child")" = "$((start + wall))" ]
		[ "$(jq -r '.data.params | map(select(.key == "mlflow.tracking_uri")) | .[0].value' <<<"$child")" = "$URL" ]
	done
	[ "$(tag "$(rest "runs/get?run_id=$(jq -r 'select(.kind == "mlflow_run") | .run_id' "$d/k/02-1/final.jsonl")" | jq -c .run)" aiops.config_experiment)" = other19 ]
	[ -z "$(tag "$(rest "runs/get?run_id=$(jq -r 'select(.kind == "mlflow_run") | .run_id' "$d/k/01-1/final.jsonl")" | jq -c .run)" aiops.config_experiment)" ]
}

@test "server: a benchmark stopped by a signal ends its parent run KILLED" {
	need_mlflow
	H="$AIOPS_ROOT/tests/fixtures/harness"
	cd "$AIOPS_ROOT" || return 1
	d=$BATS_TEST_TMPDIR
	stopped_by_term "$d" aiops-harness benchmark --config "$H/fake.yaml" --dataset "$H/data" --quiet \
		--format tsv --set mlflow.command= --set mlflow.tracking_uri="$URL" --set experiment.name=bench-killed
	check "$URL" bench-killed >"$d/got.json"
	jq -e '[.runs[] | select(.tags."mlflow.parentRunId" == null)] | length == 1 and .[0].status == "KILLED"
		and .[0].tags."aiops.failure" == "aiops-harness stopped by SIGTERM"' "$d/got.json"
}

@test "fake: a call whose answer was rejected is a span with status ERROR, like a failed call" {
	start_fake
	sed 's/"request_hash":"h1",/"request_hash":"h1","rejected":"root_cause.service: not a service of the group",/' "$RUN" >in.jsonl
	run -0 --separate-stderr aiops-mlflow --tracking-uri "$FAKE_URL" <in.jsonl
	[ "$(jq -c 'select(.path == "/v1/traces") | .body.resourceSpans[0].scopeSpans[0].spans[]
		| select(.name == "rca.rca") | .status' "$FAKE_LOG" | tr '\n' ' ')" = \
		'{"code":2,"message":"root_cause.service: not a service of the group"} {"code":2,"message":"HTTP 503"} ' ]
}

# ---- one trace per incident group ----

GFIX=$BATS_TEST_DIRNAME/fixtures/mlflow/groups.jsonl

# traces: each OTLP request the fake got, as {root, spans: [{name, parent
# (name), type, status, message, s, e (ms from the run's start)}]}.
traces() {
	jq -c 'select(.path == "/v1/traces") | [.body.resourceSpans[].scopeSpans[].spans[]] as $sp
		| ($sp | map({key: .spanId, value: .name}) | from_entries) as $names
		| {ids: ($sp | map(.traceId) | unique), root: ($sp | map(select(.parentSpanId == null)) | .[0].name),
		   spans: ($sp | map({name, parent: $names[.parentSpanId // ""],
			type: (.attributes[] | select(.key == "mlflow.spanType") | .value.stringValue),
			status: .status.code, message: .status.message,
			s: ((.startTimeUnixNano | .[:-6] | tonumber) - 1714557600000),
			e: ((.endTimeUnixNano | .[:-6] | tonumber) - 1714557600000)}))}' "$FAKE_LOG"
}

@test "fake: one trace per incident group: a root, a span per stage, the model calls under their stage" {
	start_fake
	run -0 --separate-stderr aiops-mlflow --tracking-uri "$FAKE_URL" <"$GFIX"
	[[ "$stderr" == *", 3 traces"* ]]
	traces >t.jsonl
	# G1, G2, then the call of no group; one trace id per request.
	[ "$(jq -r '"\(.root) \(.ids | length)"' t.jsonl | tr '\n' ' ')" = "incident G1 1 incident G2 1 rca.summary 1 " ]
	jq -e -s '.[0].spans | map("\(.parent) > \(.name) \(.type)") | sort == [
		"correlate > correlate.triage CHAT_MODEL", "incident G1 > correlate CHAIN",
		"incident G1 > exec s1 TOOL", "incident G1 > exec s2 TOOL", "incident G1 > rca CHAIN",
		"incident G1 > remediate CHAIN", "null > incident G1 CHAIN", "rca > rca.rca CHAT_MODEL",
		"rca > rca.rca.repair CHAT_MODEL", "remediate > remediate.remediation CHAT_MODEL"]' t.jsonl
	# The rejected answer is an error; the repaired RCA and so the incident are not.
	jq -e -s '.[0].spans | map({key: .name, value: [.status, .message]}) | from_entries
		| ."rca.rca" == [2, "candidates[0].confidence: 2 is above 1"] and ."rca.rca.repair" == [1, null]
		and .rca == [1, null] and ."incident G1" == [1, null] and ."exec s2" == [1, null]' t.jsonl
	# A failed RCA and a failed execution: their spans and the incident are errors.
	jq -e -s '.[1].spans | map({key: .name, value: [.status, .message]}) | from_entries
		| . == {"incident G2": [2, "no answer"], "correlate": [1, null], "rca": [2, "no answer"],
			"rca.rca": [2, "HTTP 503"], "exec s1": [2, "exit status 1"]}' t.jsonl
	jq -e -s '.[2].spans | length == 1 and .[0].type == "CHAT_MODEL"' t.jsonl
}

@test "fake: group spans carry the pipeline's times; the root covers its stages" {
	start_fake
	run -0 --separate-stderr aiops-mlflow --tracking-uri "$FAKE_URL" <"$GFIX"
	traces >t.jsonl
	# ms after the run's start: a call from its started_at; rca and remediate
	# the latency before decided_at; exec from started_at to ended_at, else at
	# decided_at; correlate until the next stage took the group.
	[ "$(jq -r -s '.[0].spans | map("\(.name)=\(.s)-\(.e)") | join(" ")' t.jsonl)" = \
		"incident G1=100-2500 correlate=100-1000 rca=1000-1500 remediate=1900-2000 exec s1=2100-2400 exec s2=2500-2500 correlate.triage=100-200 rca.rca=1000-1200 rca.rca.repair=1300-1450 remediate.remediation=1900-1980" ]
	[ "$(jq -r -s '.[1].spans | map("\(.name)=\(.s)-\(.e)") | join(" ")' t.jsonl)" = \
		"incident G2=2700-3200 correlate=2700-2700 rca=2700-3000 exec s1=3100-3200 rca.rca=2700-3000" ]
	# A group whose first signal came during the run (a live stream) is
	# being detected from then on.
	: >"$FAKE_LOG"
	jq -c 'if .id == "G2" then .start_ts = "2024-05-01T10:00:02.000Z" else . end' "$GFIX" >live.jsonl
	run -0 --separate-stderr aiops-mlflow --tracking-uri "$FAKE_URL" <live.jsonl
	traces >t.jsonl
	[ "$(jq -r -s '.[1].spans | map("\(.name)=\(.s)-\(.e)") | join(" ")' t.jsonl)" = \
		"incident G2=2000-3200 correlate=2000-2700 rca=2700-3000 exec s1=3100-3200 rca.rca=2700-3000" ]
}

@test "fake: a group's root span names the incident; inputs and outputs are bounded summaries" {
	start_fake
	run -0 --separate-stderr aiops-mlflow --tracking-uri "$FAKE_URL" <"$GFIX"
	! grep -q EVIDENCE-ONLY "$FAKE_LOG"
	jq -c 'select(.path == "/v1/traces") | .body.resourceSpans[0].scopeSpans[0].spans[]
		| {name, a: (.attributes | map({key, value: .value}) | from_entries)}' "$FAKE_LOG" >spans.jsonl
	# OTLP AnyValues as plain JSON.
	plain='def p: if type != "object" then . elif has("stringValue") then .stringValue
		elif has("intValue") then (.intValue | tonumber) elif has("doubleValue") then .doubleValue
		elif has("boolValue") then .boolValue elif has("arrayValue") then [.arrayValue.values[] | p]
		elif has("kvlistValue") then (.kvlistValue.values | map({key, value: (.value | p)}) | from_entries)
		else null end;'
	jq -e -s "$plain"'map(select(.name == "incident G1"))[0] | .a | map_values(p)
		| ."aiops.group_id" == "G1" and ."aiops.dataset.sha256" == ("5e1f" * 16)
		and ."aiops.detection.start_ts" == "2024-04-30T09:50:00.000Z"
		and ."aiops.detection.detected_ts" == "2024-04-30T09:51:00.000Z"
		and ."aiops.detection.end_ts" == "2024-04-30T09:55:00.000Z" and ."aiops.detected" == true
		and ."aiops.services" == ["svc00","svc01","svc02","svc03","svc04","svc05","svc06","svc07","svc08","svc09"]
		and ."mlflow.spanInputs".group_id == "G1"
		and ."mlflow.spanOutputs" == {"root_cause": {"service": "svc00", "fault": "cpu", "confidence": 0.8},
			"steps": [{"action": "scale_out", "target": "svc00", "params": {"replicas": 2}},
				  {"action": "restart", "target": "svc00", "params": {}}],
			"decisions": [{"step_id": "s1", "action": "scale_out", "target": "svc00", "decision": "executed"},
				      {"step_id": "s2", "action": "restart", "target": "svc00", "decision": "refused"}]}' spans.jsonl
	jq -e -s "$plain"'map(select(.name == "rca"))[0] | .a."mlflow.spanOutputs" | p | .candidates[0].reason
		| length == 500 and endswith("x [cut: 600 bytes]")' spans.jsonl
	jq -e -s "$plain"'map(select(.name == "correlate"))[0] | .a."mlflow.spanOutputs" | p | .services | length == 10' spans.jsonl
	jq -e -s "$plain"'map(select(.name == "remediate.remediation"))[0] | .a | map_values(p)
		| ."mlflow.chat.tokenUsage" == {"input_tokens": 30, "output_tokens": 9, "total_tokens": 39}
		and ."mlflow.llm.model" == "m1" and ."aiops.group_id" == "G1"' spans.jsonl
}

@test "fake: a resend of the spool sends no group trace twice (trace ids from the run and the group)" {
	dead=$(dead_url)
	run -1 aiops-mlflow --tracking-uri "$dead" "${fast[@]}" <"$GFIX"
	spool=.aiops-spool/fedcba9876543210fedcba9876543210.jsonl
	# The spool keeps the groups' few fields, never their evidence: only its
	# digest (the evaluation dataset's input).
	! grep -q EVIDENCE-ONLY "$spool"
	[ "$(jq -c 'select(.kind == "group") | keys' "$spool" | tr '\n' ' ')" = \
		'["anomaly_count","decision_latency_ms","detected","detected_ts","end_ts","evidence_sha256","id","kind","method","score","services","signal_count","start_ts"] ["detected","detected_ts","end_ts","evidence_sha256","id","kind","method","services","signal_count","start_ts"] ' ]
	cp "$spool" again.jsonl
	start_fake
	run -0 aiops-mlflow --resume "$spool" --tracking-uri "$FAKE_URL"
	first=$(traces | jq -s -c 'map({root, ids})')
	[ "$(jq length <<<"$first")" -eq 3 ]
	: >"$FAKE_LOG"
	run -0 aiops-mlflow --resume again.jsonl --tracking-uri "$FAKE_URL"
	[[ "$output" == *"resuming run"*", 0 traces"* ]]
	[ "$(jq -s '[.[] | select(.path == "/v1/traces")] | length' "$FAKE_LOG")" -eq 0 ]
	[ "$(jq -s -c '[.[] | select(.path | endswith("link-to-run")) | .body.trace_ids[]] | sort' "$FAKE_LOG")" = \
		"$(jq -c 'map(.ids[0] | "tr-" + .) | sort' <<<"$first")" ]
}

@test "fake: a baseline run (no model) has a trace per group with its stages, and no model calls" {
	need_stages
	start_fake
	d=$BATS_TEST_TMPDIR
	run -0 --separate-stderr aiops-harness run --config "$AIOPS_ROOT/examples/configs/basic.yaml" \
		--dataset "$AIOPS_ROOT/examples/data" --quiet --keep "$d/k" --set mlflow.tracking_uri="$FAKE_URL"
	groups=$(jq -s -c '[.[] | select(.kind == "group") | "incident " + .id]' "$d/k/final.jsonl")
	[ "$(jq length <<<"$groups")" -gt 0 ]
	traces >t.jsonl
	[ "$(jq -s -c 'map(.root)' t.jsonl)" = "$groups" ]
	jq -e -s 'all(.[]; (.ids | length) == 1 and ([.spans[] | select(.parent == null)] | length) == 1
		and (.spans | map(.name) | index("correlate") and index("rca") and index("remediate"))
		and any(.spans[]; .name | startswith("exec "))
		and all(.spans[]; .type != "CHAT_MODEL" and .s <= .e))' t.jsonl
	[ "$(jq -s '[.[] | select(.path | endswith("link-to-run")) | .body.trace_ids[]] | length' "$FAKE_LOG")" -eq "$(jq length <<<"$groups")" ]
}

# baseline_run EXPERIMENT: the example run logged to the server, kept in
# $d/k; sets d and id (the MLflow run id).
baseline_run() {
	d=$BATS_TEST_TMPDIR
	run -0 --separate-stderr aiops-harness run --config "$AIOPS_ROOT/examples/configs/basic.yaml" \
		--dataset "$AIOPS_ROOT/examples/data" --quiet --keep "$d/k" \
		--set mlflow.tracking_uri="$URL" --set experiment.name="$1"
	id=$(jq -r 'select(.kind == "mlflow_run") | .run_id' "$d/k/final.jsonl")
}

@test "server: a baseline run's incident traces, read back through MLflow's REST API" {
	need_mlflow
	need_stages
	baseline_run traces19
	"$SERVERS/mlflow_traces.sh" "$URL" "$id" >t.jsonl
	[ "$(jq -s -c 'map(.name)' t.jsonl)" = "$(jq -s -c '[.[] | select(.kind == "group") | "incident " + .id] | sort' "$d/k/final.jsonl")" ]
	# Each: a root with the group id, correlate, rca, remediate and an exec
	# span per step under it, all OK and inside the root's time.
	jq -e -s 'all(.[]; .state == "OK" and (.spans[0] | .parent == null and .type == "CHAIN"
			and .group_id == (.name | ltrimstr("incident ")))
		and (.spans[0] as $r | all(.spans[1:][]; .parent == $r.name and .status == "OK"
			and .start_ms >= $r.start_ms and .end_ms <= $r.end_ms))
		and ([.spans[1:][] | .name | sub(" .*"; "")] | unique) == ["correlate", "exec", "rca", "remediate"])' t.jsonl
}

# expected_assessments FINAL: per matched incident, what its trace should
# carry, from the stream aiops-mlflow read (incident and score records):
# {name: "incident G", assessments: [{name, type, source_type, source_id,
# value, incident_id}]} with the assessments in (type, name) order, the traces by name.
expected_assessments() {
	jq -s -c '
		(map(select(.kind == "run"))[0].dataset.sha256) as $ds
		| (map(select(.kind == "incident")) | map({key: .id, value: .}) | from_entries) as $inc
		| map(select(.kind == "score" and .incident_id != null)) as $sc
		| [$sc[] | select(.name == "matched" and .group_id != null)] | map(. as $m
			| {name: "incident \($m.group_id)", assessments:
				([{name: "ground_truth", type: "expectation", source_type: "HUMAN", source_id: $ds,
				   value: {root_cause: $inc[$m.incident_id].root_cause,
					   expected_actions: $inc[$m.incident_id].expected_actions},
				   incident_id: $m.incident_id}]
				 + [$sc[] | select(.incident_id == $m.incident_id)
					| {name, type: "feedback", source_type: "CODE", source_id: "aiops-metrics",
					   value: (if .unit == "bool" and .value != null then .value == 1 else .value end),
					   incident_id}]) | sort_by(.type, .name)})
		| sort_by(.name) | .[]' "$1"
}

@test "server: each incident's trace carries its ground truth as one HUMAN expectation and aiops-metrics' scores as CODE feedback (REST)" {
	need_mlflow
	need_stages
	baseline_run assess19
	"$SERVERS/mlflow_assessments.sh" "$URL" "$id" >a.jsonl
	expected_assessments "$d/k/final.jsonl" >want.jsonl
	[ "$(grep -c . want.jsonl)" -gt 0 ]
	# Several assessments can share a creation millisecond: compare them in
	# (type, name) order, not the order the server lists them in.
	jq -c '{name, assessments: ([.assessments[] | {name, type, source_type, source_id, value, incident_id}]
		| sort_by(.type, .name))}' a.jsonl >got.jsonl
	diff want.jsonl got.jsonl
	# Each assessment names the run and the group of its trace; no error.
	jq -e -s --arg r "$(jq -r 'select(.kind == "run") | .run_id' "$d/k/final.jsonl")" \
		'all(.[]; .name as $n | all(.assessments[]; .run_id == $r and "incident \(.group_id)" == $n
			and .error_code == null))' a.jsonl
}

@test "server: a resend adds no assessment; a failed stage or a missing score is an error, never a value" {
	need_mlflow
	need_stages
	d=$BATS_TEST_TMPDIR
	aiops-harness run --config "$AIOPS_ROOT/examples/configs/basic.yaml" --dataset "$AIOPS_ROOT/examples/data" \
		--quiet --keep "$d/k" >/dev/null 2>&1
	# G0002's rca answer failed (and so its remediation); the remediate
	# stage failed for the run; INC-003's time to detect has no value.
	# Groups keep their bytes (their evidence digest is the evaluation
	# dataset record's input).
	jq -c 'if .kind == "run" then .run_id = "a55e55a55e55a55e55a55e55a55e55a5"
		elif .kind == "rca" and .group_id == "G0002" then .error = "HTTP 503"
		elif .kind == "remediation" and .group_id == "G0002" then .error = "rca failed: HTTP 503"
		elif .kind == "stage_end" and .stage == "remediate" then .failed = true | .error = "exit 1"
		elif .kind == "score" and .incident_id == "INC-003" and .name == "model_ttd_s" then .value = null
		else . end' "$d/k/05-metrics.jsonl" | paste -d '\t' - "$d/k/05-metrics.jsonl" |
		awk -F '\t' 'index($2, "\"kind\":\"group\"") { print $2; next } { print $1 }' >in.jsonl
	run aiops-mlflow --tracking-uri "$(dead_url)" "${fast[@]}" --experiment assess-resend <in.jsonl
	[ "$status" -eq 1 ]
	spool=.aiops-spool/a55e55a55e55a55e55a55e55a55e55a5.jsonl
	# The spool keeps each incident's ground truth.
	[ "$(jq -c 'select(.kind == "incident")' "$spool" | grep -c .)" -eq "$(jq -c 'select(.kind == "incident")' in.jsonl | grep -c .)" ]
	cp "$spool" again.jsonl
	run -0 aiops-mlflow --resume "$spool" --tracking-uri "$URL"
	n=$(expected_assessments in.jsonl | jq -s '[.[].assessments[]] | length')
	[[ "$output" == *"traces, $n assessments (0 already there)"* ]]
	run -0 aiops-mlflow --resume again.jsonl --tracking-uri "$URL"
	[[ "$output" == *"resuming run"*"traces, 0 assessments ($n already there)"* ]]
	id=$(curl -fsS "$URL/api/2.0/mlflow/experiments/get-by-name?experiment_name=assess-resend" | jq -r .experiment.experiment_id)
	rid=$(curl -fsS -X POST -H 'Content-Type: application/json' -d "{\"experiment_ids\":[\"$id\"]}" \
		"$URL/api/2.0/mlflow/runs/search" | jq -r '.runs[0].info.run_id')
	"$SERVERS/mlflow_assessments.sh" "$URL" "$rid" >a.jsonl
	# Exactly one of each per trace, after two sends.
	jq -e -s 'length > 0 and all(.[]; (.assessments | map(.name) | length == (unique | length))
		and (.assessments | map(select(.type == "expectation")) | length) == 1)' a.jsonl
	[ "$(jq -s '[.[].assessments[]] | length' a.jsonl)" -eq "$n" ]
	# Honest marks: STAGE_FAILED for the scores of what failed, NO_VALUE for
	# a null; the rest keep their values.
	jq -e -s '[.[].assessments[] | select(.name == "remediation_match")]
		| length > 0 and all(.[]; .value == null and .error_code == "STAGE_FAILED")' a.jsonl
	jq -e -s '[.[] | select(.name == "incident G0002") | .assessments[] | select(.name == "rca_rank")]
		| length == 1 and .[0].value == null and .[0].error_code == "STAGE_FAILED"
		and (.[0].rationale | test("^aiops-metrics wrote 1, not trusted"))' a.jsonl
	jq -e -s '[.[].assessments[] | select(.name == "rca_rank" and .group_id != "G0002")]
		| length > 0 and all(.[]; .error_code == null and (.value | type) == "number")' a.jsonl
	jq -e -s '[.[].assessments[] | select(.incident_id == "INC-003" and .name == "model_ttd_s")]
		| length == 1 and .[0].value == null and .[0].error_code == "NO_VALUE"' a.jsonl
	# Nor does it add a run input or an evaluation dataset record.
	[ "$(curl -fsS "$URL/api/2.0/mlflow/runs/get?run_id=$rid" | jq '.run.inputs.dataset_inputs | length')" -eq 1 ]
	sha=$(jq -r 'select(.kind == "run") | .dataset.sha256' in.jsonl)
	dataset_records "$URL" "aiops-incidents-${sha:0:12}" | jq -e --argjson n "$(grep -c '"kind":"incident"' in.jsonl)" \
		'length == $n and all(.[]; .inputs.evidence_sha256 != null)'
}

# dataset_records URL NAME: the records of the evaluation dataset NAME,
# through the REST API, as a JSON array.
dataset_records() {
	local ds
	ds=$(curl -fsS -X POST -H 'Content-Type: application/json' \
		-d "{\"filter_string\": \"name = '$2'\"}" "$1/api/3.0/mlflow/datasets/search" |
		jq -r '.datasets | if length == 1 then .[0].dataset_id else error("\(length) datasets") end')
	curl -fsS "$1/api/3.0/mlflow/datasets/$ds/records" | jq '.records | fromjson'
}

@test "server: the incidents are an evaluation dataset linked to the experiment, and the dataset is the run's input (REST)" {
	need_mlflow
	need_stages
	baseline_run evalds19
	sha=$(jq -r 'select(.kind == "run") | .dataset.sha256' "$d/k/final.jsonl")
	name=aiops-incidents-${sha:0:12}
	exp=$(curl -fsS "$URL/api/2.0/mlflow/runs/get?run_id=$id" | jq -r .run.info.experiment_id)
	# The run's input: the evaluation dataset, by name, digest and source.
	curl -fsS "$URL/api/2.0/mlflow/runs/get?run_id=$id" | jq '.run.inputs.dataset_inputs' >in.json
	ds=$(jq -r '.[0].dataset.source | fromjson | .dataset_id' in.json)
	jq -e --arg n "$name" --arg dg "${sha:0:32}" 'length == 1 and (.[0].dataset | .name == $n and .digest == $dg
		and .source_type == "mlflow_evaluation_dataset") and .[0].tags == [{"key": "mlflow.data.context", "value": "evaluation"}]' in.json
	curl -fsS "$URL/api/3.0/mlflow/datasets/$ds" | jq -e --arg n "$name" --arg s "$sha" '.dataset | .name == $n
		and (.tags | fromjson | ."aiops.dataset.sha256" == $s)'
	# (other tests of this file may have linked it to their experiments)
	curl -fsS "$URL/api/3.0/mlflow/datasets/$ds/experiment-ids" | jq -e --arg e "$exp" '.experiment_ids | index($e) != null'
	# One record per incident: its id and its matched group's evidence
	# digest as inputs, its ground truth as expectations.
	dataset_records "$URL" "$name" >recs.json
	jq -s -c '(map(select(.kind == "score" and .name == "matched" and .group_id != null))
			| map({key: .incident_id, value: .group_id}) | from_entries) as $g
		| [.[] | select(.kind == "incident") | {id, g: $g[.id], expectations: {root_cause, expected_actions}}]
		| sort_by(.id)' "$d/k/final.jsonl" >want.json
	jq -c 'map({id: .inputs.incident_id, g: .inputs.evidence_sha256, expectations}) | sort_by(.id)' recs.json >got.json
	[ "$(jq length want.json)" -gt 0 ]
	jq -e -s '.[0] as $w | .[1] as $h | ($w | length) == ($h | length)
		and all(range($w | length); $w[.].id == $h[.].id and $w[.].expectations == $h[.].expectations
			and (($w[.].g == null) == ($h[.].g == null)))' want.json got.json
	jq -e --arg s "$sha" 'all(.[]; .source == {"source_type": "HUMAN", "source_data": {"dataset_sha256": $s}}
		and (.inputs.evidence_sha256 // "" | test("^([0-9a-f]{64})?$")))' recs.json
	# The same incidents logged to another experiment: the same records, the
	# dataset linked to both.
	run -0 aiops-mlflow --tracking-uri "$URL" --experiment evalds19b <"$d/k/05-metrics.jsonl"
	[ "$(dataset_records "$URL" "$name" | jq length)" -eq "$(jq length recs.json)" ]
	exp2=$(curl -fsS "$URL/api/2.0/mlflow/experiments/get-by-name?experiment_name=evalds19b" | jq -r .experiment.experiment_id)
	curl -fsS "$URL/api/3.0/mlflow/datasets/$ds/experiment-ids" | jq -e --arg a "$exp" --arg b "$exp2" \
		'.experiment_ids | index($a) != null and index($b) != null and $a != $b'
}

# ---- #19: prompts in the prompt registry, a LoggedModel per configuration ----

# reg_run DIR [--set ...]: a harness run of the example data with the
# fake model server (FAKE_PORT) logged to the real server's experiment
# prompts19; prints the MLflow run id.  Its answers fail validation (the
# fake model does not answer the schema), so the run may exit 1: the run
# is logged all the same.
reg_run() {
	local d=$1
	shift
	aiops-harness run --config "$AIOPS_ROOT/examples/configs/basic.yaml" \
		--dataset "$AIOPS_ROOT/examples/data" --quiet --keep "$d" \
		--set mlflow.tracking_uri="$URL" --set experiment.name=prompts19 \
		--set provider.type=openai_compat --set provider.default_model=fake-model \
		--set provider.params.base_url="http://127.0.0.1:$FAKE_PORT/v1" \
		--set max_failure_share=1 "$@" >/dev/null 2>"$d.err" || true
	jq -r 'select(.kind == "mlflow_run") | .run_id' "$d/final.jsonl"
}

rget() { # PATH [curl args]: a GET through the REST API
	local p=$1
	shift
	curl -fsS -G "$URL$p" "$@"
}

# The versions of prompt $1 whose aiops.template_sha256 is $2.
versions_of() {
	rget /api/2.0/mlflow/model-versions/search \
		--data-urlencode "filter=name = '$1' AND tag.\`mlflow.prompt.is_prompt\` = 'true'" |
		jq -c --arg h "$2" '[.model_versions[]? | select(any(.tags[]; .key == "aiops.template_sha256" and .value == $h)) | .version]'
}

@test "server: each template a prompt version (one per hash) with its text, linked to the run and the traces that used it" {
	need_mlflow
	need_stages
	d=$BATS_TEST_TMPDIR
	fake_llm_start "$d/srv"
	FAKE_PORT=$(cat "$d/srv/port")
	cp "$AIOPS_ROOT/examples/prompts/rca.txt" "$d/rca.txt"
	h1=$(sha256sum "$d/rca.txt" | cut -d' ' -f1)
	r1=$(reg_run "$d/k1" --set pipeline.rca.prompt="$d/rca.txt")
	[ -n "$r1" ]
	grep -q "prompts: aiops-remediate/[0-9]* (sha256 .*); aiops-rca/[0-9]* (sha256 ${h1:0:12})" "$d/k1.err"
	exp=$(rget /api/2.0/mlflow/runs/get --data-urlencode run_id="$r1" | jq -r .run.info.experiment_id)
	# The prompt: a registered model tagged as a prompt, listed in the experiment.
	rget /api/2.0/mlflow/registered-models/get --data-urlencode name=aiops-rca >rm.json
	jq -e --arg e ",$exp," '[.registered_model.tags[] | {(.key): .value}] | add
		| ."mlflow.prompt.is_prompt" == "true" and (."_mlflow_experiment_ids" | contains($e))' rm.json
	# One version of this hash, holding the template as a chat prompt.
	v=$(versions_of aiops-rca "$h1")
	[ "$(jq length <<<"$v")" -eq 1 ]
	v1=$(jq -r '.[0]' <<<"$v")
	rget /api/2.0/mlflow/model-versions/get --data-urlencode name=aiops-rca --data-urlencode version="$v1" >mv.json
	jq -e '[.model_version.tags[] | {(.key): .value}] | add
		| ."_mlflow_prompt_type" == "chat" and ."aiops.stage" == "rca" and ."aiops.template_file" == "rca.txt"' mv.json
	jq -r '.model_version.tags[] | select(.key == "mlflow.prompt.text") | .value' mv.json >text.json
	jq -e 'map(.role) == ["system", "user"]' text.json
	jq -r '.[0].content' text.json >sys.txt
	jq -r '.[1].content' text.json >user.txt
	grep -qF "$(head -n 3 sys.txt)" "$d/rca.txt"
	grep -qF "$(head -n 1 user.txt)" "$d/rca.txt"
	grep -q '{{group_id}}' user.txt
	# The run: linked to both prompts, each template an artifact byte for byte.
	rget /api/2.0/mlflow/runs/get --data-urlencode run_id="$r1" >run.json
	jq -e --arg v "$v1" '[.run.data.tags[] | {(.key): .value}] | add | ."mlflow.linkedPrompts" | fromjson
		| any(.[]; . == {"name": "aiops-rca", "version": $v}) and any(.[]; .name == "aiops-remediate")' run.json
	rget "/api/2.0/mlflow-artifacts/artifacts/$exp/$r1/artifacts/prompts/aiops-rca.txt" >art.txt
	cmp art.txt "$d/rca.txt"
	# The traces whose calls rendered it: found by MLflow's prompt filter, tagged.
	ncalls=$(jq -s '[.[] | select(.kind == "llm_call" and .stage == "rca") | .group_id] | unique | length' "$d/k1/final.jsonl")
	[ "$ncalls" -gt 0 ]
	curl -fsS -X POST -H 'Content-Type: application/json' "$URL/api/3.0/mlflow/traces/search" \
		-d "{\"locations\":[{\"type\":\"MLFLOW_EXPERIMENT\",\"mlflow_experiment\":{\"experiment_id\":\"$exp\"}}],
		     \"filter\":\"prompt = \\\"aiops-rca/$v1\\\" AND attributes.run_id = '$r1'\",\"max_results\":500}" >tr.json
	[ "$(jq '.traces | length' tr.json)" -eq "$ncalls" ]
	jq -e --arg v "$v1" 'all(.traces[]; .tags."mlflow.linkedPrompts" | fromjson | index({"name": "aiops-rca", "version": $v}))' tr.json
	# The same template again: no new version.  A changed one: a second.
	r2=$(reg_run "$d/k2" --set pipeline.rca.prompt="$d/rca.txt")
	[ -n "$r2" ] && [ "$r2" != "$r1" ]
	[ "$(versions_of aiops-rca "$h1")" = "$v" ]
	echo "Be brief." >>"$d/rca.txt"
	h2=$(sha256sum "$d/rca.txt" | cut -d' ' -f1)
	r3=$(reg_run "$d/k3" --set pipeline.rca.prompt="$d/rca.txt")
	v2=$(versions_of aiops-rca "$h2" | jq -r '.[0]')
	[ "$v2" -gt "$v1" ]
	[ "$(versions_of aiops-rca "$h1")" = "$v" ]
	rget /api/2.0/mlflow/runs/get --data-urlencode run_id="$r3" |
		jq -e --arg v "$v2" '.run.data.tags[] | select(.key == "mlflow.linkedPrompts") | .value | fromjson | index({"name": "aiops-rca", "version": $v})'
	fake_llm_stop "$d/srv"
}

# The LoggedModel a run is linked to (its model input) as logged-models/get has it.
model_of() {
	local m
	m=$(rget /api/2.0/mlflow/runs/get --data-urlencode run_id="$1" | jq -r '.run.inputs.model_inputs[0].model_id')
	rget "/api/2.0/mlflow/logged-models/$m"
}

@test "server: a LoggedModel per provider/model/prompt configuration, with its params and metrics, reused by the runs of that configuration" {
	need_mlflow
	need_stages
	d=$BATS_TEST_TMPDIR
	fake_llm_start "$d/srv" --models fake-model,other-model
	FAKE_PORT=$(cat "$d/srv/port")
	cp "$AIOPS_ROOT/examples/prompts/remediate.txt" "$d/rem.txt"
	set -- --set pipeline.remediation.prompt="$d/rem.txt" --set experiment.name=models19
	r1=$(reg_run "$d/k1" "$@")
	r2=$(reg_run "$d/k2" "$@")
	grep -q "logged model fake-model-[0-9a-f]\{8\} (m-[0-9a-f]*, new)" "$d/k1.err"
	grep -q "logged model fake-model-[0-9a-f]\{8\} (m-[0-9a-f]*, reused)" "$d/k2.err"
	model_of "$r1" >m1.json
	model_of "$r2" >m2.json
	jq -e --arg r "$r1" '.model.info | .status == "LOGGED_MODEL_READY" and .source_run_id == $r
		and (.name | startswith("fake-model-")) and .model_type == "aiops"' m1.json
	[ "$(jq -r .model.info.model_id m1.json)" = "$(jq -r .model.info.model_id m2.json)" ]
	# Its params: the provider, model and prompt of each stage that called one.
	jq -e '[.model.data.params[] | {(.key): .value}] | add
		| ."rca.provider.type" == "openai_compat" and ."rca.provider.model" == "fake-model"
		and ."remediate.provider.model" == "fake-model" and (."rca.prompt" | startswith("aiops-rca/"))
		and (."rca.prompt_sha256" | length) == 64 and (has("rca.provider.base_url") | not)' m1.json
	jq -e '.model.info.tags | any(.[]; .key == "mlflow.linkedPrompts")' m1.json
	# Both runs' metrics are the model's.
	jq -e --arg a "$r1" --arg b "$r2" '([.model.data.metrics[] | .run_id] | unique) == ([$a, $b] | sort)
		and any(.model.data.metrics[]; .key == "detection_f1" and .value == 1)' m1.json
	# The run's traces carry the model's id (the Models view's traces),
	# their token usage and prompt links kept.
	exp=$(jq -r .model.info.experiment_id m1.json)
	curl -fsS -X POST -H 'Content-Type: application/json' "$URL/api/3.0/mlflow/traces/search" \
		-d "{\"locations\":[{\"type\":\"MLFLOW_EXPERIMENT\",\"mlflow_experiment\":{\"experiment_id\":\"$exp\"}}],
		     \"filter\":\"request_metadata.\\\"mlflow.modelId\\\" = '$(jq -r .model.info.model_id m1.json)'\",\"max_results\":500}" >tr.json
	ngroups=$(jq -s '[.[] | select(.kind == "group")] | length' "$d/k1/final.jsonl")
	[ "$(jq '.traces | length' tr.json)" -eq $((2 * ngroups)) ]
	jq -e 'all(.traces[]; .trace_metadata."mlflow.trace.tokenUsage" != null and .tags."mlflow.linkedPrompts" != null)' tr.json
	# Another model, or another template: another LoggedModel.
	r3=$(reg_run "$d/k3" "$@" --set provider.default_model=other-model)
	echo "Be brief." >>"$d/rem.txt"
	r4=$(reg_run "$d/k4" "$@")
	model_of "$r3" >m3.json
	model_of "$r4" >m4.json
	jq -e '.model.info.name | startswith("other-model-")' m3.json
	[ "$(jq -s 'map(.model.info.model_id) | unique | length' m1.json m3.json m4.json)" -eq 3 ]
	n=$(curl -fsS -X POST -H 'Content-Type: application/json' "$URL/api/2.0/mlflow/logged-models/search" \
		-d "{\"experiment_ids\":[\"$(jq -r .model.info.experiment_id m1.json)\"]}" | jq '.models | length')
	[ "$n" -eq 3 ]
	# A resend of a logged run (its spool) links it once and repeats no point.
	{ cat "$d/k1/05-metrics.jsonl"; echo '{"kind":"mlflow_spool","experiment":"models19"}'; } >spool.jsonl
	run -0 --separate-stderr aiops-mlflow --resume spool.jsonl --tracking-uri "$URL"
	[[ "$stderr" == *"resuming run $r1 "* ]]
	model_of "$r1" >m1b.json
	[ "$(rget /api/2.0/mlflow/runs/get --data-urlencode run_id="$r1" | jq '.run.inputs.model_inputs | length')" -eq 1 ]
	[ "$(jq --arg r "$r1" '[.model.data.metrics[] | select(.run_id == $r and .key == "detection_f1")] | length' m1b.json)" -eq 1 ]
	fake_llm_stop "$d/srv"
}

@test "server: a baseline run registers no prompt and says so; its LoggedModel is the baseline's" {
	need_mlflow
	need_stages
	d=$BATS_TEST_TMPDIR
	id=$(reg_run "$d/k" --set provider.type=baseline --set provider.default_model=baseline)
	grep -qx "aiops-mlflow: prompts: none: no stage rendered a prompt template (a baseline makes no model calls); [0-9]* registry and model requests" "$d/k.err"
	rget /api/2.0/mlflow/runs/get --data-urlencode run_id="$id" >run.json
	jq -e '[.run.data.tags[] | {(.key): .value}] | add | (has("mlflow.linkedPrompts") | not)
		and (."aiops.prompts" | startswith("none: "))' run.json
	exp=$(jq -r .run.info.experiment_id run.json)
	rget /api/2.0/mlflow/artifacts/list --data-urlencode run_id="$id" | jq -e '[.files[].path] | index("prompts") | not'
	model_of "$id" | jq -e '[.model.data.params[] | {(.key): .value}] | add
		| ."rca.provider.type" == "baseline" and ."rca.prompt" == "none" and ."rca.prompt_sha256" == "none"'
	[ -n "$exp" ]
}
