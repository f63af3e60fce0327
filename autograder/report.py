"""Reports: the table on stdout and Gradescope's results.json."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autograder.grading import GradeReport, TestResult


def _points(value: float) -> str:
    return f"{value:g}"


def table(report: GradeReport, verbose: bool = True) -> str:
    """A plain-text table: one row per test, then per-exercise totals, then
    the output of every test that lost points."""
    width = max([len(r.name) for r in report.results] + [20])
    lines = [
        f"{report.notebook.name} — assignment {report.assignment} (seed {report.seed})",
        f"{'test'.ljust(width)}  score",
        f"{'-' * width}  -------",
    ]
    for result in report.results:
        mark = "✓" if result.score == result.max_score else "✗"
        lines.append(f"{result.name.ljust(width)}  {_points(result.score)}/{_points(result.max_score)} {mark}"
                     + (f"  (partial credit: {credit_text(result)})" if result.partial else ""))
    lines.append(f"{'-' * width}  -------")
    for exercise, (got, most) in report.by_exercise().items():
        lines.append(f"{('  ' + exercise).ljust(width)}  {_points(got)}/{_points(most)}")
    lines.append(f"{'total'.ljust(width)}  {_points(report.score)}/{_points(report.max_score)}")
    lines.append(f"confinement: {confinement_text(report)}")
    if report.timing is not None:
        lines.extend(report.timing.lines())
    if verbose:
        for result in report.results:
            if result.score < result.max_score:
                lines.append("")
                lines.append(f"── {result.name}")
                lines.append(result.output)
    return "\n".join(lines)


def credit_text(result: TestResult) -> str:
    """How a test was scored: all or nothing, or each check its share."""
    if not result.partial:
        return "all-or-nothing"
    return f"{result.checks_passed} of {result.checks_total} checks passed"


LIMITS = "memory, time and file-size limits"


def confinement_text(report: GradeReport) -> str:
    """What kept the learner's code away from the grader, level first."""
    if not report.results:
        return "no learner code ran"
    level, *details = report.confinement or ("unknown",)
    return f"{level} ({', '.join((*details, LIMITS))})"


def gradescope(report: GradeReport) -> dict[str, Any]:
    """Gradescope's results.json form: top-level score, one entry per test.

    Hidden tests are graded like any other but shown to students only after
    publication (`visibility: after_published`)."""
    return {
        "score": report.score,
        "execution_time": round(report.execution_time, 2),
        "output": f"assignment {report.assignment}, seed {report.seed}; confinement: {confinement_text(report)}",
        "extra_data": {"assignment": report.assignment, "seed": report.seed,
                       "confinement": [*report.confinement, LIMITS],
                       **({"timing": report.timing.as_data()} if report.timing is not None else {})},
        "tests": [
            {
                "name": result.name,
                "score": result.score,
                "max_score": result.max_score,
                "output": result.output,
                "visibility": "after_published" if result.hidden else "visible",
                "extra_data": {"test": result.test_id, "exercise": result.exercise, "uses": list(result.uses),
                               "outcome": str(result.kind),
                               "credit": "partial" if result.partial else "all-or-nothing",
                               **({"checks_passed": result.checks_passed, "checks_total": result.checks_total}
                                  if result.partial else {})},
            }
            for result in report.results
        ],
    }


def write_json(report: GradeReport, path: str | Path) -> None:
    Path(path).write_text(json.dumps(gradescope(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
