#!/usr/bin/env bash
# Used by mk/bench.mk as make's SHELL for the bench-llm recipe under
# `make bench` only: runs the recipe line like /bin/sh -c, shows its output,
# keeps a copy in $AIOPS_BENCH_LLM_LOG for the one table of
# tests/bench/report.sh, and exits 0 so a missed target does not stop the
# other benchmarks (the table says "MISSED").  `make bench-llm` alone is
# not affected.
set -u
[ "${1:-}" = -c ] && shift
log=${AIOPS_BENCH_LLM_LOG:-/dev/null}
mkdir -p "$(dirname "$log")" 2>/dev/null
/bin/sh -c "$1" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || echo "bench: bench-llm exited $rc (kept going; see the table)" | tee -a "$log"
exit 0
