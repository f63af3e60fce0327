"""Does every check catch the classic wrong implementations, by name, and
accept the correct alternatives? Each catalogued variant is put into a copy
of the release (every other answer filled with the reference) and graded
through the real command line, one batch per exercise."""
from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import catalogue
from tests.catalogue import Variant
from tests.submissions import reference_submission

ROOT = Path(__file__).resolve().parents[1]


def _variants() -> dict[tuple[str, str], list[Variant]]:
    groups: dict[tuple[str, str], list[Variant]] = {}
    for info in pkgutil.iter_modules(catalogue.__path__):
        module = importlib.import_module(f"tests.catalogue.{info.name}")
        for variant in module.VARIANTS:
            groups.setdefault((info.name, variant.exercise), []).append(variant)
    return groups


GROUPS = _variants()


@pytest.mark.slow
@pytest.mark.parametrize("assignment,exercise", sorted(GROUPS), ids=[f"{a}-{e}" for a, e in sorted(GROUPS)])
def test_catalogue_is_graded_as_expected(assignment: str, exercise: str, tmp_path: Path) -> None:
    variants = GROUPS[(assignment, exercise)]
    paths = [reference_submission(assignment, tmp_path / f"{v.name}.ipynb", **{exercise: v.source}) for v in variants]
    out = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", *map(str, paths), "--exercise", exercise,
         "--json-dir", str(out), "--seed", "12345"],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    problems = []
    for variant in variants:
        results = json.loads((out / f"{variant.name}.json").read_text())
        tests = [t for t in results["tests"] if t["name"].startswith(exercise + ":")]
        got = sum(t["score"] for t in tests)
        most = sum(t["max_score"] for t in tests)
        text = "\n".join(t["output"] for t in tests)
        assert most > 0
        if variant.correct and got != most:
            problems.append(f"correct alternative {variant.name!r} got {got}/{most}:\n{text}")
        if not variant.correct:
            if got >= most:
                problems.append(f"wrong implementation {variant.name!r} got full credit {got}/{most}")
            elif variant.bug.lower() not in text.lower():
                problems.append(f"wrong implementation {variant.name!r} lost credit but the feedback does not say "
                                f"{variant.bug!r}:\n{text}")
    assert not problems, "\n\n".join(problems)


def test_every_catalogued_exercise_has_enough_variants() -> None:
    """At least 4 wrong implementations and 1 correct alternative per exercise."""
    thin = []
    for (assignment, exercise), variants in GROUPS.items():
        wrong = sum(not v.correct for v in variants)
        right = sum(v.correct for v in variants)
        if wrong < 4 or right < 1:
            thin.append(f"{assignment}.{exercise}: {wrong} wrong, {right} correct")
    assert not thin, thin
