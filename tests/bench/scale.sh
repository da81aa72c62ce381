#!/usr/bin/env bash
# Throughput and memory of aiops-load and aiops-correlate at each size of
# BENCH_SIZES (default "1000000 10000000" signals), each beside its
# references run in the same session on the same files:
#   aiops-load --dataset D      vs  jq -c . and cat on D's three signal files
#   aiops-correlate LOADED      vs  jq -c . on the same aiops-load output
# and the growth of their peak RSS from the smallest to the largest size.
# Appends rows to BENCH_ROWS (see lib.sh).  Asserts nothing.
#   BENCH_BIN=bin BENCH_SIZES="1000000" tests/bench/scale.sh
set -u
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
sizes=${BENCH_SIZES:-1000000 10000000}
# Repetitions above 2 M signals (each jq run of 10 M takes minutes).
large_runs=${BENCH_RUNS_LARGE:-1}

have aiops-synth || { add_row "aiops-load / aiops-correlate" "-" "not built yet (aiops-synth)" "" "" "" "not built yet"; exit 0; }

# shellcheck disable=SC2034 # read through namerefs in rss_row
declare -A LRSS CRSS LN CN
first='' last=''
for n in $sizes; do
	d=$(dataset "$n") || { note "scale: cannot generate $n signals"; exit 1; }
	mapfile -t files < <(signal_files "$d")
	lines=$(cat "${files[@]}" | wc -l)
	bytes=$(cat "${files[@]}" | wc -c)
	h=$(human "$lines")
	runs=$BENCH_RUNS warm=${BENCH_WARMUP:-1}
	# Above 2 M signals: fewer repetitions and no warm-up round (the page
	# cache is warmed by cat; a jq run of 10 M signals takes minutes).
	[ "$n" -le 2000000 ] || runs=$large_runs warm=0
	[ -n "$first" ] || first=$n
	last=$n
	cat "${files[@]}" >/dev/null # page cache
	if have aiops-load; then
		note "scale: aiops-load on $h signals ($runs runs)"
		RUNS=$runs BENCH_WARMUP=$warm compare \
			"load=$BENCH_BIN/aiops-load --run-id 0 --dataset $d/data" \
			"jq=jq -c . ${files[*]}" \
			"cat=cat ${files[*]}" || exit 1
		# shellcheck disable=SC2034 # read through namerefs
		LRSS[$n]=${BR[load]} LN[$n]=$lines
		# The target is judged by CPU seconds (the machine is shared: wall
		# time depends on what else runs); wall is shown beside it.
		add_row "aiops-load" "$h signals, $(awk -v b="$bytes" 'BEGIN{printf "%.0f MB", b/1e6}') JSONL" \
			"$(fmt_rate "$lines" "${BW[load]}"), $(fmt_mbs "$bytes" "${BW[load]}") (${BW[load]} s)" \
			"jq -c . $(fmt_rate "$lines" "${BW[jq]}") (${BW[jq]} s); cat $(fmt_mbs "$bytes" "${BW[cat]}") (${BW[cat]} s)" \
			"$(ratio "${BW[jq]}" "${BW[load]}")x jq; $(ratio "${BW[cat]}" "${BW[load]}")x cat; cpu $(ratio "${BC[jq]}" "${BC[load]}")x jq" \
			">= 4x jq by cpu" "$(ge "$(ratio "${BC[jq]}" "${BC[load]}")" 4 && echo met || echo MISSED)" \
			"load ${BC[load]}; jq ${BC[jq]}; cat ${BC[cat]}"
	else
		add_row "aiops-load" "$h signals" "not built yet" "" "" ">= 4x jq" "not built yet"
	fi
	if have aiops-correlate && [ -s "$d/loaded.jsonl" ]; then
		in=$d/loaded.jsonl
		cl=$(wc -l <"$in")
		cb=$(wc -c <"$in")
		note "scale: aiops-correlate on $(human "$cl") records ($runs runs)"
		RUNS=$runs BENCH_WARMUP=$warm compare \
			"corr=$BENCH_BIN/aiops-correlate $in" \
			"jq=jq -c . $in" || exit 1
		# shellcheck disable=SC2034 # read through namerefs
		CRSS[$n]=${BR[corr]} CN[$n]=$cl
		groups=$("$BENCH_BIN/aiops-correlate" "$in" 2>/dev/null | grep -c '"kind":"group"')
		add_row "aiops-correlate" "$(human "$cl") records (aiops-load output, $groups groups)" \
			"$(fmt_rate "$cl" "${BW[corr]}"), $(fmt_mbs "$cb" "${BW[corr]}") (${BW[corr]} s)" \
			"jq -c . $(fmt_rate "$cl" "${BW[jq]}") (${BW[jq]} s)" \
			"$(ratio "${BW[jq]}" "${BW[corr]}")x jq; cpu $(ratio "${BC[jq]}" "${BC[corr]}")x jq" \
			">= 6x jq by cpu" "$(ge "$(ratio "${BC[jq]}" "${BC[corr]}")" 6 && echo met || echo MISSED)" \
			"correlate ${BC[corr]}; jq ${BC[jq]}"
	else
		add_row "aiops-correlate" "$h signals" "not built yet" "" "" ">= 6x jq by cpu" "not built yet"
	fi
done

# Peak RSS, smallest to largest size.
rss_row() { # name arrayname-of-rss arrayname-of-lines
	local -n R=$2 N=$3
	if [ -z "${R[$first]:-}" ]; then
		add_row "$1 peak RSS" "-" "not built yet" "" "" "< +10% from 1M to 10M" "not built yet"
		return
	fi
	if [ "$first" = "$last" ]; then
		add_row "$1 peak RSS" "$(human "${N[$first]}")" "$(mib "${R[$first]}")" \
			"(one size: BENCH_SIZES=\"$sizes\")" "" "< +10% from 1M to 10M" "-"
		return
	fi
	local g
	g=$(awk -v a="${R[$first]}" -v b="${R[$last]}" 'BEGIN { printf "%+.1f", (b - a) * 100 / a }')
	add_row "$1 peak RSS" "$(human "${N[$first]}") -> $(human "${N[$last]}")" \
		"$(mib "${R[$first]}") -> $(mib "${R[$last]}") (${g}%)" \
		"itself at $(human "${N[$first]}")" "$(ratio "${R[$last]}" "${R[$first]}")x" \
		"< +10%" "$(awk -v g="$g" 'BEGIN { exit !(g < 10) }' && echo met || echo MISSED)"
}
rss_row aiops-load LRSS LN
rss_row aiops-correlate CRSS CN
