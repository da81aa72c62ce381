#!/usr/bin/env bats
# aiops-load on real files written by other software, as downloaded
# (tests/fixtures/load/real, see its LICENSE for where each comes from), and
# the bugs those files and loghub's / NAB's samples showed, on lines of the
# same shape.

# shellcheck disable=SC2016 # jq programs and log lines with a literal $
load test_helper

R="$FIX/load/real"

# Loads one file in its role: the output on stdout, stderr dropped.
load_one() { # role file [aiops-load option...]
	local role=$1 f=$2
	shift 2
	aiops-load --run-id x --"$role" "$f" "$@" 2>/dev/null
}

# The format the run record gives the file of a role.
format_of() { # output role
	jq -r --arg r "$2" 'select(.kind == "run") | .dataset.files[] | select(.role == $r) | .format' <<<"$1"
}

# Every input record is signals or a reject: documents count their elements
# (records_in = signals + rejects); OTLP lines and documents count
# themselves, and each must have left a signal id or a reject line.
accounted() { # output
	jq -se '.[-1] as $e
		| [.[] | select(.kind == "log" or .kind == "metric" or .kind == "span")] as $s
		| [.[] | select(.kind == "reject")] as $r
		| ($r | length) == $e.rejects
		and ($s | length) == ($e.kinds.log + $e.kinds.metric + $e.kinds.span)
		and (($e.records_in == ($s | length) + $e.rejects)
		     or ((([$s[] | .id | sub("^[a-z]+:"; "") | sub("\\..*"; "") | tonumber]
			  + [$r[] | .line]) | unique | length) == $e.records_in))' <<<"$1" >/dev/null
}

# Sensible fields: a time from 1970 to 2030, a service, a name where the
# kind has one, spans with ids and a duration >= 0.
sensible() { # output
	jq -se 'all(.[] | select(.kind == "log" or .kind == "metric" or .kind == "span");
		(.ts | test("^(19[7-9][0-9]|20[0-2][0-9]|2030)-[01][0-9]-[0-3][0-9]T.*Z$"))
		and (.service | type == "string" and length > 0)
		and (if .kind == "metric" then (.name | length > 0) else true end)
		and (if .kind == "span" then (.trace_id | length > 0) and (.span_id | length > 0)
		     and .duration_ms >= 0 else true end))' <<<"$1" >/dev/null
}

# file role format rejects (the documented ones)
REAL="otlp_doc/logs.json logs otlp_doc 0
otlp_doc/metrics.json metrics otlp_doc 1
otlp_doc/trace.json traces otlp_doc 0
otlp/logs.jsonl logs otlp 0
otlp/metrics.jsonl metrics otlp 0
otlp/traces.jsonl traces otlp 8
zipkin/skew.json traces zipkin 0
zipkin/yelp.json traces zipkin 0
zipkin/zipkin_v2_02.json traces zipkin 0
jaeger/ui_01.json traces jaeger 0
jaeger/trace_success.json traces jaeger 0
prometheus/query.json metrics prometheus 0
prometheus/query_range.json metrics prometheus 0"

@test "real files: every committed file loads as downloaded with no config, counts reconcile, only documented rejects" {
	local f role fmt nrej out bad=""
	[ "$(find "$R" -type f ! -name LICENSE | wc -l)" -eq "$(wc -l <<<"$REAL")" ]
	while read -r f role fmt nrej; do
		out=$(load_one "$role" "$R/$f") || { bad+="$f: exit $?; "; continue; }
		[ "$(format_of "$out" "$role")" = "$fmt" ] || bad+="$f: format $(format_of "$out" "$role"); "
		[ "$(tail -n1 <<<"$out" | jq .rejects)" = "$nrej" ] || bad+="$f: $(tail -n1 <<<"$out" | jq .rejects) rejects; "
		[ "$(tail -n1 <<<"$out" | jq '.kinds.log + .kinds.metric + .kinds.span')" -gt 0 ] ||
			[ "$nrej" -gt 0 ] || bad+="$f: no signals; "
		accounted "$out" || bad+="$f: counts do not reconcile; "
		sensible "$out" || bad+="$f: a field is not sensible; "
	done <<<"$REAL"
	echo "$bad"
	[ -z "$bad" ]
}

@test "real files: the documented rejects say why (histogram buckets that do not fit, empty span ids)" {
	run -0 load_one metrics "$R/otlp_doc/metrics.json"
	[ "$(jq -r 'select(.kind == "reject") | .reason' <<<"$output")" = \
		"resourceMetrics[0].scopeMetrics[0].metrics[2].dataPoints[0]: no percentiles: 3 bucketCounts for 1 explicitBounds (expected 2)" ]
	# its count and sum still load
	[ "$(jq -r 'select(.kind == "metric") | .name' <<<"$output" | tr '\n' ,)" = "my.counter,my.gauge,my.histogram.count,my.histogram.sum," ]
	# the specification's example spans have "traceId":"": present but empty, not missing
	run -0 load_one traces "$R/otlp/traces.jsonl"
	[ "$(jq -r 'select(.kind == "reject") | .reason' <<<"$output" | sort -u)" = \
		"$(printf '%s\n' "resourceSpans[0].scopeSpans[0].spans[0]: empty traceId (OTLP: an invalid span)" \
			"resourceSpans[0].scopeSpans[0].spans[1]: empty traceId (OTLP: an invalid span)")" ]
}

@test "real files: fields as the producers meant them (microseconds, processes joined, the job label)" {
	run -0 load_one traces "$R/zipkin/skew.json"
	[ "$(jq -r 'select(.kind == "span") | [.ts, .service, .name, .duration_ms, (.parent_id // "-")] | @tsv' <<<"$output" | head -2)" = \
		"$(printf '%s\n' "2016-08-02T15:00:04.008Z	serviceb	post	93.577	bf396325699c84bf" \
			"2016-08-02T15:00:04.008Z	serviceb	async	65	74280ae0c10d8062")" ]
	run -0 load_one logs "$R/otlp_doc/logs.json"
	[ "$(jq -r 'select(.kind == "log") | [.ts, .service, .level, .msg, .attrs."map.attribute"."some.map.key"] | @tsv' <<<"$output")" = \
		"$(printf '2018-12-13T14:51:00.300Z\tmy.service\tINFO\tExample log record\tsome value')" ]
	run -0 load_one metrics "$R/prometheus/query_range.json"
	[ "$(jq -r 'select(.kind == "metric") | "\(.service)=\(.value)"' <<<"$output" | tr '\n' ,)" = \
		"prometheus=1,node=0,prometheus=1,node=0,prometheus=1,node=1," ]
}

# ---- Jaeger ----

@test "jaeger: an array of spans with their own process (the anonymizer's and jaeger-query's span dumps) loads" {
	run -0 load_one traces "$R/jaeger/trace_success.json"
	[ "$(jq -r 'select(.kind == "span") | [.id, .service, .parent_id, .duration_ms, .status, .attrs."span.kind"] | @tsv' <<<"$output")" = \
		"$(printf '%s\n' "traces:1.1	16af988c443cff37	492770a15935810f	267.037	UNSET	server" \
			"traces:1.2	3c220036602f839e	7606ddfe69932d34	32.782	ERROR	client")" ]
	# one span object a line (an Elasticsearch or Kafka dump) too
	local d; d=$(scratch)
	jq -c '.[]' "$R/jaeger/trace_success.json" >"$d/spans.json"
	run -0 load_one traces "$d/spans.json"
	[ "$(format_of "$output" traces)" = jaeger ]
	[ "$(jq -r 'select(.kind == "span") | .id' <<<"$output" | tr '\n' ,)" = "traces:1,traces:2," ]
	accounted "$output"
}

@test "jaeger: the parent is the first CHILD_OF reference into the span's own trace, else its first FOLLOWS_FROM" {
	run -0 load_one traces "$R/jaeger/ui_01.json"
	# span 4 refers CHILD_OF to 00..ff/ff (another trace) first, then to 2 in its own trace
	[ "$(jq -r 'select(.kind == "span") | "\(.span_id)<\(.parent_id)"' <<<"$output" | tr '\n' ,)" = "2<null,2<null,3<2,4<2,5<4," ]
	local d; d=$(scratch)
	printf '{"traceID":"00a1","spans":[%s],"processes":{"p":{"serviceName":"s"}}}\n' \
		'{"traceID":"00a1","spanID":"c","operationName":"o","startTime":1714557600000000,"duration":1,"processID":"p","references":[{"refType":"CHILD_OF","traceID":"b2","spanID":"x"},{"refType":"FOLLOWS_FROM","traceID":"A1","spanID":"y"}]}' \
		>"$d/t.json"
	run -0 load_one traces "$d/t.json"
	# trace ids compare as numbers: 00a1 and A1 are one trace
	[ "$(jq -r 'select(.kind == "span") | .parent_id' <<<"$output")" = y ]
}
# ---- plain-text logs ----

@test "log4j: a [thread name with spaces] is the thread, and the logger after it is read (Hadoop's lines)" {
	local d; d=$(scratch)
	printf '%s\n' '2015-10-18 18:01:51,775 INFO [Socket Reader #1 for port 62260] org.apache.hadoop.ipc.Server: Starting Socket Reader #1 for port 62260' \
		'2015-10-18 18:01:53,447 INFO [AsyncDispatcher event handler] org.apache.hadoop.mapreduce.v2.app.speculate.DefaultSpeculator: JOB_CREATE job_1' \
		'2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200' >"$d/hadoop.log"
	run -0 load_one logs "$d/hadoop.log"
	[ "$(format_of "$output" logs)" = log4j ]
	[ "$(jq -r 'select(.kind == "log") | [.attrs.thread, .attrs.logger, .msg] | @tsv' <<<"$output")" = "$(printf '%s\n' \
		"QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774		Notification time out: 3200" \
		"Socket Reader #1 for port 62260	org.apache.hadoop.ipc.Server	Starting Socket Reader #1 for port 62260" \
		"AsyncDispatcher event handler	org.apache.hadoop.mapreduce.v2.app.speculate.DefaultSpeculator	JOB_CREATE job_1")" ]
}

@test "text: a level word after a thread number is the level (HDFS's 'yyMMdd HHmmss THREAD LEVEL class: msg')" {
	local d; d=$(scratch)
	printf '%s\n' '081109 214043 2561 WARN dfs.DataNode$DataXceiver: 10.251.30.85:50010:Got exception while serving blk_1' \
		'081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_3 terminating' \
		'081109 203616 149 started without a level' \
		'081109 203617 [main] ERROR boom' >"$d/hdfs.log"
	run -0 load_one logs "$d/hdfs.log" --set dataset.logs.format=text --set 'dataset.logs.ts_format=%y%m%d %H%M%S'
	[ "$(jq -r 'select(.kind == "log") | [.ts, .level, (.attrs.thread // "-"), .msg] | @tsv' <<<"$output")" = "$(printf '%s\n' \
		'2008-11-09T20:36:15.000Z	INFO	148	dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_3 terminating' \
		'2008-11-09T20:36:16.000Z	INFO	-	149 started without a level' \
		'2008-11-09T20:36:17.000Z	ERROR	main	boom' \
		'2008-11-09T21:40:43.000Z	WARN	2561	dfs.DataNode$DataXceiver: 10.251.30.85:50010:Got exception while serving blk_1')" ]
}


@test "a text log whose lines start 'yyMMdd HHmmss', 'yy/MM/dd', 'MM-dd' or '[MM.dd ...]' is named a plain-text log" {
	local d f; d=$(scratch)
	printf '%s\n' '081109 203615 148 INFO a: b' '081109 203616 149 INFO a: c' >"$d/hdfs.log"
	printf '%s\n' 'Raw' '17/06/09 20:10:40 INFO a: b' '17/06/09 20:10:41 INFO a: c' >"$d/spark.log"
	printf '%s\n' '03-17 16:13:38.811  1702  2395 D WindowManager: x' '03-17 16:13:38.819  1702  8671 D PowerManagerService: y' >"$d/android.log"
	printf '%s\n' '[10.30 16:49:06] chrome.exe - proxy.cse.cuhk.edu.hk:5070 open' '[10.30 16:49:07] chrome.exe - close' >"$d/proxifier.log"
	for f in hdfs spark android proxifier; do
		run -0 --separate-stderr aiops-load --logs "$d/$f.log"
		[ "$(printf '%s\n' "${stderr_lines[@]}" | grep -c 'a plain-text log (its lines start with a time).*set dataset.logs.format: text and ts_format')" -eq 1 ] ||
			{ echo "$f: ${stderr_lines[*]}"; false; }
	done
}

@test "syslog without a year: the latest year that does not put the first line in the future" {
	local d soon today; d=$(scratch)
	# three days ahead is last year's date (a log from December read in January, loghub's "Dec 10" read on Dec 7)
	soon=$(date -u -d '+3 days' '+%b %e %H:%M:%S')
	today=$(date -u -d '-1 hour' '+%b %e %H:%M:%S')
	printf '%s h sshd[1]: a\n' "$soon" >"$d/a.log"
	printf '%s h sshd[1]: b\n' "$today" >"$d/b.log"
	run -0 pipe "aiops-load --logs '$d/a.log' 2>/dev/null | jq -r 'select(.kind == \"log\") | .ts[0:10]'"
	[ "$output" = "$(date -u -d '+3 days -1 year' +%F)" ]
	run -0 pipe "aiops-load --logs '$d/b.log' 2>/dev/null | jq -r 'select(.kind == \"log\") | .ts[0:10]'"
	[ "$output" = "$(date -u -d '-1 hour' +%F)" ]
	# dataset.logs.year still wins
	run -0 pipe "aiops-load --logs '$d/a.log' --set dataset.logs.year=2024 2>/dev/null | jq -r 'select(.kind == \"log\") | .ts[0:4]'"
	[ "$output" = 2024 ]
}
