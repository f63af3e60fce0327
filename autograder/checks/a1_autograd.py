"""a1_autograd: public checks, the scenarios they run, and what is forbidden.

Three exercises:

* `numerical_grad(f, x, eps)`: central differences. The oracle is torch's
  autograd, run here in the grader (the learner's process may not touch it),
  together with the second and third partial derivatives, which predict the
  exact error of each finite-difference formula: for a step `eps`,

      central  = f' + eps**2 / 6 * f'''             + O(eps**4)
      forward  = f' + eps / 2 * f''  + eps**2 / 6 * f''' + O(eps**3)

  so a one-sided difference is told apart by its error order, and a wrong
  step by the size of its error.
* `Value`: a scalar reverse-mode engine in pure Python. Scenarios build
  expression graphs from plain-data descriptions (see `apply_op`); the same
  descriptions are replayed here with torch in float64 as the oracle.
* `Sigmoid`: a `torch.autograd.Function`; checked against `torch.sigmoid`
  (in the grader), by `torch.autograd.gradcheck` (in the scenario), and for
  autograd used inside its own forward/backward (see `AutogradProbe`).

Hidden checks (solutions/a1_autograd/hidden_checks.py) register into the same
`suite` and reuse the scenarios and diagnoses defined here.
"""
from __future__ import annotations

import itertools
import math
import operator
import random
from typing import Any, Callable

import torch
from torch.overrides import TorchFunctionMode

from autograder.checking import CheckFailed, Context, Suite
from autograder.compare import expect_tensor, shape_of, tolerance
from autograder.guard import Forbidden
from autograder.scenarios import Learner, describe, make_noncontiguous

suite = Suite("a1_autograd")

# --------------------------------------------------------------------------
# What each exercise may not call.

suite.forbid(
    "numerical_grad",
    Forbidden(
        shown=("torch.autograd.*", "torch.func.*", ".backward()"),
        functions=(
            "torch.autograd.grad", "torch.autograd.backward", "torch.Tensor.backward",
            "torch.autograd.functional.jacobian", "torch.autograd.functional.hessian",
            "torch.autograd.functional.vjp", "torch.autograd.functional.jvp",
            "torch.autograd.functional.vhp", "torch.autograd.functional.hvp",
            "torch.func.grad", "torch.func.grad_and_value", "torch.func.vjp", "torch.func.jvp",
            "torch.func.jacrev", "torch.func.jacfwd", "torch.func.hessian", "torch.func.linearize",
        ),
        aten=("_make_dual", "_unpack_dual"),
        python_functions=(
            "torch.func.grad", "torch.func.grad_and_value", "torch.func.vjp", "torch.func.jvp", "torch.func.jacrev",
            "torch.func.jacfwd", "torch.func.hessian", "torch.func.linearize", "torch.func.vmap",
            "torch.autograd.forward_ad.make_dual", "torch.autograd.forward_ad.unpack_dual",
        ),
        names=("backward", "autograd", "func", "functorch", "jacobian", "hessian", "vjp", "jvp", "vhp", "hvp",
               "jacrev", "jacfwd", "grad_and_value", "gradcheck", "forward_ad", "make_dual"),
        whole_modules=("torch.autograd", "torch.func", "functorch"),
    ),
)
# Value is pure Python: every torch call made while it runs is a use.
suite.forbid("Value", Forbidden(shown=("torch",), any_torch=True, whole_modules=("torch",)))
suite.forbid(
    "Sigmoid",
    Forbidden(
        shown=("torch.sigmoid", "F.sigmoid", "torch.special.expit", "Tensor.sigmoid", "nn.Sigmoid",
               "F.logsigmoid", "autograd inside backward"),
        functions=(
            "torch.sigmoid", "torch.sigmoid_", "torch.Tensor.sigmoid", "torch.Tensor.sigmoid_",
            "torch.nn.functional.sigmoid", "torch.special.expit", "torch.nn.functional.logsigmoid",
        ),
        aten=("sigmoid", "sigmoid_", "sigmoid_backward", "special_expit", "log_sigmoid", "log_sigmoid_forward",
              "log_sigmoid_backward"),
        modules=("torch.nn.Sigmoid", "torch.nn.LogSigmoid"),
        names=("sigmoid", "sigmoid_", "expit", "logsigmoid", "log_sigmoid", "sigmoid_backward", "LogSigmoid"),
    ),
)

# ==========================================================================
# numerical_grad
# ==========================================================================

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


# ==========================================================================
# Value
# ==========================================================================

# A graph is plain data: leaf values, then one operation per new node,
# numbered after the leaves (v0, v1, ...); the last node is the output.
#   ["vv", sym, i, j]  v_i sym v_j         sym in + - * /
#   ["vc", sym, i, c]  v_i sym c           c a Python number
#   ["cv", sym, c, i]  c sym v_i           (__radd__, __rsub__, __rmul__, __rtruediv__)
#   ["pow", i, p]      v_i ** p            p a Python number
#   ["neg", i]         -v_i
#   [name, i]          v_i.name()          name in relu, tanh, exp, log
BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def apply_op(nodes: list[Any], op: list[Any]) -> Any:
    """One operation on learner Values or on torch tensors alike."""
    kind = op[0]
    if kind == "vv":
        return BINARY[op[1]](nodes[op[2]], nodes[op[3]])
    if kind == "vc":
        return BINARY[op[1]](nodes[op[2]], op[3])
    if kind == "cv":
        return BINARY[op[1]](op[2], nodes[op[3]])
    if kind == "pow":
        return nodes[op[1]] ** op[2]
    if kind == "neg":
        return -nodes[op[1]]
    return getattr(nodes[op[1]], kind)()


def operands(op: list[Any]) -> list[int]:
    """The node index in each operand slot of `op`."""
    kind = op[0]
    if kind == "vv":
        return [op[2], op[3]]
    if kind == "vc":
        return [op[2]]
    if kind == "cv":
        return [op[3]]
    return [op[1]]


def op_key(op: list[Any]) -> str:
    """Which rule an operation exercises: "+", "r-" (number - Value), "**", "tanh", ..."""
    kind = op[0]
    if kind in ("vv", "vc"):
        return op[1]
    if kind == "cv":
        return "r" + op[1]
    return "**" if kind == "pow" else kind


def op_text(op: list[Any], k: int) -> str:
    """`v5 = v2 * 3` for the message."""
    kind = op[0]
    if kind == "vv":
        rhs = f"v{op[2]} {op[1]} v{op[3]}"
    elif kind == "vc":
        rhs = f"v{op[2]} {op[1]} {repr(op[3])}"
    elif kind == "cv":
        rhs = f"{repr(op[2])} {op[1]} v{op[3]}"
    elif kind == "pow":
        rhs = f"v{op[1]} ** {repr(op[2])}"
    elif kind == "neg":
        rhs = f"-v{op[1]}"
    else:
        rhs = f"v{op[1]}.{kind}()"
    return f"v{k} = {rhs}"


def graph_text(leaves: list[float], ops: list[list[Any]], limit: int = 40) -> str:
    lines = [f"v{i} = Value({v!r})" for i, v in enumerate(leaves)]
    lines += [op_text(op, len(leaves) + k) for k, op in enumerate(ops)]
    lines.append(f"v{len(leaves) + len(ops) - 1}.backward()")
    if len(lines) > limit:
        lines = lines[: limit - 1] + [f"... ({len(lines) - limit + 1} more lines)"]
    return "\n".join("    " + line for line in lines)


RULE_HINTS = {
    "+": "the backward of a + b passes out.grad to both operands: a.grad += out.grad; b.grad += out.grad",
    "-": "a - b is a + (-b): its backward adds out.grad to a.grad and -out.grad to b.grad",
    "*": "the backward of a * b is a.grad += b.data * out.grad; b.grad += a.data * out.grad",
    "/": "a / b is a * b**-1: d/da = 1/b and d/db = -a/b**2, each times out.grad",
    "r+": "number + Value calls Value.__radd__(self, other): define it (return self + other)",
    "r-": "number - Value calls Value.__rsub__(self, other), which must compute other - self (not self - other)",
    "r*": "number * Value calls Value.__rmul__(self, other): define it (return self * other)",
    "r/": "number / Value calls Value.__rtruediv__(self, other), which must compute other / self (other * self**-1)",
    "**": "the backward of a ** p (p a number) is a.grad += p * a**(p - 1) * out.grad",
    "neg": "-a is a * -1: its backward adds -out.grad to a.grad",
    "relu": "relu's backward passes out.grad where the input is > 0 and nothing elsewhere: a.grad += (out.data > 0) * out.grad",
    "tanh": "d tanh(a)/da = 1 - tanh(a)**2: a.grad += (1 - t**2) * out.grad with t = out.data",
    "exp": "d exp(a)/da = exp(a): a.grad += out.data * out.grad",
    "log": "d log(a)/da = 1/a: a.grad += out.grad / a.data",
}
HINT_WRAP_NUMBER = "wrap plain numbers first: other = other if isinstance(other, Value) else Value(other)"
HINT_ACCUMULATE = ("gradients must accumulate: use += in every backward rule, not =; a node used twice (a * a, or "
                   "feeding two parents) receives a contribution from each use")
HINT_VISITED_TWICE = ("backward visited a node more than once: build one topological order (a visited set, each node "
                      "once), then call each node's backward rule in reverse order")
HINT_SEED = "backward() starts by setting the output's own grad to 1.0 (d out / d out = 1)"
HINT_START_ZERO = "every Value starts with grad = 0.0 (leaves and results of operations alike)"
HINT_NOT_VALUE = "every operation returns a new Value, built from the operands' .data, that remembers its operands"


def _rule_hint(key: str) -> str:
    return f"the rule of `{_op_symbol(key)}` is wrong: {RULE_HINTS[key]}"


def _op_symbol(key: str) -> str:
    if key.startswith("r") and key[1:] in BINARY:
        return f"number {key[1:]} Value"
    if key in BINARY:
        return f"Value {key} ..."
    if key == "neg":
        return "-Value"
    if key == "**":
        return "Value ** number"
    return f".{key}()"


def _plain_number(value: Any) -> Any:
    """A Python float, or a description of what the learner stored."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return f"{type(value).__name__} {value!r}"[:80]


def _counting_class(Value: type, writes: dict[int, int]) -> type:
    """A subclass of the learner's Value that counts assignments to `.grad`
    (used for leaves only: a topological backward writes a leaf's grad at most
    once per use, a naive recursion many times)."""

    class Leaf(Value):  # type: ignore[misc, valid-type]
        def __setattr__(self, name: str, value: Any) -> None:
            if name == "grad":
                writes[id(self)] = writes.get(id(self), 0) + 1
            super().__setattr__(name, value)

    Leaf.__name__ = Value.__name__
    Leaf.__qualname__ = Value.__qualname__
    return Leaf


FORWARD_ERRORS = (TypeError, AttributeError, ZeroDivisionError, ValueError, OverflowError)


def value_graphs_trace(learner: Learner, graphs: list[list[Any]]) -> list[dict[str, Any]]:
    """Build each graph [leaves, ops] from the learner's Value, call backward()
    on its last node and report every node's data and grad as Python floats.

    Pure Python: no torch call may happen here (Value's rule is any_torch).
    Errors a wrong operator raises (a missing __radd__, ...) come back as data
    naming the operation; any other exception (NotImplementedError first of
    all) propagates to the grader as usual."""
    Value = learner["Value"]
    results = []
    for leaves, ops in graphs:
        writes: dict[int, int] = {}
        Leaf = _counting_class(Value, writes) if isinstance(Value, type) else Value
        nodes = [Leaf(value) for value in leaves]
        result: dict[str, Any] = {"grad_at_start": [_plain_number(getattr(n, "grad", None)) for n in nodes]}
        failed = None
        for k, op in enumerate(ops):
            try:
                node = apply_op(nodes, op)
            except FORWARD_ERRORS as error:
                failed = {"failed_at": k, "error": f"{type(error).__name__}: {error}"[:300]}
                break
            if not isinstance(node, Value):
                failed = {"failed_at": k, "error": f"it returned {type(node).__name__} {node!r}"[:200], "not_value": True}
                break
            result["grad_at_start"].append(_plain_number(getattr(node, "grad", None)))
            nodes.append(node)
        if failed:
            result.update(failed)
            results.append(result)
            continue
        leaf_ids = [id(n) for n in nodes[: len(leaves)]]
        writes.clear()
        try:
            nodes[-1].backward()
        except FORWARD_ERRORS as error:
            result["backward_error"] = f"{type(error).__name__}: {error}"[:300]
        result["data"] = [_plain_number(getattr(n, "data", None)) for n in nodes]
        result["grad"] = [_plain_number(getattr(n, "grad", None)) for n in nodes]
        result["leaf_writes"] = [writes.get(i, 0) for i in leaf_ids]
        results.append(result)
    return results


def value_accumulation_trace(learner: Learner) -> list[Any]:
    """Two backward() calls on different outputs that share the leaves a, b."""
    Value = learner["Value"]
    a, b = Value(1.5), Value(0.0)
    (a * b).backward()
    (a + b).backward()
    return [_plain_number(a.grad), _plain_number(b.grad)]


def value_oracle(leaves: list[float], ops: list[list[Any]]) -> tuple[list[float], list[float]]:
    """Every node's value and gradient by torch autograd in float64."""
    nodes = [torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for v in leaves]
    for op in ops:
        node = apply_op(nodes, op)
        node.retain_grad()
        nodes.append(node)
    nodes[-1].backward()
    data = [float(n.detach()) for n in nodes]
    grad = [float(n.grad) if n.grad is not None else 0.0 for n in nodes]
    return data, grad


def local_derivative(op: list[Any], slot: int, data: list[float], out: float) -> float:
    """d out / d operand in `slot`, from the true values."""
    kind = op[0]
    if kind == "vv":
        a, b = data[op[2]], data[op[3]]
        return {"+": (1.0, 1.0), "-": (1.0, -1.0), "*": (b, a), "/": (1 / b, -a / b**2)}[op[1]][slot]
    if kind == "vc":
        c = op[3]
        return {"+": 1.0, "-": 1.0, "*": float(c), "/": 1 / c}[op[1]]
    if kind == "cv":
        c, a = op[2], data[op[3]]
        return {"+": 1.0, "-": -1.0, "*": float(c), "/": -c / a**2}[op[1]]
    a = data[operands(op)[0]]
    if kind == "pow":
        return op[2] * a ** (op[2] - 1)
    return {"neg": -1.0, "relu": float(a > 0), "tanh": 1 - out**2, "exp": out, "log": 1 / a}[kind]


def _same(a: Any, b: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    return isinstance(a, float) and math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def judge_value_graph(result: dict[str, Any], leaves: list[float], ops: list[list[Any]], what: str,
                      hint: str | None = None) -> None:
    """Compare one traced graph with the torch oracle; fail naming the first
    wrong node and the operation whose rule is to blame."""
    n_leaves = len(leaves)
    listing = f"\n  the graph:\n{graph_text(leaves, ops)}"
    if "failed_at" in result:
        k = result["failed_at"]
        op = ops[k]
        key = op_key(op)
        if result.get("not_value"):
            raise CheckFailed(f"{what}: {op_text(op, n_leaves + k)}: {result['error']}, not a Value{listing}",
                              HINT_NOT_VALUE)
        if key.startswith("r"):
            guess = RULE_HINTS[key]
        elif op[0] == "vc":
            guess = HINT_WRAP_NUMBER
        else:
            guess = f"define the operation `{_op_symbol(key)}`"
        raise CheckFailed(f"{what}: {op_text(op, n_leaves + k)} raised {result['error']}{listing}", guess)
    data, grad = value_oracle(leaves, ops)
    for k, got in enumerate(result["grad_at_start"]):
        if not _same(got, 0.0):
            raise CheckFailed(f"{what}: before backward(), v{k}.grad is {got}, expected 0.0{listing}", HINT_START_ZERO)
    for k, (got, expected) in enumerate(zip(result["data"], data)):
        if not _same(got, expected):
            if k < n_leaves:
                raise CheckFailed(f"{what}: Value({leaves[k]!r}).data is {got}, expected {expected!r}{listing}",
                                  "store the number you are given: self.data = data")
            op = ops[k - n_leaves]
            key = op_key(op)
            raise CheckFailed(f"{what}: the value of {op_text(op, k)} is wrong: expected {expected:.10g}, "
                              f"got {got if isinstance(got, str) else format(got, '.10g')}{listing}",
                              f"the forward of `{_op_symbol(key)}` is wrong" +
                              (f": {RULE_HINTS[key]}" if key.startswith("r") else ""))
    if "backward_error" in result:
        raise CheckFailed(f"{what}: backward() raised {result['backward_error']}{listing}",
                          "backward() builds a topological order of the graph, sets its own grad to 1.0, "
                          "then runs each node's backward rule in reverse order")
    # Correct engines may round differently (a / b or a * b**-1); where
    # contributions nearly cancel, allow for that on the graph's own scale.
    floor = 1e-10 + 1e-12 * max(abs(g) for g in grad)
    wrong = [k for k, (got, expected) in enumerate(zip(result["grad"], grad)) if not _same(got, expected, 1e-8, floor)]
    if not wrong:
        return
    out = len(data) - 1
    if out in wrong:
        raise CheckFailed(f"{what}: after v{out}.backward(), v{out}.grad is {result['grad'][out]}, expected 1.0{listing}",
                          HINT_SEED)
    k = max(wrong)
    got = result["grad"][k]
    message = (f"{what}: after v{out}.backward(), the gradient of v{k} is wrong: expected {grad[k]:.10g}, "
               f"got {got if isinstance(got, str) else format(got, '.10g')}{listing}")
    raise CheckFailed(message, hint or diagnose_value_gradient(result, leaves, ops, data, grad, k))


def diagnose_value_gradient(result: dict[str, Any], leaves: list[float], ops: list[list[Any]], data: list[float],
                            grad: list[float], k: int) -> str:
    """Why node k, the last node with a wrong gradient, is wrong. Every node
    after it is right, so the blame lies with the rules of k's consumers, with
    accumulation, or with how often backward ran them."""
    n_leaves = len(leaves)
    uses = [0] * len(data)
    for op in ops:
        for index in operands(op):
            uses[index] += 1
    # A leaf's grad is written at most once per use when each consumer's rule runs once.
    if any(w > uses[i] for i, w in enumerate(result.get("leaf_writes", []))):
        return HINT_VISITED_TWICE
    edges = []  # (consumer node, its op, contribution of this use)
    for j, op in enumerate(ops):
        for slot, index in enumerate(operands(op)):
            if index == k:
                node = n_leaves + j
                edges.append((node, op, local_derivative(op, slot, data, data[node]) * grad[node]))
    got = result["grad"][k]
    if not isinstance(got, float) or not edges:
        return "every node's grad must be a number accumulated by its consumers' backward rules"
    if 2 <= len(edges) <= 8:
        for counts in itertools.product((0, 1, 2), repeat=len(edges)):
            if all(c == 1 for c in counts):
                continue
            total = sum(c * e[2] for c, e in zip(counts, edges))
            if math.isclose(total, got, rel_tol=1e-8, abs_tol=1e-10) and not math.isclose(total, grad[k], rel_tol=1e-8, abs_tol=1e-10):
                return HINT_VISITED_TWICE if max(counts) > 1 else HINT_ACCUMULATE
    keys = sorted({op_key(op) for _, op, _ in edges})
    if len(keys) == 1:
        expected = grad[k]
        local = sum(local_derivative(op, s, data, data[n_leaves + j]) for j, op in enumerate(ops)
                    for s, i in enumerate(operands(op)) if i == k)
        if len(edges) == 1 and edges[0][0] != len(data) - 1 and math.isclose(got, local, rel_tol=1e-8, abs_tol=1e-10) \
                and not math.isclose(got, expected, rel_tol=1e-8):
            return f"the backward of `{_op_symbol(keys[0])}` must multiply by out.grad (the chain rule)"
        return _rule_hint(keys[0])
    return "the rule of one of " + ", ".join(f"`{_op_symbol(key)}`" for key in keys) + " is wrong: " + \
        "; ".join(RULE_HINTS[key] for key in keys)


def check_value_graphs(ctx: Context, graphs: list[tuple[str, list[float], list[list[Any]]]],
                       hint: str | None = None) -> None:
    """Run (label, leaves, ops) graphs and judge each, stopping at the first
    failure. One scenario call per graph: a wrong backward can take
    exponential time on later, larger graphs (a naive recursion runs a node
    once per path to it), and the learner should see the first failure."""
    for label, leaves, ops in graphs:
        (result,) = ctx.run(value_graphs_trace, [[leaves, ops]])
        judge_value_graph(result, leaves, ops, label, hint)


# Each operation alone, then followed by `* 2.5` (the chain rule). In the order
# the lesson builds them: unary -, a - b and a / b are usually written with +, * and **.
SINGLE_OPS: list[tuple[str, list[float], list[Any]]] = [
    ("a + b", [1.5, -0.5], ["vv", "+", 0, 1]),
    ("a * b", [1.5, -0.5], ["vv", "*", 0, 1]),
    ("a + 2", [1.5], ["vc", "+", 0, 2]),
    ("a * 3", [1.5], ["vc", "*", 0, 3]),
    ("2 + a", [1.5], ["cv", "+", 2, 0]),
    ("3 * a", [1.5], ["cv", "*", 3, 0]),
    ("a ** 3", [1.5], ["pow", 0, 3]),
    ("a ** -2", [1.5], ["pow", 0, -2]),
    ("a ** 0.5", [1.5], ["pow", 0, 0.5]),
    ("a ** -1.5", [1.5], ["pow", 0, -1.5]),
    ("-a", [1.5], ["neg", 0]),
    ("a - b", [1.5, -0.5], ["vv", "-", 0, 1]),
    ("a - 2", [1.5], ["vc", "-", 0, 2]),
    ("2 - a", [1.5], ["cv", "-", 2, 0]),
    ("a / b", [1.5, -0.5], ["vv", "/", 0, 1]),
    ("a / 4", [1.5], ["vc", "/", 0, 4]),
    ("2 / a", [1.5], ["cv", "/", 2, 0]),
    ("a.relu() for a > 0", [1.5], ["relu", 0]),
    ("a.relu() for a < 0", [-0.5], ["relu", 0]),
    ("a.tanh()", [0.7], ["tanh", 0]),
    ("a.exp()", [0.7], ["exp", 0]),
    ("a.log()", [1.5], ["log", 0]),
]


def single_op_graphs(then_scale: bool) -> list[tuple[str, list[float], list[list[Any]]]]:
    graphs = []
    for text, leaves, op in SINGLE_OPS:
        ops = [op]
        label = f"out = {text}, a = {leaves[0]}" + (f", b = {leaves[1]}" if len(leaves) > 1 else "")
        if then_scale:
            ops = [op, ["vc", "*", len(leaves), 2.5]]
            label = f"out = ({text}) * 2.5, a = {leaves[0]}" + (f", b = {leaves[1]}" if len(leaves) > 1 else "")
        graphs.append((label, list(leaves), ops))
    return graphs


def chain_rule_hint(graph: tuple[str, list[float], list[list[Any]]]) -> str:
    return f"the backward of `{_op_symbol(op_key(graph[2][0]))}` must multiply by out.grad (the chain rule)"


REUSE_GRAPHS: list[tuple[str, list[float], list[list[Any]]]] = [
    ("out = a * a, a = 1.5", [1.5], [["vv", "*", 0, 0]]),
    ("out = a + a, a = 1.5", [1.5], [["vv", "+", 0, 0]]),
    ("out = a / a + a, a = 1.5", [1.5], [["vv", "/", 0, 0], ["vv", "+", 1, 0]]),
    ("u = a.tanh(); out = u * 2 + u.exp(), a = 0.3 (u feeds two parents)", [0.3],
     [["tanh", 0], ["vc", "*", 1, 2], ["exp", 1], ["vv", "+", 2, 3]]),
    ("u = a * b; out = (u + a) * (u - b), a = 0.8, b = -1.2", [0.8, -1.2],
     [["vv", "*", 0, 1], ["vv", "+", 2, 0], ["vv", "-", 2, 1], ["vv", "*", 3, 4]]),
]


def stacked_diamonds(levels: int, start: float = 0.4) -> tuple[list[float], list[list[Any]]]:
    """x -> u = x.tanh() -> u * 2 and u + 1 -> their product -> next level.
    A naive recursive backward runs the bottom of the stack 2**levels times."""
    ops: list[list[Any]] = []
    top = 0
    for _ in range(levels):
        base = 1 + len(ops)
        ops += [["tanh", top], ["vc", "*", base, 2], ["vc", "+", base, 1], ["vv", "*", base + 1, base + 2]]
        top = base + 3
    return [start], ops


# Random graphs, generated here (grader side) from a seeded Python RNG.
KINDS: list[tuple[str, ...]] = [
    ("vv", "+"), ("vv", "-"), ("vv", "*"), ("vv", "/"),
    ("vc", "+"), ("vc", "-"), ("vc", "*"), ("vc", "/"),
    ("cv", "+"), ("cv", "-"), ("cv", "*"), ("cv", "/"),
    ("pow",), ("neg",), ("relu",), ("tanh",), ("exp",), ("log",),
]
CONSTANTS = (2, 3, -1, 0.5, -2.5, 1.5, 4, -0.75)
EXPONENTS = (2, 3, -1, -2, 0.5, -0.5, 1.5, 2.5)


def _float_of(op: list[Any], data: list[float]) -> float | None:
    """The value of `op` in plain floats, or None outside a safe domain."""
    kind = op[0]
    try:
        if kind in ("vv", "vc", "cv"):
            a, b = ((data[op[2]], data[op[3]]) if kind == "vv" else (data[op[2]], op[3]) if kind == "vc"
                    else (op[2], data[op[3]]))
            if op[1] == "/" and abs(b) < 0.2:
                return None
            return float(BINARY[op[1]](a, b))
        a = data[operands(op)[0]]
        if kind == "pow":
            p = op[2]
            if (p != int(p) and a < 0.1) or (p < 0 and abs(a) < 0.2) or abs(a) > 6:
                return None
            return float(a**p)
        if kind == "log":
            return math.log(a) if a > 0.05 else None
        if kind == "exp":
            return math.exp(a) if a < 3 else None
        if kind == "relu":
            return max(a, 0.0) if abs(a) > 1e-3 else None
        return {"neg": -a, "tanh": math.tanh(a)}[kind]
    except (ZeroDivisionError, OverflowError, ValueError):
        return None


def random_graph(rng: random.Random, num_leaves: int, num_ops: int) -> tuple[list[float], list[list[Any]]]:
    """A random expression graph using every kind of operation, with reused
    nodes; every node feeds the output."""
    leaves = [round(rng.choice((-1, 1)) * rng.uniform(0.2, 2.0), 4) for _ in range(num_leaves)]
    data = list(leaves)
    ops: list[list[Any]] = []
    used = [0] * num_leaves

    def pick() -> int:
        return rng.randrange(max(0, len(data) - 3), len(data)) if rng.random() < 0.5 else rng.randrange(len(data))

    kinds = list(KINDS)
    rng.shuffle(kinds)  # every kind early on, then at random
    while len(ops) < num_ops:
        kind = kinds.pop() if kinds else rng.choice(KINDS)
        for _ in range(50):
            i = pick()
            if kind[0] == "vv":
                j = i if rng.random() < 0.2 else pick()
                op: list[Any] = ["vv", kind[1], i, j]
            elif kind[0] == "vc":
                op = ["vc", kind[1], i, rng.choice(CONSTANTS)]
            elif kind[0] == "cv":
                op = ["cv", kind[1], rng.choice(CONSTANTS), i]
            elif kind[0] == "pow":
                op = ["pow", i, rng.choice(EXPONENTS)]
            else:
                op = [kind[0], i]
            value = _float_of(op, data)
            if value is not None and abs(value) < 30 and (abs(value) > 1e-3 or (kind[0] == "relu" and value == 0.0)):
                break
        else:
            continue
        ops.append(op)
        data.append(value)
        used.append(0)
        for index in operands(op):
            used[index] += 1
    # Sum every node nobody uses yet into the output, so all of them matter.
    dangling = [i for i in range(len(data)) if used[i] == 0]
    top = dangling[0]
    for index in dangling[1:]:
        ops.append(["vv", "+", top, index])
        data.append(data[top] + data[index])
        top = len(data) - 1
    if top == len(data) - 1 and not ops:
        ops.append(["vc", "*", top, 1.5])
    return leaves, ops


def random_graphs(seed: int, count: int, num_leaves: tuple[int, int], num_ops: tuple[int, int],
                  label: str) -> list[tuple[str, list[float], list[list[Any]]]]:
    rng = random.Random(seed)
    graphs = []
    for case in range(count):
        leaves, ops = random_graph(rng, rng.randint(*num_leaves), rng.randint(*num_ops))
        graphs.append((f"random graph {case} ({len(ops)} operations{label})", leaves, ops))
    return graphs


# ==========================================================================
# Sigmoid
# ==========================================================================

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


# --------------------------------------------------------------------------
# Public checks: small fixed cases, fast.

suite.test("numerical_grad")
suite.test("Value")
suite.test("Sigmoid")


def _fixed(shape: tuple[int, ...], seed: int, scale: float = 1.0) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * scale


@suite.check("numerical_grad")
def numerical_grad_matches_autograd(ctx: Context) -> None:
    """numerical_grad agrees with autograd on smooth functions of a vector and a matrix (default eps)"""
    check_numerical_grad_case(ctx, "sin", _fixed((5,), 1), None, "")
    check_numerical_grad_case(ctx, "tanh_mix", _fixed((2, 3), 2), None, "")
    check_numerical_grad_case(ctx, "exp_cos", _fixed((4,), 3), None, "")


@suite.check("numerical_grad")
def numerical_grad_leaves_x_unchanged(ctx: Context) -> None:
    """numerical_grad leaves x bit-for-bit unchanged, also a non-contiguous x"""
    check_numerical_grad_case(ctx, "rational", _fixed((3, 4), 4), None, "")
    check_numerical_grad_case(ctx, "tanh_mix", _fixed((3, 4), 5), None, "", noncontiguous=True)


@suite.check("numerical_grad")
def numerical_grad_is_central(ctx: Context) -> None:
    """numerical_grad uses central differences of step eps: error of order eps**2, not eps"""
    check_numerical_grad_case(ctx, "cubic", _fixed((6,), 6), 1e-2, "")
    check_numerical_grad_case(ctx, "log_sum_exp", _fixed((2, 2), 7), 1e-3, "")


@suite.check("Value")
def value_single_operations(ctx: Context) -> None:
    """each operation of Value, alone, matches torch in value and gradient (numbers on either side included)"""
    check_value_graphs(ctx, single_op_graphs(then_scale=False))


@suite.check("Value")
def value_chain_rule(ctx: Context) -> None:
    """each operation's backward multiplies by the gradient flowing into it (the chain rule)"""
    for graph in single_op_graphs(then_scale=True):
        check_value_graphs(ctx, [graph], chain_rule_hint(graph))


@suite.check("Value")
def value_reused_nodes(ctx: Context) -> None:
    """a node used twice (a * a, a node feeding two parents) sums the gradients of its uses"""
    check_value_graphs(ctx, REUSE_GRAPHS)


@suite.check("Value")
def value_topological_order(ctx: Context) -> None:
    """backward runs every node's rule exactly once, in topological order (4 stacked diamonds)"""
    leaves, ops = stacked_diamonds(4)
    check_value_graphs(ctx, [("4 stacked diamonds: u = x.tanh(); x = (u * 2) * (u + 1), four times", leaves, ops)])


@suite.check("Value")
def value_random_graphs(ctx: Context) -> None:
    """random expression graphs of every operation match torch, value by value and gradient by gradient"""
    check_value_graphs(ctx, random_graphs(2024, 3, (2, 4), (10, 16), ", fixed seed 2024"))


@suite.check("Sigmoid")
def sigmoid_matches_torch(ctx: Context) -> None:
    """Sigmoid matches torch.sigmoid in values and gradients, float32 and float64"""
    check_sigmoid_case(ctx, torch.linspace(-6, 6, 10).reshape(2, 5), "")
    check_sigmoid_case(ctx, _fixed((3, 4), 8, 3.0), "")


@suite.check("Sigmoid")
def sigmoid_gradcheck_passes(ctx: Context) -> None:
    """Sigmoid passes torch.autograd.gradcheck in float64"""
    check_sigmoid_gradcheck(ctx, _fixed((3, 4), 9, 3.0), "")


@suite.check("Sigmoid")
def sigmoid_extreme_inputs(ctx: Context) -> None:
    """Sigmoid gives finite values and gradients for inputs of ±100 and ±1000"""
    values = [-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0]
    check_sigmoid_case(ctx, torch.tensor(values, dtype=torch.float64), " (extreme inputs)")
    check_sigmoid_case(ctx, torch.tensor(values, dtype=torch.float32), " (extreme inputs)")
