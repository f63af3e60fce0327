"""Building learner notebooks: the release with its answer cells filled in,
from the reference (the source's answer cells, markers removed) or from
given code. Used by the main job's sample class and by the tests."""
from __future__ import annotations

import json
from pathlib import Path

from autograder.course import course_root, load_assignment
from autograder.notebook import answer_sources, read_notebook, set_answer_sources

SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def reference_answers(assignment_id: str) -> dict[str, str]:
    """grade_id -> the reference answer cell, as a learner would write it."""
    sources = answer_sources(read_notebook(load_assignment(assignment_id).source_path))
    return {
        grade_id: "\n".join(line for line in source.splitlines() if line.strip() not in SOLUTION_MARKERS)
        for grade_id, source in sources.items()
    }


def release_path(assignment_id: str) -> Path:
    return course_root() / "assignments" / assignment_id / f"{assignment_id}.ipynb"


def fill_answers(release: Path, answers: dict[str, str], target: Path) -> Path:
    """Write `release` to `target` with the answer cells named in `answers` replaced."""
    notebook = set_answer_sources(json.loads(release.read_text(encoding="utf-8")), answers)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return target
