"""Do grading and self-checking leave the course, the notebook's folder and
the working folder exactly as they were? The a4 checkpoint exercises write
files by design: their checks must do it in a temporary folder they remove.

Only `solutions/`, `assignments/` and the folders a test itself runs in are
compared (other files of the repository may be edited while tests run);
`__pycache__` folders are left out (Python's own bytecode cache, git-ignored).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.notebook import code_cells
from tests.submissions import ROOT

ASSIGNMENT = "a4_mlp"
EXERCISES = ("save_checkpoint", "load_checkpoint")
SKIPPED_FOLDERS = {".git", ".venv", "__pycache__"}


def snapshot(*folders: Path) -> dict[str, str]:
    """sha256 of every file below the folders (path -> digest)."""
    digests = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not SKIPPED_FOLDERS & set(path.relative_to(folder).parts):
                digests[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def differences(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return ([f"new: {p}" for p in sorted(after.keys() - before.keys())]
            + [f"removed: {p}" for p in sorted(before.keys() - after.keys())]
            + [f"changed: {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]])


@pytest.mark.slow
def test_grading_writes_nothing(tmp_path: Path) -> None:
    """Grading the checkpoint exercises of the reference, in place, from an
    empty working folder: full marks, and not one byte changed."""
    workdir, out = tmp_path / "cwd", tmp_path / "out"
    workdir.mkdir()
    out.mkdir()
    watched = (ROOT / "solutions", ROOT / "assignments", workdir)
    before = snapshot(*watched)
    completed = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
         *(arg for exercise in EXERCISES for arg in ("--exercise", exercise)), "--json", str(out / "results.json")],
        capture_output=True, text=True, timeout=600, cwd=workdir,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)},
    )
    after = snapshot(*watched)
    assert completed.returncode == 0, completed.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    assert {t["name"].split(":")[0] for t in results["tests"]} == set(EXERCISES)
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) > 0, completed.stdout
    changed = differences(before, after)
    assert not changed, "\n".join(changed)


@pytest.mark.slow
def test_self_check_writes_nothing(tmp_path: Path) -> None:
    """The reference notebook's setup, answer and test cells (public and
    hidden) of the checkpoint exercises, run by Jupyter in a copy of the
    notebook's folder as a learner would: all ✓, and not one byte changed
    in that folder or in the course."""
    folder = tmp_path / ASSIGNMENT
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, folder, ignore=shutil.ignore_patterns(*SKIPPED_FOLDERS))
    source = nbformat.read(folder / f"{ASSIGNMENT}.ipynb", as_version=4)
    keep = {cell.position for cell in code_cells(source)
            if cell.role == "setup"
            or (cell.role == "answer" and cell.grade_id in EXERCISES)
            or (cell.role == "test" and (cell.test_id or "").split("/")[0] in EXERCISES)}
    notebook = nbformat.v4.new_notebook(metadata=source.metadata)
    notebook.cells = [cell for position, cell in enumerate(source.cells) if position in keep]
    tests = [cell for cell in notebook.cells if cell.get("metadata", {}).get("dlworkbook", {}).get("test")]
    assert len(tests) == 2 * len(EXERCISES)  # public and hidden for each
    watched = (ROOT / "solutions", ROOT / "assignments", folder)
    before = snapshot(*watched)
    NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(folder)}}).execute()
    after = snapshot(*watched)
    outputs = "\n".join(output.get("text", "") for cell in tests for output in cell.get("outputs", []))
    assert outputs.count("✓") >= len(tests) and "✗" not in outputs, outputs
    changed = differences(before, after)
    assert not changed, "\n".join(changed)
