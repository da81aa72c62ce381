#!/usr/bin/env bash
# Prepares local models for the Ollama example configs.  It installs
# nothing by itself: when Ollama is missing it says how to get it and stops.
# Then it pulls the three models the configs name (asking first unless -y)
# and prints the commands that use them.
set -u -o pipefail

models=(llama3.2:3b mistral:7b qwen2.5:7b)
base=${OLLAMA_BASE_URL:-http://127.0.0.1:11434}
yes=0
[ "${1:-}" = -y ] && yes=1

if ! command -v ollama >/dev/null 2>&1; then
	cat >&2 <<MSG
setup_local_llms: 'ollama' is not installed.
Install it from your distribution or from Ollama's own instructions, start it
with 'ollama serve', and run this script again.  Nothing was changed.
MSG
	exit 1
fi
if ! curl -fsS "$base/api/version" >/dev/null 2>&1; then
	echo "setup_local_llms: no Ollama server answers at $base; start it with 'ollama serve'" >&2
	exit 1
fi
have=$(curl -fsS "$base/api/tags" | jq -r '.models[].name' 2>/dev/null)
for m in "${models[@]}"; do
	if grep -qx "$m" <<<"$have"; then
		echo "setup_local_llms: $m is already there"
		continue
	fi
	if [ $yes -eq 0 ]; then
		read -r -p "pull $m (several GB)? [y/N] " a </dev/tty || a=n
		[ "$a" = y ] || [ "$a" = Y ] || { echo "skipping $m"; continue; }
	fi
	ollama pull "$m" || exit 1
done
cat <<NEXT

Next:
  bin/aiops-harness run --config examples/configs/ollama_llama3.yaml --dataset examples/data
  bin/aiops-harness benchmark --config examples/configs/basic.yaml \\
      --config examples/configs/ollama_llama3.yaml --config examples/configs/ollama_mistral.yaml \\
      --config examples/configs/ollama_qwen.yaml --dataset examples/data --repeat 3
NEXT
