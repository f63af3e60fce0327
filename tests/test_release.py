"""Is the committed release exactly what nbgrader generates from the sources,
and does it leak nothing?"""
from __future__ import annotations

from pathlib import Path

import pytest

from autograder import nbgrader_support
from tests.conftest import ASSIGNMENTS
from tests.submissions import ROOT

LEAKS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_matches_what_nbgrader_generates(assignment: str, tmp_path: Path) -> None:
    nbgrader_support.release(assignment, ROOT, release_dir=tmp_path)
    committed = ROOT / "assignments" / assignment
    generated = tmp_path / assignment
    assert sorted(p.name for p in generated.iterdir()) == sorted(p.name for p in committed.iterdir())
    for path in generated.iterdir():
        assert path.read_bytes() == (committed / path.name).read_bytes(), (
            f"assignments/{assignment}/{path.name} drifted from solutions/: run `python -m autograder release {assignment}`")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_leaks_no_solution_and_no_hidden_check(assignment: str) -> None:
    folder = ROOT / "assignments" / assignment
    assert not (folder / "hidden_checks.py").exists()
    text = (folder / f"{assignment}.ipynb").read_text()
    for marker in LEAKS:
        assert marker not in text
    assert '"assignment": "' + assignment + '"' in text  # the metadata the grader identifies it by
