#!/usr/bin/env bash
# A small mutation check of the lines that guard safety and scores.
#
#   tests/mutate.sh [NAME...]        (make mutate; MUTANTS="a b" for some)
#
# Each mutant in tests/mutants.txt changes one line of a copy of the
# sources: the text after "from:" must occur exactly once in the file (a
# pattern, not a line number, so that small refactors keep it) and becomes
# the text after "to:".  The mutated copy is built in a private folder
# (make O=... BIN=..., default build/mutate) and the unit tests and the
# suites after "suites:" run against it.  A mutant is killed when they
# fail, survives when they pass.  Before the mutants, the same suites run
# against an unmutated build of the same copy: they must pass there.
#
# Prints one table row per mutant and a closing line
#   N killed, N survived, N broken
# and exits 1 when a mutant survived, when one is broken (its pattern is
# not found exactly once, or it does not build) or when the baseline fails.
# Slow (a build and a suite per mutant): not part of make test or CI.
set -u -o pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
list=${MUTANT_LIST:-tests/mutants.txt}
work=${MUTATE_O:-$root/build/mutate}
limit=${MUTATE_TIMEOUT:-900}
jobs=${MUTATE_JOBS:-2}

names=() files=() froms=() tos=() suites=()
add() {
	[ -n "$name" ] || return 0
	if [ -z "$file" ] || [ -z "$from" ] || [ -z "$suite" ]; then
		echo "mutate: $list: mutant '$name' needs file:, from:, to: and suites:" >&2
		exit 2
	fi
	names+=("$name") files+=("$file") froms+=("$from") tos+=("$to") suites+=("$suite")
}
name='' file='' from='' to='' suite=''
while IFS= read -r line || [ -n "$line" ]; do
	case $line in
	'#'* | '') continue ;;
	name:*) add; name=${line#name:} file='' from='' to='' suite='' ;;
	file:*) file=${line#file:} ;;
	from:*) from=${line#from:} ;;
	to:*) to=${line#to:} ;;
	suites:*) suite=${line#suites:} ;;
	*) echo "mutate: $list: cannot read: $line" >&2; exit 2 ;;
	esac
	# One space after the colon is the separator; the rest is literal.
	name=${name# } file=${file# } from=${from# } to=${to# } suite=${suite# }
done <"$list"
add

# Only the mutants named on the command line, if any.
want=" $* "
if [ $# -gt 0 ]; then
	for n in "$@"; do
		case " ${names[*]} " in *" $n "*) ;; *) echo "mutate: no mutant named $n" >&2; exit 2 ;; esac
	done
fi

tree=$work/tree
rm -rf "$work"
mkdir -p "$tree/tests" "$work/log"
cp -R Makefile mk lib src "$tree/"
cp -R tests/unit "$tree/tests/"

build() { # log
	make -C "$tree" -j"$jobs" O="$work/build" BIN="$work/bin" CI= WERROR= all >"$1" 2>&1
}
check() { # log suites...
	local log=$1
	shift
	# shellcheck disable=SC2086 # the suites are a list of words
	AIOPS_BIN=$work/bin AIOPS_UNIT=$work/build/unit timeout "$limit" tests/run.sh "$@" >"$log" 2>&1
}

all_suites=
for i in "${!names[@]}"; do
	case $want in *" ${names[$i]} "* | "  ") ;; *) continue ;; esac
	for s in ${suites[$i]}; do
		case " $all_suites " in *" $s "*) ;; *) all_suites="$all_suites $s" ;; esac
	done
done

echo "mutate: baseline (unmutated copy) with$all_suites"
if ! build "$work/log/baseline.build"; then
	echo "mutate: the unmutated copy does not build: $work/log/baseline.build" >&2
	exit 1
fi
# shellcheck disable=SC2086
if ! check "$work/log/baseline.out" $all_suites; then
	tail -n 5 "$work/log/baseline.out" >&2
	echo "mutate: the suites fail without a mutant: $work/log/baseline.out" >&2
	exit 1
fi

killed=0 survived=0 broken=0
printf '%-28s %-26s %-9s %5s  %s\n' MUTANT FILE RESULT SECS SUITES
for i in "${!names[@]}"; do
	n=${names[$i]} f=${files[$i]} from=${froms[$i]} to=${tos[$i]}
	case $want in *" $n "* | "  ") ;; *) continue ;; esac
	t0=$SECONDS
	src=$(<"$root/$f")
	rest=${src//"$from"/}
	count=$(((${#src} - ${#rest}) / ${#from}))
	if [ "$count" -ne 1 ]; then
		res="broken: pattern found $count times"
		broken=$((broken + 1))
	else
		printf '%s\n' "${src/"$from"/"$to"}" >"$tree/$f"
		if ! build "$work/log/$n.build"; then
			res="broken: does not build"
			broken=$((broken + 1))
		else
			# shellcheck disable=SC2086
			check "$work/log/$n.out" ${suites[$i]}
			case $? in
			0) res=SURVIVED; survived=$((survived + 1)) ;;
			124) res="killed (timeout)"; killed=$((killed + 1)) ;;
			*) res=killed; killed=$((killed + 1)) ;;
			esac
		fi
		# A fresh copy (a new mtime, so the next build recompiles it).
		cp "$root/$f" "$tree/$f"
	fi
	printf '%-28s %-26s %-9s %5d  %s\n' "$n" "$f" "$res" $((SECONDS - t0)) "${suites[$i]}"
done
echo "$killed killed, $survived survived, $broken broken"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ]
