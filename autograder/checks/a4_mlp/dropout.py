"""a4_mlp · dropout and Dropout: what is forbidden, hints, the scenarios
that draw masks beside the learner's code, and the checks that judge them
with Hoeffding bounds for the exact sample sizes used."""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from autograder.checking import CheckFailed, Context
from autograder.checks.a4_mlp import suite
from autograder.compare import expect_tensor, shape_of, worst_element
from autograder.guard import forbid
from autograder.scenarios import Learner, call_with_grad, describe

_DROPOUT_SHOWN = ("F.dropout", "nn.Dropout", "torch.dropout", "torch.nn.functional.*dropout* (alpha_dropout, dropout2d, ...)")
# aten::dropout is decomposed (into bernoulli_, mul, div) before it reaches the
# dispatch tracer on CPU, so the function-level forms do most of the work;
# bernoulli/rand stay allowed: learners draw their masks with them.
_DROPOUT_OPS = ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
                "feature_dropout", "native_dropout", "fused_dropout")
_DROPOUT_MODULES = (
    "torch.nn.Dropout", "torch.nn.Dropout1d", "torch.nn.Dropout2d", "torch.nn.Dropout3d", "torch.nn.AlphaDropout",
    "torch.nn.FeatureAlphaDropout",
)
# _masked_scale: the scaling step of the fused dropout kernel.
suite.forbid("dropout", forbid(*_DROPOUT_OPS, shown=_DROPOUT_SHOWN, modules=_DROPOUT_MODULES, aten=("_masked_scale",)))
# Dropout's answer calls the learner's own `dropout`.
suite.forbid("Dropout", forbid(*_DROPOUT_OPS, shown=_DROPOUT_SHOWN, modules=_DROPOUT_MODULES, aten=("_masked_scale",),
                               allowed_names=("dropout",)))

HINT_DROP_RESCALE = "scale the survivors by 1/(1-p) (inverted dropout): a kept element becomes X / (1 - p)"
HINT_DROP_NO_RESCALE = "the survivors were not rescaled: " + HINT_DROP_RESCALE
HINT_DROP_BY_P = "the survivors were scaled by 1/p: " + HINT_DROP_RESCALE
HINT_DROP_PROBABILITY = ("you drop with probability 1 - p instead of p: zero an element when the uniform draw is "
                         "below p, i.e. keep it where torch.rand(...) > p")
HINT_DROP_FRACTION = "zero each element with probability p: mask = torch.rand(X.shape, generator=generator) > p"
HINT_DROP_SHARED_BATCH = ("the mask is shared across the batch (rows are identical): draw one random number per "
                          "element, torch.rand(X.shape), not per column")
HINT_DROP_SHARED_ROW = ("the mask is shared along each row: draw one random number per element, torch.rand(X.shape), "
                        "not one per example")
HINT_DROP_SAME_MASK = ("two calls drew the same mask: do not re-seed the random number generator inside dropout; "
                       "draw a fresh mask on every call")
HINT_DROP_GENERATOR = "draw the mask from the given generator: torch.rand(X.shape, generator=generator)"
HINT_DROP_P_ONE = "p == 1 divides by zero (0 / 0 = nan): when p == 1 return torch.zeros_like(X)"
HINT_DROP_P_ZERO = "when p == 0 return X unchanged (torch.rand can return exactly 0.0, so rand > 0 may still drop)"
HINT_DROP_EVAL = "with training=False return X unchanged: dropout is only active while training"
HINT_DROP_VALUE_ERROR = "raise ValueError when p is outside [0, 1], e.g. `if not 0 <= p <= 1: raise ValueError(...)`"
HINT_DROP_GRAD = "build the output from X with tensor operations (X * mask / (1 - p)) so the gradient flows to X"
HINT_DROPOUT_EVAL = ("Dropout is always active: in eval mode (self.training is False) it must return X unchanged; "
                     "pass self.training to dropout")
HINT_DROPOUT_EVAL_VALUES = ("in eval mode (self.training is False) Dropout must return X unchanged: inverted dropout "
                            "already rescaled while training, so nothing is left to do at evaluation")
HINT_DROPOUT_TRAIN = "in training mode (self.training is True) apply dropout(X, self.p)"
HINT_DROPOUT_P = "Dropout(p) must use the p it was given: store it in __init__ (self.p = p) and pass self.p to dropout"
HINT_DROPOUT_DEFAULT = "Dropout() must default to p = 0.5: def __init__(self, p=0.5)"

# --------------------------------------------------------------------------
# Learner side: scenarios.


def _reraise_unimplemented(error: BaseException) -> None:
    if isinstance(error, NotImplementedError):
        raise error


def dropout_raises(learner: Learner, X: torch.Tensor, p: float) -> dict[str, Any]:
    """dropout(X, p) for an invalid p: the exception's type name, as data."""
    try:
        out = learner["dropout"](X, p)
    except Exception as error:  # noqa: BLE001 - the learner's exception is the answer
        _reraise_unimplemented(error)
        return {"raised": type(error).__name__, "message": str(error)[:200], "out": None}
    return {"raised": None, "message": "", "out": out}


def dropout_masks(learner: Learner, X: torch.Tensor, p: float, generator_seeds: list[int]) -> dict[str, Any]:
    """Two consecutive calls drawing from the global generator, then one
    call per seed with its own torch.Generator."""
    fn = learner["dropout"]
    unseeded = [fn(X, p), fn(X, p)]
    seeded = [fn(X, p, generator=torch.Generator().manual_seed(seed)) for seed in generator_seeds]
    return {"unseeded": unseeded, "seeded": seeded}


def dropout_module_trace(learner: Learner, X: torch.Tensor, p: float | None, seeds: list[int]) -> dict[str, Any]:
    """A fresh Dropout(p) (Dropout() when p is None): outputs in training mode
    under torch.manual_seed(seed) for each seed, in eval mode, and back in
    training mode; the gradient in training mode; its parameters."""
    layer = learner["Dropout"]() if p is None else learner["Dropout"](p)
    result: dict[str, Any] = {"is_module": isinstance(layer, nn.Module)}
    if not result["is_module"]:
        return result
    result["num_parameters"] = sum(q.numel() for q in layer.parameters())
    layer.train()
    result["train"] = []
    for seed in seeds:
        torch.manual_seed(seed)
        result["train"].append(layer(X))
    layer.eval()
    result["eval"] = layer(X)
    result["eval_training_flag"] = layer.training
    layer.train()
    torch.manual_seed(seeds[0])
    leaf = X.clone().requires_grad_(True)
    out = layer(leaf)
    result["train_again"] = out
    result["grad"] = None
    if isinstance(out, torch.Tensor) and out.requires_grad:
        out.sum().backward()
        result["grad"] = leaf.grad
    return result



# --------------------------------------------------------------------------
# Grader side: statistics (Hoeffding bounds for the exact sample sizes used), diagnoses, checks.


def hoeffding_radius(n: int, delta: float) -> float:
    """t such that P(|mean of n independent [0, 1] variables - its expectation| >= t) <= delta."""
    return math.sqrt(math.log(2.0 / delta) / (2.0 * n))


def mean_radius(X: torch.Tensor, p: float, delta: float) -> float:
    """t such that P(|mean(dropout(X)) - mean(X)| >= t) <= delta for a correct dropout:
    the terms X_i * M_i / (1 - p) are independent, each in an interval of width |X_i| / (1 - p)."""
    n = X.numel()
    widths_sq = float((X.double() / (1.0 - p)).pow(2).sum())
    return math.sqrt(math.log(2.0 / delta) * widths_sq / (2.0 * n * n))


def _nonzero_ratio(got: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    kept = got != 0
    return (got[kept].double() / X[kept].double())


def _diagnose_scaling(got: torch.Tensor, X: torch.Tensor, p: float) -> str:
    ratio = _nonzero_ratio(got, X)
    if ratio.numel() == 0:
        return HINT_DROP_RESCALE
    median = float(ratio.median())
    if math.isclose(median, 1.0, rel_tol=1e-4):
        return HINT_DROP_NO_RESCALE
    if p > 0 and math.isclose(median, 1.0 / p, rel_tol=1e-4):
        return HINT_DROP_BY_P
    return HINT_DROP_RESCALE


def check_dropout_sample(got: Any, X: torch.Tensor, p: float, what: str, delta: float,
                         hint_zero_fraction: str | None = None) -> torch.Tensor:
    """One dropout output: shape, dtype, finite, every element 0 or X/(1-p),
    then (for inputs large enough) independent masks, the zeroed fraction and
    the mean within Hoeffding radii of total false-failure probability <= 4 * delta.
    Returns the keep mask."""
    if not isinstance(got, torch.Tensor):
        raise CheckFailed(f"{what}: expected a tensor of {shape_of(X)}, got {describe(got)}")
    if tuple(got.shape) != tuple(X.shape):
        raise CheckFailed(f"{what}: expected shape {tuple(X.shape)}, got {tuple(got.shape)}",
                          "draw the mask with X's own shape: torch.rand(X.shape, ...)")
    if got.dtype != X.dtype:
        raise CheckFailed(f"{what}: expected dtype {X.dtype}, got {got.dtype}",
                          "keep X's dtype: multiply X by a boolean or same-dtype mask")
    if not torch.isfinite(got).all():
        raise CheckFailed(f"{what}: the output has nan or inf", HINT_DROP_P_ONE if p == 1 else None)
    kept = got != 0
    scaled = X / (1.0 - p)
    expected_kept = torch.where(kept, scaled, torch.zeros_like(X))
    if not torch.allclose(got, expected_kept, rtol=1e-5 if X.dtype == torch.float32 else 1e-10, atol=0.0):
        raise CheckFailed(f"{what}: every element must be 0 or X / (1 - p) = X / {1 - p:g}; "
                          f"{worst_element(got, expected_kept)}", _diagnose_scaling(got, X, p))
    n = X.numel()
    if n < 2000:
        return kept
    if X.dim() >= 2 and X.shape[0] >= 2 and X.shape[-1] >= 2:
        _check_independence(kept, p, what, delta)
    fraction = 1.0 - float(kept.double().mean())
    radius = hoeffding_radius(n, delta)
    if abs(fraction - p) >= radius:
        hint = hint_zero_fraction or HINT_DROP_FRACTION
        if abs(fraction - (1.0 - p)) < radius and abs(p - 0.5) > 2 * radius:
            hint = HINT_DROP_PROBABILITY
        raise CheckFailed(f"{what}: {fraction:.4f} of the {n} elements were zeroed; with p = {p:g} the fraction must be "
                          f"within {radius:.4f} of {p:g} (a correct dropout falls outside with probability < {delta:.0e})",
                          hint)
    mean_got, mean_expected = float(got.double().mean()), float(X.double().mean())
    radius_mean = mean_radius(X, p, delta)
    if abs(mean_got - mean_expected) >= radius_mean:
        raise CheckFailed(f"{what}: the output's mean is {mean_got:.5f} but X's is {mean_expected:.5f}; inverted dropout "
                          f"keeps the mean within {radius_mean:.5f} (a correct dropout falls outside with probability "
                          f"< {delta:.0e})", HINT_DROP_RESCALE)
    return kept


def _check_independence(kept: torch.Tensor, p: float, what: str, delta: float) -> None:
    """Disjoint neighbouring pairs (rows 2i, 2i+1; columns 2j, 2j+1) of
    independent masks agree with probability q = p^2 + (1-p)^2, independently
    across pairs; Hoeffding bounds each agreement rate's deviation (delta each)."""
    K = kept.reshape(-1, kept.shape[-1])
    q = p * p + (1.0 - p) * (1.0 - p)
    rows = K.shape[0] - K.shape[0] % 2
    cols = K.shape[1] - K.shape[1] % 2
    for axis, pairs, hint in (
        ("neighbouring rows", (K[0:rows:2] == K[1:rows:2]), HINT_DROP_SHARED_BATCH),
        ("neighbouring columns", (K[:, 0:cols:2] == K[:, 1:cols:2]), HINT_DROP_SHARED_ROW),
    ):
        if pairs.numel() < 500:
            continue
        agree = float(pairs.double().mean())
        radius = hoeffding_radius(pairs.numel(), delta)
        if abs(agree - q) >= radius:
            raise CheckFailed(
                f"{what}: the masks of {axis} agree at {agree:.4f} of {pairs.numel()} positions; independent masks "
                f"agree at {q:.4f} ± {radius:.4f} (a correct dropout falls outside with probability < {delta:.0e})",
                hint)


def check_dropout_case(ctx: Context, X: torch.Tensor, p: float, label: str, delta: float,
                       noncontiguous: bool = False) -> torch.Tensor:
    """The learner's dropout(X, p) in training mode, its values, statistics
    and gradient (d out / d X = mask / (1 - p))."""
    grad_output = torch.randn(X.shape, generator=ctx.generator("grad" + label), dtype=X.dtype)
    result = ctx.run(call_with_grad, "dropout", [X, p], grad_output, noncontiguous)
    what = f"dropout(X, p={p:g}) for X of {shape_of(X)}{label}"
    kept = check_dropout_sample(result["out"], X, p, what, delta)
    if not result["inputs_unchanged"]:
        raise CheckFailed(f"{what}: dropout changed X in place", "build a new tensor (X * mask / (1 - p)); do not modify X")
    if X.numel():
        grads = result["grads"] or [None]
        if result["backward_error"] or grads[0] is None:
            raise CheckFailed(f"gradient of {what}: no gradient reached X ({result['backward_error'] or 'grad is None'})",
                              HINT_DROP_GRAD)
        expected = torch.where(kept, grad_output / (1.0 - p), torch.zeros_like(grad_output))
        expect_tensor(grads[0], expected, f"gradient of {what} (it must be mask / (1 - p) times the output's gradient)",
                      HINT_DROP_GRAD)
    return kept


def check_dropout_identity(ctx: Context, X: torch.Tensor, p: float, training: bool, label: str, hint: str) -> None:
    """dropout(X, p, training) must return X's values exactly."""
    result = ctx.run(call_with_grad, "dropout", [X, p], None, False, {"training": training})
    what = f"dropout(X, p={p:g}, training={training}) for X of {shape_of(X)}{label}"
    got = result["out"]
    if not isinstance(got, torch.Tensor) or got.shape != X.shape or got.dtype != X.dtype:
        expect_tensor(got, X, what, hint)
    if not torch.equal(got, X):
        raise CheckFailed(f"{what}: must return X unchanged; {worst_element(got, X)}", hint)


def check_dropout_p_one(ctx: Context, X: torch.Tensor, label: str, p: float | int = 1.0) -> None:
    result = ctx.run(call_with_grad, "dropout", [X, p])
    what = f"dropout(X, p={p!r}) for X of {shape_of(X)}{label}"
    got = result["out"]
    hint = HINT_DROP_P_ONE
    if isinstance(got, torch.Tensor) and got.shape == X.shape and torch.isnan(got).any():
        raise CheckFailed(f"{what}: the output has nan; it must be all zeros", hint)
    expect_tensor(got, torch.zeros_like(X), what + " (all zeros)", hint)


def check_dropout_invalid(ctx: Context, X: torch.Tensor, p: float, label: str = "") -> None:
    result = ctx.run(dropout_raises, X, p)
    what = f"dropout(X, p={p!r}){label}"
    if result["raised"] is None:
        raise CheckFailed(f"{what}: expected ValueError (p must be in [0, 1]), but it returned "
                          f"{describe(result['out'])}", HINT_DROP_VALUE_ERROR)
    if result["raised"] != "ValueError":
        raise CheckFailed(f"{what}: expected ValueError, got {result['raised']}: {result['message']}",
                          HINT_DROP_VALUE_ERROR)


def check_dropout_randomness(ctx: Context, X: torch.Tensor, p: float, label: str) -> None:
    """Fresh masks on every call; the generator's seed alone fixes the mask."""
    result = ctx.run(dropout_masks, X, p, [5, 5, 6])
    what = f"dropout(X, p={p:g}) for X of {shape_of(X)}{label}"
    first, second = result["unseeded"]
    for got in (first, second):
        check_dropout_sample(got, X, p, what, 1e-9)
    if torch.equal(first, second):
        raise CheckFailed(f"{what}: two consecutive calls returned the same mask "
                          f"(independent masks of {X.numel()} elements coincide with probability < 1e-100)",
                          HINT_DROP_SAME_MASK)
    a, b, c = result["seeded"]
    for got in (a, b, c):
        check_dropout_sample(got, X, p, what + " with a generator", 1e-9)
    if not torch.equal(a, b):
        raise CheckFailed(f"{what}: two calls with generator=torch.Generator().manual_seed(5) gave different masks; "
                          "the same seed must give the same mask", HINT_DROP_GENERATOR)
    if torch.equal(a, c):
        raise CheckFailed(f"{what}: generators seeded 5 and 6 gave the same mask", HINT_DROP_GENERATOR)


def _implied_p(got: Any, X: torch.Tensor, delta: float) -> float | None:
    """The p a dropout output is consistent with: every survivor is X / (1 - p')
    for one p', and the zeroed fraction is within the Hoeffding radius of p'."""
    if not isinstance(got, torch.Tensor) or got.shape != X.shape or got.dtype != X.dtype or X.numel() < 2000:
        return None
    ratio = _nonzero_ratio(got, X)
    if ratio.numel() == 0:
        return None
    r = float(ratio.median())
    if r <= 1 or not torch.allclose(ratio, torch.full_like(ratio, r), rtol=1e-4, atol=0.0):
        return None
    implied = 1.0 - 1.0 / r
    fraction = 1.0 - float((got != 0).double().mean())
    return implied if abs(fraction - implied) < hoeffding_radius(X.numel(), delta) else None


def check_dropout_module(ctx: Context, X: torch.Tensor, p: float | None, label: str, delta: float) -> None:
    """A fresh Dropout(p): training mode drops like dropout, reproducibly
    under torch.manual_seed; eval mode is the identity; no parameters."""
    result = ctx.run(dropout_module_trace, X, p, [11, 11, 12])
    made = "Dropout()" if p is None else f"Dropout({p:g})"
    rate = 0.5 if p is None else p
    if not result["is_module"]:
        raise CheckFailed(f"{made} is not an nn.Module", "declare class Dropout(nn.Module) and call super().__init__()")
    if result["num_parameters"]:
        raise CheckFailed(f"{made} has {result['num_parameters']} parameters; it should have none")
    first, again, other = result["train"]
    what = f"{made} in training mode on X of {shape_of(X)}{label}"
    implied = _implied_p(first, X, delta)
    if implied is not None and abs(implied - rate) > 1e-3:
        raise CheckFailed(f"{what}: it behaves like p = {implied:.3g} (survivors are X / {1 - implied:.4g} and the "
                          f"zeroed fraction matches), not p = {rate:g}",
                          HINT_DROPOUT_DEFAULT if p is None else HINT_DROPOUT_P)
    check_dropout_sample(first, X, rate, what, delta,
                         hint_zero_fraction=(HINT_DROPOUT_DEFAULT if p is None else None))
    if torch.equal(first, X):
        raise CheckFailed(f"{what}: returned X unchanged", HINT_DROPOUT_TRAIN)
    if not torch.equal(first, again):
        raise CheckFailed(f"{what}: two calls after torch.manual_seed(11) gave different outputs",
                          "draw the mask from torch's global generator (torch.rand), so torch.manual_seed makes it reproducible")
    if torch.equal(first, other):
        raise CheckFailed(f"{what}: calls after torch.manual_seed(11) and torch.manual_seed(12) gave the same mask",
                          HINT_DROP_SAME_MASK)
    what_eval = f"{made} in eval mode (after .eval()) on X of {shape_of(X)}{label}"
    if result["eval_training_flag"]:
        raise CheckFailed(f"{what_eval}: .eval() left training == True", "do not override train()/eval()")
    eval_out = result["eval"]
    dropping = isinstance(eval_out, torch.Tensor) and eval_out.shape == X.shape and bool(((eval_out == 0) & (X != 0)).any())
    hint = HINT_DROPOUT_EVAL if dropping else HINT_DROPOUT_EVAL_VALUES
    expect_tensor(eval_out, X, what_eval + " must return X unchanged", hint)
    if not torch.equal(eval_out, X):
        raise CheckFailed(f"{what_eval} must return X unchanged; {worst_element(eval_out, X)}", hint)
    if not torch.equal(result["train_again"], first):
        raise CheckFailed(f"{made} switched back with .train(): its output differs from the first training-mode output "
                          "under the same seed", HINT_DROPOUT_TRAIN)
    if result["grad"] is None:
        raise CheckFailed(f"gradient of {what}: no gradient reached X", HINT_DROP_GRAD)
    kept = first != 0
    expect_tensor(result["grad"], torch.where(kept, torch.full_like(X, 1.0 / (1.0 - rate)), torch.zeros_like(X)),
                  f"gradient of {what}", HINT_DROP_GRAD)


def signed_input(generator: torch.Generator, shape: tuple[int, ...], dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Values of magnitude in [0.5, 1.5) with random signs: never zero, so a zero output is a dropped element."""
    magnitude = torch.rand(shape, generator=generator, dtype=dtype) + 0.5
    sign = torch.where(torch.rand(shape, generator=generator) < 0.5, -1.0, 1.0).to(dtype)
    return magnitude * sign


DELTA = 1e-8  # per statistical comparison; each test makes fewer than 100 of them: < 1e-6 per test


@suite.check("dropout")
def dropout_is_off_when_asked(ctx: Context) -> None:
    """dropout returns X unchanged for p == 0 and for training=False"""
    X = torch.linspace(-2, 2, 12).reshape(3, 4)
    check_dropout_identity(ctx, X, 0.0, True, "", HINT_DROP_P_ZERO)
    check_dropout_identity(ctx, X, 0.5, False, "", HINT_DROP_EVAL)


@suite.check("dropout")
def dropout_p_one(ctx: Context) -> None:
    """dropout with p == 1 returns all zeros (no nan)"""
    check_dropout_p_one(ctx, torch.linspace(-2, 2, 12).reshape(3, 4), "")


@suite.check("dropout")
def dropout_invalid_p(ctx: Context) -> None:
    """dropout raises ValueError for p = -0.1 and p = 1.5"""
    X = torch.ones(2, 3)
    check_dropout_invalid(ctx, X, -0.1)
    check_dropout_invalid(ctx, X, 1.5)


@suite.check("dropout")
def dropout_statistics(ctx: Context) -> None:
    """dropout(X, 0.3) on 400 x 250 elements: survivors are X / 0.7, masks independent, 30% zeroed, mean kept, gradient mask / 0.7

    False-failure probability: Hoeffding's inequality bounds each of the 4
    statistical comparisons (agreement of neighbouring rows, of neighbouring
    columns, zeroed fraction, mean) by 1e-8, so < 4e-8 in all.
    """
    X = signed_input(torch.Generator().manual_seed(4), (400, 250))
    check_dropout_case(ctx, X, 0.3, "", DELTA)


@suite.check("dropout")
def dropout_randomness(ctx: Context) -> None:
    """dropout draws a fresh mask on every call, and the generator's seed alone fixes it

    False-failure probability: 5 outputs, each checked by 4 Hoeffding bounds
    of 1e-9, < 2e-8; two independent masks of 20,000 elements coincide with
    probability 0.5^20000.
    """
    X = signed_input(torch.Generator().manual_seed(5), (100, 200))
    check_dropout_randomness(ctx, X, 0.5, "")


@suite.check("Dropout")
def dropout_layer_train_and_eval(ctx: Context) -> None:
    """Dropout(0.3) drops like dropout in training mode and is the identity in eval mode

    False-failure probability: 4 Hoeffding bounds of 1e-8, < 4e-8 (and two
    independent masks of 60,000 elements coincide with probability < 1e-100).
    """
    X = signed_input(torch.Generator().manual_seed(6), (300, 200))
    check_dropout_module(ctx, X, 0.3, "", DELTA)


@suite.check("Dropout")
def dropout_layer_default(ctx: Context) -> None:
    """Dropout() defaults to p = 0.5

    False-failure probability: 4 Hoeffding bounds of 1e-8, < 4e-8 (and two
    independent masks of 20,000 elements coincide with probability < 1e-100).
    """
    X = signed_input(torch.Generator().manual_seed(7), (200, 100))
    check_dropout_module(ctx, X, None, "", DELTA)
