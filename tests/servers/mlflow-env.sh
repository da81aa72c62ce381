#!/usr/bin/env bash
# mlflow-env.sh: the real MLflow server for the tests.
#
#   mlflow-env.sh ensure          create (or reuse) the virtual environment
#                                 with mlflow pinned; prints its directory
#   mlflow-env.sh start DIR       start `mlflow server` with its SQLite store
#                                 and artifacts in DIR on a free loopback
#                                 port; waits for /health; prints the URL
#   mlflow-env.sh stop DIR        stop the server started for DIR
#
# The environment lives in $AIOPS_VENV (default: the ignored .venv/ at the
# top of the tree) and is reused while it holds the pinned version
# ($AIOPS_MLFLOW_VERSION, default below), so only the first run on a machine
# downloads from the package registry.  Creation is serialised with flock so
# parallel suites do not install twice.  Exit status 3 means the
# environment cannot be created (no network or no python3-venv): callers skip
# with the message printed on stderr.  With AIOPS_NOTICE_FD set (a bats
# suite's fd 3), the lines saying that it installs go there too, as TAP
# comments, so `make test` shows why it waits while they are captured.
#
# The pin: mlflow 3.18.0 is listed on the registry but its dependency
# mlflow-skinny 3.18.0 is not published there, so 3.18.0 cannot be installed;
# 3.17.2 is the newest release that installs whole.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv=${AIOPS_VENV:-$root/.venv}
version=${AIOPS_MLFLOW_VERSION:-3.17.2}
py=${AIOPS_PYTHON:-python3}

die() { echo "mlflow-env: $*" >&2; exit "${rc:-1}"; }

# A line said on stderr and, when AIOPS_NOTICE_FD is set, on that fd.
notice() {
	echo "mlflow-env: $*" >&2
	if [ -n "${AIOPS_NOTICE_FD:-}" ]; then
		echo "# mlflow-env: $*" >&"$AIOPS_NOTICE_FD"
	fi
}

have_version() {
	[ -x "$venv/bin/mlflow" ] && [ -f "$venv/.aiops-mlflow-$version" ]
}

ensure() {
	have_version && { echo "$venv"; return 0; }
	mkdir -p "$(dirname "$venv")" || die "cannot create $(dirname "$venv")"
	exec 9>"$venv.lock" || die "cannot lock $venv.lock"
	flock 9
	if ! have_version; then
		local log t0
		log=$(mktemp)
		t0=$(date +%s)
		notice "installing mlflow==$version into $venv (first run only, a few minutes)"
		if ! { [ -x "$venv/bin/pip" ] || "$py" -m venv "$venv"; } >"$log" 2>&1; then
			cat "$log" >&2; rm -f "$log"
			rc=3 die "cannot create a virtual environment with $py (python3-venv missing?)"
		fi
		if ! "$venv/bin/pip" install -q --disable-pip-version-check "mlflow==$version" >"$log" 2>&1; then
			tail -n 5 "$log" >&2; rm -f "$log"
			rc=3 die "cannot install mlflow==$version from the package registry"
		fi
		rm -f "$log" "$venv"/.aiops-mlflow-*
		touch "$venv/.aiops-mlflow-$version"
		notice "installed in $(($(date +%s) - t0)) s"
	fi
	flock -u 9
	echo "$venv"
}

free_port() {
	"$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
	local dir=$1 port url
	ensure >/dev/null || exit $?
	mkdir -p "$dir/art" || die "cannot create $dir"
	dir=$(cd "$dir" && pwd)
	for _ in 1 2 3; do
		port=$(free_port)
		url=http://127.0.0.1:$port
		(cd "$dir" && exec "$venv/bin/mlflow" server \
			--backend-store-uri "sqlite:///$dir/mlflow.db" \
			--artifacts-destination "$dir/art" \
			--host 127.0.0.1 --port "$port" --workers 1 \
			>"$dir/server.log" 2>&1 3>&- 9>&- </dev/null) &
		echo $! >"$dir/server.pid"
		echo "$url" >"$dir/server.url"
		# The first start migrates the database: allow a minute.
		for _ in $(seq 1 600); do
			if curl -fsS "$url/health" >/dev/null 2>&1; then
				echo "$url"
				return 0
			fi
			kill -0 "$(cat "$dir/server.pid")" 2>/dev/null || break
			sleep 0.1
		done
		stop "$dir"
		grep -q -i 'address already in use' "$dir/server.log" || break
	done
	tail -n 20 "$dir/server.log" >&2
	die "mlflow server did not start (log: $dir/server.log)"
}

stop() {
	local dir=$1 pid
	[ -f "$dir/server.pid" ] || return 0
	pid=$(cat "$dir/server.pid")
	rm -f "$dir/server.pid"
	# The server runs uvicorn workers as children: end the whole group we
	# started, by the id we recorded.
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

case "${1:-}" in
ensure) ensure ;;
start) [ $# -eq 2 ] || die "usage: mlflow-env.sh start DIR"; start "$2" ;;
stop) [ $# -eq 2 ] || die "usage: mlflow-env.sh stop DIR"; stop "$2" ;;
*) echo "usage: mlflow-env.sh ensure | start DIR | stop DIR" >&2; exit 2 ;;
esac
