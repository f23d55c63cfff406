#!/usr/bin/env bash
# Sets the machine up (idempotent) and runs the whole pipeline locally:
# broker (if none answers), topics, worker and API. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/feynman dev
