#!/usr/bin/env bash
# Pass-through cost: a stage forwarding records of a kind it does not own
# (every line is validated by lib/scan.c, its kind looked up, and its
# original bytes written) beside `cat` on the same file, in the same run.
# The input is the aiops-load output of BENCH_PASS_SIZE signals (default
# 1000000) with every log/metric/span renamed to the unknown kind
# "x_foreign", so no stage owns any of them.
#
# Two settings, both reported:
#   file   STAGE FILE >/dev/null          vs  cat FILE >/dev/null
#   pipe   cat FILE | STAGE | cat >/dev/null  vs  cat FILE | cat | cat >/dev/null
# The first shows the stage's own cost against a copy that costs almost
# nothing; the second is what a stage adds in a pipeline (every hop of a
# real pipeline is a pipe).
set -u
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
n=${BENCH_PASS_SIZE:-${BENCH_SIZES%% *}}
n=${n:-1000000}

stages=()
for s in aiops-exec aiops-metrics; do have "$s" && stages+=("$s"); done
if ! have aiops-load || [ ${#stages[@]} -eq 0 ]; then
	add_row "pass-through" "-" "not built yet (aiops-load, aiops-exec or aiops-metrics)" "" "" ">= 0.5x cat" "not built yet"
	exit 0
fi
d=$(dataset "$n") || exit 1
f=$d/foreign.jsonl
if [ ! -s "$f" ]; then
	grep -E '^\{"kind":"(log|metric|span)"' "$d/loaded.jsonl" |
		sed -E 's/^\{"kind":"(log|metric|span)"/{"kind":"x_foreign"/' >"$f.tmp" && mv "$f.tmp" "$f"
fi
lines=$(wc -l <"$f")
bytes=$(wc -c <"$f")
h=$(human "$lines")
cat "$f" >/dev/null

for s in "${stages[@]}"; do
	note "pass: $s forwarding $h foreign records"
	compare "stage=$BENCH_BIN/$s $f" "cat=cat $f" || exit 1
	r=$(ratio "${BW[cat]}" "${BW[stage]}")
	add_row "pass-through $s (file)" "$h x_foreign records, $(awk -v b="$bytes" 'BEGIN{printf "%.0f MB", b/1e6}')" \
		"$(fmt_rate "$lines" "${BW[stage]}"), $(fmt_mbs "$bytes" "${BW[stage]}") (${BW[stage]} s)" \
		"cat FILE $(fmt_mbs "$bytes" "${BW[cat]}") (${BW[cat]} s)" "${r}x cat" ">= 0.5x cat" \
		"$(ge "$r" 0.5 && echo met || echo MISSED)"
	[ "$s" = aiops-exec ] || continue
	compare "stage=cat $f | $BENCH_BIN/$s | cat" "cat=cat $f | cat | cat" || exit 1
	r=$(ratio "${BW[cat]}" "${BW[stage]}")
	add_row "pass-through $s (pipe)" "$h x_foreign records" \
		"cat | $s | cat: $(fmt_rate "$lines" "${BW[stage]}"), $(fmt_mbs "$bytes" "${BW[stage]}") (${BW[stage]} s)" \
		"cat | cat | cat $(fmt_mbs "$bytes" "${BW[cat]}") (${BW[cat]} s)" "${r}x cat" ">= 0.5x cat" \
		"$(ge "$r" 0.5 && echo met || echo MISSED)"
done
