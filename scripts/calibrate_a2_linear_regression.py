"""Calibrate a2_linear_regression's parameter-recovery tolerances.

Runs the REFERENCE train_linreg and train_concise (from the source notebook,
via autograder.reference.load_reference) with their default settings on
d2l's running example (true_w = [2, -3.4], true_b = 4.2, 1,000 examples),
over many seeds, exactly as the checks draw them (data seed s with
make_linear_data; training seed 1000 + s: train_linreg's generator,
train_concise's torch.manual_seed), and prints the largest absolute error
over w and b per seed: min, mean, max, and the margin to
RECOVERY_TOLERANCE in autograder/checks/a2_linear_regression/__init__.py.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/calibrate_a2_linear_regression.py [--seeds 50]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from autograder.checks.a2_linear_regression import RECOVERY_TOLERANCE, TRUE_B, TRUE_W  # noqa: E402
from autograder.checks.a2_linear_regression.train_linreg import make_linear_data  # noqa: E402
from autograder.reference import load_reference  # noqa: E402


def max_error(w: torch.Tensor, b: torch.Tensor) -> float:
    errors = torch.cat([(w.detach().reshape(-1).double() - torch.tensor(TRUE_W, dtype=torch.float64)).abs(),
                        (b.detach().reshape(-1).double() - TRUE_B).abs()])
    return float(errors.max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    args = parser.parse_args()
    torch.set_num_threads(1)
    reference = load_reference("a2_linear_regression")
    errors: dict[str, list[float]] = {"train_linreg": [], "train_concise": []}
    started = time.perf_counter()
    for seed in range(args.seeds):
        features, labels = make_linear_data(seed, TRUE_W, TRUE_B, 1000)
        w, b = reference["train_linreg"](features, labels, generator=torch.Generator().manual_seed(1000 + seed))
        errors["train_linreg"].append(max_error(w, b))
        torch.manual_seed(1000 + seed)
        layer = reference["train_concise"](features, labels)
        errors["train_concise"].append(max_error(layer.weight, layer.bias))
    print(f"{args.seeds} seeds, {time.perf_counter() - started:.1f} s")
    for name, values in errors.items():
        tolerance = RECOVERY_TOLERANCE[name]
        worst = max(values)
        print(f"{name:14s} max error over w, b: min {min(values):.5f}  mean {statistics.mean(values):.5f}  "
              f"max {worst:.5f}  tolerance {tolerance}  margin {tolerance / worst:.1f}x the worst seed")


if __name__ == "__main__":
    main()
