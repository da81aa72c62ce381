# make bench-llm: 200 model calls against tests/servers/fake_llm.py answering
# after a fixed 500 ms, timed at concurrency 1, 4 and 16 beside the ideal
# ceil(200/c) x 0.5 s (target: within 15% of ideal at 16).  Knobs:
# BENCH_N, BENCH_DELAY_MS, BENCH_CONCURRENCY="1 4 16".
.PHONY: bench-llm
bench: bench-llm
bench-llm: $(O)/unit/t_llm
	AIOPS_UNIT=$(abspath $(O)/unit) tests/bench/llm.sh
