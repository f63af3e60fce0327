"""Reading notebooks: which assignment a file is, and which cell is which.

A notebook names its assignment in its own metadata
(`metadata.dlworkbook.assignment`), so a renamed file still grades. Cells are
found by their nbgrader `grade_id`, never by position, so a learner may add or
move cells freely.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A notebook is read as plain JSON (a dict): importing nbformat costs two
# seconds, and the grader needs nothing from it but the cells and metadata.
Notebook = dict[str, Any]

META_KEY = "dlworkbook"


class NotebookError(Exception):
    """A notebook the grader cannot work with; the message is one line."""


@dataclass(frozen=True)
class Cell:
    """One code cell, with what the grader needs to know about it."""

    position: int
    source: str
    grade_id: str | None
    role: str  # "answer", "test", "setup" or "other"
    test_id: str | None = None
    points: float = 0.0


def read_notebook(path: str | Path) -> Notebook:
    """Read an .ipynb file, or raise NotebookError with a one-line reason."""
    path = Path(path)
    if not path.is_file():
        raise NotebookError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise NotebookError(f"{path}: cannot be read as UTF-8 text ({error.__class__.__name__})") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookError(f"{path}: not a notebook (invalid JSON at line {error.lineno})") from None
    except RecursionError:
        raise NotebookError(f"{path}: not a notebook (nested too deeply)") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise NotebookError(f"{path}: not a notebook (no list of cells)")
    if raw.get("nbformat") != 4:
        raise NotebookError(f"{path}: not a version-4 notebook (nbformat {raw.get('nbformat')!r}); open and save it in Jupyter")
    if not isinstance(raw.get("metadata", {}), dict) or not all(isinstance(cell, dict) for cell in raw["cells"]):
        raise NotebookError(f"{path}: not a valid notebook (malformed cells or metadata)")
    return raw


def assignment_id(notebook: Notebook, path: str | Path = "notebook") -> str:
    """The assignment a notebook belongs to, from its own metadata."""
    meta = notebook.get("metadata", {}).get(META_KEY, {})
    value = meta.get("assignment") if isinstance(meta, dict) else None
    if not isinstance(value, str) or not value:
        raise NotebookError(
            f"{path}: not a dlworkbook assignment (its metadata names no assignment; "
            "start again from the released notebook)"
        )
    return value


def notebook_language(notebook: Notebook) -> str | None:
    """The language a release was written in (`metadata.dlworkbook.language`,
    e.g. "zh_CN"); None for the source language."""
    meta = notebook.get("metadata", {}).get(META_KEY, {})
    value = meta.get("language") if isinstance(meta, dict) else None
    return value if isinstance(value, str) and value else None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def nbgrader_meta(cell: dict[str, Any]) -> dict[str, Any]:
    """The cell's nbgrader metadata (empty when absent or malformed)."""
    return _mapping(_mapping(cell.get("metadata")).get("nbgrader"))


def dlworkbook_meta(cell: dict[str, Any]) -> dict[str, Any]:
    """The cell's dlworkbook metadata: `role` ("setup") and `test` (a test id)."""
    return _mapping(_mapping(cell.get("metadata")).get(META_KEY))


def is_grade_cell(cell: dict[str, Any]) -> bool:
    """A cell nbgrader scores (a test cell, or a manually graded answer)."""
    return bool(nbgrader_meta(cell).get("grade", False))


def cell_role(cell: dict[str, Any]) -> str:
    """"answer", "test", "setup" or "other": the one place that decides what
    a code cell is, for the grader, the release, nbgrader's glue and the tests."""
    if cell.get("cell_type") != "code":
        return "other"
    if dlworkbook_meta(cell).get("test"):
        return "test"
    if nbgrader_meta(cell).get("solution"):
        return "answer"
    if dlworkbook_meta(cell).get("role") == "setup":
        return "setup"
    return "other"


def is_run_when_grading(cell: dict[str, Any]) -> bool:
    """Setup, answer and test cells run when a notebook is graded; lesson
    demos and the learner's own scratch cells do not (nbgrader's locked
    read-only cells run too, as nbgrader would)."""
    return cell_role(cell) != "other" or any(nbgrader_meta(cell).get(key) for key in ("grade", "solution", "locked"))


def cell_source(cell: dict[str, Any]) -> str:
    """A cell's source as one string (nbformat allows a list of lines)."""
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def code_cells(notebook: Notebook) -> list[Cell]:
    """Every code cell, classified as answer, test, setup or other."""
    cells = []
    for position, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        grade_id = nbgrader_meta(cell).get("grade_id")
        test_id = dlworkbook_meta(cell).get("test")
        try:
            points = float(nbgrader_meta(cell).get("points", 0) or 0)
        except (TypeError, ValueError):
            points = 0.0
        cells.append(
            Cell(
                position=position,
                source=cell_source(cell),
                grade_id=grade_id if isinstance(grade_id, str) else None,
                role=cell_role(cell),
                test_id=test_id if isinstance(test_id, str) else None,
                points=points,
            )
        )
    return cells


def set_answer_sources(notebook: Notebook, answers: dict[str, str]) -> Notebook:
    """Replace, in place, the source of each answer cell named in `answers`."""
    for cell in notebook.get("cells", []):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if cell_role(cell) == "answer" and grade_id in answers:
            cell["source"] = answers[grade_id]
    return notebook


def answer_sources(notebook: Notebook) -> dict[str, str]:
    """grade_id -> source of each answer cell (the first one, if duplicated)."""
    found: dict[str, str] = {}
    for cell in code_cells(notebook):
        if cell.role == "answer" and cell.grade_id and cell.grade_id not in found:
            found[cell.grade_id] = cell.source
    return found


def python_source(source: str) -> str:
    """A cell as plain Python: IPython magics and shell escapes become `pass`,
    and leading blank lines go, as IPython drops them before it runs a cell
    (so line numbers stay those the learner reads in Jupyter)."""
    lines = source.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line for line in lines)
