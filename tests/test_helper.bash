# Shared set-up for every bats suite: the built stages first on PATH, a
# fixed locale and zone, and no variable from the caller's environment that
# could change what a stage does (API keys, tracking URIs, actors).
# shellcheck shell=bash

# run -N (exit-status checks) needs bats 1.5; Debian 12 ships 1.8.2.
bats_require_minimum_version 1.5.0

AIOPS_ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
AIOPS_BIN="${AIOPS_BIN:-$AIOPS_ROOT/bin}"
PATH="$AIOPS_BIN:$AIOPS_ROOT/bin:$PATH"
FIX="$AIOPS_ROOT/tests/fixtures"
export AIOPS_ROOT AIOPS_BIN PATH FIX
export LC_ALL=C TZ=UTC
# A stage piped into jq or mask keeps its exit status (and an ASan/UBSan
# abort at exit fails the test): every pipeline in a test fails when any
# of its commands does.  A test of a closed reader (| head -n1) runs its
# pipeline with bash -c, where this does not apply.
set -o pipefail
unset OPENAI_API_KEY OPENAI_API_BASE OPENAI_BASE_URL LLAMA_STACK_BASE_URL \
	LLAMA_STACK_API_KEY OLLAMA_BASE_URL OLLAMA_HOST MLFLOW_TRACKING_URI \
	MLFLOW_TRACKING_TOKEN MLFLOW_TRACKING_USERNAME MLFLOW_TRACKING_PASSWORD \
	MLFLOW_EXPERIMENT_NAME AIOPS_ACTOR AIOPS_CONFIG

# Drops the fields that change from run to run (timings, run ids, clocks)
# so outputs can be compared with fixtures byte for byte.
mask() {
	jq -c 'del(.wall_ms, .cpu_ms, .started_at, .run_id, .decided_at, .latency_ms)
		| if .kind == "run" then del(.dataset.path) else . end' "$@"
}

export -f mask

# Starts the fake model server (tests/servers/fake_llm.py) with its files in
# DIR (port, fake.pid, fake.err) and the given options; returns once it
# listens, and fails when it does not.  Stop it with fake_llm_stop DIR.
fake_llm_start() { # DIR [OPTION...]
	local d=$1
	shift
	mkdir -p "$d"
	python3 "$AIOPS_ROOT/tests/servers/fake_llm.py" --port-file "$d/port" "$@" \
		>/dev/null 2>"$d/fake.err" 3>&- &
	echo $! >"$d/fake.pid"
	for _ in $(seq 200); do [ -s "$d/port" ] && break; sleep 0.05; done
	[ -s "$d/port" ]
}

fake_llm_stop() { # DIR
	if [ -f "$1/fake.pid" ]; then
		kill "$(cat "$1/fake.pid")" 2>/dev/null || true
		wait "$(cat "$1/fake.pid")" 2>/dev/null || true
		rm -f "$1/fake.pid"
	fi
}

# Runs a shell pipeline with pipefail (bats 1.8 has no bats_pipe):
#   run pipe 'aiops-load --dataset d | aiops-correlate'
pipe() {
	bash -c "set -o pipefail; $1"
}

# A fresh scratch directory per test, removed by bats.
scratch() {
	mktemp -d "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/aiops.XXXXXX"
}
