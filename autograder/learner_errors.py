"""Turning what went wrong in the learner's code into words for the learner.

Both runners (in-kernel and isolated) describe an exception as data
(`calling.describe_error`); this module phrases it, so a self-check and the
grader say exactly the same thing.
"""
from __future__ import annotations

from autograder.checking import LearnerError, OutcomeKind
from autograder.messages import ErrorInfo

GIB = 1024**3


def _where(frames: tuple[tuple[str, int, str], ...]) -> str:
    if not frames:
        return ""
    cell, lineno, line = frames[-1]
    if cell.startswith("<answer cell "):
        cell = f"the answer cell for {cell[len('<answer cell '):-1]}"
    return f"\n  at line {lineno} of {cell}: {line}" if line else f"\n  at line {lineno} of {cell}"


def from_error_info(error: ErrorInfo, subject: str, cell_errors: dict[str, ErrorInfo] | None = None,
                    memory_bytes: int | None = None) -> LearnerError:
    """A LearnerError for an exception raised while checking `subject`."""
    cell_errors = cell_errors or {}
    if error.missing:
        name = error.missing
        cell = cell_errors.get(name)
        if cell:
            return LearnerError(
                OutcomeKind.MISSING,
                f"{name} is not defined because its answer cell failed: {cell.type}: {cell.message}"
                + _where(cell.learner_frames),
            )
        return LearnerError(
            OutcomeKind.MISSING,
            f"{name} is not defined: its answer cell must define `{name}` (was it renamed or deleted?)",
        )
    frames = error.learner_frames
    if error.not_implemented and frames:
        return LearnerError(
            OutcomeKind.NOT_IMPLEMENTED,
            f"{subject} is not implemented yet: replace `raise NotImplementedError()` in its answer cell with your code.",
        )
    if error.exit:
        return LearnerError(OutcomeKind.CRASHED,
                            f"{subject} called exit() (SystemExit): an answer must return a value, not end the program.")
    if error.memory:
        limit = f" (limit {memory_bytes / GIB:.1f} GiB)" if memory_bytes else ""
        return LearnerError(OutcomeKind.MEMORY,
                            f"{subject} ran out of memory{limit}: {error.type}: {error.message[:200]}" + _where(frames))
    if frames:
        hint = None
        if "in-place operation" in error.message:
            hint = "your code changes a tensor in place that autograd needs (X -= ..., X.exp_()): compute on new tensors instead"
        return LearnerError(OutcomeKind.ERROR, f"your code raised {error.type} while checking {subject}: {error.message}"
                            + _where(frames), hint)
    return LearnerError(
        OutcomeKind.ERROR,
        f"checking {subject} failed with {error.type}: {error.message} "
        "(this usually means it returned something of the wrong type or shape)",
    )


def cell_failed(exercise: str, kind: OutcomeKind, reason: str) -> LearnerError:
    """The answer cell itself hung (`TIMEOUT`) or ended the learner's process
    (`CRASHED`)."""
    return LearnerError(kind, f"the answer cell for {exercise} {reason}; it was skipped, so {exercise} is not defined.")
