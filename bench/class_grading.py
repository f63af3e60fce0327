"""Benchmark: grading a synthetic class with 1 and with 2 worker processes
(`python -m autograder grade ... --jobs N`), and the peak memory of grading.

The class is built from the catalogue (tests/catalogue/<assignment>.py):
each submission is the reference with one catalogued answer, wrong or right,
cycling through them (at least 60 submissions by default), in nbgrader's
layout. Prints, in one run on this machine:

- the wall time with 1 and with 2 workers, and the speed-up;
- per worker: notebooks graded, its own peak RSS (ru_maxrss: the grader
  process, torch and the checks), the peak RSS of its largest child (the
  fork server or one learner process), and the sampled peak PSS of its whole
  process tree (grader + fork server + learner process, shared pages counted
  once: what a container's memory limit sees);
- the peak memory of grading one submission (the whole assignment, one
  worker), split by process, and which torch build was measured.

    OMP_NUM_THREADS=1 .venv/bin/python bench/class_grading.py [--size 60] [--exercise ID ...] [--assignment a3_softmax]

Run it with the Python that will grade (e.g. an environment with only CPU
torch and numpy, as Gradescope's setup.sh makes): torch's CUDA build maps far
more memory than its CPU build.
"""
from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import batch  # noqa: E402
from tests.submissions import reference_submission  # noqa: E402

MB = 1024 * 1024


def build_class(assignment: str, size: int, folder: Path) -> list[Path]:
    import importlib

    variants = importlib.import_module(f"tests.catalogue.{assignment}").VARIANTS
    notebooks = []
    for index in range(size):
        variant = variants[index % len(variants)]
        path = folder / "submitted" / f"s{index:03d}-{variant.name}" / assignment / f"{assignment}.ipynb"
        notebooks.append(reference_submission(assignment, path, **{variant.exercise: variant.source}))
    return notebooks


# ------------------------------------------------------------------ memory sampling


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as handle:
                    parent = int(handle.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(name))
    return children


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _role(depth: int) -> str:
    """A worker's tree: the grader, its fork server, the learner processes
    (below it, through the short-lived process that made their namespaces)."""
    return {0: "grader (worker process)", 1: "fork server"}.get(depth, "learner process")


class Sampler(threading.Thread):
    """Every `period` s: the PSS of each direct child's process tree."""

    def __init__(self, period: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.period = period
        self.peak: dict[int, int] = {}  # worker pid -> peak tree PSS (kB)
        self.breakdown: dict[int, list[tuple[str, int]]] = {}  # at that peak: (role, PSS kB) per process
        self.stop_event = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.stop_event.is_set():
            children = _children_map()
            for worker in children.get(me, []):
                tree, stack = [], [(worker, 0)]
                while stack:
                    pid, depth = stack.pop()
                    tree.append((pid, depth))
                    stack.extend((child, depth + 1) for child in children.get(pid, []))
                sizes = [(depth, _pss_kb(pid)) for pid, depth in tree]
                total = sum(size for _, size in sizes)
                if total > self.peak.get(worker, 0):
                    self.peak[worker] = total
                    self.breakdown[worker] = [(_role(depth), size) for depth, size in sizes if size]
            self.stop_event.wait(self.period)

    def stop(self) -> None:
        self.stop_event.set()
        self.join()


def grade(notebooks: list[Path], out: Path, workers: int, exercises: tuple[str, ...]) -> tuple[batch.Summary, Sampler]:
    jobs = batch.plan(notebooks, out)
    sampler = Sampler()
    sampler.start()
    try:
        summary = batch.run(jobs, batch.Options(exercises=exercises, verbose=False), workers, progress=False,
                            in_process=False, out=io.StringIO(), err=io.StringIO())
    finally:
        sampler.stop()
    return summary, sampler


def _mb(kb: int) -> str:
    return f"{kb / 1024:6.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="a3_softmax")
    parser.add_argument("--size", type=int, default=60, help="submissions in the class (default 60)")
    parser.add_argument("--exercise", action="append", default=[], help="grade only these exercises")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    build = "CPU-only" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
    work = Path(tempfile.mkdtemp(prefix="dlworkbook-bench-class-"))
    try:
        notebooks = build_class(args.assignment, args.size, work / "class")
        exercises = tuple(args.exercise)
        what = f"exercises {', '.join(exercises)}" if exercises else "every exercise"
        print(f"{args.assignment}: {len(notebooks)} submissions from the catalogue, {what}; "
              f"torch {torch.__version__} ({build}); {os.cpu_count()} CPUs")
        times = {}
        for workers in (1, 2):
            load = os.getloadavg()[0]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            summary, sampler = grade(notebooks, work / f"results-{workers}", workers, exercises)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            times[workers] = summary.seconds
            assert sum(summary.counts.values()) == len(notebooks), summary.counts
            print(f"\n{workers} worker{'s' if workers > 1 else ''}: {summary.seconds:6.1f} s "
                  f"({summary.seconds / len(notebooks):.2f} s per submission; {batch.describe(summary)}); "
                  f"CPU time of all its processes {cpu:.0f} s; load average before {load:.1f}")
            for stats in summary.workers:
                peak = max((sampler.peak.get(pid, 0) for pid in stats.pids), default=0)
                print(f"  worker {stats.worker}: {stats.notebooks:3d} notebooks, peak RSS grader {_mb(stats.maxrss_kb)}, "
                      f"largest child {_mb(stats.children_maxrss_kb)}, peak PSS of its process tree {_mb(peak)}")
        print(f"\nspeed-up with 2 workers: {times[1] / times[2]:.2f}x (bounded by the idle cores: "
              f"{os.cpu_count()} here)")

        summary, sampler = grade(notebooks[:1], work / "results-one", 1, ())
        worker = max(sampler.peak, key=sampler.peak.get)
        print(f"\npeak memory of grading one submission (whole assignment, torch {build}): "
              f"{_mb(sampler.peak[worker])} PSS over its processes "
              f"(grader's own peak RSS {_mb(summary.workers[0].maxrss_kb)}, largest child {_mb(summary.workers[0].children_maxrss_kb)})")
        for role, size in sorted(sampler.breakdown[worker], key=lambda item: -item[1]):
            print(f"  {role:24s} {_mb(size)}")
        print(f"  Gradescope's default limit: 768 MB -> {'within' if sampler.peak[worker] <= 768 * 1024 else 'OVER'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
