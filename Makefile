# aiops: hand-written Makefile, no autotools.
#
#   make            build lib/libaiops.a and every bin/aiops-* stage
#   make demo       run the offline pipeline on examples/data
#   make test       unit tests + every bats suite, ends with "N passed, N failed"
#   make test-asan  the same suite against an ASan+UBSan build
#   make deps       install missing Debian packages (apt-get as root)
#
# O= puts objects elsewhere and BIN= the executables, so several builds
# (plain, sanitizers, a helper's private one) can share one tree.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
# The bundled configs, prompts, catalog, executors, example data and
# pipelines, in the layout of examples/ (the configs' ../prompts/... hold);
# the stages look here, next to their bin/, for their default files.
DATADIR ?= $(PREFIX)/share/aiops
DESTDIR ?=
CC      ?= cc
AR      ?= ar
CFLAGS  ?= -O2 -g
O       ?= build
BIN     ?= bin

PKGS := json-c libcurl yaml-0.1 zlib libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljson-c -lcurl -lyaml -lz -lcrypto)

# Warnings are errors in CI (CI=true) or when asked with WERROR=1.
ifneq ($(filter true 1,$(CI) $(WERROR)),)
WERRFLAG := -Werror
endif

ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-Wall -Wextra $(WERRFLAG) -Ilib $(PKG_CFLAGS) $(CFLAGS)
ALL_LDLIBS = $(PKG_LIBS) -lm -lpthread $(LDLIBS)

LIB_SRC  := $(sort $(wildcard lib/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(O)/%.o)
LIB_A    := $(O)/libaiops.a
STAGE_SRC := $(sort $(wildcard src/aiops-*.c))
STAGES   := $(STAGE_SRC:src/%.c=$(BIN)/%)
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(O)/unit/%)
MAN1     := $(sort $(wildcard src/*.1))
MAN7     := $(sort $(wildcard src/*.7))
SCRIPTS  := $(filter-out $(STAGES),$(wildcard bin/aiops-*))
DATA_DIRS := configs prompts executors datasets data

.PHONY: all lib units test test-unit test-asan test-valgrind demo deps \
	install uninstall clean check-scripts bench
all: $(STAGES) units

lib: $(LIB_A)
units: $(UNITS)

$(O)/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(BIN)/%: src/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_A) $(ALL_LDLIBS)

$(O)/unit/%: tests/unit/%.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_A) $(ALL_LDLIBS)

# The Debian packages the build, the tests and the run time need.
DEB_PKGS := build-essential pkg-config libjson-c-dev libcurl4-openssl-dev \
	libyaml-dev zlib1g-dev libssl-dev jq bats python3 python3-venv shellcheck parallel curl

deps:
	@missing=; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make deps: installing$$missing"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		  apt-get install -y -qq --no-install-recommends $$missing; } >&2 || exit 1; \
	else \
		echo "make deps: missing Debian packages; run:" >&2; \
		echo "  sudo apt-get install$$missing" >&2; exit 1; \
	fi

demo: deps
	@$(MAKE) --no-print-directory all >/dev/null
	bin/aiops-harness run --config examples/configs/basic.yaml --dataset examples/data

# make test: every suite, closing with one "N passed, N failed" line.
test: deps
	@$(MAKE) --no-print-directory all
	AIOPS_BIN=$(abspath $(BIN)) AIOPS_UNIT=$(abspath $(O)/unit) tests/run.sh $(SUITES)

test-unit: units
	AIOPS_BIN=$(abspath $(BIN)) AIOPS_UNIT=$(abspath $(O)/unit) tests/run.sh --unit-only

ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
test-asan: deps
	@$(MAKE) --no-print-directory O=build/asan BIN=build/asan/bin \
		CFLAGS="$(ASAN_FLAGS)" LDLIBS="-fsanitize=address,undefined" all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	AIOPS_BIN=$(abspath build/asan/bin) AIOPS_UNIT=$(abspath build/asan/unit) \
	AIOPS_SANITIZED=1 tests/run.sh $(SUITES)

# Every suite with every stage under valgrind (mk/valgrind.mk does the
# wrapping; test-valgrind-contract is the short form CI runs).
test-valgrind: deps test-valgrind-suites

check-scripts:
	shellcheck -x bin/aiops-harness bin/aiops-harness-eval bin/aiops-harness-report tests/*.sh tests/*.bash tests/live/*.sh tests/live/*.bash \
		tests/servers/*.sh tests/fuzz/*.sh pipelines/*.sh examples/*.sh .ci/run

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	for f in $(STAGES) $(SCRIPTS); do install -m 755 $$f $(DESTDIR)$(BINDIR)/; done
	for f in $(MAN1); do install -m 644 $$f $(DESTDIR)$(MANDIR)/man1/; done
	for f in $(MAN7); do install -m 644 $$f $(DESTDIR)$(MANDIR)/man7/; done
	for d in $(DATA_DIRS); do mkdir -p $(DESTDIR)$(DATADIR)/$$d; \
		for f in examples/$$d/*; do install -m 644 $$f $(DESTDIR)$(DATADIR)/$$d/; done; done
	install -m 644 examples/actions.yaml $(DESTDIR)$(DATADIR)/
	mkdir -p $(DESTDIR)$(DATADIR)/pipelines
	for f in pipelines/*.sh; do install -m 755 $$f $(DESTDIR)$(DATADIR)/pipelines/; done

uninstall:
	for f in $(notdir $(STAGES) $(SCRIPTS)); do rm -f $(DESTDIR)$(BINDIR)/$$f; done
	for f in $(notdir $(MAN1)); do rm -f $(DESTDIR)$(MANDIR)/man1/$$f; done
	for f in $(notdir $(MAN7)); do rm -f $(DESTDIR)$(MANDIR)/man7/$$f; done
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf $(O) $(STAGES) tests/tmp

# Extra targets (benchmarks, fuzzing, live tests) live in mk/*.mk.
-include $(sort $(wildcard mk/*.mk))
