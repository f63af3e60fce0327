"""a5_cnn · max_pool2d and avg_pool2d: what is forbidden, hints, the timing
inputs, and the checks (the scenario is the generic `call_with_grad`)."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from autograder.checking import CheckFailed, Context
from autograder.checks.a5_cnn import suite
from autograder.checks.a5_cnn.conv import (F32_TOLERANCE, HINT_IN_PLACE, HINT_NO_GRAD, matches, mixed_pairs,
                                           output_size, pair)
from autograder.checks.kit import run_explained
from autograder.compare import close, expect_tensor, shape_of
from autograder.guard import forbid
from autograder.scenarios import call_with_grad


def _everything_pooling() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Every callable, ATen operator and module of torch that pools ("F.*pool*,
    torch.*pool*, nn.*Pool*" in the contract), found by name in this torch."""
    namespaces = {"torch": torch, "torch.Tensor": torch.Tensor, "torch.nn.functional": F, "torch._C._nn": torch._C._nn,
                  "torch._C._VariableFunctions": torch._C._VariableFunctions}
    functions = [f"{home}.{name}" for home, namespace in namespaces.items() for name in dir(namespace)
                 if "pool" in name.lower() and "alloc" not in name and callable(getattr(namespace, name, None))]
    aten = sorted({name.split("::", 1)[1].split(".", 1)[0] for name in torch._C._dispatch_get_all_op_names()
                   if "pool" in name.split("::", 1)[-1] and "alloc" not in name})
    modules = tuple(f"torch.nn.{name}" for name in dir(torch.nn) if "Pool" in name)
    return tuple(functions), tuple(aten), modules


_FUNCTIONS, _ATEN, _MODULES = _everything_pooling()
POOL_FORBIDDEN = forbid(
    shown=("F.*pool*", "torch.*pool*", "nn.*Pool*", "torch.ops.aten.*pool*"),
    functions=_FUNCTIONS, aten=_ATEN, modules=_MODULES, names=_ATEN,
)
suite.forbid("max_pool2d", POOL_FORBIDDEN)
suite.forbid("avg_pool2d", POOL_FORBIDDEN)

HINT_POOL_SIZE = ("the output height is (H + 2*p_h - k_h) // s_h + 1, with floor division (a last partial window is "
                  "dropped), and the width likewise")
HINT_DEFAULT_STRIDE = "when stride is None it defaults to kernel_size (windows side by side), not to 1"
HINT_POOL_PAIRS = ("kernel_size, stride and padding are each an int or a pair (rows, columns): turn them into pairs "
                   "first (pair()) and use the first number for the height, the second for the width")
HINT_POOL_PADDING = ("pad both sides of each dimension before taking the windows: F.pad(X, (p_w, p_w, p_h, p_h), "
                     "value=...) (the last dimension's pair comes first)")
HINT_NEG_INF = ("pad with -inf, not 0: F.pad(X, (p_w, p_w, p_h, p_h), value=float('-inf')), so the padding never "
                "wins the max when every real value in a window is negative")
HINT_TIES = ("when a window holds its maximum twice, F.max_pool2d sends the whole gradient to the first one (row by "
             "row); .amax and torch.maximum split it between the ties, while .max(dim=...) picks one index: take "
             "the max over the flattened window with .max(dim=-1)")
HINT_COUNT_PAD = ("F.avg_pool2d counts the zero padding (count_include_pad=True by default): divide every window's "
                  "sum by k_h * k_w, also at the border")
HINT_MEAN = "average over the window: divide its sum by k_h * k_w"
HINT_CRASH_POOL = ("print the shapes at each step: X is (N, C, H, W); kernel_size, stride and padding may be ints or "
                   "pairs, and stride may be None")

# --------------------------------------------------------------------------
# Learner side: what `grade --timing` feeds max_pool2d (see TIMING in __init__).


def timing_inputs(case: dict[str, Any], generator: torch.Generator) -> tuple[list[Any], dict[str, Any], str]:
    """One timing case as max_pool2d's arguments, and its label."""
    X = torch.randn(case["input"], generator=generator)
    kwargs = {key: case[key] for key in ("stride", "padding") if key in case}
    label = f"X {tuple(case['input'])}, kernel_size {case['kernel_size']}" + "".join(
        f", {key} {value}" for key, value in kwargs.items())
    return [X, case["kernel_size"]], kwargs, label


# --------------------------------------------------------------------------
# Grader side: the oracles, the diagnoses and the checks.


def exact_pool(kind: str, X: torch.Tensor, kernel_size: Any, stride: Any, padding: Any,
               grad_output: torch.Tensor | None = None, **options: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """F.max_pool2d / F.avg_pool2d in float64 (exact), cast back to X's
    dtype; with `grad_output`, also the gradient of X."""
    leaf = X.detach().to(torch.float64).requires_grad_(grad_output is not None)
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    out = pool(leaf, pair(kernel_size), None if stride is None else pair(stride), pair(padding), **options)
    grad = None
    if grad_output is not None:
        out.backward(grad_output.to(torch.float64))
        grad = leaf.grad.to(X.dtype)
    return out.detach().to(X.dtype), grad


def tie_splitting_grad(X: torch.Tensor, kernel_size: Any, stride: Any, padding: Any,
                       grad_output: torch.Tensor) -> torch.Tensor:
    """The gradient of a max pooling whose backward splits ties evenly (amax)."""
    (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = pair(kernel_size if stride is None else stride)
    leaf = X.detach().to(torch.float64).requires_grad_(True)
    padded = F.pad(leaf, (pw, pw, ph, ph), value=float("-inf"))
    out = padded.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1))
    out.backward(grad_output.to(torch.float64))
    return leaf.grad.to(X.dtype)


def diagnose_pool(kind: str, got: Any, X: torch.Tensor, kernel_size: Any, stride: Any, padding: Any) -> str | None:
    """The likely bug behind a wrong pooling output, or None."""
    if not isinstance(got, torch.Tensor):
        return None
    (kh, kw), (ph, pw) = pair(kernel_size), pair(padding)
    sh, sw = pair(kernel_size if stride is None else stride)
    N, C, H, W = X.shape

    def shape(kernel: tuple[int, int], strides: tuple[int, int], paddings: tuple[int, int]) -> tuple[int, ...]:
        return (N, C, output_size(H, kernel[0], strides[0], paddings[0]), output_size(W, kernel[1], strides[1], paddings[1]))

    kernels = {(kh, kw), (kw, kh), (kh, kh), (kw, kw)}
    strides_and_paddings = [((sh, sw), (ph, pw)), *mixed_pairs((sh, sw), (ph, pw))]
    mixups = [(k, s, p) for k in kernels for s, p in strides_and_paddings if (k, s, p) != ((kh, kw), (sh, sw), (ph, pw))]
    if tuple(got.shape) != shape((kh, kw), (sh, sw), (ph, pw)):
        if stride is None and tuple(got.shape) == shape((kh, kw), (1, 1), (ph, pw)):
            return HINT_DEFAULT_STRIDE
        if any(tuple(got.shape) == shape(k, s, p) for k, s, p in mixups):
            return HINT_POOL_PAIRS
        if (ph or pw) and tuple(got.shape) == shape((kh, kw), (sh, sw), (0, 0)):
            return HINT_POOL_PADDING
        return HINT_POOL_SIZE
    candidates = []
    if kind == "max" and (ph or pw):
        zero_padded = F.pad(X.detach().to(torch.float64), (pw, pw, ph, ph))
        candidates.append((HINT_NEG_INF, lambda: F.max_pool2d(zero_padded, (kh, kw), (sh, sw)).to(X.dtype)))
    if kind == "avg" and (ph or pw):
        candidates.append((HINT_COUNT_PAD, lambda: exact_pool("avg", X, kernel_size, stride, padding,
                                                              count_include_pad=False)[0]))
    if kind == "avg":
        candidates.append((HINT_MEAN, lambda: exact_pool("avg", X, kernel_size, stride, padding)[0] * (kh * kw)))
    candidates += [(HINT_POOL_PAIRS, lambda k=k, s=s, p=p: exact_pool(kind, X, k, s, p)[0]) for k, s, p in mixups]
    for hint, wrong in candidates:
        try:
            if close(got, wrong(), 1e-4, 1e-5):
                return hint
        except RuntimeError:  # the wrong variant is not even computable here
            continue
    return None


def describe_pool_call(kind: str, X: torch.Tensor, kernel_size: Any, kwargs: dict[str, Any]) -> str:
    arguments = "".join(f", {key}={value!r}" for key, value in kwargs.items())
    return f"{kind}_pool2d(X, {kernel_size!r}{arguments}) for X of {shape_of(X)}"


def check_pool_case(ctx: Context, kind: str, X: torch.Tensor, kernel_size: Any, kwargs: dict[str, Any], label: str,
                    hint: str | None = None, noncontiguous: bool = False) -> None:
    """The learner's max_pool2d or avg_pool2d against F's: values, then the
    gradient of X (ties included)."""
    stride, padding = kwargs.get("stride"), kwargs.get("padding", 0)
    expected, _ = exact_pool(kind, X, kernel_size, stride, padding)
    grad_output = torch.randn(expected.shape, generator=torch.Generator().manual_seed(0), dtype=X.dtype)
    what = describe_pool_call(kind, X, kernel_size, kwargs) + label
    tolerance = {"rtol": F32_TOLERANCE[0], "atol": F32_TOLERANCE[1]} if X.dtype == torch.float32 else {}
    result = run_explained(ctx, what, HINT_CRASH_POOL, call_with_grad, f"{kind}_pool2d", [X, kernel_size],
                           grad_output, noncontiguous, kwargs)
    got = result["out"]
    diagnosis = None if matches(got, expected) else diagnose_pool(kind, got, X, kernel_size, stride, padding)
    expect_tensor(got, expected, what, diagnosis or hint, **tolerance)
    if not result["inputs_unchanged"]:
        raise CheckFailed(f"{what}: {kind}_pool2d changed its input", HINT_IN_PLACE)
    _, expected_grad = exact_pool(kind, X, kernel_size, stride, padding, grad_output)
    got_grad = (result["grads"] or [None])[0]
    if result["backward_error"] or got_grad is None:
        problem = result["backward_error"] or "X.grad is None"
        raise CheckFailed(f"gradient of {what}: none reached X ({problem})", HINT_NO_GRAD)
    grad_hint = hint
    if kind == "max" and isinstance(got_grad, torch.Tensor) and not close(got_grad, expected_grad, 1e-4, 1e-5) and close(
            got_grad, tie_splitting_grad(X, kernel_size, stride, padding, grad_output), 1e-4, 1e-5):
        grad_hint = HINT_TIES
    expect_tensor(got_grad, expected_grad, f"gradient of {what}", grad_hint, **tolerance)


def _randn(seed: int, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def ties(seed: int, *shape: int) -> torch.Tensor:
    """Small whole numbers: most windows hold their maximum more than once."""
    return torch.randint(0, 3, shape, generator=torch.Generator().manual_seed(seed)).to(torch.float32)


@suite.check("max_pool2d")
def max_pool2d_default_stride(ctx: Context) -> None:
    """max_pool2d with 2×2 windows and the default stride (= kernel_size) matches F.max_pool2d, values and gradients"""
    check_pool_case(ctx, "max", _randn(1, 2, 3, 4, 6), 2, {}, "", HINT_DEFAULT_STRIDE)


@suite.check("max_pool2d")
def max_pool2d_partial_window(ctx: Context) -> None:
    """max_pool2d drops a last partial window, where (H + 2p - k) is not a multiple of the stride"""
    check_pool_case(ctx, "max", _randn(2, 1, 2, 5, 7), 2, {}, " ((H - k) % s != 0)", HINT_POOL_SIZE)


@suite.check("max_pool2d")
def max_pool2d_negative_padding(ctx: Context) -> None:
    """max_pool2d with padding on an all-negative input: the padding never wins the max"""
    X = -(torch.rand(2, 2, 5, 5, generator=torch.Generator().manual_seed(3)) + 0.5)
    check_pool_case(ctx, "max", X, 3, {"stride": 2, "padding": 1}, " (all values negative)", HINT_NEG_INF)


@suite.check("max_pool2d")
def max_pool2d_pairs(ctx: Context) -> None:
    """max_pool2d with a non-square window and stride and padding as pairs, float64"""
    check_pool_case(ctx, "max", _randn(4, 2, 2, 6, 7, dtype=torch.float64), (2, 3), {"stride": (1, 2), "padding": (1, 1)},
                    " (pairs, float64)", HINT_POOL_PAIRS)


@suite.check("max_pool2d")
def max_pool2d_ties(ctx: Context) -> None:
    """max_pool2d sends the gradient of a tie where F.max_pool2d does, for side-by-side and overlapping windows"""
    check_pool_case(ctx, "max", ties(5, 1, 2, 4, 6), 2, {}, " (ties)", HINT_TIES)
    check_pool_case(ctx, "max", ties(6, 2, 1, 5, 5), 3, {"stride": 1}, " (ties, overlapping windows)", HINT_TIES)


@suite.check("avg_pool2d")
def avg_pool2d_default_stride(ctx: Context) -> None:
    """avg_pool2d with 2×2 windows and the default stride (= kernel_size) matches F.avg_pool2d, values and gradients"""
    check_pool_case(ctx, "avg", _randn(7, 2, 3, 4, 6), 2, {}, "", HINT_DEFAULT_STRIDE)


@suite.check("avg_pool2d")
def avg_pool2d_partial_window(ctx: Context) -> None:
    """avg_pool2d drops a last partial window, where (H + 2p - k) is not a multiple of the stride"""
    check_pool_case(ctx, "avg", _randn(8, 1, 2, 7, 5), 3, {"stride": 2}, " ((H - k) % s != 0)", HINT_POOL_SIZE)


@suite.check("avg_pool2d")
def avg_pool2d_counts_padding(ctx: Context) -> None:
    """avg_pool2d counts the zero padding in every window's mean, as F.avg_pool2d does by default"""
    X = torch.rand(2, 2, 5, 5, generator=torch.Generator().manual_seed(9)) + 1.0
    check_pool_case(ctx, "avg", X, 3, {"stride": 2, "padding": 1}, " (padding 1)", HINT_COUNT_PAD)


@suite.check("avg_pool2d")
def avg_pool2d_pairs(ctx: Context) -> None:
    """avg_pool2d with a non-square window and stride and padding as pairs, float64"""
    check_pool_case(ctx, "avg", _randn(10, 2, 2, 6, 7, dtype=torch.float64), (2, 3), {"stride": (1, 2), "padding": (1, 1)},
                    " (pairs, float64)", HINT_POOL_PAIRS)
