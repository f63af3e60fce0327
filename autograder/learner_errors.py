"""Turning what went wrong in the learner's code into words for the learner.

Both runners (in-kernel and isolated) describe an exception as data
(`worker.describe_error`); this module phrases it, so a self-check and the
grader say exactly the same thing.
"""
from __future__ import annotations

from typing import Any

from autograder.checking import LearnerError

GIB = 1024**3


def _where(frames: list[Any]) -> str:
    if not frames:
        return ""
    filename, lineno, line = frames[-1]
    cell = str(filename)
    if cell.startswith("<answer cell "):
        cell = f"the answer cell for {cell[len('<answer cell '):-1]}"
    return f"\n  at line {lineno} of {cell}: {line}" if line else f"\n  at line {lineno} of {cell}"


def from_description(error: dict[str, Any], subject: str, cell_errors: dict[str, dict[str, Any]] | None = None,
                     memory_bytes: int | None = None) -> LearnerError:
    """A LearnerError for an exception raised while checking `subject`."""
    cell_errors = cell_errors or {}
    if error.get("missing"):
        name = error["missing"]
        cell = cell_errors.get(name)
        if cell:
            return LearnerError(
                "missing",
                f"{name} is not defined because its answer cell failed: {cell['type']}: {cell['message']}"
                + _where(cell.get("learner_frames", [])),
            )
        return LearnerError(
            "missing",
            f"{name} is not defined: its answer cell must define `{name}` (was it renamed or deleted?)",
        )
    frames = error.get("learner_frames") or []
    if error.get("not_implemented") and frames:
        return LearnerError(
            "not_implemented",
            f"{subject} is not implemented yet: replace `raise NotImplementedError()` in its answer cell with your code.",
        )
    if error.get("exit"):
        return LearnerError("crashed", f"{subject} called exit() (SystemExit): an answer must return a value, not end the program.")
    if error.get("memory"):
        limit = f" (limit {memory_bytes / GIB:.1f} GiB)" if memory_bytes else ""
        return LearnerError("memory", f"{subject} ran out of memory{limit}: {error['type']}: {error['message'][:200]}" + _where(frames))
    if frames:
        hint = None
        if "in-place operation" in error.get("message", ""):
            hint = "your code changes a tensor in place that autograd needs (X -= ..., X.exp_()): compute on new tensors instead"
        return LearnerError("error", f"your code raised {error['type']} while checking {subject}: {error['message']}"
                            + _where(frames), hint)
    return LearnerError(
        "error",
        f"checking {subject} failed with {error['type']}: {error['message']} "
        "(this usually means it returned something of the wrong type or shape)",
    )


def cell_failed(exercise: str, reason: str) -> LearnerError:
    """The answer cell itself hung or ended the learner's process."""
    kind = "timeout" if "did not finish" in reason else "crashed"
    return LearnerError(kind, f"the answer cell for {exercise} {reason}; it was skipped, so {exercise} is not defined.")
