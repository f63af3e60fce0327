"""pytest plugin (entry point `pytest11`): `pytest a3_softmax.ipynb` runs a
notebook's public checks, one test item per exercise, and reports a failure
in the check's own words.

This is the learner's self-check, public checks only, and it runs the
notebook's cells IN THE PYTEST PROCESS, once for all exercises
(`autograder.selfcheck.NotebookCheck`), as the notebook's own test cells
run them in the learner's kernel: that takes about the time of importing
torch once. Each cell and each test keeps the grader's time budget, and a
cell that breaks the rule for answer cells is not run; but learner code is
not confined here (a cell that ends the process ends pytest). Graded runs
never come this way: `python -m autograder grade` runs every test in a
fresh, confined learner process (`autograder.sandbox`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest


class ExerciseFailed(Exception):
    """Public checks of one exercise failed; the message is the feedback."""


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix != ".ipynb" or ".ipynb_checkpoints" in file_path.parts:
        return None
    from autograder.notebook import NotebookError, assignment_id, read_notebook

    try:
        assignment_id(read_notebook(file_path), file_path)
    except NotebookError:
        return None  # not one of ours: leave it to other plugins
    return NotebookFile.from_parent(parent, path=file_path)


class NotebookFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from autograder.notebook import NotebookError
        from autograder.selfcheck import NotebookCheck

        try:
            self.notebook_check = NotebookCheck(self.path)
        except NotebookError as error:
            raise self.CollectError(str(error)) from None
        for exercise in self.notebook_check.assignment.exercises:
            yield ExerciseItem.from_parent(self, name=exercise, exercise=exercise)


class ExerciseItem(pytest.Item):
    def __init__(self, *, exercise: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.exercise = exercise

    def runtest(self) -> None:
        notebook_check = self.parent.notebook_check  # type: ignore[attr-defined]
        lost = [result for result in notebook_check.check(self.exercise) if not result.passed]
        if lost:
            raise ExerciseFailed("\n\n".join(f"{result.name}\n{result.output}" for result in lost))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:  # type: ignore[override]
        if isinstance(excinfo.value, ExerciseFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.path.name}::{self.exercise}"
