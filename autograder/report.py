"""Reports: the table on stdout and Gradescope's results.json."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autograder.grading import GradeReport


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
        lines.append(f"{result.name.ljust(width)}  {_points(result.score)}/{_points(result.max_score)} {mark}")
    lines.append(f"{'-' * width}  -------")
    for exercise, (got, most) in report.by_exercise().items():
        lines.append(f"{('  ' + exercise).ljust(width)}  {_points(got)}/{_points(most)}")
    lines.append(f"{'total'.ljust(width)}  {_points(report.score)}/{_points(report.max_score)}")
    lines.append(f"confinement: {confinement_text(report)}")
    if verbose:
        for result in report.results:
            if result.score < result.max_score:
                lines.append("")
                lines.append(f"── {result.name}")
                lines.append(result.output)
    return "\n".join(lines)


def confinement_text(report: GradeReport) -> str:
    """What kept the learner's code away from the grader, in words."""
    if not report.results:
        return "no learner code ran"
    return ", ".join(("limits and process group", *report.confinement))


def gradescope(report: GradeReport) -> dict[str, Any]:
    """Gradescope's results.json form: top-level score, one entry per test.

    Hidden tests are graded like any other but shown to students only after
    publication (`visibility: after_published`)."""
    return {
        "score": report.score,
        "output": f"assignment {report.assignment}, seed {report.seed}; confinement: {confinement_text(report)}",
        "extra_data": {"assignment": report.assignment, "seed": report.seed,
                       "confinement": ["limits and process group", *report.confinement]},
        "tests": [
            {
                "name": result.name,
                "score": result.score,
                "max_score": result.max_score,
                "output": result.output,
                "visibility": "after_published" if result.hidden else "visible",
                "extra_data": {"test": result.test_id, "exercise": result.exercise, "uses": list(result.uses),
                               "outcome": str(result.kind)},
            }
            for result in report.results
        ],
    }


def write_json(report: GradeReport, path: str | Path) -> None:
    Path(path).write_text(json.dumps(gradescope(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
