"""The instructor's view of a graded class: `python -m autograder report DIR`.

DIR is a batch's `--json-dir` (one results.json per submission, in
subfolders too). For each assignment found there it writes, into DIR (or
`--out`):

- `class_<assignment>.csv`: one row per student (identity, status, score,
  maximum), one column per test, for a learning-management system;
- `class_<assignment>.html`: one self-contained page with the class score
  table (points per exercise), a bar chart of each exercise's pass rate (the
  share of graded notebooks with every point of the exercise), a histogram of
  the total scores (both matplotlib, embedded as PNG), the most frequent
  diagnosed bugs (the `Hint:` lines of failed tests, counted once per
  student), and the notebooks that could not be graded, with the reason.
"""
from __future__ import annotations

import base64
import csv
import html
import io
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HINT_PREFIX = "Hint: "
TOP_BUGS = 12


@dataclass
class StudentResult:
    """One submission's result, as the report needs it."""

    student: str
    assignment: str | None
    status: str  # graded, unreadable, wrong_assignment, error
    score: float
    max_score: float
    tests: dict[str, tuple[float, float]] = field(default_factory=dict)  # test name -> (score, max)
    exercise_of: dict[str, str] = field(default_factory=dict)  # test name -> exercise
    credit: dict[str, str] = field(default_factory=dict)  # test name -> "partial" or "all-or-nothing"
    hints: list[tuple[str, str]] = field(default_factory=list)  # (exercise, hint) of each failed test
    reason: str = ""  # why it was not graded

    @property
    def graded(self) -> bool:
        return self.status == "graded"

    def exercises(self) -> dict[str, tuple[float, float]]:
        totals: dict[str, tuple[float, float]] = {}
        for name, (got, most) in self.tests.items():
            exercise = self.exercise_of.get(name, name.split(":")[0])
            have, could = totals.get(exercise, (0.0, 0.0))
            totals[exercise] = (have + got, could + most)
        return totals


@dataclass
class ClassReport:
    assignment: str
    students: list[StudentResult]
    tests: list[str]  # column order: the assignment's test order
    exercises: list[str]

    @property
    def graded(self) -> list[StudentResult]:
        return [student for student in self.students if student.graded]

    def max_score(self) -> float:
        return max((student.max_score for student in self.students), default=0.0)

    def pass_rates(self) -> dict[str, float]:
        """exercise -> share of graded notebooks with all of its points."""
        rates = {}
        for exercise in self.exercises:
            scored = [s.exercises().get(exercise) for s in self.graded]
            scored = [pair for pair in scored if pair is not None and pair[1] > 0]
            rates[exercise] = sum(got >= most for got, most in scored) / len(scored) if scored else 0.0
        return rates

    def bugs(self, top: int = TOP_BUGS) -> list[tuple[str, str, list[str]]]:
        """The most frequent diagnosed bugs: (exercise, hint, students)."""
        who: dict[tuple[str, str], list[str]] = {}
        for student in self.students:
            for key in dict.fromkeys(student.hints):  # once per student
                who.setdefault(key, []).append(student.student)
        ranked = sorted(who.items(), key=lambda item: (-len(item[1]), item[0]))
        return [(exercise, hint, students) for (exercise, hint), students in ranked[:top]]


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def _hints(output: str) -> list[str]:
    return [line.strip()[len(HINT_PREFIX):].strip() for line in output.splitlines()
            if line.strip().startswith(HINT_PREFIX)]


def read_result(path: Path, folder: Path) -> StudentResult | None:
    """One results.json (None if the file is not one)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list) or "score" not in data:
        return None
    extra = data.get("extra_data") if isinstance(data.get("extra_data"), dict) else {}
    submission = extra.get("submission") if isinstance(extra.get("submission"), dict) else {}
    student = submission.get("identity") or path.relative_to(folder).with_suffix("").as_posix()
    result = StudentResult(student, extra.get("assignment"), extra.get("status", "graded"), float(data["score"]),
                           0.0, reason=str(extra.get("error") or ""))
    for test in data["tests"]:
        name, got, most = str(test["name"]), float(test.get("score", 0.0)), float(test.get("max_score", 0.0))
        meta = test.get("extra_data") if isinstance(test.get("extra_data"), dict) else {}
        exercise = str(meta.get("exercise") or name.split(":")[0])
        result.tests[name] = (got, most)
        result.exercise_of[name] = exercise
        result.credit[name] = str(meta.get("credit", "all-or-nothing"))
        result.max_score += most
        if got < most and result.graded:
            result.hints.extend((exercise, hint) for hint in _hints(str(test.get("output", ""))))
    return result


def load(folder: str | Path) -> list[ClassReport]:
    """Every result under `folder`, grouped by assignment (a notebook whose
    assignment is unknown joins the class when there is only one)."""
    folder = Path(folder)
    results = [result for path in sorted(folder.rglob("*.json"))
               if not any(part.startswith(".") for part in path.relative_to(folder).parts)
               and (result := read_result(path, folder)) is not None]
    assignments = sorted({r.assignment for r in results if r.assignment})
    orphans = [r for r in results if not r.assignment]
    reports = []
    for assignment in assignments or (["unknown"] if orphans else []):
        members = [r for r in results if r.assignment == assignment]
        if len(assignments) <= 1:
            members += orphans
        reports.append(_class(assignment, members))
    if len(assignments) > 1 and orphans:
        reports.append(_class("unknown", orphans))
    return reports


def _class(assignment: str, members: list[StudentResult]) -> ClassReport:
    tests: list[str] = []
    exercises: list[str] = []
    for student in sorted(members, key=lambda s: (not s.graded, -len(s.tests))):  # a graded result's order first
        for name in student.tests:
            if name not in tests:
                tests.append(name)
            exercise = student.exercise_of[name]
            if exercise not in exercises:
                exercises.append(exercise)
    return ClassReport(assignment, sorted(members, key=lambda s: s.student), tests, exercises)


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:g}"


def write_csv(report: ClassReport, path: Path) -> Path:
    """One row per student, one column per test (a missing test scores 0)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "assignment", "status", "score", "max_score", *report.tests])
        for student in report.students:
            writer.writerow([student.student, report.assignment, student.status, _number(student.score),
                             _number(student.max_score or report.max_score()),
                             *(_number(student.tests.get(name, (0.0, 0.0))[0]) for name in report.tests)])
    return path


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def pass_rate_chart(report: ClassReport) -> str:
    """A bar per exercise: the share of graded notebooks with all its points (base64 PNG)."""
    from matplotlib.figure import Figure

    rates = report.pass_rates()
    figure = Figure(figsize=(max(4.0, 0.9 * len(rates) + 2), 3.2))
    axes = figure.subplots()
    bars = axes.bar(list(rates), [100 * rate for rate in rates.values()], color="#4c72b0")
    axes.bar_label(bars, labels=[f"{100 * rate:.0f}%" for rate in rates.values()], fontsize=8)
    axes.set_ylim(0, 105)
    axes.set_ylabel("full marks (% of graded)")
    axes.set_title(f"{report.assignment}: pass rate per exercise (n = {len(report.graded)})")
    axes.tick_params(axis="x", labelrotation=30)
    return _png(figure)


def score_histogram(report: ClassReport) -> str:
    """The class's total scores (base64 PNG)."""
    from matplotlib.figure import Figure

    most = report.max_score() or 1.0
    figure = Figure(figsize=(5.5, 3.2))
    axes = figure.subplots()
    bins = min(20, max(5, int(most)))
    axes.hist([student.score for student in report.students], bins=bins, range=(0, most), color="#55a868",
              edgecolor="white")
    axes.set_xlabel(f"total score (of {_number(most)})")
    axes.set_ylabel("students")
    axes.set_title(f"{report.assignment}: scores (n = {len(report.students)})")
    axes.yaxis.get_major_locator().set_params(integer=True)
    return _png(figure)


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
td.full { background: #e3f4e1; } td.some { background: #fdf3d6; } td.none { background: #f8dcdc; }
.charts img { margin-right: 1.5em; vertical-align: top; }
"""


def write_html(report: ClassReport, path: Path) -> Path:
    escape = html.escape
    per_exercise_max = {exercise: max((s.exercises().get(exercise, (0.0, 0.0))[1] for s in report.students),
                                      default=0.0) for exercise in report.exercises}
    rows = []
    for student in report.students:
        cells = [f"<td class='text'>{escape(student.student)}</td>"]
        scores = student.exercises()
        for exercise in report.exercises:
            got, most = scores.get(exercise, (0.0, per_exercise_max[exercise]))
            kind = "full" if most and got >= most else ("some" if got > 0 else "none")
            cells.append(f"<td class='{kind}'>{_number(got)}/{_number(most)}</td>")
        cells.append(f"<td><b>{_number(student.score)}</b>/{_number(student.max_score or report.max_score())}</td>")
        cells.append(f"<td class='text'>{escape(student.status.replace('_', ' '))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    header = "".join(f"<th>{escape(exercise)}</th>" for exercise in report.exercises)
    bugs = report.bugs()
    bug_rows = "".join(
        f"<tr><td>{len(students)}</td><td class='text'>{escape(exercise)}</td><td class='text'>{escape(hint)}</td>"
        f"<td class='text'>{escape(', '.join(students))}</td></tr>" for exercise, hint, students in bugs)
    not_graded = [s for s in report.students if not s.graded]
    missing = "".join(f"<li><b>{escape(s.student)}</b> ({escape(s.status.replace('_', ' '))}): {escape(s.reason)}</li>"
                      for s in not_graded)
    partial = sorted({name for s in report.students for name, credit in s.credit.items() if credit == "partial"})
    scores = [s.score for s in report.students]
    mean = sum(scores) / len(scores) if scores else 0.0
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(report.assignment)}: class report</title>
<style>{STYLE}</style></head><body>
<h1>{escape(report.assignment)}: class report</h1>
<p>{len(report.students)} submissions, {len(report.graded)} graded; mean score {mean:.2f} of {_number(report.max_score())}.
Credit: {"all-or-nothing per test" if not partial else "partial credit (each check its share) for " + escape(", ".join(partial)) + "; all-or-nothing for the other tests"}.</p>
<div class="charts">
<img alt="pass rate per exercise" src="data:image/png;base64,{pass_rate_chart(report)}">
<img alt="score histogram" src="data:image/png;base64,{score_histogram(report)}">
</div>
<h2>Most frequent diagnosed bugs</h2>
<p>From the hints of failed tests, each counted once per student: what to teach again.</p>
<table><tr><th>students</th><th>exercise</th><th>hint</th><th>who</th></tr>{bug_rows or "<tr><td colspan='4' class='text'>no failed test gave a hint</td></tr>"}</table>
<h2>Scores</h2>
<table><tr><th>student</th>{header}<th>total</th><th>status</th></tr>
{"".join(rows)}
</table>
{"<h2>Not graded</h2><ul>" + missing + "</ul>" if missing else ""}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path


def write(folder: str | Path, out: str | Path | None = None) -> list[Path]:
    """The CSV and HTML of each assignment in `folder`; returns the files written."""
    target = Path(out or folder)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for report in load(folder):
        written.append(write_csv(report, target / f"class_{report.assignment}.csv"))
        written.append(write_html(report, target / f"class_{report.assignment}.html"))
    return written


def main(folder: str, out: str | None = None) -> int:
    if not Path(folder).is_dir():
        print(f"error: {folder}: no such folder", file=sys.stderr)
        return 2
    written = write(folder, out)
    if not written:
        print(f"error: {folder}: no results.json files found", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0
