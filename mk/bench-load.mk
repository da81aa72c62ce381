# make bench-load: aiops-load records/s and MB/s beside `jq -c .` and `cat`
# on the same generated file (>= 1 M signal lines from aiops-synth), and
# peak RSS at 1 M and 4 M lines of sorted input.  Prints a table; asserts
# nothing.  BENCH_DIR keeps the generated data between runs.
BENCH_DIR ?= $(or $(TMPDIR),/tmp)/aiops-bench-load

.PHONY: bench-load
bench-load: $(BIN)/aiops-load $(BIN)/aiops-synth
	BIN=$(abspath $(BIN)) tests/bench/load.sh $(BENCH_DIR)
