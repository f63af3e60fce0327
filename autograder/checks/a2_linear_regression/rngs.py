"""a2_linear_regression · the random number generators the scenarios of
synthetic_data, data_iter, train_linreg and train_concise watch: which
global ones a learner's code touched although it was given a generator,
scenarios that leave them as they found them, seeded generators.
"""
from __future__ import annotations

import contextlib
import functools
import random
from typing import Any, Callable, Iterator

import torch


class RandomState:
    """Snapshots of every random number generator a learner might touch
    besides the one they were given."""

    def __init__(self) -> None:
        self.torch = torch.random.get_rng_state()
        self.python = random.getstate()

    def touched(self) -> list[str]:
        which = []
        if not torch.equal(self.torch, torch.random.get_rng_state()):
            which.append("torch's global random number generator")
        if self.python != random.getstate():
            which.append("Python's random module")
        return which


@contextlib.contextmanager
def preserved_global_rngs() -> Iterator[None]:
    """Restore torch's and Python's global RNG states afterwards: scenarios
    seed them, and in a self-check they run in the learner's own kernel."""
    torch_state, python_state = torch.random.get_rng_state(), random.getstate()
    try:
        yield
    finally:
        torch.random.set_rng_state(torch_state)
        random.setstate(python_state)


def seeded_generator(seed: int | None) -> torch.Generator | None:
    """A fresh generator seeded `seed`, or None (draw from the global RNG)."""
    return None if seed is None else torch.Generator().manual_seed(seed)


def keeps_global_rngs(scenario: Callable[..., Any]) -> Callable[..., Any]:
    """A scenario that seeds the global RNGs, made to leave them as it found them."""

    @functools.wraps(scenario)
    def wrapped(*args: Any) -> Any:
        with preserved_global_rngs():
            return scenario(*args)

    return wrapped
