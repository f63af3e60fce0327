"""Scenarios: trusted code that runs *beside* the learner's code and returns
plain data (tensors, numbers, strings, lists, dicts) for a check to judge.

Every scenario takes a `Learner` first; the other arguments are data. The
same scenario runs in the notebook's own kernel (self-check) and in the
grader's isolated child process, so the two can never disagree.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch


class LearnerMissing(Exception):
    """The learner's notebook does not define a name a check needs."""


class Learner:
    """The learner's definitions, by name."""

    def __init__(self, objects: Mapping[str, Any]) -> None:
        self._objects = objects

    def __getitem__(self, name: str) -> Any:
        if name not in self._objects:
            raise LearnerMissing(name)
        return self._objects[name]

    def __contains__(self, name: str) -> bool:
        return name in self._objects


def make_noncontiguous(X: torch.Tensor) -> torch.Tensor:
    """The same values as X, laid out transposed in memory."""
    if X.dim() < 2:
        return X.repeat_interleave(2)[::2] if X.numel() else X
    return X.transpose(-1, -2).contiguous().transpose(-1, -2)


def call(learner: Learner, name: str, *args: Any, **kwargs: Any) -> Any:
    """The learner's function applied to the arguments, as it returned."""
    return learner[name](*args, **kwargs)


def call_with_grad(
    learner: Learner,
    name: str,
    args: list[Any],
    grad_output: torch.Tensor | None = None,
    noncontiguous: bool = False,
    kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Call the learner's function with gradients on floating inputs, then
    backpropagate `grad_output` (or the output itself for a scalar).

    Returns `out`, the gradient of each floating input (None where none
    flowed), and whether the inputs were left untouched.
    """
    inputs = []
    for arg in args:
        if isinstance(arg, torch.Tensor) and arg.is_floating_point():
            leaf = arg.clone()
            if noncontiguous:
                leaf = make_noncontiguous(leaf)
            leaf.requires_grad_(True)
            inputs.append(leaf)
        else:
            inputs.append(arg)
    snapshot = [x.detach().clone() if isinstance(x, torch.Tensor) else None for x in inputs]
    out = learner[name](*inputs, **(kwargs or {}))
    result: dict[str, Any] = {"out": out, "grads": None, "inputs_unchanged": True, "backward_error": None}
    for before, after in zip(snapshot, inputs):
        if before is not None and not torch.equal(before, after.detach()):
            result["inputs_unchanged"] = False
    if isinstance(out, torch.Tensor) and out.requires_grad:
        seed = grad_output if grad_output is not None else torch.ones_like(out)
        try:
            if seed.shape != out.shape:
                raise RuntimeError(f"output has shape {tuple(out.shape)}, expected {tuple(seed.shape)}")
            out.backward(seed.to(out.dtype))
        except RuntimeError as error:
            result["backward_error"] = str(error).splitlines()[0]
        result["grads"] = [
            (x.grad if x.grad is not None else None) if isinstance(x, torch.Tensor) and x.requires_grad else None
            for x in inputs
        ]
    return result


def describe(value: Any) -> str:
    """A short learner-readable description of any returned value."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, dict) and "__unsupported__" in value:
        return f"a {value['__unsupported__']}"
    return f"{type(value).__name__} {value!r}"[:200]
