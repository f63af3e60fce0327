"""Checks: small functions that judge a learner's code, and the suite that
groups them into graded tests.

A check never touches the learner's code directly. It calls
`ctx.run(scenario, *args)`: the scenario (trusted code from a checks module)
runs beside the learner's code, wherever that lives (in the notebook's own
kernel for a self-check, in an isolated child process for grading), and only
data comes back. The check compares that data with the oracle in its own
process and raises `CheckFailed` with a message written for the learner.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Mapping, Protocol

import torch

from autograder.guard import Forbidden
from autograder.i18n import _, translate


class CheckFailed(Exception):
    """A check's verdict: what was wrong, on which input, and a hint."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return render(self.message, self.hint)


def render(message: str, hint: str | None) -> str:
    """A failure as the learner reads it, in the learner's language."""
    text = translate(message) or ""
    return text + (f"\n{_('Hint:')} {translate(hint)}" if hint else "")


def localise_line(line: str) -> str:
    """A ✓/✗ line (its title translated), or any other line of an outcome."""
    whole = translate(line) or line
    if whole == line and line[:2] in ("✓ ", "✗ "):
        return line[:2] + (translate(line[2:]) or "")
    return whole


class OutcomeKind(str, Enum):
    """How a test went, as a type: reports and tests branch on this, never
    on the words of a message."""

    PASSED = "passed"
    FAILED = "failed"  # a check's verdict
    NOT_IMPLEMENTED = "not_implemented"
    FORBIDDEN = "forbidden"
    ERROR = "error"  # the learner's code raised
    TIMEOUT = "timeout"
    CRASHED = "crashed"  # the learner's process ended or sent garbage
    MEMORY = "memory"
    MISSING = "missing"  # a name the test needs is not defined
    INTERNAL = "internal"  # the grader's own fault: never the learner's

    def __str__(self) -> str:
        return self.value


class LearnerError(Exception):
    """The learner's code gave no value: it raised, was not implemented,
    ran out of time or memory, ended its process or used a forbidden call."""

    def __init__(self, kind: OutcomeKind | str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.kind = OutcomeKind(kind)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return render(self.message, self.hint)


class Run(Protocol):
    """Runs a scenario beside the learner's code and returns its data."""

    def __call__(self, scenario: Callable[..., Any], *args: Any) -> Any: ...


@dataclass
class Context:
    """What a check gets: the way to run the learner's code, a seed for its
    random inputs, and (hidden checks only) the reference solution."""

    run: Run
    seed: int
    test_id: str
    reference_loader: Callable[[], Mapping[str, Any]] | None = None

    def generator(self, salt: str = "") -> torch.Generator:
        """A torch.Generator seeded from the grading seed, the test and `salt`,
        so every check draws its own reproducible inputs."""
        digest = hashlib.sha256(f"{self.seed}/{self.test_id}/{salt}".encode()).digest()
        return torch.Generator().manual_seed(int.from_bytes(digest[:6], "little"))

    @property
    def reference(self) -> Mapping[str, Any]:
        if self.reference_loader is None:
            raise RuntimeError("this check needs the reference solution, which only the grader has")
        return self.reference_loader()


CheckFn = Callable[[Context], None]


@dataclass(frozen=True)
class Check:
    title: str
    fn: CheckFn


@dataclass
class TestDefinition:
    """The checks behind one graded test, and what learner code they need."""

    id: str
    checks: list[Check] = field(default_factory=list)
    needs: tuple[str, ...] = ()
    timeout_s: float = 20.0  # the reference needs well under a second
    title: str = ""
    partial: bool = False  # each check earns its share of the points (default: all or nothing)

    @property
    def exercise(self) -> str:
        return self.id.split("/")[0]


class Suite:
    """All checks of one assignment, registered by decorators in its public
    checks module and, for grading, its hidden checks module."""

    def __init__(self, assignment: str, partial_credit: bool = False) -> None:
        self.assignment = assignment
        self.partial_credit = partial_credit  # the default of every test: each check its share of the points
        self.tests: dict[str, TestDefinition] = {}
        self.forbidden: dict[str, Forbidden] = {}

    def test(self, test_id: str, *, title: str = "", needs: tuple[str, ...] = (), timeout_s: float | None = None,
             partial: bool | None = None) -> None:
        """Declare an extra test (a threshold), or change a test's title, the
        learner names it needs, its time budget or whether each of its checks
        earns its share of the points (`partial`); what is not given is kept."""
        definition = self._definition(test_id)
        definition.title = title or definition.title
        definition.needs = needs or definition.needs
        if timeout_s is not None:
            definition.timeout_s = timeout_s
        if partial is not None:
            definition.partial = partial

    def check(self, test_id: str) -> Callable[[CheckFn], CheckFn]:
        """Register a check; its docstring's first line is its title, a
        sentence the learner reads next to the tick or cross."""

        def register(fn: CheckFn) -> CheckFn:
            doc = (fn.__doc__ or fn.__name__.replace("_", " ")).strip().splitlines()[0]
            self._definition(test_id).checks.append(Check(doc.rstrip("."), fn))
            return fn

        return register

    def forbid(self, exercise: str, forbidden: Forbidden) -> None:
        self.forbidden[exercise] = forbidden

    def definition(self, test_id: str) -> TestDefinition:
        if test_id not in self.tests:
            raise KeyError(f"{self.assignment} has no checks for test {test_id!r}")
        return self.tests[test_id]

    def forbidden_for(self, names: tuple[str, ...]) -> list[tuple[str, Forbidden]]:
        return [(name, self.forbidden[name]) for name in names if name in self.forbidden]

    def _definition(self, test_id: str) -> TestDefinition:
        if test_id not in self.tests:
            exercise = test_id.split("/")[0]
            kind = test_id.split("/")[1] if "/" in test_id else "public"
            default_title = {"public": "public checks", "hidden": "hidden checks"}.get(kind, kind.replace("_", " "))
            self.tests[test_id] = TestDefinition(test_id, needs=(exercise,), title=default_title,
                                                 partial=self.partial_credit)
        return self.tests[test_id]


@dataclass
class Outcome:
    """How one test went: a line per check, notes (warnings the learner's
    code raised), and the failure if any."""

    test_id: str
    passed: bool
    lines: list[str]
    failure: str | None = None
    kind: OutcomeKind = OutcomeKind.PASSED
    notes: list[str] = field(default_factory=list)
    partial: bool = False  # scored by the share of checks passed (see TestDefinition.partial)
    checks_passed: int = 0
    checks_total: int = 0

    @property
    def output(self) -> str:
        """What the learner reads, the same in the notebook and in a report."""
        text = "\n".join([*self.lines, *(translate(note) or note for note in self.notes)])
        return text + (f"\n\n{self.failure}" if self.failure else "")


def execute(definition: TestDefinition, ctx: Context, problems: list[str] | None = None) -> Outcome:
    """`run_checks`, its lines in the learner's language (its failure already is: see `render`)."""
    outcome = run_checks(definition, ctx, [translate(p) or p for p in problems or []])
    outcome.lines = [localise_line(line) for line in outcome.lines]
    return outcome


def run_checks(definition: TestDefinition, ctx: Context, problems: list[str] | None = None) -> Outcome:
    """Run a test's checks in order and stop at the first failure: one
    precise message is kinder than a cascade of consequences of one bug.
    A partial-credit test runs every check instead (see _execute_partial)."""
    lines: list[str] = []
    if problems:
        lines.append(f"✗ {definition.exercise} uses only allowed operations")
        return Outcome(definition.id, False, lines, "\n".join(problems), OutcomeKind.FORBIDDEN,
                       partial=definition.partial, checks_total=len(definition.checks))
    if definition.partial and definition.checks:
        return _execute_partial(definition, ctx)
    for position, check in enumerate(definition.checks):
        try:
            check.fn(ctx)
        except CheckFailed as failure:
            lines.append(f"✗ {check.title}")
            lines.extend(_not_run(definition.checks[position + 1 :]))
            return Outcome(definition.id, False, lines, str(failure), OutcomeKind.FAILED)
        except LearnerError as error:
            lines.append(f"✗ {check.title}")
            lines.extend(_not_run(definition.checks[position + 1 :]))
            return Outcome(definition.id, False, lines, str(error), error.kind)
        except Exception as error:  # noqa: BLE001 - one test's trouble never stops the run
            # Most often the learner's value had a type or shape the check did
            # not expect (an int where a dict was due); the test scores 0.
            lines.append(f"✗ {check.title}")
            lines.extend(_not_run(definition.checks[position + 1 :]))
            message = translate(f"checking {definition.exercise} failed on what your code returned "
                                f"({type(error).__name__}: {str(error)[:300]}); check the type and shape of your results")
            return Outcome(definition.id, False, lines, message, OutcomeKind.ERROR)
        lines.append(f"✓ {check.title}")
    if not definition.checks:
        lines.append(f"✗ {definition.id} has no checks")
        return Outcome(definition.id, False, lines, "internal error: this test has no checks", OutcomeKind.INTERNAL)
    return Outcome(definition.id, True, lines)


def _not_run(rest: list[Check]) -> list[str]:
    return [f"· {check.title} (not run: fix the failure above first)" for check in rest]


# The learner's process is gone or out of time: later checks cannot run.
_PROCESS_ENDED = (OutcomeKind.TIMEOUT, OutcomeKind.CRASHED, OutcomeKind.MEMORY)


def _execute_partial(definition: TestDefinition, ctx: Context) -> Outcome:
    """Every check runs and counts on its own (the test earns the share of
    its points that its checks passed); each failure is reported. Checks
    stop only when the learner's process has ended or run out of time."""
    lines: list[str] = []
    failures: list[str] = []
    kind = OutcomeKind.PASSED
    passed = 0
    for position, check in enumerate(definition.checks):
        try:
            check.fn(ctx)
        except (CheckFailed, LearnerError) as failure:
            failed_kind = failure.kind if isinstance(failure, LearnerError) else OutcomeKind.FAILED
            message = str(failure)
        except Exception as error:  # noqa: BLE001 - as in execute
            failed_kind = OutcomeKind.ERROR
            message = translate(f"checking {definition.exercise} failed on what your code returned "
                                f"({type(error).__name__}: {str(error)[:300]}); check the type and shape of your results")
        else:
            lines.append(f"✓ {check.title}")
            passed += 1
            continue
        lines.append(f"✗ {check.title}")
        failures.append(f"{_(check.title)}: {message}")
        kind = failed_kind if kind is OutcomeKind.PASSED else kind
        if failed_kind in _PROCESS_ENDED:
            lines.extend(f"· {rest.title} (not run: the process above ended)" for rest in definition.checks[position + 1:])
            break
    total = len(definition.checks)
    lines.append(f"partial credit: {passed} of {total} checks passed")
    failure_text = "\n\n".join(failures) if failures else None
    return Outcome(definition.id, passed == total, lines, failure_text, kind, partial=True,
                   checks_passed=passed, checks_total=total)
