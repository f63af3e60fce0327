"""Turning what went wrong in the learner's code into words for the learner.

Both runners (in-kernel and isolated) describe an exception as data
(`calling.describe_error`); this module phrases it, so a self-check and the
grader say exactly the same thing.
"""
from __future__ import annotations

from autograder.checking import LearnerError, OutcomeKind
from autograder.messages import ErrorInfo

GIB = 1024**3
TENSORS_NOTE = "\n  where "  # as autograder.calling marks the tensors of the learner's frame

# Crashes every course sees, by exception type and a phrase of its message:
# the hint names the bug (the learner's line and tensors come with it).
CRASH_HINTS: tuple[tuple[str, str, str], ...] = (
    ("AttributeError", "'NoneType' object has no attribute 'zero_'",
     "this tensor's .grad is None. `param = param - lr * param.grad` makes a NEW tensor (which has no .grad) and "
     "leaves the parameter itself unchanged: update the parameter in place instead, "
     "`with torch.no_grad(): param -= lr * param.grad / batch_size`, then param.grad.zero_()"),
    ("RuntimeError", "mat1 and mat2 shapes cannot be multiplied",
     "a Linear layer got rows of the wrong width: flatten each example first, (N, C, H, W) -> (N, C*H*W) "
     "(nn.Flatten() as the first layer, or X.reshape(len(X), -1)); the tensors above show the input's shape"),
    ("RuntimeError", "view size is not compatible with input tensor's size and stride",
     "view() needs a tensor laid out contiguously in memory; a transposed tensor is not, and neither is its clone "
     "(x.clone() keeps the strides): use reshape() or flatten(), or make a contiguous copy first "
     "(x.contiguous(), or x.clone(memory_format=torch.contiguous_format))"),
    ("RuntimeError", "the unspecified dimension size -1 can be any value",
     "reshape(N, -1) cannot work out the -1 when the tensor is empty (N == 0): give the size itself, "
     "X.reshape(X.shape[0], math.prod(X.shape[1:])), or use X.flatten(1)"),
    ("RuntimeError", "a leaf Variable that requires grad is being used in an in-place operation",
     "a tensor that requires grad was changed in place (X -= ..., X.exp_()): inside a function, compute on new "
     "tensors instead; to update parameters, do it inside `with torch.no_grad():`"),
    ("RuntimeError", "in-place operation",
     "your code changes a tensor in place that autograd needs (X -= ..., X.exp_()): compute on new tensors instead"),
)


def crash_hint(error: ErrorInfo) -> str | None:
    """The hint for a crash every course sees, or None."""
    for kind, phrase, hint in CRASH_HINTS:
        if error.type == kind and phrase in error.message:
            return hint
    return None


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
            message, _, tensors = cell.message.partition(TENSORS_NOTE)
            return LearnerError(
                OutcomeKind.MISSING,
                f"{name} is not defined because its answer cell failed: {cell.type}: {message}"
                + _where(cell.learner_frames) + (TENSORS_NOTE + tensors if tensors else ""),
                crash_hint(cell),
            )
        return LearnerError(
            OutcomeKind.MISSING,
            f"{name} is not defined: its answer cell must define `{name}` (was it renamed or deleted?)",
        )
    frames = error.learner_frames
    if error.not_implemented and frames:
        # Name the exercise whose cell raised it: lstm may fail because lstm_cell is still a stub.
        cell = frames[-1][0]
        culprit = cell[len("<answer cell "):-1] if cell.startswith("<answer cell ") else subject
        uses = f" ({subject} calls it)" if culprit != subject else ""
        return LearnerError(
            OutcomeKind.NOT_IMPLEMENTED,
            f"{culprit} is not implemented yet{uses}: replace `raise NotImplementedError()` in its answer cell "
            "with your code.",
        )
    if error.exit:
        return LearnerError(OutcomeKind.CRASHED,
                            f"{subject} called exit() (SystemExit): an answer must return a value, not end the program.")
    if error.memory:
        limit = f" (limit {memory_bytes / GIB:.1f} GiB)" if memory_bytes else ""
        return LearnerError(OutcomeKind.MEMORY,
                            f"{subject} ran out of memory{limit}: {error.type}: {error.message[:200]}" + _where(frames))
    if frames:
        message, _, tensors = error.message.partition(TENSORS_NOTE)
        return LearnerError(OutcomeKind.ERROR, f"your code raised {error.type} while checking {subject}: {message}"
                            + _where(frames) + (TENSORS_NOTE + tensors if tensors else ""), crash_hint(error))
    return LearnerError(
        OutcomeKind.ERROR,
        f"checking {subject} failed with {error.type}: {error.message} "
        "(this usually means it returned something of the wrong type or shape)",
    )


def cell_failed(exercise: str, kind: OutcomeKind, reason: str) -> LearnerError:
    """The answer cell itself hung (`TIMEOUT`) or ended the learner's process
    (`CRASHED`)."""
    return LearnerError(kind, f"the answer cell for {exercise} {reason}; it was skipped, so {exercise} is not defined.")
