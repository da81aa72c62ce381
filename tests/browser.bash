# The headless browser for the suites: Debian's chromium, when installed
# (under CI=true it must be).  Load with `load browser` (or
# `load ../browser` from tests/live).
# shellcheck shell=bash

# Loads PAGE (a file, or an http(s) URL) with the given options
# (--dump-dom, --screenshot=F, ...): the browser's stdout goes to
# PREFIX.out, its log to PREFIX.err, its net log to PREFIX.net.json, its
# profile to PREFIX.profile.
browser() { # out-prefix page [extra options]
	local p=$1 u=$2
	shift 2
	case $u in
	http://* | https://*) ;;
	*) u=file://$u ;;
	esac
	chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--disable-component-update --disable-sync --no-first-run --disable-default-apps \
		--disable-extensions --user-data-dir="$p.profile" --enable-logging=stderr --v=0 \
		--log-net-log="$p.net.json" "$@" "$u" >"$p.out" 2>"$p.err"
}

# Skips the test when chromium is missing, except under CI=true, where
# that fails it.
need_chromium() {
	if ! command -v chromium >/dev/null 2>&1; then
		[ "${CI:-}" != true ] || { echo "chromium is not installed (CI installs it)" >&2; return 1; }
		skip "chromium is not installed"
	fi
}
