#!/usr/bin/env bats
# aiops-harness's HTML report (report --html, benchmark --html, eval
# --html): one self-contained file, its plots counted against the records
# they were drawn from (a plot that draws nothing fails), text from the
# records escaped, and, when chromium is installed, the file loaded in a
# headless browser: no console message, no network request, a screenshot.

load test_helper
load browser

setup() {
	cd "$AIOPS_ROOT" || exit 1
	export MLFLOW_TRACKING_URI=$BATS_TEST_TMPDIR/mlruns
}

# How many elements TAG with class CLS (one of its classes) FILE holds,
# by an HTML parser; with SVG_ATTR=VALUE only those inside an <svg> with
# that attribute.  "-" for CLS: any class.
count() { # file tag class [svg-attr=value]
	python3 - "$@" <<'EOF'
import sys
from html.parser import HTMLParser
f, tag, cls = sys.argv[1:4]
within = sys.argv[4].split("=", 1) if len(sys.argv) > 4 else None
class P(HTMLParser):
    n = 0
    inside = 0
    def handle_starttag(self, t, attrs):
        a = dict(attrs)
        if t == "svg" and within and a.get(within[0]) == within[1]:
            self.inside = 1
        if t == tag and (cls == "-" or cls in (a.get("class") or "").split()):
            if not within or self.inside:
                self.n += 1
    def handle_startendtag(self, t, attrs):
        self.handle_starttag(t, attrs)
    def handle_endtag(self, t):
        if t == "svg":
            self.inside = 0
p = P()
p.feed(open(f, encoding="utf-8").read())
print(p.n)
EOF
}

# The attributes named on... (event handlers) of FILE's elements.
event_attrs() { # file
	python3 - "$1" <<'EOF'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def handle_starttag(self, t, attrs):
        for k, _ in attrs:
            if k.startswith("on"):
                print(t, k)
P().feed(open(sys.argv[1], encoding="utf-8").read())
EOF
}

# Nothing in the file can reach the network or run: no script, no external
# reference of any kind.
self_contained() { # file
	run ! grep -q -i -E '<script|https?:|//[a-z0-9.-]+\.[a-z]|src=|href=.[^#]|url\(|@import|@font-face|<link|<iframe|<object|<embed' "$1"
}

example_run() { # dir
	[ -f "$1/final.jsonl" ] || aiops-harness run --config examples/configs/basic.yaml --dataset examples/data \
		--set mlflow.enabled=false --keep "$1" >/dev/null
}

# A second config over the example data: another correlation window and
# top_k 1 (its paths made absolute: it lives in the test's directory).
narrow_config() { # out
	sed -e "s#\.\./#$AIOPS_ROOT/examples/#" -e 's/top_k: 5/top_k: 1/' -e 's/window_s: 60/window_s: 20/' \
		examples/configs/basic.yaml >"$1"
}

@test "report --html: the example run, every plot counted against its records" {
	d=$BATS_TEST_TMPDIR
	example_run "$d/run"
	f=$d/run/final.jsonl
	run -0 aiops-harness report --html "$d/r.html" "$d/run"
	[ -z "$output" ]
	[ -s "$d/r.html" ]
	self_contained "$d/r.html"
	# The headline: one config row; bars, one per config and metric.
	[ "$(count "$d/r.html" tr cfg)" -eq 1 ]
	for m in ac1 ac3 recall; do [ "$(count "$d/r.html" rect bar data-metric=$m)" -eq 1 ]; done
	# The heat map: one cell per fault type of the labels.
	nf=$(jq -s '[.[] | select(.kind == "incident") | .root_cause.fault] | unique | length' "$f")
	[ "$nf" -ge 2 ]
	[ "$(count "$d/r.html" rect cell)" -eq "$nf" ]
	# The strips: a dot per incident's model TTD and per matched incident's MMTD.
	nt=$(jq -s '[.[] | select(.kind == "score" and .name == "model_ttd_s" and .incident_id != null and .value != null)] | length' "$f")
	nm=$(jq -s '[.[] | select(.kind == "score" and .name == "matched" and .group_id != null)] | length' "$f")
	[ "$nt" -ge 5 ]
	[ "$(count "$d/r.html" circle pt)" -eq $((nt + nm)) ]
	# The timeline: a row per service, a window per incident, a bar per
	# group and service, a red line per detection, a dot per RCA.
	ns=$(jq -s '[.[] | select(.kind == "group") | .services[].service] + [.[] | select(.kind == "incident")
		| .root_cause.service] + [.[] | select(.kind == "rca") | .candidates[0].service] | unique | length' "$f")
	ni=$(jq -s '[.[] | select(.kind == "incident")] | length' "$f")
	nb=$(jq -s '[.[] | select(.kind == "group" and .detected != false) | .services[]] | length' "$f")
	ng=$(jq -s '[.[] | select(.kind == "group" and .detected != false)] | length' "$f")
	nr=$(jq -s '[.[] | select(.kind == "rca" and (.candidates | length) > 0)] | length' "$f")
	[ "$(count "$d/r.html" g svc)" -eq "$ns" ]
	[ "$(count "$d/r.html" rect inc)" -eq "$ni" ]
	[ "$(count "$d/r.html" rect grp)" -eq "$nb" ]
	[ "$(count "$d/r.html" line det)" -eq "$ng" ]
	[ "$(count "$d/r.html" circle top)" -eq "$nr" ]
	[ "$(count "$d/r.html" line tick)" -ge "$nb" ]
	# The incident table: a row per incident, each linking to its details.
	[ "$(grep -o "<tr id='r0-i[0-9]*'>" "$d/r.html" | wc -l)" -eq "$ni" ]
	[ "$(count "$d/r.html" section detail)" -eq "$ni" ]
	for k in $(seq 0 $((ni - 1))); do
		grep -q "<a href='#r0-i$k-d'>" "$d/r.html"
		grep -q "<section class='detail' id='r0-i$k-d'>" "$d/r.html"
	done
	# The same file again from the same records.
	run -0 aiops-harness report --html "$d/r2.html" "$d/run"
	cmp "$d/r.html" "$d/r2.html"
}

@test "report --html: text from the records is escaped, never markup" {
	d=$BATS_TEST_TMPDIR
	mkdir -p "$d/evil"
	bad='<script>alert(1)</script>'
	q="x' onmouseover='alert(2)"
	jq -n -c --arg b "$bad" --arg q "$q" '
		{kind: "run", run_id: "r1"},
		{kind: "incident", id: $b, title: ("<img src=x onerror=alert(3)>" + $q), start_ts: "2024-05-01T10:00:00.000Z",
		 resolved_ts: "2024-05-01T10:10:00.000Z", root_cause: {service: $b, fault: $q}},
		{kind: "group", id: $q, detected: true, start_ts: "2024-05-01T10:01:00.000Z",
		 detected_ts: "2024-05-01T10:02:00.000Z", end_ts: "2024-05-01T10:05:00.000Z",
		 services: [{service: $b, first_ts: "2024-05-01T10:01:00.000Z", anomalies: 3}, {service: $q, anomalies: 1}],
		 evidence: {metrics: [{service: $b, name: $q, first_ts: "2024-05-01T10:01:30.000Z"}]}},
		{kind: "rca", group_id: $q, candidates: [{service: $b, fault: $q, confidence: 0.9, reason: $b}]},
		{kind: "score", name: "matched", value: 1, incident_id: $b, group_id: $q, true_service: $b,
		 true_fault: $q, top_service: $b, top_fault: $q},
		{kind: "score", name: "rca_rank", value: 1, incident_id: $b},
		{kind: "score", name: "model_ttd_s", value: 120, incident_id: $b},
		{kind: "score", name: "rca_ac1", value: 1}' >"$d/evil/final.jsonl"
	run -0 aiops-harness report --html "$d/e.html" "$d/evil"
	# Parsed as a browser would: no element and no attribute of theirs.
	[ "$(count "$d/e.html" script -)" -eq 0 ]
	[ "$(count "$d/e.html" img -)" -eq 0 ]
	[ -z "$(event_attrs "$d/e.html")" ]
	run ! grep -q -i -E '<img|<script' "$d/e.html"
	run ! grep -q "x' onmouseover" "$d/e.html"
	grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$d/e.html"
	grep -q -E 'x&(#39|apos); onmouseover=&(#39|apos);alert\(2\)' "$d/e.html"
	# The plots are drawn all the same: two service rows, one incident.
	[ "$(count "$d/e.html" g svc)" -eq 2 ]
	[ "$(count "$d/e.html" rect inc)" -eq 1 ]
	[ "$(count "$d/e.html" circle top)" -eq 1 ]
}

@test "benchmark --html: two configs, a bar each, a timeline each, rebuilt by report from --keep" {
	d=$BATS_TEST_TMPDIR
	narrow_config "$d/narrow.yaml"
	run -0 aiops-harness benchmark --config examples/configs/basic.yaml --config "$d/narrow.yaml" \
		--dataset examples/data --set mlflow.enabled=false --keep "$d/k" --html "$d/b.html" --quiet --format tsv
	self_contained "$d/b.html"
	[ "$(count "$d/b.html" tr cfg)" -eq 2 ]
	for m in ac1 ac3 recall; do [ "$(count "$d/b.html" rect bar data-metric=$m)" -eq 2 ]; done
	grep -q '>basic</text>' "$d/b.html"
	grep -q '>narrow</text>' "$d/b.html"
	[ "$(count "$d/b.html" svg timeline)" -eq 2 ]
	# Each run's rows, windows and incident rows, from its own records.
	ni=0 ns=0
	for i in 01 02; do
		f=$d/k/$i-1/final.jsonl
		ni=$((ni + $(jq -s '[.[] | select(.kind == "incident")] | length' "$f")))
		ns=$((ns + $(jq -s '[.[] | select(.kind == "group") | .services[].service] + [.[] | select(.kind == "incident")
			| .root_cause.service] + [.[] | select(.kind == "rca") | .candidates[0].service] | unique | length' "$f")))
	done
	[ "$(count "$d/b.html" rect inc)" -eq "$ni" ]
	[ "$(count "$d/b.html" g svc)" -eq "$ns" ]
	[ "$(grep -o "<tr id='r[01]-i[0-9]*'>" "$d/b.html" | wc -l)" -eq "$ni" ]
	# Two columns of the heat map: a cell per fault type and config.
	nf=$(jq -s '[.[] | select(.kind == "incident") | .root_cause.fault] | unique | length' "$d/k/01-1/final.jsonl")
	[ "$(count "$d/b.html" rect cell)" -eq $((2 * nf)) ]
	# From the kept directory alone: the same file.
	run -0 aiops-harness report --html "$d/b2.html" "$d/k"
	cmp "$d/b.html" "$d/b2.html"
}

@test "eval --html: intervals as whiskers, reference rows, a heat map row per fault type, a row per case" {
	d=$BATS_TEST_TMPDIR
	aiops-synth --seed 7 --duration 5h --faults 5 --out "$d/data" >/dev/null
	run -0 aiops-harness eval --config examples/configs/basic.yaml --dataset "$d/data" --set mlflow.enabled=false \
		--format json --quiet -j 2 --html "$d/e.html" --keep "$d/k"
	j=$output
	self_contained "$d/e.html"
	na=$(jq '[.rows[] | select(.slice == "all")] | length' <<<"$j")
	nref=$(jq '[.rows[] | select(.slice == "all" and .reference)] | length' <<<"$j")
	[ "$nref" -ge 1 ]
	[ "$(count "$d/e.html" tr ref)" -eq "$nref" ]
	[ "$(count "$d/e.html" tr cfg)" -eq $((na - nref)) ]
	[ "$(count "$d/e.html" rect bar data-metric=ac1)" -eq "$na" ]
	# A whisker (three lines) per row whose interval eval computed.
	nci=$(jq '[.rows[] | select(.slice == "all" and .ac1.ci_low != null)] | length' <<<"$j")
	[ "$nci" -ge 1 ]
	[ "$(count "$d/e.html" line ci data-metric=ac1)" -eq $((3 * nci)) ]
	# The interval is printed in the headline table.
	lo=$(jq -r '.rows[] | select(.slice == "all" and .reference == false) | .ac1.ci_low * 1000 | round / 1000' <<<"$j")
	grep -q "\[$lo, " "$d/e.html"
	nc=$(jq '[.rows[] | select((.slice | startswith("fault=")) and .slice != "fault=-")] | length' <<<"$j")
	[ "$nc" -ge 5 ]
	[ "$(count "$d/e.html" rect cell)" -eq "$nc" ]
	[ "$(count "$d/e.html" circle pt)" -eq "$(jq '[.cases[] | .model_ttd_s, .mttd_s | select(. != null)] | length' <<<"$j")" ]
	[ "$(count "$d/e.html" tr -)" -eq $((na + 1 + $(jq '.cases | length' <<<"$j") + 1)) ]
	# Rebuilt from eval's kept output alone, it is the same file.
	aiops-harness report --html "$d/e2.html" "$d/k"
	cmp "$d/e.html" "$d/e2.html"
	# In the browser (when installed; under CI=true it must be): no
	# request, no console message, the plots drawn.
	if ! command -v chromium >/dev/null 2>&1; then
		[ "${CI:-}" != true ]
	else
		browser "$d/e" "$d/e.html" --dump-dom
		[ -z "$(page_requests "$d/e")" ]
		run ! grep -E 'CONSOLE|Uncaught|Refused to' "$d/e.err"
		for c in "rect bar" "rect cell" "circle pt" "line ci"; do
			read -r tag cls <<<"$c"
			n=$(count "$d/e.html" "$tag" "$cls")
			[ "$n" -gt 0 ]
			[ "$(count "$d/e.out" "$tag" "$cls")" -eq "$n" ]
		done
	fi
}

@test "report --html: usage errors exit 2 and leave no file" {
	d=$BATS_TEST_TMPDIR
	run -2 aiops-harness report --html "$d/x.html" "$d"
	[[ $output == *"holds no kept run, benchmark or eval"* ]]
	[ ! -e "$d/x.html" ]
	run -2 aiops-harness report --html
	[[ $output == *"needs a value"* ]]
	run -2 aiops-harness check --config examples/configs/basic.yaml --dataset examples/data --html "$d/x.html"
	[[ $output == *"--html is for run, report, benchmark and eval"* ]]
	[ -z "$(ls -A "$d")" ]
}

# The requests a page loaded from a file made (tests/browser.bash): those
# of the net log whose isolation key is the file's.
page_requests() { # out-prefix
	jq -r '[.events[] | .params // {} | select(.url != null
		and ((.network_isolation_key // "") | startswith("file://"))) | .url] | unique | .[]' "$1.net.json"
}

@test "chromium: the run and benchmark reports load offline, no console message, no request, screenshots" {
	need_chromium
	d=$BATS_TEST_TMPDIR
	# The checks catch what they look for: a page with a request and a
	# script error.
	printf '%s\n' "<!DOCTYPE html><html><body><img src='http://127.0.0.1:9/x.png'><script>nosuchfn();</script></body></html>" >"$d/bad.html"
	browser "$d/bad" "$d/bad.html" --dump-dom
	[ "$(page_requests "$d/bad")" = "http://127.0.0.1:9/x.png" ]
	grep -q 'CONSOLE.*Uncaught' "$d/bad.err"
	example_run "$d/run"
	aiops-harness report --html "$d/r.html" "$d/run"
	narrow_config "$d/narrow.yaml"
	aiops-harness benchmark --config examples/configs/basic.yaml --config "$d/narrow.yaml" \
		--dataset examples/data --set mlflow.enabled=false --html "$d/b.html" --quiet --format tsv >/dev/null
	for v in r b; do
		browser "$d/$v" "$d/$v.html" --dump-dom
		[ -z "$(page_requests "$d/$v")" ]
		run ! grep -E 'CONSOLE|Uncaught|Refused to' "$d/$v.err"
		# The DOM the browser built: the plots' elements, as counted in the file.
		for c in "rect bar" "rect cell" "circle pt" "g svc" "rect inc" "rect grp" "circle top"; do
			read -r tag cls <<<"$c"
			n=$(count "$d/$v.html" "$tag" "$cls")
			[ "$n" -gt 0 ]
			[ "$(count "$d/$v.out" "$tag" "$cls")" -eq "$n" ]
		done
		browser "$d/$v-shot" "$d/$v.html" --hide-scrollbars --window-size=1280,2000 --screenshot="$d/$v.png"
		[ -z "$(page_requests "$d/$v-shot")" ]
		[ "$(head -c 8 "$d/$v.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
	done
	if [ -n "${AIOPS_REPORT_SHOTS:-}" ]; then
		cp "$d/r.png" "$AIOPS_REPORT_SHOTS/report-run.png"
		cp "$d/b.png" "$AIOPS_REPORT_SHOTS/report-bench.png"
	fi
}

@test "benchmark --html and eval --html: the same file is an artifact of the parent (or eval) MLflow run" {
	d=$BATS_TEST_TMPDIR
	narrow_config "$d/narrow.yaml"
	run -0 --separate-stderr aiops-harness benchmark --config examples/configs/basic.yaml --config "$d/narrow.yaml" \
		--dataset examples/data --set mlflow.store="$d/bench-runs" --html "$d/b.html" --format tsv
	p=$(find "$d/bench-runs" -name mlflow.parentRunId -exec sh -c 'cat "$1"; echo' _ {} ';' | sort -u)
	[ -n "$p" ]
	cmp "$d/b.html" "$(echo "$d"/bench-runs/*/"$p"/artifacts/benchmark/report.html)"
	# Without --html, no report.
	run -0 --separate-stderr aiops-harness benchmark --config examples/configs/basic.yaml \
		--dataset examples/data --set mlflow.store="$d/bench2" --format tsv
	[ -z "$(find "$d/bench2" -name report.html)" ]
	aiops-synth --seed 7 --duration 5h --faults 5 --out "$d/data" >/dev/null
	run -0 --separate-stderr aiops-harness eval --config examples/configs/basic.yaml --dataset "$d/data" \
		--format json -j 2 --html "$d/e.html"
	r=$(find "$d/mlruns" -mindepth 2 -maxdepth 2 -type d ! -name tags)
	[ "$(wc -l <<<"$r")" -eq 1 ]
	cmp "$d/e.html" "$r/artifacts/eval/report.html"
}

@test "run --html: the run's report, an artifact of its MLflow run, the same as report --html on the kept run" {
	d=$BATS_TEST_TMPDIR
	run -0 --separate-stderr aiops-harness run --config examples/configs/basic.yaml --dataset examples/data \
		--set mlflow.store="$d/runs" --keep "$d/k" --html "$d/r.html"
	id=$(jq -r 'select(.kind == "mlflow_run") | .run_id' "$d/k/final.jsonl")
	[ -n "$id" ]
	cmp "$d/r.html" "$(echo "$d"/runs/*/"$id"/artifacts/report.html)"
	[ "$(count "$d/r.html" rect inc)" -eq "$(jq -s '[.[] | select(.kind == "incident")] | length' "$d/k/final.jsonl")" ]
	aiops-harness report --html "$d/again.html" "$d/k"
	cmp "$d/again.html" "$d/r.html"
	# MLflow off: the file all the same.
	run -0 aiops-harness run --config examples/configs/basic.yaml --dataset examples/data \
		--set mlflow.enabled=false --html "$d/off.html"
	[ "$(count "$d/off.html" rect inc)" -eq "$(count "$d/r.html" rect inc)" ]
}
