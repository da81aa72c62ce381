#!/usr/bin/env bats
# Alerts (already-detected anomalies) end to end: aiops-load reads them from
# the GAIA / OpenRCA layout, Alertmanager webhook payloads and JSONL
# (lib/rd_alerts); aiops-correlate groups them without its detectors; every
# later stage passes them through; the GAIA labels' fault_message (the root
# cause in words) reaches no record and no model.

load test_helper
bats_require_minimum_version 1.5.0
export -f mask

A="$FIX/alerts"

# aiops-load in the fixture directory (relative paths in the output), masked;
# the "not found" notes of the absent signal files are dropped from stderr.
load_alerts() { # PATH [option...]
	local p=$1
	shift
	(cd "$A" && aiops-load --alerts "$p" "$@" 2>"$BATS_TEST_TMPDIR/err") | mask
	grep -v ': note: ' "$BATS_TEST_TMPDIR/err" >"$BATS_TEST_TMPDIR/err.kept" || true
}

# records_in = records_out - 1 (the run record) + rejects, from stage_end.
reconciles() {
	jq -e 'select(.kind == "stage_end") | .records_in == .records_out - 1 + .rejects' >/dev/null
}

@test "GAIA layout: golden output, labels become incidents, times read in the configured zone" {
	run -0 load_alerts gaia --tz +08:00
	diff -u "$A/gaia.out" <(printf '%s\n' "$output")
	[ ! -s "$BATS_TEST_TMPDIR/err.kept" ]
	# fault 0 starts 18:45:00.236 local (+08:00) in label.csv
	run -0 jq -r 'select(.kind == "incident" and .id == "gaia:0") | [.start_ts, .root_cause.service, .root_cause.fault] | @tsv' "$A/gaia.out"
	[ "$output" = $'2021-07-01T10:45:00.236Z\tredisservice2\tmemory_anomalies' ]
}

@test "GAIA layout: every alert, log line and label is one record or one reject" {
	run -0 pipe "cd '$A' && aiops-load --alerts gaia 2>/dev/null | tail -n1 | jq -c '[.records_in, .kinds.alert, .kinds.incident, .rejects]'"
	# 12 metric + 9 trace alerts, 2 + 2 log lines, 3 labels
	[ "$output" = "[28,25,3,0]" ]
	(cd "$A" && aiops-load --alerts gaia 2>/dev/null) | reconciles
	(cd "$A" && aiops-load --alerts gaia-bad 2>/dev/null) | reconciles
}

@test "GAIA layout: damaged elements are rejects with the file, the ordinal and the reason" {
	run -0 load_alerts gaia-bad --tz +08:00
	diff -u "$A/gaia-bad.out" <(printf '%s\n' "$output")
	diff -u "$A/gaia-bad.err" "$BATS_TEST_TMPDIR/err.kept"
}

@test "GAIA labels: fault_message reaches no record" {
	run -0 pipe "cd '$A' && aiops-load --alerts gaia 2>&1 | grep -c 'trigger a high memory program' || true"
	[ "$output" = "0" ]
	run -0 grep -c 'trigger a high memory program' "$A/gaia/label.csv"
	[ "$output" = "2" ]
}

@test "Alertmanager webhook document: golden output; service from the service or job label" {
	run -0 load_alerts alertmanager.json
	diff -u "$A/alertmanager.out" <(printf '%s\n' "$output")
	diff -u "$A/alertmanager.err" "$BATS_TEST_TMPDIR/err.kept"
	printf '%s\n' "$output" | reconciles
}

@test "Alertmanager payloads one a line: golden output, a broken line is one reject" {
	run -0 load_alerts alertmanager-lines.jsonl
	diff -u "$A/alertmanager-lines.out" <(printf '%s\n' "$output")
	diff -u "$A/alertmanager-lines.err" "$BATS_TEST_TMPDIR/err.kept"
	printf '%s\n' "$output" | reconciles
}

@test "Alertmanager: service_label picks the label that names the service" {
	run -0 pipe "cd '$A' && aiops-load --alerts alertmanager.json --set dataset.alerts.service_label=instance 2>/dev/null | jq -r 'select(.kind == \"alert\") | .service'"
	[ "$output" = "10.0.0.7:8080" ]
}

@test "JSONL alerts: golden output with aliases; bad lines are rejects with reasons" {
	run -0 load_alerts alerts.jsonl
	diff -u "$A/alerts.out" <(printf '%s\n' "$output")
	diff -u "$A/alerts.err" "$BATS_TEST_TMPDIR/err.kept"
	printf '%s\n' "$output" | reconciles
}

@test "--strict: the first bad alert exits 1" {
	run -1 --separate-stderr aiops-load --alerts "$A/alerts.jsonl" --strict
	[[ "$stderr" == *"alerts.jsonl:5: invalid JSON: null expected"* ]]
}

@test "dataset.alerts in a dataset config: the GAIA example config reads the layout under --dataset" {
	local d
	d=$(scratch)
	mkdir -p "$d/data/fault-alerts"
	cp -r "$A/gaia" "$d/data/fault-alerts/MicroSS"
	run -0 pipe "aiops-load --config '$AIOPS_ROOT/examples/datasets/gaia.yaml' --dataset '$d' 2>/dev/null | jq -c 'select(.kind == \"stage_end\") | [.kinds.alert, .kinds.incident, .rejects]'"
	[ "$output" = "[25,3,0]" ]
	run -0 --separate-stderr aiops-load --config "$AIOPS_ROOT/examples/datasets/gaia.yaml" --dataset "$d"
	[[ "$stderr" != *"unknown key"* ]]
}

@test "config errors: an unknown alerts format exits 2; a directory without the layout exits 1" {
	run -2 --separate-stderr aiops-load --alerts "$A/gaia" --set dataset.alerts.format=nagios
	[[ "$stderr" == *"dataset.alerts.format: unknown format 'nagios' (jsonl, alertmanager, gaia)"* ]]
	local d
	d=$(scratch)
	run -1 --separate-stderr aiops-load --alerts "$d"
	[[ "$stderr" == *"$d: a directory without the GAIA layout (label.csv, metric/metrics.json, ...)"* ]]
	run -1 --separate-stderr aiops-load --alerts "$d/none.jsonl"
	[[ "$stderr" == *"$d/none.jsonl: No such file or directory"* ]]
}

@test "aiops-correlate groups alerts without detectors and ranks the deepest anomalous callee first" {
	run -0 pipe "aiops-correlate '$A/correlate-in.jsonl' 2>/dev/null | jq -c 'select(.kind == \"group\") | [.services[0].service, .anomaly_count, .signal_count, (.evidence.alerts | length), .evidence.edges]'"
	[ "$output" = '["db",9,8,8,[{"from":"cart","to":"db"},{"from":"frontend","to":"cart"}]]' ]
	run -0 pipe "aiops-correlate '$A/correlate-in.jsonl' 2>/dev/null | tail -n1 | jq -c '[.records_in, .records_out, .rejects, .anomalies, .alerts, .alerts_resolved, .templates]'"
	[ "$output" = "[12,1,2,9,10,1,0]" ]
}

@test "aiops-correlate: a bad alert record is a reject with the reason" {
	run -0 --separate-stderr aiops-correlate "$A/correlate-in.jsonl"
	[ "$stderr" = "aiops-correlate: $A/correlate-in.jsonl:11: alert: missing or bad \"ts\"
aiops-correlate: $A/correlate-in.jsonl:12: alert: \"source\" is not metric, span, log or null" ]
}

@test "alert records pass through every later stage byte for byte" {
	local d
	d=$(scratch)
	grep '"kind":"alert"' "$A/correlate-in.jsonl" | head -n 3 >"$d/in.jsonl"
	run -0 pipe "aiops-correlate --keep-signals '$d/in.jsonl' 2>/dev/null | grep '\"kind\":\"alert\"'"
	[ "$output" = "$(cat "$d/in.jsonl")" ]
	for s in rca remediate exec metrics; do
		run -0 pipe "aiops-$s '$d/in.jsonl' 2>/dev/null | grep '\"kind\":\"alert\"'"
		[ "$output" = "$(cat "$d/in.jsonl")" ] || { echo "aiops-$s changed them"; return 1; }
	done
}

@test "canary: GAIA's fault_message reaches no signal, no group, no prompt and no model request" {
	local d=$BATS_TEST_TMPDIR
	mkdir -p "$d/ds"
	cp -r "$A/gaia" "$d/ds/gaia"
	# The labels' free text becomes a canary.
	python3 - "$d/ds/gaia/label.csv" <<-'PY'
	import csv, sys
	rows = list(csv.reader(open(sys.argv[1])))
	i = rows[0].index("fault_message")
	for n, r in enumerate(rows[1:]):
	    r[i] = "CANARY-a1e7 %d root cause is redisservice2 memory" % n
	csv.writer(open(sys.argv[1], "w", newline=""), lineterminator="\n").writerows(rows)
	PY
	grep -q CANARY-a1e7 "$d/ds/gaia/label.csv"
	# A control: what a signal says does reach the model (a log alert's
	# template id is in its name), so the check below can fail.
	sed -i 's/"7",/"CTRL7",/' "$d/ds/gaia/log/logs.json"
	fake_llm_start "$d" --log "$d/req.log" --answer "$FIX/rca/answer.json"
	cat >"$d/cfg.yaml" <<-YAML
	provider:
	  type: openai_compat
	  default_model: fake-model
	  params: {base_url: "http://127.0.0.1:$(cat "$d/port")/v1", max_attempts: 1, timeout_s: 10}
	dataset:
	  tz: "+08:00"
	  alerts: {path: gaia, format: gaia}
	pipeline:
	  correlation: {quiet_s: 300}
	  rca: {prompt: "$AIOPS_ROOT/examples/prompts/rca.txt", top_k: 3}
	YAML
	run -0 pipe "aiops-load --config '$d/cfg.yaml' --dataset '$d/ds' 2>/dev/null | aiops-correlate --config '$d/cfg.yaml' | aiops-rca --config '$d/cfg.yaml' >'$d/out.jsonl'"
	fake_llm_stop "$d"
	# the model was asked about each detected group
	run -0 jq -s -c '[(map(select(.kind == "group")) | length), (map(select(.kind == "llm_call")) | length), (map(select(.kind == "rca" and .error == null)) | length)]' "$d/out.jsonl"
	[ "$output" = "[2,2,2]" ]
	[ "$(wc -l <"$d/req.log")" -eq 2 ]
	run grep -c CTRL7 "$d/req.log"
	[ "$output" = "2" ]
	run grep -c CANARY "$d/req.log" "$d/out.jsonl"
	[ "$output" = "$d/req.log:0
$d/out.jsonl:0" ]
}

teardown() {
	fake_llm_stop "$BATS_TEST_TMPDIR"
}

@test "aiops-correlate: alert records with odd fields are handled or rejected, counts reconcile" {
	local d
	d=$(scratch)
	# Every field of the fixture alerts set in turn to an odd value, or left out.
	python3 - "$A/correlate-in.jsonl" >"$d/odd.jsonl" <<-'PY'
	import json, sys
	bad = [None, "", "x" * 5000, 1e308, -1, 2**63, 123456789012345678901234567890, [], {},
	       True, "\u0000", "9999-12-31T23:59:59.999Z", "1500-01-01T00:00:00Z", "$(reboot)"]
	for line in open(sys.argv[1]):
	    o = json.loads(line)
	    for k in list(o) + ["attrs.caller"]:
	        if k == "kind":
	            continue
	        for v in bad + ["<drop>"]:
	            q = json.loads(line)
	            if k == "attrs.caller":
	                q.setdefault("attrs", {})
	                if not isinstance(q["attrs"], dict):
	                    continue
	                tgt, key = q["attrs"], "caller"
	            else:
	                tgt, key = q, k
	            if v == "<drop>":
	                tgt.pop(key, None)
	            else:
	                tgt[key] = v
	            print(json.dumps(q))
	PY
	n=$(wc -l <"$d/odd.jsonl")
	run -0 pipe "aiops-correlate --keep-signals '$d/odd.jsonl' 2>'$d/err' >'$d/out'"
	e=$(tail -n 1 "$d/out")
	in=$(jq .records_in <<<"$e") out=$(jq .records_out <<<"$e") rej=$(jq .rejects <<<"$e")
	groups=$(grep -c '^{"kind":"group"' "$d/out" || true)
	[ "$in" -eq "$n" ]
	[ "$in" -eq $((out - groups + rej)) ]
	[ "$rej" -gt 0 ]
	[ "$(grep -c '^{"kind":"reject"' "$d/out")" -eq "$rej" ]
	# the forwarded alerts are the input lines, byte for byte
	# (json.dumps writes "kind": "alert" with a space; the check must see some)
	grep -E '^\{"kind": ?"alert"' "$d/out" >"$d/fwd"
	[ "$(wc -l <"$d/fwd")" -gt 100 ]
	while IFS= read -r l; do grep -qxF -- "$l" "$d/odd.jsonl" || { echo "changed: ${l:0:300}"; return 1; }; done <"$d/fwd"
}
