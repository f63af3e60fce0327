"""Calibrate a3_softmax's accuracy threshold.

Runs the threshold scenario (softmax regression on the bundled digits) with
the REFERENCE softmax, cross_entropy and train_epoch over many seeds, exactly
as the check does (`seed % 1000` of the grading seed), and prints min / mean
/ max test accuracy, CPU seconds, and the margin to THRESHOLD["accuracy"].

    OMP_NUM_THREADS=1 .venv/bin/python scripts/calibrate_a3_softmax.py [--seeds 20]
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from autograder.checks.a3_softmax import THRESHOLD
from autograder.checks.a3_softmax.training import softmax_regression  # noqa: E402
from autograder.data import load_digits  # noqa: E402
from autograder.reference import load_reference  # noqa: E402
from autograder.scenarios import Learner  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    learner = Learner(load_reference("a3_softmax"))
    *_, y_test = load_digits()
    accuracies, seconds = [], []
    for seed in range(args.seeds):
        result = softmax_regression(learner, seed, THRESHOLD["num_epochs"], THRESHOLD["lr"], THRESHOLD["batch_size"])
        accuracies.append(float((result["predictions"] == y_test).double().mean()))
        seconds.append(result["cpu_seconds"])
    threshold = THRESHOLD["accuracy"]
    print(f"reference over {args.seeds} seeds: test accuracy min {min(accuracies):.4f} "
          f"mean {statistics.mean(accuracies):.4f} max {max(accuracies):.4f}; "
          f"CPU s per run max {max(seconds):.2f} (budget {THRESHOLD['cpu_budget_s']:.0f})")
    print(f"threshold {threshold:.2f}: margin {min(accuracies) - threshold:+.4f} below the worst seed; "
          f"seeds under the threshold: {sum(a < threshold for a in accuracies)}")


if __name__ == "__main__":
    main()
