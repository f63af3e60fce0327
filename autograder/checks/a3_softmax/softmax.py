"""a3_softmax · softmax: what is forbidden, hints, and the checks (the
scenario is the generic `call_with_grad`)."""
from __future__ import annotations

import torch

from autograder.checking import CheckFailed, Context, LearnerError, OutcomeKind
from autograder.checks.a3_softmax import suite
from autograder.compare import expect_tensor, shape_of
from autograder.guard import forbid
from autograder.scenarios import call_with_grad

# Attention kernels and the cumulative log-sum-exp compute a softmax too.
suite.forbid("softmax", forbid(
    "softmax", "log_softmax", "_safe_softmax", "attention", "transformer", "logcumsumexp",
    shown=("torch.softmax", "F.softmax", "F.log_softmax", "torch.nn.Softmax",
           "attention kernels (F.scaled_dot_product_attention, nn.MultiheadAttention)", "torch.logcumsumexp"),
    modules=("torch.nn.Softmax", "torch.nn.LogSoftmax", "torch.nn.Softmax2d", "torch.nn.MultiheadAttention",
             "torch.nn.Transformer", "torch.nn.TransformerEncoderLayer", "torch.nn.TransformerDecoderLayer"),
))

HINT_OVERFLOW = "softmax overflows for large inputs: subtract each row's max (keepdim=True) before exp"
HINT_ROW_MAX = "subtract each row's own max (X.max(dim=-1, keepdim=True)), not one max over the whole tensor"
HINT_LAST_DIM = "normalise over the last dimension: sum(dim=-1, keepdim=True), which works for any rank"
HINT_IN_PLACE = "your function changed its input in place (X -= ..., X.exp_()): compute on new tensors instead"
HINT_WHOLE_TENSOR = ("work on the whole tensor (max, exp and sum over dim=-1, keepdim=True): a Python loop over the "
                     "rows fails for an empty batch, and view() fails for a non-contiguous input (use reshape)")

# --------------------------------------------------------------------------
# Grader side: the oracle, the diagnosis, the checks.


def reference_softmax(X: torch.Tensor) -> torch.Tensor:
    return torch.softmax(X, dim=-1)


def check_softmax_case(ctx: Context, X: torch.Tensor, label: str, hint: str | None = None,
                       noncontiguous: bool = False, crash_hint: str | None = None) -> None:
    """The learner's softmax on X: values, dtype, input untouched, gradient.
    `crash_hint`: the hint when the learner's code raises on this input."""
    grad_output = torch.randn(X.shape, generator=ctx.generator(label), dtype=X.dtype)
    try:
        result = ctx.run(call_with_grad, "softmax", [X], grad_output, noncontiguous)
    except LearnerError as error:
        if crash_hint and error.kind is OutcomeKind.ERROR and error.hint is None:
            raise LearnerError(error.kind, error.message, crash_hint) from None
        raise
    what = f"softmax(X) for X of {shape_of(X)}{label}"
    expected = reference_softmax(X)
    got = result["out"]
    if isinstance(got, torch.Tensor) and got.shape == X.shape and X.numel():
        hint = _diagnose_softmax(X, got) or hint
    expect_tensor(got, expected, what, hint)
    if not result["inputs_unchanged"]:
        raise CheckFailed(f"{what}: your softmax changed X", HINT_IN_PLACE)
    if X.numel():
        reference = X.clone().requires_grad_(True)
        reference_softmax(reference).backward(grad_output)
        if result["backward_error"]:
            raise CheckFailed(f"{what}: backward failed: {result['backward_error']}",
                              "build the output with differentiable tensor operations (no .detach(), .numpy() or in-place edits)")
        grads = result["grads"] or [None]
        if grads[0] is None:
            raise CheckFailed(f"gradient of {what}: no gradient reached X",
                              "build the output from X with differentiable tensor operations (no .detach(), .numpy() or torch.tensor(...))")
        expect_tensor(grads[0], reference.grad, f"gradient of {what}", hint)


def _diagnose_softmax(X: torch.Tensor, got: torch.Tensor) -> str | None:
    """Name the bug by recomputing the classic wrong softmaxes on X and
    seeing which one the learner's output matches."""
    def normalised(Z: torch.Tensor, dim: int | None) -> torch.Tensor:
        E = torch.exp(Z)
        return E / (E.sum() if dim is None else E.sum(dim=dim, keepdim=True))

    candidates = [
        (HINT_OVERFLOW, lambda: normalised(X, -1)),
        (HINT_ROW_MAX, lambda: normalised(X - X.max(), -1)),
    ]
    if X.dim() >= 2:
        candidates.append((HINT_LAST_DIM, lambda: normalised(X - X.max(dim=1, keepdim=True).values, 1)))
        candidates.append((HINT_LAST_DIM, lambda: normalised(X - X.max(dim=0, keepdim=True).values, 0)))
    candidates.append((HINT_LAST_DIM, lambda: torch.exp(X - X.max()) / torch.exp(X - X.max()).sum()))
    candidates.append((HINT_LAST_DIM, lambda: normalised(X - X.max(dim=-1, keepdim=True).values, None)))
    expected = reference_softmax(X)
    for hint, buggy in candidates:
        wrong = buggy()
        if not torch.allclose(wrong, expected, rtol=1e-4, atol=1e-6, equal_nan=False) and torch.allclose(
                got.to(wrong.dtype), wrong, rtol=1e-3, atol=1e-5, equal_nan=True):
            return hint
    if not torch.isfinite(got).all():
        return HINT_OVERFLOW
    return None


@suite.check("softmax")
def softmax_on_a_small_batch(ctx: Context) -> None:
    """softmax matches torch.softmax on a (2, 5) batch, values and gradient"""
    X = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0], [-1.0, 0.0, 0.5, 2.0, -3.0]])
    check_softmax_case(ctx, X, "")


@suite.check("softmax")
def softmax_on_three_dimensions(ctx: Context) -> None:
    """softmax normalises the last dimension of a 3-D input"""
    X = torch.linspace(-2, 2, 24, dtype=torch.float64).reshape(2, 3, 4)
    check_softmax_case(ctx, X, "")


@suite.check("softmax")
def softmax_is_stable(ctx: Context) -> None:
    """softmax stays finite and exact for logits of ±1e4 in rows whose largest logit is 1e4"""
    X = torch.tensor([[1e4, -1e4, 0.0], [1e4, 1e4 - 1.0, -1e4]])
    check_softmax_case(ctx, X, " (huge logits)", HINT_OVERFLOW)


@suite.check("softmax")
def softmax_rows_of_very_different_scale(ctx: Context) -> None:
    """softmax is exact for rows of very different scale in one batch (largest logits 1e4, -1e4 + 3 and 2)"""
    X = torch.tensor([[1e4, 1e4 - 2.0, -1e4, 0.0], [-1e4, -1e4 + 1.0, -1e4 + 3.0, -1e4], [0.5, 1.0, -0.5, 2.0]])
    check_softmax_case(ctx, X, " (rows of very different scale)", HINT_ROW_MAX)


@suite.check("softmax")
def softmax_non_contiguous(ctx: Context) -> None:
    """softmax works on a non-contiguous (2, 3, 4) input (its last two dimensions transposed in memory)"""
    X = torch.linspace(-3.0, 3.0, 24).reshape(2, 3, 4)
    check_softmax_case(ctx, X, " (non-contiguous)", noncontiguous=True, crash_hint=HINT_WHOLE_TENSOR)


@suite.check("softmax")
def softmax_empty_batch(ctx: Context) -> None:
    """softmax returns an empty (0, 5) result for an empty batch"""
    check_softmax_case(ctx, torch.zeros(0, 5), " (N == 0)", crash_hint=HINT_WHOLE_TENSOR)

