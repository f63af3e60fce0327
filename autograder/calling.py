"""Calling a scenario beside the learner's code, and judging what came back.

One code path for both runners, so a self-check in the notebook and the
grader give the same feedback, warnings included:

* `call_scenario` runs where the learner's code lives (the isolated learner
  process when grading, the learner's own kernel for a self-check): it traces
  forbidden calls, records warnings and turns any exception into data;
* `judge_reply` runs where verdicts are made: it turns a `Reply` into the
  scenario's value, or into the `LearnerError` the learner reads.
"""
from __future__ import annotations

import contextlib
import io
import traceback
import warnings
from typing import Any, Callable

from autograder import wire
from autograder.checking import LearnerError, OutcomeKind
from autograder.guard import CallTracer, Forbidden, explain
from autograder.learner_errors import from_error_info
from autograder.messages import ErrorInfo, Reply
from autograder.scenarios import Learner, LearnerMissing

MAX_WARNINGS = 5


def describe_error(error: BaseException, learner_frame: Callable[[str], str | None]) -> ErrorInfo:
    """An exception as data. `learner_frame(filename)` names a frame of the
    learner's own code (e.g. "<answer cell softmax>") or returns None for
    frames of the grader, torch or Python, which the learner never sees."""
    frames: list[tuple[str, int, str]] = []
    if isinstance(error, SyntaxError) and error.filename and learner_frame(error.filename):
        frames.append((learner_frame(error.filename) or "", error.lineno or 0, (error.text or "").strip()))
    else:
        for frame in traceback.extract_tb(error.__traceback__):
            name = learner_frame(frame.filename)
            if name:
                frames.append((name, frame.lineno or 0, (frame.line or "").strip()))
    message = str(error)
    return ErrorInfo(
        type=type(error).__name__,
        message=message[:2000],
        learner_frames=tuple(frames[-5:]),
        not_implemented=isinstance(error, NotImplementedError),
        missing=str(error.args[0]) if isinstance(error, LearnerMissing) else None,
        memory=isinstance(error, MemoryError) or "can't allocate memory" in message or "DefaultCPUAllocator" in message,
        exit=isinstance(error, SystemExit),
    )


def call_scenario(scenario: Callable[..., Any], learner: Learner, args: list[Any],
                  rules: list[tuple[str, Forbidden]], learner_frame: Callable[[str], str | None],
                  interruptible: bool = False) -> Reply:
    """Run `scenario(learner, *args)` with forbidden calls traced, warnings
    recorded and stderr kept quiet (nbgrader scores a cell that writes to
    stderr 0). With `interruptible`, Ctrl-C in the notebook still interrupts."""
    tracer = CallTracer(rules)
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("always")
        try:
            with tracer:
                value = scenario(learner, *args)
            reply = Reply(ok=True, value=wire.plain(value))
        except KeyboardInterrupt:
            if interruptible:
                raise
            reply = Reply(ok=False, error=ErrorInfo("KeyboardInterrupt", "interrupted"))
        except BaseException as error:  # noqa: BLE001 - SystemExit too: the learner's failure is data
            reply = Reply(ok=False, error=describe_error(error, learner_frame))
    notes = tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}"[:300] for w in caught))[:MAX_WARNINGS]
    return Reply(reply.ok, reply.value, reply.error, tuple(tracer.used), notes)


def judge_reply(reply: Reply, rules: list[tuple[str, Forbidden]], subject: str, notes: list[str],
                cell_errors: dict[str, ErrorInfo] | None = None, memory_bytes: int | None = None) -> Any:
    """The scenario's value, or the LearnerError to report: a forbidden call
    first (whatever else happened), then the learner's exception. Warnings
    are added to `notes` once each."""
    for warning in reply.warnings:
        note = f"note: {warning}"
        if note not in notes:
            notes.append(note)
    for exercise, rule in rules:
        mine = [use.split(": ", 1)[1] for use in reply.forbidden_used if use.startswith(exercise + ": ")]
        if mine:
            raise LearnerError(OutcomeKind.FORBIDDEN, explain(exercise, rule, mine))
    if not reply.ok:
        raise from_error_info(reply.error or ErrorInfo("Error", "no description"), subject, cell_errors, memory_bytes)
    return reply.value
