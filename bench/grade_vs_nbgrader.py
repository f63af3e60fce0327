"""Benchmark: grading one reference submission with `python -m autograder
grade` (isolated processes, hidden checks) against `nbgrader autograde` of
the same notebook (one kernel, the same checks), in one run on this machine.

Prints each wall time and their ratio; with --repeat N, the median of N
alternating runs (the machine is shared and noisy: compare ratios, not times).

    OMP_NUM_THREADS=1 .venv/bin/python bench/grade_vs_nbgrader.py [--assignment a3_softmax] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import nbgrader_support  # noqa: E402
from tests.submissions import reference_submission  # noqa: E402


def time_cli(notebook: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(notebook), "--quiet", "--seed", "1"],
                   check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - started


def time_nbgrader(course: Path, assignment: str, notebook: Path) -> float:
    started = time.perf_counter()
    nbgrader_support.grade_class(course, assignment, {"reference": notebook}, sync=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="a3_softmax")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    work = Path(tempfile.mkdtemp(prefix="dlworkbook-bench-"))
    course = work / "course"
    shutil.copytree(ROOT / "solutions", course / "solutions")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    os.environ["DLWORKBOOK_COURSE"] = str(course)
    nbgrader_support.release(args.assignment, course)  # puts the source cells in the gradebook
    notebook = reference_submission(args.assignment, work / "reference.ipynb")
    cli, nbgrader = [], []
    for _ in range(args.repeat):
        cli.append(time_cli(notebook))
        nbgrader.append(time_nbgrader(course, args.assignment, notebook))
    a, b = statistics.median(cli), statistics.median(nbgrader)
    print(f"{args.assignment}, reference submission, median of {args.repeat}:")
    print(f"  python -m autograder grade : {a:6.1f} s  (isolated process per test, public + hidden checks)")
    print(f"  nbgrader autograde         : {b:6.1f} s  (one kernel, same checks)")
    print(f"  ratio autograder / nbgrader: {a / b:.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
