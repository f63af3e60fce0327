"""a2_linear_regression · train_linreg: what is forbidden, hints, the
trusted helpers it is run with and its scenario, the grader's draw of d2l's
data, the full-batch oracle and the checks. `make_linear_data` and
`check_recovery` also serve train_concise.
"""
from __future__ import annotations

import contextlib
import inspect
import random
from typing import Any, Callable, Iterator

import torch

from autograder.checking import CheckFailed, Context
from autograder.checks.a2_linear_regression import (
    NOISE_STD,
    RECOVERY_REFERENCE_WORST,
    RECOVERY_TOLERANCE,
    TRAIN_DEFAULTS,
    TRUE_B,
    TRUE_W,
    suite,
)
from autograder.checks.a2_linear_regression.rngs import RandomState, keeps_global_rngs, seeded_generator
from autograder.checks.kit import expect_pair
from autograder.compare import close, expect_tensor, shape_of
from autograder.guard import forbid
from autograder.scenarios import Learner, describe

suite.forbid("train_linreg", forbid(
    shown=("torch.optim", "nn.Linear"),
    modules=("torch.optim.Optimizer", "torch.nn.Linear"),
    names=("optim", "LazyLinear"),
    whole_modules=("torch.optim",),
))

# Hints: one sentence naming the likely bug.
HINT_TL_SHAPE = ("return (w, b) with w of shape (d, 1) and b of shape (1,), both made in the features' dtype "
                 "(dtype=features.dtype)")
HINT_TL_INIT = "initialise w ~ N(0, 0.01²) of shape (d, 1), drawn with generator, and b = torch.zeros(1)"
HINT_TL_INIT_GENERATOR = "draw the initial w from generator: torch.normal(0, 0.01, (d, 1), generator=generator)"
HINT_TL_GENERATOR = ("draw only from generator: pass it to torch.normal for w and on to "
                     "data_iter(batch_size, features, labels, generator)")
HINT_TL_TWICE = ("the learning rate is divided twice: backpropagate l.sum() (sgd already divides by batch_size), "
                 "not l.mean()")
HINT_TL_ZERO = "zero the gradients after every step (sgd does it), or they accumulate from step to step"
HINT_TL_EPOCHS = "run exactly num_epochs passes over the data"
HINT_TL_LR = "use the lr argument, not a fixed learning rate"
HINT_TL_DEFAULTS = "keep the contract's defaults: num_epochs=3, lr=0.03, batch_size=10, generator=None"
HINT_TL_TRAIN = ("per minibatch: l = squared_loss(X @ w + b, y); l.sum().backward(); sgd([w, b], lr, batch_size); "
                 "the loss must fall")


# --------------------------------------------------------------------------
# Learner side: the trusted helpers and the scenario.

# The functions train_linreg is run with (so that a bug in the learner's
# data_iter, squared_loss or sgd is graded once, on its own exercise, and
# not again on train_linreg).


def trusted_data_iter(batch_size: int, features: torch.Tensor, labels: torch.Tensor,
                      generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    order = torch.randperm(len(features), generator=generator)
    for start in range(0, len(features), batch_size):
        batch = order[start:start + batch_size]
        yield features[batch], labels[batch]


def trusted_squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def trusted_sgd(params: list[torch.Tensor], lr: float, batch_size: int) -> None:
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


TRUSTED_HELPERS: dict[str, Callable[..., Any]] = {
    "data_iter": trusted_data_iter,
    "squared_loss": trusted_squared_loss,
    "sgd": trusted_sgd,
}
_MISSING = object()


@contextlib.contextmanager
def trusted_helpers(function: Any) -> Iterator[None]:
    """Run `function` with the grader's data_iter, squared_loss and sgd in
    place of the learner's (in the namespace it looks its globals up in)."""
    namespace = getattr(function, "__globals__", None)
    if not isinstance(namespace, dict):
        yield
        return
    saved = {name: namespace.get(name, _MISSING) for name in TRUSTED_HELPERS}
    namespace.update(TRUSTED_HELPERS)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = value


@keeps_global_rngs
def train_linreg_trace(learner: Learner, features: torch.Tensor, labels: torch.Tensor,
                       settings: dict[str, Any] | None, gen_seed: int | None, global_seed: int) -> dict[str, Any]:
    """train_linreg with the grader's data_iter, squared_loss and sgd in place
    of the learner's. `settings` (num_epochs, lr, batch_size) are passed as
    keywords; None: the defaults. Reports which other RNGs it touched."""
    function = learner["train_linreg"]
    try:
        defaults = {name: p.default for name, p in inspect.signature(function).parameters.items()
                    if p.default is not inspect.Parameter.empty}
    except (TypeError, ValueError):
        defaults = {}
    torch.manual_seed(global_seed)
    random.seed(global_seed)
    generator = seeded_generator(gen_seed)
    state = RandomState()
    kwargs = dict(settings or {})
    if generator is not None:
        kwargs["generator"] = generator
    try:
        with trusted_helpers(function):
            out = function(features, labels, **kwargs)
    except RuntimeError as raised:  # w or b made in the default dtype, features of another
        message = str(raised)
        if "dtype" not in message and "scalar type" not in message:
            raise
        return {"dtype_error": message.splitlines()[0]}
    return {
        "dtype_error": None,
        "out": out,
        "touched": state.touched() if generator is not None else [],
        "defaults": {name: value for name, value in defaults.items() if isinstance(value, (int, float, type(None)))},
    }


# --------------------------------------------------------------------------
# Grader side: d2l's data, the oracle, the checks.


def make_linear_data(seed: int, w: list[float] | tuple[float, ...], b: float, n: int,
                     dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """d2l's synthetic data, drawn by the grader: X ~ N(0, 1), y = Xw + b + N(0, 0.01²), y of shape (n, 1)."""
    generator = torch.Generator().manual_seed(seed)
    true_w = torch.tensor(w, dtype=dtype)
    X = torch.normal(0, 1, (n, len(true_w)), generator=generator, dtype=dtype)
    y = X @ true_w + b + torch.normal(0, NOISE_STD, (n,), generator=generator, dtype=dtype)
    return X, y.reshape(-1, 1)


def linreg_oracle(features: torch.Tensor, labels: torch.Tensor, w0: torch.Tensor, num_epochs: int, lr: float,
                  batch_divisor: float, accumulate: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Full-batch training of train_linreg from w0 (b0 = 0), in float64:
    each epoch one step w -= lr * grad(sum of squared_loss) / batch_divisor."""
    X = features.to(torch.float64)
    y = labels.to(torch.float64).reshape(-1, 1)
    w = w0.to(torch.float64).reshape(-1, 1).clone()
    b = torch.zeros(1, dtype=torch.float64)
    grad_w, grad_b = torch.zeros_like(w), torch.zeros_like(b)
    for _ in range(num_epochs):
        residual = X @ w + b - y
        step_w, step_b = X.T @ residual, residual.sum(0)
        grad_w, grad_b = (grad_w + step_w, grad_b + step_b) if accumulate else (step_w, step_b)
        w = w - lr * grad_w / batch_divisor
        b = b - lr * grad_b / batch_divisor
    return w, b


def initial_w(d: int, dtype: torch.dtype, gen_seed: int | None, global_seed: int) -> torch.Tensor:
    """The contract's initial w: N(0, 0.01²) of shape (d, 1), the first draw
    from the generator (or, without one, from the global RNG seeded `global_seed`)."""
    if gen_seed is not None:
        return torch.normal(0, 0.01, (d, 1), generator=torch.Generator().manual_seed(gen_seed), dtype=dtype)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(global_seed)
        return torch.normal(0, 0.01, (d, 1), dtype=dtype)


def _train_linreg_output(result: dict[str, Any], d: int, dtype: torch.dtype, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    if result["dtype_error"]:
        raise CheckFailed(f"{what}: it raised RuntimeError: {result['dtype_error']}", HINT_TL_SHAPE)
    w, b = expect_pair(result["out"], what, "(w, b)", "return w, b")
    if not isinstance(w, torch.Tensor) or not isinstance(b, torch.Tensor):
        raise CheckFailed(f"{what}: expected tensors (w, b), got {describe(w)} and {describe(b)}", HINT_TL_SHAPE)
    if tuple(w.shape) != (d, 1) or tuple(b.shape) != (1,):
        raise CheckFailed(f"{what}: expected w of shape {(d, 1)} and b of shape (1,), got {tuple(w.shape)} and "
                          f"{tuple(b.shape)}", HINT_TL_SHAPE if w.numel() == d else HINT_TL_INIT)
    if w.dtype != dtype or b.dtype != dtype:
        raise CheckFailed(f"{what}: expected w and b of the features' dtype {dtype}, got {w.dtype} and {b.dtype}",
                          HINT_TL_SHAPE)
    return w, b


def _linreg_tolerance(dtype: torch.dtype) -> tuple[float, float]:
    # float32: rounding of 3 full-batch steps; float64: allows the initial w to
    # be drawn in float32 and converted (differences ~1e-10).
    return (2e-5, 1e-6) if dtype == torch.float32 else (1e-7, 1e-9)


def check_train_linreg_full_batch(ctx: Context, features: torch.Tensor, labels: torch.Tensor, num_epochs: int,
                                  lr: float, gen_seed: int | None, label: str, use_reference: bool = False) -> None:
    """train_linreg with batch_size = num_examples (full batches: the order of
    the examples cannot matter) checked exactly against the reference
    (`use_reference`: ctx.reference["train_linreg"] run in the grader from the
    same generator seed or global seed) or the full-batch oracle from the
    contract's initial w."""
    n, d = features.shape
    global_seed = ctx.seed % 100_000 + 7
    settings = {"num_epochs": num_epochs, "lr": lr, "batch_size": n}
    gen_text = f"generator seeded {gen_seed}" if gen_seed is not None else f"no generator (torch.manual_seed({global_seed}))"
    what = (f"train_linreg(features of {shape_of(features)}, labels, num_epochs={num_epochs}, lr={lr:g}, "
            f"batch_size={n} (full batch), {gen_text}){label}")
    result = ctx.run(train_linreg_trace, features, labels, settings, gen_seed, global_seed)
    w, b = _train_linreg_output(result, d, features.dtype, what)
    if result["touched"]:
        raise CheckFailed(f"{what}: it drew from {' and '.join(result['touched'])} although a generator was given",
                          HINT_TL_GENERATOR)
    w0 = initial_w(d, features.dtype, gen_seed, global_seed)
    if use_reference:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(global_seed)
            expected = ctx.reference["train_linreg"](features.clone(), labels.clone(), generator=seeded_generator(gen_seed),
                                                     **settings)
        expected = tuple(t.detach() for t in expected)
    else:
        expected = linreg_oracle(features, labels, w0, num_epochs, lr, n)
    expected_w, expected_b = (t.to(features.dtype) for t in expected)
    rtol, atol = _linreg_tolerance(features.dtype)
    if close(w, expected_w, rtol, atol) and close(b, expected_b, rtol, atol):
        return
    hint = _diagnose_train_linreg(features, labels, w, b, w0, num_epochs, lr, gen_seed, global_seed)
    expect_tensor(w, expected_w, f"{what}: the trained w", hint, rtol=rtol, atol=atol)
    expect_tensor(b, expected_b, f"{what}: the trained b", hint, rtol=rtol, atol=atol)


def _diagnose_train_linreg(features: torch.Tensor, labels: torch.Tensor, w: torch.Tensor, b: torch.Tensor,
                           w0: torch.Tensor, num_epochs: int, lr: float, gen_seed: int | None, global_seed: int) -> str:
    n, d = features.shape
    candidates: list[tuple[str, Callable[[], tuple[torch.Tensor, torch.Tensor]]]] = [
        (HINT_TL_TWICE, lambda: linreg_oracle(features, labels, w0, num_epochs, lr, n * n)),
        (HINT_TL_ZERO, lambda: linreg_oracle(features, labels, w0, num_epochs, lr, n, accumulate=True)),
        (HINT_TL_INIT, lambda: linreg_oracle(features, labels, torch.zeros(d, 1), num_epochs, lr, n)),
        (HINT_TL_EPOCHS, lambda: linreg_oracle(features, labels, w0, num_epochs - 1, lr, n)),
        (HINT_TL_EPOCHS, lambda: linreg_oracle(features, labels, w0, num_epochs + 1, lr, n)),
        (HINT_TL_LR, lambda: linreg_oracle(features, labels, w0, num_epochs, TRAIN_DEFAULTS["lr"], n)),
    ]
    if gen_seed is not None:
        candidates.append((HINT_TL_INIT_GENERATOR, lambda: linreg_oracle(
            features, labels, initial_w(d, torch.float64, None, global_seed), num_epochs, lr, n)))
    for hint, variant in candidates:
        wrong_w, wrong_b = variant()
        if close(w.double(), wrong_w, 1e-4, 1e-6) and close(b.double(), wrong_b, 1e-4, 1e-6):
            return hint
    return HINT_TL_TRAIN


def check_train_linreg_recovery(ctx: Context, data_seed: int, train_seed: int, label: str) -> None:
    """After the default epochs, lr and batch size on d2l's 1,000 synthetic
    examples, train_linreg's w and b are within RECOVERY_TOLERANCE of the truth."""
    features, labels = make_linear_data(data_seed, TRUE_W, TRUE_B, 1000)
    what = (f"train_linreg(features, labels, generator seeded {train_seed}) with the default num_epochs, lr and "
            f"batch_size, on d2l's 1,000 examples (true_w = {list(TRUE_W)}, true_b = {TRUE_B}, data seed {data_seed}){label}")
    result = ctx.run(train_linreg_trace, features, labels, None, train_seed, ctx.seed % 100_000)
    w, b = _train_linreg_output(result, 2, torch.float32, what)
    defaults = result["defaults"]
    for name, value in TRAIN_DEFAULTS.items():
        if name in defaults and defaults[name] != value:
            raise CheckFailed(f"{what}: the default {name} is {defaults[name]!r}, the contract says {value!r}",
                              HINT_TL_DEFAULTS)
    check_recovery(w.reshape(-1), b.reshape(-1), what, RECOVERY_TOLERANCE["train_linreg"], HINT_TL_TRAIN)


def check_recovery(w: torch.Tensor, b: torch.Tensor, what: str, tolerance: float, hint: str) -> None:
    """w and b within `tolerance` of d2l's true_w and true_b (train_linreg and train_concise)."""
    true_w = torch.tensor(TRUE_W, dtype=torch.float64)
    if not (torch.isfinite(w).all() and torch.isfinite(b).all()):
        raise CheckFailed(f"{what}: w or b is not finite (training diverged)", hint)
    errors = torch.cat([(w.double() - true_w).abs(), (b.double() - TRUE_B).abs()])
    if float(errors.max()) > tolerance:
        raise CheckFailed(
            f"{what}: learned w = {[round(v, 4) for v in w.tolist()]}, b = {[round(v, 4) for v in b.tolist()]}; "
            f"the error {float(errors.max()):.3g} exceeds the tolerance {tolerance} "
            f"(the reference stays below {RECOVERY_REFERENCE_WORST} on every one of 200 seeds)", hint)


@suite.check("train_linreg")
def train_linreg_full_batch(ctx: Context) -> None:
    """train_linreg with full batches matches the exact full-batch trajectory from w ~ N(0, 0.01²), b = 0"""
    features, labels = make_linear_data(3, (1.0, -2.0), 0.5, 40)
    check_train_linreg_full_batch(ctx, features, labels, 4, 0.1, 21, "")


@suite.check("train_linreg")
def train_linreg_recovers_parameters(ctx: Context) -> None:
    """train_linreg recovers true_w and true_b within 0.01 with its default settings"""
    check_train_linreg_recovery(ctx, 0, 1000, "")
