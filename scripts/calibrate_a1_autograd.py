"""Calibrate the tolerance of a1_autograd's numerical_grad checks.

The checks accept a result within NG_ROUNDOFF * u * (1 + |f(x)|) / eps of
the central-difference prediction f' + eps**2/6 * f''' (u = 2**-53). This
script runs the REFERENCE numerical_grad (from the source notebook) on the
checks' function menu, random shapes of rank 0 to 3 and the steps the checks
use, over many seeds, and prints the error in units of u * (1 + |f|) / eps:

* the reference's worst error must sit far below NG_ROUNDOFF (no false
  failures of correct code);
* one-sided differences (forward and backward, computed here) must sit far
  above it at eps = 1e-3 and 1e-2 (the error-order checks), and are shown
  at eps = 1e-6 for information (the default-eps checks catch them only
  where f'' is large enough).

    OMP_NUM_THREADS=1 .venv/bin/python scripts/calibrate_a1_autograd.py [num_seeds]
"""
from __future__ import annotations

import statistics
import sys

import torch

from autograder.checks.a1_autograd.numerical_grad import (
    NG_ROUNDOFF,
    SMOOTH_FUNCTIONS,
    UNIT_ROUNDOFF,
    central_prediction,
    derivatives,
)
from autograder.reference import load_reference


def one_sided(f, x: torch.Tensor, eps: float, sign: float) -> torch.Tensor:
    """Forward (sign=+1) or backward (sign=-1) differences, for comparison."""
    x = x.clone()
    flat = x.view(-1)
    fx = float(f(x))
    out = torch.zeros(x.numel(), dtype=x.dtype)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + sign * eps
        out[i] = sign * (float(f(x)) - fx) / eps
        flat[i] = old
    return out.reshape(x.shape)


def main(num_seeds: int = 40) -> None:
    torch.set_num_threads(1)
    numerical_grad = load_reference("a1_autograd")["numerical_grad"]
    ratios: dict[float, list[float]] = {1e-6: [], 1e-3: [], 1e-2: []}
    one_sided_ratios: dict[float, list[float]] = {1e-6: [], 1e-3: [], 1e-2: []}
    for seed in range(num_seeds):
        generator = torch.Generator().manual_seed(seed)
        for name, f in SMOOTH_FUNCTIONS.items():
            rank = int(torch.randint(0, 4, (), generator=generator))
            shape = tuple(int(n) for n in torch.randint(1, 5, (rank,), generator=generator))
            x = torch.randn(shape, generator=generator, dtype=torch.float64)
            d = derivatives(name, x)
            # eps = 1e-2 only on the cubic, whose O(eps**4) term is exactly zero (as in the checks).
            for eps in (1e-6, 1e-3) + ((1e-2,) if name == "cubic" else ()):
                unit = UNIT_ROUNDOFF * (1 + abs(float(d["value"]))) / eps
                predicted = central_prediction(d, eps)
                ratios[eps].append(float((numerical_grad(f, x, eps) - predicted).abs().max()) / unit)
                worst_one_sided = min(float((one_sided(f, x, eps, sign) - predicted).abs().max()) for sign in (1.0, -1.0))
                one_sided_ratios[eps].append(worst_one_sided / unit)
    print(f"NG_ROUNDOFF = {NG_ROUNDOFF:g} (units of u * (1 + |f|) / eps), {num_seeds} seeds x {len(SMOOTH_FUNCTIONS)} functions")
    for eps in ratios:
        r, o = ratios[eps], one_sided_ratios[eps]
        print(f"eps = {eps:g}: reference max {max(r):.3g}, mean {statistics.mean(r):.3g} "
              f"(margin {NG_ROUNDOFF / max(r):.0f}x below the threshold); "
              f"one-sided min {min(o):.3g}, median {statistics.median(o):.3g} "
              f"({min(o) / NG_ROUNDOFF:.3g}x the threshold), n = {len(r)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
