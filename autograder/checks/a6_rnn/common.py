"""a6_rnn · helpers every module of the assignment uses: running a scenario
so that a crash inside the learner's code names the inputs (shapes, dtypes)
and comes with a hint, describing tensors for messages, and the fixed
generators of the public checks."""
from __future__ import annotations

from typing import Any, Callable

import torch

from autograder.checking import Context, LearnerError, OutcomeKind
from autograder.compare import shape_of


def run_case(ctx: Context, what: str, hint: str, scenario: Callable[..., Any], *args: Any) -> Any:
    """`ctx.run(scenario, *args)`; when the learner's code raises, the message
    also names the call and its inputs (`what`) and carries `hint` (unless the
    engine already found a more precise one)."""
    try:
        return ctx.run(scenario, *args)
    except LearnerError as error:
        if error.kind != OutcomeKind.ERROR:
            raise
        raise LearnerError(error.kind, f"{error.message}\n  the call: {what}", error.hint or hint) from None


def shapes(**tensors: torch.Tensor) -> str:
    """"x (3, 5) float32, h (3, 4) float32, ..." for a message."""
    return ", ".join(f"{name} of {shape_of(tensor)}" for name, tensor in tensors.items())


def fixed(salt: str) -> torch.Generator:
    """A generator that does not depend on the grading seed: public checks use the same inputs every time."""
    return torch.Generator().manual_seed(sum(map(ord, salt)))
