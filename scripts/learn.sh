#!/usr/bin/env bash
# For learners, one command: create the environment (.venv/, once; a few
# minutes the first time, torch is large), then open JupyterLab on
# assignments/ with this environment's Python as the notebooks' kernel.
#
#   bash scripts/learn.sh                     # extra arguments go to JupyterLab:
#   bash scripts/learn.sh --no-browser --port 8899
#
# In the course repository it installs the course's environment
# (scripts/bootstrap.sh); in the learner bundle (`python -m autograder
# bundle`), the learner's part of it (requirements.txt there).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f scripts/bootstrap.sh ]; then
  bash scripts/bootstrap.sh
else
  PYTHON="${PYTHON:-python3}"
  if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
  fi
  stamp=.venv/.dlworkbook-learner
  wanted=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "== installing torch, JupyterLab and the workbook (a few minutes the first time)"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r requirements.txt
    .venv/bin/python -m pip install --quiet --no-deps -e .
    .venv/bin/python -c "import torch, jupyterlab, autograder"  # fail loudly if anything is missing
    echo "$wanted" > "$stamp"
  fi
fi
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
# The notebooks ask for the "python3" kernel, which JupyterLab started from
# .venv runs with .venv's Python; a "python3" kernel registered elsewhere for
# this user would take precedence, so Jupyter's user data lives in .venv here.
export JUPYTER_DATA_DIR="$PWD/.venv/share/jupyter"
echo "== JupyterLab on assignments/ (stop it with Ctrl-C; check a notebook from a terminal:"
echo "   source .venv/bin/activate && pytest assignments/a1_autograd/a1_autograd.ipynb)"
exec .venv/bin/python -m jupyter lab --ServerApp.root_dir=assignments "$@"
