"""pytest plugin (entry point `pytest11`): `pytest a3_softmax.ipynb` runs a
notebook's public checks, one test item per exercise, in an isolated
learner process, and reports a failure in the check's own words."""
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
        from autograder.course import open_submission
        from autograder.notebook import NotebookError

        try:
            assignment, _ = open_submission(self.path, from_source=False)
        except NotebookError as error:
            raise self.CollectError(str(error)) from None
        for exercise in assignment.exercises:
            yield ExerciseItem.from_parent(self, name=exercise, exercise=exercise)


class ExerciseItem(pytest.Item):
    def __init__(self, *, exercise: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.exercise = exercise

    def runtest(self) -> None:
        from autograder.grading import grade

        report = grade(self.path, [self.exercise], seed=0, hidden=False)
        lost = [result for result in report.results if result.score < result.max_score]
        if lost:
            raise ExerciseFailed("\n\n".join(f"{result.name}\n{result.output}" for result in lost))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:  # type: ignore[override]
        if isinstance(excinfo.value, ExerciseFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.path.name}::{self.exercise}"
