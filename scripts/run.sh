#!/usr/bin/env bash
# Set up Lantern on a fresh machine and open the window.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export VENV
scripts/setup.sh
exec "$VENV"/bin/lantern "$@"
