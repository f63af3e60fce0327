"""Shared kit for the checks of several assignments: small models and
minibatches whose values depend only on a seed, so the learner's process and
the grader's build exactly the same ones."""
from __future__ import annotations

import torch
from torch import nn


def make_classifier(seed: int, num_inputs: int, num_outputs: int, num_hiddens: int = 8, dropout: float = 0.0,
                    dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """A small MLP whose weights depend only on `seed` (the same in every process)."""
    layers: list[nn.Module] = [nn.Linear(num_inputs, num_hiddens), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(num_hiddens, num_outputs))
    net = nn.Sequential(*layers).to(dtype)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=dtype) * 0.5)
    return net


def make_batches(seed: int, sizes: list[int], num_inputs: int, num_outputs: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Random (X, y) minibatches of the given sizes."""
    generator = torch.Generator().manual_seed(seed)
    return [
        (torch.randn(n, num_inputs, generator=generator), torch.randint(0, num_outputs, (n,), generator=generator))
        for n in sizes
    ]


def random_shape(generator: torch.Generator, min_rank: int, max_rank: int, max_size: int = 6) -> tuple[int, ...]:
    """A shape of random rank in [min_rank, max_rank], each dimension in [1, max_size], drawn from `generator`."""
    rank = int(torch.randint(min_rank, max_rank + 1, (), generator=generator))
    return tuple(int(n) for n in torch.randint(1, max_size + 1, (rank,), generator=generator))


def expect_pair(value: object, what: str, names: str, hint: str) -> tuple[object, object]:
    """The two items of a returned pair (a tuple or list of two); anything
    else fails with "<what>: expected a pair <names>, got <what came>"."""
    from autograder.checking import CheckFailed
    from autograder.scenarios import describe

    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise CheckFailed(f"{what}: expected a pair {names}, got {describe(value)}", hint)
    return value[0], value[1]


# --------------------------------------------------------------------------
# Crashes explained (a5 onwards).

from typing import TYPE_CHECKING, Any, Callable  # noqa: E402 - appended section

if TYPE_CHECKING:
    from autograder.checking import Context


def run_explained(ctx: Context, what: str, hint: str, scenario: Callable[..., Any], *args: Any) -> Any:
    """`ctx.run(scenario, *args)`, except that when the learner's code raises
    (a shape mismatch, say) the failure names the input it crashed on
    (`what`: the call, its shapes and arguments) and gives `hint`, not only
    the exception's text."""
    from autograder.checking import LearnerError

    try:
        return ctx.run(scenario, *args)
    except LearnerError as error:
        if error.kind != "error":
            raise
        raise LearnerError("error", f"{error.message}\n  input: {what}", error.hint or hint) from None


# --------------------------------------------------------------------------
# An optimizer for scenarios that drive the learner's training loop.


class LightSGD(torch.optim.Optimizer):
    """torch.optim.SGD's update (lr, momentum; no dampening, no weight decay),
    bit for bit, as a `torch.optim.Optimizer` (d2l's `train_epoch_ch3`
    branches on `isinstance(updater, torch.optim.Optimizer)`), without
    `Optimizer.__init__` and its decorated methods: the first call of any of
    those imports torch._dynamo, two seconds of a learner's self-check."""

    def __init__(self, params: Any, lr: float, momentum: float = 0.0) -> None:  # noqa: D107 - no super().__init__ on purpose
        self.defaults = {"lr": lr, "momentum": momentum}
        self.state: dict[Any, dict[str, Any]] = {}
        self.param_groups = [{"params": list(params), "lr": lr, "momentum": momentum}]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_().zero_()

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                update = p.grad
                if group["momentum"]:
                    buffer = self.state.setdefault(p, {}).get("momentum_buffer")
                    if buffer is None:
                        buffer = torch.clone(update).detach()
                    else:
                        buffer.mul_(group["momentum"]).add_(update)
                    self.state[p]["momentum_buffer"] = buffer
                    update = buffer
                p.add_(update, alpha=-group["lr"])
        return loss
