#!/usr/bin/env bats
# aiops-load: plain-text logs (lib/rd_text: text with ts_format, syslog,
# access_log, error_log, log4j), RCAEval cases, OTLP without service.name
# and OTLP histograms.

load test_helper

L="$FIX/load"

golden() { # dir
	(cd "$L/$1" && c= && { [ -f config.yaml ] && c="--config config.yaml"; } ;
	 aiops-load $c --dataset . 2>/dev/null) | mask
}

# The stream contract of a load output: JSON lines, stage first, stage_end
# last, records_in = signals + rejects, and each signal has its fields.
contract() { # output
	jq -e . >/dev/null <<<"$1"
	[ "$(head -n1 <<<"$1" | jq -r .kind)" = stage ]
	[ "$(tail -n1 <<<"$1" | jq -r .kind)" = stage_end ]
	jq -se '.[-1] as $e | ($e.records_in == ($e.kinds.log + $e.kinds.metric + $e.kinds.span + $e.rejects))
		and ([.[] | select(.kind == "reject")] | length) == $e.rejects' <<<"$1"
	jq -se 'all(.[] | select(.kind == "log"); (.id|type) == "string" and (.ts|test("^[0-9]{4}-.*Z$"))
		and (.service|type) == "string" and (.service|length) > 0
		and (.level|IN("DEBUG","INFO","WARN","ERROR","FATAL")) and (.msg|type) == "string")' <<<"$1"
	jq -se 'all(.[] | select(.kind == "metric"); (.id|type) == "string" and (.service|length) > 0
		and (.name|length) > 0 and ((.value|type) == "number" or .value == null))' <<<"$1"
}

# ---- plain-text logs ----

@test "text logs: syslog, access_log, error_log and log4j presets are detected; golden output" {
	run -0 golden text
	diff -u "$L/text.out" <(printf '%s\n' "$output")
	run -0 pipe "jq -r 'select(.kind == \"run\") | .dataset.files[] | \"\(.path) \(.format)\"' '$L/text.out' | tr '\n' ,"
	[ "$output" = "./access.log access_log,./app.log log4j,./error.log error_log,./syslog.log syslog," ]
}

@test "text logs: the stream contract holds and the counts reconcile with 0 rejects" {
	run -0 --separate-stderr pipe "cd '$L/text' && aiops-load --config config.yaml --dataset ."
	contract "$output"
	jq -se '.[-1] | .rejects == 0 and .kinds.log == 17 and .records_in == 17' <<<"$output"
}

@test "text logs: a stack trace joins the record before it (one record, no id of its own)" {
	run -0 pipe "jq -r 'select(.id == \"logs:app.log:3\") | .msg' '$L/text.out'"
	[ "$output" = "$(printf 'Checkout failed\njava.lang.IllegalStateException: cart is empty\n\tat com.example.shop.CartController.checkout(CartController.java:42)\n\tat java.base/java.lang.Thread.run(Thread.java:833)')" ]
	run -0 pipe "jq -r 'select(.kind == \"log\") | .id' '$L/text.out' | grep -c '^logs:app.log:[456]$' || true"
	[ "$output" = 0 ]
}

@test "text logs: syslog level from the PRI, service from the tag or APP-NAME, RFC 3339 times in RFC 3164 lines; access level from the status" {
	run -0 pipe "jq -r 'select(.kind == \"log\") | \"\(.id) \(.service) \(.level)\"' '$L/text.out' | grep -E 'syslog.log:[345]|access.log:[23]' | tr '\n' ,"
	[ "$output" = "logs:syslog.log:5 su FATAL,logs:access.log:2 access ERROR,logs:access.log:3 access WARN,logs:syslog.log:3 nginx ERROR,logs:syslog.log:4 evntslog INFO," ]
	run -0 pipe "jq -r 'select(.id == \"logs:syslog.log:7\") | \"\(.ts) \(.service) \(.attrs.host)\"' '$L/text.out'"
	[ "$output" = "2024-06-14T15:19:30.123Z systemd web01" ]
}

@test "format text with ts_format: time, optional level word, message; dataset timezone; service option" {
	local d; d=$(scratch)
	printf '%s\n' '01/05/2024 10:00:00.250 [warn] disk low' '01/05/2024 10:00:01 Error connecting is a message' \
		'not a time' '01/05/2024 10:00:02 ERROR: down' >"$d/app.log"
	run -0 --separate-stderr aiops-load --dataset "$d" --logs "$d/app.log" --tz +02:00 \
		--set dataset.logs.format=text --set 'dataset.logs.ts_format=%d/%m/%Y %H:%M:%S%f' \
		--set dataset.logs.service=disk
	contract "$output"

	[ "$(jq -c 'select(.kind == "log") | [.ts, .service, .level, .msg]' <<<"$output" | tr '\n' ,)" = \
		'["2024-05-01T08:00:00.250Z","disk","WARN","disk low"],["2024-05-01T08:00:01.000Z","disk","INFO","Error connecting is a message"],["2024-05-01T08:00:02.000Z","disk","ERROR","down"],' ]
	[ "$(jq -r 'select(.kind == "reject") | "\(.line) \(.reason)"' <<<"$output")" = \
		"3 the line does not start with a time in ts_format '%d/%m/%Y %H:%M:%S%f'" ]
	jq -se '.[-1] | .records_in == 4 and .rejects == 1 and .kinds.log == 3' <<<"$output"
}

@test "format text without ts_format, or with an unknown directive, is a config error (exit 2)" {
	local d; d=$(scratch)
	printf '2024-05-01 10:00:00 x\n' >"$d/app.log"
	run -2 aiops-load --dataset "$d" --logs "$d/app.log" --set dataset.logs.format=text
	[[ "$output" == *"format text needs ts_format"* ]]
	run -2 aiops-load --dataset "$d" --logs "$d/app.log" --set dataset.logs.format=text --set 'dataset.logs.ts_format=%Y-%m-%d %Q'
	[[ "$output" == *"dataset.logs.ts_format: unknown directive %Q"* ]]
	run -2 aiops-load --dataset "$d" --logs "$d/app.log" --set dataset.logs.format=text --set 'dataset.logs.ts_format=%H:%M:%S'
	[[ "$output" == *"has no month and day"* ]]
}

@test "text logs: lines that do not parse are rejects with file, line and reason; continuations of a reject too" {
	local d; d=$(scratch)
	printf '%s\n' '	orphan continuation' \
		'Jun 14 15:16:01 combo sshd[1]: ok' \
		'<999>Jun 14 15:16:02 combo sshd[1]: bad pri' \
		'	continues the bad one' \
		'Jun 14 15:16:03' \
		'<13>1 - host app - - - no time' \
		'Jun 31 15:16:04 combo sshd[1]: no such day' >"$d/sys.log"
	run -0 --separate-stderr aiops-load --dataset "$d" --logs "$d/sys.log" --set dataset.logs.format=syslog --set dataset.logs.year=2024
	contract "$output"
	[ "$(jq -r 'select(.kind == "reject") | "\(.source|split("/")|last):\(.line) \(.reason)"' <<<"$output" | cut -c1-60 | tr '\n' ,)" = \
		"sys.log:1 continuation line (it starts with a blank) with no,sys.log:3 bad syslog <PRI>,sys.log:4 continuation of the rejected record of line 3,sys.log:5 not RFC 3164 or RFC 5424 syslog (expected '[<PRI>],sys.log:6 RFC 5424 syslog: no timestamp (-),sys.log:7 impossible date," ]
	jq -se '.[-1] | .records_in == 7 and .rejects == 6 and .kinds.log == 1' <<<"$output"
	[ "${#stderr_lines[@]}" -ge 6 ]
}

@test "text logs: access and error log lines that do not parse are rejects naming the form expected" {
	local d; d=$(scratch)
	printf '%s\n' '1.2.3.4 - - [14/Jun/2024:15:16:30 +0000] "GET / HTTP/1.1" 200 12' \
		'1.2.3.4 - - [14/Jun/2024:15:16:30] "GET / HTTP/1.1" 200 12' \
		'1.2.3.4 - - [14/Jun/2024:15:16:30 +0000] "GET / HTTP/1.1" OK 12' >"$d/access.log"
	printf '%s\n' '[Fri Jun 14 15:16:40 2024] [error] fine' '[Fri Jun 14 15:16:41 2024] [loud] what' \
		'2024/06/14 15:16:42 no level' >"$d/error.log"
	run -0 --separate-stderr aiops-load --dataset "$d" --set 'dataset.logs.files=["access.log","error.log"]'
	contract "$output"
	[ "$(jq -r 'select(.kind == "reject") | "\(.source|split("/")|last):\(.line) \(.reason)"' <<<"$output" | tr '\n' ,)" = \
		"access.log:2 access log: bad [dd/Mon/yyyy:HH:MM:SS +zzzz] time,access.log:3 access log: no 3-digit status,error.log:2 Apache error log: unknown level,error.log:3 nginx error log: no [level] after the time," ]
}

@test "text logs: RFC 3164 times take dataset.logs.year, and Dec -> Jan starts the next year" {
	local d; d=$(scratch)
	printf '%s\n' 'Dec 31 23:59:59 h app: a' 'Jan  1 00:00:01 h app: b' >"$d/sys.log"
	run -0 pipe "aiops-load --dataset '$d' --logs '$d/sys.log' --set dataset.logs.year=2023 2>/dev/null | jq -r 'select(.kind == \"log\") | .ts' | tr '\n' ,"
	[ "$output" = "2023-12-31T23:59:59.000Z,2024-01-01T00:00:01.000Z," ]
}

@test "a plain-text log in no preset gets one message naming format text and ts_format" {
	local d; d=$(scratch)
	printf '%s\n' '10:00:01 worker started' '10:00:02 worker busy' >"$d/app.log"
	run -0 --separate-stderr aiops-load --dataset "$d" --logs "$d/app.log"
	[ "$(printf '%s\n' "${stderr_lines[@]}" | grep -c 'set dataset.logs.format: text and ts_format')" -eq 1 ]
	jq -se '.[-1] | .records_in == 2 and .rejects == 2' <<<"$output"
}

# ---- RCAEval (tests/fixtures/load/rcaeval: written from its README) ----

RC="$L/rcaeval/cartservice_cpu/1"

@test "rcaeval: a case folder with examples/datasets/rcaeval.yaml: golden output" {
	run -0 pipe "cd '$RC' && aiops-load --config '$AIOPS_ROOT/examples/datasets/rcaeval.yaml' --dataset . 2>/dev/null | mask"
	diff -u "$L/rcaeval.out" <(printf '%s\n' "$output")
}

@test "rcaeval: readers chosen by content and name; one metric per cell; the incident from the folder" {
	local d; d=$(scratch)
	printf '%s\n' 'dataset:' '  metrics: data.csv' '  incidents: inject_time.txt' >"$d/c.yaml"
	run -0 pipe "cd '$RC' && aiops-load --config '$d/c.yaml' --dataset . 2>/dev/null"
	[ "$(jq -r 'select(.kind == "run") | [.dataset.files[].format] | join(" ")' <<<"$output")" = "rcaeval rcaeval_inject" ]
	# 4 rows of 6 metric columns (2 empty or NaN cells are null values), one inject line
	jq -se '.[-1] | .records_in == 5 and .rejects == 0 and .kinds.metric == 24 and .kinds.incident == 1' <<<"$output"
	[ "$(jq -c 'select(.kind == "metric" and .value == null) | [.id, .service, .name]' <<<"$output" | tr '\n' ,)" = \
		'["metrics:3.6","ts-order-service","cpu"],["metrics:4.6","ts-order-service","cpu"],' ]
	jq -se 'map(select(.kind == "incident"))[0] | .id == "cartservice_cpu/1" and .start_ts == "2023-08-20T22:08:59.000Z"
		and .root_cause == {"service": "cartservice", "fault": "cpu"}' <<<"$output"
}

@test "rcaeval: services with a '_' come from dataset.*.services; without it the first '_' splits" {
	local d; d=$(scratch)
	mkdir -p "$d/cart_svc_mem/2"
	printf '%s\n' 'time,cart_svc_mem,cart_svc_latency-90,db_cpu' '1692569330,1,2,3' >"$d/cart_svc_mem/2/data.csv"
	printf '1692569339\n' >"$d/cart_svc_mem/2/inject_time.txt"
	printf '%s\n' 'dataset:' '  metrics: {path: data.csv, services: [cart_svc]}' \
		'  incidents: {path: inject_time.txt, services: [cart_svc]}' >"$d/c.yaml"
	run -0 pipe "aiops-load --config '$d/c.yaml' --dataset '$d/cart_svc_mem/2' 2>/dev/null"
	[ "$(jq -r 'select(.kind == "metric") | "\(.service)/\(.name)"' <<<"$output" | tr '\n' ,)" = "cart_svc/mem,cart_svc/latency-90,db/cpu," ]
	jq -se 'map(select(.kind == "incident"))[0] | .root_cause == {"service": "cart_svc", "fault": "mem"}' <<<"$output"
	run -0 pipe "aiops-load --dataset '$d/cart_svc_mem/2' --metrics '$d/cart_svc_mem/2/data.csv' --incidents '$d/cart_svc_mem/2/inject_time.txt' 2>/dev/null"
	[ "$(jq -r 'select(.kind == "metric") | "\(.service)/\(.name)"' <<<"$output" | tr '\n' ,)" = "cart/svc_mem,cart/svc_latency-90,db/cpu," ]
	jq -se 'map(select(.kind == "incident"))[0] | .root_cause == {"service": "cart", "fault": "svc_mem"}' <<<"$output"
}

@test "rcaeval: bad cells, rows, times and case folders are rejects; the counts reconcile" {
	local d; d=$(scratch)
	mkdir -p "$d/nofault/1"
	printf '%s\n' 'time,a_cpu,b_mem,time.1,odd' '1692569330,1,x,1692569330,5' 'yesterday,1,2,3,4' '1692569331,1,2' \
		>"$d/nofault/1/data.csv"
	printf '%s\n' '1692569339' '1692569340' >"$d/nofault/1/inject_time.txt"
	run -0 --separate-stderr aiops-load --dataset "$d/nofault/1" --metrics "$d/nofault/1/data.csv" \
		--incidents "$d/nofault/1/inject_time.txt" --set dataset.metrics.format=rcaeval
	[ "$(jq -r 'select(.kind == "reject") | "\(.source|split("/")|last):\(.line) \(.reason)"' <<<"$output" | cut -c1-72 | tr '\n' ,)" = \
		"inject_time.txt:1 the case folder 'nofault' is not <service>_<fault>,inject_time.txt:2 inject_time.txt holds one time; this is one more line,data.csv:2 column 'b_mem': metric value is not a number: 'x',data.csv:2 column 'odd': not <service>_<metric> (no '_'; dataset.metrics,data.csv:3 time: invalid timestamp 'yesterday' (accepted: RFC 3339 such ,data.csv:4 expected 5 fields, got 3," ]
	# cells: row 2 has 3 metric cells (time.1 is not read): 1 metric + 2 rejects
	jq -se '.[-1] | .kinds.metric == 1 and .rejects == 6 and .records_in == 5' <<<"$output"
}

# ---- OTLP: histograms, resources without service.name ----

@test "otlp: histogram and exponential-histogram points become count, sum and p50/p90/p99; golden output" {
	run -0 golden otlp-hist
	diff -u "$L/otlp-hist.out" <(printf '%s\n' "$output")
}

@test "otlp: percentiles are estimated from the buckets (linear inside a bucket, clamped to min and max)" {
	run -0 pipe "jq -r 'select(.kind == \"metric\" and (.name|test(\"^(http.server.duration|rpc.latency)[.]p\"))) | \"\(.name) \(.value * 1000 | round / 1000)\"' '$L/otlp-hist.out' | tr '\n' ,"
	# http: buckets 10 (<=5, from min 1.5), 40 (5,10], 30 (10,25], 15 (25,50], 5 (>50, to max 180)
	# rpc: scale 1 (base sqrt 2): zero 1, (1,1.414] 2, (1.414,2] 3, (2,2.828] 4
	[ "$output" = "http.server.duration.p50 10,http.server.duration.p90 41.667,http.server.duration.p99 154,rpc.latency.p50 1.805,rpc.latency.p90 2.621,rpc.latency.p99 2.808," ]
}

@test "otlp: the opentelemetry-proto example loads; its histogram's mismatched buckets reject only the percentiles" {
	run -0 pipe "jq -r 'select(.kind == \"metric\" and .service == \"my.service\") | .name' '$L/otlp-hist.out' | tr '\n' ,"
	[ "$output" = "my.counter,my.gauge,my.histogram.count,my.histogram.sum," ]
	run -0 pipe "jq -r 'select(.kind == \"reject\") | .reason' '$L/otlp-hist.out'"
	[ "${lines[0]}" = "resourceMetrics[0].scopeMetrics[0].metrics[2].dataPoints[0]: no percentiles: 3 bucketCounts for 1 explicitBounds (expected 2)" ]
	[ "${lines[1]}" = "resourceMetrics[0].scopeMetrics[0].metrics[0].dataPoints[0]: no percentiles: the buckets hold 2 values, count is 5" ]
	[ "${lines[2]}" = "resourceMetrics[0].scopeMetrics[0].metrics[1].dataPoints[0]: count is not an unsigned integer" ]
	[ "${#lines[@]}" -eq 4 ]
}

# Found by the fuzz smoke: an offset at INT64_MAX made the bucket index
# overflow (undefined behaviour; the ASan+UBSan suite aborts on it).
@test "otlp: exponential-histogram offsets at the int64 limits load (count and sum), no overflow" {
	local d; d=$(scratch)
	printf '%s\n' '{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},"scopeMetrics":[{"metrics":[{"name":"rpc.latency","exponentialHistogram":{"dataPoints":[{"timeUnixNano":"1714557660000000000","count":"5","sum":2,"scale":0,"zeroCount":"1","positive":{"offset":9223372036854775807,"bucketCounts":["1","1"]},"negative":{"offset":-9223372036854775808,"bucketCounts":["1","1"]}}]}}]}]}]}' >"$d/metrics.otlp.jsonl"
	run -0 --separate-stderr aiops-load --dataset "$d"
	[ "$(jq -r 'select(.kind == "metric") | "\(.name) \(.value)"' <<<"$output" | head -n 2 | tr '\n' ,)" = "rpc.latency.count 5,rpc.latency.sum 2," ]
}

@test "otlp: a resource without service.name is unknown_service (SDK default), counted in stage_end" {
	jq -se '.[-1] | .unknown_service == 11 and .rejects == 4 and .kinds.metric == 16' "$L/otlp-hist.out"
	run -0 pipe "jq -r 'select(.kind == \"metric\") | .service' '$L/otlp-hist.out' | sort | uniq -c | sed 's/^ *//' | tr '\n' ,"
	[ "$output" = "1 api,4 my.service,1 unknown_service,10 unknown_service:checkout," ]
	local d; d=$(scratch)
	printf '%s\n' '{"resourceLogs":[{"resource":{},"scopeLogs":[{"logRecords":[{"timeUnixNano":"1714557600000000000","body":{"stringValue":"hi"}}]}]}]}' >"$d/logs.otlp.jsonl"
	printf '%s\n' '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"t","spanId":"s","name":"op","startTimeUnixNano":"1714557600000000000","endTimeUnixNano":"1714557600100000000"}]}]}]}' >"$d/traces.otlp.jsonl"
	run -0 --separate-stderr aiops-load --dataset "$d"
	[ "$(jq -r 'select(.kind == "log" or .kind == "span") | "\(.kind) \(.service)"' <<<"$output" | tr '\n' ,)" = "log unknown_service,span unknown_service," ]
	jq -se '.[-1] | .unknown_service == 2 and .rejects == 0' <<<"$output"
	contract "$output"
}

@test "otlp: a file without a resource missing service.name has no unknown_service count" {
	run -0 pipe "cd '$L/otlp' && aiops-load --dataset . 2>/dev/null | jq -c 'select(.kind == \"stage_end\") | has(\"unknown_service\")'"
	[ "$output" = false ]
}
