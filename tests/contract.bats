#!/usr/bin/env bats
# The stream contract (README, "the record stream"), checked on every stage:
# usage, pass-through of foreign records byte for byte, rejects with the raw
# text and line, stage first and stage_end last, --strict, a closed reader,
# a failed write.  (It was ../shared/checks/contract.sh, outside the
# repository; here it runs on a plain checkout and under make
# test-valgrind-contract.)

load test_helper

STAGES="aiops-load aiops-correlate aiops-rca aiops-remediate aiops-exec aiops-metrics aiops-mlflow"
FILTERS="aiops-correlate aiops-rca aiops-remediate aiops-exec aiops-metrics aiops-mlflow"

setup() {
	T=$(scratch)
	# Records no stage owns, with odd but valid JSON, a broken line, and
	# one more foreign record.
	cat >"$T/in.jsonl" <<'IN'
{"kind":"zz_custom","n":1,"s":"a/b \u00e9 \"q\"","f":1.50,"nested":{"k":[1,2,3]}}
{"kind":"zz_custom","n":2,"big":12345678901234567890,"ws":  "spaced"}
{"kind":"zz_custom", "n":3}
IN
	{ cat "$T/in.jsonl"; echo '{"kind":"zz_custom","n":4'; echo '{"kind":"zz_custom","n":5}'; } >"$T/mixed.jsonl"
	cd "$T" || return 1
}

# Runs every filter on the mixed stream into $T/NAME.out and $T/NAME.err.
run_filters() {
	local s rc
	for s in $FILTERS; do
		rc=0
		"$s" <"$T/mixed.jsonl" >"$T/$s.out" 2>"$T/$s.err" || rc=$?
		[ "$rc" -eq 0 ] || { echo "$s: a stream with one broken line exits $rc, not 0"; return 1; }
	done
}

@test "contract: every stage is built" {
	for s in $STAGES; do [ -x "$AIOPS_BIN/$s" ] || { echo "$s: not built in $AIOPS_BIN"; false; }; done
}

@test "contract: --help exits 0 with usage on stdout; an unknown option exits 2 naming the program" {
	for s in $STAGES; do
		run -0 "$s" --help
		[ -n "$output" ] || { echo "$s: --help printed nothing"; false; }
		run -2 --separate-stderr "$s" --no-such-option </dev/null
		grep -q "^$s: " <<<"$stderr" || { echo "$s: stderr: $stderr"; false; }
	done
}

@test "contract: a stream with a broken line exits 0 and every output line is JSON" {
	run_filters
	for s in $FILTERS; do jq -e . "$T/$s.out" >/dev/null || { echo "$s: output is not all JSON"; false; }; done
}

@test "contract: foreign records pass through byte for byte, in order, also after a broken line" {
	run_filters
	for s in $FILTERS; do
		grep -F -x -f "$T/in.jsonl" "$T/$s.out" | cmp - "$T/in.jsonl" || { echo "$s: foreign records changed"; false; }
		grep -q -F -x '{"kind":"zz_custom","n":5}' "$T/$s.out" || { echo "$s: the record after the broken line is missing"; false; }
	done
}

@test "contract: the broken line becomes one reject with its raw text and line 4; stderr names it" {
	run_filters
	for s in $FILTERS; do
		[ "$(jq -c -s 'map(select(.kind == "reject")) | map([.line, (.raw | tostring | contains("\"n\":4"))])' "$T/$s.out")" = '[[4,true]]' ] ||
			{ echo "$s: expected one reject of line 4"; false; }
		grep -q "^$s: .*4" "$T/$s.err" || { echo "$s: stderr: $(cat "$T/$s.err")"; false; }
	done
}

@test "contract: the stage record first, stage_end last" {
	run_filters
	for s in $FILTERS; do
		[ "$(head -n 1 "$T/$s.out" | jq -r .kind)/$(tail -n 1 "$T/$s.out" | jq -r .kind)" = stage/stage_end ] ||
			{ echo "$s: first/last kinds wrong"; false; }
	done
}

@test "contract: --strict exits 1 on a broken line" {
	for s in $FILTERS; do run -1 "$s" --strict "$T/mixed.jsonl"; done
}

@test "contract: a closed reader (| head -n1) is quiet" {
	for s in $FILTERS; do
		bash -c "yes '{\"kind\":\"zz_custom\",\"n\":0}' | head -n 200000 | $s 2>'$T/pipe.err' | head -n 1 >/dev/null" || true
		[ ! -s "$T/pipe.err" ] || { echo "$s: $(head -c 200 "$T/pipe.err")"; false; }
	done
}

@test "contract: a failed write (/dev/full) exits 1" {
	for s in $FILTERS; do
		rc=0
		"$s" <"$T/in.jsonl" >/dev/full 2>/dev/null || rc=$?
		[ "$rc" -eq 1 ] || { echo "$s: exit $rc writing to /dev/full"; false; }
	done
}
