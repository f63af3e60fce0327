"""Hidden checks for a2_linear_regression: fresh random inputs and named edge probes.

Never released: nbgrader_config.py keeps this file out of assignments/.
Each check draws its inputs from `ctx.generator(...)`, seeded from the
grading seed, so every failure message can name a seed that reproduces it.

False failures of the statistical checks, over one whole grading (public and
hidden together): synthetic_data runs its distribution tests on at most 9
calls, each wrong with probability <= 6.1e-8 (5.5e-7 in all); data_iter's and
train_concise's order tests are each wrong with probability <= 1/12! = 2.1e-9
per pass compared (under 1e-7 in all). Total < 1e-6.
"""
from __future__ import annotations

import torch

from autograder.checking import Context
from autograder.checks.a2_linear_regression import TRUE_B, TRUE_W, suite
from autograder.checks.a2_linear_regression.data import check_data_iter_case, check_synthetic_data_case
from autograder.checks.a2_linear_regression.loss import check_squared_loss_case
from autograder.checks.a2_linear_regression.sgd import check_sgd_case
from autograder.checks.a2_linear_regression.train_concise import (
    check_train_concise_full_batch,
    check_train_concise_recovery,
    check_train_concise_steps,
)
from autograder.checks.a2_linear_regression.train_linreg import (
    check_train_linreg_full_batch,
    check_train_linreg_recovery,
    make_linear_data,
)

DTYPES = (torch.float32, torch.float64)


def _int(generator: torch.Generator, low: int, high: int) -> int:
    """A random integer in [low, high]."""
    return int(torch.randint(low, high + 1, (), generator=generator))


def _seed(generator: torch.Generator) -> int:
    return _int(generator, 0, 2**31 - 1)


@suite.check("synthetic_data/hidden")
def synthetic_data_random_cases(ctx: Context) -> None:
    """synthetic_data is right for random float32 w, b and sizes (statistical: false failure < 4e-7)"""
    generator = ctx.generator("cases")
    for case in range(6):
        d = _int(generator, 1, 6)
        n = _int(generator, 200, 1500)
        dtype = torch.float32  # the contract: data created from nothing is float32, graded on float32 inputs only
        w = torch.randn(d, generator=generator, dtype=dtype) * 3
        b = round(float(torch.rand((), generator=generator)) * 10 - 5, 3)
        gen_seed = _seed(generator) if case % 3 else None
        check_synthetic_data_case(ctx, w, b, n, gen_seed, _int(generator, 0, 10**6), f", random case {case} (seed {ctx.seed})")


@suite.check("synthetic_data/hidden")
def synthetic_data_edge_sizes(ctx: Context) -> None:
    """synthetic_data handles a single feature and a single example"""
    check_synthetic_data_case(ctx, torch.tensor([0.7]), 0.0, 400, 5, 1, " (one feature, b = 0)")
    check_synthetic_data_case(ctx, torch.tensor([1.0, 2.0, 3.0]), 1.0, 1, 6, 2, " (one example)")


@suite.check("data_iter/hidden")
def data_iter_random_cases(ctx: Context) -> None:
    """data_iter is right for random sizes, batch sizes, labels of shape (n,) or (n, 1), float32 and float64"""
    generator = ctx.generator("cases")
    for case in range(6):
        n = _int(generator, 12, 40)
        batch_size = _int(generator, 1, n + 3)
        gen_seed = _seed(generator) if case % 3 else None
        check_data_iter_case(ctx, n, _int(generator, 1, 4), batch_size, _int(generator, 2, 3), gen_seed,
                             f", random case {case} (seed {ctx.seed})", labels_1d=bool(case % 2), dtype=DTYPES[case % 2])


@suite.check("data_iter/hidden")
def data_iter_edge_batch_sizes(ctx: Context) -> None:
    """data_iter handles batch_size 1, batch_size == num_examples, and cuts new batches every pass"""
    check_data_iter_case(ctx, 13, 2, 1, 2, 3, " (batch_size 1)")
    check_data_iter_case(ctx, 15, 2, 15, 2, 4, " (batch_size == num_examples)")
    check_data_iter_case(ctx, 30, 2, 3, 3, 5, " (10 batches of 3)")


@suite.check("squared_loss/hidden")
def squared_loss_random_cases(ctx: Context) -> None:
    """squared_loss is right for every pairing of shapes (n,) and (n, 1), float32 and float64"""
    generator = ctx.generator("cases")
    pairs = (((1,), (None,)), ((1,), (1,)), ((), ()), ((), (1,)))
    for case in range(8):
        n = _int(generator, 2, 9)
        dtype = DTYPES[case % 2]
        hat_tail, y_tail = pairs[case % 4]
        y_hat = torch.randn(n, *hat_tail, generator=generator, dtype=dtype) * 3
        y = torch.randn(n, *(t for t in y_tail if t), generator=generator, dtype=dtype) * 3
        check_squared_loss_case(ctx, y_hat, y, f", random case {case} (seed {ctx.seed})")


@suite.check("squared_loss/hidden")
def squared_loss_single_example(ctx: Context) -> None:
    """squared_loss works for a single example and for a perfect prediction"""
    check_squared_loss_case(ctx, torch.tensor([[2.0]]), torch.tensor([0.5]), " (n == 1)")
    check_squared_loss_case(ctx, torch.tensor([[1.0], [2.0]]), torch.tensor([1.0, 2.0]), " (perfect prediction)")


@suite.check("sgd/hidden")
def sgd_random_parameters(ctx: Context) -> None:
    """sgd is right for 1 to 4 parameters of random shapes, float32 and float64"""
    generator = ctx.generator("cases")
    for case in range(6):
        dtype = DTYPES[case % 2]
        shapes = [tuple(_int(generator, 1, 4) for _ in range(_int(generator, 0, 2))) for _ in range(_int(generator, 1, 4))]
        values = [torch.randn(shape, generator=generator, dtype=dtype) for shape in shapes]
        grads = [torch.randn(shape, generator=generator, dtype=dtype) * 5 for shape in shapes]
        lr = round(float(torch.rand((), generator=generator)) * 0.5 + 0.01, 3)
        check_sgd_case(ctx, values, grads, lr, _int(generator, 2, 64), f", random case {case} (seed {ctx.seed})")


@suite.check("sgd/hidden")
def sgd_many_parameters(ctx: Context) -> None:
    """sgd updates every one of five parameters, the last included"""
    values = [torch.full((2,), float(i)) for i in range(5)]
    grads = [torch.full((2,), 1.0 + i) for i in range(5)]
    check_sgd_case(ctx, values, grads, 0.5, 2, " (five parameters)")


@suite.check("train_linreg/hidden")
def train_linreg_matches_reference(ctx: Context) -> None:
    """train_linreg with full batches equals the reference run from the same generator, on float32 data"""
    generator = ctx.generator("cases")
    for case, dtype in enumerate((torch.float32, torch.float32)):  # float32 only, as the contract grades it
        d = _int(generator, 1, 4)
        w = [round(float(v), 3) for v in torch.randn(d, generator=generator) * 2]
        features, labels = make_linear_data(_seed(generator), w, 1.5, _int(generator, 20, 60), dtype)
        lr = round(float(torch.rand((), generator=generator)) * 0.2 + 0.02, 3)
        check_train_linreg_full_batch(ctx, features, labels, _int(generator, 2, 5), lr, _seed(generator),
                                      f", random case {case} (seed {ctx.seed})", use_reference=True)


@suite.check("train_linreg/hidden")
def train_linreg_global_rng(ctx: Context) -> None:
    """without a generator train_linreg draws its initial w from torch's global RNG, as the reference does"""
    features, labels = make_linear_data(ctx.seed % 1000, (0.5, -1.0, 2.0), -0.5, 30)
    check_train_linreg_full_batch(ctx, features, labels, 3, 0.05, None, f" (seed {ctx.seed})", use_reference=True)


@suite.check("train_linreg/hidden")
def train_linreg_recovers_on_new_data(ctx: Context) -> None:
    """train_linreg recovers true_w and true_b within 0.01 on fresh data"""
    check_train_linreg_recovery(ctx, 1 + ctx.seed % 997, 2000 + ctx.seed % 991, f" (seed {ctx.seed})")


@suite.check("train_concise/hidden")
def train_concise_random_steps(ctx: Context) -> None:
    """train_concise takes the right steps on random data, batch sizes and learning rates"""
    generator = ctx.generator("cases")
    for case in range(2):
        n = _int(generator, 20, 50)
        batch_size = _int(generator, 3, 9)
        features, labels = make_linear_data(_seed(generator), (1.5, -0.5, 2.0), 0.3, n)
        lr = round(float(torch.rand((), generator=generator)) * 0.09 + 0.01, 3)
        check_train_concise_steps(ctx, features, labels, _int(generator, 2, 3), lr, batch_size,
                                  f", random case {case} (seed {ctx.seed})")


@suite.check("train_concise/hidden")
def train_concise_matches_reference(ctx: Context) -> None:
    """train_concise with full batches equals the reference run after the same torch.manual_seed"""
    generator = ctx.generator("full")
    features, labels = make_linear_data(_seed(generator), TRUE_W, TRUE_B, 50)
    check_train_concise_full_batch(ctx, features, labels, 4, 0.05, f" (seed {ctx.seed})")


@suite.check("train_concise/hidden")
def train_concise_recovers_on_new_data(ctx: Context) -> None:
    """train_concise recovers true_w and true_b within 0.01 on fresh data"""
    check_train_concise_recovery(ctx, 1 + ctx.seed % 997, 2000 + ctx.seed % 991, f" (seed {ctx.seed})")

