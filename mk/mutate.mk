# make mutate: one-line mutants of the lines that guard safety and scores
# (tests/mutants.txt), each built in a private folder (MUTATE_O, default
# build/mutate) and run against the suites that should catch it; prints
# killed/survived and fails on a survivor.  Slow, so not in make test or
# CI: run it before landing a change to those lines.
#
#   make mutate                          every mutant
#   make mutate MUTANTS="utf8-surrogate exec-allowlist-prefix"

MUTATE_O ?= build/mutate
MUTANTS ?=

.PHONY: mutate
mutate:
	MUTATE_O=$(abspath $(MUTATE_O)) nice -n 10 tests/mutate.sh $(MUTANTS)
