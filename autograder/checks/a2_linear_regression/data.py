"""a2_linear_regression · synthetic_data and data_iter: what is forbidden,
hints, the scenarios (which also record which random number generators the
learner drew from), and the statistical checks, each with its proven
false-failure bound.
"""
from __future__ import annotations

import math
import random
from typing import Any

import torch

from autograder.checking import CheckFailed, Context
from autograder.checks.a2_linear_regression import (
    CHI2_X,
    NOISE_STD,
    TRUE_B,
    TRUE_W,
    Z_MAX,
    chi2_bounds,
    normal_tail,
    suite,
)
from autograder.checks.a2_linear_regression.rngs import RandomState, keeps_global_rngs, seeded_generator
from autograder.checks.kit import expect_pair
from autograder.compare import shape_of
from autograder.guard import forbid
from autograder.scenarios import Learner, describe

suite.forbid("data_iter", forbid(shown=("DataLoader",), modules=("torch.utils.data.DataLoader",)))

# Hints: one sentence naming the likely bug.
HINT_SD_Y_COLUMN = "return y as a column of shape (num_examples, 1): y.reshape((-1, 1))"
HINT_SD_X_SHAPE = "X holds one example per row: shape (num_examples, len(w))"
HINT_SD_DTYPE = "create X and the noise as float32, as d2l does (torch.normal's default dtype): no dtype=torch.float64"
HINT_SD_STANDARD_NORMAL = ("draw X from the standard normal N(0, 1): torch.normal(0, 1, (num_examples, len(w))) "
                           "(torch.rand is uniform on [0, 1))")
HINT_SD_NO_NOISE = "add Gaussian noise to y: y += torch.normal(0, 0.01, y.shape, generator=generator)"
HINT_SD_NOISE_STD = ("the noise has standard deviation 0.01: torch.normal(0, 0.01, ...) takes the standard "
                     "deviation (not the variance, and not 1)")
HINT_SD_LINEAR = "y = X @ w + b + noise, with the w and b you were given and the X you return"
HINT_SD_GENERATOR = "draw every random number from generator: pass generator=generator to each torch.normal call"
HINT_SD_INPUT = "leave w unchanged: compute y = X @ w + b on new tensors (no in-place edits of w)"

HINT_DI_SHUFFLE = "shuffle the examples: indices = torch.randperm(num_examples, generator=generator)"
HINT_DI_EVERY_PASS = ("draw a new random order on every pass (call torch.randperm inside data_iter, "
                      "without reseeding), not one fixed order")
HINT_DI_LAST_BATCH = ("keep the last, smaller batch: loop i over range(0, num_examples, batch_size) and "
                      "take indices[i: i + batch_size]")
HINT_DI_PAIRED = "keep features and labels paired: index both with the same batch indices"
HINT_DI_GENERATOR = ("draw the order from generator alone: torch.randperm(num_examples, generator=generator) "
                     "(random.shuffle and a bare torch.randperm use global random number generators)")
HINT_DI_ONCE = "every example exactly once per pass: use a permutation (torch.randperm), not indices drawn with replacement"
HINT_DI_GROUPS = "shuffle the examples themselves, not only the order of fixed batches"
HINT_DI_BATCH_SIZE = "yield batches of batch_size examples; only the last may be smaller"
HINT_DI_ROWS = "yield (features[batch_indices], labels[batch_indices]): rows of the tensors you were given"


# --------------------------------------------------------------------------
# Learner side: scenarios.


@keeps_global_rngs
def synthetic_data_trace(learner: Learner, w: torch.Tensor, b: float, num_examples: int,
                         gen_seed: int | None, global_seed: int) -> dict[str, Any]:
    """synthetic_data called with a generator seeded `gen_seed` (or none):
    its output, which other RNGs it touched, whether it used the generator;
    then called again from a fresh generator of the same seed (or, without
    one, after reseeding the global RNG), the global RNG reseeded differently."""
    function = learner["synthetic_data"]
    w_before = w.clone()
    torch.manual_seed(global_seed)
    random.seed(global_seed)
    generator = seeded_generator(gen_seed)
    generator_before = generator.get_state() if generator is not None else None
    state = RandomState()
    try:
        out = function(w, b, num_examples, generator=generator)
    except RuntimeError as raised:  # X drawn in the default dtype, then X @ w of another dtype
        message = str(raised)
        if "dtype" not in message and "scalar type" not in message:
            raise
        return {"dtype_error": message.splitlines()[0]}
    result: dict[str, Any] = {
        "dtype_error": None,
        "out": out,
        "touched": state.touched() if generator is not None else [],
        "generator_used": generator is not None and not torch.equal(generator_before, generator.get_state()),
        "w_unchanged": torch.equal(w_before, w),
    }
    if gen_seed is not None:
        torch.manual_seed(global_seed + 1)
        random.seed(global_seed + 1)
        result["again"] = function(w, b, num_examples, generator=seeded_generator(gen_seed))
    else:
        torch.manual_seed(global_seed)
        result["again"] = function(w, b, num_examples)
    return result


@keeps_global_rngs
def data_iter_trace(learner: Learner, batch_size: int, features: torch.Tensor, labels: torch.Tensor,
                    passes: int, gen_seed: int | None, global_seed: int) -> dict[str, Any]:
    """`passes` passes of data_iter sharing one generator (or the global
    RNG), then, with a generator, one more pass from a fresh generator of the
    same seed with the global RNGs reseeded differently."""
    function = learner["data_iter"]
    limit = len(features) + 5

    def one_pass(generator: torch.Generator | None) -> list[Any]:
        batches = []
        iterator = function(batch_size, features, labels, generator=generator) if generator is not None \
            else function(batch_size, features, labels)
        for item in iterator:
            batches.append(item)
            if len(batches) > limit:
                break
        return batches

    torch.manual_seed(global_seed)
    random.seed(global_seed)
    generator = seeded_generator(gen_seed)
    state = RandomState()
    runs = [one_pass(generator) for _ in range(passes)]
    result: dict[str, Any] = {"runs": runs, "touched": state.touched() if generator is not None else []}
    if gen_seed is not None:
        torch.manual_seed(global_seed + 1)
        random.seed(global_seed + 1)
        result["again"] = one_pass(seeded_generator(gen_seed))
    return result


# --------------------------------------------------------------------------
# Grader side: the checks.

# Per synthetic_data case: 1 z-test on X's mean, 2 tails on X's sum of squares,
# 2 tails on the residual sum of squares, <= 11 z-tests on the coefficients.
SYNTHETIC_CASE_FALSE_FAILURE = 2 * normal_tail(Z_MAX) * 6 + 4 * math.exp(-CHI2_X)  # = 6.1e-8


def check_synthetic_data_case(ctx: Context, w: torch.Tensor, b: float, n: int, gen_seed: int | None,
                              global_seed: int, label: str) -> None:
    """The learner's synthetic_data(w, b, n, generator): shapes, dtype,
    distribution of X and of the noise, recovery of w and b by least
    squares, and (with a generator) drawing from it alone.

    False failures: at most SYNTHETIC_CASE_FALSE_FAILURE = 6.1e-8 per call
    of this function (exact tails given X; see `_check_synthetic_statistics`)."""
    gen_text = f"a generator seeded {gen_seed}" if gen_seed is not None else "no generator"
    what = f"synthetic_data(w, b={b:g}, num_examples={n}, {gen_text}) for w of {shape_of(w)}{label}"
    result = ctx.run(synthetic_data_trace, w, b, n, gen_seed, global_seed)
    if result["dtype_error"]:
        raise CheckFailed(f"{what}: it raised RuntimeError: {result['dtype_error']}", HINT_SD_DTYPE)
    X, y = expect_pair(result["out"], what, "(X, y)", "return X, y")
    d = len(w)
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise CheckFailed(f"{what}: expected two tensors (X, y), got {describe(X)} and {describe(y)}")
    if tuple(X.shape) != (n, d):
        raise CheckFailed(f"{what}: X should have shape {(n, d)}, got {tuple(X.shape)}", HINT_SD_X_SHAPE)
    if tuple(y.shape) != (n, 1):
        raise CheckFailed(f"{what}: y should have shape {(n, 1)}, got {tuple(y.shape)}",
                          HINT_SD_Y_COLUMN if y.numel() == n else HINT_SD_LINEAR)
    for name, tensor in (("X", X), ("y", y)):
        if tensor.dtype != torch.float32:  # the contract: created from nothing, so float32 (graded on float32 w only)
            raise CheckFailed(f"{what}: {name} should be float32, got {tensor.dtype}", HINT_SD_DTYPE)
    if not result["w_unchanged"]:
        raise CheckFailed(f"{what}: synthetic_data changed w", HINT_SD_INPUT)
    if n >= 50:
        _check_synthetic_statistics(X, y, w, b, what)
    if gen_seed is not None:
        if result["touched"]:
            raise CheckFailed(f"{what}: it drew from {' and '.join(result['touched'])} although a generator was given",
                              HINT_SD_GENERATOR)
        if not result["generator_used"]:
            raise CheckFailed(f"{what}: the generator was never drawn from", HINT_SD_GENERATOR)
    again = result["again"]
    if not (isinstance(again, (tuple, list)) and len(again) == 2 and all(isinstance(t, torch.Tensor) for t in again)
            and torch.equal(again[0], X) and torch.equal(again[1], y)):
        if gen_seed is not None:
            raise CheckFailed(f"{what}: a second call with a fresh generator of the same seed gave different data",
                              HINT_SD_GENERATOR)
        raise CheckFailed(f"{what}: two calls after the same torch.manual_seed gave different data",
                          "without a generator, draw from torch's global RNG (torch.normal), not from numpy or random")


def _check_synthetic_statistics(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: float, what: str) -> None:
    """Exact tests given X, each with a proven tail bound:

    * X's entries are N(0, 1): their mean times sqrt(N) is N(0, 1)
      (|z| > 6.5: P = 8.0e-11), their sum of squares is chi-square(N)
      (outside `chi2_bounds`: P <= 2 e^-18 = 3.0e-8);
    * the noise is N(0, 0.01²) given X: the least-squares residual sum of
      squares over 0.01² is chi-square(n - d - 1) (P <= 3.0e-8 outside), and
      each least-squares coefficient minus the truth is normal with the
      variance 0.01² (AᵀA)⁻¹ (A = [X, 1]) (|z| > 6.5: P = 8.0e-11 each).
    Total for d <= 10: < 6.1e-8."""
    n, d = X.shape
    Xd, yd = X.detach().to(torch.float64), y.detach().to(torch.float64).reshape(-1)
    if not (torch.isfinite(Xd).all() and torch.isfinite(yd).all()):
        raise CheckFailed(f"{what}: X or y contains inf or nan")
    N = Xd.numel()
    z_mean = float(Xd.mean()) * math.sqrt(N)
    low, high = chi2_bounds(N)
    sum_squares = float((Xd ** 2).sum())
    if abs(z_mean) > Z_MAX or not low <= sum_squares <= high:
        raise CheckFailed(
            f"{what}: X does not look standard normal: mean {float(Xd.mean()):.4g}, mean square {sum_squares / N:.4g} "
            f"over {N} entries (N(0, 1) gives |mean| < {Z_MAX / math.sqrt(N):.3g} and mean square in "
            f"[{low / N:.3g}, {high / N:.3g}] with probability > 1 - 3e-8)", HINT_SD_STANDARD_NORMAL)
    A = torch.cat([Xd, torch.ones(n, 1, dtype=torch.float64)], dim=1)
    theta = torch.linalg.lstsq(A, yd.unsqueeze(1)).solution.reshape(-1)
    residual = yd - A @ theta
    k = n - d - 1
    sigma_hat = math.sqrt(float((residual ** 2).sum()) / k)
    low, high = chi2_bounds(k)
    sigma_low, sigma_high = NOISE_STD * math.sqrt(low / k), NOISE_STD * math.sqrt(high / k)
    if not sigma_low <= sigma_hat <= sigma_high:
        if sigma_hat < 1e-5:
            hint = HINT_SD_NO_NOISE
        elif 0.2 * NOISE_STD ** 2 < sigma_hat < 5 * NOISE_STD ** 2 or 0.3 < sigma_hat < 3:
            hint = HINT_SD_NOISE_STD
        else:
            hint = HINT_SD_LINEAR
        raise CheckFailed(
            f"{what}: the noise of y around the best linear fit of X has standard deviation {sigma_hat:.4g}; "
            f"N(0, 0.01²) noise gives a value in [{sigma_low:.4g}, {sigma_high:.4g}] with probability > 1 - 3e-8",
            hint)
    covariance = NOISE_STD ** 2 * torch.linalg.inv(A.T @ A)
    truth = torch.cat([w.detach().to(torch.float64).reshape(-1), torch.tensor([float(b)], dtype=torch.float64)])
    z = (theta - truth) / covariance.diagonal().sqrt()
    worst = int(z.abs().argmax())
    if float(z.abs().max()) > Z_MAX:
        name = f"w[{worst}]" if worst < d else "b"
        hint = HINT_SD_LINEAR
        raise CheckFailed(
            f"{what}: least squares on (X, y) recovers {name} = {float(theta[worst]):.6g}, but it should be "
            f"{float(truth[worst]):.6g} ± {Z_MAX * float(covariance.diagonal()[worst].sqrt()):.2g} "
            f"(the noise allows no more, with probability > 1 - 1e-9)", hint)


def check_data_iter_case(ctx: Context, n: int, d: int, batch_size: int, passes: int, gen_seed: int | None,
                         label: str, labels_1d: bool = False, dtype: torch.dtype = torch.float32) -> None:
    """data_iter over n examples whose first feature is the example's index:
    batches, pairing, each example once per pass, random and changing order,
    and the generator's sole use.

    False failures: a correct data_iter orders its n examples by a uniform
    random permutation, so a pass in the original order, or two passes in the
    same order, happen with probability 1/n! each (n >= 12: < 2.1e-9); two
    passes cutting the same batches (as sets) have probability
    m! (b!)^m r! / n! (m full batches of b, a last of r), tested only where
    that is below 1e-9."""
    generator = ctx.generator(f"data {n} {d}")
    features = torch.cat([torch.arange(n, dtype=dtype).unsqueeze(1),
                          torch.randn(n, d - 1, generator=generator, dtype=dtype)], dim=1)
    labels = -torch.arange(n, dtype=dtype) * 2 - 0.5 + torch.randn(n, generator=generator, dtype=dtype) * 0.1
    labels = labels if labels_1d else labels.reshape(n, 1)
    gen_text = f"a generator seeded {gen_seed}" if gen_seed is not None else "no generator"
    what = (f"data_iter(batch_size={batch_size}, features of {shape_of(features)}, labels of {shape_of(labels)}, "
            f"{gen_text}){label}")
    global_seed = ctx.seed % 100_000
    result = ctx.run(data_iter_trace, batch_size, features, labels, passes, gen_seed, global_seed)
    orders = [_data_iter_pass(batches, features, labels, batch_size, f"{what}, pass {index + 1}")
              for index, batches in enumerate(result["runs"])]
    if n >= 12:
        if orders[0] == list(range(n)):
            raise CheckFailed(f"{what}: the examples came in their original order 0, 1, ..., {n - 1}", HINT_DI_SHUFFLE)
        for index in range(1, len(orders)):
            if orders[index] == orders[index - 1]:
                raise CheckFailed(f"{what}: passes {index} and {index + 1} gave the examples in the same order",
                                  HINT_DI_EVERY_PASS)
        if len(orders) > 1 and _same_groups_probability(n, batch_size) < 1e-9:
            groups = [{frozenset(order[i:i + batch_size]) for i in range(0, n, batch_size)} for order in orders]
            if all(g == groups[0] for g in groups[1:]):
                raise CheckFailed(f"{what}: every pass cut the same batches (only their order changed)", HINT_DI_GROUPS)
    if gen_seed is not None:
        if result["touched"]:
            raise CheckFailed(f"{what}: it drew from {' and '.join(result['touched'])} although a generator was given",
                              HINT_DI_GENERATOR)
        again = _data_iter_pass(result["again"], features, labels, batch_size, f"{what}, fresh generator")
        if again != orders[0]:
            raise CheckFailed(f"{what}: a fresh generator of the same seed gave a different order",
                              HINT_DI_GENERATOR)


def _same_groups_probability(n: int, batch_size: int) -> float:
    m, r = divmod(n, batch_size)
    return math.factorial(m) * math.factorial(batch_size) ** m * math.factorial(r) / math.factorial(n)


def _data_iter_pass(batches: Any, features: torch.Tensor, labels: torch.Tensor, batch_size: int,
                    what: str) -> list[int]:
    """One pass's batches checked; returns the order of the examples."""
    n = len(features)
    if not isinstance(batches, list) or not batches:
        raise CheckFailed(f"{what}: it yielded no batches", "yield (X, y) pairs: `yield features[j], labels[j]`")
    if len(batches) > n + 1:
        raise CheckFailed(f"{what}: it yielded more than {n} batches for {n} examples (an endless loop?)",
                          HINT_DI_LAST_BATCH)
    order: list[int] = []
    sizes = []
    for index, batch in enumerate(batches):
        X, y = expect_pair(batch, f"{what}, batch {index + 1}", "(X, y)", "yield (X, y) pairs: `yield features[j], labels[j]`")
        if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
            raise CheckFailed(f"{what}, batch {index + 1}: expected tensors (X, y), got {describe(X)} and {describe(y)}",
                              HINT_DI_ROWS)
        if X.dim() != 2 or X.shape[1] != features.shape[1] or X.dtype != features.dtype:
            raise CheckFailed(f"{what}, batch {index + 1}: X should hold rows of features, got {shape_of(X)}",
                              HINT_DI_ROWS)
        if tuple(y.shape) != (X.shape[0], *labels.shape[1:]) or y.dtype != labels.dtype:
            raise CheckFailed(f"{what}, batch {index + 1}: y should hold the {X.shape[0]} matching rows of labels, "
                              f"got {shape_of(y)}", HINT_DI_PAIRED if y.numel() == X.shape[0] else HINT_DI_ROWS)
        indices = X[:, 0].round().long()
        if (indices < 0).any() or (indices >= n).any() or not torch.equal(features[indices.clamp(0, n - 1)], X):
            raise CheckFailed(f"{what}, batch {index + 1}: X holds rows that are not rows of features", HINT_DI_ROWS)
        if not torch.equal(labels[indices], y):
            raise CheckFailed(f"{what}, batch {index + 1}: the labels do not belong to the features they came with",
                              HINT_DI_PAIRED)
        order.extend(int(i) for i in indices)
        sizes.append(int(X.shape[0]))
    counts = torch.bincount(torch.tensor(order), minlength=n)
    if (counts > 1).any():
        raise CheckFailed(f"{what}: example {int((counts > 1).nonzero()[0])} came {int(counts.max())} times in one pass",
                          HINT_DI_ONCE)
    if (counts == 0).any():
        missing = int((counts == 0).sum())
        hint = HINT_DI_LAST_BATCH if missing == n % batch_size else HINT_DI_ONCE
        raise CheckFailed(f"{what}: {missing} of the {n} examples never came in one pass", hint)
    expected_sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    if sizes != expected_sizes:
        shuffled_batches = sorted(sizes) == sorted(expected_sizes)  # the short batch came early
        raise CheckFailed(f"{what}: batch sizes {sizes}, expected {expected_sizes}",
                          HINT_DI_GROUPS if shuffled_batches else HINT_DI_BATCH_SIZE)
    return order


@suite.check("synthetic_data")
def synthetic_data_running_example(ctx: Context) -> None:
    """synthetic_data gives X (1000, 2) ~ N(0, 1) and y = X @ w + b + N(0, 0.01²) of shape (1000, 1) (statistical: false failure < 1e-7)"""
    check_synthetic_data_case(ctx, torch.tensor(TRUE_W), TRUE_B, 1000, 42, 3, " (d2l's true_w, true_b)")


@suite.check("synthetic_data")
def synthetic_data_without_generator(ctx: Context) -> None:
    """without a generator synthetic_data draws from torch's global RNG (statistical: false failure < 1e-7)"""
    check_synthetic_data_case(ctx, torch.tensor([1.5, 0.0, -2.0]), -1.0, 500, None, 5, "")


@suite.check("data_iter")
def data_iter_covers_every_example(ctx: Context) -> None:
    """data_iter yields every example once per pass, paired with its label, the last batch smaller (false failure < 1e-9)"""
    check_data_iter_case(ctx, 23, 2, 5, 3, 7, "")


@suite.check("data_iter")
def data_iter_global_rng(ctx: Context) -> None:
    """without a generator data_iter shuffles anew on every pass (false failure < 1e-9)"""
    check_data_iter_case(ctx, 24, 2, 4, 3, None, "")


@suite.check("data_iter")
def data_iter_large_batch(ctx: Context) -> None:
    """with batch_size > num_examples data_iter yields one batch of every example"""
    check_data_iter_case(ctx, 14, 3, 20, 2, 11, " (batch_size > num_examples)")
