"""Building learner notebooks for tests: the release, with answer cells
filled from the reference or from a catalogue variant."""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def source_notebook(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)


def release_notebook(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "assignments" / assignment / f"{assignment}.ipynb", as_version=4)


def reference_answers(assignment: str) -> dict[str, str]:
    """grade_id -> the reference answer cell's source (solution markers removed)."""
    answers = {}
    for cell in source_notebook(assignment).cells:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and grading.get("solution"):
            lines = [line for line in cell.source.splitlines() if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line]
            answers[grading["grade_id"]] = "\n".join(lines)
    return answers


def make_submission(assignment: str, answers: dict[str, str], path: Path, base: str = "release") -> Path:
    """Write the release (or the source) with the given answer cells replaced."""
    notebook = copy.deepcopy(release_notebook(assignment) if base == "release" else source_notebook(assignment))
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in answers and cell.metadata["nbgrader"].get("solution"):
            cell.source = answers[grade_id]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def reference_submission(assignment: str, path: Path, **replacements: str) -> Path:
    """The release with every answer filled by the reference, except `replacements`."""
    answers = reference_answers(assignment)
    answers.update(replacements)
    return make_submission(assignment, answers, path)
