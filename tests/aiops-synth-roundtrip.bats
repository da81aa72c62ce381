#!/usr/bin/env bats
# The formats of aiops-synth round-trip through aiops-load: one seed written
# as JSONL, CSV and OTLP JSON, each plain and gzipped, reads back as the
# same records (log, metric, span, incident), in the same order.
#
# What legitimately differs, and is dropped or checked on its own:
#   - the run record: run_id, started_at, dataset.path and dataset.files
#     (file names, formats, sizes and hashes are those of each format);
#     it is compared without them
#   - the signal ids ("role:line"): a CSV file's first line is its header,
#     so a CSV signal's id is one more than the JSONL one (logs:2 for
#     logs:1); OTLP lines hold one signal each here, so their ids equal the
#     JSONL ones.  The ids are compared after that shift.
#   - stage and stage_end records (timings) are not compared.

load test_helper
bats_require_minimum_version 1.5.0

ARGS=(--seed 5 --duration 40m --rate 3)

setup_file() {
	if ! command -v aiops-load >/dev/null || ! command -v aiops-synth >/dev/null; then
		return 0
	fi
	local f
	for f in jsonl csv otlp; do
		aiops-synth "${ARGS[@]}" --format "$f" --out "$BATS_FILE_TMPDIR/$f"
		aiops-synth "${ARGS[@]}" --format "$f" --gzip --out "$BATS_FILE_TMPDIR/$f-gz"
	done
}

setup() {
	command -v aiops-synth >/dev/null || skip "aiops-synth is not built yet"
	command -v aiops-load >/dev/null || skip "aiops-load is not built yet"
	D=$BATS_FILE_TMPDIR
}

# The records of a dataset as aiops-load writes them, without the fields
# that legitimately differ between formats (see the top of the file).
records() { # dir
	aiops-load --run-id 0 --strict --dataset "$1" |
		jq -c 'select(.kind == "log" or .kind == "metric" or .kind == "span"
			or .kind == "incident") | del(.id)'
}

# The ids of the signals, one a line.
ids() { # dir
	aiops-load --run-id 0 --dataset "$1" |
		jq -r 'select(.kind == "log" or .kind == "metric" or .kind == "span") | .id'
}

# The run record without what names or measures the files.
run_record() { # dir
	aiops-load --run-id 0 --dataset "$1" |
		jq -c 'select(.kind == "run") | del(.started_at, .dataset.path, .dataset.files, .dataset.sha256)'
}

@test "the JSONL dataset loads without a reject" {
	run -0 pipe "aiops-load --strict --dataset '$D/jsonl' | jq -c 'select(.kind == \"reject\")'"
	[ -z "$output" ]
	records "$D/jsonl" >"$BATS_TEST_TMPDIR/j"
	# All three signal kinds and the seven incidents are there.
	run -0 jq -rs 'group_by(.kind) | map("\(.[0].kind)") | join(" ")' "$BATS_TEST_TMPDIR/j"
	[ "$output" = "incident log metric span" ]
	run -0 jq -s 'map(select(.kind == "incident")) | length' "$BATS_TEST_TMPDIR/j"
	[ "$output" = 7 ]
}

@test "gzipped JSONL gives the same records and ids as JSONL" {
	records "$D/jsonl" >"$BATS_TEST_TMPDIR/a"
	records "$D/jsonl-gz" >"$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	diff <(ids "$D/jsonl") <(ids "$D/jsonl-gz")
}

@test "CSV gives the same records as JSONL" {
	records "$D/jsonl" >"$BATS_TEST_TMPDIR/a"
	records "$D/csv" >"$BATS_TEST_TMPDIR/b"
	[ -s "$BATS_TEST_TMPDIR/a" ]
	diff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "gzipped CSV gives the same records as JSONL" {
	records "$D/jsonl" >"$BATS_TEST_TMPDIR/a"
	records "$D/csv-gz" >"$BATS_TEST_TMPDIR/b"
	diff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "CSV ids are the JSONL ids shifted by the header line" {
	ids "$D/jsonl" | awk -F: '{ printf "%s:%d\n", $1, $2 + 1 }' >"$BATS_TEST_TMPDIR/a"
	ids "$D/csv" >"$BATS_TEST_TMPDIR/b"
	diff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "OTLP JSON gives the same records and ids as JSONL" {
	records "$D/jsonl" >"$BATS_TEST_TMPDIR/a"
	records "$D/otlp" >"$BATS_TEST_TMPDIR/b"
	diff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	diff <(ids "$D/jsonl") <(ids "$D/otlp")
}

@test "gzipped OTLP JSON gives the same records as JSONL" {
	records "$D/jsonl" >"$BATS_TEST_TMPDIR/a"
	records "$D/otlp-gz" >"$BATS_TEST_TMPDIR/b"
	diff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "the run record differs only in what names and measures the files" {
	local f
	run_record "$D/jsonl" >"$BATS_TEST_TMPDIR/a"
	for f in jsonl-gz csv csv-gz otlp otlp-gz; do
		run_record "$D/$f" >"$BATS_TEST_TMPDIR/b"
		diff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	done
	# The formats are detected as written.
	run -0 pipe "aiops-load --run-id 0 --dataset '$D/csv-gz' | jq -r 'select(.kind == \"run\") | [.dataset.files[] | .format] | join(\" \")'"
	[ "$output" = "csv csv csv jsonl" ]
	run -0 pipe "aiops-load --run-id 0 --dataset '$D/otlp' | jq -r 'select(.kind == \"run\") | [.dataset.files[] | .format] | join(\" \")'"
	[ "$output" = "otlp otlp otlp jsonl" ]
}
