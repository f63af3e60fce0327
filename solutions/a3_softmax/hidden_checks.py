"""Hidden checks for a3_softmax: fresh random inputs and named edge probes.

Never released: nbgrader_config.py keeps this file out of assignments/.
Each check draws its inputs from `ctx.generator(...)`, seeded from the
grading seed, so every failure message can name a seed that reproduces it.
"""
from __future__ import annotations

import torch

from autograder.checking import Context
from autograder.checks.a3_softmax import suite
from autograder.checks.a3_softmax.accuracy import check_accuracy_case, check_evaluate_accuracy_case
from autograder.checks.a3_softmax.cross_entropy import check_cross_entropy_case
from autograder.checks.a3_softmax.flatten import HINT_FLATTEN_EMPTY, HINT_FLATTEN_VIEW, check_flatten_case
from autograder.checks.a3_softmax.softmax import HINT_OVERFLOW, HINT_ROW_MAX, check_softmax_case
from autograder.checks.a3_softmax.training import check_train_epoch_case

DTYPES = (torch.float32, torch.float64)


def _random_shape(generator: torch.Generator, min_rank: int, max_rank: int) -> tuple[int, ...]:
    rank = int(torch.randint(min_rank, max_rank + 1, (), generator=generator))
    return tuple(int(n) for n in torch.randint(1, 7, (rank,), generator=generator))


@suite.check("softmax/hidden")
def softmax_random_inputs(ctx: Context) -> None:
    """softmax matches torch.softmax on random shapes of rank 1 to 4, float32 and float64"""
    generator = ctx.generator("shapes")
    for case in range(16):
        dtype = DTYPES[case % 2]
        X = torch.randn(_random_shape(generator, 1, 4), generator=generator, dtype=dtype) * 3
        check_softmax_case(ctx, X, f", random case {case} (seed {ctx.seed})")


@suite.check("softmax/hidden")
def softmax_huge_logits(ctx: Context) -> None:
    """softmax is exact for logits of ±1e4 in float32 and float64"""
    for dtype in DTYPES:
        X = torch.tensor([[1e4, 1e4 - 2.0, -1e4, 0.0], [-1e4, -1e4 + 1.0, -1e4 + 3.0, -1e4]], dtype=dtype)
        check_softmax_case(ctx, X, " (logits of ±1e4)", HINT_OVERFLOW)


@suite.check("softmax/hidden")
def softmax_rows_of_different_scale(ctx: Context) -> None:
    """softmax handles rows of very different scale in one batch"""
    X = torch.tensor([[5000.0, 4999.0, 4990.0], [1.0, 2.0, 0.5], [-3000.0, -3001.0, -2999.5]])
    check_softmax_case(ctx, X, " (rows of very different scale)", HINT_ROW_MAX)


@suite.check("softmax/hidden")
def softmax_noncontiguous(ctx: Context) -> None:
    """softmax works on a non-contiguous (transposed) input"""
    X = torch.randn(4, 6, generator=ctx.generator("noncontiguous"))
    check_softmax_case(ctx, X, " (non-contiguous)", noncontiguous=True)


@suite.check("softmax/hidden")
def softmax_empty_batch(ctx: Context) -> None:
    """softmax returns an empty (0, q) result for an empty batch"""
    check_softmax_case(ctx, torch.zeros(0, 5), " (N == 0)")


@suite.check("cross_entropy/hidden")
def cross_entropy_random_inputs(ctx: Context) -> None:
    """cross_entropy matches F.cross_entropy on random batches, float32 and float64"""
    generator = ctx.generator("batches")
    for case in range(12):
        n, q = (int(v) for v in torch.randint(2, 9, (2,), generator=generator))
        logits = torch.randn(n, q, generator=generator, dtype=DTYPES[case % 2]) * 4
        y = torch.randint(0, q, (n,), generator=generator)
        check_cross_entropy_case(ctx, logits, y, f", random case {case} (seed {ctx.seed})")


@suite.check("cross_entropy/hidden")
def cross_entropy_huge_logits(ctx: Context) -> None:
    """cross_entropy is finite and exact for logits of ±1e4, the true class far behind included"""
    for dtype in DTYPES:
        logits = torch.tensor([[1e4, -1e4, 0.0, 5.0], [-1e4, 1e4, 1e4 - 1, 0.0], [3.0, 1e4, -1e4, 2.0]], dtype=dtype)
        check_cross_entropy_case(ctx, logits, torch.tensor([2, 2, 0]), " (logits of ±1e4)")


@suite.check("cross_entropy/hidden")
def cross_entropy_single_example(ctx: Context) -> None:
    """cross_entropy works for a single example"""
    logits = torch.randn(1, 5, generator=ctx.generator("single"), dtype=torch.float64)
    check_cross_entropy_case(ctx, logits, torch.tensor([3]), " (n == 1)")


@suite.check("accuracy/hidden")
def accuracy_random_inputs(ctx: Context) -> None:
    """accuracy matches the fraction of correct argmaxes on random batches"""
    generator = ctx.generator("batches")
    for case in range(8):
        n, q = (int(v) for v in torch.randint(2, 12, (2,), generator=generator))
        y_hat = torch.randn(n, q, generator=generator)
        y = torch.where(torch.rand(n, generator=generator) < 0.5, y_hat.argmax(dim=1),
                        torch.randint(0, q, (n,), generator=generator))
        check_accuracy_case(ctx, y_hat, y, f", random case {case} (seed {ctx.seed})")


@suite.check("accuracy/hidden")
def accuracy_square_scores(ctx: Context) -> None:
    """accuracy takes the argmax over each row, also when y_hat is square"""
    y_hat = torch.tensor([[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.7, 0.2, 0.1]])
    check_accuracy_case(ctx, y_hat, torch.tensor([0, 0, 1]), " (square y_hat)")


@suite.check("Flatten/hidden")
def flatten_random_shapes(ctx: Context) -> None:
    """Flatten keeps the batch dimension for inputs of rank 2 to 5"""
    generator = ctx.generator("shapes")
    for case in range(6):
        X = torch.randn(_random_shape(generator, 2, 5), generator=generator)
        check_flatten_case(ctx, X, f", random case {case} (seed {ctx.seed})")


@suite.check("Flatten/hidden")
def flatten_noncontiguous(ctx: Context) -> None:
    """Flatten works on a non-contiguous input"""
    try:
        check_flatten_case(ctx, torch.randn(3, 2, 4, 5, generator=ctx.generator("nc")), " (non-contiguous)", noncontiguous=True)
    except Exception as failure:
        if getattr(failure, "hint", "x") is None:
            failure.hint = HINT_FLATTEN_VIEW
        raise


@suite.check("Flatten/hidden")
def flatten_empty_batch(ctx: Context) -> None:
    """Flatten turns an empty (0, 3, 4) batch into (0, 12)"""
    try:
        check_flatten_case(ctx, torch.zeros(0, 3, 4), " (N == 0)")
    except Exception as failure:
        if getattr(failure, "hint", "x") is None:
            failure.hint = HINT_FLATTEN_EMPTY
        raise


@suite.check("evaluate_accuracy/hidden")
def evaluate_accuracy_unequal_batches(ctx: Context) -> None:
    """evaluate_accuracy weights batches of unequal size correctly"""
    generator = ctx.generator("sizes")
    for case in range(3):
        sizes = [int(n) for n in torch.randint(1, 9, (4,), generator=generator)] + [1]
        check_evaluate_accuracy_case(ctx, ctx.seed % 997 + case, sizes, True, False, f", case {case} (seed {ctx.seed})")


@suite.check("evaluate_accuracy/hidden")
def evaluate_accuracy_restores_eval_mode(ctx: Context) -> None:
    """evaluate_accuracy leaves a net that was in eval mode in eval mode"""
    check_evaluate_accuracy_case(ctx, 11, [5, 5, 3], False, False, " (net in eval mode before)")


@suite.check("evaluate_accuracy/hidden")
def evaluate_accuracy_generator(ctx: Context) -> None:
    """evaluate_accuracy works when data_iter is a one-pass generator"""
    check_evaluate_accuracy_case(ctx, 13, [6, 6, 6, 2], True, True, " (data_iter is a generator)")


@suite.check("train_epoch/hidden")
def train_epoch_random_batches(ctx: Context) -> None:
    """train_epoch matches the step-by-step oracle on random batches and both loss reductions"""
    generator = ctx.generator("sizes")
    for case in range(4):
        size = int(torch.randint(2, 9, (), generator=generator))
        sizes = [size] * int(torch.randint(2, 5, (), generator=generator)) + [int(torch.randint(1, size, (), generator=generator))]
        reduction = ("mean", "none")[case % 2]
        check_train_epoch_case(ctx, ctx.seed % 991 + case, sizes, reduction, True, f", case {case} (seed {ctx.seed})")


@suite.check("train_epoch/hidden")
def train_epoch_from_eval_mode(ctx: Context) -> None:
    """train_epoch switches a net left in eval mode back to training mode"""
    check_train_epoch_case(ctx, 17, [4, 4, 2], "mean", False, " (net left in eval mode)")


@suite.check("train_epoch/hidden")
def train_epoch_with_momentum(ctx: Context) -> None:
    """train_epoch works with any optimizer (SGD with momentum here)"""
    check_train_epoch_case(ctx, 19, [3, 3, 3, 1], "none", True, " (SGD with momentum 0.9)", momentum=0.9)
