"""Benchmark: the learner's self-check from a terminal, `pytest NOTEBOOK.ipynb`
on a notebook whose answers are the reference, against `python -c "import
torch"`, both measured in the same run on this machine.

Prints each median wall time and CPU time and their ratios (the machine is
shared and noisy: compare ratios, not times; on a busy machine the CPU
ratio is the steadier one). The goal is a self-check within 2x the
time of importing torch.

    OMP_NUM_THREADS=1 .venv/bin/python bench/selfcheck_speed.py [--assignment a3_softmax] [--repeat 5]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.submissions import reference_submission  # noqa: E402


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children)."""
    started, cpu = time.perf_counter(), _children_cpu()
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({completed.returncode}):\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}")
    return elapsed, _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="a3_softmax")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory(prefix="dlworkbook-bench-") as folder:
        work = Path(folder)
        notebook = reference_submission(args.assignment, work / f"{args.assignment}.ipynb")
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", notebook.name]
        # As in a learner's environment, which has no test tools of this
        # repository (hypothesis, xdist, ... load pytest plugins of their own).
        alone = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
        runs: dict[str, list[tuple[float, float]]] = {"torch": [], "pytest": [], "alone": []}
        for _ in range(args.repeat):  # alternating, so all see the same load
            runs["torch"].append(timed([sys.executable, "-c", "import torch"], work))
            runs["pytest"].append(timed(pytest, work))
            runs["alone"].append(timed([*pytest, "-p", "autograder.pytest_plugin"], work, alone))
    wall = {key: statistics.median(t for t, _ in values) for key, values in runs.items()}
    cpu = {key: statistics.median(c for _, c in values) for key, values in runs.items()}
    labels = {"torch": "python -c 'import torch'", "pytest": f"pytest {notebook.name}",
              "alone": f"pytest {notebook.name}, only this project's plugin"}
    print(f"{args.assignment}, reference answers, median of {args.repeat}:")
    for key, label in labels.items():
        print(f"  {label}: {wall[key]:.2f} s wall, {cpu[key]:.2f} s CPU   "
              f"(wall: {', '.join(f'{t:.2f}' for t, _ in runs[key])})")
    for key in ("pytest", "alone"):
        print(f"  ratio, {labels[key]}: {wall[key] / wall['torch']:.2f}x import torch in wall time, "
              f"{cpu[key] / cpu['torch']:.2f}x in CPU time (goal: at most 2x)")


if __name__ == "__main__":
    main()
