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


def code_cells(notebook: Notebook) -> list[Cell]:
    """Every code cell, classified as answer, test, setup or other."""
    cells = []
    for position, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}) if isinstance(cell.get("metadata"), dict) else {}
        grading = meta.get("nbgrader", {}) if isinstance(meta.get("nbgrader"), dict) else {}
        ours = meta.get(META_KEY, {}) if isinstance(meta.get(META_KEY), dict) else {}
        grade_id = grading.get("grade_id")
        if ours.get("test"):
            role = "test"
        elif grading.get("solution"):
            role = "answer"
        elif ours.get("role") == "setup":
            role = "setup"
        else:
            role = "other"
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        cells.append(
            Cell(
                position=position,
                source=source,
                grade_id=grade_id if isinstance(grade_id, str) else None,
                role=role,
                test_id=ours.get("test"),
                points=float(grading.get("points", 0) or 0),
            )
        )
    return cells


def answer_sources(notebook: Notebook) -> dict[str, str]:
    """grade_id -> source of each answer cell (the first one, if duplicated)."""
    found: dict[str, str] = {}
    for cell in code_cells(notebook):
        if cell.role == "answer" and cell.grade_id and cell.grade_id not in found:
            found[cell.grade_id] = cell.source
    return found


def python_source(source: str) -> str:
    """A cell as plain Python: IPython magics and shell escapes become `pass`
    (line numbers stay those the learner sees)."""
    return "\n".join(
        "pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )
