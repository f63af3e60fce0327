"""a2_linear_regression · squared_loss: what is forbidden, hints, and the
checks (the scenario is the generic `call_with_grad`).
"""
from __future__ import annotations

import torch

from autograder.checking import CheckFailed, Context
from autograder.checks.a2_linear_regression import suite
from autograder.compare import close, expect_tensor, shape_of
from autograder.guard import forbid
from autograder.scenarios import call_with_grad

# A robust loss with a huge threshold is the squared error too: huber_loss(delta=1e9) = (y_hat - y)**2 / 2.
suite.forbid("squared_loss", forbid(
    "mse_loss", "huber_loss", "smooth_l1_loss",
    shown=("F.mse_loss", "nn.MSELoss", "F.huber_loss / nn.HuberLoss", "F.smooth_l1_loss / nn.SmoothL1Loss"),
    modules=("torch.nn.MSELoss", "torch.nn.HuberLoss", "torch.nn.SmoothL1Loss"),
))

# Hints: one sentence naming the likely bug.
HINT_SL_RESHAPE = ("reshape y to y_hat's shape first, y.reshape(y_hat.shape): shapes (n, 1) and (n,) broadcast "
                   "to an (n, n) matrix")
HINT_SL_HALF = "divide by 2: (y_hat - y.reshape(y_hat.shape)) ** 2 / 2"
HINT_SL_ELEMENTWISE = "return the loss of each example (elementwise, the shape of y_hat), not its mean or sum"
HINT_SL_SHAPE = "the result has y_hat's shape: reshape y to y_hat.shape, not y_hat to y's shape or to (-1, 1)"
HINT_SL_IN_PLACE = "leave y_hat and y unchanged: compute on new tensors (no in-place edits)"


# --------------------------------------------------------------------------
# Grader side: the oracle and the checks.


def reference_squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def check_squared_loss_case(ctx: Context, y_hat: torch.Tensor, y: torch.Tensor, label: str) -> None:
    """squared_loss(y_hat, y): value (shape of y_hat), dtype, gradients with
    respect to both inputs, inputs unchanged."""
    grad_output = torch.randn(y_hat.shape, generator=ctx.generator(f"grad {label}"), dtype=y_hat.dtype)
    result = ctx.run(call_with_grad, "squared_loss", [y_hat, y], grad_output)
    what = f"squared_loss(y_hat, y) for y_hat of {shape_of(y_hat)} and y of {shape_of(y)}{label}"
    expected = reference_squared_loss(y_hat, y)
    got = result["out"]
    hint = None
    if isinstance(got, torch.Tensor):
        diff = y_hat.to(torch.float64) - y.to(torch.float64).reshape(y_hat.shape)
        if got.shape != expected.shape and got.numel() == y_hat.numel() ** 2 and y_hat.numel() > 1:
            hint = HINT_SL_RESHAPE
        elif got.numel() == 1 and y_hat.numel() > 1:
            hint = HINT_SL_ELEMENTWISE
        elif got.shape != expected.shape and got.numel() == expected.numel():
            hint = HINT_SL_SHAPE
        elif got.shape == expected.shape and close(got.to(torch.float64), diff ** 2, 1e-4, 1e-7) and diff.abs().max() > 0:
            hint = HINT_SL_HALF
    expect_tensor(got, expected, what, hint)
    if not result["inputs_unchanged"]:
        raise CheckFailed(f"{what}: squared_loss changed its inputs", HINT_SL_IN_PLACE)
    y_hat_leaf = y_hat.clone().requires_grad_(True)
    y_leaf = y.clone().requires_grad_(True)
    reference_squared_loss(y_hat_leaf, y_leaf).backward(grad_output)
    grads = result["grads"] or [None, None]
    if result["backward_error"] or grads[0] is None:
        raise CheckFailed(f"gradient of {what}: no gradient reached y_hat ({result['backward_error'] or 'grad is None'})",
                          "compute the loss from y_hat with differentiable tensor operations (no .detach() or .item())")
    expect_tensor(grads[0], y_hat_leaf.grad, f"gradient with respect to y_hat of {what}")
    if grads[1] is not None:
        expect_tensor(grads[1], y_leaf.grad, f"gradient with respect to y of {what}")


@suite.check("squared_loss")
def squared_loss_broadcasting_trap(ctx: Context) -> None:
    """squared_loss of y_hat (4, 1) and y (4,) is elementwise of shape (4, 1), not (4, 4)"""
    y_hat = torch.tensor([[1.0], [2.5], [-0.5], [3.0]])
    check_squared_loss_case(ctx, y_hat, torch.tensor([0.5, 2.0, 1.0, 3.0]), "")


@suite.check("squared_loss")
def squared_loss_same_shapes(ctx: Context) -> None:
    """squared_loss matches (y_hat - y)² / 2 with its gradients, float64"""
    y_hat = torch.tensor([[0.3], [-1.2], [2.0]], dtype=torch.float64)
    check_squared_loss_case(ctx, y_hat, torch.tensor([[1.0], [-1.0], [2.0]], dtype=torch.float64), "")
