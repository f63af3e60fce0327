"""a6_rnn · clip_grad_norm: what is forbidden, hints, the scenario (parameters
with given gradients, passed as a tensor, a list or a one-pass generator),
the oracle (torch.nn.utils.clip_grad_norm_ on copies), the simulated bugs and
the checks."""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from autograder.checking import CheckFailed, Context
from autograder.checks.a6_rnn import suite
from autograder.checks.a6_rnn.common import fixed, run_case
from autograder.compare import close, expect_tensor, shape_of
from autograder.guard import forbid
from autograder.scenarios import Learner, describe

_CLIP_FUNCTIONS = ("clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_")
suite.forbid("clip_grad_norm", forbid(
    "clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_",
    shown=("torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_value_", "torch.nn.utils.get_total_norm",
           "torch.nn.utils.clip_grads_with_norm_"),
    # Both homes, and the private helpers clip_grad_norm_ calls through its
    # module's globals: a copy taken at import time is still caught.
    python_functions=(*(f"torch.nn.utils.{name}" for name in _CLIP_FUNCTIONS),
                      *(f"torch.nn.utils.clip_grad.{name}" for name in _CLIP_FUNCTIONS),
                      "torch.nn.utils.clip_grad._get_total_norm", "torch.nn.utils.clip_grad._clip_grads_with_norm_"),
    allowed_names=("clip_grad_norm",),  # the exercise's own name
))

EPS = 1e-6  # torch: clip_coef = max_norm / (total_norm + 1e-6)

HINT_CLIP = ("collect the existing grads (skip p.grad is None), norm = sqrt(sum of every squared entry), and if "
             "norm > max_norm multiply each grad in place by max_norm / (norm + 1e-6); return norm")
HINT_GLOBAL = ("clip by the global norm of all gradients together (the square root of the sum of every squared "
               "entry), not each gradient by its own norm")
HINT_GENERATOR = ("a generator can be iterated only once: the second loop over `parameters` saw nothing. "
                  "Turn it into a list first: parameters = list(parameters)")
HINT_BEFORE = "return the norm measured before clipping (torch.nn.utils.clip_grad_norm_ does), not after"
HINT_ONLY_ABOVE = ("scale only when the norm exceeds max_norm: the factor is min(1, max_norm / (norm + 1e-6)), so "
                   "small gradients are left as they are")
HINT_SQRT = "the 2-norm is the square root of the sum of squares"
HINT_SUM_OF_NORMS = "the global norm is sqrt(sum of the squared per-gradient norms), not the sum of the norms"
HINT_IN_PLACE = "scale each gradient in place (p.grad.mul_(factor)) rather than assigning a new tensor to p.grad"
HINT_NO_GRAD = "skip parameters whose .grad is None (they took no part in the loss)"
HINT_TENSOR = "a single tensor is one parameter: start with `if isinstance(parameters, torch.Tensor): parameters = [parameters]`"
HINT_NONE_AT_ALL = "when no parameter has a gradient, return torch.tensor(0.0) and change nothing"
HINT_RETURN_TENSOR = "return the norm as a 0-dimensional tensor, as torch.nn.utils.clip_grad_norm_ does (not a Python float)"
HINT_PARAMETERS = "change only the gradients: the parameters' values stay as they are"

# --------------------------------------------------------------------------
# Learner side: the scenario.


def clip_trace(learner: Learner, values: list[torch.Tensor], grads: list[torch.Tensor | None], max_norm: float,
               form: str) -> dict[str, Any]:
    """Parameters with the given values and gradients, passed to the
    learner's clip_grad_norm as one tensor ("tensor"), a list, a tuple or a
    one-pass generator; what came back and the gradients afterwards."""
    params = [nn.Parameter(value.clone()) for value in values]
    for param, grad in zip(params, grads):
        param.grad = None if grad is None else grad.clone()
    originals = [param.grad for param in params]
    yielded = [0]

    def one_pass() -> Any:
        for param in params:
            yielded[0] += 1
            yield param

    argument: Any = {"tensor": params[0], "list": list(params), "tuple": tuple(params), "generator": one_pass()}[form]
    returned = learner["clip_grad_norm"](argument, max_norm)
    return {
        "returned": returned,
        "grads": [param.grad for param in params],
        "same_grad_objects": all(param.grad is original for param, original in zip(params, originals)),
        "values_unchanged": all(torch.equal(param.detach(), value) for param, value in zip(params, values)),
        "yielded": yielded[0],
    }


# --------------------------------------------------------------------------
# Grader side: the oracle, the simulated bugs, the checks.


def oracle_clip(values: list[torch.Tensor], grads: list[torch.Tensor | None],
                max_norm: float) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    """torch.nn.utils.clip_grad_norm_ on copies: (returned norm, gradients afterwards)."""
    params = [nn.Parameter(value.clone()) for value in values]
    for param, grad in zip(params, grads):
        param.grad = None if grad is None else grad.clone()
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return norm, [param.grad for param in params]


def _scaled(grads: list[torch.Tensor | None], factor: float) -> list[torch.Tensor | None]:
    return [None if g is None else g * factor for g in grads]


def diagnose_clip(grads: list[torch.Tensor | None], max_norm: float, form: str, got_grads: list[Any],
                  returned: Any) -> str | None:
    """The hint of the classic bug the learner's gradients or returned norm reproduce."""
    existing = [g.double() for g in grads if g is not None]
    norms = [float(g.norm()) for g in existing]
    norm = math.sqrt(sum(n * n for n in norms))
    factor = max_norm / (norm + EPS)
    if not all(isinstance(g, torch.Tensor) or g is None for g in got_grads):
        return None

    def matches(candidate: list[torch.Tensor | None]) -> bool:
        return all((a is None and b is None) or (isinstance(a, torch.Tensor) and b is not None and close(a.double(), b.double(), 1e-4, 1e-7))
                   for a, b in zip(got_grads, candidate))

    if factor < 1:
        if form == "generator" and matches(grads):
            return HINT_GENERATOR
        per_parameter = [None if g is None else g * min(1.0, max_norm / (float(g.double().norm()) + EPS)) for g in grads]
        if matches(per_parameter) and not matches(_scaled(grads, factor)):
            return HINT_GLOBAL
        if matches(_scaled(grads, max_norm / (math.sqrt(norm) + EPS))) or matches(_scaled(grads, max_norm / (norm * norm + EPS))):
            return HINT_SQRT
        if matches(_scaled(grads, max_norm / (sum(norms) + EPS))):
            return HINT_SUM_OF_NORMS
    elif existing and matches(_scaled(grads, factor)):
        return HINT_ONLY_ABOVE
    if isinstance(returned, torch.Tensor) and returned.numel() == 1:
        value = float(returned)
        if factor < 1 and math.isclose(value, min(norm, max_norm), rel_tol=1e-4) and not math.isclose(value, norm, rel_tol=1e-4):
            return HINT_BEFORE
        if math.isclose(value, norm * norm, rel_tol=1e-4) and not math.isclose(norm, 1.0, rel_tol=1e-3):
            return HINT_SQRT
        if len(norms) > 1 and math.isclose(value, sum(norms), rel_tol=1e-4) and not math.isclose(sum(norms), norm, rel_tol=1e-4):
            return HINT_SUM_OF_NORMS
    return None


def check_clip_case(ctx: Context, values: list[torch.Tensor], grads: list[torch.Tensor | None], max_norm: float,
                    form: str, label: str, hint: str | None = None) -> None:
    """The learner's clip_grad_norm against torch.nn.utils.clip_grad_norm_ on copies."""
    described = ", ".join("no grad" if g is None else shape_of(g) for g in grads)
    passed = {"tensor": "one tensor", "list": "a list", "tuple": "a tuple", "generator": "a generator"}[form]
    what = f"clip_grad_norm(parameters, max_norm={max_norm:g}) for {passed} of parameters with gradients [{described}]{label}"
    result = run_case(ctx, what, hint or HINT_CLIP, clip_trace, values, grads, max_norm, form)
    expected_norm, expected_grads = oracle_clip(values, grads, max_norm)
    got_grads = result["grads"]
    diagnosis = diagnose_clip(grads, max_norm, form, got_grads, result["returned"])
    returned = result["returned"]
    if isinstance(returned, (int, float)) and not isinstance(returned, bool):
        raise CheckFailed(f"{what}: returned the Python number {returned!r}", HINT_RETURN_TENSOR)
    for index, (got, expected) in enumerate(zip(got_grads, expected_grads)):
        name = f"the gradient of parameter {index}"
        if expected is None:
            if got is not None:
                raise CheckFailed(f"{what}: {name} was None and should stay None, got {describe(got)}", HINT_NO_GRAD)
            continue
        expect_tensor(got, expected, f"{name} after {what} (the global norm before clipping is "
                      f"{float(expected_norm):.6g})", diagnosis or hint or HINT_CLIP)
    if not result["same_grad_objects"]:
        raise CheckFailed(f"{what}: the gradients were replaced by new tensors", HINT_IN_PLACE)
    if not result["values_unchanged"]:
        raise CheckFailed(f"{what}: the parameters' values changed", HINT_PARAMETERS)
    expect_tensor(returned, expected_norm, f"the norm returned by {what}", diagnosis or hint or HINT_BEFORE)


def gradients(generator: torch.Generator, shapes: list[tuple[int, ...]], norm: float,
              dtype: torch.dtype = torch.float32, missing: tuple[int, ...] = ()) -> tuple[list[torch.Tensor], list[torch.Tensor | None]]:
    """Parameter values and gradients of the given shapes whose global 2-norm is `norm`
    (parameters listed in `missing` get no gradient)."""
    values = [torch.randn(shape, generator=generator, dtype=dtype) for shape in shapes]
    raw = [torch.randn(shape, generator=generator, dtype=dtype) for shape in shapes]
    total = math.sqrt(sum(float(g.double().pow(2).sum()) for i, g in enumerate(raw) if i not in missing))
    grads: list[torch.Tensor | None] = [None if i in missing else g * (norm / total) for i, g in enumerate(raw)]
    return values, grads



@suite.check("clip_grad_norm")
def clip_list_above(ctx: Context) -> None:
    """clip_grad_norm scales a list of gradients of global norm 10 down to max_norm 1 and returns 10"""
    values, grads = gradients(fixed("list"), [(3, 4), (4,), (2, 2)], 10.0)
    check_clip_case(ctx, values, grads, 1.0, "list", "")


@suite.check("clip_grad_norm")
def clip_below(ctx: Context) -> None:
    """clip_grad_norm leaves gradients whose norm is below max_norm exactly as they are"""
    values, grads = gradients(fixed("below"), [(5,), (2, 3)], 0.5)
    check_clip_case(ctx, values, grads, 1.0, "list", " (norm below max_norm)")


@suite.check("clip_grad_norm")
def clip_generator(ctx: Context) -> None:
    """clip_grad_norm works on a one-pass generator such as net.parameters()"""
    values, grads = gradients(fixed("generator"), [(4, 3), (3,), (3, 2)], 6.0)
    check_clip_case(ctx, values, grads, 2.0, "generator", " (parameters is a generator)")


@suite.check("clip_grad_norm")
def clip_single_tensor(ctx: Context) -> None:
    """clip_grad_norm accepts a single tensor as parameters"""
    values, grads = gradients(fixed("tensor"), [(3, 5)], 4.0)
    check_clip_case(ctx, values, grads, 1.5, "tensor", " (parameters is one tensor)", HINT_TENSOR)


@suite.check("clip_grad_norm")
def clip_skips_missing_grads(ctx: Context) -> None:
    """clip_grad_norm skips parameters without a gradient"""
    values, grads = gradients(fixed("missing"), [(2, 3), (3,), (4,)], 5.0, missing=(1,))
    check_clip_case(ctx, values, grads, 1.0, "list", " (one parameter has no gradient)", HINT_NO_GRAD)


@suite.check("clip_grad_norm")
def clip_no_grads_at_all(ctx: Context) -> None:
    """clip_grad_norm returns a norm of 0 when no parameter has a gradient"""
    values, grads = gradients(fixed("none"), [(2,), (3,)], 1.0, missing=(0, 1))
    check_clip_case(ctx, values, grads, 1.0, "list", " (no parameter has a gradient)", HINT_NONE_AT_ALL)


@suite.check("clip_grad_norm")
def clip_float64(ctx: Context) -> None:
    """clip_grad_norm keeps float64 gradients and norm in float64"""
    values, grads = gradients(fixed("float64"), [(3, 3), (3,)], 7.0, dtype=torch.float64)
    check_clip_case(ctx, values, grads, 3.0, "list", " (float64)")
