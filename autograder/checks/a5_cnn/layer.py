"""a5_cnn · Conv2d: what is forbidden, hints, the scenario that builds and
runs the learner's layer, and the checks.

The layer is judged on its own: while its scenario runs, the name `conv2d`
in the learner's namespace is replaced by a recorder that computes a correct
convolution, so a wrong (or unfinished) `conv2d` does not cost `Conv2d`
points, and the recorder proves that `forward` calls `conv2d`.
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from autograder.checking import CheckFailed, Context
from autograder.checks.a5_cnn import suite
from autograder.checks.a5_cnn.conv import CONV_FORBIDDEN, HINT_NO_GRAD, exact_conv2d, pair, tolerance_for
from autograder.checks.kit import run_explained
from autograder.compare import expect_tensor, shape_of
from autograder.scenarios import Learner, describe

suite.forbid("Conv2d", CONV_FORBIDDEN)

HINT_PARAMETER = ("wrap the tensors in nn.Parameter and assign them as attributes (self.weight = nn.Parameter(...)): "
                  "only then do net.parameters(), the optimizer and state_dict() see them")
HINT_SHAPES = ("nn.Conv2d's weight has shape (out_channels, in_channels, kh, kw) and its bias (out_channels,); "
               "kernel_size may be an int or a pair")
HINT_NO_BIAS = "with bias=False there is no bias parameter: set self.bias = None and pass it to conv2d"
HINT_FORWARD_ARGS = "forward must pass self.weight, self.bias and the layer's stride and padding on to conv2d"
HINT_CALL_CONV2D = "forward must call your conv2d(X, self.weight, self.bias, stride=..., padding=...) (by that name)"
HINT_INIT_SCALE = ("draw the initial weights around 0 with a spread that shrinks with the fan-in k = in_channels * kh * kw, "
                   "as nn.Conv2d does: uniform in (-1/sqrt(k), 1/sqrt(k))")
HINT_INIT_SYMMETRY = "initialise the weights randomly: identical weights get identical gradients and never become different"
HINT_CRASH_LAYER = ("Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True): kernel_size, stride "
                    "and padding may each be an int or a pair")

# --------------------------------------------------------------------------
# Learner side: the scenario.


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def trusted_conv2d(X: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, stride: Any = 1,
                   padding: Any = 0) -> torch.Tensor:
    """A correct convolution from plain tensor algebra (loops over kernel
    offsets), which the call tracer lets through."""
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    X = nn.functional.pad(X, (pw, pw, ph, ph))
    c_out, _, kh, kw = weight.shape
    oh, ow = (X.shape[2] - kh) // sh + 1, (X.shape[3] - kw) // sw + 1
    Y = X.new_zeros((X.shape[0], c_out, oh, ow))
    for i in range(kh):
        for j in range(kw):
            patch = X[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
            Y = Y + torch.einsum("nchw,oc->nohw", patch, weight[:, :, i, j])
    return Y if bias is None else Y + bias.reshape(1, -1, 1, 1)


class _Recorder:
    """Stands in for the learner's `conv2d`: records each call, computes correctly."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, X: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, stride: Any = 1,
                 padding: Any = 0) -> torch.Tensor:
        self.calls.append({"stride": _pair(stride), "padding": _pair(padding), "has_bias": bias is not None})
        return trusted_conv2d(X, weight, bias, stride, padding)


def _learner_globals(cls: Any) -> dict[str, Any] | None:
    """The namespace the learner's class looks names up in (its cell's globals)."""
    for value in vars(cls).values() if isinstance(cls, type) else ():
        code_globals = getattr(value, "__globals__", None)
        if isinstance(code_globals, dict):
            return code_globals
    return None


def _parameters(module: Any) -> list[tuple[str, list[int], bool]]:
    return [(name, list(p.shape), isinstance(p, nn.Parameter)) for name, p in module.named_parameters()]


def conv2d_layer_trace(learner: Learner, args: list[Any], kwargs: dict[str, Any], X: torch.Tensor | None,
                       seed: int) -> dict[str, Any]:
    """Build the learner's Conv2d(*args, **kwargs) under torch.manual_seed(seed)
    and describe it; with X, also run forward and backward."""
    cls = learner["Conv2d"]
    namespace = _learner_globals(cls)
    recorder = _Recorder()
    saved = namespace.get("conv2d") if namespace is not None else None
    if namespace is not None:
        namespace["conv2d"] = recorder
    try:
        torch.manual_seed(seed)
        layer = cls(*args, **kwargs)
        result: dict[str, Any] = {"is_module": isinstance(layer, nn.Module)}
        if not result["is_module"]:
            return result
        weight, bias = getattr(layer, "weight", None), getattr(layer, "bias", None)
        result.update({
            "parameters": _parameters(layer),
            "state_dict": [(name, list(value.shape)) for name, value in layer.state_dict().items()],
            "weight": weight.detach().clone() if isinstance(weight, torch.Tensor) else describe(weight),
            "bias": bias.detach().clone() if isinstance(bias, torch.Tensor) else (None if bias is None else describe(bias)),
            "weight_is_parameter": isinstance(weight, nn.Parameter),
            "bias_is_parameter": isinstance(bias, nn.Parameter),
        })
        if X is not None:
            leaf = X.clone().requires_grad_(True)
            out = layer(leaf)
            result["out"] = out
            result["calls"] = recorder.calls
            if isinstance(out, torch.Tensor) and out.requires_grad:
                out.backward(torch.ones_like(out))
                result["grads"] = {name: None if p.grad is None else p.grad.clone() for name, p in layer.named_parameters()}
        return result
    finally:
        if namespace is not None:
            if saved is None:
                namespace.pop("conv2d", None)
            else:
                namespace["conv2d"] = saved


# --------------------------------------------------------------------------
# Grader side: the checks.


def describe_layer(args: list[Any], kwargs: dict[str, Any]) -> str:
    shown = [repr(a) for a in args] + [f"{key}={value!r}" for key, value in kwargs.items()]
    return f"Conv2d({', '.join(shown)})"


SIGNATURE = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "bias")  # the contract's order


def expected_parameters(args: list[Any], kwargs: dict[str, Any]) -> list[tuple[str, list[int]]]:
    reference = nn.Conv2d(**dict(zip(SIGNATURE, args)), **kwargs)  # by name: nn.Conv2d's 6th is dilation
    return [(name, list(p.shape)) for name, p in reference.named_parameters()]


def build(ctx: Context, args: list[Any], kwargs: dict[str, Any], X: torch.Tensor | None = None,
          seed: int = 0) -> dict[str, Any]:
    what = describe_layer(args, kwargs) + (f" applied to X of {shape_of(X)}" if X is not None else "")
    result = run_explained(ctx, what, HINT_CRASH_LAYER, conv2d_layer_trace, args, kwargs, X, seed)
    if not result["is_module"]:
        raise CheckFailed(f"{describe_layer(args, kwargs)} is not an nn.Module",
                          "declare it as class Conv2d(nn.Module) and call super().__init__() first")
    return result


def check_layer_parameters(ctx: Context, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Parameter names, shapes and registration as nn.Conv2d's."""
    result = build(ctx, args, kwargs)
    what = describe_layer(args, kwargs)
    expected = expected_parameters(args, kwargs)
    got = [(name, shape) for name, shape, _ in result["parameters"]]
    bias_expected = {**dict(zip(SIGNATURE, args)), **kwargs}.get("bias", True)
    if not bias_expected and any(name == "bias" for name, _ in got):
        raise CheckFailed(f"{what} has a bias parameter; with bias=False it should have none", HINT_NO_BIAS)
    if not result["weight_is_parameter"] or (bias_expected and not result["bias_is_parameter"]):
        missing = "weight" if not result["weight_is_parameter"] else "bias"
        raise CheckFailed(f"{what}: self.{missing} is not a registered nn.Parameter (its parameters: {got or 'none'})",
                          HINT_PARAMETER)
    if sorted(got) != sorted(expected):
        raise CheckFailed(f"{what} has parameters {got}; nn.Conv2d has {expected}", HINT_SHAPES)
    state = sorted(result["state_dict"])
    if state != sorted(expected):
        raise CheckFailed(f"{what}.state_dict() holds {state}; nn.Conv2d's holds {sorted(expected)}",
                          "keep only the weight and the bias (when there is one) as parameters, and no buffers")


def check_layer_forward(ctx: Context, args: list[Any], kwargs: dict[str, Any], X: torch.Tensor, seed: int,
                        label: str = "") -> None:
    """forward calls conv2d with the layer's own parameters, stride and
    padding; the result and the parameters' gradients are F.conv2d's."""
    result = build(ctx, args, kwargs, X, seed)
    what = describe_layer(args, kwargs) + f" applied to X of {shape_of(X)}{label}"
    if not result.get("calls"):
        raise CheckFailed(f"{what}: forward did not call conv2d", HINT_CALL_CONV2D)
    weight, bias = result["weight"], result["bias"]
    if not isinstance(weight, torch.Tensor):
        raise CheckFailed(f"{what}: the layer has no weight tensor (self.weight is {weight})", HINT_PARAMETER)
    named = {**dict(zip(SIGNATURE, args)), **kwargs}
    stride, padding = named.get("stride", 1), named.get("padding", 0)
    call = result["calls"][0]
    if call["stride"] != pair(stride) or call["padding"] != pair(padding) or call["has_bias"] != (bias is not None):
        raise CheckFailed(f"{what}: forward called conv2d with stride {call['stride']}, padding {call['padding']} and "
                          f"{'a' if call['has_bias'] else 'no'} bias; expected stride {pair(stride)}, padding "
                          f"{pair(padding)} and {'the' if bias is not None else 'no'} bias", HINT_FORWARD_ARGS)
    expected, _ = exact_conv2d(X, weight, bias if isinstance(bias, torch.Tensor) else None, stride, padding)
    expect_tensor(result["out"], expected, what, HINT_FORWARD_ARGS, **tolerance_for(X.dtype))
    grads = result.get("grads") or {}
    ones = torch.ones_like(expected)
    _, expected_grads = exact_conv2d(X, weight, bias if isinstance(bias, torch.Tensor) else None, stride, padding, ones)
    for name, expected_grad in (("weight", expected_grads[1]), ("bias", expected_grads[2])):
        if expected_grad is None:
            continue
        if grads.get(name) is None:
            raise CheckFailed(f"{what}: no gradient reached self.{name}", HINT_PARAMETER + "; " + HINT_NO_GRAD)
        expect_tensor(grads[name], expected_grad, f"gradient of sum({what}) with respect to self.{name}", None,
                      **tolerance_for(X.dtype))


def check_layer_init(ctx: Context, in_channels: int, out_channels: int, kernel_size: Any, seed: int) -> None:
    """The initial weights are centred on 0 with a spread of order 1/sqrt(fan-in)."""
    args = [in_channels, out_channels, kernel_size]
    result = build(ctx, args, {}, None, seed)
    weight = result["weight"]
    what = f"{describe_layer(args, {})}'s initial weight (torch.manual_seed({seed}))"
    if not isinstance(weight, torch.Tensor) or weight.numel() < 2:
        raise CheckFailed(f"{what}: expected a tensor, got {describe(weight)}", HINT_PARAMETER)
    weight = weight.to(torch.float64)
    kh, kw = pair(kernel_size)
    fan_in = in_channels * kh * kw
    std, mean = float(weight.std()), float(weight.mean())
    if std == 0.0:
        raise CheckFailed(f"{what}: every weight is {float(weight.flatten()[0]):g}", HINT_INIT_SYMMETRY)
    scaled = std * math.sqrt(fan_in)
    # 0.25 .. 2.5 / sqrt(fan_in) holds nn.Conv2d's default (0.58), LeCun (1), Xavier and He (1.41) initialisations.
    if not 0.25 <= scaled <= 2.5:
        raise CheckFailed(f"{what}: standard deviation {std:.4g}, that is {scaled:.3g}/sqrt(fan-in) for fan-in {fan_in}; "
                          "expected between 0.25/sqrt(fan-in) and 2.5/sqrt(fan-in)", HINT_INIT_SCALE)
    # The mean of n draws of a centred distribution is within 6 standard errors of 0.
    if abs(mean) > 6 * std / math.sqrt(weight.numel()):
        raise CheckFailed(f"{what}: mean {mean:.4g} for a standard deviation of {std:.4g}: the weights are not centred on 0",
                          HINT_INIT_SCALE)


@suite.check("Conv2d")
def conv2d_layer_parameters(ctx: Context) -> None:
    """Conv2d registers weight (C_out, C_in, kh, kw) and bias (C_out,) as nn.Parameters, named as nn.Conv2d's"""
    check_layer_parameters(ctx, [3, 5, 3], {})
    check_layer_parameters(ctx, [2, 4, (3, 2)], {})


@suite.check("Conv2d")
def conv2d_layer_without_bias(ctx: Context) -> None:
    """Conv2d(..., bias=False) has no bias parameter and its forward adds none"""
    check_layer_parameters(ctx, [2, 3, 3], {"bias": False})
    X = torch.randn(2, 2, 5, 5, generator=torch.Generator().manual_seed(1))
    check_layer_forward(ctx, [2, 3, 3], {"bias": False}, X, 1, " (bias=False)")


@suite.check("Conv2d")
def conv2d_layer_forward(ctx: Context) -> None:
    """Conv2d's forward calls conv2d with its weight, bias, stride and padding (as ints and as pairs)"""
    X = torch.randn(2, 3, 7, 6, generator=torch.Generator().manual_seed(2))
    check_layer_forward(ctx, [3, 4, 3], {"stride": 2, "padding": 1}, X, 2)
    check_layer_forward(ctx, [3, 2, (3, 2)], {"stride": (2, 1), "padding": (1, 0)}, X, 3)


@suite.check("Conv2d")
def conv2d_layer_initialisation(ctx: Context) -> None:
    """Conv2d's initial weights are centred on 0 with a spread that shrinks as 1/sqrt(fan-in)"""
    # Fan-ins 18 and 3200: no single fixed spread fits both windows. In both layers fan-in and
    # fan-out are close, so Xavier's (Glorot's) initialisation passes as well as nn.Conv2d's and He's.
    check_layer_init(ctx, 2, 2, 3, 4)
    check_layer_init(ctx, 128, 64, 5, 5)
