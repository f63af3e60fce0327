"""Grading one notebook: every test of its assignment, each in a fresh
isolated learner process, verdicts computed here in the grader's process."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.checking import Context, Outcome, OutcomeKind, execute
from autograder.course import TestSpec, open_submission
from autograder.guard import source_problems
from autograder.notebook import NotebookError
from autograder.reference import load_reference
from autograder.seeds import grading_seed
from autograder.sandbox import Limits, Sandbox, probe_confinement, refuse_unconfined
from autograder.suites import load_suite


@dataclass
class TestResult:
    """One graded test, in the words and numbers a report needs."""

    name: str
    exercise: str
    test_id: str
    score: float
    max_score: float
    output: str
    kind: OutcomeKind
    hidden: bool
    uses: tuple[str, ...] = ()
    partial: bool = False  # scored by the share of its checks passed, not all or nothing
    checks_passed: int = 0
    checks_total: int = 0


@dataclass
class GradeReport:
    notebook: Path
    assignment: str
    seed: int
    results: list[TestResult] = field(default_factory=list)
    confinement: tuple[str, ...] = ()  # what the learner processes achieved (see autograder.confine)
    execution_time: float = 0.0  # seconds spent grading (Gradescope's execution_time)
    timing: Any = None  # autograder.timing.TimingReport (never graded), or None when not asked for

    @property
    def score(self) -> float:
        return sum(result.score for result in self.results)

    @property
    def max_score(self) -> float:
        return sum(result.max_score for result in self.results)

    def by_exercise(self) -> dict[str, tuple[float, float]]:
        totals: dict[str, tuple[float, float]] = {}
        for result in self.results:
            got, most = totals.get(result.exercise, (0.0, 0.0))
            totals[result.exercise] = (got + result.score, most + result.max_score)
        return totals


def grade(
    path: str | Path,
    exercises: list[str] | None = None,
    seed: int | None = None,
    limits: Limits | None = None,
    hidden: bool = True,
    allow_unconfined: bool = False,
    timing: str = "off",
) -> GradeReport:
    """Grade a notebook; `exercises` limits it, `hidden=False` runs only the
    public checks (the learner's self-check). Grading for credit (`hidden`)
    refuses to run learner code unconfined (ConfinementRefused, a
    NotebookError) unless `allow_unconfined`."""
    started = time.monotonic()
    assignment, answers = open_submission(path, from_source=hidden)
    unknown = [name for name in exercises or [] if name not in assignment.exercises]
    if unknown:
        raise NotebookError(f"{assignment.id} has no exercise {', '.join(unknown)} (it has: {', '.join(assignment.exercises)})")
    if seed is None:
        seed = grading_seed(assignment.id, answers) if hidden else 0
    suite = load_suite(assignment.id, hidden=hidden)
    report = GradeReport(Path(path), assignment.id, seed)
    if hidden and not allow_unconfined:
        refuse_unconfined()
    sandbox = Sandbox(assignment, answers, limits or Limits(), seed, forbidden=list(suite.forbidden.items()))
    try:
        for test in assignment.tests:
            if exercises and test.exercise not in exercises:
                continue
            if test.hidden and not hidden:
                continue
            outcome = run_test(sandbox, test, answers, seed)
            report.results.append(
                TestResult(
                    name=f"{test.exercise}: {suite.definition(test.id).title}",
                    exercise=test.exercise,
                    test_id=test.id,
                    score=points_earned(test.points, outcome),
                    max_score=test.points,
                    output=outcome.output,
                    kind=outcome.kind,
                    hidden=test.hidden,
                    uses=suite.definition(test.id).needs,
                    partial=outcome.partial,
                    checks_passed=outcome.checks_passed,
                    checks_total=outcome.checks_total,
                )
            )
        if timing != "off":  # after the tests: times only what passed them (autograder.timing)
            from autograder.timing import measure

            report.timing = measure(sandbox, report.results, timing)
    finally:
        # For credit, the level comes from the trusted probe (a process that ran no
        # learner code), never from what a learner process says of itself.
        report.confinement = probe_confinement() if hidden and report.results else sandbox.confinement
        sandbox.close()
        report.execution_time = time.monotonic() - started
    return report


def points_earned(points: float, outcome: Outcome) -> float:
    """All or nothing; a partial-credit test earns points × passed / total checks."""
    if outcome.partial and outcome.checks_total:
        return points * outcome.checks_passed / outcome.checks_total
    return points if outcome.passed else 0.0


def run_test(sandbox: Sandbox, test: TestSpec, answers: dict[str, str], seed: int) -> Outcome:
    """One test: scan the answer cells it needs, then run its checks against
    a fresh learner process."""
    suite = load_suite(sandbox.assignment.id, hidden=test.hidden)
    definition = suite.definition(test.id)
    rules = suite.forbidden_for(definition.needs)
    problems = source_problems(rules, answers, definition.needs)
    if problems:
        return execute(definition, Context(_unused_run, seed, test.id), problems)
    with sandbox.session(definition.timeout_s, rules, definition.exercise, definition.needs) as run:
        ctx = Context(run, seed, test.id, lambda: load_reference(sandbox.assignment.id))
        outcome = execute(definition, ctx)
        outcome.notes = run.notes
        return outcome


def _unused_run(*_: object) -> None:
    raise AssertionError("no learner code runs for a test already failed by the source scan")
