#!/usr/bin/env bash
# make eval-dev (mk/eval.mk): aiops-harness eval over the development data
# sets that are present and readable, one system each; says what is
# missing and how to get it.  Prints the tables of each system and of all
# of them together.
set -u -o pipefail

bin=${AIOPS_BIN:-bin}
PATH="$bin:$(cd "$(dirname "$0")/../../bin" && pwd):$PATH"
export PATH

read -r -a configs <<<"${EVAL_CONFIGS:-examples/configs/basic.yaml}"
read -r -a extra <<<"${EVAL_ARGS:-}"
args=()
for c in "${configs[@]}"; do args+=(--config "$c"); done
any=0

# usable NAME DIR CONFIG: 0 when aiops-load starts reading DIR with CONFIG
# (it stops at the first record: the eval reads the whole set).
usable() {
	local name=$1 dir=$2 cfg=$3 err st
	if [ ! -f "$cfg" ]; then
		printf 'eval-dev: %s: reader not available: no dataset config %s (the reader for this layout is not merged yet)\n' "$name" "$cfg"
		return 1
	fi
	err=$(aiops-load --config "$cfg" --dataset "$dir" 2>&1 >/dev/null | head -n 1; exit "${PIPESTATUS[0]}")
	st=$?
	# 141: stopped by SIGPIPE after its first record, so it reads the layout.
	if [ $st -ne 0 ] && [ $st -ne 141 ]; then
		printf 'eval-dev: %s: reader not available: aiops-load cannot read %s with %s: %s\n' \
			"$name" "$dir" "$cfg" "${err#aiops-load: }"
		return 1
	fi
	return 0
}

# Nezha OnlineBoutique: one dataset a day under rca_data/.
if [ -d "$EVAL_NEZHA_DIR/rca_data" ]; then
	for day in "$EVAL_NEZHA_DIR"/rca_data/*/; do
		day=${day%/}
		usable "nezha-ob $(basename "$day")" "$day" "$EVAL_NEZHA_CONFIG" || continue
		args+=(--dataset "$day" --dataset-config "$EVAL_NEZHA_CONFIG" --system nezha-ob)
		any=1
	done
else
	printf 'eval-dev: nezha-ob: no data in %s: extract it with\n  mkdir -p %s && tar -xJf ../shared/data/nezha-ob.tar.xz -C %s\n(or make eval-dev EVAL_NEZHA_DIR=DIR)\n' \
		"$EVAL_NEZHA_DIR" "$EVAL_NEZHA_DIR" "$EVAL_NEZHA_DIR"
fi

# GAIA MicroSS alerts.
if [ -d "$EVAL_GAIA_DIR/data" ]; then
	if usable gaia "$EVAL_GAIA_DIR" "$EVAL_GAIA_CONFIG"; then
		args+=(--dataset "$EVAL_GAIA_DIR" --dataset-config "$EVAL_GAIA_CONFIG" --system gaia)
		any=1
	fi
else
	printf 'eval-dev: gaia: no data in %s: see ../shared/data/README.md for where the GAIA alerts come from\n(or make eval-dev EVAL_GAIA_DIR=DIR)\n' "$EVAL_GAIA_DIR"
fi

if [ $any -eq 0 ]; then
	printf 'eval-dev: no development data set is usable; nothing to evaluate\n'
	exit 0
fi
[ -n "${EVAL_KEEP:-}" ] && rm -rf "$EVAL_KEEP" && args+=(--keep "$EVAL_KEEP")
printf 'eval-dev: aiops-harness eval %s\n' "${args[*]} ${extra[*]}"
t0=$(date +%s)
aiops-harness eval "${args[@]}" --format "${EVAL_FORMAT:-text}" --table "${EVAL_TABLE:-summary}" "${extra[@]}"
rc=$?
printf 'eval-dev: %s s wall%s\n' "$(($(date +%s) - t0))" "${EVAL_KEEP:+; every case kept in $EVAL_KEEP (eval.md, eval.json, manifest.tsv)}"
# The same data sets, each whole as one stream (EVAL_STREAM=0: not).
if [ "${EVAL_STREAM:-1}" = 1 ]; then
	sargs=()
	for a in "${args[@]}"; do [ "$a" = --keep ] && break; sargs+=("$a"); done
	[ -n "${EVAL_KEEP:-}" ] && sargs+=(--keep "$EVAL_KEEP/stream")
	printf 'eval-dev: whole data sets as one stream: aiops-harness eval --stream %s\n' "${sargs[*]}"
	t0=$(date +%s)
	aiops-harness eval --stream "${sargs[@]}" --format "${EVAL_FORMAT:-text}" "${extra[@]}" || rc=1
	printf 'eval-dev: %s s wall\n' "$(($(date +%s) - t0))"
fi
exit $rc
