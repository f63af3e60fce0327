"""a3_softmax · Flatten: what is forbidden, hints, the scenario and the checks."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from autograder.checking import CheckFailed, Context
from autograder.checks.a3_softmax import suite
from autograder.compare import expect_tensor, shape_of
from autograder.guard import forbid
from autograder.scenarios import Learner

suite.forbid("Flatten", forbid(shown=("nn.Flatten",), modules=("torch.nn.Flatten",)))

HINT_FLATTEN_EMPTY = "X.reshape(X.shape[0], -1) fails when N == 0 (-1 is ambiguous): use X.flatten(1) or the product of X.shape[1:]"
HINT_FLATTEN_VIEW = "view() fails on non-contiguous input: use reshape() or flatten(1)"
HINT_FLATTEN_PARAMETERS = ("Flatten only reshapes: its __init__ creates no nn.Parameter and no layer "
                           "(it needs no __init__ at all)")
HINT_FLATTEN_BATCH = "keep the batch dimension: (N, C, H, W) becomes (N, C*H*W), not one long vector"

# --------------------------------------------------------------------------
# Learner side: the scenario.


def flatten_trace(learner: Learner, X: torch.Tensor, noncontiguous: bool) -> dict[str, Any]:
    """A fresh Flatten() applied to X: output, gradient, parameter count."""
    layer = learner["Flatten"]()
    if noncontiguous:
        X = X.transpose(-1, -2).contiguous().transpose(-1, -2)
    leaf = X.clone().requires_grad_(True) if X.is_floating_point() else X
    out = layer(leaf)
    grad = None
    if isinstance(out, torch.Tensor) and out.requires_grad and X.numel():
        out.backward(torch.ones_like(out))
        grad = leaf.grad
    return {
        "out": out,
        "grad": grad,
        "num_parameters": sum(p.numel() for p in layer.parameters()) if isinstance(layer, nn.Module) else -1,
        "is_module": isinstance(layer, nn.Module),
    }


# --------------------------------------------------------------------------
# Grader side: the checks.


def check_flatten_case(ctx: Context, X: torch.Tensor, label: str, noncontiguous: bool = False) -> None:
    result = ctx.run(flatten_trace, X, noncontiguous)
    if not result["is_module"]:
        raise CheckFailed("Flatten() is not an nn.Module", "declare it as class Flatten(nn.Module) and call super().__init__()")
    if result["num_parameters"]:
        raise CheckFailed(f"Flatten() has {result['num_parameters']} parameters; it should have none",
                          HINT_FLATTEN_PARAMETERS)
    what = f"Flatten()(X) for X of {shape_of(X)}{label}"
    expected = X.reshape(X.shape[0], -1) if X.shape[0] else X.new_zeros((0, int(torch.tensor(X.shape[1:]).prod())))
    got = result["out"]
    hint = None
    if isinstance(got, torch.Tensor) and got.dim() == 1:
        hint = HINT_FLATTEN_BATCH
    expect_tensor(got, expected, what, hint)
    if X.numel():
        if result["grad"] is None:
            raise CheckFailed(f"gradient of {what}: no gradient reached X", "reshape keeps the gradient; avoid .detach() or new tensors")
        expect_tensor(result["grad"], torch.ones_like(X), f"gradient of {what}")


@suite.check("Flatten")
def flatten_images(ctx: Context) -> None:
    """Flatten turns (N, C, H, W) into (N, C*H*W) and has no parameters"""
    check_flatten_case(ctx, torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2), "")


@suite.check("Flatten")
def flatten_non_contiguous(ctx: Context) -> None:
    """Flatten works on a non-contiguous (transposed) (2, 3, 4, 5) batch, values and gradient"""
    X = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    check_flatten_case(ctx, X, " (non-contiguous)", noncontiguous=True)


@suite.check("Flatten")
def flatten_empty_batch(ctx: Context) -> None:
    """Flatten turns an empty (0, 2, 5) batch into (0, 10)"""
    check_flatten_case(ctx, torch.zeros(0, 2, 5), " (N == 0)")


