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


from autograder.checks.a1_autograd import numerical_grad, sigmoid, value  # noqa: E402,F401 - registers the checks
