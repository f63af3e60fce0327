"""Do nbgrader's gradebook and the isolated grader give the same score to
every exercise of the sample class, and does the feedback learners receive
hide the hidden tests?"""
from __future__ import annotations

from pathlib import Path

import pytest

from autograder import demo, nbgrader_support
from tests.conftest import ASSIGNMENTS
from tests.submissions import ROOT


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_nbgrader_and_cli_agree_and_feedback_hides_hidden_tests(assignment: str, tmp_path: Path, capsys) -> None:
    assert demo.run([assignment], tmp_path), capsys.readouterr().out
    out = capsys.readouterr().out
    assert "reference" in out and "untouched" in out
    if (ROOT / "datasets" / "sample_class" / f"{assignment}.json").is_file():
        assert "ada" in out and "grace" in out and "alan" in out, "the sample learners with bugs were not graded"
    course = tmp_path / "course"
    pages = nbgrader_support.generate_feedback(course, assignment)
    assert pages
    for page in pages:
        html = page.read_text()
        assert "BEGIN HIDDEN TESTS" not in html and "/hidden" not in html, page
        assert "hidden tests ran here" in html
        assert "most recent call last" not in html and "hidden_checks" not in html
