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


