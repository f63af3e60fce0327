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
import linecache
import warnings
from typing import Any, Callable

import torch

from autograder import wire
from autograder.checking import LearnerError, OutcomeKind
from autograder.guard import CallTracer, Forbidden, explain
from autograder.learner_errors import from_error_info
from autograder.messages import ErrorInfo, Reply
from autograder.scenarios import Learner, LearnerMissing

MAX_WARNINGS = 5


# Words of an exception message about shapes and memory layout: for these,
# the shapes of the tensors in the learner's own frame say what went wrong.
SHAPE_WORDS = ("shape", "size", "dimension", "stride", "mat1", "mat2", "view", "contiguous", "broadcast", "index")
TENSORS_NOTE = "\n  where "  # learner_errors puts what follows after the learner's line


def _tensors_in(frame: Any) -> str:
    """The tensors among a frame's local variables, with shape and dtype
    (strides when not contiguous): "X: shape (2, 1, 8, 8) float32"."""
    described = []
    for name, value in list(frame.f_locals.items()):
        if name == "self" or not isinstance(value, torch.Tensor):
            continue
        try:
            text = f"{name}: shape {tuple(value.shape)} {str(value.dtype).replace('torch.', '')}"
            if value.dim() >= 2 and not value.is_contiguous():
                text += f", not contiguous (strides {value.stride()})"
        except Exception:  # noqa: BLE001 - a strange tensor subclass: leave it out
            continue
        described.append(text)
    return "; ".join(described[:4])


def describe_error(error: BaseException, learner_frame: Callable[[str], str | None]) -> ErrorInfo:
    """An exception as data. `learner_frame(filename)` names a frame of the
    learner's own code (e.g. "<answer cell softmax>") or returns None for
    frames of the grader, torch or Python, which the learner never sees.
    For an error about shapes, the message ends with the tensors of the
    learner's innermost frame (`TENSORS_NOTE`)."""
    frames: list[tuple[str, int, str]] = []
    innermost = None
    if isinstance(error, SyntaxError) and error.filename and learner_frame(error.filename):
        frames.append((learner_frame(error.filename) or "", error.lineno or 0, (error.text or "").strip()))
    else:
        tb = error.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            name = learner_frame(code.co_filename)
            if name:
                line = linecache.getline(code.co_filename, tb.tb_lineno).strip()
                frames.append((name, tb.tb_lineno or 0, line))
                innermost = tb.tb_frame
            tb = tb.tb_next
    message = str(error)
    if innermost is not None and any(word in message.lower() for word in SHAPE_WORDS):
        tensors = _tensors_in(innermost)
        if tensors:
            message = message[:1600] + TENSORS_NOTE + tensors
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
