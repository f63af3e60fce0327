"""a1_autograd · Sigmoid: what is forbidden, hints, the scenarios and the
checks. Checked against torch.sigmoid (in the grader), by
torch.autograd.gradcheck (in the scenario), and for autograd used inside
its own forward/backward (see `AutogradDetector`).
"""
from __future__ import annotations

from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from autograder.checking import CheckFailed, Context
from autograder.checks.a1_autograd import fixed_input, suite
from autograder.compare import expect_tensor, shape_of, tolerance
from autograder.guard import forbid
from autograder.scenarios import Learner, describe, make_noncontiguous

# Other ops compute a sigmoid in disguise: silu(x) / x, exp(-softplus(-x)),
# glu([1, x]) = 1 * sigmoid(x), exp(logsigmoid(x)).
suite.forbid("Sigmoid", forbid(
    "sigmoid", "expit", "logsigmoid", "log_sigmoid", "silu", "softplus", "glu",
    shown=("torch.sigmoid", "F.sigmoid", "torch.special.expit", "Tensor.sigmoid", "nn.Sigmoid",
           "F.logsigmoid", "F.silu / nn.SiLU", "F.softplus / nn.Softplus", "F.glu / nn.GLU",
           "autograd inside backward"),
    modules=("torch.nn.Sigmoid", "torch.nn.LogSigmoid", "torch.nn.SiLU", "torch.nn.Softplus", "torch.nn.GLU"),
    allowed_names=("Sigmoid",),  # the answer's own class
))

# Hints: one sentence naming the likely bug.
HINT_SIG_OVERFLOW = ("exp overflows to inf for large |x| (then inf / inf = nan): use exp(-|x|), which lies in (0, 1], "
                     "with 1 / (1 + z) for x >= 0 and z / (1 + z) for x < 0")
HINT_SIG_GRAD_OVERFLOW = ("the gradient overflows: exp(-x) / (1 + exp(-x))**2 is inf / inf = nan for x = -1000; "
                          "compute it from the saved output s instead: grad_output * s * (1 - s)")
HINT_SIG_DERIVATIVE = "the derivative of the sigmoid is s * (1 - s) with s = sigmoid(x), times grad_output"
HINT_SIG_SAVED_INPUT = ("backward treats the saved input x as if it were the output s: save s = sigmoid(x) in forward "
                        "(ctx.save_for_backward(s)), or recompute s from the saved input")
HINT_SIG_GRAD_OUTPUT = "multiply by grad_output (the chain rule): return grad_output * s * (1 - s)"
HINT_SIG_SAVE = ("save what backward needs with ctx.save_for_backward(...) in forward and read it back with "
                 "ctx.saved_tensors (not as ctx attributes): autograd then checks it was not modified in between")
HINT_SIG_FUNCTION = ("declare class Sigmoid(torch.autograd.Function) with @staticmethod forward(ctx, x) and "
                     "backward(ctx, grad_output), and use it as Sigmoid.apply(x)")


# --------------------------------------------------------------------------
# Learner side: scenarios.

AUTOGRAD_CALLS = {
    torch.autograd.grad: "torch.autograd.grad",
    torch.autograd.backward: "torch.autograd.backward",
    torch.Tensor.backward: ".backward()",
}


class AutogradDetector(TorchFunctionMode):
    """Records autograd entry points called while it is active. Entered from
    inside the learner's forward/backward (the autograd engine does not carry
    the grader's outer tracing into backward), so the scenario's own
    backward()/gradcheck calls are never counted."""

    def __init__(self, where: str, found: list[str]) -> None:
        super().__init__()
        self.where = where
        self.found = found

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001 - torch's protocol
        name = AUTOGRAD_CALLS.get(func)
        if name is not None:
            note = f"{name} inside {self.where}"
            if note not in self.found:
                self.found.append(note)
        return func(*args, **(kwargs or {}))


def autograd_probe(Sigmoid: type) -> tuple[type, list[str]]:
    """A subclass of the learner's Function whose forward and backward run
    the learner's own under an AutogradDetector."""
    found: list[str] = []

    class Probe(Sigmoid):  # type: ignore[misc, valid-type]
        @staticmethod
        def forward(ctx: Any, x: torch.Tensor) -> Any:
            with AutogradDetector("forward", found):
                return Sigmoid.forward(ctx, x)

        @staticmethod
        def backward(ctx: Any, grad_output: torch.Tensor) -> Any:
            with AutogradDetector("backward", found):
                return Sigmoid.backward(ctx, grad_output)

    return Probe, found


def _is_function(Sigmoid: Any) -> bool:
    return isinstance(Sigmoid, type) and issubclass(Sigmoid, torch.autograd.Function)


def sigmoid_trace(learner: Learner, x: torch.Tensor, grad_output: torch.Tensor, noncontiguous: bool) -> dict[str, Any]:
    """Sigmoid.apply(x) and the gradient of (out * grad_output).sum(); what
    forward saved; autograd calls made inside forward/backward."""
    Sigmoid = learner["Sigmoid"]
    if not _is_function(Sigmoid):
        return {"not_function": describe(Sigmoid)}
    Probe, found = autograd_probe(Sigmoid)
    leaf = x.clone()
    if noncontiguous:
        leaf = make_noncontiguous(leaf)
    leaf.requires_grad_(True)
    before = leaf.detach().clone()
    out = Probe.apply(leaf)
    result: dict[str, Any] = {"out": out, "grad": None, "saved": None, "backward_error": None, "autograd": found}
    result["input_unchanged"] = bool(torch.equal(before, leaf.detach()))
    if isinstance(out, torch.Tensor) and out.grad_fn is not None:
        result["saved"] = len(out.grad_fn.saved_tensors)
        try:
            if out.shape != grad_output.shape:
                raise RuntimeError(f"output has shape {tuple(out.shape)}, expected {tuple(grad_output.shape)}")
            out.backward(grad_output.to(out.dtype))
        except RuntimeError as error:
            if isinstance(error, NotImplementedError):
                raise
            result["backward_error"] = str(error).splitlines()[0][:300]
        result["grad"] = leaf.grad
    return result


def sigmoid_gradcheck(learner: Learner, x: torch.Tensor) -> dict[str, Any]:
    """torch.autograd.gradcheck of Sigmoid.apply at x (float64)."""
    Sigmoid = learner["Sigmoid"]
    if not _is_function(Sigmoid):
        return {"not_function": describe(Sigmoid)}
    Probe, found = autograd_probe(Sigmoid)
    leaf = x.clone().requires_grad_(True)
    try:
        passed = bool(torch.autograd.gradcheck(Probe.apply, (leaf,), eps=1e-6, atol=1e-5, rtol=1e-3))
        error = None
    except torch.autograd.gradcheck.GradcheckError as failure:
        passed, error = False, str(failure)[:1500]
    return {"passed": passed, "error": error, "autograd": found}


# --------------------------------------------------------------------------
# Grader side: the diagnosis and the checks.


def _autograd_failure(found: list[str]) -> CheckFailed:
    return CheckFailed(
        f"Sigmoid calls {'; '.join(found)}: this exercise asks you to write the gradient yourself, so autograd "
        "inside forward/backward earns no credit",
        "compute grad_output * s * (1 - s) directly from ctx.saved_tensors, with plain tensor operations",
    )


def _function_failure(result: dict[str, Any]) -> CheckFailed:
    return CheckFailed(f"Sigmoid should be a subclass of torch.autograd.Function, got {result['not_function']}",
                       HINT_SIG_FUNCTION)


def diagnose_sigmoid_gradient(got: torch.Tensor, x: torch.Tensor, grad_output: torch.Tensor) -> str:
    x64, g64, got64 = x.to(torch.float64), grad_output.to(torch.float64), got.detach().to(torch.float64)
    s = torch.sigmoid(x64)
    expected = g64 * s * (1 - s)
    rtol, atol = (1e-4, 1e-6) if x.dtype == torch.float32 else (1e-8, 1e-12)
    if not torch.isfinite(got64).all() and torch.isfinite(expected).all():
        return HINT_SIG_GRAD_OVERFLOW
    for candidate, hint in (
        (g64 * x64 * (1 - x64), HINT_SIG_SAVED_INPUT),
        (s * (1 - s), HINT_SIG_GRAD_OUTPUT),
        (g64 * s * (1 + s), HINT_SIG_DERIVATIVE),
        (g64 * s, HINT_SIG_DERIVATIVE),
    ):
        if torch.allclose(got64, candidate, rtol=rtol, atol=atol) and not torch.allclose(candidate, expected, rtol=rtol, atol=atol):
            return hint
    return HINT_SIG_DERIVATIVE


def check_sigmoid_case(ctx: Context, x: torch.Tensor, label: str, noncontiguous: bool = False) -> None:
    """The learner's Sigmoid on x: values, gradient for a random grad_output,
    saved tensors, no autograd inside, input untouched."""
    grad_output = torch.randn(x.shape, generator=ctx.generator(f"grad_output{label}{tuple(x.shape)}"), dtype=x.dtype)
    result = ctx.run(sigmoid_trace, x, grad_output, noncontiguous)
    if "not_function" in result:
        raise _function_failure(result)
    if result["autograd"]:
        raise _autograd_failure(result["autograd"])
    layout = " (non-contiguous)" if noncontiguous else ""
    what = f"Sigmoid.apply(x) for x of {shape_of(x)}{layout}{label}"
    expected = torch.sigmoid(x)
    got = result["out"]
    hint = None
    if isinstance(got, torch.Tensor) and got.shape == x.shape and not torch.isfinite(got).all():
        hint = HINT_SIG_OVERFLOW
    expect_tensor(got, expected, what, hint)
    if not result["input_unchanged"]:
        raise CheckFailed(f"{what}: Sigmoid changed x in place", "compute on new tensors: no x.neg_(), x.exp_(), x *= ...")
    if not result["saved"]:
        raise CheckFailed(f"{what}: forward saved no tensors with ctx.save_for_backward", HINT_SIG_SAVE)
    if result["backward_error"]:
        raise CheckFailed(f"gradient of {what}: backward failed: {result['backward_error']}",
                          "backward returns one gradient, of x's shape: grad_output * s * (1 - s)")
    if result["grad"] is None:
        raise CheckFailed(f"gradient of {what}: no gradient reached x",
                          "forward returns a tensor computed from x; backward returns its gradient")
    reference = x.clone().requires_grad_(True)
    (torch.sigmoid(reference) * grad_output).sum().backward()
    grad_hint = None
    if isinstance(result["grad"], torch.Tensor) and result["grad"].shape == x.shape:
        if not torch.allclose(result["grad"].to(x.dtype), reference.grad, *tolerance(x.dtype)):
            grad_hint = diagnose_sigmoid_gradient(result["grad"], x, grad_output)
    expect_tensor(result["grad"], reference.grad, f"gradient of {what} (random grad_output)", grad_hint)


def check_sigmoid_gradcheck(ctx: Context, x: torch.Tensor, label: str) -> None:
    result = ctx.run(sigmoid_gradcheck, x)
    if "not_function" in result:
        raise _function_failure(result)
    if result["autograd"]:
        raise _autograd_failure(result["autograd"])
    if not result["passed"]:
        error = (result["error"] or "").strip()
        raise CheckFailed(f"torch.autograd.gradcheck(Sigmoid.apply, (x,)) failed for x of {shape_of(x)}{label}:\n{error}",
                          HINT_SIG_DERIVATIVE)


@suite.check("Sigmoid")
def sigmoid_matches_torch(ctx: Context) -> None:
    """Sigmoid matches torch.sigmoid in values and gradients, float32 and float64"""
    check_sigmoid_case(ctx, torch.linspace(-6, 6, 10).reshape(2, 5), "")
    check_sigmoid_case(ctx, fixed_input((3, 4), 8, 3.0), "")


@suite.check("Sigmoid")
def sigmoid_gradcheck_passes(ctx: Context) -> None:
    """Sigmoid passes torch.autograd.gradcheck in float64"""
    check_sigmoid_gradcheck(ctx, fixed_input((3, 4), 9, 3.0), "")


@suite.check("Sigmoid")
def sigmoid_extreme_inputs(ctx: Context) -> None:
    """Sigmoid gives finite values and gradients for inputs of ±100 and ±1000"""
    values = [-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0]
    check_sigmoid_case(ctx, torch.tensor(values, dtype=torch.float64), " (extreme inputs)")
    check_sigmoid_case(ctx, torch.tensor(values, dtype=torch.float32), " (extreme inputs)")
