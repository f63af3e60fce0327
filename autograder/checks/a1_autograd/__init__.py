"""a1_autograd: tensors, autograd, gradient checking.

One module per exercise (or tight group), each holding, in this order, what
is forbidden, the hints, the scenarios (run beside the learner's code) and
the checks (run in the grader's process):

| module | exercises |
|---|---|
| `numerical_grad` | numerical_grad |
| `value` | Value |
| `value_graphs` | (Value's expression graphs as plain data: the operations, and the graphs the checks build) |
| `sigmoid` | Sigmoid |

Hidden checks (`solutions/a1_autograd/hidden_checks.py`, never released)
register into the same `suite` and reuse the scenarios and diagnoses
defined here.
"""
from __future__ import annotations

import torch

from autograder.checking import Suite

suite = Suite("a1_autograd")


def fixed_input(shape: tuple[int, ...], seed: int, scale: float = 1.0) -> torch.Tensor:
    """A float64 N(0, scale²) tensor that depends only on `seed`: the public checks' inputs."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * scale


# Each case the lesson names, and the public check that covers it: (exercise,
# words of the lesson, title of the public check). tests/test_lesson_coverage.py
# holds the lesson and the checks to this table.
LESSON_CASES: tuple[tuple[str, str, str], ...] = (
    ("numerical_grad", "central differences with a step of exactly `eps`",
     "numerical_grad uses central differences of step eps: error of order eps**2, not eps"),
    ("numerical_grad", "**bit-for-bit unchanged**", "numerical_grad leaves x bit-for-bit unchanged, also a non-contiguous x"),
    ("numerical_grad", "a **non-contiguous** `x`", "numerical_grad leaves x bit-for-bit unchanged, also a non-contiguous x"),
    ("Value", "with plain numbers on either side",
     "each operation of Value, alone, matches torch in value and gradient (numbers on either side included)"),
    ("Value", "given `out.grad`, adds each parent's share",
     "each operation's backward multiplies by the gradient flowing into it (the chain rule)"),
    ("Value", "a node used twice", "a node used twice (a * a, a node feeding two parents) sums the gradients of its uses"),
    ("Value", "exactly like PyTorch's accumulation above",
     "gradients accumulate across backward() calls: (a * b).backward(); (a + b).backward() gives a.grad = b + 1, b.grad = a + 1"),
    ("Value", "without a visited set",
     "backward runs every node's rule exactly once, in topological order (4 stacked diamonds)"),
    ("Sigmoid", "(±1000 included)", "Sigmoid gives finite values and gradients for inputs of ±100 and ±1000"),
    ("Sigmoid", "keep the input's dtype", "Sigmoid matches torch.sigmoid in values and gradients, float32 and float64"),
    ("Sigmoid", "pass `torch.autograd.gradcheck` in float64", "Sigmoid passes torch.autograd.gradcheck in float64"),
)


from autograder.checks.a1_autograd import numerical_grad, sigmoid, value  # noqa: E402,F401 - registers the checks
