#!/usr/bin/env bash
# Sets the machine up (idempotent), lints, and runs the test suite against a
# real Kafka broker that the tests start themselves (see tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports
set +e
# Two processes, each with its own broker, split the test files: a test file's
# tests share one process (-n 0 runs them all in this one).
.venv/bin/pytest -n "${FEYNMAN_TEST_PROCESSES:-2}" --dist loadfile "$@"
status=$?
set -e
# pytest exits 5 when it collected no test: that is a failure here, not a pass.
if [[ $status -eq 5 ]]; then
    echo "test.sh: no tests were collected" >&2
    exit 1
fi
exit $status
