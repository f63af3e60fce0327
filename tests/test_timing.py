"""The grader's timing report (autograder/timing.py) on a machine without a
GPU: skipped with its reason by default, measured on the CPU when asked,
through the learner's isolated process, and never part of the score."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from autograder import timing
from autograder.scenarios import Learner
from tests.submissions import ROOT

SOLUTION = ROOT / "solutions" / "a5_cnn" / "a5_cnn.ipynb"
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")


def _sandbox(assignment: str) -> SimpleNamespace:
    """Enough of a Sandbox for the paths of `measure` that start no process."""
    return SimpleNamespace(assignment=SimpleNamespace(id=assignment))


def _grade(tmp_path: Path, *options: str) -> tuple[str, dict]:
    out = tmp_path / "results.json"
    completed = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(SOLUTION), "--seed", "3", "--json", str(out), *options],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout, json.loads(out.read_text())


def test_a5_declares_conv2d_and_max_pool2d() -> None:
    declared = {entry.exercise: entry for entry in timing.declared("a5_cnn")}
    assert declared["conv2d"].builtin == "torch.nn.functional.conv2d"
    assert declared["max_pool2d"].builtin == "torch.nn.functional.max_pool2d"
    assert all(entry.bound is None for entry in declared.values())  # ungraded by default


def test_auto_without_cuda_is_skipped_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timing, "cuda_available", lambda: False)
    report = timing.measure(_sandbox("a5_cnn"), [], "auto")
    assert report is not None and report.status == "skipped"
    assert "no CUDA device" in report.reason and "--timing cpu" in report.reason
    assert report.lines() == [f"timing (not graded): skipped: {report.reason}"]
    assert report.as_data()["graded"] is False and report.as_data()["operators"] == []


def test_off_or_nothing_declared_gives_no_report() -> None:
    assert timing.measure(_sandbox("a5_cnn"), [], "off") is None
    assert timing.measure(_sandbox("a3_softmax"), [], "cpu") is None  # a3 declares nothing to time
    with pytest.raises(ValueError):
        timing.measure(_sandbox("a5_cnn"), [], "gpu")


def test_only_exercises_that_passed_every_test_are_timed() -> None:
    result = lambda exercise, score: SimpleNamespace(exercise=exercise, score=score, max_score=1.0)  # noqa: E731
    assert timing._not_ready("conv2d", [result("conv2d", 1.0), result("conv2d", 1.0)]) == ""
    assert "did not pass" in timing._not_ready("conv2d", [result("conv2d", 1.0), result("conv2d", 0.0)])
    assert "not graded in this run" in timing._not_ready("conv2d", [result("max_pool2d", 1.0)])


def test_scenario_times_both_on_the_cpu() -> None:
    entry = next(e for e in timing.declared("a5_cnn") if e.exercise == "max_pool2d")
    learner = Learner({"max_pool2d": lambda X, kernel_size, stride=None, padding=0: F.max_pool2d(X, kernel_size, stride, padding)})
    data = timing.time_operator(learner, entry.exercise, entry.builtin, entry.inputs, list(entry.cases), "cpu", 1, 3)
    assert data["device"].startswith("cpu")
    assert len(data["rows"]) == len(entry.cases)
    for row in data["rows"]:
        assert row["learner_ms"] > 0 and row["builtin_ms"] > 0
        assert row["ratio"] == pytest.approx(row["learner_ms"] / row["builtin_ms"])


def test_far_too_slow_operator_is_not_timed_further(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timing, "SLOW_CALL_S", 0.0)
    entry = next(e for e in timing.declared("a5_cnn") if e.exercise == "max_pool2d")
    learner = Learner({"max_pool2d": lambda X, *args, **kwargs: X})
    data = timing.time_operator(learner, entry.exercise, entry.builtin, entry.inputs, list(entry.cases), "cpu", 1, 1)
    assert "not timed" in data["error"]


def test_builtin_is_kept_from_before_learner_code_ran() -> None:
    # a learner cell that replaces F.conv2d by something slow cannot make its own ratio look good
    assert timing._PRISTINE["torch.nn.functional.conv2d"] is F.conv2d


def test_instructor_bound_is_reported_not_scored() -> None:
    operator = timing.OperatorTiming("conv2d", "torch.nn.functional.conv2d", "measured", bound=5.0,
                                     cases=[{"label": "x", "learner_ms": 8.0, "builtin_ms": 1.0, "ratio": 8.0}])
    assert operator.median_ratio == 8.0 and operator.within_bound is False
    report = timing.TimingReport("measured", device="cpu", method="time.perf_counter", warmup=1, repeats=1,
                                 operators=[operator])
    assert any("bound 5×: OVER" in line for line in report.lines())
    assert report.as_data()["operators"][0]["within_bound"] is False


@pytest.mark.slow
@NO_CUDA
def test_grade_on_a_cpu_only_machine_says_timing_was_skipped(tmp_path: Path) -> None:
    stdout, results = _grade(tmp_path, "--exercise", "ImageDataset")
    assert "timing (not graded): skipped: no CUDA device" in stdout
    assert results["extra_data"]["timing"]["status"] == "skipped"
    assert results["score"] == sum(test["max_score"] for test in results["tests"])  # timing changes no score


@pytest.mark.slow
def test_grade_times_on_the_cpu_when_asked(tmp_path: Path) -> None:
    stdout, results = _grade(tmp_path, "--exercise", "max_pool2d", "--timing", "cpu")
    report = results["extra_data"]["timing"]
    assert report["status"] == "measured" and report["device"].startswith("cpu") and report["graded"] is False
    operators = {operator["exercise"]: operator for operator in report["operators"]}
    assert operators["max_pool2d"]["status"] == "measured"
    assert all(case["ratio"] > 0 for case in operators["max_pool2d"]["cases"])
    assert operators["conv2d"]["status"] == "not timed" and "not graded in this run" in operators["conv2d"]["reason"]
    assert "max_pool2d vs torch.nn.functional.max_pool2d: median ratio" in stdout
    assert [test["name"].split(":")[0] for test in results["tests"]] == ["max_pool2d", "max_pool2d"]


@pytest.mark.slow
def test_grade_without_timing_has_no_report(tmp_path: Path) -> None:
    stdout, results = _grade(tmp_path, "--exercise", "ImageDataset", "--timing", "off")
    assert "timing" not in stdout and "timing" not in results["extra_data"]
