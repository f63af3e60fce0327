#!/usr/bin/env bash
# Create the project's virtual environment (.venv) if missing and install
# what the project needs; does nothing when requirements are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.dlworkbook-installed
wanted=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "== installing requirements (torch first; a few minutes on a fresh machine)"
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -m pip install --quiet "$(grep '^torch==' requirements.txt)" "$(grep '^torchvision==' requirements.txt)" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -m pip install --quiet -r requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -m pip install --quiet --no-deps -e . 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import torch, torchvision, nbgrader, autograder" # fail loudly if anything is missing
  echo "$wanted" > "$stamp"
fi
