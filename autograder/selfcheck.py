"""Checks inside the learner's own notebook (and nbgrader's autograde), and
the learner's self-check of a whole notebook from a terminal.

    from autograder.selfcheck import Checker
    check = Checker("a3_softmax")
    check("softmax", softmax)              # a test cell: ✓/✗ per check

The same checks and scenarios as the grader, run in this process: quick
feedback, no isolation (graded results come from `python -m autograder
grade`, which runs the learner's code in a separate, confined process).

`NotebookCheck` is what `pytest NOTEBOOK.ipynb` runs (see
`autograder.pytest_plugin`): the notebook's setup and answer cells once, in
this process, then every public test against them, with the same time
budgets as grading. It is a self-check of the learner's own code on the
learner's own machine, public checks only.

Wherever the learner's code runs, a frame of it is named the same way,
"the answer cell for <exercise>", with the line counted from the top of
that cell, in the notebook, in the terminal and in the grader's report.
"""
from __future__ import annotations

import builtins
import contextlib
import io
import json
import linecache
import os
import signal
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from autograder import i18n, policy, wire
from autograder.calling import call_scenario, judge_reply
from autograder.checking import Context, LearnerError, Outcome, OutcomeKind, TestDefinition, execute
from autograder.guard import Forbidden, source_problems, watch
from autograder.learner_errors import cell_failed
from autograder.messages import ErrorInfo
from autograder.notebook import python_source
from autograder.scenarios import Learner
from autograder.suites import load_suite

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
ANSWER_CELL = "<answer cell {}>"  # the name the grader's learner process gives each answer cell
CELL_TIMEOUT_S = 20.0  # as autograder.sandbox.Limits


class CheckError(AssertionError):
    """Raised by a test cell whose checks failed (nbgrader scores it 0).

    In Jupyter it shows as one line, not a traceback: the ✓/✗ lines and the
    failure printed above it are what the learner needs, and a traceback into
    the grader's code is noise."""

    def _render_traceback_(self) -> list[str]:  # IPython calls this instead of printing a traceback
        return [f"\x1b[0;31mCheckError\x1b[0m: {self}"]


def _is_others(filename: str) -> bool:
    """Frames of the grader, torch and Python: never the learner's."""
    return (filename.startswith(_PACKAGE_DIR) or "site-packages" in filename or filename.startswith(sys.prefix)
            or filename.startswith(os.path.dirname(os.__file__)))


def _code_files(obj: Any) -> set[str]:
    """The files a learner's function or class was compiled from (a
    Jupyter cell has a file of its own)."""
    functions = [obj]
    if isinstance(obj, type):
        functions = []
        for value in vars(obj).values():
            for candidate in (value, getattr(value, "__func__", None), getattr(value, "fget", None)):
                if callable(candidate) and hasattr(candidate, "__code__"):
                    functions.append(candidate)
    files = set()
    for function in functions:
        code = getattr(function, "__code__", None)
        filename = getattr(code, "co_filename", None)
        if isinstance(filename, str) and not _is_others(filename):
            files.add(filename)
    return files


def cell_names(exercises: Any, namespace: dict[str, Any], provided: dict[str, Any]) -> dict[str, str]:
    """filename -> "<answer cell EXERCISE>" for the cells that define the
    assignment's exercises in the learner's kernel, so a frame of the
    learner's code is named as the grader names it."""
    names: dict[str, str] = {}
    for exercise in exercises:
        for obj in (namespace.get(exercise), provided.get(exercise)):
            if obj is not None:
                for filename in _code_files(obj):
                    names[filename] = ANSWER_CELL.format(exercise)
    return names


def kernel_namespace() -> dict[str, Any]:
    """The learner's variables in this kernel (IPython's user namespace)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None  # type: ignore[attr-defined]
    if shell is not None:
        return dict(shell.user_ns)
    main = sys.modules.get("__main__")
    return dict(vars(main)) if main is not None else {}


def learner_frame_namer(cells: dict[str, str]) -> Callable[[str], str | None]:
    """`learner_frame` for `calling.describe_error`: answer cells by their
    grader name, other cells of the notebook as such, everything else None."""

    def name(filename: str) -> str | None:
        if filename.startswith("<answer cell "):
            return filename
        if filename in cells:
            return cells[filename]
        if filename.startswith("<setup cell ") or _is_others(filename):
            return None
        return "another cell of your notebook"

    return name


class _TimeUp(BaseException):
    """The learner's code ran past its budget (raised by SIGALRM)."""


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the code inside after `seconds` (main thread only; elsewhere,
    or with None, no limit)."""
    if seconds is None or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _TimeUp()

    try:
        previous = signal.signal(signal.SIGALRM, expire)
    except ValueError:  # not the main thread
        yield
        return
    started = time.monotonic()
    # Again every half second: code that swallows the first one (a bare `except:`) still stops.
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001), 0.5)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_delay:  # someone else's alarm (pytest-timeout, ...) goes on
            signal.setitimer(signal.ITIMER_REAL, max(outer_delay - (time.monotonic() - started), 0.001), outer_interval)


class LocalRun:
    """`ctx.run` for a run in this process: the scenario runs right here, on
    copies of the check's inputs, through the same call path as the
    grader's learner process (`autograder.calling`), so the feedback is the
    same. With `timeout_s`, each test gets the grader's time budget."""

    def __init__(self, objects: dict[str, Any], rules: list[tuple[str, Forbidden]], subject: str, *,
                 learner_frame: Callable[[str], str | None] | None = None,
                 cell_errors: dict[str, ErrorInfo] | None = None,
                 failed_cells: dict[str, tuple[OutcomeKind, str]] | None = None,
                 needs: tuple[str, ...] = (), timeout_s: float | None = None,
                 timed_out: set[str] | None = None) -> None:
        self.learner = Learner(objects)
        self.rules = rules
        self.subject = subject
        self.notes: list[str] = []
        self.learner_frame = learner_frame or learner_frame_namer({})
        self.cell_errors = cell_errors
        self.failed_cells = failed_cells or {}
        self.needs = needs
        self.timeout_s = timeout_s
        self.deadline = None if timeout_s is None else time.monotonic() + timeout_s
        self.timed_out = timed_out if timed_out is not None else set()

    def __call__(self, scenario: Callable[..., Any], *args: Any) -> Any:
        for exercise in self.needs:
            if exercise in self.failed_cells:
                raise cell_failed(exercise, *self.failed_cells[exercise])
            if exercise in self.timed_out:
                raise LearnerError(OutcomeKind.TIMEOUT, f"not run: {exercise} did not finish in an earlier test (see above)")
        copies = wire.decode(wire.encode(list(args)))
        remaining = None if self.deadline is None else self.deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            raise self._timeout()
        try:
            with time_limit(remaining):
                reply = call_scenario(scenario, self.learner, copies, self.rules, self.learner_frame,
                                      interruptible=True)
        except _TimeUp:  # the alarm rang just as the scenario returned
            raise self._timeout() from None
        if reply.error is not None and reply.error.type == _TimeUp.__name__:
            raise self._timeout()
        return judge_reply(reply, self.rules, self.subject, self.notes, self.cell_errors)

    def _timeout(self) -> LearnerError:
        self.timed_out.add(self.subject)
        return LearnerError(OutcomeKind.TIMEOUT,
                            f"{self.subject} did not finish within {self.timeout_s:.0f} s (an endless loop, or far too slow?)")


class Checker:
    """The `check(...)` function of an assignment's notebook."""

    def __init__(self, assignment_id: str) -> None:
        self.assignment_id = assignment_id
        found = language_of_notebook_beside(assignment_id)
        if found:  # else keep what is set (`pytest NOTEBOOK` sets the notebook's language itself)
            i18n.set_language(found)
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
        exercises = {test.split("/")[0] for test in suite.tests}
        namer = learner_frame_namer(cell_names(sorted(exercises), kernel_namespace(), provided))
        run = LocalRun(provided, rules, definition.exercise, learner_frame=namer)
        reference_loader = None
        if hidden:
            from autograder.reference import load_reference

            reference_loader = lambda: load_reference(self.assignment_id)  # noqa: E731
        outcome = execute(definition, Context(run, seed, test_id, reference_loader), problems)
        outcome.notes = run.notes
        print(outcome.output)
        if not outcome.passed:
            raise CheckError(i18n.translate(f"{definition.exercise}: {definition.title} failed (details above)")) from None


def language_of_notebook_beside(assignment_id: str, folder: Path | None = None) -> str | None:
    """The language of this assignment's notebook in the kernel's working
    folder (Jupyter starts a notebook's kernel in its folder), when the
    notebooks of this assignment there agree on one; else None (English,
    or $DLWORKBOOK_LANG)."""
    from autograder.notebook import notebook_language

    found = set()
    for path in sorted((folder or Path.cwd()).glob("*.ipynb"))[:20]:
        try:
            if path.stat().st_size > 20_000_000:
                continue
            notebook = json.loads(path.read_text(encoding="utf-8"))
            meta = notebook.get("metadata", {}).get("dlworkbook", {})
            if isinstance(meta, dict) and meta.get("assignment") == assignment_id:
                found.add(notebook_language(notebook))
        except (OSError, ValueError, AttributeError):
            continue
    return found.pop() if len(found) == 1 else None


# --------------------------------------------------------------------------
# A whole notebook from a terminal: `pytest NOTEBOOK.ipynb`.


@dataclass
class SelfCheckResult:
    """One public test of a notebook, as the learner reads it."""

    name: str  # "<exercise>: <title>"
    exercise: str
    test_id: str
    passed: bool
    output: str
    kind: OutcomeKind


class NotebookCheck:
    """A learner's notebook run in this process for its public checks: the
    setup and answer cells once (in the order of the notebook, each with the
    grader's cell time budget), then any exercise's public tests against
    them. A cell that breaks the rule for answer cells is not run, as when
    grading."""

    def __init__(self, path: str | Path, cell_timeout_s: float = CELL_TIMEOUT_S) -> None:
        from autograder.course import open_submission

        self.path = Path(path)
        self.assignment, self.answers = open_submission(self.path, from_source=False)
        self.suite = load_suite(self.assignment.id)
        self.cell_timeout_s = cell_timeout_s
        self.namespace: dict[str, Any] | None = None
        self.cell_errors: dict[str, ErrorInfo] = {}
        self.failed_cells: dict[str, tuple[OutcomeKind, str]] = {}
        self.timed_out: set[str] = set()
        self.learner_frame = learner_frame_namer({})

    def run_cells(self) -> dict[str, Any]:
        """The notebook's setup and answer cells, run once; their namespace."""
        if self.namespace is not None:
            return self.namespace
        import torch

        from autograder.seeds import learner_seed

        watch(list(self.suite.forbidden.items()))
        torch.manual_seed(learner_seed(0))
        os.environ.setdefault("MPLBACKEND", "Agg")  # a setup cell's pyplot must not open windows
        namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        for index, step in enumerate(self.assignment.steps):
            if step.kind == "setup":
                filename, source = f"<setup cell {index}>", step.source
            else:
                filename = ANSWER_CELL.format(step.exercise)
                source = self.answers.get(step.exercise or "", "")
                if policy.violations(source):
                    source = ""  # never run (the test reports why, from the source)
            source = python_source(source)
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            # What cells print or warn goes nowhere, as in the grader's log.
            with warnings.catch_warnings(record=True), contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()):
                try:
                    with time_limit(self.cell_timeout_s):
                        code = compile(source, filename, "exec")
                        exec(code, namespace)  # noqa: S102 - the learner's own cell, on the learner's machine
                except _TimeUp:
                    if step.exercise:
                        self.failed_cells[step.exercise] = (OutcomeKind.TIMEOUT,
                                                            f"did not finish within {self.cell_timeout_s:.0f} s")
                except KeyboardInterrupt:
                    raise
                except BaseException as error:  # noqa: BLE001 - SystemExit too: the cell ends, not us
                    if step.exercise:
                        from autograder.calling import describe_error

                        self.cell_errors[step.exercise] = describe_error(error, self.learner_frame)
        self.namespace = namespace
        return namespace

    def run_test(self, definition: TestDefinition) -> Outcome:
        rules = self.suite.forbidden_for(definition.needs)
        problems = source_problems(rules, self.answers, definition.needs)
        namespace = {} if problems else self.run_cells()
        run = LocalRun(namespace, rules, definition.exercise, learner_frame=self.learner_frame,
                       cell_errors=self.cell_errors, failed_cells=self.failed_cells, needs=definition.needs,
                       timeout_s=definition.timeout_s, timed_out=self.timed_out)
        outcome = execute(definition, Context(run, 0, definition.id), problems)
        outcome.notes = run.notes
        return outcome

    def check(self, exercise: str) -> list[SelfCheckResult]:
        """Every public test of `exercise` (thresholds included)."""
        results = []
        for test in self.assignment.tests_for(exercise):
            if test.hidden:
                continue
            definition = self.suite.definition(test.id)
            outcome = self.run_test(definition)
            results.append(SelfCheckResult(f"{exercise}: {i18n._(definition.title)}", exercise, test.id, outcome.passed,
                                           outcome.output, outcome.kind))
        return results


def _is_public(test_id: str) -> bool:
    return not test_id.endswith("/hidden")


def _source_of(obj: Any) -> str:
    import inspect

    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""
