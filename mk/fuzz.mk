# Fuzzing with libFuzzer (clang, Debian's libclang-rt): `make fuzz
# FUZZ_SECONDS=N` builds every tests/fuzz/fuzz_*.c against an ASan+UBSan
# build of the library and runs each for N seconds from its seed corpus
# (tests/fuzz/corpus/NAME, copied so the checked-in seeds stay as they are).
# A crash, leak, timeout or sanitizer report fails the target.

FUZZ_SECONDS ?= 30
FUZZ_CC ?= clang
FUZZ_O := build/fuzz
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_O)/%)

.PHONY: fuzz fuzz-build
fuzz-build:
	@$(MAKE) --no-print-directory O=$(FUZZ_O) BIN=$(FUZZ_O)/bin CC=$(FUZZ_CC) \
		CFLAGS="$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link" $(FUZZ_O)/libaiops.a
	@for s in $(FUZZ_SRC); do \
		b=$(FUZZ_O)/$$(basename $$s .c); \
		$(FUZZ_CC) -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Ilib $(PKG_CFLAGS) \
			$(FUZZ_FLAGS) -fsanitize=fuzzer -o $$b $$s $(FUZZ_O)/libaiops.a $(ALL_LDLIBS) || exit 1; \
	done

fuzz: deps fuzz-build
	@fails=0; for b in $(FUZZ_BINS); do \
		n=$$(basename $$b); c=$(FUZZ_O)/corpus/$$n; mkdir -p $$c; \
		cp tests/fuzz/corpus/$${n#fuzz_}/* $$c/ 2>/dev/null; \
		echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
		if ASAN_OPTIONS=detect_leaks=1 $$b -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(FUZZ_O)/$$n- $$c \
			>$(FUZZ_O)/$$n.log 2>&1; then \
			echo "ok - $$n: $$(grep -o 'stat::number_of_executed_units: *[0-9]*' $(FUZZ_O)/$$n.log | grep -o '[0-9]*$$') executions"; \
		else \
			echo "not ok - $$n: see $(FUZZ_O)/$$n.log"; tail -n 30 $(FUZZ_O)/$$n.log; fails=$$((fails + 1)); \
		fi; \
	done; exit $$fails
