#!/usr/bin/env bash
# Benchmarks the provider layer's concurrency: N calls (default 200) through
# llm_batch() (via `t_llm drive`) against the fake server answering after a
# fixed delay (default 500 ms), at each concurrency level (default 1 4 16).
# Prints wall time beside the ideal ceil(N/c) x delay and the ratio; exits 1
# when a call fails or the highest level is more than 15% over its ideal.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
unit=${AIOPS_UNIT:-$root/build/unit}
n=${BENCH_N:-200}
delay=${BENCH_DELAY_MS:-500}
levels=${BENCH_CONCURRENCY:-1 4 16}
drv=$unit/t_llm
[ -x "$drv" ] || { echo "bench-llm: no $drv (make units)" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-llm.XXXXXX")
pid=
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
python3 "$root/tests/servers/fake_llm.py" --port-file "$tmp/port" \
	--delay-ms "$delay" >/dev/null 2>"$tmp/server.err" 3>&- &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || { echo "bench-llm: the fake server did not start" >&2; exit 1; }
port=$(cat "$tmp/port")

for i in $(seq "$n"); do
	printf '{"messages":[{"role":"user","content":"group %d"}],"json":true,"group_id":"G%04d"}\n' "$i" "$i"
done >"$tmp/in.jsonl"

echo "bench-llm: $n calls, server delay $delay ms, fake_llm.py on 127.0.0.1:$port"
printf '%-12s %8s %9s %9s %7s\n' concurrency calls wall_s ideal_s ratio
status=0
last_ratio=
for c in $levels; do
	cat >"$tmp/c.yaml" <<-YAML
	provider:
	  type: openai_compat
	  default_model: bench
	  params: {base_url: "http://127.0.0.1:$port/v1", concurrency: $c, max_attempts: 1, timeout_s: 60}
	YAML
	t0=$(date +%s%N)
	if ! env -u OPENAI_API_KEY "$drv" drive --config "$tmp/c.yaml" <"$tmp/in.jsonl" >"$tmp/out.jsonl"; then
		echo "bench-llm: calls failed at concurrency $c" >&2
		grep -m3 '"error":"' "$tmp/out.jsonl" >&2 || true
		status=1
	fi
	t1=$(date +%s%N)
	ok=$(grep -c '"kind":"llm_call".*"error":null' "$tmp/out.jsonl" || true)
	awk -v c="$c" -v n="$n" -v ok="$ok" -v d="$delay" -v t0="$t0" -v t1="$t1" 'BEGIN {
		wall = (t1 - t0) / 1e9
		ideal = int((n + c - 1) / c) * d / 1000
		printf "%-12d %8d %9.2f %9.2f %7.3f\n", c, ok, wall, ideal, wall / ideal
	}'
	last_ratio=$(awk -v c="$c" -v n="$n" -v d="$delay" -v t0="$t0" -v t1="$t1" \
		'BEGIN { printf "%.3f", ((t1 - t0) / 1e9) / (int((n + c - 1) / c) * d / 1000) }')
done
if awk -v r="$last_ratio" 'BEGIN { exit !(r <= 1.15) }'; then
	echo "bench-llm: target met (ratio $last_ratio at the highest concurrency, limit 1.15)"
else
	echo "bench-llm: target missed (ratio $last_ratio at the highest concurrency, limit 1.15)"
	status=1
fi
exit $status
