# Valgrind over the stream contract: every stage runs under
#   valgrind --leak-check=full --error-exitcode=1
#            --errors-for-leak-kinds=definite,indirect
# through a directory of wrapper scripts named like the stages
# ($(VG_DIR)/aiops-rca execs valgrind on $(BIN)/aiops-rca), which is then
# given to the bats suites as the stages' directory (AIOPS_BIN=, which
# they put first on PATH).  Each process writes its report to $(VG_DIR)/log/; the
# target fails when any report shows a memory error or a definite or
# indirect leak, even where a test expected exit 1 anyway, and when no
# process ran under valgrind at all (a check that checked nothing).
#
#   make test-valgrind-contract                 tests/contract.bats + the robustness suite
#   make test-valgrind-contract VG_SUITES="tests/aiops-rca.bats tests/faults.bats"
#   make test-valgrind-suites                   every tests/aiops-*.bats (slow)

VG_DIR ?= $(O)/valgrind
VG_SUITES ?= tests/robustness.bats
VALGRIND ?= valgrind
VG_FLAGS := --leak-check=full --error-exitcode=1 --errors-for-leak-kinds=definite,indirect \
	--show-leak-kinds=definite,indirect --track-origins=yes --num-callers=30

.PHONY: test-valgrind-contract test-valgrind-suites valgrind-wrappers
valgrind-wrappers: $(STAGES)
	@command -v $(VALGRIND) >/dev/null || { echo "valgrind not found: apt-get install valgrind" >&2; exit 1; }
	@# valgrind by absolute path: some tests run a stage with a PATH of their own.
	@rm -rf $(VG_DIR)/bin $(VG_DIR)/log; mkdir -p $(VG_DIR)/bin $(VG_DIR)/log
	@for s in $(STAGES); do \
		w=$(VG_DIR)/bin/$$(basename $$s); \
		printf '#!/bin/sh\nexec %s %s --log-file=%s/%%p.log %s "$$@"\n' \
			"$$(command -v $(VALGRIND))" "$(VG_FLAGS)" "$(abspath $(VG_DIR))/log" "$$(realpath $$s)" >$$w; \
		chmod +x $$w; \
	done
	@# The driver scripts (bin/aiops-harness): linked, run as they are.
	@for s in $(SCRIPTS); do \
		[ -e $(VG_DIR)/bin/$$(basename $$s) ] || ln -s $$(realpath $$s) $(VG_DIR)/bin/; \
	done

# Fails when a report holds an error or a definite/indirect leak; prints them.
VG_CHECK = bad=$$(grep -l -E 'ERROR SUMMARY: [1-9]|(definitely|indirectly) lost: [1-9]' $(VG_DIR)/log/*.log 2>/dev/null); \
	n=$$(ls $(VG_DIR)/log | wc -l); \
	if [ "$$n" -eq 0 ]; then echo "valgrind: 0 processes ran under valgrind"; exit 1; fi; \
	if [ -n "$$bad" ]; then \
		for f in $$bad; do echo "== $$f"; grep -v '^==[0-9]*== *$$' $$f | head -n 80; done; \
		echo "valgrind: $$(echo $$bad | wc -w) of $$n processes with errors or leaks"; exit 1; \
	else echo "valgrind: $$n processes, no errors, no definite or indirect leaks"; fi

test-valgrind-contract: valgrind-wrappers
	@rc=0; \
	AIOPS_BIN=$(abspath $(VG_DIR))/bin AIOPS_UNIT=/nonexistent AIOPS_VALGRIND=1 \
		tests/run.sh --contract tests/contract.bats $(VG_SUITES) || rc=1; \
	$(VG_CHECK); exit $$rc

test-valgrind-suites: valgrind-wrappers
	@rc=0; AIOPS_BIN=$(abspath $(VG_DIR))/bin AIOPS_VALGRIND=1 tests/run.sh --contract || rc=1; \
	$(VG_CHECK); exit $$rc
