"""Calibrate a5_cnn's LeNet threshold and CPU budget.

Runs the threshold scenario (a LeNet of the learner's Conv2d and max_pool2d
trained on the bundled digits) with the REFERENCE answers over many seeds,
exactly as the check does (`seed % 1000` of the grading seed) and under the
grader's call tracing (which costs CPU time as it does when grading), and
prints min / mean / max test accuracy, CPU seconds, and the margins to
THRESHOLD["accuracy"] and THRESHOLD["cpu_budget_s"].

With --alternatives it also times the correct conv2d alternatives of the
catalogue (tests/catalogue/a5_cnn.py) on one seed: every one must fit the
budget with room to spare.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/calibrate_a5_cnn.py [--seeds 30] [--alternatives]
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from autograder.checks.a5_cnn import THRESHOLD, suite  # noqa: E402
from autograder.checks.a5_cnn.lenet import lenet_digits  # noqa: E402
from autograder.course import load_assignment  # noqa: E402
from autograder.data import load_digits  # noqa: E402
from autograder.guard import CallTracer  # noqa: E402
from autograder.notebook import python_source  # noqa: E402
from autograder.scenarios import Learner  # noqa: E402
from autograder.submissions import reference_answers  # noqa: E402

NEEDS = ("conv2d", "Conv2d", "max_pool2d")


def namespace(replacements: dict[str, str] | None = None) -> dict:
    """The source notebook's setup cells and reference answers (or replacements), run here."""
    answers = {**reference_answers("a5_cnn"), **(replacements or {})}
    names: dict = {"__name__": "a5_cnn_calibration"}
    for step in load_assignment("a5_cnn").steps:
        source = step.source if step.kind == "setup" else answers[step.exercise or ""]
        exec(compile(python_source(source), f"<{step.exercise or 'setup'}>", "exec"), names)
    return names


def run(learner: Learner, seed: int) -> dict:
    t = THRESHOLD
    with CallTracer(suite.forbidden_for(NEEDS)) as tracer:
        result = lenet_digits(learner, seed, t["num_epochs"], t["lr"], t["batch_size"], list(t["channels"]), t["hidden"],
                              t["cpu_budget_s"])
    assert not tracer.used, tracer.used
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--alternatives", action="store_true", help="also time the catalogue's correct conv2d variants")
    args = parser.parse_args()
    torch.set_num_threads(1)
    *_, y_test = load_digits()
    learner = Learner(namespace())
    accuracies, seconds = [], []
    for seed in range(args.seeds):
        result = run(learner, seed)
        accuracies.append(float((result["predictions"] == y_test).double().mean()))
        seconds.append(result["cpu_seconds"])
    threshold, budget = THRESHOLD["accuracy"], THRESHOLD["cpu_budget_s"]
    print(f"reference over {args.seeds} seeds: test accuracy min {min(accuracies):.4f} "
          f"mean {statistics.mean(accuracies):.4f} max {max(accuracies):.4f}; "
          f"CPU s per run (traced) mean {statistics.mean(seconds):.2f} max {max(seconds):.2f} (budget {budget:.0f})")
    print(f"threshold {threshold:.2f}: margin {min(accuracies) - threshold:+.4f} below the worst seed; "
          f"seeds under the threshold: {sum(a < threshold for a in accuracies)}")
    if args.alternatives:
        sys.path.insert(0, str(ROOT))
        from tests.catalogue.a5_cnn import VARIANTS

        for variant in VARIANTS:
            if variant.exercise != "conv2d" or "too_slow" not in variant.name and not variant.correct:
                continue
            result = run(Learner(namespace({"conv2d": variant.source})), 0)
            if result.get("out_of_time"):
                print(f"{variant.name}: out of time ({result['cpu_seconds']:.1f} s of CPU used, "
                      f"at least {result.get('projected_seconds', 0):.0f} s needed)")
            else:
                accuracy = float((result["predictions"] == y_test).double().mean())
                print(f"{variant.name}: {result['cpu_seconds']:.1f} s of CPU (budget {budget:.0f}), accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
