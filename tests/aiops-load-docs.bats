#!/usr/bin/env bats
# aiops-load: the document formats (a file of JSON documents, pretty-printed
# or one a line): Zipkin v2, Jaeger, the Prometheus HTTP API; CSV header
# names without case.

load test_helper

L="$FIX/load"

golden() { # dir
	(cd "$L/$1" && aiops-load --dataset . 2>/dev/null) | mask
}

# The signals of a stream on stdin.
signals() {
	jq -c 'select(.kind == "log" or .kind == "metric" or .kind == "span")'
}

# The rejects of a stream as "FILE:LINE: reason" (FILE without its directory).
rejects() { # output
	jq -r 'select(.kind == "reject") | "\(.source | sub(".*/"; "")):\(.line): \(.reason)"' <<<"$1"
}

# aiops-load without its stderr (notes about the missing roles).
quiet() {
	aiops-load "$@" 2>/dev/null
}

# The format the run record gives the first file.
format_of() { # output
	jq -r 'select(.kind == "run") | .dataset.files[0].format' <<<"$1"
}

# Counts in the stage_end: records_in = signals + rejects.
reconciles() { # output
	jq -se '.[-1] | .kind == "stage_end" and
		.records_in == .kinds.log + .kinds.metric + .kinds.span + .rejects' <<<"$1" >/dev/null
}

# --- Zipkin v2 ---

@test "zipkin: a pretty-printed array of spans as downloaded: golden output, microseconds" {
	run -0 golden zipkin
	diff -u "$L/zipkin.out" <(printf '%s\n' "$output")
	# 178521 us is 178.521 ms, not 178521 ms
	[ "$(signals <<<"$output" | jq -r 'select(.span_id == "352bff9a74ca9ad2" and .service == "frontend") | .duration_ms')" = 178.521 ]
}

@test "zipkin: recognised by content under any name; one array a line, and /api/v2/traces arrays of arrays" {
	d=$(scratch)
	{
		printf '[{"traceId":"a1","id":"b1","name":"x","timestamp":1714557600000000,"duration":1500,"localEndpoint":{"serviceName":"api"}},'
		printf '{"traceId":"a1","id":"b2","parentId":"b1","timestamp":1714557600000100,"duration":20,"localEndpoint":{"serviceName":"db"},"tags":{"otel.status_code":"ERROR"}}]\n'
		printf '[[{"traceId":"a2","id":"c1","name":"y","timestamp":1714557601000000,"duration":1,"localEndpoint":{"serviceName":"api"}}]]\n'
	} >"$d/spans.dump"
	run -0 quiet --dataset "$d" --set dataset.traces.path=spans.dump
	[ "$(format_of "$output")" = zipkin ]
	[ "$(signals <<<"$output" | jq -r '[.id, .service, .parent_id, .duration_ms, .status, .name] | @tsv')" = "$(printf '%s\n' \
		"traces:1.1	api		1.5	UNSET	x" \
		"traces:1.2	db	b1	0.02	ERROR	" \
		"traces:2	api		0.001	UNSET	y")" ]
	reconciles "$output"
}

@test "zipkin: damaged spans and documents are rejects with file, line and reason; counts reconcile" {
	d=$(scratch)
	{
		printf '[{"traceId":"a1","id":"b1","timestamp":1714557600000000,"duration":10,"localEndpoint":{"serviceName":"api"}},\n'
		printf ' {"traceId":"a1","id":"b2","timestamp":1714557600000000,"localEndpoint":{"serviceName":"api"}},\n'
		printf ' {"traceId":"a1","id":"b3","timestamp":1714557600000.5,"duration":1,"localEndpoint":{"serviceName":"api"}},\n'
		printf ' {"traceId":"a1","id":"b4","timestamp":1714557600000000,"duration":1},\n'
		printf ' {"id":"b5","timestamp":1714557600000000,"duration":1,"localEndpoint":{"serviceName":"api"}},\n'
		printf ' "text", {"traceId":"a1","id":"b6","timestamp":1714557600000000,"duration":1,"localEndpoint":{"serviceName":"api"},"tags":[]}]\n'
		printf '[{"traceId":"a1","id":"b7","timestamp":1714557600000000,"duration":1.,"localEndpoint":{"serviceName":"api"}}]\n'
		printf '[]\n'
		printf '{"traceId":"a1","id":"b8",\n'
		printf '[{"traceId":"a1","id":"b9","timestamp":1714557600000001,"duration":1,"localEndpoint":{"serviceName":"api"}}]\n'
		printf '[{"traceId":"a1","id":"b10","timestamp":1714557600000002,"duration":1,"localEndpoint":{"serviceName":"api"}}\n'
	} >"$d/traces.json"
	run -0 quiet --dataset "$d"
	[ "$(rejects "$output")" = "$(printf '%s\n' \
		'traces.json:1: [1]: duration: missing (an unfinished span)' \
		'traces.json:1: [2]: timestamp: not a whole number of microseconds' \
		'traces.json:1: [3]: missing localEndpoint.serviceName' \
		'traces.json:1: [4]: missing traceId' \
		'traces.json:1: [5]: not a span object' \
		'traces.json:1: [6]: tags is not an object' \
		'traces.json:7: invalid JSON: bad number (not strict JSON: trailing commas and numbers such as 039.5, 1., 1e or NaN are not JSON)' \
		'traces.json:8: no spans (an empty array)' \
		'traces.json:9: invalid JSON at line 10: quoted object property name expected' \
		'traces.json:11: invalid JSON: the document ends before its value is closed (a cut file?)')" ]
	[ "$(signals <<<"$output" | jq -r .span_id | tr '\n' ' ')" = "b1 b9 " ]
	jq -se '.[-1] | .records_in == 12 and .rejects == 10' <<<"$output"
	reconciles "$output"
}

@test "zipkin: a pretty-printed JSON file of another kind is not taken for Zipkin" {
	d=$(scratch)
	printf '[\n  {"trace":"x", "ts": 1}\n]\n' >"$d/traces.json"
	run -0 quiet --dataset "$d"
	[ "$(format_of "$output")" != zipkin ]
}

@test "zipkin: one span object a line is Zipkin too (microseconds, not the JSONL milliseconds)" {
	d=$(scratch)
	printf '{"traceId":"a1","id":"b1","name":"x","timestamp":1714557600000000,"duration":2500,"localEndpoint":{"serviceName":"api"}}\n' >"$d/traces.jsonl"
	run -0 quiet --dataset "$d"
	[ "$(format_of "$output")" = zipkin ]
	[ "$(signals <<<"$output" | jq -r '[.id, .ts, .duration_ms] | @tsv')" = "$(printf 'traces:1\t2024-05-01T10:00:00.000Z\t2.5')" ]
}

# --- Jaeger ---

@test "jaeger: the query API's answer as downloaded: golden output, processes joined, microseconds" {
	run -0 golden jaeger
	diff -u "$L/jaeger.out" <(printf '%s\n' "$output")
	[ "$(signals <<<"$output" | jq -r '[.service, .parent_id, .duration_ms, .status] | @tsv')" = "$(printf '%s\n' \
		"frontend		52	UNSET" \
		"frontend	00f067aa0ba902b7	41.25	ERROR" \
		"cartservice	53995c3f42cd8ad8	38.001	UNSET")" ]
}

@test "jaeger: compact documents one a line, an array of traces, a bare trace; recognised by content" {
	d=$(scratch)
	sp='{"traceID":"t1","spanID":"s1","operationName":"op","references":[{"refType":"FOLLOWS_FROM","traceID":"t1","spanID":"s0"}],"startTime":1714557600000000,"duration":7,"processID":"p1","tags":[{"key":"otel.status_code","type":"string","value":"ERROR"}]}'
	pr='"processes":{"p1":{"serviceName":"api","tags":[]}}'
	{
		printf '{"data":[{"traceID":"t1","spans":[%s,%s],%s}],"errors":null}\n' "$sp" "$sp" "$pr"
		printf '[{"traceID":"t1","spans":[%s],%s}]\n' "$sp" "$pr"
		printf '{"traceID":"t1","spans":[%s],%s}\n' "$sp" "$pr"
	} >"$d/export.txt"
	run -0 quiet --dataset "$d" --set dataset.traces.path=export.txt
	[ "$(format_of "$output")" = jaeger ]
	[ "$(signals <<<"$output" | jq -r '[.id, .service, .parent_id, .duration_ms, .status] | @tsv')" = "$(printf '%s\n' \
		"traces:1.1	api	s0	0.007	ERROR" "traces:1.2	api	s0	0.007	ERROR" \
		"traces:2	api	s0	0.007	ERROR" "traces:3	api	s0	0.007	ERROR")" ]
	reconciles "$output"
}

@test "jaeger: damaged traces, spans and answers are rejects with file, line and reason; counts reconcile" {
	d=$(scratch)
	pr='"processes":{"p1":{"serviceName":"api"}}'
	ok='{"traceID":"t","spanID":"s1","operationName":"op","startTime":1714557600000000,"duration":1,"processID":"p1"}'
	{
		printf '{"data":[{"traceID":"t","spans":[%s,' "$ok"
		printf '{"traceID":"t","spanID":"s2","startTime":1714557600000000,"duration":1,"processID":"p9"},'
		printf '{"traceID":"t","spanID":"s3","startTime":"1714557600000000","duration":1,"processID":"p1"},'
		printf '{"traceID":"t","spanID":"s4","startTime":1714557600000000,"processID":"p1"},'
		printf '{"spanID":"s5","startTime":1714557600000000,"duration":1,"processID":"p1"}],%s},' "$pr"
		printf '{"traceID":"u","spans":{}},{"traceID":"v"}]}\n'
		printf '{"data":null,"errors":[{"code":500,"msg":"trace not found"}]}\n'
		printf '{"data":[]}\n'
		printf '{"data":[{"traceID":"t","spans":[%s,],%s}]}\n' "$ok" "$pr"
	} >"$d/traces.json"
	run -0 quiet --dataset "$d"
	[ "$(rejects "$output")" = "$(printf '%s\n' \
		"traces.json:1: data[0].spans[1]: processID 'p9' is not in the trace's processes" \
		'traces.json:1: data[0].spans[2]: startTime: not a whole number of microseconds' \
		'traces.json:1: data[0].spans[3]: duration: missing' \
		'traces.json:1: data[0].spans[4]: missing traceID' \
		'traces.json:1: data[1]: not a spans array' \
		'traces.json:1: data[2]: no spans array' \
		'traces.json:2: a Jaeger answer with errors: trace not found' \
		'traces.json:3: no traces (an empty data array)' \
		'traces.json:4: invalid JSON: unexpected character (not strict JSON: trailing commas and numbers such as 039.5, 1., 1e or NaN are not JSON)')" ]
	[ "$(signals <<<"$output" | jq -r .span_id)" = s1 ]
	jq -se '.[-1] | .records_in == 10 and .rejects == 9' <<<"$output"
	reconciles "$output"
}

# --- Prometheus HTTP API ---

@test "prometheus: a query_range answer as curl saved it: golden output, one metric per sample, sorted" {
	run -0 golden prometheus
	diff -u "$L/prometheus.out" <(printf '%s\n' "$output")
	# service from the service label first, then job; NaN is a null value
	[ "$(signals <<<"$output" | jq -r '[.id, .service, .value] | @tsv' | head -2)" = "$(printf '%s\n' "metrics:1.1	prometheus	1" "metrics:1.4	checkout	0.125")" ]
}

@test "prometheus: query (vector and scalar) answers one a line; service_label, name and service options" {
	d=$(scratch)
	{
		printf '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","app":"cart","job":"j"},"value":[1714557600.5,"1"]},{"metric":{"app":"web"},"value":[1714557600,"2"]}]}}\n'
		printf '{"status":"success","data":{"resultType":"scalar","result":[1714557601,"42"]},"warnings":["w"]}\n'
	} >"$d/prom.out"
	run -0 quiet --dataset "$d" --set dataset.metrics.path=prom.out --set dataset.metrics.service_label=app \
		--set dataset.metrics.name=requests --set dataset.metrics.service=all
	[ "$(format_of "$output")" = prometheus ]
	[ "$(signals <<<"$output" | jq -c '[.id, .ts, .service, .name, .value, .labels]')" = "$(printf '%s\n' \
		'["metrics:1.2","2024-05-01T10:00:00.000Z","web","requests",2,{}]' \
		'["metrics:1.1","2024-05-01T10:00:00.500Z","cart","up",1,{"job":"j"}]' \
		'["metrics:2","2024-05-01T10:00:01.000Z","all","requests",42,{}]')" ]
	reconciles "$output"
}

@test "prometheus: an error answer is one clear reject; damaged samples are rejects; counts reconcile" {
	d=$(scratch)
	{
		printf '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": 1:5: parse error"}\n'
		printf '{"status":"success","data":{"resultType":"vector","result":[]}}\n'
		printf '{"status":"success","data":{"resultType":"string","result":[1714557600,"x"]}}\n'
		printf '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"m","job":"a"},"values":[[1714557600,"1"],[1714557601,"+Inf"],[1714557602],["1714557603","1"],[1714557604,"abc"]]},'
		printf '{"metric":{"job":"a"},"values":[[1714557600,"1"]]},{"metric":{"__name__":"m"},"values":[[1714557600,"1"]]},'
		printf '{"metric":{"__name__":"h","job":"a"},"histograms":[[1714557600,{"count":"1"}]]}]}}\n'
		printf '{"data":{}}\nnull\n'
	} >"$d/metrics.json"
	run -0 quiet --dataset "$d"
	[ "$(format_of "$output")" = prometheus ]
	[ "$(rejects "$output")" = "$(printf '%s\n' \
		"metrics.json:1: the answer's status is 'error': bad_data: invalid parameter \"query\": 1:5: parse error" \
		'metrics.json:2: an empty result (the query matched no series)' \
		'metrics.json:3: resultType string holds no metric' \
		'metrics.json:4: result[0].values[1]: value +Inf is not a finite number' \
		'metrics.json:4: result[0].values[2]: a sample is not [time, "value"]' \
		'metrics.json:4: result[0].values[3]: the time is not a number of seconds' \
		'metrics.json:4: result[0].values[4]: the value is not a number' \
		'metrics.json:4: result[1].values[0]: no __name__ label (set dataset.metrics.name)' \
		'metrics.json:4: result[2].values[0]: no service label (set dataset.metrics.service_label or service)' \
		'metrics.json:4: result[3]: native histograms are not read' \
		'metrics.json:5: not a Prometheus API answer (no status)' \
		'metrics.json:6: null is not a document')" ]
	[ "$(signals <<<"$output" | jq -c '[.id, .value]')" = '["metrics:4.1",1]' ]
	reconciles "$output"
}

@test "prometheus: a bad service_label is a config error (exit 2)" {
	d=$(scratch)
	printf '{"status":"success","data":{"resultType":"vector","result":[]}}\n' >"$d/metrics.json"
	printf 'dataset:\n  metrics:\n    service_label: {a: 1}\n' >"$d/c.yaml"
	run -2 aiops-load --config "$d/c.yaml" --dataset "$d"
	[[ "$output" == *"dataset.metrics.service_label: expected a label name or a list of at most 8"* ]]
}

# --- CSV header names ---

@test "csv: header names match the alias table and the columns option without case" {
	d=$(scratch)
	printf 'Timestamp,Service,Level,Message,TraceID,Host\n2024-05-01T10:00:00Z,api,WARN,slow,t1,h1\n' >"$d/logs.csv"
	printf 'TIME,SERVICE,Metric_Name,VALUE,Unit\n2024-05-01T10:00:01Z,api,cpu,0.5,1\n' >"$d/metrics.csv"
	printf 'When,Who,Span,Trace,Op,Duration_MS\n2024-05-01T10:00:02Z,api,s1,t1,GET,12\n' >"$d/traces.csv"
	run -0 quiet --dataset "$d" --set dataset.traces.columns.ts=when --set dataset.traces.columns.service=WHO \
		--set dataset.traces.columns.span_id=span --set dataset.traces.columns.trace_id=trace \
		--set dataset.traces.columns.name=op
	[ "$(signals <<<"$output" | jq -c 'del(.id, .ts)')" = "$(printf '%s\n' \
		'{"kind":"log","service":"api","level":"WARN","msg":"slow","trace_id":"t1","attrs":{"Host":"h1"}}' \
		'{"kind":"metric","service":"api","name":"cpu","value":0.5,"unit":"1","labels":{}}' \
		'{"kind":"span","service":"api","trace_id":"t1","span_id":"s1","parent_id":null,"name":"GET","duration_ms":12,"status":"UNSET"}')" ]
	reconciles "$output"
}

@test "csv: the labels option of wide metrics matches column names without case" {
	d=$(scratch)
	printf 'Time,Service,Host,cpu\n2024-05-01T10:00:00Z,api,h1,0.5\n' >"$d/metrics.csv"
	run -0 quiet --dataset "$d" --set 'dataset.metrics.labels=["HOST"]'
	[ "$(signals <<<"$output" | jq -c '[.name, .value, .labels]')" = '["cpu",0.5,{"Host":"h1"}]' ]
}

@test "documents: a broken document's reject keeps its first 4096 bytes and says how long it was" {
	d=$(scratch)
	{
		printf '[\n'
		for i in $(seq 1 100); do
			printf '  {"traceId":"a","id":"s%d","timestamp":1714557600000000,"duration":1,"localEndpoint":{"serviceName":"api"}},\n' "$i"
		done
		printf '  {"traceId":"a","id":"bad",}\n]\n'
	} >"$d/traces.json"
	run -0 quiet --dataset "$d"
	[ "$(format_of "$output")" = zipkin ]
	[ "$(jq -c 'select(.kind == "reject") | [.line, .reason, (.raw | length), .raw_truncated, .raw_bytes]' <<<"$output")" = \
		"[1,\"invalid JSON: expected a member name (not strict JSON: trailing commas and numbers such as 039.5, 1., 1e or NaN are not JSON)\",4096,true,$(stat -c %s "$d/traces.json")]" ]
	reconciles "$output"
}

@test "csv: a single-series file (NAB's timestamp,value) takes its service and name from the config" {
	local d; d=$(scratch)
	mkdir -p "$d/nab"
	printf 'timestamp,value\n2014-04-01 00:00:00,20.5\n2014-04-01 00:05:00,\n2014-04-01 00:10:00,x\n' >"$d/nab/ec2_cpu.csv"
	# Without the constants: the header error says which line to add.
	printf 'dataset:\n  metrics: {files: ec2_cpu.csv}\n' >"$d/none.yaml"
	run --separate-stderr aiops-load --config "$d/none.yaml" --dataset "$d/nab"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"ec2_cpu.csv:1: csv header has no metric name column (a single-series file: set dataset.metrics.name)"* ]]
	printf 'dataset:\n  metrics: {files: ec2_cpu.csv, service: ec2, name: cpu}\n' >"$d/c.yaml"
	run -0 --separate-stderr aiops-load --config "$d/c.yaml" --dataset "$d/nab"
	[ "$(jq -c 'select(.kind == "metric") | [.service, .name, .value]' <<<"$output" | paste -sd' ')" = \
		'["ec2","cpu",20.5] ["ec2","cpu",null]' ]
	# The bad value is a reject, and the counts reconcile.
	[ "$(jq -c 'select(.kind == "reject") | [.line, (.reason | test("not a number"))]' <<<"$output")" = '[4,true]' ]
	jq -e 'select(.kind == "stage_end") | .records_in == 3 and .rejects == 1' <<<"$output"
	# A column wins over the constant.
	printf 'ts,service,value\n2014-04-01 00:00:00,db,1\n2014-04-01 00:01:00,,2\n' >"$d/nab/two.csv"
	printf 'dataset:\n  metrics: {files: two.csv, service: ec2, name: cpu}\n' >"$d/two.yaml"
	run -0 --separate-stderr aiops-load --config "$d/two.yaml" --dataset "$d/nab"
	[ "$(jq -r 'select(.kind == "metric") | .service' <<<"$output" | paste -sd' ')" = "db ec2" ]
}

@test "otlp_doc: a pretty-printed OTLP request (the opentelemetry-proto examples' shape) loads as downloaded" {
	local d; d=$(scratch)
	cp "$FIX/load/otlp-doc/traces.json" "$d/traces.json"
	run -0 --separate-stderr aiops-load --dataset "$d"
	[ "$(jq -r 'select(.kind == "run") | .dataset.files[0].format' <<<"$output")" = otlp_doc ]
	[ "$(jq -c 'select(.kind == "span") | [.id, .service, .span_id, .parent_id, .duration_ms, .ts]' <<<"$output")" = \
		'["traces:1","my.service","EEE19B7EC3C1B174","EEE19B7EC3C1B173",1000,"2018-12-13T14:51:00.000Z"]' ]
	[[ "$stderr" != *"multi-line JSON"* ]]
	# A damaged request is one reject naming what is missing; counts reconcile.
	jq 'del(.resourceSpans[0].scopeSpans)' "$FIX/load/otlp-doc/traces.json" >"$d/traces.json"
	jq . "$FIX/load/otlp-doc/traces.json" >>"$d/traces.json"
	run -0 --separate-stderr aiops-load --dataset "$d"
	[ "$(jq -c 'select(.kind == "reject") | [.line, (.reason | test("scopeSpans"))]' <<<"$output")" = '[1,true]' ]
	jq -e 'select(.kind == "stage_end") | .records_in == 2 and .rejects == 1 and .kinds.span == 1' <<<"$output"
}

# --- json: documents of plain records ---

@test "json: an array, pretty-printed objects and a one-line array: golden output" {
	run -0 golden json
	diff -u "$L/json.out" <(printf '%s\n' "$output")
}

@test "json: a pretty-printed array of plain records (an API export) loads as downloaded, each element a record" {
	local d; d=$(scratch)
	cat >"$d/logs.json" <<'JSON'
[
  {"timestamp": "2024-05-01T10:00:00Z", "service": "api", "level": "info", "message": "hello"},
  {
    "timestamp": "2024-05-01T10:00:01Z", "service": "api", "level": "error",
    "message": "boom", "extra": {"a": 1}
  },
  {"timestamp": "2024-05-01T10:00:02Z", "level": "error", "message": "no service"},
  42
]
JSON
	run -0 --separate-stderr aiops-load --dataset "$d"
	[ "$(format_of "$output")" = json ]
	[ "$(signals <<<"$output" | jq -c '[.id, .service, .level, .msg, .attrs]' | paste -sd' ')" = \
		'["logs:1.1","api","INFO","hello",{}] ["logs:1.2","api","ERROR","boom",{"extra":{"a":1}}]' ]
	# the bad elements are rejects that name the element; counts reconcile
	[ "$(jq -c 'select(.kind == "reject") | [.line, .reason, .raw]' <<<"$output" | paste -sd' ')" = \
		'[1,"element [2]: missing service","{\"timestamp\":\"2024-05-01T10:00:02Z\",\"level\":\"error\",\"message\":\"no service\"}"] [1,"element [3]: a number, not a record (an object)","42"]' ]
	reconciles "$output"
	[[ "$stderr" == *"logs.json:1: element [3]: a number, not a record (an object)"* ]]
	[[ "$stderr" != *"multi-line JSON"* ]]
}

@test "json: pretty-printed objects one after another, and one-line arrays, for metrics and traces" {
	local d; d=$(scratch)
	printf '{\n  "ts": 1714557600,\n  "service": "db",\n  "name": "cpu",\n  "value": 0.5\n}\n{\n  "ts": 1714557660,\n  "service": "db", "name": "cpu", "value": 0.7,\n  "labels": {"host": "h1"}\n}\n' >"$d/metrics.json"
	printf '%s\n' '[{"ts":"2024-05-01T10:00:00Z","service":"a","trace_id":"t1","span_id":"s1","name":"GET /","duration_ms":12},' \
		' {"ts":"2024-05-01T10:00:00.001Z","service":"b","trace_id":"t1","span_id":"s2","parent_span_id":"s1","name":"q","duration_ms":5}]' >"$d/traces.json"
	run -0 --separate-stderr aiops-load --dataset "$d"
	[ "$(jq -r 'select(.kind == "run") | [.dataset.files[].format] | join(" ")' <<<"$output")" = "json json" ]
	[ "$(signals <<<"$output" | jq -c '[.id, .kind, .value // .parent_id]' | paste -sd' ')" = \
		'["metrics:1","metric",0.5] ["traces:1.1","span",null] ["traces:1.2","span","s1"] ["metrics:7","metric",0.7]' ]
	reconciles "$output"
	# An empty array, a bare string and a cut document are each one reject.
	printf '[]\n"x"\n[{"ts": 1,\n' >"$d/metrics.json"
	rm "$d/traces.json"
	run -0 --separate-stderr aiops-load --dataset "$d" --set dataset.metrics.format=json
	[ "$(jq -c 'select(.kind == "reject") | [.line, .reason[0:40]]' <<<"$output" | paste -sd' ')" = \
		'[1,"no records (an empty array)"] [2,"a string, not a record (an object) or an"] [3,"invalid JSON: the document ends before i"]' ]
	reconciles "$output"
}

@test "json: a line-per-object file stays jsonl, and documents with their own keys keep their format" {
	local d; d=$(scratch)
	printf '%s\n' '{"ts":"2024-05-01T10:00:00Z","service":"a","level":"info","msg":"x"}' >"$d/logs.json"
	run -0 quiet --dataset "$d"
	[ "$(format_of "$output")" = jsonl ]
	run -0 golden zipkin
	diff -u "$L/zipkin.out" <(printf '%s\n' "$output")
}
