#!/usr/bin/env bash
# Install if needed, then run the project's test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH" OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
# Slow tests are independent: two workers (PYTEST_WORKERS=0 runs them in one process).
exec python -m pytest -n "${PYTEST_WORKERS:-2}" --dist worksteal "$@"
