"""Learner notebooks for tests: the release with every answer filled by the
reference, except the ones a test replaces."""
from __future__ import annotations

from pathlib import Path

from autograder.submissions import fill_answers, reference_answers, release_path

ROOT = Path(__file__).resolve().parents[1]


def reference_submission(assignment: str, path: Path, **replacements: str) -> Path:
    """The release with every answer filled by the reference, except `replacements`."""
    answers = reference_answers(assignment)
    answers.update(replacements)
    return fill_answers(release_path(assignment), answers, path)
