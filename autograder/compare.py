"""Comparing what the learner's code returned with what it should have,
and saying precisely how they differ."""
from __future__ import annotations

import math
from typing import Any

import torch

from autograder.checking import CheckFailed
from autograder.scenarios import describe

# "Matches" in the contract: float32 ~1e-5 relative, float64 ~1e-10.
TOLERANCES = {
    torch.float16: (1e-3, 1e-3),
    torch.bfloat16: (1e-2, 1e-2),
    torch.float32: (1e-5, 1e-6),
    torch.float64: (1e-10, 1e-12),
}


def tolerance(dtype: torch.dtype) -> tuple[float, float]:
    """(rtol, atol) for comparing tensors of this dtype."""
    return TOLERANCES.get(dtype, (0.0, 0.0))


def shape_of(X: Any) -> str:
    if isinstance(X, torch.Tensor):
        return f"shape {tuple(X.shape)} {str(X.dtype).replace('torch.', '')}"
    return describe(X)


def _fmt(value: float, digits: int = 6) -> str:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    return f"{value:.{digits}g}"


def format_pair(expected: float, got: float) -> tuple[str, str]:
    """Both numbers with as many significant digits as it takes to tell them
    apart (6 at least): "expected 0.2676272, got 0.2676273", never
    "expected 0.267627, got 0.267627"."""
    for digits in range(6, 18):
        a, b = _fmt(expected, digits), _fmt(got, digits)
        if a != b:
            return a, b
    return _fmt(expected, 17), _fmt(got, 17)


def worst_element(got: torch.Tensor, expected: torch.Tensor) -> str:
    """Where the two tensors differ most, in learner-readable words."""
    if got.numel() == 0:
        return "both are empty"
    g = got.detach().to(torch.float64)
    e = expected.detach().to(torch.float64)
    bad = ~torch.isfinite(g) & torch.isfinite(e)
    if bad.any():
        flat = int(bad.flatten().nonzero()[0])
    else:
        diff = (g - e).abs()
        diff = torch.where(torch.isnan(diff), torch.full_like(diff, math.inf), diff)
        flat = int(diff.flatten().argmax())
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), got.shape))
    where = list(index) if index else "[]"
    expected_text, got_text = format_pair(float(e.flatten()[flat]), float(g.flatten()[flat]))
    return f"worst element at {where}: expected {expected_text}, got {got_text}"


def expect_tensor(
    got: Any,
    expected: torch.Tensor,
    what: str,
    hint: str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    check_dtype: bool = True,
) -> None:
    """Fail unless `got` is a tensor matching `expected` in shape, dtype and
    values (NaN never matches). `what` names the call, e.g.
    "softmax(X) for X of shape (3, 4) float32 (seed 7)"."""
    if not isinstance(got, torch.Tensor):
        raise CheckFailed(f"{what}: expected a tensor of {shape_of(expected)}, got {describe(got)}", hint)
    if tuple(got.shape) != tuple(expected.shape):
        raise CheckFailed(f"{what}: expected shape {tuple(expected.shape)}, got shape {tuple(got.shape)}", hint)
    if check_dtype and got.dtype != expected.dtype:
        raise CheckFailed(
            f"{what}: expected dtype {expected.dtype}, got {got.dtype}",
            hint or "keep the input's dtype: build new tensors with dtype=X.dtype (torch.zeros_like, X.new_zeros)",
        )
    default_rtol, default_atol = tolerance(expected.dtype)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    if got.numel() and not torch.allclose(got.to(expected.dtype), expected, rtol=rtol, atol=atol, equal_nan=False):
        raise CheckFailed(f"{what}: values differ; {worst_element(got, expected)}", hint)


def expect_number(got: Any, expected: float, what: str, hint: str | None = None, rel: float = 1e-6, abs_: float = 1e-9) -> None:
    """Fail unless `got` is a Python number close to `expected`."""
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise CheckFailed(f"{what}: expected a Python float, got {describe(got)}",
                          hint or "return a Python number: use float(...) or .item() on a one-element tensor")
    if not math.isclose(float(got), expected, rel_tol=rel, abs_tol=abs_):
        expected_text, got_text = format_pair(expected, float(got))
        raise CheckFailed(f"{what}: expected {expected_text}, got {got_text}", hint)


def close(a: Any, b: Any, rel: float = 1e-5, abs_: float = 1e-7) -> bool:
    """Whether two tensors or numbers agree (for choosing a diagnosis)."""
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and bool(torch.allclose(a.to(torch.float64), b.to(torch.float64), rtol=rel, atol=abs_))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)
    return False
