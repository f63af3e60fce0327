"""Bad input gets a clear one-line error (exit 2), never a traceback, and a
renamed file still grades."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.submissions import ROOT, reference_submission


def _grade(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autograder", "grade", *args],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


def _assert_one_line_error(completed: subprocess.CompletedProcess[str], phrase: str) -> None:
    assert completed.returncode == 2, completed.stdout + completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    assert phrase in lines[0], lines[0]


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [ {"cell_type": "code", ')
    _assert_one_line_error(_grade(str(path)), "not a notebook")


def test_json_but_not_a_notebook(tmp_path: Path) -> None:
    path = tmp_path / "list.ipynb"
    path.write_text("[1, 2, 3]")
    _assert_one_line_error(_grade(str(path)), "not a notebook")


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "image.ipynb"
    path.write_bytes(bytes(range(256)) * 4)
    _assert_one_line_error(_grade(str(path)), "cannot be read")


def test_deeply_nested_json(tmp_path: Path) -> None:
    path = tmp_path / "deep.ipynb"
    path.write_text("[" * 100_000 + "]" * 100_000)
    _assert_one_line_error(_grade(str(path)), "nested too deeply")


def test_wrong_types_inside_a_notebook_grade_without_a_crash(tmp_path: Path) -> None:
    """A cell whose source is a number, or a list holding non-strings, and
    points that are not a number: graded (as unanswered), exit 0."""
    notebook = json.loads((ROOT / "assignments/a3_softmax/a3_softmax.ipynb").read_text())
    for cell in notebook["cells"]:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if grading.get("grade_id") == "softmax":
            cell["source"] = ["def softmax(X):\n", 3, None]
            grading["points"] = "lots"
        elif grading.get("grade_id") == "accuracy":
            cell["source"] = 12345
    path = tmp_path / "types.ipynb"
    path.write_text(json.dumps(notebook))
    completed = _grade(str(path), "--exercise", "softmax", "--exercise", "accuracy", "--quiet")
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "Traceback" not in completed.stderr and "total" in completed.stdout


def test_missing_file(tmp_path: Path) -> None:
    _assert_one_line_error(_grade(str(tmp_path / "nowhere.ipynb")), "no such file")


def test_unknown_assignment(tmp_path: Path) -> None:
    path = reference_submission("a3_softmax", tmp_path / "other.ipynb")
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["dlworkbook"]["assignment"] = "a9_transformers"
    nbformat.write(notebook, path)
    _assert_one_line_error(_grade(str(path)), "unknown assignment 'a9_transformers'")


def test_notebook_of_no_assignment(tmp_path: Path) -> None:
    path = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), path)
    _assert_one_line_error(_grade(str(path)), "not a dlworkbook assignment")


def test_deleted_answer_cell(tmp_path: Path) -> None:
    path = reference_submission("a3_softmax", tmp_path / "deleted.ipynb")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "accuracy"]
    nbformat.write(notebook, path)
    _assert_one_line_error(_grade(str(path)), "the answer cell for accuracy is missing")


def test_unknown_exercise_option(tmp_path: Path) -> None:
    path = reference_submission("a3_softmax", tmp_path / "fine.ipynb")
    _assert_one_line_error(_grade(str(path), "--exercise", "softmaxx"), "has no exercise softmaxx")


@pytest.mark.slow
def test_renamed_file_with_moved_and_extra_cells_still_grades(tmp_path: Path) -> None:
    """The assignment comes from the notebook's metadata, cells from their grade_id."""
    path = reference_submission("a3_softmax", tmp_path / "source.ipynb")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell("print('my own scratch cell')\nraise RuntimeError('not graded')"))
    notebook.cells.reverse()
    renamed = tmp_path / "My Homework (final) v2.ipynb"
    nbformat.write(notebook, renamed)
    result = tmp_path / "results.json"
    completed = _grade(str(renamed), "--exercise", "softmax", "--exercise", "accuracy", "--json", str(result))
    assert completed.returncode == 0, completed.stderr
    data = json.loads(result.read_text())
    assert data["score"] == sum(t["max_score"] for t in data["tests"]) > 0
    assert {t["name"].split(":")[0] for t in data["tests"]} == {"softmax", "accuracy"}


def test_batch_reports_bad_file_and_grades_the_rest(tmp_path: Path) -> None:
    good = reference_submission("a3_softmax", tmp_path / "good.ipynb")
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json")
    out = tmp_path / "out"
    completed = _grade(str(bad), str(good), "--exercise", "accuracy", "--json-dir", str(out))
    assert completed.returncode == 2
    assert "bad.ipynb: not a notebook" in completed.stderr
    assert json.loads((out / "good.json").read_text())["score"] == 3
