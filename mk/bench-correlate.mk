# make bench-correlate: aiops-correlate throughput on >= 1 M generated signals
# beside `jq -c .` on the same input, and its peak RSS at 1 M and 4 M signals
# (tests/bench/correlate.sh; BENCH_DIR=dir keeps the generated inputs).
.PHONY: bench-correlate
bench-correlate: $(BIN)/aiops-correlate $(BIN)/aiops-synth
	tests/bench/correlate.sh $(BIN)
