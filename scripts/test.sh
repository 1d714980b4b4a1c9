#!/usr/bin/env bash
# Set up Lantern with its test extra and test models, then run the linters and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export VENV
scripts/setup.sh --test
"$VENV"/bin/ruff check app tests bench packaging
"$VENV"/bin/ruff format --check app tests bench packaging
"$VENV"/bin/mypy
QT_QPA_PLATFORM=offscreen "$VENV"/bin/python -m pytest "$@"
