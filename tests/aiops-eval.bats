#!/usr/bin/env bats
# aiops-eval (slice, score) and `aiops-harness eval` over synthetic case
# collections: the slicing, the controls, the reference rows, the bootstrap
# intervals against an independent implementation, failures shown as
# failed, agreement with aiops-metrics, and the canary.

load test_helper

setup() {
	cd "$AIOPS_ROOT" || exit 1
	# An eval is logged to MLflow: into the test's directory, not ./mlruns.
	export MLFLOW_TRACKING_URI=$BATS_TEST_TMPDIR/mlruns
}

# Record makers for hand-built final streams.
inc() { # id start resolved service fault [detected]
	jq -n -c --arg id "$1" --arg s "$2" --arg r "$3" --arg svc "$4" --arg f "$5" --arg d "${6:-}" \
		'{kind: "incident", id: $id, start_ts: $s, detected_ts: (if $d == "" then null else $d end),
		  resolved_ts: $r, root_cause: {service: $svc, fault: $f}}'
}
grp() { # id start detected end services(comma)
	jq -n -c --arg id "$1" --arg s "$2" --arg d "$3" --arg e "$4" --arg sv "$5" \
		'{kind: "group", id: $id, detected: true, start_ts: $s, detected_ts: $d, end_ts: $e,
		  services: ($sv | split(",") | map({service: .}))}'
}
rca() { # group-id services(comma) [error]
	jq -n -c --arg g "$1" --arg sv "$2" --arg e "${3:-}" \
		'{kind: "rca", group_id: $g, candidates: ($sv | split(",") | map({service: ., fault: "x"}))}
		 + (if $e == "" then {} else {error: $e} end)'
}
# A manifest row: arm system case incident role hours status wall dir
row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@"
}
header() {
	printf 'arm\tsystem\tcase\tincident\trole\thours\tstatus\twall_s\tdir\n'
}
T0=2024-05-01T10

@test "a long group over several incidents: eval and aiops-metrics report the same recall and AC@k" {
	d=$BATS_TEST_TMPDIR
	mkdir -p "$d/s"
	{
		inc I1 "$T0:00:00.000Z" "$T0:05:00.000Z" a f1
		inc I2 "$T0:10:00.000Z" "$T0:15:00.000Z" b f1
		inc I3 "$T0:20:00.000Z" "$T0:25:00.000Z" c f2
		grp G1 "$T0:00:30.000Z" "$T0:01:00.000Z" "$T0:24:00.000Z" b,a,c
		grp G2 "$T0:21:00.000Z" "$T0:21:30.000Z" "$T0:22:00.000Z" c
		rca G1 b,a,c
		rca G2 c
	} >"$d/s/final.jsonl"
	run -0 bash -c "aiops-metrics '$d/s/final.jsonl' | jq -c -s 'map(select(.kind == \"score\" and .incident_id == null
		and (.name | IN(\"detection_recall\", \"rca_ac1\", \"rca_ac3\", \"rca_avg5\"))) | {(.name): .value}) | add'"
	m=$output
	{
		header
		for i in 1 2 3; do row A sys "c$i" "I$i" case 0.1 ok 1 "$d/s"; done
	} >"$d/m.tsv"
	run -0 aiops-eval score --format json --table summary "$d/m.tsv"
	e=$(jq -c '.rows[] | select(.arm == "A" and .slice == "all")
		| {detection_recall: .recall.value, rca_ac1: .ac1.value, rca_ac3: .ac3.value, rca_avg5: .avg5.value}' <<<"$output")
	# One group matches one incident (I1: G1 lists a, ranked 2nd;
	# I3: G2; I2 is missed although G1 overlaps it).
	[ "$m" = '{"detection_recall":0.6666666667,"rca_ac1":0.3333333333,"rca_ac3":0.6666666667,"rca_avg5":0.6}' ]
	[ "$e" = "$m" ]
}

@test "bootstrap intervals equal an independent SplitMix64 percentile bootstrap" {
	d=$BATS_TEST_TMPDIR
	det=(1 0 1 1 0 1 1)
	header >"$d/m.tsv"
	for i in "${!det[@]}"; do
		mkdir -p "$d/c$i"
		{
			inc "I$i" "$T0:10:00.000Z" "$T0:15:00.000Z" a f
			if [ "${det[$i]}" = 1 ]; then
				grp G1 "$T0:10:10.000Z" "$T0:10:20.000Z" "$T0:12:00.000Z" a
				rca G1 a
			fi
		} >"$d/c$i/final.jsonl"
		row A sys "c$i" "I$i" case 0.1 ok 1 "$d/c$i" >>"$d/m.tsv"
	done
	run -0 aiops-eval score --format json --table summary --boot 7 --seed 11 "$d/m.tsv"
	got=$(jq -c '.rows[] | select(.arm == "A" and .slice == "all") | [.recall.ci_low, .recall.ci_high]' <<<"$output")
	want=$(python3 - "${det[@]}" <<-'PY'
	import math, sys
	x = [float(v) for v in sys.argv[1:]]
	M = (1 << 64) - 1
	state = 11
	def nxt():
	    global state
	    state = (state + 0x9e3779b97f4a7c15) & M
	    z = state
	    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
	    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
	    return z ^ (z >> 31)
	means = sorted(sum(x[nxt() % len(x)] for _ in x) / len(x) for _ in range(7))
	def pct(p):
	    k = max(1, math.ceil(p * len(means) / 100))
	    return means[min(k, len(means)) - 1]
	print("[%.10g,%.10g]" % (pct(2.5), pct(97.5)))
	PY
	)
	[ "$got" = "$want" ]
	# Not a degenerate interval: the seed matters and the bounds differ.
	[ "$got" != "[0.7142857143,0.7142857143]" ]
}

@test "controls: every detected group there is a false alarm, per window and per hour" {
	d=$BATS_TEST_TMPDIR
	mkdir -p "$d/c1" "$d/k1" "$d/c2" "$d/k2"
	inc I1 "$T0:10:00.000Z" "$T0:15:00.000Z" a f >"$d/c1/final.jsonl"
	inc I2 "$T0:10:00.000Z" "$T0:15:00.000Z" a f >"$d/c2/final.jsonl"
	{
		grp G1 "$T0:01:00.000Z" "$T0:01:10.000Z" "$T0:02:00.000Z" x
		grp G2 "$T0:03:00.000Z" "$T0:03:10.000Z" "$T0:04:00.000Z" y
		jq -n -c '{kind: "group", id: "G3", detected: false, start_ts: "2024-05-01T10:05:00.000Z",
			detected_ts: "2024-05-01T10:05:00.000Z"}'
	} >"$d/k1/final.jsonl"
	: >"$d/k2/final.jsonl"
	{
		header
		row A sys c1 I1 case 0.5 ok 1 "$d/c1"
		row A sys c1 I1 control 0.5 ok 1 "$d/k1"
		row A sys c2 I2 case 0.5 ok 1 "$d/c2"
		row A sys c2 I2 control 0.5 ok 1 "$d/k2"
	} >"$d/m.tsv"
	run -0 aiops-eval score --format json "$d/m.tsv"
	[ "$(jq -c '.rows[0] | [.controls, .false_alarms_per_control.value, .false_alarms_per_hour]' <<<"$output")" = '[2,1,2]' ]
	[ "$(jq -c '[.cases[] | select(.arm == "A") | .control_false_alarms]' <<<"$output")" = '[2,0]' ]
}

@test "reference rows: leave-one-out constant ranking and the random ranking's expected value" {
	d=$BATS_TEST_TMPDIR
	header >"$d/m.tsv"
	truths=(a a a b)
	for i in "${!truths[@]}"; do
		mkdir -p "$d/c$i"
		inc "I$i" "$T0:10:00.000Z" "$T0:15:00.000Z" "${truths[$i]}" f >"$d/c$i/final.jsonl"
		printf 'a\nb\nc\nd\n' >"$d/c$i/services.txt"
		row A sys "c$i" "I$i" case 0.1 ok 1 "$d/c$i" >>"$d/m.tsv"
	done
	run -0 aiops-eval score --format json "$d/m.tsv"
	# LOO: the a-cases see {a, a, b} -> a first; the b-case sees {a, a, a}.
	[ "$(jq -c '.rows[] | select(.arm == "ref:constant-loo" and .slice == "all") | [.ac1.value, .ac3.value]' <<<"$output")" = '[0.75,0.75]' ]
	[ "$(jq -c '[.cases[] | select(.arm == "ref:constant-loo") | .top5]' <<<"$output")" = '["a,b","a,b","a,b","a"]' ]
	# Random over 4 services: P(top k) = k/4.
	[ "$(jq -c '.rows[] | select(.arm == "ref:random" and .slice == "all") | [.ac1.value, .ac3.value, .ac5.value, .avg5.value]' <<<"$output")" = '[0.25,0.75,1,0.7]' ]
	# Lift against the first arm (A found nothing: AC@1 0).
	[ "$(jq -c '.rows[] | select(.arm == "ref:random" and .slice == "all") | .lift_ac1' <<<"$output")" = 0.25 ]
}

@test "a failed pipeline and a failed model call are shown as failed, never as 0" {
	d=$BATS_TEST_TMPDIR
	mkdir -p "$d/c1" "$d/c2"
	{
		inc I1 "$T0:10:00.000Z" "$T0:15:00.000Z" a f
		grp G1 "$T0:10:10.000Z" "$T0:10:20.000Z" "$T0:12:00.000Z" a
		rca G1 "" "model call failed: HTTP 500"
		jq -n -c '{kind: "stage_end", stage: "rca", llm: {calls: 1, failures: 1}}'
	} >"$d/c1/final.jsonl"
	{
		header
		row A sys c1 I1 case 0.1 ok 1 "$d/c1"
		row A sys c2 I2 case 0.1 "failed: stage aiops-rca failed (exit 1)" 1 "$d/c2"
	} >"$d/m.tsv"
	run -0 aiops-eval score --format json "$d/m.tsv"
	[ "$(jq -c '.rows[0] | [.failed, .ac1.value, .ac1.failed, .llm_failures]' <<<"$output")" = '[2,null,true,1]' ]
	[ "$(jq -c '[.cases[] | select(.arm == "A") | [.failed, .rca_failed, .rank, .ac1]]' <<<"$output")" = '[[false,true,null,null],[true,false,null,null]]' ]
	run -0 aiops-eval score --format tsv --table summary "$d/m.tsv"
	[ "$(awk -F'\t' 'NR == 2 { print $4, $10 }' <<<"$output")" = "2 failed" ]
	run -0 aiops-eval score --format tsv --table cases "$d/m.tsv"
	[ "$(awk -F'\t' '$1 == "A" { print $6 "/" $7 }' <<<"$output")" = "-/failed
failed/failed" ]
}

@test "remediation match, LLM tokens and cost per row and case; cost n/a when unpriced, never 0" {
	d=$BATS_TEST_TMPDIR
	call() { # model tokens_in tokens_out
		jq -n -c --arg m "$1" --argjson i "$2" --argjson o "$3" \
			'{kind: "llm_call", stage: "rca", model: $m, tokens_in: $i, tokens_out: $o}'
	}
	rem() { # group action
		jq -n -c --arg g "$1" --arg a "$2" '{kind: "remediation", group_id: $g, steps: [{action: $a}]}'
	}
	header >"$d/m.tsv"
	for i in 1 2 3; do
		mkdir -p "$d/c$i"
		{
			inc "I$i" "$T0:10:00.000Z" "$T0:15:00.000Z" a f | if [ $i -lt 3 ]; then jq -c '.expected_actions = ["restart"]'; else cat; fi
			grp G1 "$T0:10:10.000Z" "$T0:10:20.000Z" "$T0:12:00.000Z" a
			rca G1 a
			rem G1 "$([ $i = 1 ] && echo restart || echo scale_out)"
			call m1 1000 200
		} >"$d/c$i/final.jsonl"
		row A sys "c$i" "I$i" case 0.1 ok 1 "$d/c$i" >>"$d/m.tsv"
	done
	mkdir -p "$d/k1"
	call m1 500 100 >"$d/k1/final.jsonl"
	row A sys c1 I1 control 0.1 ok 1 "$d/k1" >>"$d/m.tsv"
	prices='{"m1": {"input_per_1k": 0.01, "output_per_1k": 0.1}}'
	run -0 aiops-eval score --format json --prices "$prices" "$d/m.tsv"
	# I1 restart = expected, I2 scale_out != restart, I3 has no label.
	[ "$(jq -c '.rows[0] | [.remediation_match.value, .remediation_match.n, .llm_tokens, .cost_usd]' <<<"$output")" = '[0.5,2,4200,0.105]' ]
	[ "$(jq -c '[.cases[] | select(.arm == "A") | [.remediation_match, .llm_tokens, .cost_usd]]' <<<"$output")" = '[[true,1800,0.045],[false,1200,0.03],[null,1200,0.03]]' ]
	# No price table: tokens, and the cost unknown.
	run -0 aiops-eval score --format json "$d/m.tsv"
	[ "$(jq -c '.rows[0] | [.llm_tokens, .cost_usd]' <<<"$output")" = '[4200,null]' ]
	run -0 aiops-eval score --format tsv --table summary "$d/m.tsv"
	[ "$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i } NR == 2 { print $c["LLM tokens"], $c["cost USD"], $c["remediation [95% CI]"] }' <<<"$output")" = "4200 n/a 0.500 [0.000,1.000]" ]
	# A call of a model the table does not price: the cost is unknown.
	call m2 10 10 >>"$d/c2/final.jsonl"
	run -0 aiops-eval score --format json --prices "$prices" "$d/m.tsv"
	[ "$(jq -c '[.rows[0].cost_usd, [.cases[] | select(.arm == "A") | .cost_usd]]' <<<"$output")" = '[null,[0.045,null,0.03]]' ]
	run -2 aiops-eval score --prices '[1]' "$d/m.tsv"
}

@test "lift and McNemar's exact test against the first arm, case by case" {
	d=$BATS_TEST_TMPDIR
	header >"$d/m.tsv"
	for i in 1 2 3 4 5 6; do
		for arm in A B; do
			mkdir -p "$d/$arm$i"
			top=a
			# A finds cases 1-2, B finds 1-6.
			if [ $arm = A ] && [ $i -gt 2 ]; then top=z; fi
			{
				inc "I$i" "$T0:10:00.000Z" "$T0:15:00.000Z" a f
				grp G1 "$T0:10:10.000Z" "$T0:10:20.000Z" "$T0:12:00.000Z" a
				rca G1 "$top"
			} >"$d/$arm$i/final.jsonl"
			row $arm sys "c$i" "I$i" case 0.1 ok 1 "$d/$arm$i" >>"$d/m.tsv"
		done
	done
	run -0 aiops-eval score --format json --table summary "$d/m.tsv"
	# b = 4 cases B right and A wrong, c = 0: p = 2 * 0.5^4.
	[ "$(jq -c '.rows[] | select(.arm == "B" and .slice == "all") | [.lift_ac1, .mcnemar_ac1.p, .mcnemar_ac1.b, .mcnemar_ac1.c]' <<<"$output")" = '[0.6666666667,0.125,4,0]' ]
	[ "$(jq -c '.rows[] | select(.arm == "A" and .slice == "all") | [.lift_ac1, .mcnemar_ac1]' <<<"$output")" = '[null,null]' ]
}

@test "score: cases with and without traces after the incident's start (DIR/traces.txt) are slices of their system" {
	d=$BATS_TEST_TMPDIR
	mkdir -p "$d/a" "$d/b" "$d/c"
	{
		inc I1 "$T0:00:00.000Z" "$T0:05:00.000Z" a f1
		grp G1 "$T0:00:30.000Z" "$T0:01:00.000Z" "$T0:04:00.000Z" a
		rca G1 a
	} >"$d/a/final.jsonl"
	echo 12 >"$d/a/traces.txt"
	{
		inc I2 "$T0:00:00.000Z" "$T0:05:00.000Z" b f1
		grp G2 "$T0:00:30.000Z" "$T0:01:00.000Z" "$T0:04:00.000Z" c,b
		rca G2 c,b
	} >"$d/b/final.jsonl"
	echo 0 >"$d/b/traces.txt"
	# No traces.txt: not said, in neither slice.
	{
		inc I3 "$T0:00:00.000Z" "$T0:05:00.000Z" c f1
		grp G3 "$T0:00:30.000Z" "$T0:01:00.000Z" "$T0:04:00.000Z" c
		rca G3 c
	} >"$d/c/final.jsonl"
	{
		header
		row A sys c1 I1 case 0.1 ok 1 "$d/a"
		row A sys c2 I2 case 0.1 ok 1 "$d/b"
		row A sys c3 I3 case 0.1 ok 1 "$d/c"
	} >"$d/m.tsv"
	run -0 aiops-eval score --format json --table summary "$d/m.tsv"
	[ "$(jq -c '[.rows[] | select(.arm == "A") | [.slice, .cases, .ac1.value]]' <<<"$output")" = \
		'[["all",3,0.6666666667],["fault=f1",3,0.6666666667],["traces=yes",1,1],["traces=no",1,0]]' ]
	# The reference rows have the slices too.
	[ "$(jq -c '[.rows[] | select(.arm == "ref:random") | .slice]' <<<"$output")" = '["all","fault=f1","traces=yes","traces=no"]' ]
	# A system whose cases all had traces (or did not say): no such slice.
	{ header; row A sys c1 I1 case 0.1 ok 1 "$d/a"; row A sys c3 I3 case 0.1 ok 1 "$d/c"; } >"$d/m2.tsv"
	run -0 aiops-eval score --format json --table summary "$d/m2.tsv"
	[ "$(jq -c '[.rows[] | select(.arm == "A") | .slice]' <<<"$output")" = '["all","fault=f1"]' ]
	# Two systems: the slice names its system.
	{ header; row A s1 c1 I1 case 0.1 ok 1 "$d/a"; row A s1 c2 I2 case 0.1 ok 1 "$d/b"; row A s2 c3 I3 case 0.1 ok 1 "$d/c"; } >"$d/m3.tsv"
	run -0 aiops-eval score --format json --table summary "$d/m3.tsv"
	[ "$(jq -c '[.rows[] | select(.arm == "A") | .slice]' <<<"$output")" = \
		'["all","system=s1","system=s2","fault=f1","system=s1,traces=yes","system=s1,traces=no"]' ]
}

@test "slice cuts a window around every incident and a fault-free control before it" {
	d=$BATS_TEST_TMPDIR
	aiops-synth --seed 5 --duration 4h --faults 3 --out "$d/data" >/dev/null
	aiops-load --dataset "$d/data" >"$d/stream.jsonl"
	run -0 aiops-eval slice --pre 300 --post 420 --out "$d/s" "$d/stream.jsonl"
	[ "$(wc -l <"$d/s/cases.tsv")" -eq 4 ]
	while IFS=$'\t' read -r cid inc fault _ start ws we cs ce nsig _; do
		[ "$cid" = case ] && continue
		# The window: exactly the signals in [start - 300 s, start + 420 s).
		want=$(jq -c --arg a "$ws" --arg b "$we" 'select((.kind | IN("log", "metric", "span")) and .ts >= $a and .ts < $b)' "$d/stream.jsonl" | wc -l)
		[ "$(grep -vc '"kind":"\(run\|incident\)"' "$d/s/$cid/case.jsonl")" -eq "$want" ]
		[ "$nsig" -eq "$want" ]
		[ "$(jq -r 'select(.kind == "incident") | .id' "$d/s/$cid/case.jsonl")" = "$inc" ]
		[ "$(head -c 14 "$d/s/$cid/case.jsonl")" = '{"kind":"run",' ]
		[ "$(jq -r 'select(.kind == "incident" and .id == "'"$inc"'") | .root_cause.fault' "$d/stream.jsonl")" = "$fault" ]
		# The control: as long, ends by the start, no incident in it.
		[ "$cs" != - ]
		[ "$(jq -n --arg a "$cs" --arg b "$ce" '($b | sub("\\.000Z$"; "Z") | fromdate) - ($a | sub("\\.000Z$"; "Z") | fromdate)')" = 720 ]
		[[ "$ce" < "$start" || "$ce" = "$start" ]]
		[ "$(grep -c '"kind":"incident"' "$d/s/$cid/control.jsonl")" -eq 0 ]
		[ "$(jq -c --arg a "$cs" --arg b "$ce" 'select(.kind == "incident" and .start_ts < $b and .resolved_ts > $a)' "$d/stream.jsonl")" = "" ]
		[ "$(jq -s --arg a "$cs" --arg b "$ce" 'map(select(.kind != "run") | .ts >= $a and .ts < $b) | all' "$d/s/$cid/control.jsonl")" = true ]
		[ -s "$d/s/$cid/services.txt" ]
		# traces.txt: the window's spans from the incident's start on.
		want=$(jq -c --arg a "$start" --arg b "$we" 'select(.kind == "span" and .ts >= $a and .ts < $b)' "$d/stream.jsonl" | wc -l)
		[ "$want" -gt 0 ]
		[ "$(cat "$d/s/$cid/traces.txt")" -eq "$want" ]
	done <"$d/s/cases.tsv"
}

# A four-hour synthetic set with three faults eight minutes apart early on
# (as on Nezha), loaded into DIR/stream.jsonl.
close_faults() { # dir
	aiops-synth --seed 5 --duration 4h --faults 3 --out "$1/data" >/dev/null
	jq -c 'input_line_number as $i
		| .start_ts = "2024-05-01T10:\(40 + 8 * ($i - 1)):00.000Z"
		| .resolved_ts = "2024-05-01T10:\(43 + 8 * ($i - 1)):00.000Z" | del(.detected_ts)' \
		"$1/data/incidents.jsonl" >"$1/inc" && mv "$1/inc" "$1/data/incidents.jsonl"
	aiops-load --dataset "$1/data" >"$1/stream.jsonl"
}

@test "slice: controls from a fault-free stretch when no window fits before the incident; never on an incident, never shared" {
	d=$BATS_TEST_TMPDIR
	# Three faults eight minutes apart, early in a four-hour set (as on
	# Nezha): a 35-minute window fits before the first only.
	close_faults "$d"
	run -0 aiops-eval slice --pre 1500 --post 600 --out "$d/s" "$d/stream.jsonl"
	[ "$(awk -F'\t' 'NR > 1 { print $11 }' "$d/s/cases.tsv" | tr '\n' ' ')" = "before fault-free fault-free " ]
	# A fault-free control is at least one window length (2100 s) clear of
	# every incident's span [start, resolved + post).
	last=$(jq -r 'select(.kind == "incident") | .resolved_ts' "$d/stream.jsonl" | sort | tail -1)
	free_from=$(jq -n -r --arg l "$last" '($l | sub("\\.000Z$"; "Z") | fromdate) + 600 + 2100 | todate')
	while IFS=$'\t' read -r cid _ _ _ _ _ _ cs ce _ from; do
		[ "$cid" = case ] && continue
		[ "$(jq -n --arg a "$cs" --arg b "$ce" '($b | sub("\\.000Z$"; "Z") | fromdate) - ($a | sub("\\.000Z$"; "Z") | fromdate)')" = 2100 ]
		# On no incident (with post_s after its end).
		[ "$(jq -c --arg a "$cs" --arg b "$ce" 'select(.kind == "incident" and .start_ts < $b
			and ((.resolved_ts | sub("\\.000Z$"; "Z") | fromdate) + 600 | todate) > ($a | sub("\\.000Z$"; "Z")))' "$d/stream.jsonl")" = "" ]
		if [ "$from" = fault-free ]; then [[ "${cs%.000Z}Z" > "$free_from" || "${cs%.000Z}Z" = "$free_from" ]]; fi
		# It holds the stretch's signals and no label.
		[ "$(grep -c '"kind":"incident"' "$d/s/$cid/control.jsonl")" -eq 0 ]
		want=$(jq -c --arg a "$cs" --arg b "$ce" 'select((.kind | IN("log", "metric", "span")) and .ts >= $a and .ts < $b)' "$d/stream.jsonl" | wc -l)
		[ "$want" -gt 0 ]
		[ "$(grep -vc '"kind":"run"' "$d/s/$cid/control.jsonl")" -eq "$want" ]
	done <"$d/s/cases.tsv"
	# Every control its own window: none counted twice.
	[ "$(awk -F'\t' 'NR > 1 { print $8 }' "$d/s/cases.tsv" | sort | uniq -d)" = "" ]
	# Deterministic: the same cut again.
	aiops-eval slice --pre 1500 --post 600 --out "$d/t" "$d/stream.jsonl"
	cmp "$d/s/cases.tsv" "$d/t/cases.tsv"
	# A stretch with no signal (data kept only around the faults, as in the
	# GAIA alerts) gives no control: nothing could false-alarm there.
	jq -c 'select((.kind | IN("log", "metric", "span")) and .ts >= "2024-05-01T11:30:00.000Z"
		and .ts < "2024-05-01T13:59:00.000Z" | not)' "$d/stream.jsonl" >"$d/gappy.jsonl"
	run -0 aiops-eval slice --pre 1500 --post 600 --out "$d/g" "$d/gappy.jsonl"
	[ "$(awk -F'\t' 'NR > 1 { print $8 $11 }' "$d/g/cases.tsv" | tr '\n' ' ')" = "2024-05-01T10:05:00.000Zbefore -empty -empty " ]
	[ "$(find "$d/g" -name control.jsonl | wc -l)" -eq 1 ]
}

@test "slice --reference: the last fault-free stretch's end, its signals only, no control on it" {
	d=$BATS_TEST_TMPDIR
	close_faults "$d"
	run -0 --separate-stderr aiops-eval slice --pre 1500 --post 600 --reference 1800 --out "$d/s" "$d/stream.jsonl"
	last=$(jq -r 'select(.kind | IN("log", "metric", "span")) | .ts' "$d/stream.jsonl" | sort | tail -1)
	rs=$(jq -n -r --arg l "$last" '($l | sub("\\.[0-9]+Z$"; "Z") | fromdate) - 1800 | todate')
	[[ "$stderr" == *"reference ${rs%Z}."*"Z to $last, "*" signals"* ]]
	n=${stderr##*, }
	n=${n%% signals*}
	# Exactly the signals of [rs, last), after the run record; no label.
	want=$(jq -c --arg a "${rs%Z}" --arg b "$last" 'select((.kind | IN("log", "metric", "span")) and .ts >= $a and .ts < $b)' "$d/stream.jsonl" | wc -l)
	[ "$want" -gt 0 ]
	[ "$n" -eq "$want" ]
	[ "$(grep -vc '"kind":"run"' "$d/s/reference.jsonl")" -eq "$want" ]
	[ "$(head -c 14 "$d/s/reference.jsonl")" = '{"kind":"run",' ]
	[ "$(grep -c '"kind":"incident"' "$d/s/reference.jsonl")" -eq 0 ]
	# No control overlaps it (each ends by its start).
	while IFS=$'\t' read -r cid _ _ _ _ _ _ cs ce _ _; do
		[ "$cid" = case ] || [ "$cs" = - ] && continue
		[[ "$ce" < "${rs%Z}" || "$ce" = "${rs%Z}.000Z" ]]
	done <"$d/s/cases.tsv"
	# Too long for any stretch: said, and the file holds only the run record.
	run -0 --separate-stderr aiops-eval slice --pre 1500 --post 600 --reference 20000 --out "$d/t" "$d/stream.jsonl"
	[[ "$stderr" == *"no fault-free stretch of 20000 s for the reference: the cases run without one"* ]]
	[ "$(wc -l <"$d/t/reference.jsonl")" -eq 1 ]
}

@test "slice: a control window is never given to two incidents" {
	d=$BATS_TEST_TMPDIR
	aiops-synth --seed 5 --duration 1h --faults 3 --out "$d/data" >/dev/null
	# Two faults a minute apart: the latest window before the second is
	# the first's.
	jq -c 'input_line_number as $i | .start_ts = "2024-05-01T10:\(40 + $i):00.000Z"
		| .resolved_ts = "2024-05-01T10:\(41 + $i):00.000Z"' "$d/data/incidents.jsonl" | head -2 >"$d/inc"
	mv "$d/inc" "$d/data/incidents.jsonl"
	aiops-load --dataset "$d/data" >"$d/stream.jsonl"
	run -0 aiops-eval slice --pre 300 --post 60 --out "$d/s" "$d/stream.jsonl"
	[ "$(awk -F'\t' 'NR > 1 { print $8 }' "$d/s/cases.tsv" | sort | uniq -d)" = "" ]
	[ "$(awk -F'\t' 'NR > 1 && $8 != "-"' "$d/s/cases.tsv" | wc -l)" -eq 2 ]
}

@test "slice keeps alert records in the windows (alert-only datasets)" {
	d=$BATS_TEST_TMPDIR
	(cd "$FIX/alerts" && aiops-load --alerts gaia --tz +08:00 2>/dev/null) >"$d/stream.jsonl"
	[ "$(grep -c '"kind":"alert"' "$d/stream.jsonl")" -gt 0 ]
	run -0 aiops-eval slice --no-control --pre 600 --post 600 --out "$d/s" "$d/stream.jsonl"
	n=0
	while IFS=$'\t' read -r cid _ _ _ _ ws we _ _ nsig _; do
		[ "$cid" = case ] && continue
		want=$(jq -c --arg a "$ws" --arg b "$we" 'select(.kind == "alert" and .ts >= $a and .ts < $b)' "$d/stream.jsonl" | wc -l)
		[ "$(grep -c '"kind":"alert"' "$d/s/$cid/case.jsonl")" -eq "$want" ]
		[ "$nsig" -eq "$want" ]
		n=$((n + want))
	done <"$d/s/cases.tsv"
	[ "$n" -gt 0 ]
}

@test "slice --no-control writes no control; a control that does not fit is left out" {
	d=$BATS_TEST_TMPDIR
	aiops-synth --seed 5 --duration 1h --faults 3 --out "$d/data" >/dev/null
	aiops-load --dataset "$d/data" >"$d/stream.jsonl"
	run -0 aiops-eval slice --no-control --out "$d/s" "$d/stream.jsonl"
	[ "$(cut -f8 "$d/s/cases.tsv" | sort -u | tr '\n' ' ')" = "- control_start " ]
	[ -z "$(find "$d/s" -name control.jsonl)" ]
	# 20-minute windows in a one-hour set with three faults: no room.
	run -0 aiops-eval slice --out "$d/t" "$d/stream.jsonl"
	[ "$(cut -f8 "$d/t/cases.tsv" | sort -u | tr '\n' ' ')" = "- control_start " ]
}

@test "aiops-eval: usage errors exit 2" {
	run -2 aiops-eval
	run -2 aiops-eval frobnicate
	[ "${lines[0]}" = "aiops-eval: unknown command 'frobnicate'" ]
	run -2 aiops-eval slice --pre x --out /tmp/x f
	[ "$output" = "aiops-eval: --pre: 'x' is not a number >= 0" ]
	run -2 aiops-eval score --format xml m
	run -2 aiops-eval cut --drop smell f
	[ "$output" = "aiops-eval: --drop: 'smell' is not log, metric, span or alert" ]
	run -2 aiops-eval cut --until yesterday f
	run -0 aiops-eval --help
	[ "${lines[0]%% *}" = "usage:" ]
}

# The driver over synthetic data.

synth_set() { # dir seed
	[ -d "$1" ] || aiops-synth --seed "$2" --duration 5h --faults 5 --out "$1" >/dev/null
}

@test "harness eval: scores the baseline over every incident of a dataset, with controls" {
	d=$BATS_TEST_TMPDIR
	synth_set "$d/data" 7
	run -0 aiops-harness eval --config examples/configs/basic.yaml --dataset "$d/data" \
		--format json --keep "$d/k" --quiet -j 2
	# Three controls: the windows before INC-002 and INC-005 are those of
	# INC-001 and INC-004 (not counted twice), and no stretch of this set is
	# a window clear of every fault.
	[ "$(jq -c '.rows[0] | [.arm, .slice, .cases, .failed, .controls]' <<<"$output")" = '["basic","all",5,0,3]' ]
	[ "$(jq '[.cases[] | select(.arm == "basic")] | length' <<<"$output")" -eq 5 ]
	[ "$(jq -r '.rows[0].recall.value >= 0.6' <<<"$output")" = true ]
	[ "$(jq -r '[.rows[] | .arm] | unique | join(",")' <<<"$output")" = "basic,ref:constant-loo,ref:random" ]
	# The kept run: every case's streams, the manifest, all four formats.
	for f in text md tsv json; do [ -s "$d/k/eval.$f" ]; done
	[ "$(find "$d/k/runs/1" -name 02-rca.jsonl | wc -l)" -eq 8 ]
	# Each job has its case's traces.txt (the slices with and without traces).
	[ "$(find "$d/k/runs/1" -name traces.txt | wc -l)" -eq 8 ]
	[ "$(jq -c . "$d/k/eval.json")" = "$(jq -c . <<<"$output")" ]
	# The same run again, one job at a time: the same numbers.
	first=$(jq -c 'del(.rows[].seconds_per_case, .cases[].seconds)' <<<"$output")
	run -0 aiops-harness eval --config examples/configs/basic.yaml --dataset "$d/data" \
		--format json --quiet -j 1
	[ "$(jq -c 'del(.rows[].seconds_per_case, .cases[].seconds)' <<<"$output")" = "$first" ]
}

@test "harness eval: delay and ablation arms, each one more row, their inputs cut as documented" {
	d=$BATS_TEST_TMPDIR
	synth_set "$d/data" 7
	run -0 aiops-harness eval --config examples/configs/basic.yaml --dataset "$d/data" \
		--delays 0,120 --ablate logs,metrics --format json --table summary --keep "$d/k" --quiet -j 2
	[ "$(jq -r '[.rows[] | select(.slice == "all") | .arm] | join(" ")' <<<"$output")" = \
		"basic basic@delay=0s basic@delay=120s basic-no-logs basic-no-metrics ref:constant-loo ref:random" ]
	# A delay arm runs no control (a control has no start to cut at); an
	# ablation arm runs them, cut the same way.
	[ "$(jq -c '[.rows[] | select(.slice == "all" and (.reference | not)) | [.cases, .failed, .controls]]' <<<"$output")" = \
		'[[5,0,3],[5,0,0],[5,0,0],[5,0,3],[5,0,3]]' ]
	# The delay arm's input: the case window up to start + 120 s, no later.
	n=0
	while IFS=$'\t' read -r cid _ _ _ start ws _; do
		[ "$cid" = case ] && continue
		until=$(jq -n -r --arg s "$start" '($s | sub("\\.000Z$"; "Z") | fromdate) + 120 | todate | sub("Z$"; ".000Z")')
		in=$d/k/runs/3/c/data/$cid/case/input.jsonl
		want=$(jq -c --arg a "$ws" --arg b "$until" 'select((.kind | IN("log", "metric", "span")) and .ts >= $a and .ts < $b)' "$d/k/src/0/cases/$cid/case.jsonl" | wc -l)
		[ "$want" -gt 0 ]
		[ "$(jq -c 'select(.kind | IN("log", "metric", "span"))' "$in" | wc -l)" -eq "$want" ]
		[ "$(grep -c '"kind":"incident"' "$in")" -ge 1 ]
		[ ! -e "$d/k/runs/3/c/data/$cid/control" ]
		n=$((n + 1))
	done <"$d/k/src/0/cases/cases.tsv"
	[ "$n" -eq 5 ]
	# The ablation arms: no record of the dropped kind, every other kept.
	for f in "$d"/k/runs/4/c/data/*/*/input.jsonl; do
		[ "$(grep -c '"kind":"log"' "$f")" -eq 0 ]
		[ "$(grep -c '"kind":"\(metric\|span\)"' "$f")" -eq "$(grep -c '"kind":"\(metric\|span\)"' "$(dirname "$f")/window.jsonl")" ]
	done
	[ "$(grep -c '"kind":"log"' "$d"/k/runs/1/c/data/001-INC-001/case/input.jsonl)" -gt 0 ]
	[ "$(cat "$d"/k/runs/5/c/data/*/*/input.jsonl | grep -c '"kind":"metric"')" -eq 0 ]
	[ "$(find "$d/k/runs/5/c" -name input.jsonl | wc -l)" -eq 8 ]
}

@test "harness eval: the noise arm merges aiops-synth distractors into every window, in time order" {
	d=$BATS_TEST_TMPDIR
	synth_set "$d/data" 7
	run -0 aiops-harness eval --config examples/configs/basic.yaml --dataset "$d/data" \
		--noise --format json --table summary --keep "$d/k" --quiet -j 2
	[ "$(jq -c '[.rows[] | select(.slice == "all" and (.reference | not)) | [.arm, .cases, .failed, .controls]]' <<<"$output")" = \
		'[["basic",5,0,3],["basic+noise",5,0,3]]' ]
	n=0
	while IFS=$'\t' read -r cid _ _ _ _ ws we cs ce _; do
		[ "$cid" = case ] && continue
		for role in case control; do
			jd=$d/k/runs/2/c/data/$cid/$role
			[ -e "$jd" ] || continue
			if [ $role = case ]; then a=$ws b=$we; else a=$cs b=$ce; fi
			# The window's own lines, unchanged and in their order.
			cmp <(grep -v '"service":"distractor-' "$jd/input.jsonl") "$jd/window.jsonl"
			# Distractors: only there, only in the window, all signals in time order.
			run -0 jq -s -c --arg a "$a" --arg b "$b" '[map(select(.service // "" | startswith("distractor-")))
				| length > 0, all(.ts >= $a and .ts < $b)] + [map(select(.kind | IN("log", "metric", "span")) | .ts) | . == sort]' "$jd/input.jsonl"
			[ "$output" = '[true,true,true]' ]
			# The labels still last.
			[ $role = control ] || [ "$(tail -n 1 "$jd/input.jsonl" | jq -r .kind)" = incident ]
			n=$((n + 1))
		done
	done <"$d/k/src/0/cases/cases.tsv"
	[ "$n" -eq 8 ]
	[ "$(grep -c distractor- "$d"/k/runs/1/c/data/*/*/input.jsonl | awk -F: '{ s += $2 } END { print s }')" -eq 0 ]
}

@test "harness eval: the evaluation is one MLflow run with the tables as artifacts and the headline numbers as metrics" {
	d=$BATS_TEST_TMPDIR
	synth_set "$d/data" 7
	run -0 --separate-stderr aiops-harness eval --config examples/configs/basic.yaml --dataset "$d/data" \
		--format json --keep "$d/k" -j 2
	json=$output
	[[ "$stderr" == *"aiops-harness: eval: MLflow run "* ]]
	# One run: the evaluation's (the case pipes log nothing).
	[ "$(find "$d/mlruns" -mindepth 2 -maxdepth 2 -type d ! -name tags | wc -l)" -eq 1 ]
	r=$(find "$d/mlruns" -mindepth 2 -maxdepth 2 -type d ! -name tags)
	cmp "$r/artifacts/eval/table.tsv" "$d/k/eval.tsv"
	cmp "$r/artifacts/eval/table.md" "$d/k/eval.md"
	want=$(jq -r '.rows[] | select(.arm == "basic" and .slice == "all") | .recall.value' <<<"$json")
	[ "$(awk '{ print $2 }' "$r/metrics/basic.all.recall")" = "$want" ]
	want=$(jq -r '.rows[] | select(.arm == "ref:random" and .slice == "all") | .ac3.value' <<<"$json")
	[ "$(awk '{ print $2 }' "$r/metrics/ref_random.all.ac3")" = "$want" ]
	[ -s "$r/metrics/basic.all.false_alarms_per_control" ]
	# Unknown numbers are not metrics (no price table: no cost).
	[ ! -e "$r/metrics/basic.all.cost_usd" ]
	# No count twins (NAME.n) nor pipeline counters: this run has no pipeline.
	[ -z "$(ls "$r/metrics" | grep '\.n$')" ]
	[ ! -e "$r/metrics/aiops.rejects" ] && [ ! -e "$r/metrics/aiops.llm_calls" ]
	[[ "$(cat "$r/params/mlflow.tracking_uri")" == file:///*/mlruns ]]
	# Off with mlflow.enabled=false.
	rm -rf "$d/mlruns"
	run -0 aiops-harness eval --config examples/configs/basic.yaml --dataset "$d/data" \
		--set mlflow.enabled=false --format json --quiet
	[ ! -e "$d/mlruns" ]
}

@test "harness eval: cases directories, per system rows, md output" {
	d=$BATS_TEST_TMPDIR
	synth_set "$d/cases/shopA" 8
	synth_set "$d/cases/shopB" 9
	synth_set "$d/other/one" 10
	run -0 aiops-harness eval --config examples/configs/basic.yaml --cases "$d/cases" --system shops \
		--cases "$d/other" --format md --table summary --quiet
	[ "${lines[1]:0:4}" = "|---" ]
	grep -q '^| basic | system=shops | 10 | 0 |' <<<"$output"
	grep -q '^| basic | system=other | 5 | 0 |' <<<"$output"
	grep -q '^| basic | all | 15 | 0 |' <<<"$output"
}

@test "harness eval: a stage that fails marks its cases failed and says so" {
	d=$BATS_TEST_TMPDIR
	synth_set "$d/data" 7
	run -0 aiops-harness eval --config examples/configs/basic.yaml --dataset "$d/data" \
		--set pipeline.rca.command=false --no-control --format tsv --table summary --quiet
	grep -q '^aiops-harness: eval: basic 001-INC-001 case: stage rca (false) failed (exit 1)$' <<<"$output"
	[ "$(awk -F'\t' '$1 == "basic" && $2 == "all" { print $3, $4, $5, $10 }' <<<"$output")" = "5 5 failed failed" ]
}

@test "harness eval --stream: each config over each whole dataset as one stream, a row each with the run's own scores" {
	d=$BATS_TEST_TMPDIR
	synth_set "$d/a" 7
	synth_set "$d/b" 8
	run -0 --separate-stderr aiops-harness eval --stream --config examples/configs/basic.yaml \
		--dataset "$d/a" --system shop --dataset "$d/b" --system shop --format json --keep "$d/k" --quiet
	[ "$(jq -c '[.rows[] | [.arm, .system, .dataset, .status, .incidents]]' <<<"$output")" = \
		'[["basic","shop","a","ok",5],["basic","shop","b","ok",5]]' ]
	# The numbers are those of the pipe run by hand on the whole stream.
	for x in a b; do
		aiops-load --dataset "$d/$x" | aiops-correlate | aiops-rca | aiops-metrics >"$d/$x.jsonl"
		want=$(jq -c -s 'map(select(.kind == "score" and (has("incident_id") | not)) | {key: .name, value})
			| from_entries | [.detection_recall, .rca_ac1, .rca_ac3, .fragmentation, .groups_spanning, .false_positives]' "$d/$x.jsonl")
		[ "$(jq -c --arg x "$x" '.rows[] | select(.dataset == $x) | [.recall, .ac1, .ac3, .fragmentation, .groups_spanning, .false_positives]' <<<"$output")" = "$want" ]
	done
	# Kept: every run's stages and the table in four formats.
	for f in text md tsv json; do [ -s "$d/k/streams.$f" ]; done
	[ -s "$d/k/runs/1/s/0/a/02-rca.jsonl" ] && [ -s "$d/k/runs/1/s/1/b/02-rca.jsonl" ]
	# One MLflow run: the table as artifacts, each run's scores as metrics.
	r=$(find "$d/mlruns" -mindepth 2 -maxdepth 2 -type d ! -name tags)
	[ "$(wc -l <<<"$r")" -eq 1 ]
	[ "$(cat "$r/tags/aiops.eval.mode")" = stream ]
	cmp "$r/artifacts/eval/streams.tsv" "$d/k/streams.tsv"
	[ "$(awk '{ print $2 }' "$r/metrics/basic.shop.b.ac1")" = "$(jq -r '.rows[1].ac1' <<<"$output")" ]
	[ "$(awk '{ print $2 }' "$r/metrics/basic.shop.a.failed")" = 0 ]
	# Text: a header and a row per run.
	rm -rf "$d/mlruns"
	run -0 aiops-harness eval --stream --config examples/configs/basic.yaml --dataset "$d/a" --quiet \
		--set mlflow.enabled=false
	[ "${lines[0]%% *}" = arm ] && [ "${#lines[@]}" -eq 2 ]
	[ ! -e "$d/mlruns" ]
}

@test "harness eval --stream: two datasets of the same name are two runs, each with its own numbers" {
	d=$BATS_TEST_TMPDIR
	synth_set "$d/x/data" 7
	synth_set "$d/y/data" 8
	run -0 aiops-harness eval --stream --config examples/configs/basic.yaml --dataset "$d/x/data" --system s \
		--dataset "$d/y/data" --system s --format json --set mlflow.enabled=false --quiet
	i=0
	for x in x y; do
		aiops-load --dataset "$d/$x/data" | aiops-correlate | aiops-rca | aiops-metrics >"$d/$x.jsonl"
		want=$(jq -c -s 'map(select(.kind == "score" and (has("incident_id") | not)) | {key: .name, value})
			| from_entries | [.rca_ac1, .fragmentation, .false_positives]' "$d/$x.jsonl")
		[ "$(jq -c --argjson i $i '.rows[$i] | [.ac1, .fragmentation, .false_positives]' <<<"$output")" = "$want" ]
		i=$((i + 1))
	done
}

@test "harness eval --stream: a stage that fails is a failed row with no score, and says so; arms are a usage error" {
	d=$BATS_TEST_TMPDIR
	synth_set "$d/a" 7
	run -0 --separate-stderr aiops-harness eval --stream --config examples/configs/basic.yaml --dataset "$d/a" \
		--set pipeline.rca.command=false --format json --quiet
	[ "$(jq -c '.rows[] | [.status, .incidents, .recall, .ac1, .fragmentation]' <<<"$output")" = \
		'["failed: stage rca (false) failed (exit 1)",null,null,null,null]' ]
	grep -q '^aiops-harness: eval: basic a a stream: stage rca (false) failed (exit 1)$' <<<"$stderr"
	# In MLflow the run is marked failed and has no score.
	r=$(find "$d/mlruns" -mindepth 2 -maxdepth 2 -type d ! -name tags)
	[ "$(awk '{ print $2 }' "$r/metrics/basic.a.a.failed")" = 1 ]
	[ "$(ls "$r/metrics")" = basic.a.a.failed ]
	run -0 aiops-harness eval --stream --config examples/configs/basic.yaml --dataset "$d/a" \
		--set pipeline.rca.command=false --format tsv --quiet
	[ "$(awk -F'\t' '$1 == "basic" { print $5, $6, $7 }' <<<"$output")" = "n/a n/a n/a" ]
	run -2 aiops-harness eval --stream --noise --config examples/configs/basic.yaml --dataset "$d/a"
	[[ $output == *"--stream runs the configs over whole datasets"* ]]
}

@test "harness eval: usage errors exit 2" {
	run -2 aiops-harness eval --dataset /nonexistent
	[ "$output" = "aiops-harness: eval: --config FILE is required" ]
	run -2 aiops-harness eval --config examples/configs/basic.yaml
	[ "$output" = "aiops-harness: eval: --dataset DIR or --cases DIR is required" ]
	run -2 aiops-harness eval --config examples/configs/basic.yaml --dataset /nonexistent
	[ "$output" = "aiops-harness: eval: '/nonexistent' is not a directory" ]
	run -2 aiops-harness eval --config examples/configs/basic.yaml --dataset . -j 0
	run -2 aiops-harness eval --config examples/configs/basic.yaml --dataset . --format xml
	run -2 aiops-harness eval --config examples/configs/basic.yaml --system x
	run -2 aiops-harness eval --config examples/configs/basic.yaml --dataset . --ablate smell
	[ "$output" = "aiops-harness: eval: --ablate takes logs, traces, metrics or alerts" ]
	run -2 aiops-harness eval --config examples/configs/basic.yaml --dataset . --delays 1,x
}

@test "harness eval: ground truth reaches no model request in an eval run (canary)" {
	d=$BATS_TEST_TMPDIR
	synth_set "$d/data" 7
	# The labels carry a canary in every field a model must not see.
	jq -c '.title = "CANARY-ev4l-" + .id | .root_cause.component = "CANARY-ev4l-comp"
		| .expected_actions = ["CANARY-ev4l-act"] | .id = "CANARY-ev4l-" + .id' \
		"$d/data/incidents.jsonl" >"$d/inc" && mv "$d/inc" "$d/data/incidents.jsonl"
	fake_llm_start "$d/srv" --log "$d/req.log" --answer "$FIX/rca/answer.json"
	cat >"$d/model.yaml" <<-YAML
	experiment: {name: canary}
	# One canned answer serves every purpose, so triage and remediation
	# answers fail their schema: allowed here, the canary is what counts.
	max_failure_share: 1
	provider:
	  type: openai_compat
	  default_model: fake-model
	  params: {base_url: "http://127.0.0.1:$(cat "$d/srv/port")/v1", concurrency: 2, max_attempts: 1}
	pipeline:
	  correlation: {llm_triage: true, triage_prompt: $AIOPS_ROOT/examples/prompts/triage.txt}
	  rca: {prompt: $AIOPS_ROOT/examples/prompts/rca.txt}
	  remediation: {prompt: $AIOPS_ROOT/examples/prompts/remediate.txt, catalog: $AIOPS_ROOT/examples/actions.yaml}
	YAML
	# Every arm: the delay sweep, the ablations and the distractor noise too.
	run -0 --separate-stderr aiops-harness eval --config "$d/model.yaml" --dataset "$d/data" --keep "$d/k" \
		--format json --quiet -j 2 --delays 60 --ablate logs --noise
	fake_llm_stop "$d/srv"
	[ "$(jq '.rows[0].llm_calls' <<<"$output")" -gt 0 ]
	# (one row per arm, each of which called the model)
	[ "$(jq '[.rows[] | select(.slice == "all" and (.arm | test("^ref:") | not)) | select(.llm_calls > 0)] | length' <<<"$output")" -ge 4 ]
	[ -s "$d/req.log" ]
	run grep -c CANARY "$d/req.log"
	[ "$output" = 0 ]
	calls=$(find "$d/k/runs" -name final.jsonl -exec grep -h '"kind":"llm_call"' {} +)
	[ -n "$calls" ]
	[ "$(grep -c CANARY <<<"$calls")" = 0 ]
	# The canary did travel: the labels reached the scoring.
	[ "$(find "$d/k/runs" -name final.jsonl -exec grep -l CANARY-ev4l {} + | wc -l)" -gt 0 ]
}

@test "harness eval: a dataset config's eval.reference_s seeds every case's and control's aiops-correlate" {
	d=$BATS_TEST_TMPDIR
	synth_set "$d/data" 7
	printf 'dataset: {incidents: incidents.jsonl}\neval: {pre_s: 600, post_s: 300, reference_s: 900}\n' >"$d/ds.yaml"
	run -0 aiops-harness eval --config examples/configs/basic.yaml --dataset "$d/data" \
		--dataset-config "$d/ds.yaml" --format json --quiet --keep "$d/k"
	[ -s "$d/k/src/0/cases/reference.jsonl" ]
	grep -q -- "--reference @JOB@/reference.jsonl" "$d/k/runs/1/0/pipeline.sh"
	n=0
	while IFS= read -r f; do
		[ "$(jq -r 'select(.kind == "stage_end" and .stage == "correlate") | .reference.replayed' "$f")" = true ]
		n=$((n + 1))
	done < <(find "$d/k/runs/1/c" -name 01-correlate.jsonl)
	[ "$n" -gt 5 ]
	# Without it: no reference anywhere.
	printf 'dataset: {incidents: incidents.jsonl}\neval: {pre_s: 600, post_s: 300}\n' >"$d/ds.yaml"
	run -0 aiops-harness eval --config examples/configs/basic.yaml --dataset "$d/data" \
		--dataset-config "$d/ds.yaml" --format json --quiet --keep "$d/k2"
	[ ! -e "$d/k2/src/0/cases/reference.jsonl" ]
	! grep -q -- "--reference" "$d/k2/runs/1/0/pipeline.sh"
}

@test "harness eval: a --dataset-config's pipeline section applies to its dataset's runs" {
	d=$BATS_TEST_TMPDIR
	synth_set "$d/data" 7
	printf 'dataset: {incidents: incidents.jsonl}\npipeline: {rca: {top_k: 1}}\neval: {pre_s: 900, post_s: 300}\n' >"$d/ds.yaml"
	run -0 aiops-harness eval --config examples/configs/basic.yaml --dataset "$d/data" \
		--dataset-config "$d/ds.yaml" --no-control --format json --quiet --keep "$d/k"
	# The dataset config's window: 15 minutes before the start, 5 after.
	run -0 awk -F'\t' 'NR > 1 { print $5, $6, $7 }' "$d/k/src/0/cases/cases.tsv"
	[ "$(jq -R -s -c 'split("\n") | map(select(. != "") | split(" ") | map(sub("\\.000Z$"; "Z") | fromdate)
		| [.[0] - .[1], .[2] - .[0]]) | unique' <<<"$output")" = '[[900,300]]' ]
	run -0 aiops-harness eval --config examples/configs/basic.yaml --dataset "$d/data" \
		--dataset-config "$d/ds.yaml" --no-control --format json --quiet
	[ "$(jq -r '[.cases[] | select(.arm == "basic" and .top5 != null) | .top5 | split(",") | length] | unique | join(",")' <<<"$output")" = 1 ]
	run -0 aiops-harness eval --config examples/configs/basic.yaml --dataset "$d/data" \
		--no-control --format json --quiet
	[ "$(jq -r '[.cases[] | select(.arm == "basic" and .top5 != null) | .top5 | split(",") | length] | max' <<<"$output")" -gt 1 ]
}
