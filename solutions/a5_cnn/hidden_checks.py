"""Hidden checks for a5_cnn: fresh random shapes, strides and paddings, and
named edge probes.

Never released: nbgrader_config.py keeps this file out of assignments/.
Each check draws its inputs from `ctx.generator(...)`, seeded from the
grading seed, so every failure message can name a seed that reproduces it.
Every case the lesson names also has a public check; the hidden ones vary it.
"""
from __future__ import annotations

from typing import Any

import torch

from autograder.checking import Context
from autograder.checks.a5_cnn import suite
from autograder.checks.a5_cnn.conv import check_conv2d_case, check_corr2d_case
from autograder.checks.a5_cnn.dataset import check_dataset_case, make_images
from autograder.checks.a5_cnn.layer import check_layer_forward, check_layer_init, check_layer_parameters
from autograder.checks.a5_cnn.pool import check_pool_case

DTYPES = (torch.float32, torch.float64)


def _int(generator: torch.Generator, low: int, high: int) -> int:
    """A random int in [low, high]."""
    return int(torch.randint(low, high + 1, (), generator=generator))


def _int_or_pair(generator: torch.Generator, low: int, high: int) -> Any:
    first, second = _int(generator, low, high), _int(generator, low, high)
    return first if _int(generator, 0, 1) else (first, second)


@suite.check("corr2d/hidden")
def corr2d_random_shapes(ctx: Context) -> None:
    """corr2d matches F.conv2d on random shapes and kernels, float32 and float64"""
    generator = ctx.generator("shapes")
    for case in range(12):
        h, w = _int(generator, 1, 9), _int(generator, 1, 9)
        kh, kw = _int(generator, 1, h), _int(generator, 1, w)
        X = torch.randn(h, w, generator=generator, dtype=DTYPES[case % 2])
        K = torch.randn(kh, kw, generator=generator, dtype=DTYPES[case % 2])
        check_corr2d_case(ctx, X, K, f", random case {case} (seed {ctx.seed})")


@suite.check("corr2d/hidden")
def corr2d_edge_kernels(ctx: Context) -> None:
    """corr2d with a 1×1 kernel, a kernel as large as the input, and a non-contiguous input"""
    generator = ctx.generator("edges")
    X = torch.randn(4, 6, generator=generator)
    check_corr2d_case(ctx, X, torch.randn(1, 1, generator=generator), " (1×1 kernel)")
    check_corr2d_case(ctx, X, torch.randn(4, 6, generator=generator), " (kernel as large as X)")
    check_corr2d_case(ctx, X, torch.randn(2, 3, generator=generator), " (non-contiguous X)", noncontiguous=True)


@suite.check("conv2d/hidden")
def conv2d_random_cases(ctx: Context) -> None:
    """conv2d matches F.conv2d on random batches, channels, kernels, strides and paddings"""
    generator = ctx.generator("cases")
    for case in range(16):
        n, c_in, c_out = _int(generator, 1, 3), _int(generator, 1, 3), _int(generator, 1, 4)
        kh, kw = _int(generator, 1, 4), _int(generator, 1, 4)
        stride, padding = _int_or_pair(generator, 1, 3), _int_or_pair(generator, 0, 2)
        (sh, sw), (ph, pw) = [(v, v) if isinstance(v, int) else v for v in (stride, padding)]
        H, W = _int(generator, max(1, kh - 2 * ph), 9), _int(generator, max(1, kw - 2 * pw), 9)
        dtype = DTYPES[case % 2]
        X = torch.randn(n, c_in, H, W, generator=generator, dtype=dtype)
        weight = torch.randn(c_out, c_in, kh, kw, generator=generator, dtype=dtype)
        bias = torch.randn(c_out, generator=generator, dtype=dtype) if case % 3 else None
        check_conv2d_case(ctx, X, weight, bias, {"stride": stride, "padding": padding},
                          f", random case {case} (seed {ctx.seed})")


@suite.check("conv2d/hidden")
def conv2d_edge_cases(ctx: Context) -> None:
    """conv2d with a 1×1 kernel, padding larger than the kernel, and a non-contiguous input"""
    generator = ctx.generator("edges")
    X = torch.randn(2, 3, 5, 6, generator=generator)
    check_conv2d_case(ctx, X, torch.randn(4, 3, 1, 1, generator=generator), torch.randn(4, generator=generator), {},
                      " (1×1 kernel)")
    check_conv2d_case(ctx, X, torch.randn(2, 3, 2, 2, generator=generator), None, {"padding": 3}, " (padding 3 > kernel)")
    check_conv2d_case(ctx, X, torch.randn(2, 3, 3, 2, generator=generator), torch.randn(2, generator=generator),
                      {"stride": (1, 2), "padding": (1, 0)}, " (non-contiguous X)", noncontiguous=True)


def _pool_case(generator: torch.Generator) -> tuple[Any, dict[str, Any], tuple[int, int]]:
    kernel = _int_or_pair(generator, 1, 4)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    kwargs: dict[str, Any] = {}
    if _int(generator, 0, 2):
        kwargs["stride"] = _int_or_pair(generator, 1, 3)
    if _int(generator, 0, 1):
        ph, pw = _int(generator, 0, kh // 2), _int(generator, 0, kw // 2)
        kwargs["padding"] = ph if ph == pw and _int(generator, 0, 1) else (ph, pw)
    return kernel, kwargs, (kh, kw)


@suite.check("max_pool2d/hidden")
def max_pool2d_random_cases(ctx: Context) -> None:
    """max_pool2d matches F.max_pool2d on random windows, strides and paddings, negative inputs and ties included"""
    generator = ctx.generator("cases")
    for case in range(14):
        kernel, kwargs, (kh, kw) = _pool_case(generator)
        shape = (_int(generator, 1, 2), _int(generator, 1, 3), _int(generator, kh, 9), _int(generator, kw, 9))
        if case % 3 == 0:
            X = torch.randint(0, 3, shape, generator=generator).to(DTYPES[case % 2])  # ties
        elif case % 3 == 1:
            X = -(torch.rand(shape, generator=generator, dtype=DTYPES[case % 2]) + 0.1)  # all negative
        else:
            X = torch.randn(shape, generator=generator, dtype=DTYPES[case % 2])
        check_pool_case(ctx, "max", X, kernel, kwargs, f", random case {case} (seed {ctx.seed})")


@suite.check("max_pool2d/hidden")
def max_pool2d_noncontiguous(ctx: Context) -> None:
    """max_pool2d works on a non-contiguous input"""
    X = torch.randn(2, 3, 6, 5, generator=ctx.generator("nc"))
    check_pool_case(ctx, "max", X, 2, {"stride": 1, "padding": 1}, " (non-contiguous X)", noncontiguous=True)


@suite.check("avg_pool2d/hidden")
def avg_pool2d_random_cases(ctx: Context) -> None:
    """avg_pool2d matches F.avg_pool2d on random windows, strides and paddings"""
    generator = ctx.generator("cases")
    for case in range(12):
        kernel, kwargs, (kh, kw) = _pool_case(generator)
        shape = (_int(generator, 1, 2), _int(generator, 1, 3), _int(generator, kh, 9), _int(generator, kw, 9))
        X = torch.randn(shape, generator=generator, dtype=DTYPES[case % 2]) + 1.0
        check_pool_case(ctx, "avg", X, kernel, kwargs, f", random case {case} (seed {ctx.seed})")


@suite.check("avg_pool2d/hidden")
def avg_pool2d_noncontiguous(ctx: Context) -> None:
    """avg_pool2d works on a non-contiguous input"""
    X = torch.randn(2, 3, 6, 5, generator=ctx.generator("nc"))
    check_pool_case(ctx, "avg", X, 3, {"stride": 2, "padding": 1}, " (non-contiguous X)", noncontiguous=True)


@suite.check("Conv2d/hidden")
def conv2d_layer_random_configurations(ctx: Context) -> None:
    """Conv2d has nn.Conv2d's parameters and forwards its own configuration, on random layers"""
    generator = ctx.generator("layers")
    for case in range(5):
        c_in, c_out = _int(generator, 1, 4), _int(generator, 1, 5)
        kernel = _int_or_pair(generator, 1, 4)
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        kwargs: dict[str, Any] = {"stride": _int_or_pair(generator, 1, 3), "padding": _int_or_pair(generator, 0, 2),
                                  "bias": bool(case % 2)}
        args = [c_in, c_out, kernel]
        check_layer_parameters(ctx, args, kwargs)
        X = torch.randn(_int(generator, 1, 3), c_in, _int(generator, kh, 8), _int(generator, kw, 8), generator=generator)
        check_layer_forward(ctx, args, kwargs, X, ctx.seed % 997 + case, f", random case {case} (seed {ctx.seed})")


@suite.check("Conv2d/hidden")
def conv2d_layer_positional_arguments(ctx: Context) -> None:
    """Conv2d takes its arguments positionally too: Conv2d(3, 4, 3, 2, 1, False)"""
    args = [3, 4, 3, 2, 1, False]
    check_layer_parameters(ctx, args, {})
    X = torch.randn(2, 3, 7, 7, generator=ctx.generator("positional"))
    check_layer_forward(ctx, args, {}, X, 7, " (positional arguments)")


@suite.check("Conv2d/hidden")
def conv2d_layer_initialisation_other_seeds(ctx: Context) -> None:
    """Conv2d's initialisation has the right scale for other seeds and a non-square kernel"""
    check_layer_init(ctx, 3, 6, (2, 3), ctx.seed % 1009)
    check_layer_init(ctx, 96, 48, (5, 3), ctx.seed % 1013 + 1)


@suite.check("ImageDataset/hidden")
def dataset_random_sizes(ctx: Context) -> None:
    """ImageDataset reads random datasets right, as tensors and as lists, with and without a transform"""
    generator = ctx.generator("datasets")
    for case in range(4):
        n = _int(generator, 1, 9)
        channels = (1, 3)[case % 2]
        images, labels = make_images(ctx.seed % 991 + case, n, (channels, _int(generator, 2, 6), _int(generator, 2, 6)))
        indices = [_int(generator, -n, n - 1) for _ in range(3)]
        transform = ("none", "affine", "noise", "affine")[case]
        check_dataset_case(ctx, images, labels, transform, indices, bool(case % 2),
                           f", random case {case} (seed {ctx.seed})", batch_size=_int(generator, 1, 4))


@suite.check("ImageDataset/hidden")
def dataset_single_example(ctx: Context) -> None:
    """ImageDataset with a single example: ds[0] and ds[-1] are the same"""
    images, labels = make_images(ctx.seed % 983, 1, (1, 3, 3))
    check_dataset_case(ctx, images, labels, "affine", [0, -1], False, " (one example)", batch_size=2)
