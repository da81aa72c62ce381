# make eval-dev: `aiops-harness eval` with the offline baseline over the
# development data, one system per data set, and the per-system tables.
# A benchmark, not a test: a set that is missing, or that aiops-load
# cannot read yet, is a message saying so (and how to get it), not a
# failure.  The data sets and their dataset configs are variables:
#
#   make eval-dev EVAL_NEZHA_DIR=../nezha-ob EVAL_FORMAT=md
#   make eval-dev EVAL_CONFIGS="examples/configs/basic.yaml examples/configs/ollama_llama3.yaml"
#
# Nezha comes one day a dataset (rca_data/<day>); GAIA as one set.
EVAL_CONFIGS ?= examples/configs/basic.yaml
EVAL_NEZHA_DIR ?= ../data
EVAL_NEZHA_CONFIG ?= $(firstword $(wildcard examples/datasets/nezha-ob.yaml examples/datasets/nezha.yaml) examples/datasets/nezha.yaml)
EVAL_GAIA_DIR ?= ../shared/data/gaia-alerts
EVAL_GAIA_CONFIG ?= $(firstword $(wildcard examples/datasets/gaia.yaml examples/datasets/gaia-alerts.yaml) examples/datasets/gaia.yaml)
EVAL_FORMAT ?= text
EVAL_TABLE ?= summary
EVAL_ARGS ?=
EVAL_KEEP ?= build/eval-dev
EVAL_STREAM ?= 1

.PHONY: eval-dev
eval-dev: $(STAGES)
	AIOPS_BIN=$(abspath $(BIN)) EVAL_CONFIGS="$(EVAL_CONFIGS)" \
	EVAL_NEZHA_DIR="$(EVAL_NEZHA_DIR)" EVAL_NEZHA_CONFIG="$(EVAL_NEZHA_CONFIG)" \
	EVAL_GAIA_DIR="$(EVAL_GAIA_DIR)" EVAL_GAIA_CONFIG="$(EVAL_GAIA_CONFIG)" \
	EVAL_FORMAT="$(EVAL_FORMAT)" EVAL_TABLE="$(EVAL_TABLE)" EVAL_ARGS="$(EVAL_ARGS)" \
	EVAL_KEEP="$(EVAL_KEEP)" EVAL_STREAM="$(EVAL_STREAM)" tests/bench/eval-dev.sh
