"""Shared fixtures: every assignment that has a source notebook."""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

from autograder.course import known_assignments  # noqa: E402

ASSIGNMENTS = known_assignments()
