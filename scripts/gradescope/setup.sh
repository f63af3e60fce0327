#!/usr/bin/env bash
# Gradescope image build: install the project into /autograder/source/.venv.
set -euo pipefail
cd /autograder/source
bash scripts/bootstrap.sh
