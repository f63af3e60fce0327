"""Checks inside the learner's own notebook (and nbgrader's autograde).

    from autograder.selfcheck import Checker
    check = Checker("a3_softmax")
    check("softmax", softmax)              # a test cell: ✓/✗ per check

The same checks and scenarios as the grader, run in this kernel: quick
feedback, no isolation (graded results come from `python -m autograder
grade`, which runs the learner's code in a separate process).
"""
from __future__ import annotations

import os
import sys
from typing import Any, Callable

from autograder import wire
from autograder.calling import call_scenario, judge_reply
from autograder.checking import Context, execute
from autograder.guard import Forbidden, source_problems, watch
from autograder.scenarios import Learner
from autograder.suites import load_suite

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class CheckError(AssertionError):
    """Raised by a test cell whose checks failed (nbgrader scores it 0)."""


def _learner_frame(filename: str) -> str | None:
    """Frames from notebook cells are the learner's; the grader's, torch's
    and Python's are not."""
    if filename.startswith("<answer cell"):
        return filename
    if filename.startswith(_PACKAGE_DIR) or "site-packages" in filename or filename.startswith(sys.prefix):
        return None
    if filename.startswith(os.path.dirname(os.__file__)):
        return None
    return "your notebook"


class LocalRun:
    """`ctx.run` for the notebook: the scenario runs right here, on copies of
    the check's inputs, through the same call path as the grader's learner
    process (`autograder.calling`), so the feedback is the same."""

    def __init__(self, objects: dict[str, Any], rules: list[tuple[str, Forbidden]], subject: str) -> None:
        self.learner = Learner(objects)
        self.rules = rules
        self.subject = subject
        self.notes: list[str] = []

    def __call__(self, scenario: Callable[..., Any], *args: Any) -> Any:
        copies = wire.decode(wire.encode(list(args)))
        reply = call_scenario(scenario, self.learner, copies, self.rules, _learner_frame, interruptible=True)
        return judge_reply(reply, self.rules, self.subject, self.notes)


class Checker:
    """The `check(...)` function of an assignment's notebook."""

    def __init__(self, assignment_id: str) -> None:
        self.assignment_id = assignment_id
        # Created in a setup cell, before any answer cell runs: from here on
        # early references and learner threads are traced too.
        watch(list(load_suite(assignment_id).forbidden.items()))

    def __call__(self, test_id: str, *objects: Any, seed: int = 0, **named: Any) -> None:
        __tracebackhide__ = True  # noqa: F841 - pytest and IPython hide this frame
        hidden = not _is_public(test_id)
        suite = load_suite(self.assignment_id, hidden=hidden)
        definition = suite.definition(test_id)
        provided = dict(named)
        if objects:
            provided[definition.exercise] = objects[0]
        rules = suite.forbidden_for(definition.needs)
        problems = source_problems([(e, r) for e, r in rules if e in provided],
                                   {exercise: _source_of(obj) for exercise, obj in provided.items()},
                                   tuple(e for e in definition.needs if e in provided))
        run = LocalRun(provided, rules, definition.exercise)
        reference_loader = None
        if hidden:
            from autograder.reference import load_reference

            reference_loader = lambda: load_reference(self.assignment_id)  # noqa: E731
        outcome = execute(definition, Context(run, seed, test_id, reference_loader), problems)
        outcome.notes = run.notes
        print(outcome.output)
        if not outcome.passed:
            raise CheckError(f"{definition.exercise}: {definition.title} failed (details above)") from None


def _is_public(test_id: str) -> bool:
    return not test_id.endswith("/hidden")


def _source_of(obj: Any) -> str:
    import inspect

    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""
