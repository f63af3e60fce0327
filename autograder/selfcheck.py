"""Checks inside the learner's own notebook (and nbgrader's autograde).

    from autograder.selfcheck import Checker
    check = Checker("a3_softmax")
    check("softmax", softmax)              # a test cell: ✓/✗ per check

The same checks and scenarios as the grader, run in this kernel: quick
feedback, no isolation (graded results come from `python -m autograder
grade`, which runs the learner's code in a separate process).
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from typing import Any, Callable

from autograder import wire
from autograder.checking import Context, LearnerError, execute
from autograder.guard import CallTracer, Forbidden, explain, scan_source
from autograder.learner_errors import from_description
from autograder.scenarios import Learner
from autograder.suites import load_suite

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class CheckError(AssertionError):
    """Raised by a test cell whose checks failed (nbgrader scores it 0)."""


def _is_learner_frame(filename: str) -> bool:
    """Frames from notebook cells, not from the grader, torch or Python."""
    if filename.startswith("<answer cell"):
        return True
    if filename.startswith(_PACKAGE_DIR) or "site-packages" in filename or filename.startswith(sys.prefix):
        return False
    return not filename.startswith(os.path.dirname(os.__file__))


def _describe(error: BaseException) -> dict[str, Any]:
    from autograder.worker import describe_error

    description = describe_error(error)
    import traceback

    description["learner_frames"] = [
        ("your notebook", frame.lineno or 0, (frame.line or "").strip())
        for frame in traceback.extract_tb(error.__traceback__)
        if _is_learner_frame(frame.filename)
    ][-5:]
    return description


class LocalRun:
    """`ctx.run` for the notebook: the scenario runs right here, on copies of
    the check's inputs, with forbidden calls traced and warnings kept off
    stderr (nbgrader scores a cell that writes to stderr 0)."""

    def __init__(self, objects: dict[str, Any], rules: list[tuple[str, Forbidden]], subject: str) -> None:
        self.learner = Learner(objects)
        self.rules = rules
        self.subject = subject
        self.notes: list[str] = []

    def __call__(self, scenario: Callable[..., Any], *args: Any) -> Any:
        copies = wire.decode(wire.encode(list(args)))
        tracer = CallTracer(self.rules)
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("always")
            try:
                with tracer:
                    value = scenario(self.learner, *copies)
            except Exception as error:  # noqa: BLE001 - the learner's failure is data
                raise from_description(_describe(error), self.subject) from None
        for warning in caught[:3]:
            note = f"note: {warning.category.__name__}: {warning.message}"
            if note not in self.notes:
                self.notes.append(note)
        for exercise, rule in self.rules:
            mine = [use.split(": ", 1)[1] for use in tracer.used if use.startswith(exercise + ": ")]
            if mine:
                raise LearnerError("forbidden", explain(exercise, rule, mine))
        return wire.plain(value)


class Checker:
    """The `check(...)` function of an assignment's notebook."""

    def __init__(self, assignment_id: str) -> None:
        self.assignment_id = assignment_id

    def __call__(self, test_id: str, *objects: Any, seed: int = 0, **named: Any) -> None:
        __tracebackhide__ = True  # noqa: F841 - pytest and IPython hide this frame
        hidden = not _is_public(test_id)
        suite = load_suite(self.assignment_id, hidden=hidden)
        definition = suite.definition(test_id)
        provided = dict(named)
        if objects:
            provided[definition.exercise] = objects[0]
        rules = suite.forbidden_for(definition.needs)
        problems = [
            explain(exercise, rule, uses)
            for exercise, rule in rules
            if exercise in provided
            for uses in [scan_source(_source_of(provided[exercise]), exercise, rule)]
            if uses
        ]
        run = LocalRun(provided, rules, definition.exercise)
        reference_loader = None
        if hidden:
            from autograder.reference import load_reference

            reference_loader = lambda: load_reference(self.assignment_id)  # noqa: E731
        outcome = execute(definition, Context(run, seed, test_id, reference_loader), problems)
        print("\n".join(outcome.lines))
        for note in run.notes:
            print(note)
        if not outcome.passed:
            print()
            print(outcome.failure)
            raise CheckError(f"{definition.exercise}: {definition.title} failed (details above)") from None


def _is_public(test_id: str) -> bool:
    return not test_id.endswith("/hidden")


def _source_of(obj: Any) -> str:
    import inspect

    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""
