"""Hidden checks for a4_mlp: fresh random inputs and named edge probes.

Never released: nbgrader_config.py keeps this file out of assignments/.
Each check draws its inputs from `ctx.generator(...)`, seeded from the
grading seed, so every failure message can name a seed that reproduces it.
Statistical checks state their false-failure bound (Hoeffding's inequality
for the sample sizes drawn); every hidden test stays below 1e-6 in all.
"""
from __future__ import annotations

import torch

from autograder.checking import Context
from autograder.checks.a4_mlp import suite
from autograder.checks.a4_mlp.checkpoint import check_load_case, check_save_case
from autograder.checks.a4_mlp.dropout import (
    HINT_DROP_EVAL,
    HINT_DROP_P_ZERO,
    check_dropout_case,
    check_dropout_identity,
    check_dropout_invalid,
    check_dropout_module,
    check_dropout_p_one,
    check_dropout_randomness,
    signed_input,
)
from autograder.checks.a4_mlp.mlp import check_mlp_case
from autograder.checks.a4_mlp.optim_checks import check_optimizer_case

DTYPES = (torch.float32, torch.float64)
HIDDEN_DELTA = 1e-9  # per statistical comparison


def _seeds(ctx: Context, salt: str, count: int) -> list[int]:
    return [int(s) for s in torch.randint(0, 10_000, (count,), generator=ctx.generator(salt))]


def _shape_with_about(generator: torch.Generator, rank: int, numel: int) -> tuple[int, ...]:
    """A random shape of the given rank with roughly numel elements."""
    sizes = []
    remaining = float(numel)
    for axis in range(rank - 1):
        size = int(torch.randint(2, 9, (), generator=generator)) if axis < rank - 2 else int(torch.randint(20, 60, (), generator=generator))
        sizes.append(size)
        remaining /= size
    sizes.append(max(2, int(remaining)))
    return tuple(sizes)


# ------------------------------------------------------------------ dropout


@suite.check("dropout/hidden")
def dropout_random_inputs(ctx: Context) -> None:
    """dropout on random shapes of rank 1 to 4, float32 and float64, random p: values, statistics, gradient

    False-failure probability: 8 cases, each with at most 4 Hoeffding bounds
    of 1e-9: < 3.2e-8.
    """
    generator = ctx.generator("cases")
    for case in range(8):
        rank = 1 + case % 4
        dtype = DTYPES[case % 2]
        numel = int(torch.randint(20_000, 60_000, (), generator=generator))
        X = signed_input(generator, _shape_with_about(generator, rank, numel), dtype)
        p = round(float(torch.empty(()).uniform_(0.05, 0.95, generator=generator)), 3)
        check_dropout_case(ctx, X, p, f", random case {case} (seed {ctx.seed})", HIDDEN_DELTA)


@suite.check("dropout/hidden")
def dropout_small_inputs(ctx: Context) -> None:
    """dropout on small inputs (a few elements) keeps shape, dtype and the 0 or X/(1-p) values"""
    generator = ctx.generator("small")
    for case in range(6):
        shape = tuple(int(n) for n in torch.randint(1, 4, (1 + case % 3,), generator=generator))
        X = signed_input(generator, shape, DTYPES[case % 2])
        check_dropout_case(ctx, X, (0.2, 0.5, 0.9)[case % 3], f", small case {case} (seed {ctx.seed})", HIDDEN_DELTA)


@suite.check("dropout/hidden")
def dropout_noncontiguous(ctx: Context) -> None:
    """dropout works on a non-contiguous (transposed) input

    False-failure probability: 4 Hoeffding bounds of 1e-9: < 4e-9.
    """
    X = signed_input(ctx.generator("nc"), (150, 160))
    check_dropout_case(ctx, X, 0.4, " (non-contiguous)", HIDDEN_DELTA, noncontiguous=True)


@suite.check("dropout/hidden")
def dropout_edge_probabilities(ctx: Context) -> None:
    """dropout with p given as the ints 0 and 1, with training=False in float64, and on an empty tensor"""
    X = signed_input(ctx.generator("edges"), (7, 9), torch.float64)
    check_dropout_identity(ctx, X, 0, True, " (p is the int 0)", HINT_DROP_P_ZERO)
    check_dropout_identity(ctx, X, 0.9, False, " (float64)", HINT_DROP_EVAL)
    check_dropout_p_one(ctx, X, " (p is the int 1)", p=1)
    check_dropout_p_one(ctx, X.reshape(7, 3, 3).float(), " (3-D float32)")
    check_dropout_case(ctx, torch.zeros(0, 5), 0.5, " (empty tensor)", HIDDEN_DELTA)


@suite.check("dropout/hidden")
def dropout_more_invalid_p(ctx: Context) -> None:
    """dropout raises ValueError for p = 2, p = -1e-6 and p = 1.0001"""
    X = torch.ones(3, 3)
    for p in (2.0, -1e-6, 1.0001):
        check_dropout_invalid(ctx, X, p)


@suite.check("dropout/hidden")
def dropout_randomness_float64(ctx: Context) -> None:
    """fresh masks on every call and reproducible masks from a generator, in float64 with p = 0.7

    False-failure probability: 5 outputs with 4 Hoeffding bounds of 1e-9 each: < 2e-8.
    """
    X = signed_input(ctx.generator("random"), (120, 150), torch.float64)
    check_dropout_randomness(ctx, X, 0.7, " (float64)")


# ------------------------------------------------------------------ Dropout


@suite.check("Dropout/hidden")
def dropout_layer_random(ctx: Context) -> None:
    """Dropout(p) for random p, shapes and dtypes: drops in training mode, identity in eval mode

    False-failure probability: 4 layers with 4 Hoeffding bounds of 1e-9: < 1.6e-8.
    """
    generator = ctx.generator("layers")
    for case in range(4):
        p = (0.1, 0.25, 0.6, 0.8)[case]
        numel = int(torch.randint(20_000, 40_000, (), generator=generator))
        X = signed_input(generator, _shape_with_about(generator, 2 + case % 3, numel), DTYPES[case % 2])
        check_dropout_module(ctx, X, p, f", random case {case} (seed {ctx.seed})", HIDDEN_DELTA)


# ------------------------------------------------------------------ MLP


@suite.check("MLP/hidden")
def mlp_random_architectures(ctx: Context) -> None:
    """MLP for random depths (0 to 3 hidden layers), widths, dropout rates and input shapes"""
    generator = ctx.generator("architectures")
    for case in range(6):
        depth = case % 4
        widths = [int(w) for w in torch.randint(3, 20, (depth,), generator=generator)]
        p = (0.0, 0.3, 0.7)[case % 3]
        if case % 2:
            shape = (int(torch.randint(1, 9, (), generator=generator)), 2, 3, 4)
        else:
            shape = (int(torch.randint(1, 9, (), generator=generator)), 24)
        X = torch.randn(shape, generator=generator)
        num_outputs = int(torch.randint(2, 6, (), generator=generator))
        check_mlp_case(ctx, ctx.seed % 997 + case, 24, widths, num_outputs, p, X, f", random case {case} (seed {ctx.seed})")


@suite.check("MLP/hidden")
def mlp_no_hidden_layer(ctx: Context) -> None:
    """MLP(16, [], 4) is flatten then a single Linear (softmax regression)"""
    X = torch.randn(3, 1, 4, 4, generator=ctx.generator("empty"))
    check_mlp_case(ctx, 5, 16, [], 4, 0.5, X, " (num_hiddens is empty)")


@suite.check("MLP/hidden")
def mlp_single_example(ctx: Context) -> None:
    """MLP works on a batch of one example"""
    X = torch.randn(1, 1, 8, 8, generator=ctx.generator("single"))
    check_mlp_case(ctx, 6, 64, [16, 8], 10, 0.2, X, " (batch of one)")


# ------------------------------------------------------------------ optimizers


@suite.check("SGDMomentum/hidden")
def sgd_float32_and_groups(ctx: Context) -> None:
    """SGDMomentum matches torch.optim.SGD in float32, with param groups, and without momentum"""
    a, b, c, d = _seeds(ctx, "sgd", 4)
    check_optimizer_case(ctx, "SGDMomentum", a, torch.float32, {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.01}, 24,
                         f" (seed {ctx.seed})")
    check_optimizer_case(ctx, "SGDMomentum", b, torch.float64, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.05}, 30,
                         f" (seed {ctx.seed})", group_overrides={"lr": 0.01, "momentum": 0.5})
    check_optimizer_case(ctx, "SGDMomentum", c, torch.float64, {"lr": 0.2, "weight_decay": 0.1}, 20, f" (seed {ctx.seed})")
    check_optimizer_case(ctx, "SGDMomentum", d, torch.float32, {"lr": 0.1, "momentum": 0.5}, 20, f" (seed {ctx.seed})",
                         use_closure=True)


@suite.check("RMSprop/hidden")
def rmsprop_float32_and_groups(ctx: Context) -> None:
    """RMSprop matches torch.optim.RMSprop in float32, with param groups, and with a large eps"""
    a, b, c = _seeds(ctx, "rmsprop", 3)
    check_optimizer_case(ctx, "RMSprop", a, torch.float32, {"lr": 0.01, "alpha": 0.95, "eps": 1e-6}, 24, f" (seed {ctx.seed})")
    check_optimizer_case(ctx, "RMSprop", b, torch.float64, {"lr": 0.005, "alpha": 0.5, "eps": 1e-2}, 30,
                         f" (seed {ctx.seed})", group_overrides={"lr": 0.02, "alpha": 0.9})
    check_optimizer_case(ctx, "RMSprop", c, torch.float32, {"lr": 0.005}, 20, f" (seed {ctx.seed})", use_closure=True)


@suite.check("Adam/hidden")
def adam_float32_and_groups(ctx: Context) -> None:
    """Adam matches torch.optim.Adam in float32, with its defaults, with param groups and other betas"""
    a, b, c, d = _seeds(ctx, "adam", 4)
    check_optimizer_case(ctx, "Adam", a, torch.float32, {"lr": 0.01, "weight_decay": 0.01}, 24, f" (seed {ctx.seed})")
    check_optimizer_case(ctx, "Adam", b, torch.float64, {}, 30, f" (seed {ctx.seed})")
    check_optimizer_case(ctx, "Adam", c, torch.float64, {"lr": 0.05, "betas": (0.5, 0.9), "weight_decay": 0.05}, 30,
                         f" (seed {ctx.seed})", group_overrides={"lr": 0.005, "betas": (0.9, 0.99), "weight_decay": 0.0})
    check_optimizer_case(ctx, "Adam", d, torch.float32, {"lr": 0.02, "betas": (0.85, 0.99)}, 20, f" (seed {ctx.seed})",
                         use_closure=True)


@suite.check("SGDMomentum/hidden")
def sgd_gradients_schedules_and_resume(ctx: Context) -> None:
    """SGDMomentum with param groups, in float32: gradients kept or overwritten between steps, lr changes, resuming from its state_dict"""
    a, b, c = _seeds(ctx, "sgd protocols", 3)
    check_optimizer_case(ctx, "SGDMomentum", a, torch.float32, {"lr": 0.05, "momentum": 0.8}, 24, f" (seed {ctx.seed})",
                         group_overrides={"lr": 0.02, "weight_decay": 0.05},
                         protocol={"grads": "overwritten", "lr_scale": [[5, 0.5]], "resume_at": 12})
    check_optimizer_case(ctx, "SGDMomentum", b, torch.float64, {"lr": 0.1, "momentum": 0.7, "weight_decay": 0.02}, 24,
                         f" (seed {ctx.seed})", group_overrides={"momentum": 0.0},
                         protocol={"grads": "kept", "resume_at": 7})
    check_optimizer_case(ctx, "SGDMomentum", c, torch.float32, {"lr": 0.1, "momentum": 0.9}, 18, f" (seed {ctx.seed})",
                         protocol={"grads": "kept", "lr_scale": [[3, 2.0], [9, 0.1]]})


@suite.check("RMSprop/hidden")
def rmsprop_gradients_schedules_and_resume(ctx: Context) -> None:
    """RMSprop with param groups, in float32: gradients kept or overwritten between steps, lr changes, resuming from its state_dict"""
    a, b = _seeds(ctx, "rmsprop protocols", 2)
    check_optimizer_case(ctx, "RMSprop", a, torch.float32, {"lr": 0.01, "alpha": 0.95}, 24, f" (seed {ctx.seed})",
                         group_overrides={"lr": 0.003, "eps": 1e-4},
                         protocol={"grads": "overwritten", "lr_scale": [[6, 0.3]], "resume_at": 13})
    check_optimizer_case(ctx, "RMSprop", b, torch.float64, {"lr": 0.005, "alpha": 0.8}, 24, f" (seed {ctx.seed})",
                         protocol={"grads": "kept", "resume_at": 8})


@suite.check("Adam/hidden")
def adam_gradients_schedules_and_resume(ctx: Context) -> None:
    """Adam with param groups, in float32: gradients kept or overwritten between steps, lr changes, resuming from its state_dict"""
    a, b = _seeds(ctx, "adam protocols", 2)
    check_optimizer_case(ctx, "Adam", a, torch.float32, {"lr": 0.01, "weight_decay": 0.05}, 24, f" (seed {ctx.seed})",
                         group_overrides={"lr": 0.02, "betas": (0.8, 0.99)},
                         protocol={"grads": "overwritten", "lr_scale": [[4, 0.5]], "resume_at": 11})
    check_optimizer_case(ctx, "Adam", b, torch.float64, {"lr": 0.02, "betas": (0.85, 0.98), "weight_decay": 0.1}, 24,
                         f" (seed {ctx.seed})", protocol={"grads": "kept", "lr_scale": [[10, 0.25]], "resume_at": 5})


# ------------------------------------------------------------------ checkpoints


@suite.check("save_checkpoint/hidden")
def save_checkpoint_other_optimizers(ctx: Context) -> None:
    """save_checkpoint works for SGD with momentum and RMSprop, other epochs and file names"""
    a, b = _seeds(ctx, "save", 2)
    epoch = 3 + a % 7
    check_save_case(ctx, a, "SGD", {"lr": 0.1, "momentum": 0.9}, f"run_{a}.tar", epoch, f" (seed {ctx.seed})")
    check_save_case(ctx, b, "RMSprop", {"lr": 0.01}, "checkpoint.pth", 1, f" (seed {ctx.seed})")


@suite.check("save_checkpoint/hidden")
def save_checkpoint_adam_weight_decay(ctx: Context) -> None:
    """save_checkpoint keeps Adam's state with weight decay, epoch 0 included"""
    (a,) = _seeds(ctx, "adam", 1)
    check_save_case(ctx, a, "Adam", {"lr": 0.02, "weight_decay": 0.01}, "epoch0.pt", 0, f" (seed {ctx.seed})")


@suite.check("load_checkpoint/hidden")
def load_checkpoint_other_optimizers(ctx: Context) -> None:
    """load_checkpoint restores SGD with momentum and RMSprop, other epochs, and ignores extra keys"""
    a, b = _seeds(ctx, "load", 2)
    epoch = 3 + a % 7
    check_load_case(ctx, a, "SGD", {"lr": 0.1, "momentum": 0.9}, f"run_{a}.tar", epoch, {"loss": 0.25},
                    f" (seed {ctx.seed})")
    check_load_case(ctx, b, "RMSprop", {"lr": 0.01}, "checkpoint.pth", 1, {"note": "extra key"}, f" (seed {ctx.seed})")


@suite.check("load_checkpoint/hidden")
def load_checkpoint_adam_weight_decay(ctx: Context) -> None:
    """load_checkpoint restores Adam with weight decay; epoch 0 comes back as 0"""
    (a,) = _seeds(ctx, "adam", 1)
    check_load_case(ctx, a, "Adam", {"lr": 0.02, "weight_decay": 0.01}, "epoch0.pt", 0, {}, f" (seed {ctx.seed})")
