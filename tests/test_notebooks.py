"""Do the lessons run top to bottom, with their checks and plots, and does a
test cell speak to the learner (✓/✗ lines, "not implemented yet")?"""
from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ASSIGNMENTS
from tests.submissions import ROOT

BUDGET_S = {"a4_mlp": 120, "a5_cnn": 180, "a6_rnn": 180}  # seconds to run the whole solution notebook here


def _execute(path: Path, allow_errors: bool) -> tuple[nbformat.NotebookNode, float]:
    notebook = nbformat.read(path, as_version=4)
    started = time.monotonic()
    NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook, time.monotonic() - started


def _text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(str(output.get("data", {}).get("text/plain", "")))
        parts.append(output.get("evalue", ""))
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_notebook_runs_with_checks_and_plots(assignment: str) -> None:
    notebook, seconds = _execute(ROOT / "solutions" / assignment / f"{assignment}.ipynb", allow_errors=False)
    tests = [c for c in notebook.cells if c.get("metadata", {}).get("dlworkbook", {}).get("test")]
    outputs = "\n".join(_text(c) for c in tests)
    assert "✓" in outputs and "✗" not in outputs
    images = [o for c in notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, "the lesson shows no plot"
    assert seconds < BUDGET_S.get(assignment, 60), f"{assignment} took {seconds:.0f} s"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_test_cells_say_not_implemented(assignment: str) -> None:
    notebook, _ = _execute(ROOT / "assignments" / assignment / f"{assignment}.ipynb", allow_errors=True)
    public = [c for c in notebook.cells
              if c.get("metadata", {}).get("dlworkbook", {}).get("test", "").count("/") == 0
              and c.get("metadata", {}).get("dlworkbook", {}).get("test")]
    assert public
    for cell in public:
        text = _text(cell)
        assert "✗" in text and "not implemented yet" in text, text
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert errors and errors[0].ename == "CheckError"
        assert not [o for o in cell.outputs if o.get("name") == "stderr"], "a check wrote to stderr (nbgrader scores 0)"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ["a1_autograd", "a3_softmax"])
def test_chinese_release_runs_in_a_kernel_and_speaks_chinese(assignment: str, tmp_path: Path) -> None:
    """The zh_CN release, its answers filled with the reference, run top to
    bottom in a Jupyter kernel started in its folder: the test cells find the
    notebook's language themselves (no environment variable) and show only
    ✓ lines with Chinese titles, and no traceback."""
    import os
    import re

    from autograder.submissions import fill_answers, reference_answers

    release = ROOT / "assignments" / "zh_CN" / assignment / f"{assignment}.ipynb"
    path = fill_answers(release, reference_answers(assignment), tmp_path / f"{assignment}.ipynb")
    os.environ.pop("DLWORKBOOK_LANG", None)
    notebook, _ = _execute(path, allow_errors=False)
    tests = [c for c in notebook.cells if c.get("metadata", {}).get("dlworkbook", {}).get("test")]
    ticks = [line for c in tests for line in _text(c).splitlines() if line.startswith("✓ ")]
    assert ticks and "✗" not in "\n".join(_text(c) for c in tests)
    assert all(re.search(r"[\u4e00-\u9fff]", line) for line in ticks), [t for t in ticks if not re.search(r"[\u4e00-\u9fff]", t)][:3]
    assert not [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
