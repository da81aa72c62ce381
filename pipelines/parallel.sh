#!/usr/bin/env bash
# Runs the pipeline over more data than one process (or one machine) should
# take, with GNU parallel, and writes one merged stream on stdout.
#
#   parallel.sh datasets -c CONFIG [options] DATASET_DIR...
#       (a) one aiops-harness run per dataset directory, as many at a time
#       as there are job slots; the final streams are written one after the
#       other, in the order given (each starts with its own run record and
#       carries its own scores).  Use it for a grid of cases or datasets.
#
#   parallel.sh shards -c CONFIG [options] DATASET_DIR
#       (b) one dataset cut into time shards.  aiops-load reads the dataset
#       once; its signals are split by time (the fixed-width ts strings sort
#       as text); every shard runs aiops-correlate | aiops-rca |
#       aiops-remediate | aiops-exec with a warm-up prefix before its start
#       and a tail after its end; the shards' streams are filtered, renamed
#       and merged, and aiops-metrics runs once over everything, so the
#       scores are computed once over all incidents.  Pipe the result into
#       aiops-mlflow to log it.
#
# Options:
#   -c, --config FILE    the config (every stage reads its own section)
#   --set KEY=VALUE      a config override for every stage (repeatable)
#   -j, --jobs N         job slots per host (GNU parallel --jobs; default: cores)
#   -S, --sshlogin LOGIN run jobs on other machines too (GNU parallel
#                        --sshlogin, repeatable): "4/user@host" gives 4 slots
#                        on host, ":" is this machine (give it too to use
#                        it).  The hosts need bash and the aiops programs on
#                        the PATH of a non-interactive ssh login (local jobs
#                        inherit this PATH); the config is
#                        copied to them (--basefile) and so are the shard
#                        files (--transferfile, removed after); relative
#                        paths inside the config (prompts, the action
#                        catalog) must exist relative to the login directory
#                        there, or be absolute.  In datasets mode the
#                        dataset directories must be reachable at the same
#                        path on every host (a shared file system).
#   --keep DIR           keep the work files (shards, per-shard streams)
# Shards only:
#   --shards N           number of time shards (default: the job slots, 2 at least)
#   --edges TS,TS,...    cut at these RFC 3339 times instead of equal slices
#   --warmup SECONDS     signals before each shard's start that it reads to
#                        learn its baselines; groups starting there are
#                        dropped (another shard owns them).  Default: the
#                        largest of max_duration_s, window_s + quiet_s and
#                        log_warmup_s (or span_warmup_s) + window_s of the
#                        correlation config.
#   --tail SECONDS       signals after each shard's end that it reads so its
#                        last groups close as they would in one run; groups
#                        starting there are dropped.  Default: max_duration_s
#                        + quiet_s (no group lasts longer).
#
# What "the same scores as one run" requires (shards mode).  A group belongs
# to the shard whose [start, end) holds its start_ts; group ids become
# S01-G0001, S02-G0001, ... (and every group_id that refers to them), so the
# merged ids are unique.  The sharded run finds the same groups as one run
# when at every edge:
#   1. the grouping state is the same: no group of the single run is open
#      across the edge for longer than the warm-up, i.e. warm-up >= window_s
#      + quiet_s (a group that went quiet for quiet_s is closed in both) and
#      no group is longer than the warm-up (max_duration_s covers that);
#   2. the detectors' state is the same: the warm-up is past the log
#      warm-up (log_warmup_s: no log anomaly that soon after a service's
#      first log line; span_warmup_s likewise for an operation), every
#      metric series and span operation has its warm-up points in it, and
#      the baselines learned from the warm-up flag the same points as those
#      learned from the whole history.  The EWMA baselines converge within a
#      few spans, but a log template seen before the warm-up and not inside
#      it is "new" again to the shard, and a WARN-or-worse new template is
#      an anomaly: that can add a group.
# Edges placed in quiet stretches (no incident in progress, e.g. the
# 12 quiet minutes aiops-synth leaves at the middle of a dataset of an hour
# or more) with the default warm-up meet 1 and nearly 2: the same groups,
# though a baseline learned from the warm-up alone can flag a point the
# whole history does not, moving a group's start by seconds and turning a
# close ranking (so accuracy can differ by an incident); edges through an incident
# meet 1 with the default warm-up and tail but can miss 2.  Equal slices
# are the default; --edges places them where you know the data is quiet.
# tests/parallel.bats checks both cases and shows a too-short warm-up
# changing the scores.
#
# Costs: shards mode reads the dataset once with aiops-load on this machine
# (the split needs its time order) and every shard re-reads its warm-up and
# tail, so it pays when correlation and, above all, model calls dominate.
set -u -o pipefail
prog=parallel.sh
die() { echo "$prog: $*" >&2; exit 2; }
usage() {
	echo "usage: $prog datasets|shards -c CONFIG [options] DIR..." >&2
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" |
		sed -n '/^Options/,/^What/p' | sed '$d' >&2
	exit 2
}

[ $# -ge 1 ] || usage
mode=$1
shift
case $mode in datasets | shards) ;; -h | --help) usage ;; *) die "unknown mode '$mode' (datasets or shards)" ;; esac

cfg='' jobs='' keep='' shards='' edges='' warmup='' tail=''
sets=() logins=() dirs=()
while [ $# -gt 0 ]; do
	case $1 in
	-c | --config) cfg=${2:?}; shift ;;
	--set) sets+=("${2:?}"); shift ;;
	-j | --jobs) jobs=${2:?}; shift ;;
	-S | --sshlogin) logins+=("${2:?}"); shift ;;
	--keep) keep=${2:?}; shift ;;
	--shards) shards=${2:?}; shift ;;
	--edges) edges=${2:?}; shift ;;
	--warmup) warmup=${2:?}; shift ;;
	--tail) tail=${2:?}; shift ;;
	-h | --help) usage ;;
	-*) die "unknown option '$1'" ;;
	*) dirs+=("$1") ;;
	esac
	shift
done
[ -n "$cfg" ] || die "--config FILE is required"
[ -r "$cfg" ] || die "$cfg: cannot read the config"
[ ${#dirs[@]} -gt 0 ] || die "no dataset directory given"
for d in "${dirs[@]}"; do [ -d "$d" ] || die "'$d' is not a directory"; done
command -v parallel >/dev/null || die "GNU parallel is not installed (apt-get install parallel)"
cfg=$(cd "$(dirname "$cfg")" && pwd)/$(basename "$cfg")

if [ -n "$keep" ]; then
	mkdir -p "$keep" || die "cannot create '$keep'"
	work=$(cd "$keep" && pwd)
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/aiops-parallel.XXXXXX") || exit 1
	trap 'rm -rf "$work"' EXIT
fi

# What every job gets: the config, the overrides (one a line), the function.
export AIOPS_PAR_CFG=$cfg
AIOPS_PAR_SETS=$(printf '%s\n' "${sets[@]+"${sets[@]}"}")
export AIOPS_PAR_SETS
export PARALLEL_SHELL=bash
# shellcheck disable=SC2054 # now,fail=1 is one word
popts=(--will-cite --keep-order --halt now,fail=1 --tagstring '{#}'
	--env AIOPS_PAR_CFG --env AIOPS_PAR_SETS)
[ -n "$jobs" ] && popts+=(--jobs "$jobs")
for l in "${logins[@]+"${logins[@]}"}"; do popts+=(--sshlogin "$l"); done
remote=0
[ ${#logins[@]} -gt 0 ] && remote=1 && popts+=(--basefile "$cfg")

# shellcheck disable=SC2317 # run by GNU parallel
aiops_par_args() { # fills the array A with --config and the --set options
	local s
	A=(--config "$AIOPS_PAR_CFG")
	while IFS= read -r s; do [ -n "$s" ] && A+=(--set "$s"); done <<<"$AIOPS_PAR_SETS"
}
# shellcheck disable=SC2317 # run by GNU parallel
aiops_par_dataset() { # dataset-dir: one harness run; its final stream on stdout
	local A t rc s
	aiops_par_args
	t=$(mktemp -d) || return 1
	local h=(aiops-harness run --config "$AIOPS_PAR_CFG" --dataset "$1" --keep "$t" --quiet)
	while IFS= read -r s; do [ -n "$s" ] && h+=(--set "$s"); done <<<"$AIOPS_PAR_SETS"
	"${h[@]}" >&2 && cat "$t/final.jsonl"
	rc=$?
	rm -rf "$t"
	return $rc
}
# shellcheck disable=SC2317 # run by GNU parallel
aiops_par_shard() { # shard-file: the shard's stream up to aiops-exec on stdout
	local A
	aiops_par_args
	set -o pipefail
	aiops-correlate "${A[@]}" "$1" | aiops-rca "${A[@]}" | aiops-remediate "${A[@]}" |
		aiops-exec "${A[@]}"
}
export -f aiops_par_args aiops_par_dataset aiops_par_shard
popts+=(--env aiops_par_args --env aiops_par_dataset --env aiops_par_shard)

if [ "$mode" = datasets ]; then
	abs=()
	for d in "${dirs[@]}"; do abs+=("$(cd "$d" && pwd)"); done
	parallel "${popts[@]}" aiops_par_dataset {} ::: "${abs[@]}" >"$work/tagged.jsonl" ||
		{ echo "$prog: a dataset run failed" >&2; exit 1; }
	cut -f2- "$work/tagged.jsonl"
	exit 0
fi

# ---- shards mode ----
[ ${#dirs[@]} -eq 1 ] || die "shards mode takes one dataset directory"
A=()
aiops_par_args
# The correlation timings, as the stage reads them (durations in seconds).
params=$(aiops-correlate "${A[@]}" </dev/null | head -n1) || die "aiops-correlate cannot read the config"
num() { jq -r ".params.$1 // 0" <<<"$params"; }
window=$(num window_s) quiet=$(num quiet_s) maxdur=$(num max_duration_s) logwarm=$(num log_warmup_s)
spanwarm=$(num span_warmup_s)
if [ -z "$warmup" ]; then
	warmup=$(awk -v m="$maxdur" -v w="$window" -v q="$quiet" -v l="$logwarm" -v s="$spanwarm" \
		'BEGIN { x = m; if (w + q > x) x = w + q; if (s > l) l = s; if (l + w > x) x = l + w; printf "%d", x + 0.999 }')
fi
[ -n "$tail" ] || tail=$(awk -v m="$maxdur" -v q="$quiet" 'BEGIN { printf "%d", m + q + 0.999 }')
case $warmup$tail in *[!0-9]*) die "--warmup and --tail take whole seconds" ;; esac

# Load once; signals go to the shards, everything else (stage, run,
# incidents, rejects, stage_end) straight to the merged stream.
aiops-load "${A[@]}" --dataset "${dirs[0]}" >"$work/load.jsonl" || { echo "$prog: aiops-load failed" >&2; exit 1; }
sig='^\{"kind":"(log|metric|span)"'
first=$(grep -m1 -E "$sig" "$work/load.jsonl" | grep -o -m1 '"ts":"[^"]*"' | head -n1 | cut -d'"' -f4)
last=$(tac "$work/load.jsonl" | grep -m1 -E "$sig" | grep -o -m1 '"ts":"[^"]*"' | head -n1 | cut -d'"' -f4)
[ -n "$first" ] || die "the dataset has no signals"
epoch() { date -u -d "$1" +%s; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000Z; }
t0=$(epoch "$first") t1=$(($(epoch "$last") + 1))
cuts=()
if [ -n "$edges" ]; then
	IFS=, read -r -a es <<<"$edges"
	for e in "${es[@]}"; do cuts+=("$(epoch "$e")") || die "bad edge '$e'"; done
else
	if [ -z "$shards" ]; then
		shards=$(parallel --number-of-cores 2>/dev/null || nproc)
		[ -n "$jobs" ] && shards=$jobs
		[ "$shards" -ge 2 ] || shards=2
	fi
	for ((i = 1; i < shards; i++)); do cuts+=($((t0 + (t1 - t0) * i / shards))); done
fi
# Shard i owns [lo_i, hi_i) and reads [lo_i - warmup, hi_i + tail).
los=("$t0") his=()
for c in "${cuts[@]}"; do his+=("$c"); los+=("$c"); done
his+=("$t1")
n=${#los[@]}
spec=
for ((i = 0; i < n; i++)); do
	spec="$spec$(iso $((los[i] - warmup))) $(iso $((his[i] + tail))) $(iso "${los[i]}") $(iso "${his[i]}")"$'\n'
done
printf '%s' "$spec" >"$work/shards.txt"
mkdir -p "$work/shard"
awk -v dir="$work/shard" -v spec="$work/shards.txt" '
	BEGIN { while ((getline l < spec) > 0) { split(l, f, " "); n++; rlo[n] = f[1]; rhi[n] = f[2] } }
	/^\{"kind":"(log|metric|span)"/ {
		if (match($0, /"ts":"[^"]*"/)) {
			ts = substr($0, RSTART + 6, RLENGTH - 7)
			for (i = 1; i <= n; i++) if (ts >= rlo[i] && ts < rhi[i]) print > (dir "/" sprintf("%02d", i) ".jsonl")
			next
		}
	}
	{ print > (dir "/head.jsonl") }' "$work/load.jsonl"
files=()
for ((i = 1; i <= n; i++)); do
	f=$work/shard/$(printf '%02d' "$i").jsonl
	[ -f "$f" ] || : >"$f"
	files+=("$f")
done
echo "$prog: $n shards, warm-up ${warmup}s, tail ${tail}s:" >&2
awk '{ printf "  shard %02d owns [%s, %s), reads [%s, %s)\n", NR, $3, $4, $1, $2 }' "$work/shards.txt" >&2

sopts=()
[ $remote -eq 1 ] && sopts+=(--transferfile {} --cleanup)
parallel "${popts[@]}" "${sopts[@]+"${sopts[@]}"}" aiops_par_shard {} ::: "${files[@]}" >"$work/tagged.jsonl" ||
	{ echo "$prog: a shard failed" >&2; exit 1; }

# Keep each shard's own groups (start_ts in what it owns) and the records
# that refer to them (group_id), renamed S01-G0001...; stage records and
# anything else pass.  Ids are renamed in the raw bytes (a top-level "id"
# of a group, "group_id" anywhere), so nothing else of a record changes.
{
	cat "$work/shard/head.jsonl"
	for ((i = 1; i <= n; i++)); do
		p=$(printf 'S%02d-' "$i")
		read -r _ _ lo hi < <(sed -n "${i}p" "$work/shards.txt")
		awk -F'\t' -v i="$i" '$1 == i' "$work/tagged.jsonl" | cut -f2- >"$work/out-$i.jsonl"
		awk -v lo="$lo" -v hi="$hi" -v p="$p" '
			function field(s, k,   r) { if (match(s, "\"" k "\":\"[^\"]*\"")) { r = substr(s, RSTART + length(k) + 4, RLENGTH - length(k) - 5); return r } return "" }
			FNR == NR { if ($0 ~ /^\{"kind":"group"/) { s = field($0, "start_ts"); if (s >= lo && s < hi) own[field($0, "id")] = 1 } next }
			/^\{"kind":"group"/ { id = field($0, "id"); if (!(id in own)) next; sub("\"id\":\"" id "\"", "\"id\":\"" p id "\"") ; print; next }
			/"group_id":"/ { g = field($0, "group_id"); if (g != "" && !(g in own)) next; if (g != "") gsub("\"group_id\":\"" g "\"", "\"group_id\":\"" p g "\""); print; next }
			{ print }' "$work/out-$i.jsonl" "$work/out-$i.jsonl"
	done
} >"$work/merged.jsonl"
aiops-metrics "${A[@]}" "$work/merged.jsonl"
