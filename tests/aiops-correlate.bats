#!/usr/bin/env bats
# aiops-correlate: detectors, grouping, ranking and the stream contract.

load test_helper

CF="$FIX/correlate"

setup_file() {
	export SCEN="$BATS_FILE_TMPDIR/scen"
	python3 "$FIX/correlate/gen.py" "$SCEN"
	# The fake model server of the LLM triage tests (tests/servers/fake_llm.py).
	fake_llm_start "$BATS_FILE_TMPDIR/srv" --log "$BATS_FILE_TMPDIR/srv/req.log"
}

teardown_file() {
	fake_llm_stop "$BATS_FILE_TMPDIR/srv"
}

# The group records of a run, one compact line each.
groups() {
	jq -c 'select(.kind == "group")' "$@"
}

@test "--help exits 0 and lists the thresholds" {
	run aiops-correlate --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: aiops-correlate"* ]]
	[[ "$output" == *"--detect-threshold"* ]]
	[[ "$output" == *"--emit-undetected"* ]]
	[[ "$output" == *"pipeline.correlation"* ]]
}

@test "an unknown option is a usage error (exit 2)" {
	run aiops-correlate --no-such-option </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == "aiops-correlate: unknown option '--no-such-option'"* ]]
}

@test "a bad threshold value is a usage error (exit 2)" {
	run aiops-correlate --window-s nonsense </dev/null
	[ "$status" -eq 2 ]
	run aiops-correlate --error-levels ERROR,LOUD </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown level 'LOUD'"* ]]
}

@test "passes foreign kinds through byte for byte and in order, incident included" {
	run aiops-correlate "$CF/passthrough.jsonl"
	[ "$status" -eq 0 ]
	expected=$(grep -v -E '"kind":"(log|metric|span)"' "$CF/passthrough.jsonl")
	got=$(printf '%s\n' "$output" | grep -v -E '"kind":"(stage|stage_end)"')
	[ "$got" = "$expected" ]
}

@test "consumes signals by default and forwards them with --keep-signals" {
	run -0 aiops-correlate "$CF/passthrough.jsonl"
	[ "$(printf '%s\n' "$output" | grep -c -E '"kind":"(log|metric|span)"')" -eq 0 ]
	run -0 aiops-correlate --keep-signals "$CF/passthrough.jsonl"
	got=$(printf '%s\n' "$output" | grep -v -E '"kind":"(stage|stage_end)"')
	[ "$got" = "$(cat "$CF/passthrough.jsonl")" ]
}

@test "writes the stage record first with every threshold, stage_end last" {
	run -0 aiops-correlate "$CF/passthrough.jsonl"
	first=$(printf '%s\n' "$output" | head -n1)
	last=$(printf '%s\n' "$output" | tail -n1)
	[ "$(jq -r .kind <<<"$first")" = stage ]
	[ "$(jq -r .stage <<<"$first")" = correlate ]
	[ "$(jq -c '.params | [.window_s, .quiet_s, .max_duration_s, .detect_threshold, .min_signals, .metric_z, .span_z, .burst_factor, .keep_signals, .emit_undetected]' <<<"$first")" = '[60,120,1800,12,2,4,4,4,false,false]' ]
	[ "$(jq -r .kind <<<"$last")" = stage_end ]
	[ "$(jq -c '[.records_in, .records_out, .rejects, .groups]' <<<"$last")" = '[7,4,0,0]' ]
}

@test "reads pipeline.correlation from the config, and flags override it" {
	d=$(scratch)
	printf 'pipeline:\n  correlation:\n    window_s: 30s\n    detect_threshold: 20\n' >"$d/c.yaml"
	run aiops-correlate --config "$d/c.yaml" --detect-threshold 15 </dev/null
	[ "$status" -eq 0 ]
	[ "$(head -n1 <<<"$output" | jq -c '.params | [.window_s, .detect_threshold]')" = '[30,15]' ]
	run -0 aiops-correlate --set pipeline.correlation.quiet_s=5m </dev/null
	[ "$(head -n1 <<<"$output" | jq -c '.params.quiet_s')" = 300 ]
}

@test "turns a broken line into a reject and keeps going; --strict exits 1" {
	d=$(scratch)
	{ cat "$CF/passthrough.jsonl"; echo '{"kind":"zz","n":'; echo '{"kind":"zz","n":9}'; } >"$d/in"
	run aiops-correlate "$d/in"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c '"kind":"reject"')" -eq 1 ]
	[[ "$output" == *'{"kind":"zz","n":9}'* ]]
	run aiops-correlate --strict "$d/in"
	[ "$status" -eq 1 ]
}

@test "rejects a signal without a timestamp, naming the line" {
	d=$(scratch)
	echo '{"kind":"log","id":"logs:1","service":"api","level":"INFO","msg":"x"}' >"$d/in"
	run aiops-correlate "$d/in"
	[ "$status" -eq 0 ]
	[[ "$output" == *"aiops-correlate: $d/in:1: log: missing or bad \"ts\""* ]]
	[ "$(printf '%s\n' "$output" | grep '"kind":"reject"' | jq -r .reason)" = 'log: missing or bad "ts"' ]
}

@test "a closed reader (| head -n1) is quiet" {
	d=$(scratch)
	bash -c "aiops-correlate --keep-signals '$SCEN/quiet.jsonl' 2>'$d/err' | head -n1 >/dev/null"
	[ ! -s "$d/err" ]
}

@test "a failed write (/dev/full) exits 1" {
	run bash -c "aiops-correlate '$CF/passthrough.jsonl' >/dev/full"
	[ "$status" -eq 1 ]
	[[ "$output" == *"aiops-correlate: write error"* ]]
}

@test "a latency fault on a database propagating to its callers: one group, the database ranked first" {
	run aiops-correlate "$SCEN/db_latency.jsonl"
	[ "$status" -eq 0 ]
	g=$(groups <<<"$output")
	[ "$(wc -l <<<"$g")" -eq 1 ]
	[ "$(jq -r .id <<<"$g")" = G0001 ]
	[ "$(jq -r .detected <<<"$g")" = true ]
	[ "$(jq -r '.services[0].service' <<<"$g")" = orders-db ]
	[ "$(jq -r '[.services[].service] | .[1:3] | join(",")' <<<"$g")" = api,web ]
	# start within the fault's first signals, detection soon after
	start=$(jq -r .start_ts <<<"$g")
	[[ "$start" > "2024-05-01T00:14:59.999Z" && "$start" < "2024-05-01T00:15:30.000Z" ]]
	det=$(jq -r .detected_ts <<<"$g")
	[[ ! "$det" < "$start" && "$det" < "2024-05-01T00:16:00.000Z" ]]
	[ "$(jq -r .end_ts <<<"$g")" \< "2024-05-01T00:21:00.000Z" ]
	[ "$(jq -r .method <<<"$g")" = stat ]
	[ "$(jq -r .decision_latency_ms <<<"$g")" = 0 ]
	[ "$(jq -c '.evidence.edges' <<<"$g")" = '[{"from":"api","to":"orders-db"},{"from":"web","to":"api"}]' ]
	[ "$(jq -r '[.evidence.spans[] | select(.service == "orders-db")][0].observed_p95_ms > 400' <<<"$g")" = true ]
	[ "$(jq -r '.evidence.logs[0].template' <<<"$g")" = 'slow query on orders-db took <DUR> (threshold <DUR>)' ]
	[ "$(jq -c 'keys' <<<"$g")" = '["anomaly_count","decision_latency_ms","detected","detected_ts","end_ts","evidence","id","kind","method","score","services","signal_count","start_ts"]' ]
	[ "$(tojson_len "$g")" -le 8192 ]
}

tojson_len() {
	printf '%s' "$1" | wc -c
}

@test "a chronic slow tail is background: the service that turned slow ranks first (span_tail_factor)" {
	# cache is slow one call in twenty-five all the time; api turns 300 ms
	# slower from 00:15 to 00:20.  The fault is one group, api first, and
	# cache's usual tail is not evidence (not a service of the group).
	run -0 aiops-correlate "$SCEN/slow_tail.jsonl"
	g=$(groups <<<"$output")
	[ "$(wc -l <<<"$g")" -eq 1 ]
	[ "$(jq -r '[.services[].service] | join(",")' <<<"$g")" = api,web ]
	start=$(jq -r .start_ts <<<"$g")
	[[ "$start" > "2024-05-01T00:14:59.999Z" && "$start" < "2024-05-01T00:15:30.000Z" ]]
	[ "$(jq '[.evidence.spans[] | select(.service == "cache")] | length' <<<"$g")" -eq 0 ]
	# Counting every slow span (factor 0), the tail wins and opens groups
	# before the fault.
	run -0 aiops-correlate --span-tail-factor 0 "$SCEN/slow_tail.jsonl"
	g=$(groups <<<"$output")
	[ "$(head -n 1 <<<"$g" | jq -r '.services[0].service')" = cache ]
	[[ "$(head -n 1 <<<"$g" | jq -r .start_ts)" < "2024-05-01T00:15:00.000Z" ]]
	# A new tail counts: db_latency's group, start and ranking are the same
	# with the option off (only its first slow span or two weigh less).
	shape='[.start_ts, .detected, [.services[].service]]'
	[ "$(aiops-correlate "$SCEN/db_latency.jsonl" | groups | jq -c "$shape")" = \
		"$(aiops-correlate --span-tail-factor 0 "$SCEN/db_latency.jsonl" | groups | jq -c "$shape")" ]
}

@test "saturation: a service at its declared limit ranks first, even above the callee that would explain it" {
	# Without limits, the graph rule blames the slower callee (orders-db).
	run -0 aiops-correlate "$SCEN/cpu_saturation.jsonl"
	g=$(groups <<<"$output")
	[ "$(jq -r '[.services[].service] | join(",")' <<<"$g")" = orders-db,api,web ]
	[ "$(jq '[.evidence.metrics[] | select(.saturated)] | length' <<<"$g")" -eq 0 ]
	# api's CPU (a ratio) reaches 0.997 of its limit 1: api first, shown as saturated.
	run -0 aiops-correlate --metric-limits '{"cpu_usage": 1}' "$SCEN/cpu_saturation.jsonl"
	g=$(groups <<<"$output")
	[ "$(wc -l <<<"$g")" -eq 1 ]
	[ "$(jq -r '[.services[].service] | join(",")' <<<"$g")" = api,orders-db,web ]
	[ "$(jq -c '[.evidence.metrics[] | select(.saturated) | [.service, .name]]' <<<"$g")" = '[["api","cpu_usage"]]' ]
	# Below saturation_share of the limit it is not saturation.
	run -0 aiops-correlate --metric-limits '{"cpu_usage": 1}' --saturation-share 1 "$SCEN/cpu_saturation.jsonl"
	[ "$(groups <<<"$output" | jq -r '.services[0].service')" = orders-db ]
	# The limits of other metrics change nothing; the other scenarios are unchanged.
	run -0 aiops-correlate --metric-limits '{"latency_p95_ms": 100000}' "$SCEN/cpu_saturation.jsonl"
	[ "$(groups <<<"$output" | jq -r '.services[0].service')" = orders-db ]
	diff <(aiops-correlate "$SCEN/db_latency.jsonl" | groups) \
		<(aiops-correlate --metric-limits '{"cpu_usage": 1}' "$SCEN/db_latency.jsonl" | groups)
}

@test "saturation: metrics alone are detected when a resource is at its limit (saturation_detect points)" {
	local d; d=$(scratch)
	grep -v -E '"kind":"(log|span)"' "$SCEN/cpu_saturation.jsonl" >"$d/metrics.jsonl"
	# min_types 2: metrics alone are never enough ...
	run -0 aiops-correlate "$d/metrics.jsonl"
	[ -z "$(groups <<<"$output")" ]
	# ... unless a resource sat at its limit for 2 points.
	run -0 aiops-correlate --metric-limits '{"cpu_usage": 1}' "$d/metrics.jsonl"
	g=$(groups <<<"$output")
	[ "$(wc -l <<<"$g")" -eq 1 ]
	[ "$(jq -r '[.detected, .services[0].service] | join(" ")' <<<"$g")" = "true api" ]
	run -0 aiops-correlate --metric-limits '{"cpu_usage": 1}' --saturation-detect 0 "$d/metrics.jsonl"
	[ -z "$(groups <<<"$output")" ]
	# The quiet scenario has no saturation: still no group.
	run -0 aiops-correlate --metric-limits '{"cpu_usage": 1}' "$SCEN/quiet.jsonl"
	[ -z "$(groups <<<"$output")" ]
}

@test "rank_method: strength ranks by the plain sum (no call graph); bad methods and limits are usage errors" {
	run -0 aiops-correlate --rank-method strength "$SCEN/db_latency.jsonl"
	g=$(groups <<<"$output")
	[ "$(jq -r '.services[0].service' <<<"$g")" = api ]
	run -0 aiops-correlate --rank-method graph "$SCEN/db_latency.jsonl"
	[ "$(groups <<<"$output" | jq -r '.services[0].service')" = orders-db ]
	run aiops-correlate --rank-method pagerunk </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"rank_method: unknown method 'pagerunk' (graph, strength, pagerank, votes, magnitude)"* ]]
	run aiops-correlate --metric-limits '{"cpu_usage": "full"}' </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"metric_limits must be a mapping"* ]]
	run aiops-correlate --saturation-share 1.5 </dev/null
	[ "$status" -eq 2 ]
}

@test "rank_method: pagerank walks from the anomalous callers to the callee that explains them" {
	# The same scenario as above: api (the caller) has the larger plain
	# strength, orders-db is where its calls went wrong.
	run -0 aiops-correlate --rank-method pagerank "$SCEN/db_latency.jsonl"
	g=$(groups <<<"$output")
	[ "$(wc -l <<<"$g")" -eq 1 ]
	[ "$(jq -r '.services[0].service' <<<"$g")" = orders-db ]
	# Scores are on the scale of strength: they sum to the group's strength.
	run -0 aiops-correlate --rank-method strength "$SCEN/db_latency.jsonl"
	s=$(groups <<<"$output" | jq '[.services[].score] | add')
	p=$(aiops-correlate --rank-method pagerank "$SCEN/db_latency.jsonl" | groups | jq '[.services[].score] | add')
	awk -v s="$s" -v p="$p" 'BEGIN { exit !(s > 0 && (s - p) ^ 2 < 1e-6 * s * s) }'
	# votes: a score is the service's signal types plus a share below 1.
	run -0 aiops-correlate --rank-method votes "$SCEN/db_latency.jsonl"
	groups <<<"$output" | jq -e '.services | length > 0 and all(.[]; .score >= 1 and .score < 4)'
	# magnitude: the farthest deviation, here web's (its calls' latency
	# grows most against its steady baseline), which is the caller-blaming
	# the graph rule corrects; scores fall with the whole part of |z|.
	run -0 aiops-correlate --rank-method magnitude "$SCEN/db_latency.jsonl"
	groups <<<"$output" | jq -e '[.services[].score] | length == 3 and . == (sort | reverse)'
	[ "$(groups <<<"$output" | jq -r '.services[0].service')" = web ]
}

@test "rank_spread: a symptom every service shows weighs less than one only the culprit shows" {
	# db alerts on disk I/O, and its callers' calls to it are slow (two alert
	# classes, db's own); web1..web3 all lose load at once (cpu, memory and
	# request rate down: three classes, each on three services).  By plain
	# strength each web service (9) beats db (6); shared three ways, their
	# 9 weighs 3.
	d=$(scratch)
	for i in 0 1 2; do
		printf '{"kind":"alert","ts":"2024-05-01T00:00:%02dZ","service":"db","source":"metric","name":"disk_io","direction":"up","status":"firing"}\n' $((i * 5))
		for s in web1 web2 web3; do
			printf '{"kind":"alert","ts":"2024-05-01T00:00:%02d.1Z","service":"db","source":"span","name":"GET /q","direction":"up","status":"firing","attrs":{"caller":"%s"}}\n' \
				$((i * 5)) "$s"
			for m in cpu_usage memory_usage request_rate; do
				printf '{"kind":"alert","ts":"2024-05-01T00:00:%02d.5Z","service":"%s","source":"metric","name":"%s","direction":"down","status":"firing"}\n' \
					$((i * 5 + 1)) "$s" "$m"
			done
		done
	done >"$d/in.jsonl"
	run -0 aiops-correlate "$d/in.jsonl"
	g=$(groups <<<"$output")
	[ "$(jq -c '[.detected, [.services[] | [.service, .score]]]' <<<"$g")" = '[true,[["db",6],["web1",3],["web2",3],["web3",3]]]' ]
	# Off (0), breadth wins again; the option is in the stage record.
	run -0 aiops-correlate --rank-spread 0 "$d/in.jsonl"
	[ "$(groups <<<"$output" | jq -c '[.services[] | [.service, .score]]')" = '[["web1",9],["web2",9],["web3",9],["db",6]]' ]
	[ "$(head -n 1 <<<"$output" | jq -c .params.rank_spread)" = 0 ]
	run aiops-correlate --rank-spread -1 </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"rank_spread"* ]]
}

@test "quiet_fresh: a fault that goes on does not hold its group open over the next one" {
	# api: cpu, memory, threads and an ERROR alert for a minute (fault A);
	# cpu stays up, one alert every 20 s, for 15 minutes; at 06:40 disk_io,
	# gc_pause and another ERROR (fault B).  cpu keeps the group going by
	# default, so B is part of A's group; with quiet_fresh an alert of a
	# signal already at key_cap is no new evidence, A's group closes two
	# minutes after its last and B starts its own.
	d=$(scratch)
	alert() { # seconds name source
		printf '{"kind":"alert","ts":"2024-05-01T00:%02d:%02dZ","service":"api","source":"%s","name":"%s","direction":"up","status":"firing"}\n' \
			$(($1 / 60)) $(($1 % 60)) "$3" "$2"
	}
	{
		for i in 0 1 2 3; do
			for n in cpu memory threads; do alert $((i * 15 + 1)) "$n" metric; done
			alert $((i * 15 + 1)) "ERROR timeout" log
		done
		for s in $(seq 80 20 380); do alert "$s" cpu metric; done
		for i in 0 1 2 3; do
			alert $((400 + i * 15)) cpu metric
			for n in disk_io gc_pause; do alert $((400 + i * 15 + 2)) "$n" metric; done
			alert $((400 + i * 15 + 2)) "ERROR disk full" log
		done
		for s in $(seq 480 20 880); do alert "$s" cpu metric; done
	} >"$d/in.jsonl"
	run -0 aiops-correlate "$d/in.jsonl"
	g=$(groups <<<"$output")
	[ "$(wc -l <<<"$g")" -eq 1 ]
	[ "$(jq -c '[.detected, .signal_count]' <<<"$g")" = '[true,7]' ]
	run -0 aiops-correlate --quiet-fresh "$d/in.jsonl"
	[ "$(head -n 1 <<<"$output" | jq -c .params.quiet_fresh)" = true ]
	g=$(groups <<<"$output")
	[ "$(wc -l <<<"$g")" -eq 2 ]
	[ "$(jq -sc '[.[] | [.detected, .start_ts < "2024-05-01T00:06:40Z", .end_ts < "2024-05-01T00:06:40Z"]]' <<<"$g")" = '[[true,true,true],[true,true,false]]' ]
	# B's group has B's signals and cpu, none of A's others.
	[ "$(jq -sc '[.[1].evidence.alerts[].name] | sort' <<<"$g")" = '["ERROR disk full","cpu","disk_io","gc_pause"]' ]
}

@test "rank_own and rank_support: a caller's own slow time outranks a callee's few slow spans" {
	# caller_self: web's own time grows by 300 ms for five minutes (its self
	# time, in 149 spans); five orders-db queries in those minutes are slow
	# too, and api and web feel them.  Before rank_own and rank_support the
	# callee's five slow spans explained web away (web 0.25 behind db 4).
	run -0 aiops-correlate "$SCEN/caller_self.jsonl"
	g=$(groups <<<"$output")
	[ "$(wc -l <<<"$g")" -eq 1 ]
	[ "$(jq -r '[.detected, .services[0].service] | join(" ")' <<<"$g")" = "true web" ]
	[ "$(jq -c '[.evidence.spans[] | select(.service == "web") | [.measure, .count]]' <<<"$g")" = '[["self_time",149]]' ]
	# Either alone is not enough here; both off is the old order.
	for o in "--no-rank-own" "--rank-support 0" "--no-rank-own --rank-support 0"; do
		read -r -a w <<<"$o"
		run -0 aiops-correlate "${w[@]}" "$SCEN/caller_self.jsonl"
		[ "$(groups <<<"$output" | jq -r '.services[0].service')" = orders-db ] || { echo "$o"; false; }
	done
	[ "$(head -n 1 <<<"$output" | jq -c '[.params.rank_own, .params.rank_support]')" = '[false,0]' ]
	run aiops-correlate --rank-support -1 </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"rank_support must be in"* ]]
}

@test "graph ranking: calls known only from span alerts do not pass the blame to the callee unless rank_alert_edges" {
	# edge_alerts: alerts only; api (CPU, memory, its callers' calls) is the
	# culprit, cache has only the alerts of api's calls to it.
	run -0 aiops-correlate "$SCEN/edge_alerts.jsonl"
	g=$(groups <<<"$output")
	[ "$(jq -r '[.detected, (.services | map(.service) | join(","))] | join(" ")' <<<"$g")" = "true api,cache" ]
	# The edge is still learned and shown as evidence.
	[ "$(jq -c '.evidence.edges' <<<"$g")" = '[{"from":"api","to":"cache"}]' ]
	run -0 aiops-correlate --rank-alert-edges "$SCEN/edge_alerts.jsonl"
	[ "$(groups <<<"$output" | jq -r '.services | map(.service) | join(",")')" = cache,api ]
	run -0 aiops-correlate --set pipeline.correlation.rank_alert_edges=true "$SCEN/edge_alerts.jsonl"
	[ "$(groups <<<"$output" | jq -r '.services[0].service')" = cache ]
	# Edges seen in spans keep the graph rule: db_latency still blames orders-db.
	run -0 aiops-correlate "$SCEN/db_latency.jsonl"
	[ "$(groups <<<"$output" | jq -r '.services[0].service')" = orders-db ]
}

@test "the incident label passes through untouched after the groups it matches" {
	run -0 aiops-correlate "$SCEN/db_latency.jsonl"
	[ "$(printf '%s\n' "$output" | jq -r .kind | grep -v '^stage' | tr '\n' ' ')" = "run group incident " ]
}

@test "a quiet stretch (with null metric values) yields no group" {
	run aiops-correlate "$SCEN/quiet.jsonl"
	[ "$status" -eq 0 ]
	[ -z "$(groups <<<"$output")" ]
	[ "$(tail -n1 <<<"$output" | jq .groups_detected)" -eq 0 ]
}

@test "a chronic ERROR logger yields no group" {
	run -0 aiops-correlate "$SCEN/chronic.jsonl"
	[ -z "$(groups <<<"$output")" ]
}

@test "a periodic batch job spike yields no group" {
	run -0 aiops-correlate "$SCEN/batch.jsonl"
	[ -z "$(groups <<<"$output")" ]
}

@test "cold start: logs and traces that begin 20 minutes after the metrics raise no group while they warm up" {
	# Before, the log warm-up counted from the first metric: the first ERROR
	# line of api was a new template and every later one a young one, and
	# with the cache's error spans that made a detected group from the first
	# log line on.
	run -0 aiops-correlate "$SCEN/late_quiet.jsonl"
	[ -z "$(groups <<<"$output")" ]
	[ "$(tail -n1 <<<"$output" | jq .groups_detected)" -eq 0 ]
	# No log line is an anomaly before api's own warm-up is over: no group,
	# detected or not, has a log signal.
	run -0 aiops-correlate --emit-undetected "$SCEN/late_quiet.jsonl"
	[ "$(groups <<<"$output" | jq -s '[.[].evidence.logs // [] | length] | add // 0')" -eq 0 ]
}

@test "cold start: a fault a minute after logs and traces begin is found, led by its root cause, starting at the fault" {
	# Metrics see it at once; it is detected (two types) when the spans have
	# span_warmup_s of their own history, at 00:19:00; logs are still warming.
	run -0 aiops-correlate "$SCEN/late_fault.jsonl"
	g=$(groups <<<"$output")
	[ "$(wc -l <<<"$g")" -eq 1 ]
	[ "$(jq -r .detected <<<"$g")" = true ]
	[ "$(jq -r '.services[0].service' <<<"$g")" = orders-db ]
	start=$(jq -r .start_ts <<<"$g")
	[[ "$start" > "2024-05-01T00:14:59.999Z" && "$start" < "2024-05-01T00:15:30.000Z" ]]
	[[ "$(jq -r .detected_ts <<<"$g")" < "2024-05-01T00:19:30.000Z" ]]
}

@test "cold start: an operation is not judged before span_warmup_s of its own spans, however many came" {
	# One operation, a span every 0.5 s from 00:20:00 (after 20 minutes of
	# metrics), 10 ms each, but 900 ms at 00:20:30 (60 spans in) and at
	# 00:27:00: only the second is slow; before, 20 spans were a baseline.
	d=$(scratch)
	awk 'BEGIN {
		for (i = 0; i < 40; i++)
			printf "{\"kind\":\"metric\",\"ts\":\"2024-05-01T00:%02d:%02d.000Z\",\"service\":\"api\",\"name\":\"cpu\",\"value\":0.5}\n", int(i * 30 / 60), (i * 30) % 60
		for (i = 0; i < 1200; i++) {
			t = 1200 + i / 2
			d = (i == 60 || i == 840) ? 900 : 10
			printf "{\"kind\":\"span\",\"ts\":\"2024-05-01T00:%02d:%02d.%03dZ\",\"service\":\"api\",\"name\":\"GET /x\",\"duration_ms\":%d,\"status\":\"OK\"}\n", int(t / 60), int(t) % 60, (t - int(t)) * 1000, d
		}
	}' >"$d/in"
	run -0 aiops-correlate --emit-undetected "$d/in"
	[ "$(groups <<<"$output" | jq -r .start_ts)" = 2024-05-01T00:27:00.000Z ]
	run -0 aiops-correlate --emit-undetected --span-warmup-s 0 "$d/in"
	[ "$(groups <<<"$output" | jq -r .start_ts | tr '\n' ' ')" = "2024-05-01T00:20:30.000Z 2024-05-01T00:27:00.000Z " ]
}

# A stream of metrics from 00:00:00, every 30 s: api and db, cpu and
# latency each; db's both jump at T (seconds) and stay up.  Prints it.
ref_stream() { # day start-s end-s jump-s
	awk -v day="$1" -v s0="$2" -v s1="$3" -v j="$4" 'BEGIN {
		for (t = s0; t < s1; t += 30) {
			i = t / 30
			ts = sprintf("%sT%02d:%02d:%02d.000Z", day, int(t / 3600), int(t / 60) % 60, t % 60)
			n = (i * 7) % 5
			up = (j >= 0 && t >= j)
			printf "{\"kind\":\"metric\",\"ts\":\"%s\",\"service\":\"api\",\"name\":\"cpu\",\"value\":%.3f}\n", ts, 0.30 + 0.01 * n
			printf "{\"kind\":\"metric\",\"ts\":\"%s\",\"service\":\"api\",\"name\":\"latency\",\"value\":%.3f}\n", ts, 50 + n
			printf "{\"kind\":\"metric\",\"ts\":\"%s\",\"service\":\"db\",\"name\":\"cpu\",\"value\":%.3f}\n", ts, up ? 0.95 : 0.20 + 0.01 * n
			printf "{\"kind\":\"metric\",\"ts\":\"%s\",\"service\":\"db\",\"name\":\"latency\",\"value\":%.3f}\n", ts, up ? 400 : 20 + n
		}
	}'
}

@test "--reference: a fault two minutes after the stream begins is found when fault-free data seeds the baselines" {
	d=$(scratch)
	# The stream begins at 00:00 and db breaks at 00:02, inside the
	# 15-point warm-up: without a reference the jump is learned, not found.
	ref_stream 2024-05-01 0 900 120 >"$d/in"
	run -0 aiops-correlate --min-types 1 --detect-threshold 5 --emit-undetected "$d/in"
	[ -z "$(groups <<<"$output")" ]
	# The reference: an hour of the same system the day before, with a
	# spike of its own (learned, never a group), an incident (never read)
	# and a line that is no JSON (a reject naming the file and line).
	{
		ref_stream 2024-04-30 43200 46800 -1
		printf '%s\n' '{"kind":"metric","ts":"2024-04-30T12:30:00.000Z","service":"api","name":"cpu","value":9}'
		printf '%s\n' '{"kind":"incident","id":"CANARY-REF-1","start_ts":"2024-04-30T12:30:00.000Z","root_cause":{"service":"api"}}'
		printf '%s\n' 'not json'
	} >"$d/ref"
	run -0 --separate-stderr aiops-correlate --min-types 1 --detect-threshold 5 --emit-undetected --reference "$d/ref" "$d/in"
	g=$(groups <<<"$output")
	[ "$(wc -l <<<"$g")" -eq 1 ]
	[ "$(jq -r .detected <<<"$g")" = true ]
	[ "$(jq -r '.services[0].service' <<<"$g")" = db ]
	[ "$(jq -r .start_ts <<<"$g")" = 2024-05-01T00:02:00.000Z ]
	[[ "$output" != *CANARY-REF-1* ]]
	[ "$(jq -c 'select(.kind == "reject") | [.source, .line]' <<<"$output")" = "[\"$d/ref\",483]" ]
	[[ "$stderr" == *"$d/ref:483: reference: "* ]]
	end=$(tail -n1 <<<"$output")
	[ "$(jq -c '.reference | [.lines, .signals, .skipped, .rejects, .replayed]' <<<"$end")" = '[483,481,1,1,true]' ]
	[ "$(jq -r '.reference.anomalies_ignored > 0' <<<"$end")" = true ]
	[ "$(jq -r .reference.last_ts <<<"$end")" = 2024-04-30T12:59:30.000Z ]
}

@test "--reference: not a regular file is a usage error; an empty one is said and changes nothing" {
	d=$(scratch)
	ref_stream 2024-05-01 0 900 120 >"$d/in"
	run -2 aiops-correlate --reference /dev/stdin "$d/in" </dev/null
	[[ "$output" == *"reference /dev/stdin: not a regular file"* ]]
	run -2 aiops-correlate --reference "$d/missing" "$d/in"
	[[ "$output" == *"reference $d/missing: No such file"* ]]
	printf '%s\n' '{"kind":"run","run_id":"r"}' >"$d/empty"
	run -0 --separate-stderr aiops-correlate --min-types 1 --reference "$d/empty" "$d/in"
	[ -z "$(groups <<<"$output")" ]
	[[ "$stderr" == *"reference $d/empty holds no log, metric or span records: nothing learned"* ]]
	[ "$(tail -n1 <<<"$output" | jq -c '.reference | [.signals, .skipped, .replayed]')" = '[0,1,false]' ]
	# An input without signals: the reference is not used, and says so,
	# and its bad lines are still rejects.
	{ ref_stream 2024-04-30 0 300 -1; printf '%s\n' 'not json'; } >"$d/ref"
	run -0 --separate-stderr aiops-correlate --reference "$d/ref" /dev/null
	[[ "$stderr" == *"reference $d/ref not used: the input holds no log, metric or span record"* ]]
	[ "$(jq -c 'select(.kind == "reject") | [.source, .line]' <<<"$output")" = "[\"$d/ref\",41]" ]
	[ "$(tail -n1 <<<"$output" | jq -c '.reference | [.signals, .rejects, .replayed]')" = '[40,1,false]' ]
	run -2 aiops-correlate --persist-score -1 /dev/null
	[[ "$output" == *"persist_detect, persist_score and persist_strength must be at least 0"* ]]
}

# Metrics only, every 60 s for an hour: api and db, eight series each
# (s0 ...); from minute 40, db's first NJUMP series are five times higher
# for LEN points.  Prints it.
persist_stream() { # njump len
	awk -v nj="$1" -v len="$2" 'BEGIN {
		for (m = 0; m < 60; m++) {
			ts = sprintf("2024-05-01T00:%02d:00.000Z", m)
			n = (m * 7) % 5
			for (s = 0; s < 8; s++) {
				printf "{\"kind\":\"metric\",\"ts\":\"%s\",\"service\":\"api\",\"name\":\"s%d\",\"value\":%.2f}\n", ts, s, 10 + n
				up = s < nj && m >= 40 && m < 40 + len
				printf "{\"kind\":\"metric\",\"ts\":\"%s\",\"service\":\"db\",\"name\":\"s%d\",\"value\":%.2f}\n", ts, s, up ? 100 : 20 + n
			}
		}
	}'
}

# Metrics every 60 s for an hour on a and b (a calls b: spans every 15 s),
# four series each, all five times higher for three points from minute
# 40: a change shared by two neighbours, neither strong on its own.
# Prints it.
neighbour_stream() {
	awk 'BEGIN {
		for (m = 0; m < 60; m++) {
			ts = sprintf("2024-05-01T00:%02d:00.000Z", m)
			n = (m * 7) % 5
			for (s = 0; s < 4; s++)
				for (v = 0; v < 2; v++) {
					svc = v ? "b" : "a"
					up = m >= 40 && m < 43
					printf "{\"kind\":\"metric\",\"ts\":\"%s\",\"service\":\"%s\",\"name\":\"s%d\",\"value\":%.2f}\n", ts, svc, s, up ? 100 : 20 + n
				}
			for (k = 0; k < 4; k++) {
				printf "{\"kind\":\"span\",\"ts\":\"2024-05-01T00:%02d:%02d.000Z\",\"service\":\"a\",\"name\":\"GET /\",\"trace_id\":\"t%d_%d\",\"span_id\":\"p%d_%d\",\"duration_ms\":20,\"status\":\"OK\"}\n", m, k * 10, m, k, m, k
				printf "{\"kind\":\"span\",\"ts\":\"2024-05-01T00:%02d:%02d.001Z\",\"service\":\"b\",\"name\":\"get\",\"trace_id\":\"t%d_%d\",\"span_id\":\"c%d_%d\",\"parent_id\":\"p%d_%d\",\"duration_ms\":10,\"status\":\"OK\"}\n", m, k * 10, m, k, m, k, m, k
			}
		}
	}'
}

@test "persistence: metrics alone are detected when persist_detect series of one service stay changed, not for a blip or two series" {
	d=$(scratch)
	# Eight series, three points: no other signal type, no saturation, yet
	# detected (persist_detect 3; db's own strength 24, over persist_strength
	# 1.5 x 12; the group's score 24, persist_score 2 x 12).
	persist_stream 8 3 >"$d/eight"
	run -0 aiops-correlate "$d/eight"
	g=$(groups <<<"$output")
	[ "$(wc -l <<<"$g")" -eq 1 ]
	[ "$(jq -r '[.detected, .start_ts, .detected_ts, .score, .services[0].service] | join(" ")' <<<"$g")" = \
		"true 2024-05-01T00:40:00.000Z 2024-05-01T00:41:00.000Z 24 db" ]
	# Off, or asking for more series, or a higher score: not detected.
	run -0 aiops-correlate --persist-detect 0 "$d/eight"
	[ -z "$(groups <<<"$output")" ]
	[[ "$(tail -n1 <<<"$output" | jq -r .nothing_detected)" == "only metrics seen"* ]]
	run -0 aiops-correlate --persist-detect 9 "$d/eight"
	[ -z "$(groups <<<"$output")" ]
	run -0 aiops-correlate --persist-score 2.1 "$d/eight"
	[ -z "$(groups <<<"$output")" ]
	run -0 aiops-correlate --persist-strength 2.1 "$d/eight"
	[ -z "$(groups <<<"$output")" ]
	# A one-point blip in all eight series scores as much and is no change
	# that persists; a lasting change in two series does not score.
	persist_stream 8 1 >"$d/blip"
	run -0 aiops-correlate --emit-undetected "$d/blip"
	[ "$(groups <<<"$output" | jq -r '[.detected, .score] | join(" ")')" = "false 24" ]
	persist_stream 2 10 >"$d/two"
	run -0 aiops-correlate "$d/two"
	[ -z "$(groups <<<"$output")" ]
	# Two neighbours, four changed series each: the group scores 30, but
	# neither service's own strength (12) reaches persist_strength x 12.
	# (On a whole Nezha day such shared latency wobbles were 16 false groups
	# in 16 fault-free hours before persist_strength, 3 after.)
	neighbour_stream >"$d/nb"
	run -0 aiops-correlate --emit-undetected "$d/nb"
	[ "$(groups <<<"$output" | jq -r '[.detected, .score] | join(" ")')" = "false 30" ]
	run -0 aiops-correlate --persist-strength 0 "$d/nb"
	[ "$(groups <<<"$output" | jq -r .detected)" = true ]
}

@test "--emit-undetected writes the groups below the threshold with detected false" {
	run -0 aiops-correlate --emit-undetected "$SCEN/batch.jsonl"
	g=$(groups <<<"$output")
	[ -n "$g" ]
	[ "$(jq -r .detected <<<"$g" | sort -u)" = false ]
	[ "$(jq -r .detected_ts <<<"$g" | sort -u)" = null ]
	[ "$(jq -r '.services[0].service' <<<"$g" | sort -u)" = api ]
	[ "$(jq -r .id <<<"$g" | head -n1)" = G0001 ]
}

@test "max_duration_s caps a group: a long fault splits into several" {
	run -0 aiops-correlate --max-duration-s 90 "$SCEN/db_latency.jsonl"
	g=$(groups <<<"$output")
	[ "$(wc -l <<<"$g")" -ge 2 ]
	jq -e -s 'all(.[]; ((.end_ts | sub("\\.[0-9]+Z$"; "Z") | fromdate) - (.start_ts | sub("\\.[0-9]+Z$"; "Z") | fromdate)) <= 90)' <<<"$g"
	[ "$(jq -r .id <<<"$g" | tr '\n' ' ')" = "$(seq -f 'G%04g' 1 "$(wc -l <<<"$g")" | tr '\n' ' ')" ]
}

@test "detect_threshold decides: set high, the fault is not detected" {
	run -0 aiops-correlate --detect-threshold 100000 "$SCEN/db_latency.jsonl"
	[ -z "$(groups <<<"$output")" ]
	[ "$(tail -n1 <<<"$output" | jq .groups_undetected)" -ge 1 ]
}

@test "detect_threshold is inclusive: a score exactly at the threshold is detected" {
	# key_cap 1 and no type or service weight: the score is the count of
	# distinct signals, an exact integer (6 for the fault group here: web's
	# slow spans are explained by the call to api, see span_attr).
	w=(--emit-undetected --key-cap 1 --type-weight 0 --service-weight 0)
	run -0 aiops-correlate "${w[@]}" --detect-threshold 6 "$SCEN/db_latency.jsonl"
	[ "$(groups <<<"$output" | jq -c '[.score, .signal_count, .detected]')" = '[2,2,false]
[6,6,true]' ]
	run -0 aiops-correlate "${w[@]}" --detect-threshold 6.000001 "$SCEN/db_latency.jsonl"
	[ "$(groups <<<"$output" | jq -c '[.score, .detected]')" = '[2,false]
[6,false]' ]
}

@test "max_group_bytes bounds the group record" {
	run -0 aiops-correlate --max-group-bytes 1200 "$SCEN/db_latency.jsonl"
	g=$(groups <<<"$output")
	[ "$(tojson_len "$g")" -le 1200 ]
	[ "$(jq -r '.services[0].service' <<<"$g")" = orders-db ]
}

@test "the output is deterministic: two runs are identical after mask" {
	d=$(scratch)
	cat "$SCEN"/quiet.jsonl "$SCEN"/db_latency.jsonl >"$d/in"
	aiops-correlate --emit-undetected "$d/in" | mask >"$d/a"
	aiops-correlate --emit-undetected "$d/in" | mask >"$d/b"
	cmp "$d/a" "$d/b"
	[ "$(grep -c '"kind":"group"' "$d/a")" -ge 1 ]
}

@test "signals read without json-c (lib/flat) give what json-c gives, rejects included" {
	d=$(scratch)
	cat "$SCEN"/quiet.jsonl "$SCEN"/db_latency.jsonl "$SCEN"/cpu_saturation.jsonl >"$d/in"
	ts=$(jq -r 'select(.ts) | .ts' "$d/in" | tail -n 1)
	# Lines the flat handlers leave to json-c, or must read as it does:
	# blanks, escapes, numbers it converts its own way, bad records.
	cat >>"$d/in" <<-EOF
	{"kind":"metric","ts":"$ts","service":"web","name":"cpu_usage","value":-0,"labels": {"host": "web-1"}}
	{"kind":"metric","ts":"$ts","service":"web","name":"cpu_usage","value":1e2,"labels":{"host":"web\/1","n":1.50}}
	{"kind":"metric","ts":"$ts","service":"web","name":"cpu_usage","value":12345678901234567890,"labels":null}
	{"kind":"metric","ts":"$ts","service":"w\u00e9b","name":"q","value":"7","labels":"x"}
	{"kind":"metric","ts":"$ts","service":"web","name":"q"}
	{"kind":"span","ts":"$ts","service":"\u0061pi","name":"GET \"/\"","duration_ms":"12","status":"ERROR","trace_id":"t\u0000u"}
	{"kind":"span","ts":"$ts","service":"x\ud800y","name":"op","duration_ms":-0.0,"span_id":"s1","parent_id":null}
	{"kind":"span","ts":"$ts","service":7,"name":"op","duration_ms":3}
	{"kind":"log","ts":"$ts","service":"api","level":"ERROR","msg":"line\none \u00e9\ud83d\ude00","trace_id":"abc"}
	{"kind":"log","ts":"not a time","service":"api","msg":"x"}
	{"kind":"log","ts":"$ts","service":"api","level":"WARN"}
	{"kind":"log","ts":"$ts","service":"api","msg":"a","msg":"b"}
	{"kind":"log" , "ts" : "$ts" , "service" : "api" , "msg" : "spaced" }
	EOF
	# The same stream with an escaped key added to every signal: json-c reads
	# all of it (lib/flat takes no escaped key).
	sed -E '/"kind" ?: ?"(log|metric|span)"/ s/}$/,"\\u0078":0}/' "$d/in" >"$d/jsonc"
	[ "$(grep -c '"\\u0078":0}$' "$d/jsonc")" -ge 1000 ]
	aiops-correlate --emit-undetected <"$d/in" 2>"$d/flat.err" | mask | jq -c 'del(.raw)' >"$d/flat.out"
	aiops-correlate --emit-undetected <"$d/jsonc" 2>"$d/jsonc.err" | mask | jq -c 'del(.raw)' >"$d/jsonc.out"
	cmp "$d/flat.out" "$d/jsonc.out"
	cmp "$d/flat.err" "$d/jsonc.err"
	[ "$(grep -c '"kind":"group"' "$d/flat.out")" -ge 2 ]
	[ "$(grep -c '"kind":"reject"' "$d/flat.out")" -eq 4 ]
}

@test "memory stays bounded: small caps still work" {
	run aiops-correlate --max-templates 2 --span-cache 4 --max-keys 3 --max-group-keys 2 "$SCEN/db_latency.jsonl"
	[ "$status" -eq 0 ]
	[ "$(tail -n1 <<<"$output" | jq '.templates <= 2 and .template_evictions > 0 and .dropped_keys > 0')" = true ]
}

# The db_latency scenario (from 00:00) after N one-line services (junk-1 ..
# junk-N, one a second from HH:MM:00 the day before): a flood of one-off
# names ahead of a real incident.
flood_input() { # N HH:MM OUT
	{
		head -n 1 "$SCEN/db_latency.jsonl"
		for i in $(seq 1 "$1"); do
			printf '{"kind":"log","ts":"2024-04-30T%s:%02d.000Z","service":"junk-%d","level":"INFO","msg":"hello"}\n' \
				"$2" "$((i % 60))" "$i"
		done
		tail -n +2 "$SCEN/db_latency.jsonl"
	} >"$3"
}

@test "a flood of one-off services cannot blind it: idle ones are evicted, refusals counted and said once" {
	d=$(scratch)
	flood_input 20 23:00 "$d/in"
	run --separate-stderr aiops-correlate --set pipeline.correlation.max_services=8 "$d/in"
	[ "$status" -eq 0 ]
	# The incident is found after the flood, led by its root cause.
	[ "$(groups <<<"$output" | jq -r 'select(.detected) | .services[0].service')" = orders-db ]
	# junk-9 .. junk-20 came while the table was full of busy (fresh) names:
	# refused, their 12 records dropped; the 8 in the table were idle an
	# hour later and made room for the scenario's 4 services.
	[ "$(tail -n 1 <<<"$output" | jq -c '[.dropped_services, .evicted_services, .dropped_keys, .services]')" = "[12,8,12,4]" ]
	[ "$stderr" = "aiops-correlate: 12 services refused: max_services 8 reached (first: junk-9)
aiops-correlate: 8 idle services evicted: max_services 8 reached" ]
}

@test "services that are not idle are not evicted: the real ones are refused meanwhile, and it is said" {
	d=$(scratch)
	# A minute before the scenario: the junk is not idle (600 s) until ~00:09.
	flood_input 20 23:59 "$d/in"
	run --separate-stderr aiops-correlate --max-services 8 "$d/in"
	[ "$status" -eq 0 ]
	# Refused: junk-9 .. junk-20, then the scenario's 4 services (with
	# their records) until 4 junk services were idle and made room.
	[ "$(tail -n 1 <<<"$output" | jq -c '[.dropped_services, .evicted_services, .services, .dropped_keys > 12]')" = "[16,4,8,true]" ]
	[ "$stderr" = "aiops-correlate: 16 services refused: max_services 8 reached (first: junk-9)
aiops-correlate: 4 idle services evicted: max_services 8 reached" ]
	# The incident (00:15) came after that.
	[ "$(groups <<<"$output" | jq -r 'select(.detected) | .services[0].service')" = orders-db ]
}

@test "without pressure no service is evicted and nothing is said" {
	run --separate-stderr aiops-correlate --service-idle-s 1s "$SCEN/db_latency.jsonl"
	[ "$status" -eq 0 ]
	[ "$(tail -n 1 <<<"$output" | jq -c '[.dropped_services, .evicted_services, .services, .dropped_keys]')" = "[0,0,4,0]" ]
	[ -z "$stderr" ]
}

@test "examples/data: each incident yields one detected group led by its root cause" {
	[ -x "$AIOPS_BIN/aiops-load" ] || skip "aiops-load is not built"
	[ -f "$AIOPS_ROOT/examples/data/incidents.jsonl" ] || skip "no examples/data"
	d=$(scratch)
	run pipe "aiops-load --dataset '$AIOPS_ROOT/examples/data' | aiops-correlate >'$d/out'"
	[ "$status" -eq 0 ]
	# Every incident: exactly one detected group overlapping it, starting at
	# most 120 s before the fault, whose top service is the root cause.
	jq -s -e '
		def t: sub("\\.[0-9]+Z$"; "Z") | fromdate;
		[.[] | select(.kind == "group")] as $g
		| [.[] | select(.kind == "incident")] as $i
		| ($i | length) > 0 and
		  all($i[]; . as $inc
		    | [$g[] | select(.detected and (.start_ts | t) <= ($inc.resolved_ts | t)
		                     and (.end_ts | t) >= ($inc.start_ts | t))] as $m
		    | ($m | length) == 1
		      and ($m[0].start_ts | t) >= ($inc.start_ts | t) - 120
		      and $m[0].services[0].service == $inc.root_cause.service)
		  and ($g | length) == ($i | length)' "$d/out"
}

# ---- LLM triage (--llm-triage) ------------------------------------------

TRIAGE_TEMPLATE="$AIOPS_ROOT/examples/prompts/triage.txt"

# Resets the fake server (no faults, no delay, no script, the default
# answer triage-answer.json, an empty request log) and writes $CFG, a config
# that points openai_compat at it with triage on.  $REQ is the request log.
triage_setup() {
	SRV="$BATS_FILE_TMPDIR/srv"
	PORT=$(cat "$SRV/port")
	REQ="$SRV/req.log"
	ctl "{\"faults\": \"\", \"delay_ms\": ${1:-0}, \"script\": [], \"reject\": null,
	      \"answer\": $(cat "$CF/triage-answer.json"), \"reset_log\": true, \"reset_stats\": true}"
	CFG="$BATS_TEST_TMPDIR/cfg.yaml"
	cat >"$CFG" <<-YAML
	provider:
	  type: openai_compat
	  default_model: fake-model
	  params: {base_url: "http://127.0.0.1:$PORT/v1", max_attempts: 2, backoff_base_s: 0.01, backoff_cap_s: 0.02, timeout_s: 10, concurrency: ${CONC:-1}}
	pipeline:
	  correlation: {llm_triage: true, triage_prompt: "$TRIAGE_TEMPLATE"}
	YAML
}

ctl() {
	curl -sf -X POST -H 'Content-Type: application/json' -d "$1" \
		"http://127.0.0.1:$PORT/_control" >/dev/null
}

# stage_end without its timings (the only line that changes between runs).
nowall() {
	sed -E 's/,"wall_ms":[0-9]+,"cpu_ms":[0-9]+//'
}
export -f nowall

# Milliseconds since the epoch of an RFC 3339 timestamp with milliseconds.
ms_of() {
	local t=$1
	echo $(( $(date -u -d "${t%.*}Z" +%s) * 1000 + 10#$(sed -E 's/.*\.([0-9]{3})Z$/\1/' <<<"$t") ))
}

@test "triage: off by default, no request made and the output byte-identical to before" {
	triage_setup
	# A provider is configured, but triage is not on: it is never contacted.
	printf 'provider: {type: openai_compat, default_model: fake-model, params: {base_url: "http://127.0.0.1:%s/v1"}}\n' \
		"$PORT" >"$BATS_TEST_TMPDIR/off.yaml"
	run pipe "aiops-correlate --config '$BATS_TEST_TMPDIR/off.yaml' '$SCEN/db_latency.jsonl' | nowall"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$CF/triage-off.expected")" ]
	run -0 pipe "aiops-correlate --config '$CFG' --no-llm-triage '$SCEN/db_latency.jsonl' | nowall"
	[ "$output" = "$(cat "$CF/triage-off.expected")" ]
	[ ! -s "$REQ" ]
}

@test "triage: the baseline provider is a usage error (triage needs a model)" {
	run --separate-stderr aiops-correlate --llm-triage </dev/null
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "aiops-correlate: --llm-triage needs a model: the baseline provider makes no model calls (set provider.type, or give --replay FILE)" ]
	run --separate-stderr aiops-correlate --set pipeline.correlation.llm_triage=true --set provider.type=baseline </dev/null
	[ "$status" -eq 2 ]
	run --separate-stderr aiops-correlate --emit-prompt </dev/null
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "aiops-correlate: --emit-prompt writes triage prompts: it needs --llm-triage" ]
}

@test "triage: a template with an unknown placeholder is a config error" {
	triage_setup
	t=$BATS_TEST_TMPDIR/t.txt
	printf 'group {{group_id}} {{root_cause}}\n' >"$t"
	run --separate-stderr aiops-correlate --config "$CFG" --triage-prompt "$t" </dev/null
	[ "$status" -eq 2 ]
	[ "$stderr" = "aiops-correlate: $t: unknown placeholder '{{root_cause}}' (known: group_id, start_ts, detected_ts, end_ts, score, signal_count, anomaly_count, services, graph, evidence, schema)" ]
	[ ! -s "$REQ" ]
}

@test "triage: the stage record logs the template's sha256 and the provider" {
	triage_setup
	sum=$(sha256sum "$TRIAGE_TEMPLATE" | cut -d' ' -f1)
	run -0 pipe "aiops-correlate --config '$CFG' </dev/null | sed -n 1p | jq -c '.params | [.llm_triage, .triage_prompt_sha256 == \"$sum\", .triage_batch, .provider.type, .provider.model]'"
	[ "$output" = '[true,true,1,"openai_compat","fake-model"]' ]
}

@test "triage: the default template is the bundled one, found from any directory" {
	# The bundled files are found next to the executable (bin/../examples).
	[ "$AIOPS_BIN" -ef "$AIOPS_ROOT/bin" ] || skip "the bundled files sit next to bin/, these tests run $AIOPS_BIN"
	triage_setup
	# No triage_prompt in the config: the bundled prompts/triage.txt (the
	# tree's examples/, or PREFIX/share/aiops) is used, not a name
	# relative to the working directory.
	printf 'provider: {type: openai_compat, default_model: fake-model, params: {base_url: "http://127.0.0.1:%s/v1"}}\n' \
		"$PORT" >"$BATS_TEST_TMPDIR/def.yaml"
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr aiops-correlate --config def.yaml --llm-triage --emit-prompt "$SCEN/db_latency.jsonl"
	[ "$status" -eq 0 ]
	jq -e -s --arg t "$AIOPS_ROOT/examples/prompts/triage.txt" \
		'map(select(.kind == "stage"))[0].params.triage_prompt == $t' <<<"$output"
	[ "$(jq -s 'map(select(.kind == "prompt")) | length' <<<"$output")" -gt 0 ]
	[ ! -s "$REQ" ]
}

@test "triage: --emit-prompt writes the prompt before its group and calls no model" {
	triage_setup
	run pipe "aiops-correlate --config '$CFG' --emit-prompt '$SCEN/db_latency.jsonl' | jq -r 'select(.kind != \"stage\" and .kind != \"stage_end\") | \"\(.kind) \(.group_id // .id) \(.purpose) \(.messages // [] | map(.role) | join(\",\")) \(.detected) \(.triage)\"'"
	[ "$status" -eq 0 ]
	[ "$output" = "run null null  null null
prompt G0001 triage system,user null null
group G0001 null  true null
incident INC-1 null  null null" ]
	[ ! -s "$REQ" ]
	run -0 pipe "aiops-correlate --config '$CFG' --emit-prompt '$SCEN/db_latency.jsonl' | jq -r 'select(.kind == \"prompt\") | .messages[1].content'"
	[[ "$output" == *"Candidate group G0001: first signal 2024-05-01T00:15:00.000Z, threshold crossed 2024-05-01T00:15:00.750Z"* ]]
	[[ "$output" == *'1. {"service":"orders-db","score":4,'* ]]
	[[ "$output" == *"api -> orders-db"* ]]
	[[ "$output" == *"slow query on orders-db took <DUR> (threshold <DUR>)"* ]]
	[[ "$output" == *'"required":["incident","title","reason"]'* ]]
}

@test "triage: sends the model, the triage schema and the group's evidence" {
	triage_setup
	run aiops-correlate --config "$CFG" "$SCEN/db_latency.jsonl"
	[ "$status" -eq 0 ]
	[ "$(wc -l <"$REQ")" -eq 1 ]
	run jq -c '.body | [.path, .model, (.messages | map(.role)), .response_format.type, .response_format.json_schema.name, .response_format.json_schema.strict, .response_format.json_schema.schema.required, .response_format.json_schema.schema.properties.incident.type]' "$REQ"
	[ "$output" = '[null,"fake-model",["system","user"],"json_schema","triage",true,["incident","title","reason"],"boolean"]' ]
	[ "$(jq -r .path "$REQ")" = /v1/chat/completions ]
	# The messages are the rendered prompt, as --emit-prompt shows it ...
	want=$(aiops-correlate --config "$CFG" --emit-prompt "$SCEN/db_latency.jsonl" | jq -S -c 'select(.kind=="prompt") | .messages')
	[ "$(jq -S -c '.body.messages' "$REQ")" = "$want" ]
	# ... which carries the group's evidence.
	user=$(jq -r '.body.messages[1].content' "$REQ")
	[[ "$user" == *'{"service":"orders-db","operation":"SELECT orders","count":149,'* ]]
	[[ "$user" == *'{"service":"api","template":"slow query on orders-db took <DUR> (threshold <DUR>)","level":"WARN"'* ]]
	[[ "$user" == *"web -> api"* ]]
}

@test "triage: an accepted group gets the title, detected_ts later by exactly the call's latency" {
	triage_setup 150
	stat=$(aiops-correlate "$SCEN/db_latency.jsonl" | jq -r 'select(.kind=="group") | .detected_ts')
	run aiops-correlate --config "$CFG" "$SCEN/db_latency.jsonl"
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.kind != "stage" and .kind != "stage_end") | .kind' <<<"$output" | paste -sd' ')" = "run llm_call group incident" ]
	g=$(groups <<<"$output")
	call=$(jq -c 'select(.kind=="llm_call")' <<<"$output")
	[ "$(jq -c '[.stage, .group_id, .purpose, .provider, .model, .http_status, .error]' <<<"$call")" = '["correlate","G0001","triage","openai_compat","fake-model",200,null]' ]
	[ "$(jq -c '[.detected, .title, .triage.verdict, .triage.reason, .triage.provider, .triage.model]' <<<"$g")" = '[true,"orders-db slow queries slow down api and web","accepted","orders-db SELECT p95 rose from 10 ms to 550 ms first, then its callers","openai_compat","fake-model"]' ]
	lat=$(jq .triage.latency_ms <<<"$g")
	[ "$lat" -ge 150 ]
	[ "$lat" -eq "$(jq .latency_ms <<<"$call")" ]
	[ "$(jq .decision_latency_ms <<<"$g")" -eq "$lat" ]
	det=$(jq -r .detected_ts <<<"$g")
	[ $(( $(ms_of "$det") - $(ms_of "$stat") )) -eq "$lat" ]
	# Nothing else of the group changes.
	plain=$(aiops-correlate "$SCEN/db_latency.jsonl" | jq -c 'select(.kind=="group") | del(.detected_ts, .decision_latency_ms)')
	[ "$(jq -c 'del(.detected_ts, .decision_latency_ms, .title, .triage)' <<<"$g")" = "$plain" ]
	end=$(tail -n1 <<<"$output")
	[ "$(jq -c '[.groups_detected, .triage, .llm.calls, .llm.failures]' <<<"$end")" = '[1,{"accepted":1,"rejected":0,"errors":0},1,0]' ]
}

@test "triage: a rejected group is written with detected false and the model's reason" {
	triage_setup
	ctl "{\"script\": $(jq -s -c . "$CF/triage-script.jsonl")}"
	run aiops-correlate --config "$CFG" --max-duration-s 90 "$SCEN/db_latency.jsonl"
	[ "$status" -eq 0 ]
	end=$(tail -n1 <<<"$output")
	run jq -c 'select(.kind=="group") | [.id, .detected, (.detected_ts != null), .decision_latency_ms == .triage.latency_ms, .title, .triage.verdict, .triage.reason]' <<<"$output"
	[ "${lines[0]}" = '["G0001",true,true,true,"orders-db queries slow: api and web latency up","accepted","orders-db p95 went from 15 ms to 618 ms and its callers followed"]' ]
	[ "${lines[1]}" = '["G0002",false,false,false,null,"rejected","the same slowdown as before, already raised"]' ]
	[ "${lines[2]}" = '["G0003",true,true,true,"orders-db still slow","accepted","SELECT orders p95 stays above 500 ms"]' ]
	[ "${lines[3]}" = '["G0004",false,false,false,null,"rejected","few anomalies, the fault is ending"]' ]
	# One more group below the threshold was never written.
	[ "$(jq -c '[.groups, .groups_detected, .groups_undetected, .triage, .llm.calls]' <<<"$end")" = '[4,2,3,{"accepted":2,"rejected":2,"errors":0},4]' ]
}

@test "triage: calls that fail for good keep the statistical decision, with the error" {
	triage_setup
	ctl '{"faults": "500,500"}'
	stat=$(aiops-correlate "$SCEN/db_latency.jsonl" | jq -r 'select(.kind=="group") | .detected_ts')
	run --separate-stderr aiops-correlate --config "$CFG" "$SCEN/db_latency.jsonl"
	[ "$status" -eq 0 ]
	[[ "$stderr" == "aiops-correlate: 1 of 1 model answers failed: model call failed: HTTP 500"* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "$(jq -c 'select(.kind=="llm_call") | [.purpose, .attempts, .http_status, (.error | length > 0)]' <<<"$output")" = '["triage",2,500,true]' ]
	g=$(groups <<<"$output")
	[ "$(jq -c '[.id, .detected, .title, .triage.verdict, .triage.provider]' <<<"$g")" = '["G0001",true,null,"error","openai_compat"]' ]
	[[ "$(jq -r .triage.reason <<<"$g")" == "model call failed: "*500* ]]
	# The incident is raised once the model gave up: its latency counts.
	lat=$(jq .triage.latency_ms <<<"$g")
	[ $(( $(ms_of "$(jq -r .detected_ts <<<"$g")") - $(ms_of "$stat") )) -eq "$lat" ]
	[ "$(tail -n1 <<<"$output" | jq -c '[.groups_detected, .triage.errors, .llm.failures]')" = '[1,1,1]' ]
	[ "$(wc -l <"$REQ")" -eq 2 ]
}

@test "triage: an answer that breaks the schema gets one repair round" {
	triage_setup
	ctl '{"faults": "schema-break"}'
	run aiops-correlate --config "$CFG" "$SCEN/db_latency.jsonl"
	[ "$status" -eq 0 ]
	[ "$(jq -c 'select(.kind=="llm_call" or .kind=="group") | [.kind, .purpose, .triage.verdict]' <<<"$output")" = '["llm_call","triage",null]
["llm_call","repair",null]
["group",null,"accepted"]' ]
	run jq -r -s '.[1].body.messages[3].content' "$REQ"
	[[ "$output" == 'Your answer was rejected: answer: missing required member "incident".'* ]]
	# Two bad answers: an error, the group stays detected.
	ctl '{"faults": "notjson,notjson"}'
	run -0 pipe "aiops-correlate --config '$CFG' '$SCEN/db_latency.jsonl' 2>/dev/null | jq -c 'select(.kind==\"group\") | [.detected, .triage.verdict, .triage.reason]'"
	[[ "$output" == '[true,"error","invalid answer after a repair round: the answer is not valid JSON ('* ]]
}

@test "triage: canary — incident labels reach no request and no llm_call record" {
	triage_setup
	d=$(scratch)
	awk -v c="$(cat "$CF/triage-canary-incident.jsonl")" '/"kind":"incident"/ { print c; next } { print }' \
		"$SCEN/db_latency.jsonl" >"$d/in"
	[ "$(grep -c CANARY-c0rr-5e1a "$d/in")" -eq 1 ]
	run aiops-correlate --config "$CFG" --record "$d/calls.jsonl" "$d/in"
	[ "$status" -eq 0 ]
	[ "$(jq -r 'select(.kind=="llm_call") | .purpose' <<<"$output")" = triage ]
	[ -z "$(jq -c 'select(.kind=="llm_call")' <<<"$output" | grep CANARY)" ]
	[ "$(wc -l <"$REQ")" -eq 1 ]
	run grep -c CANARY "$REQ" "$d/calls.jsonl"
	[ "$output" = "$REQ:0
$d/calls.jsonl:0" ]
	# ... while the incident itself passes through byte for byte.
	run -0 pipe "aiops-correlate --config '$CFG' '$d/in' | grep CANARY"
	[ "$output" = "$(cat "$CF/triage-canary-incident.jsonl")" ]
}

@test "triage: --record then --replay reproduces the groups, detected_ts included, without a server" {
	triage_setup 60
	d=$(scratch)
	ctl "{\"script\": $(jq -s -c . "$CF/triage-script.jsonl")}"
	aiops-correlate --config "$CFG" --max-duration-s 90 --record "$d/calls.jsonl" "$SCEN/db_latency.jsonl" |
		jq -c 'select(.kind=="group")' >"$d/a"
	[ "$(wc -l <"$d/calls.jsonl")" -eq 4 ]
	ctl '{"reset_log": true}'
	run pipe "aiops-correlate --config '$CFG' --max-duration-s 90 --replay '$d/calls.jsonl' '$SCEN/db_latency.jsonl' | jq -c 'select(.kind==\"group\")'"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$d/a")" ]
	[ ! -s "$REQ" ]
	# The replay provider type from the config works the same way.
	run pipe "aiops-correlate --config '$CFG' --set provider.type=replay --set provider.params.replay_file='$d/calls.jsonl' --max-duration-s 90 '$SCEN/db_latency.jsonl' | jq -c 'select(.kind==\"group\")'"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$d/a")" ]
}

@test "triage: several groups in flight keep the input order" {
	CONC=4 triage_setup 400
	ctl "{\"script\": $(jq -s -c . "$CF/triage-script.jsonl")}"
	run pipe "aiops-correlate --config '$CFG' --triage-batch 4 --max-duration-s 90 '$SCEN/db_latency.jsonl' | jq -r 'select(.kind != \"stage\" and .kind != \"stage_end\") | \"\(.kind) \(.id // .group_id)\"' | paste -sd' '"
	[ "$status" -eq 0 ]
	[ "$output" = "run null llm_call G0001 group G0001 llm_call G0002 group G0002 llm_call G0003 group G0003 llm_call G0004 group G0004 incident INC-1" ]
	[ "$(curl -s "http://127.0.0.1:$PORT/_stats" | jq .max_inflight)" -gt 1 ]
}

@test "span attribution: a delay seen only in the callers' client spans is blamed on the callee" {
	d=$BATS_TEST_TMPDIR
	aiops-synth --seed 5 --duration 1h --faults 1 --mix network_delay --client-spans --out "$d/ds" >/dev/null
	root=$(jq -r .root_cause.service "$d/ds/incidents.jsonl")
	aiops-load --dataset "$d/ds" >"$d/s.jsonl" 2>/dev/null
	aiops-correlate "$d/s.jsonl" >"$d/g.jsonl"
	[ "$(jq -r 'select(.kind == "group" and .detected) | .services[0].service' "$d/g.jsonl" | head -n 1)" = "$root" ]
	# The evidence says why: an edge gap on the callee that names its caller.
	run -0 jq -s --arg r "$root" 'map(select(.kind == "group" and .detected) | .evidence.spans[] |
		select(.service == $r and .measure == "edge_gap" and (.caller | type) == "string")) | length' "$d/g.jsonl"
	[ "$output" -gt 0 ]
	# The callers' slow spans were explained by their children, and counted.
	run -0 jq -c 'select(.kind == "stage_end" and .stage == "correlate") | .span_attr | [.explained > 0, .edge_gaps > 0, .self_times > 0]' "$d/g.jsonl"
	[ "$output" = "[true,true,true]" ]
	# Without the attribution (the per-operation detector alone) a caller
	# ranks first.
	aiops-correlate --no-span-attr "$d/s.jsonl" >"$d/g0.jsonl"
	top=$(jq -r 'select(.kind == "group" and .detected) | .services[0].service' "$d/g0.jsonl" | head -n 1)
	[ -n "$top" ] && [ "$top" != "$root" ]
	[ "$(jq -r 'select(.kind == "group") | .evidence.spans[] | .measure // empty | select(. != "fast")' "$d/g0.jsonl")" = "" ]
}

@test "fast spans: an operation that stops doing its work (returns at once, no calls) is its service's evidence" {
	# fail_fast: api answers in 0.05 ms instead of ~11 ms and calls nothing
	# for five minutes; nothing is slow and nothing errs (a code fault).
	run -0 aiops-correlate "$SCEN/fail_fast.jsonl"
	g=$(groups <<<"$output")
	[ "$(wc -l <<<"$g")" -eq 1 ]
	[ "$(jq -r '[.detected, .services[0].service, .start_ts] | join(" ")' <<<"$g")" = "true api 2024-05-01T00:15:00.000Z" ]
	run -0 jq -c '[.evidence.spans[] | select(.measure == "fast") | [.service, .operation, .count > 5, .observed_p95_ms < 1, .baseline_p95_ms > 5]]' <<<"$g"
	[ "$output" = '[["api","ListOrders",true,true,true]]' ]
	# web's spans got shorter too, but not ten times: no fast finding on web.
	[ "$(jq '[.evidence.spans[] | select(.service == "web")] | length' <<<"$g")" -eq 0 ]
	# Off, the spans say nothing and the p95 drop alone is one type: no group.
	run -0 aiops-correlate --span-fast-ratio 0 "$SCEN/fail_fast.jsonl"
	[ "$(groups <<<"$output" | jq -s 'map(select(.detected)) | length')" -eq 0 ]
	# The quiet world has no fast span.
	run -0 aiops-correlate "$SCEN/quiet.jsonl"
	[ "$(groups <<<"$output" | wc -l)" -eq 0 ]
	# Below 1 every span would be fast: a usage error, as is a ratio that is not a number.
	for x in 0.5 -1 nan; do
		run -2 aiops-correlate --span-fast-ratio "$x" "$SCEN/quiet.jsonl"
		[[ $output == *"span_fast_ratio must be 0 (off) or in [1, 1e6]"* ]] || { echo "$x: $output"; false; }
	done
}

@test "span attribution: a span_attr_pending below 1 is a usage error" {
	run aiops-correlate --span-attr-pending 0 /dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"span_attr_pending"* ]]
}

@test "nothing detected: stage_end says why, and aiops-harness prints it (issue 15, item 5)" {
	local d=$BATS_TEST_TMPDIR
	printf '{"kind":"x"}\n' >"$d/none"
	run -0 --separate-stderr aiops-correlate "$d/none"
	[ "$(tail -n1 <<<"$output" | jq -r .nothing_detected)" = "no log, metric or span records in the input" ]
	# metrics only, with min_types 2: the setting is named
	head -n 3000 "$AIOPS_ROOT/examples/data/metrics.jsonl" | aiops-load --metrics /dev/stdin --logs /dev/null --traces /dev/null --incidents /dev/null 2>/dev/null >"$d/metrics"
	run -0 --separate-stderr aiops-correlate "$d/metrics"
	[[ "$(tail -n1 <<<"$output" | jq -r .nothing_detected)" == "only metrics seen (3000 records) and min_types is 2 ("*"none with 3 metric series of one service changed for two points, that service's strength 18 and the group's score 24 (persist_detect, persist_strength, persist_score); pipeline.correlation.min_types: 1 lets one signal type detect)" ]]
	# something detected: no note
	run -0 pipe "aiops-load --dataset '$AIOPS_ROOT/examples/data' 2>/dev/null | aiops-correlate | tail -n1 | jq -r .nothing_detected"
	[ "$output" = null ]
	# the harness says it on stderr
	mkdir -p "$d/ds"
	jq -c 'select(.timestamp < "2024-05-01T10:05:00")' "$AIOPS_ROOT/examples/data/metrics.jsonl" >"$d/ds/metrics.jsonl"
	run -0 --separate-stderr aiops-harness run --config "$AIOPS_ROOT/examples/configs/basic.yaml" --dataset "$d/ds" --set mlflow.tracking_uri=null
	[[ "$stderr" == *"aiops-harness: note: nothing detected: only metrics seen ("*"records) and min_types is 2"* ]]
}
