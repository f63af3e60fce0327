"""Hidden checks for a1_autograd: fresh random inputs and named edge probes.

Never released: nbgrader_config.py keeps this file out of assignments/.
Each check draws its inputs from `ctx.generator(...)`, seeded from the
grading seed, so every failure message can name a seed that reproduces it.
"""
from __future__ import annotations

import torch

from autograder.checking import CheckFailed, Context
from autograder.checks.a1_autograd import suite
from autograder.checks.a1_autograd.numerical_grad import SMOOTH_FUNCTIONS, check_numerical_grad_case
from autograder.checks.a1_autograd.sigmoid import check_sigmoid_case, check_sigmoid_gradcheck
from autograder.checks.a1_autograd.value import check_value_graphs, value_accumulation_trace
from autograder.checks.a1_autograd.value_graphs import random_graph, random_graphs, single_op_graphs, stacked_diamonds
from autograder.checks.kit import random_shape


def _seed(ctx: Context, salt: str) -> int:
    return int(torch.randint(0, 2**31 - 1, (), generator=ctx.generator(salt)))


# ---------------------------------------------------------------- numerical_grad

@suite.check("numerical_grad/hidden")
def numerical_grad_random_functions(ctx: Context) -> None:
    """numerical_grad agrees with autograd on every smooth function of the menu, random shapes of rank 0 to 3"""
    generator = ctx.generator("functions")
    for case, name in enumerate(sorted(SMOOTH_FUNCTIONS)):
        x = torch.randn(random_shape(generator, 0, 3, 4), generator=generator, dtype=torch.float64)
        check_numerical_grad_case(ctx, name, x, None, f", random case {case} (seed {ctx.seed})")


@suite.check("numerical_grad/hidden")
def numerical_grad_error_order(ctx: Context) -> None:
    """numerical_grad with eps = 1e-3 and 1e-2 errs by eps**2/6 * f''' exactly as central differences do"""
    generator = ctx.generator("steps")
    for case, name in enumerate(sorted(SMOOTH_FUNCTIONS)):
        x = torch.randn(random_shape(generator, 1, 2, 4), generator=generator, dtype=torch.float64)
        eps = 1e-2 if name == "cubic" else 1e-3  # O(eps**4) is exactly zero only for the cubic
        check_numerical_grad_case(ctx, name, x, eps, f", random case {case} (seed {ctx.seed})")


@suite.check("numerical_grad/hidden")
def numerical_grad_noncontiguous(ctx: Context) -> None:
    """numerical_grad is right and leaves x bit-for-bit unchanged for non-contiguous x of rank 2 and 3"""
    generator = ctx.generator("layouts")
    for case, name in enumerate(("tanh_mix", "norm_cos", "exp_cos")):
        # rank 2 or 3, every dimension >= 2: the transposed layout then really differs
        shape = tuple(n + 1 for n in random_shape(generator, 2, 3, 3))
        x = torch.randn(shape, generator=generator, dtype=torch.float64)
        check_numerical_grad_case(ctx, name, x, None, f", random case {case} (seed {ctx.seed})", noncontiguous=True)


@suite.check("numerical_grad/hidden")
def numerical_grad_single_element(ctx: Context) -> None:
    """numerical_grad works for a 0-dimensional x and for x with one element"""
    check_numerical_grad_case(ctx, "sin", torch.tensor(0.7, dtype=torch.float64), None, " (0-dimensional x)")
    check_numerical_grad_case(ctx, "log_sum_exp", torch.tensor([[-0.3]], dtype=torch.float64), None, " (one element)")


# ---------------------------------------------------------------- Value

@suite.check("Value/hidden")
def value_single_operations_random(ctx: Context) -> None:
    """each operation of Value matches torch at random operands, alone and followed by * 2.5"""
    generator = ctx.generator("operands")
    graphs = []
    for then_scale in (False, True):
        for label, leaves, ops in single_op_graphs(then_scale):
            scale = float(torch.empty(()).uniform_(0.6, 1.6, generator=generator))
            new_leaves = [round(v * scale, 6) for v in leaves]
            graphs.append((f"{label.split(',')[0]}, a = {new_leaves[0]}"
                           + (f", b = {new_leaves[1]}" if len(new_leaves) > 1 else "") + f" (seed {ctx.seed})",
                           new_leaves, ops))
    check_value_graphs(ctx, graphs)


@suite.check("Value/hidden")
def value_random_graphs_hidden(ctx: Context) -> None:
    """25 random expression graphs of every operation, with reused nodes, match torch value by value and gradient by gradient"""
    check_value_graphs(ctx, random_graphs(_seed(ctx, "graphs"), 25, (2, 6), (8, 30), f", seed {ctx.seed}"))


@suite.check("Value/hidden")
def value_stacked_diamonds(ctx: Context) -> None:
    """backward visits each node once in a graph with 10 stacked diamonds (2**10 paths)"""
    leaves, ops = stacked_diamonds(10, start=0.3)
    check_value_graphs(ctx, [("10 stacked diamonds: u = x.tanh(); x = (u * 2) * (u + 1), ten times", leaves, ops)])


@suite.check("Value/hidden")
def value_large_graph(ctx: Context) -> None:
    """a random graph of 200 operations matches torch"""
    import random

    rng = random.Random(_seed(ctx, "large"))
    leaves, ops = random_graph(rng, 8, 200)
    check_value_graphs(ctx, [(f"random graph of {len(ops)} operations (seed {ctx.seed})", leaves, ops)])


@suite.check("Value/hidden")
def value_independent_graphs(ctx: Context) -> None:
    """gradients accumulate across backward() calls of two outputs that share leaves, as in torch"""
    got = ctx.run(value_accumulation_trace)
    what = "a = Value(1.5); b = Value(0.0); (a * b).backward(); (a + b).backward()"
    for name, value, want in zip("ab", got, (1.0, 2.5)):  # d(a*b) + d(a+b): (b + 1, a + 1)
        if not isinstance(value, float) or abs(value - want) > 1e-12:
            raise CheckFailed(f"{what}: {name}.grad is {value}, expected {want}",
                              "backward() adds into the grads (+=) and never resets its ancestors: "
                              "only the output's own grad is set to 1.0")


# ---------------------------------------------------------------- Sigmoid

@suite.check("Sigmoid/hidden")
def sigmoid_random_inputs(ctx: Context) -> None:
    """Sigmoid matches torch.sigmoid on random shapes of rank 0 to 3, float32 and float64, values and gradients"""
    generator = ctx.generator("shapes")
    for case in range(10):
        dtype = (torch.float32, torch.float64)[case % 2]
        x = torch.randn(random_shape(generator, 0, 3, 5), generator=generator, dtype=dtype) * 8
        check_sigmoid_case(ctx, x, f", random case {case} (seed {ctx.seed})")


@suite.check("Sigmoid/hidden")
def sigmoid_extremes_mixed(ctx: Context) -> None:
    """Sigmoid is finite and exact on random inputs mixed with ±1000, ±100, ±40, float32 and float64"""
    generator = ctx.generator("extremes")
    for dtype in (torch.float32, torch.float64):
        x = torch.randn(3, 6, generator=generator, dtype=dtype) * 5
        x.view(-1)[::3] = torch.tensor([1000.0, -1000.0, 100.0, -100.0, 40.0, -40.0], dtype=dtype)
        check_sigmoid_case(ctx, x, f" (extreme values mixed in, seed {ctx.seed})")


@suite.check("Sigmoid/hidden")
def sigmoid_noncontiguous(ctx: Context) -> None:
    """Sigmoid works on a non-contiguous input"""
    x = torch.randn(4, 5, generator=ctx.generator("noncontiguous"), dtype=torch.float64) * 4
    check_sigmoid_case(ctx, x, f" (seed {ctx.seed})", noncontiguous=True)


@suite.check("Sigmoid/hidden")
def sigmoid_gradcheck_random(ctx: Context) -> None:
    """Sigmoid passes torch.autograd.gradcheck on random float64 inputs, small and large"""
    generator = ctx.generator("gradcheck")
    for case, scale in enumerate((1.0, 6.0, 25.0)):
        x = torch.randn(random_shape(generator, 1, 3, 4), generator=generator, dtype=torch.float64) * scale
        check_sigmoid_gradcheck(ctx, x, f", random case {case} (seed {ctx.seed})")
