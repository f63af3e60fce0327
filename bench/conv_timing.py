"""Benchmark: the reference solution's operators against PyTorch's own, as
`python -m autograder grade --timing` reports them for a learner.

For every operator an assignment declares in its `TIMING` (a5_cnn: conv2d
against F.conv2d, max_pool2d against F.max_pool2d), prints the median time
per call of the reference and of the built-in on each realistic shape, and
their ratio, in one run on one device (CUDA events on a GPU,
time.perf_counter on the CPU; forward pass, no autograd). Compare ratios,
not times: the machine may be shared.

    OMP_NUM_THREADS=1 .venv/bin/python bench/conv_timing.py [--device auto|cpu|cuda] [--assignment a5_cnn] [--repeats N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from autograder import timing  # noqa: E402
from autograder.reference import load_reference  # noqa: E402
from autograder.scenarios import Learner  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="a5_cnn")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="auto: CUDA when there is a device, else the CPU")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up calls (default: as the grader)")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls (default: as the grader)")
    args = parser.parse_args()
    device = args.device if args.device != "auto" else ("cuda" if timing.cuda_available() else "cpu")
    if device == "cuda" and not timing.cuda_available():
        print("error: no CUDA device here", file=sys.stderr)
        return 2
    torch.set_num_threads(1)  # as in the learner's process
    declared = timing.declared(args.assignment)
    if not declared:
        print(f"{args.assignment} declares nothing to time (no TIMING in autograder/checks/{args.assignment})")
        return 0
    warmup = timing.WARMUP[device] if args.warmup is None else args.warmup
    repeats = timing.REPEATS[device] if args.repeats is None else args.repeats
    learner = Learner(load_reference(args.assignment))
    print(f"{args.assignment} reference vs PyTorch, forward pass, median of {repeats} calls after {warmup} warm-up calls")
    for entry in declared:
        data = timing.time_operator(learner, entry.exercise, entry.builtin, entry.inputs, [dict(c) for c in entry.cases],
                                    device, warmup, repeats)
        if data.get("error"):
            print(f"{entry.exercise}: not timed ({data['error']})")
            continue
        rows = data["rows"]
        print(f"\n{entry.exercise} vs {entry.builtin} on {data['device']}: "
              f"median ratio {statistics.median(row['ratio'] for row in rows):.2f}×")
        width = max(len(row["label"]) for row in rows)
        for row in rows:
            print(f"  {row['label'].ljust(width)}  reference {row['learner_ms']:9.3f} ms  "
                  f"PyTorch {row['builtin_ms']:9.3f} ms  {row['ratio']:7.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
