"""The course on disk: where the instructor sources live and what each
assignment contains, read from its source notebook (the one source of truth
for exercises, test cells, points and setup code).
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from autograder import i18n
from autograder.notebook import (Notebook, NotebookError, answer_sources, assignment_id, code_cells, notebook_language,
                                 read_notebook)

COURSE_ENV = "DLWORKBOOK_COURSE"


@dataclass(frozen=True)
class TestSpec:
    """One graded test: a test cell of the source notebook."""

    id: str  # "softmax", "softmax/hidden", "train_epoch/threshold"
    exercise: str
    points: float
    grade_id: str

    @property
    def hidden(self) -> bool:
        return self.id.endswith("/hidden")


@dataclass(frozen=True)
class Step:
    """A cell the learner's process runs before checks: setup code taken
    from the source notebook, or the learner's answer for an exercise."""

    kind: str  # "setup" or "answer"
    source: str  # setup source; empty for answers (taken from the learner)
    exercise: str | None = None


@dataclass(frozen=True)
class Assignment:
    id: str
    source_path: Path
    exercises: tuple[str, ...]
    tests: tuple[TestSpec, ...]
    steps: tuple[Step, ...]

    def tests_for(self, exercise: str) -> list[TestSpec]:
        return [test for test in self.tests if test.exercise == exercise]

    def max_score(self, exercise: str) -> float:
        return sum(test.points for test in self.tests_for(exercise))


def course_root() -> Path:
    """The folder holding `solutions/`: $DLWORKBOOK_COURSE, else the
    repository this package was installed from, else the working folder and
    its parents (where nbgrader runs a notebook: autograded/<student>/<id>/)."""
    candidates = []
    if os.environ.get(COURSE_ENV):
        candidates.append(Path(os.environ[COURSE_ENV]))
    candidates.append(Path(__file__).resolve().parents[1])
    cwd = Path.cwd().resolve()
    candidates.extend([cwd, *cwd.parents])
    for candidate in candidates:
        if (candidate / "solutions").is_dir():
            return candidate
    raise NotebookError("cannot find the course's solutions/ folder (set $DLWORKBOOK_COURSE)")


def known_assignments() -> list[str]:
    root = course_root() / "solutions"
    return sorted(p.name for p in root.iterdir() if (p / f"{p.name}.ipynb").is_file())


@functools.lru_cache(maxsize=None)
def load_assignment(assignment_id: str) -> Assignment:
    """Parse an assignment's source notebook into its exercises and tests."""
    try:
        path = course_root() / "solutions" / assignment_id / f"{assignment_id}.ipynb"
    except NotebookError:
        raise NotebookError(f"unknown assignment {assignment_id!r} (no course solutions/ folder here)") from None
    if not path.is_file():
        known = ", ".join(known_assignments()) or "none"
        raise NotebookError(f"unknown assignment {assignment_id!r} (known: {known})")
    return parse_assignment(read_notebook(path), assignment_id, path)


def parse_assignment(notebook: Notebook, assignment_id: str, path: Path) -> Assignment:
    """Exercises, tests and setup steps of a notebook: the source for
    grading, or a learner's own copy of the release for a self-check."""
    exercises: list[str] = []
    tests: list[TestSpec] = []
    steps: list[Step] = []
    for cell in code_cells(notebook):
        if cell.role == "answer" and cell.grade_id:
            exercises.append(cell.grade_id)
            steps.append(Step("answer", "", cell.grade_id))
        elif cell.role == "setup":
            steps.append(Step("setup", cell.source))
        elif cell.role == "test" and cell.test_id:
            exercise = cell.test_id.split("/")[0]
            tests.append(TestSpec(cell.test_id, exercise, cell.points, cell.grade_id or cell.test_id))
    return Assignment(assignment_id, path, tuple(exercises), tuple(tests), tuple(steps))


def hidden_checks_path(assignment_id: str) -> Path:
    """Hidden checks live beside the source notebook, never in the release."""
    return course_root() / "solutions" / assignment_id / "hidden_checks.py"


def open_submission(path: str | Path, from_source: bool = True) -> tuple[Assignment, dict[str, str]]:
    """The assignment a notebook belongs to and its answers; NotebookError
    (one line) if it is unreadable, unknown or has lost an answer cell.

    Grading takes the tests, points and setup code from the instructor's
    source notebook (`from_source`); a learner's self-check, which has no
    source, takes them from the notebook itself."""
    notebook = read_notebook(path)
    identity = assignment_id(notebook, path)
    i18n.set_language(notebook_language(notebook))  # what the learner reads comes in the notebook's language
    if from_source:
        assignment = load_assignment(identity)
    else:
        assignment = parse_assignment(notebook, identity, Path(path))
        if not assignment.tests:
            raise NotebookError(f"{path}: has no test cells of assignment {identity} (start again from the release)")
    answers = answer_sources(notebook)
    missing = [exercise for exercise in assignment.exercises if exercise not in answers]
    if missing:
        names = ", ".join(missing)
        raise NotebookError(
            f"{path}: the answer cell for {names} is missing (grade_id {names}); "
            "copy it back from the released notebook, keeping its metadata"
        )
    return assignment, answers
