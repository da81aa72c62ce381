# Fuzzing with libFuzzer (clang, Debian's libclang-rt): `make fuzz
# FUZZ_SECONDS=N` builds every tests/fuzz/fuzz_*.c against an ASan+UBSan
# build of the library and runs each for N seconds from its seed corpus
# (tests/fuzz/corpus/NAME, copied so the checked-in seeds stay as they are).
# A crash, leak, timeout or sanitizer report fails the target.
#
#   make fuzz FUZZ_SECONDS=1200          every target, 20 minutes each
#   make fuzz FUZZ_TARGETS="llm csv"     only those (names without fuzz_)
#   make fuzz-smoke                      CI: every target and fuzz-load for 30 s
#   FUZZ_JOBS=N                          targets run at once (default: the cores)
#
# Every result is a TAP line: a target that does not build or runs 0
# executions is "not ok", like a crash.
#   make fuzz-regress                    every target once over its corpus
#                                        (no fuzzing: the regression seeds)
#   make fuzz-load FUZZ_SECONDS=N        aiops-load's input formats, black box
#                                        (tests/fuzz/fuzz_load.py on an
#                                        ASan+UBSan aiops-load; they have no
#                                        public parse function for libFuzzer)
#
# FUZZ_O= puts the fuzz build elsewhere (default build/fuzz).

FUZZ_SECONDS ?= 30
FUZZ_SMOKE_SECONDS ?= 30
# Targets run at once (each is one process: the machine's cores).
FUZZ_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
FUZZ_CC ?= clang
FUZZ_O ?= build/fuzz
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_ALL := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SRC := $(if $(FUZZ_TARGETS),$(FUZZ_TARGETS:%=tests/fuzz/fuzz_%.c),$(FUZZ_ALL))
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_O)/%)

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-regress fuzz-load
fuzz-build:
	@$(MAKE) --no-print-directory -j$(FUZZ_JOBS) O=$(FUZZ_O) BIN=$(FUZZ_O)/bin CC=$(FUZZ_CC) \
		CFLAGS="$(FUZZ_FLAGS) -fsanitize=fuzzer-no-link" $(FUZZ_O)/libaiops.a
	@for s in $(FUZZ_SRC); do \
		b=$(FUZZ_O)/$$(basename $$s .c); \
		$(FUZZ_CC) -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Ilib -Itests/fuzz $(PKG_CFLAGS) \
			$(FUZZ_FLAGS) -fsanitize=fuzzer -o $$b $$s $(FUZZ_O)/libaiops.a $(ALL_LDLIBS) || \
			{ echo "not ok - $$(basename $$s .c): does not build"; exit 1; }; \
	done

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build || { echo "not ok - fuzz-build: the fuzz targets do not build"; exit 1; }
	@tests/fuzz/run-targets.sh $(FUZZ_O) $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_BINS)

fuzz-smoke:
	@rc=0; mkdir -p $(FUZZ_O); $(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) || rc=1; \
	if $(MAKE) --no-print-directory fuzz-load FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) >$(FUZZ_O)/fuzz-load.log 2>&1; then \
		x=$$(sed -n -E 's/^fuzz_load: ([0-9]+) runs.*/\1/p' $(FUZZ_O)/fuzz-load.log); \
		if [ "$${x:-0}" -gt 0 ]; then echo "ok - fuzz-load: $$x runs"; \
		else echo "not ok - fuzz-load: 0 runs"; rc=1; fi; \
	else echo "not ok - fuzz-load: see $(FUZZ_O)/fuzz-load.log"; tail -n 30 $(FUZZ_O)/fuzz-load.log; rc=1; fi; \
	exit $$rc

# Runs each target over its checked-in seeds only (regression inputs for
# every bug fuzzing found live there); fails on any crash or report.
fuzz-regress: deps fuzz-build
	@fails=0; for b in $(FUZZ_BINS); do \
		n=$$(basename $$b); \
		if ASAN_OPTIONS=detect_leaks=1 $$b -runs=0 -timeout=10 -rss_limit_mb=1024 \
			tests/fuzz/corpus/$${n#fuzz_} >$(FUZZ_O)/$$n.regress.log 2>&1; then \
			echo "ok - $$n: $$(ls tests/fuzz/corpus/$${n#fuzz_} | wc -l) seeds"; \
		else \
			echo "not ok - $$n: see $(FUZZ_O)/$$n.regress.log"; \
			tail -n 30 $(FUZZ_O)/$$n.regress.log; fails=$$((fails + 1)); \
		fi; \
	done; exit $$fails

FUZZ_ASAN := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
fuzz-load: deps
	@$(MAKE) --no-print-directory O=$(FUZZ_O)/asan BIN=$(FUZZ_O)/asan/bin CFLAGS="$(FUZZ_ASAN)" \
		LDLIBS="-fsanitize=address,undefined" $(FUZZ_O)/asan/bin/aiops-load
	tests/fuzz/fuzz_load.py --bin $(FUZZ_O)/asan/bin/aiops-load --seconds $(FUZZ_SECONDS) \
		--out $(FUZZ_O)/load-findings
