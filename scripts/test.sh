#!/usr/bin/env bash
# Sets the machine up (idempotent), lints, and runs the test suite against a
# real Kafka broker that the tests start themselves (see tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
set +e
.venv/bin/pytest "$@"
status=$?
set -e
# pytest exits 5 when it collected no test: that is a failure here, not a pass.
if [[ $status -eq 5 ]]; then
    echo "test.sh: no tests were collected" >&2
    exit 1
fi
exit $status
