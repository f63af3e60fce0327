"""a5_cnn · corr2d and conv2d: what is forbidden, hints, the timing inputs,
and the checks (the scenario is the generic `call_with_grad`).

The oracle is `F.conv2d` computed in float64 in the grader's process, so a
float32 answer is compared with the exact result, not with another float32
rounding of it.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from autograder.checking import CheckFailed, Context
from autograder.checks.a5_cnn import suite
from autograder.checks.kit import run_explained
from autograder.compare import close, expect_tensor, shape_of
from autograder.guard import forbid
from autograder.scenarios import call_with_grad

# Every path to a built-in convolution kernel: F.conv*, torch.conv*, torch.convolution
# and their ATen forms (mkldnn, cudnn, slow_conv2d, thnn, ...), im2col / col2im
# (F.unfold, F.fold), torch.nn.grad's conv helpers, and the modules.
# Tensor.unfold stays allowed (ATen `unfold`, not `im2col`), hence allowed_names.
CONV_FORBIDDEN = forbid(
    "conv1d", "conv2d", "conv3d", "convolution", "conv", "conv_tbc", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "thnn_conv2d", "mkldnn_convolution", "cudnn_convolution", "im2col", "col2im",
    shown=("F.conv1d/2d/3d", "F.conv_transpose*", "torch.conv*", "torch.convolution", "nn.Conv*", "F.unfold",
           "F.fold", "nn.Unfold", "nn.Fold"),
    functions=("torch.nn.functional.unfold", "torch.nn.functional.fold", "torch.nn.grad.conv2d_input",
               "torch.nn.grad.conv2d_weight", "torch.nn.grad.conv1d_input", "torch.nn.grad.conv1d_weight",
               "torch.nn.grad.conv3d_input", "torch.nn.grad.conv3d_weight"),
    modules=tuple(f"torch.nn.{name}" for name in (
        "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "LazyConv1d",
        "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
        "Unfold", "Fold")),
    allowed_names=("unfold", "conv"),  # Tensor.unfold is allowed; `self.conv = ...` is an ordinary attribute
)
suite.forbid("corr2d", CONV_FORBIDDEN)
suite.forbid("conv2d", CONV_FORBIDDEN)

HINT_FLIP = ("deep learning's convolution is a cross-correlation: K[i, j] multiplies X[r + i, c + j], the kernel "
             "is not flipped (flipping it gives the convolution of signal processing)")
HINT_CORR_SIZE = "a 'valid' cross-correlation of (h, w) by (kh, kw) has shape (h - kh + 1, w - kw + 1)"
HINT_CORR_AXES = "K has shape (kh, kw): kh rows slide down the height of X, kw columns along its width"
HINT_CONV_SIZE = ("the output height is (H + 2*p_h - k_h) // s_h + 1, with floor division (a last partial window "
                  "is dropped), and the width likewise with p_w, k_w, s_w")
HINT_PAIRS = ("stride and padding are each an int or a pair (rows, columns): turn them into pairs first (the setup "
              "cell's pair() does it) and use the first number for the height, the second for the width")
HINT_PADDING = "pad both sides of each dimension with zeros: F.pad(X, (p_w, p_w, p_h, p_h)) (the last dimension's pair comes first)"
HINT_BIAS = "add bias[o] to every position of output channel o: Y + bias.reshape(1, -1, 1, 1), and nothing when bias is None"
HINT_CHANNELS = ("output channel o sums over every input channel c: Y[n, o] = sum over c of the cross-correlation of "
                 "X[n, c] with weight[o, c]; the output has shape (N, C_out, H_out, W_out)")
HINT_NO_GRAD = ("build the output from differentiable tensor operations on X and the weight: no .item(), .detach(), "
                ".numpy() or torch.tensor(...) of computed values")
HINT_IN_PLACE = "leave the inputs as they are: pad into a new tensor (F.pad) instead of writing into X or the weight"
HINT_CRASH_CORR = "X has shape (h, w) and K (kh, kw); print the shapes of the slices you multiply"
HINT_CRASH_CONV = ("print the shapes at each step: X is (N, C_in, H, W), weight (C_out, C_in, kh, kw), bias (C_out,) "
                   "or None; stride and padding may be ints or pairs")

F32_TOLERANCE = (1e-5, 1e-5)  # against the exact (float64) result: sums of a few dozen float32 products

# --------------------------------------------------------------------------
# Learner side: what `grade --timing` feeds conv2d (see TIMING in __init__).


def timing_inputs(case: dict[str, Any], generator: torch.Generator) -> tuple[list[Any], dict[str, Any], str]:
    """One timing case as conv2d's arguments, and its label."""
    X = torch.randn(case["input"], generator=generator)
    weight = torch.randn(case["weight"], generator=generator) * 0.1
    bias = torch.randn(case["weight"][0], generator=generator)
    label = (f"X {tuple(case['input'])}, weight {tuple(case['weight'])}, "
             f"stride {case['stride']}, padding {case['padding']}")
    return [X, weight, bias], {"stride": case["stride"], "padding": case["padding"]}, label


# --------------------------------------------------------------------------
# Grader side: the oracle, the diagnoses and the checks.


def pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def exact_conv2d(X: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: Any, padding: Any,
                 grad_output: torch.Tensor | None = None) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    """F.conv2d in float64, cast back to X's dtype; with `grad_output`, also
    the gradients of X, weight and bias."""
    leaves = [t.detach().to(torch.float64).requires_grad_(grad_output is not None) if t is not None else None
              for t in (X, weight, bias)]
    out = F.conv2d(leaves[0], leaves[1], leaves[2], stride=pair(stride), padding=pair(padding))
    grads: list[torch.Tensor | None] = [None, None, None]
    if grad_output is not None:
        out.backward(grad_output.to(torch.float64))
        grads = [leaf.grad.to(X.dtype) if leaf is not None else None for leaf in leaves]
    return out.detach().to(X.dtype), grads


def tolerance_for(dtype: torch.dtype) -> dict[str, float]:
    return {"rtol": F32_TOLERANCE[0], "atol": F32_TOLERANCE[1]} if dtype == torch.float32 else {}


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def describe_conv_call(X: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                       kwargs: dict[str, Any]) -> str:
    arguments = "".join(f", {key}={value!r}" for key, value in kwargs.items())
    bias_text = "None" if bias is None else f"of shape {tuple(bias.shape)}"
    return (f"conv2d(X, weight, bias{arguments}) for X of {shape_of(X)}, weight of shape {tuple(weight.shape)}, "
            f"bias {bias_text}")


def mixed_pairs(first: tuple[int, int], second: tuple[int, int]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Ways of mixing up the (rows, columns) of two pairs: one number used for
    both dimensions, or the two swapped; the right combination left out."""
    def options(value: tuple[int, int]) -> set[tuple[int, int]]:
        return {value, (value[0], value[0]), (value[1], value[1]), (value[1], value[0])}

    return [(a, b) for a in options(first) for b in options(second) if (a, b) != (first, second)]


def diagnose_conv2d(got: Any, X: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: Any,
                    padding: Any) -> str | None:
    """The likely bug behind a wrong conv2d output, or None."""
    if not isinstance(got, torch.Tensor):
        return None
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    N, _, H, W = X.shape
    c_out, _, kh, kw = weight.shape

    def shape(strides: tuple[int, int], paddings: tuple[int, int], sides: int = 2) -> tuple[int, ...]:
        return (N, c_out, (H + sides * paddings[0] - kh) // strides[0] + 1, (W + sides * paddings[1] - kw) // strides[1] + 1)

    if tuple(got.shape) != shape((sh, sw), (ph, pw)):
        if got.dim() != 4 or tuple(got.shape[:2]) != (N, c_out):
            return HINT_CHANNELS
        if any(tuple(got.shape) == shape(s, p) for s, p in mixed_pairs((sh, sw), (ph, pw))):
            return HINT_PAIRS
        if (ph or pw) and tuple(got.shape) in (shape((sh, sw), (ph, pw), 1), shape((sh, sw), (ph, pw), 0)):
            return HINT_PADDING
        return HINT_CONV_SIZE
    exact = exact_conv2d(X, weight, None, stride, padding)[0]
    candidates = [(HINT_FLIP, lambda: exact_conv2d(X, weight.flip(-2, -1), bias, stride, padding)[0])]
    candidates += [(HINT_PAIRS, lambda s=s, p=p: exact_conv2d(X, weight, bias, s, p)[0])
                   for s, p in mixed_pairs((sh, sw), (ph, pw))]
    if ph or pw:  # all the padding on one side (bottom/right) instead of both
        candidates.append((HINT_PADDING, lambda: exact_conv2d(
            torch.nn.functional.pad(X, (0, 2 * pw, 0, 2 * ph)), weight, bias, stride, 0)[0]))
        candidates.append((HINT_PADDING, lambda: exact_conv2d(
            torch.nn.functional.pad(X, (2 * pw, 0, 2 * ph, 0)), weight, bias, stride, 0)[0]))
    if bias is not None:
        candidates.append((HINT_BIAS, lambda: exact))
        candidates.append((HINT_BIAS, lambda: exact + bias.reshape(1, 1, 1, -1)))
        candidates.append((HINT_BIAS, lambda: exact + bias.reshape(1, 1, -1, 1)))
    for hint, wrong in candidates:
        try:
            if close(got, wrong(), 1e-4, 1e-5):
                return hint
        except RuntimeError:  # the wrong variant is not even computable for this input
            continue
    return None


def matches(got: Any, expected: torch.Tensor) -> bool:
    """Whether `got` passes `expect_tensor` against `expected` (no diagnosis needed)."""
    tolerance = tolerance_for(expected.dtype)
    return (isinstance(got, torch.Tensor) and got.shape == expected.shape and got.dtype == expected.dtype
            and bool(torch.allclose(got, expected, rtol=tolerance.get("rtol", 1e-10), atol=tolerance.get("atol", 1e-12))))


def check_conv2d_case(ctx: Context, X: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                      kwargs: dict[str, Any], label: str, hint: str | None = None,
                      noncontiguous: bool = False) -> None:
    """The learner's conv2d(X, weight, bias, **kwargs) against F.conv2d:
    values, then the gradients of X, weight and bias."""
    stride, padding = kwargs.get("stride", 1), kwargs.get("padding", 0)
    expected, _ = exact_conv2d(X, weight, bias, stride, padding)
    grad_output = torch.randn(expected.shape, generator=torch.Generator().manual_seed(0), dtype=X.dtype)
    what = describe_conv_call(X, weight, bias, kwargs) + label
    result = run_explained(ctx, what, HINT_CRASH_CONV, call_with_grad, "conv2d", [X, weight, bias], grad_output,
                           noncontiguous, kwargs)
    got = result["out"]
    diagnosis = None if matches(got, expected) else diagnose_conv2d(got, X, weight, bias, stride, padding)
    expect_tensor(got, expected, what, diagnosis or hint, **tolerance_for(X.dtype))
    if not result["inputs_unchanged"]:
        raise CheckFailed(f"{what}: conv2d changed its inputs", HINT_IN_PLACE)
    _, expected_grads = exact_conv2d(X, weight, bias, stride, padding, grad_output)
    got_grads = result["grads"] or [None, None, None]
    for name, got_grad, expected_grad in zip(("X", "weight", "bias"), got_grads, expected_grads):
        if expected_grad is None:
            continue
        if result["backward_error"] or got_grad is None:
            problem = result["backward_error"] or f"{name}.grad is None"
            raise CheckFailed(f"gradient of {what} with respect to {name}: none reached it ({problem})", HINT_NO_GRAD)
        expect_tensor(got_grad, expected_grad, f"gradient of {what} with respect to {name}", hint,
                      **tolerance_for(X.dtype))


def exact_corr2d(X: torch.Tensor, K: torch.Tensor, grad_output: torch.Tensor | None = None
                 ) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    out, grads = exact_conv2d(X[None, None], K[None, None], None, 1, 0,
                              None if grad_output is None else grad_output[None, None])
    return out[0, 0], [grads[0][0, 0] if grads[0] is not None else None,
                       grads[1][0, 0] if grads[1] is not None else None]


def diagnose_corr2d(got: Any, X: torch.Tensor, K: torch.Tensor) -> str | None:
    if not isinstance(got, torch.Tensor):
        return None
    (h, w), (kh, kw) = X.shape, K.shape
    if tuple(got.shape) != (h - kh + 1, w - kw + 1):
        if tuple(got.shape) == (h - kw + 1, w - kh + 1) and kh != kw:
            return HINT_CORR_AXES
        return HINT_CORR_SIZE
    if close(got, exact_corr2d(X, K.flip(0, 1))[0], 1e-4, 1e-5) and not torch.equal(K, K.flip(0, 1)):
        return HINT_FLIP
    if kh == kw and close(got, exact_corr2d(X, K.T)[0], 1e-4, 1e-5) and not torch.equal(K, K.T):
        return HINT_CORR_AXES
    return None


def check_corr2d_case(ctx: Context, X: torch.Tensor, K: torch.Tensor, label: str, hint: str | None = None,
                      noncontiguous: bool = False) -> None:
    """The learner's corr2d(X, K) against F.conv2d: values, then the
    gradients of X and K."""
    expected, _ = exact_corr2d(X, K)
    grad_output = torch.randn(expected.shape, generator=torch.Generator().manual_seed(0), dtype=X.dtype)
    what = f"corr2d(X, K) for X of {shape_of(X)} and K of shape {tuple(K.shape)}{label}"
    result = run_explained(ctx, what, HINT_CRASH_CORR, call_with_grad, "corr2d", [X, K], grad_output, noncontiguous)
    got = result["out"]
    diagnosis = None if matches(got, expected) else diagnose_corr2d(got, X, K)
    expect_tensor(got, expected, what, diagnosis or hint, **tolerance_for(X.dtype))
    if not result["inputs_unchanged"]:
        raise CheckFailed(f"{what}: corr2d changed its inputs", HINT_IN_PLACE)
    _, expected_grads = exact_corr2d(X, K, grad_output)
    got_grads = result["grads"] or [None, None]
    for name, got_grad, expected_grad in zip(("X", "K"), got_grads, expected_grads):
        if result["backward_error"] or got_grad is None:
            problem = result["backward_error"] or f"{name}.grad is None"
            raise CheckFailed(f"gradient of {what} with respect to {name}: none reached it ({problem})", HINT_NO_GRAD)
        expect_tensor(got_grad, expected_grad, f"gradient of {what} with respect to {name}", hint,
                      **tolerance_for(X.dtype))


def _randn(seed: int, *shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


@suite.check("corr2d")
def corr2d_d2l_example(ctx: Context) -> None:
    """corr2d matches F.conv2d on d2l's example (a 3×3 input, a 2×2 kernel that is not symmetric)"""
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    check_corr2d_case(ctx, X, K, "")


@suite.check("corr2d")
def corr2d_non_square(ctx: Context) -> None:
    """corr2d handles a non-square kernel on a non-square float64 input, values and gradients"""
    check_corr2d_case(ctx, _randn(1, 5, 7, dtype=torch.float64), _randn(2, 2, 3, dtype=torch.float64),
                      " (non-square)")


@suite.check("conv2d")
def conv2d_one_channel_defaults(ctx: Context) -> None:
    """conv2d on one image of one channel, no bias, default stride and padding, matches F.conv2d"""
    check_conv2d_case(ctx, _randn(3, 1, 1, 4, 5), _randn(4, 1, 1, 2, 3), None, {}, "")


@suite.check("conv2d")
def conv2d_channels_and_batch(ctx: Context) -> None:
    """conv2d sums over input channels for every output channel and adds the bias, on a batch of 3"""
    check_conv2d_case(ctx, _randn(5, 3, 2, 5, 6), _randn(6, 4, 2, 3, 3), _randn(7, 4), {}, " (batch of 3)")


@suite.check("conv2d")
def conv2d_int_stride_and_padding(ctx: Context) -> None:
    """conv2d with stride and padding as ints, where (H + 2p - k) is not a multiple of the stride"""
    check_conv2d_case(ctx, _randn(8, 2, 3, 8, 10), _randn(9, 2, 3, 3, 3), _randn(10, 2), {"stride": 2, "padding": 1},
                      " ((H + 2p - k) % s != 0)")


@suite.check("conv2d")
def conv2d_pairs(ctx: Context) -> None:
    """conv2d with a non-square kernel and stride and padding given as pairs (rows, columns)"""
    check_conv2d_case(ctx, _randn(11, 2, 2, 7, 6), _randn(12, 3, 2, 3, 2), _randn(13, 3),
                      {"stride": (2, 1), "padding": (1, 2)}, " (pairs)", HINT_PAIRS)


@suite.check("conv2d")
def conv2d_float64_large_stride(ctx: Context) -> None:
    """conv2d keeps float64, also with a stride larger than the kernel"""
    check_conv2d_case(ctx, _randn(14, 2, 3, 6, 7, dtype=torch.float64), _randn(15, 2, 3, 2, 2, dtype=torch.float64),
                      _randn(16, 2, dtype=torch.float64), {"stride": 3, "padding": 2}, " (float64, stride 3)")
