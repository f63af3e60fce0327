"""a3_softmax · cross_entropy: what is forbidden, hints, and the checks
(the scenario is the generic `call_with_grad`)."""
from __future__ import annotations

import torch
from torch import nn

from autograder.checking import CheckFailed, Context
from autograder.checks.a3_softmax import suite
from autograder.compare import close, expect_tensor, shape_of
from autograder.guard import forbid
from autograder.scenarios import call_with_grad

# The cumulative log-sum-exp and attention kernels hide a log-sum-exp too.
suite.forbid("cross_entropy", forbid(
    "cross_entropy", "nll_loss", "nll_loss_nd", "nll_loss2d", "log_softmax", "logsumexp", "logcumsumexp",
    "attention", "transformer",
    shown=("F.cross_entropy", "F.nll_loss", "F.log_softmax", "torch.logsumexp", "nn.CrossEntropyLoss",
           "torch.logcumsumexp", "attention kernels"),
    modules=("torch.nn.CrossEntropyLoss", "torch.nn.NLLLoss", "torch.nn.LogSoftmax", "torch.nn.MultiheadAttention"),
))

HINT_CE_STABLE = ("compute the log-probabilities stably: logits - max - log(sum(exp(logits - max))), "
                  "not log(softmax(logits)), which gives log(0) = -inf for large logits")
HINT_CE_MEAN = "return the mean over examples (divide by n), not the sum"
HINT_CE_PICK = "pick each row's own label: log_probs[torch.arange(n), y] (not log_probs[:, y])"

# --------------------------------------------------------------------------
# Grader side: the oracle and the checks.


def reference_cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(logits, y)


def check_cross_entropy_case(ctx: Context, logits: torch.Tensor, y: torch.Tensor, label: str,
                             hint: str | None = None) -> None:
    """The learner's cross_entropy on (logits, y): scalar value and gradient."""
    result = ctx.run(call_with_grad, "cross_entropy", [logits, y])
    what = f"cross_entropy(logits, y) for logits of {shape_of(logits)}{label}"
    expected = reference_cross_entropy(logits, y)
    got = result["out"]
    if isinstance(got, torch.Tensor) and got.numel() == 1 and logits.shape[0] > 1:
        n = logits.shape[0]
        wrong_pick = -torch.log_softmax(logits.to(torch.float64), dim=1)[:, y].mean()
        if not torch.isfinite(got).all() and torch.isfinite(expected):
            hint = hint or HINT_CE_STABLE
        elif close(got.reshape(()), expected * n, 1e-4, 1e-6):
            hint = HINT_CE_MEAN
        elif close(got.reshape(()).double(), wrong_pick, 1e-4, 1e-6):
            hint = HINT_CE_PICK
    if isinstance(got, torch.Tensor) and got.shape != () and got.numel() == logits.shape[0]:
        hint = "return one number, the mean over examples (a 0-dimensional tensor), not a loss per example"
    expect_tensor(got, expected, what, hint)
    reference = logits.clone().requires_grad_(True)
    reference_cross_entropy(reference, y).backward()
    grads = result["grads"] or [None]
    if result["backward_error"] or grads[0] is None:
        raise CheckFailed(f"gradient of {what}: no gradient reached the logits ({result['backward_error'] or 'grad is None'})",
                          "compute the loss from the logits with differentiable tensor operations")
    if not torch.isfinite(grads[0]).all() and torch.isfinite(reference.grad).all():
        hint = hint or HINT_CE_STABLE
    expect_tensor(grads[0], reference.grad, f"gradient of {what}", hint)


@suite.check("cross_entropy")
def cross_entropy_on_a_small_batch(ctx: Context) -> None:
    """cross_entropy matches F.cross_entropy on 3 examples of 4 classes, value and gradient"""
    logits = torch.tensor([[2.0, 1.0, 0.1, -1.0], [0.5, 2.5, -0.3, 0.0], [-1.2, 0.3, 0.8, 3.0]])
    check_cross_entropy_case(ctx, logits, torch.tensor([0, 1, 2]), "")


@suite.check("cross_entropy")
def cross_entropy_is_stable(ctx: Context) -> None:
    """cross_entropy is finite and exact for logits of ±1e4 with the true class far behind, value and gradient"""
    logits = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])
    check_cross_entropy_case(ctx, logits, torch.tensor([1, 0]), " (huge logits)", HINT_CE_STABLE)


