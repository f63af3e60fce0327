"""The instructor's report (`python -m autograder report DIR`) and partial
credit: the CSV and HTML from the class of 20 that test_batch.py grades,
the ranking of diagnosed bugs, and a test that gives each check its share."""
from __future__ import annotations

import base64
import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import class_report
from autograder.checking import CheckFailed, Context, LearnerError, OutcomeKind, Suite, execute
from autograder.checking import TestDefinition as Definition
from autograder.grading import points_earned
from tests.submissions import ROOT, reference_submission
from tests.test_batch import ASSIGNMENT, graded_class

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_report_of_the_class_folder(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    run = graded_class(tmp_path_factory)
    completed = subprocess.run([sys.executable, "-m", "autograder", "report", str(run.results), "--out", str(tmp_path)],
                               capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr
    csv_path, html_path = tmp_path / f"class_{ASSIGNMENT}.csv", tmp_path / f"class_{ASSIGNMENT}.html"
    assert completed.stdout.split() == [str(csv_path), str(html_path)]
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    tests = ["accuracy: public checks", "accuracy: hidden checks", "Flatten: public checks", "Flatten: hidden checks"]
    assert list(rows[0]) == ["student", "assignment", "status", "score", "max_score", *tests]
    assert sorted(row["student"] for row in rows) == sorted(run.notebooks)
    by_student = {row["student"]: row for row in rows}
    assert [by_student["killer"][t] for t in tests] == ["0", "0", "1", "2"] and by_student["killer"]["score"] == "3"
    assert by_student["unreadable"]["status"] == "unreadable" and by_student["unreadable"]["score"] == "0"
    assert by_student["renamed"]["score"] == "6" and by_student["renamed"]["max_score"] == "6"
    results = {path.stem: json.loads(path.read_text()) for path in run.results.glob("*.json")}
    for student, row in by_student.items():
        assert float(row["score"]) == results[student]["score"]

    page = html_path.read_text(encoding="utf-8")
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert [alt for alt, _ in images] == ["pass rate per exercise", "score histogram"]
    for _, data in images:
        png = base64.b64decode(data)
        assert png.startswith(PNG) and len(png) > 5000
    assert "20 submissions, 18 graded" in page
    assert "Credit: all-or-nothing per test." in page
    # Every student in the score table; the two that could not be graded, with the reason.
    for student in run.notebooks:
        assert f"<td class='text'>{student}</td>" in page
    assert "not a notebook (invalid JSON at line 1)" in page and "a notebook of assignment a4_mlp" in page
    # The diagnosed bugs are the hints of the failed tests, most frequent first.
    report = class_report.load(run.results)[0]
    bugs = report.bugs()
    assert bugs and all(hint in page for _, hint, _ in [(e, h.replace("'", "&#x27;"), s) for e, h, s in bugs])
    counts = [len(students) for _, _, students in bugs]
    assert counts == sorted(counts, reverse=True)
    hinted = {hint for result in results.values() for test in result["tests"] if test["score"] < test["max_score"]
              for hint in re.findall(r"^Hint: (.*)$", test["output"], re.M)}
    assert {hint for _, hint, _ in bugs} <= hinted and len(bugs) == min(len(hinted), class_report.TOP_BUGS)
    rates = report.pass_rates()
    assert rates["accuracy"] < 1 and rates["Flatten"] < 1


def _result(student: str, tests: list[tuple[str, float, float, str]], status: str = "graded") -> dict:
    return {"score": sum(t[1] for t in tests), "execution_time": 1.0, "output": "",
            "extra_data": {"assignment": "a9", "status": status, "submission": {"identity": student}},
            "tests": [{"name": f"{ex}: public checks", "score": got, "max_score": most, "output": output,
                       "visibility": "visible", "extra_data": {"exercise": ex}} for ex, got, most, output in tests]}


def test_bugs_are_counted_once_per_student_and_ranked(tmp_path: Path) -> None:
    shift = "✗ softmax is stable\n\nexpected 1, got nan\nHint: subtract each row's max"
    dim = "✗ softmax sums to one\n\nHint: the last dimension"
    results = {
        "ann": _result("ann", [("softmax", 0, 2, shift + "\n" + shift), ("loss", 1, 1, "")]),
        "bo": _result("bo", [("softmax", 0, 2, shift), ("loss", 1, 1, "")]),
        "cy": _result("cy", [("softmax", 0, 2, dim), ("loss", 0, 1, "Hint: take the mean")]),
        "dee": _result("dee", [("softmax", 2, 2, "Hint: never counted: this test passed"), ("loss", 1, 1, "")]),
    }
    for name, data in results.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    (tmp_path / "eve.json").write_text(json.dumps({
        "score": 0, "execution_time": 0, "output": "This notebook could not be graded: x: not a notebook",
        "extra_data": {"assignment": None, "status": "unreadable", "error": "x: not a notebook"}, "tests": []}))
    (tmp_path / ".half.json.12.tmp").write_text("{")
    (tmp_path / "notes.json").write_text("[1, 2]")
    written = class_report.write(tmp_path)
    assert [path.name for path in written] == ["class_a9.csv", "class_a9.html"]
    report = class_report.load(tmp_path)[0]
    assert [s.student for s in report.students] == ["ann", "bo", "cy", "dee", "eve"]
    assert report.bugs() == [("softmax", "subtract each row's max", ["ann", "bo"]),
                             ("loss", "take the mean", ["cy"]), ("softmax", "the last dimension", ["cy"])]
    assert report.pass_rates() == {"softmax": 0.25, "loss": 0.75}
    rows = list(csv.reader((tmp_path / "class_a9.csv").open()))
    assert rows[0] == ["student", "assignment", "status", "score", "max_score", "softmax: public checks",
                       "loss: public checks"]
    assert rows[-1] == ["eve", "a9", "unreadable", "0", "3", "0", "0"]


# --------------------------------------------------------------------------
# Partial credit
# --------------------------------------------------------------------------


def _definition(*checks: object, partial: bool) -> Definition:
    suite = Suite("toy", partial_credit=partial)
    for check in checks:
        suite.check("ex")(check)  # type: ignore[arg-type]
    return suite.definition("ex")


def _passes(ctx: Context) -> None:
    """passes"""


def _fails(ctx: Context) -> None:
    """fails"""
    raise CheckFailed("expected 1, got 2", hint="add one")


def _breaks(ctx: Context) -> None:
    """breaks on the value"""
    raise TypeError("unsupported operand")


def _times_out(ctx: Context) -> None:
    """times out"""
    raise LearnerError(OutcomeKind.TIMEOUT, "ex did not finish within 20 s")


def test_partial_credit_counts_every_check_and_the_default_is_all_or_nothing() -> None:
    ctx = Context(lambda *_: None, 0, "ex")
    strict = execute(_definition(_passes, _fails, _passes, partial=False), ctx)
    assert not strict.passed and not strict.partial and points_earned(3, strict) == 0
    assert strict.lines[-1].startswith("· passes (not run")
    shared = execute(_definition(_passes, _fails, _passes, _breaks, partial=True), ctx)
    assert (shared.partial, shared.checks_passed, shared.checks_total, shared.kind) == (True, 2, 4, OutcomeKind.FAILED)
    assert points_earned(2, shared) == 1.0
    assert shared.lines == ["✓ passes", "✗ fails", "✓ passes", "✗ breaks on the value",
                            "partial credit: 2 of 4 checks passed"]
    assert "fails: expected 1, got 2\nHint: add one" in shared.output and "TypeError" in shared.output
    # A learner process out of time: the checks after it cannot run, and count as failed.
    ended = execute(_definition(_passes, _times_out, _passes, partial=True), ctx)
    assert (ended.checks_passed, ended.checks_total, ended.kind) == (1, 3, OutcomeKind.TIMEOUT)
    assert points_earned(3, ended) == 1.0
    # suite.test(..., partial=...) overrides the assignment's default, either way.
    suite = Suite("toy")
    suite.check("ex")(_passes)
    suite.test("ex", partial=True)
    assert suite.definition("ex").partial


def test_no_assignment_gives_partial_credit_unless_it_says_so() -> None:
    from autograder.course import known_assignments
    from autograder.suites import load_suite

    for assignment in known_assignments():
        suite = load_suite(assignment, hidden=True)
        assert not suite.partial_credit
        assert not [test for test, definition in suite.tests.items() if definition.partial], assignment


@pytest.mark.slow
def test_a_partial_credit_test_is_scored_and_reported_as_such(tmp_path: Path) -> None:
    """a3's accuracy tests switched to partial credit for this test: the
    d2l bug (no argmax for one score column) passes 1 of the 2 public checks."""
    from autograder import grading, report
    from autograder.suites import load_suite
    from tests.catalogue.a3_softmax import VARIANTS

    variant = next(v for v in VARIANTS if v.name == "acc_d2l_skips_argmax_for_one_column")
    notebook = reference_submission(ASSIGNMENT, tmp_path / "d2l.ipynb", accuracy=variant.source)
    suite = load_suite(ASSIGNMENT, hidden=True)
    try:
        suite.test("accuracy", partial=True)
        graded = grading.grade(notebook, ["accuracy"], seed=5)
    finally:
        suite.test("accuracy", partial=False)
    public, hidden = graded.results
    assert (public.score, public.max_score, public.partial, public.checks_passed, public.checks_total) == (0.5, 1, True, 1, 2)
    assert not hidden.partial
    table = report.table(graded)
    assert "accuracy: public checks  0.5/1 ✗  (partial credit: 1 of 2 checks passed)" in table
    data = report.gradescope(graded)
    assert data["tests"][0]["extra_data"]["credit"] == "partial" and data["tests"][0]["extra_data"]["checks_passed"] == 1
    assert data["tests"][1]["extra_data"]["credit"] == "all-or-nothing"
    (tmp_path / "results").mkdir()
    report.write_json(graded, tmp_path / "results" / "d2l.json")
    page = class_report.write_html(class_report.load(tmp_path / "results")[0], tmp_path / "page.html").read_text()
    assert "partial credit (each check its share) for accuracy: public checks" in page
