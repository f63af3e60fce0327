"""a1_autograd · numerical_grad: what is forbidden, hints, the smooth
functions and the scenario, and the checks.

The oracle is torch's autograd, run here in the grader (the learner's
process may not touch it), together with the second and third partial
derivatives, which predict the exact error of each finite-difference
formula: for a step `eps`,

    central  = f' + eps**2 / 6 * f'''             + O(eps**4)
    forward  = f' + eps / 2 * f''  + eps**2 / 6 * f''' + O(eps**3)

so a one-sided difference is told apart by its error order, and a wrong
step by the size of its error.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import torch

from autograder.checking import CheckFailed, Context
from autograder.checks.a1_autograd import fixed_input, suite
from autograder.compare import expect_tensor, shape_of
from autograder.guard import forbid
from autograder.scenarios import Learner, describe, make_noncontiguous

# Forward-mode AD needs make_dual; unpack_dual alone is harmless, and
# printing a tensor calls it, so it is not traced (a print is not a cheat).
suite.forbid("numerical_grad", forbid(
    "make_dual",
    shown=("torch.autograd.*", "torch.func.*", ".backward()"),
    functions=(
        "torch.autograd.grad", "torch.autograd.backward", "torch.Tensor.backward",
        "torch.autograd.functional.jacobian", "torch.autograd.functional.hessian",
        "torch.autograd.functional.vjp", "torch.autograd.functional.jvp",
        "torch.autograd.functional.vhp", "torch.autograd.functional.hvp",
        "torch.func.grad", "torch.func.grad_and_value", "torch.func.vjp", "torch.func.jvp",
        "torch.func.jacrev", "torch.func.jacfwd", "torch.func.hessian", "torch.func.linearize",
    ),
    python_functions=(
        "torch.func.grad", "torch.func.grad_and_value", "torch.func.vjp", "torch.func.jvp", "torch.func.jacrev",
        "torch.func.jacfwd", "torch.func.hessian", "torch.func.linearize", "torch.func.vmap",
        "torch.autograd.forward_ad.make_dual",
    ),
    names=("autograd", "func", "functorch", "gradcheck", "forward_ad"),
    allowed_names=("grad",),  # x.grad is an attribute, not a call: torch.autograd.grad is caught as `autograd`
    whole_modules=("torch.autograd", "torch.func", "functorch"),
))

# Hints: one sentence naming the likely bug.
HINT_NG_ONE_SIDED = ("use central differences, (f(x + eps) - f(x - eps)) / (2 * eps): a one-sided difference "
                     "(f(x + eps) - f(x)) / eps is off by about eps/2 * f'', an error of order eps instead of eps**2")
HINT_NG_STEP = "perturb x by exactly ±eps, the eps argument (default 1e-6): your step is {step:.2g}, not eps = {eps:.2g}"
HINT_NG_TWO = "divide by 2 * eps: the central difference spans from x - eps to x + eps"
HINT_NG_CHANGED_X = ("numerical_grad changed x: perturb a copy of x, or put each element's saved value back "
                     "(x + eps - eps is not always bit-for-bit x in floating point)")
HINT_NG_NONCONTIGUOUS = ("for a non-contiguous x, x.reshape(-1) (and zeros_like(x).reshape(-1)) is a copy: writing into it "
                         "changes neither x nor your result; work on x.clone(memory_format=torch.contiguous_format) "
                         "and a fresh torch.zeros(x.shape, dtype=x.dtype), or index with full multi-indices")
HINT_NG_TENSOR = "return a tensor of x's shape and dtype (fill torch.zeros(x.shape, dtype=x.dtype)), not a list"
HINT_NG_DTYPE = ("build the result in x's dtype (dtype=x.dtype): float32 has too few digits "
                 "for differences of size 1e-6")
HINT_NG_ONE_AT_A_TIME = ("perturb one element at a time: grad[i] = (f(x with x[i] + eps) - f(x with x[i] - eps)) / (2 * eps), "
                         "every other element left as it is")


# --------------------------------------------------------------------------
# Learner side: scenarios.

# Smooth scalar functions the scenario picks by name. Their constants depend
# only on x's shape, so the learner's process and the grader agree.


def _ramp(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
    return torch.linspace(low, high, max(x.numel(), 1), dtype=x.dtype)[: x.numel()].reshape(x.shape)


def _mixing_matrix(n: int, dtype: torch.dtype) -> torch.Tensor:
    generator = torch.Generator().manual_seed(1000 + n)
    return torch.randn(n, n, generator=generator, dtype=dtype) / math.sqrt(n)


def _f_sin(x: torch.Tensor) -> torch.Tensor:
    return torch.sin(x).sum()


def _f_cubic(x: torch.Tensor) -> torch.Tensor:
    # Central differences of a cubic have error exactly eps**2 * c: the
    # prediction `central_prediction` is exact, whatever eps.
    c, b = _ramp(x, 0.5, 1.5), _ramp(x, -1.0, 1.0)
    return (c * x**3 + b * x**2 + 0.3 * x).sum()


def _f_tanh_mix(x: torch.Tensor) -> torch.Tensor:
    flat = x.reshape(-1)
    return torch.tanh(_mixing_matrix(flat.numel(), x.dtype) @ flat + 0.1).pow(2).sum()


def _f_log_sum_exp(x: torch.Tensor) -> torch.Tensor:
    return torch.logsumexp(1.5 * x.reshape(-1), dim=0) + 0.5 * (x**2).sum()


def _f_exp_cos(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(0.5 * x).sum() * torch.cos(x).mean()


def _f_rational(x: torch.Tensor) -> torch.Tensor:
    return (x / (1 + x**2)).sum() + 0.1 * x.sum() ** 2


def _f_norm_cos(x: torch.Tensor) -> torch.Tensor:
    return 0.1 * (x**2).sum() ** 2 + torch.cos(x.sum())


SMOOTH_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sin": _f_sin,
    "cubic": _f_cubic,
    "tanh_mix": _f_tanh_mix,
    "log_sum_exp": _f_log_sum_exp,
    "exp_cos": _f_exp_cos,
    "rational": _f_rational,
    "norm_cos": _f_norm_cos,
}
FORMULAS = {
    "sin": "f(x) = sin(x).sum()",
    "cubic": "f(x) = (c*x**3 + b*x**2 + 0.3*x).sum()",
    "tanh_mix": "f(x) = tanh(W @ x.flatten() + 0.1).pow(2).sum()",
    "log_sum_exp": "f(x) = logsumexp(1.5*x.flatten()) + 0.5*(x**2).sum()",
    "exp_cos": "f(x) = exp(0.5*x).sum() * cos(x).mean()",
    "rational": "f(x) = (x / (1 + x**2)).sum() + 0.1*x.sum()**2",
    "norm_cos": "f(x) = 0.1*(x**2).sum()**2 + cos(x.sum())",
}


def numerical_grad_trace(learner: Learner, name: str, x: torch.Tensor, eps: float | None,
                         noncontiguous: bool) -> dict[str, Any]:
    """The learner's numerical_grad of SMOOTH_FUNCTIONS[name] at x (laid out
    non-contiguously on request), and whether x came back bit-for-bit."""
    f = SMOOTH_FUNCTIONS[name]
    if noncontiguous:
        x = make_noncontiguous(x)
    bits = _bits(x)
    grad = learner["numerical_grad"](f, x) if eps is None else learner["numerical_grad"](f, x, eps)
    return {"grad": grad, "x_unchanged": bool(torch.equal(_bits(x), bits)), "x_after": x.detach().clone()}


def _bits(x: torch.Tensor) -> torch.Tensor:
    """x's exact bit patterns (so -0.0 != 0.0 and NaNs compare)."""
    return x.detach().contiguous().view(torch.int64 if x.element_size() == 8 else torch.int32).clone()


# --------------------------------------------------------------------------
# Grader side: the oracle, the diagnosis, the checks.

# Tolerance of a central difference: roundoff of the two evaluations of f,
# divided by the step, NG_ROUNDOFF * u * (1 + |f|) / eps with u the unit
# roundoff of float64, around the prediction f' + eps**2/6 * f''' (whose
# neglected O(eps**4) term is tiny for eps <= 1e-3 here, and zero for the cubic).
# Calibrated with scripts/calibrate_a1_autograd.py on the reference (300 seeds
# x 7 functions, random shapes of rank 0-3, eps = 1e-6, 1e-3, and 1e-2 on the
# cubic): its worst error is 11 units of u * (1 + |f|) / eps (mean 0.7 to 1.2),
# 18x below NG_ROUNDOFF; one-sided differences at eps = 1e-3 err by at least
# 8.5e5 units, 4200x above it (at eps = 1e-2 on the cubic, at least 6e7x).
NG_ROUNDOFF = 200.0
UNIT_ROUNDOFF = 2.0**-53


def _changes(before: torch.Tensor, after: torch.Tensor) -> str:
    """How x differs after the call, to the last bit."""
    if not isinstance(after, torch.Tensor) or after.shape != before.shape or after.dtype != before.dtype:
        return f"it is now {describe(after)}"
    changed = (_bits(before) != _bits(after)).reshape(-1)
    first = int(changed.nonzero()[0])
    index = [int(i) for i in torch.unravel_index(torch.tensor(first), before.shape)] if before.dim() else []
    return (f"{int(changed.sum())} of {before.numel()} elements differ afterwards; x{index} was "
            f"{float(before.reshape(-1)[first])!r} and is now {float(after.reshape(-1)[first])!r} "
            "(it must be bit-for-bit unchanged)")


def derivatives(name: str, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """f(x), the gradient, and the diagonal second and third partial
    derivatives of SMOOTH_FUNCTIONS[name] at x, by autograd in float64."""
    f = SMOOTH_FUNCTIONS[name]
    z = x.detach().to(torch.float64).clone().requires_grad_(True)
    value = f(z)
    (gradient,) = torch.autograd.grad(value, z, create_graph=True)
    flat = gradient.reshape(-1)
    second = torch.zeros(z.numel(), dtype=torch.float64)
    third = torch.zeros(z.numel(), dtype=torch.float64)
    for i in range(z.numel()):
        (row,) = torch.autograd.grad(flat[i], z, create_graph=True)
        h_ii = row.reshape(-1)[i]
        second[i] = h_ii.detach()
        if h_ii.requires_grad:
            (row3,) = torch.autograd.grad(h_ii, z, retain_graph=True, allow_unused=True)
            if row3 is not None:
                third[i] = row3.reshape(-1)[i].detach()
    return {
        "value": value.detach(),
        "grad": gradient.detach(),
        "second": second.reshape(z.shape),
        "third": third.reshape(z.shape),
    }


def central_prediction(d: dict[str, torch.Tensor], eps: float) -> torch.Tensor:
    return d["grad"] + eps**2 / 6 * d["third"]


def central_tolerance(d: dict[str, torch.Tensor], eps: float) -> float:
    return NG_ROUNDOFF * UNIT_ROUNDOFF * (1 + abs(float(d["value"]))) / eps


def diagnose_numerical_grad(got: torch.Tensor, d: dict[str, torch.Tensor], eps: float, tol: float,
                            noncontiguous: bool) -> str:
    """The likely bug behind a wrong result of the right shape and dtype:
    the candidate formula whose predicted error the learner's error matches."""
    got = got.detach().to(torch.float64)
    g, h, t = d["grad"], d["second"], d["third"]
    central = central_prediction(d, eps)

    def matches(candidate: torch.Tensor) -> bool:
        return bool(((got - candidate).abs() <= 0.05 * (candidate - central).abs() + 5 * tol).all())

    if noncontiguous and bool((got == 0).all()) and bool((g != 0).any()):
        return HINT_NG_NONCONTIGUOUS
    if matches(central + eps / 2 * h) or matches(central - eps / 2 * h):
        return HINT_NG_ONE_SIDED
    if matches(2 * central):
        return HINT_NG_TWO
    # A central difference of another step errs by step**2/6 * f''': solve for the step.
    usable = t.abs() > 1e-3 * float(t.abs().max())
    if bool(usable.any()):
        step_squared = float((6 * (got - g)[usable] / t[usable]).median())
        if step_squared > 0 and matches(g + step_squared / 6 * t):
            step = math.sqrt(step_squared)
            if not 0.5 < step / eps < 2:
                return HINT_NG_STEP.format(step=step, eps=eps)
    return HINT_NG_ONE_AT_A_TIME


def check_numerical_grad_case(ctx: Context, name: str, x: torch.Tensor, eps: float | None, label: str,
                              noncontiguous: bool = False) -> None:
    """The learner's numerical_grad(f, x[, eps]) against the central-difference
    prediction from autograd; x must come back bit-for-bit."""
    result = ctx.run(numerical_grad_trace, name, x, eps, noncontiguous)
    step = 1e-6 if eps is None else eps
    layout = " (non-contiguous)" if noncontiguous else ""
    call_text = "numerical_grad(f, x)" if eps is None else f"numerical_grad(f, x, eps={eps:g})"
    what = f"{call_text} for {FORMULAS[name]}, x of {shape_of(x)}{layout}{label}"
    if not result["x_unchanged"]:
        raise CheckFailed(f"{what}: x was changed, {_changes(x, result['x_after'])}", HINT_NG_CHANGED_X)
    got = result["grad"]
    d = derivatives(name, x)
    expected = central_prediction(d, step).to(x.dtype)
    tol = central_tolerance(d, step)
    if isinstance(got, (list, tuple)):
        raise CheckFailed(f"{what}: expected a tensor of {shape_of(expected)}, got {describe(got)}", HINT_NG_TENSOR)
    if isinstance(got, torch.Tensor) and got.shape == expected.shape and got.dtype != expected.dtype:
        raise CheckFailed(f"{what}: expected dtype {expected.dtype}, got {got.dtype}", HINT_NG_DTYPE)
    hint = None
    if isinstance(got, torch.Tensor) and got.shape == expected.shape and got.dtype == expected.dtype:
        if not bool(((got - expected).abs() <= tol).all()):
            hint = diagnose_numerical_grad(got, d, step, tol, noncontiguous)
    if hint is None and isinstance(got, torch.Tensor) and got.shape != expected.shape:
        hint = "return one partial derivative per element of x, in a tensor of x's shape"
    expect_tensor(got, expected, what, hint, rtol=0.0, atol=math.inf)  # a tensor of the right shape and dtype
    error = (got.detach() - expected).abs()
    if not bool((error <= tol).all()):  # NaN fails too
        flat = int(torch.nan_to_num(error, nan=math.inf).reshape(-1).argmax())
        index = [int(i) for i in torch.unravel_index(torch.tensor(flat), expected.shape)] if expected.dim() else []
        raise CheckFailed(f"{what}: off by up to {float(error.reshape(-1)[flat]):.2g} (tolerance {tol:.1g}); "
                          f"at {index}: expected {float(expected.reshape(-1)[flat]):.12g}, "
                          f"got {float(got.reshape(-1)[flat]):.12g}", hint)


@suite.check("numerical_grad")
def numerical_grad_matches_autograd(ctx: Context) -> None:
    """numerical_grad agrees with autograd on smooth functions of a vector and a matrix (default eps)"""
    check_numerical_grad_case(ctx, "sin", fixed_input((5,), 1), None, "")
    check_numerical_grad_case(ctx, "tanh_mix", fixed_input((2, 3), 2), None, "")
    check_numerical_grad_case(ctx, "exp_cos", fixed_input((4,), 3), None, "")


@suite.check("numerical_grad")
def numerical_grad_leaves_x_unchanged(ctx: Context) -> None:
    """numerical_grad leaves x bit-for-bit unchanged, also a non-contiguous x"""
    check_numerical_grad_case(ctx, "rational", fixed_input((3, 4), 4), None, "")
    check_numerical_grad_case(ctx, "tanh_mix", fixed_input((3, 4), 5), None, "", noncontiguous=True)


@suite.check("numerical_grad")
def numerical_grad_is_central(ctx: Context) -> None:
    """numerical_grad uses central differences of step eps: error of order eps**2, not eps"""
    check_numerical_grad_case(ctx, "cubic", fixed_input((6,), 6), 1e-2, "")
    check_numerical_grad_case(ctx, "log_sum_exp", fixed_input((2, 2), 7), 1e-3, "")
