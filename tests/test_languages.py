"""The released notebooks, in every language, as a learner's self-check
sees them (`pytest NOTEBOOK.ipynb` runs the same checks in-process):
with the reference answers every public check shows ✓; with each of the
catalogue's wrong answers, every ✗ that judges a value or a crash comes
with a hint, in the notebook's own language."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from autograder import i18n
from autograder.checking import OutcomeKind
from autograder.lesson_i18n import LANGUAGES
from autograder.selfcheck import NotebookCheck
from autograder.submissions import fill_answers, reference_answers, release_path
from tests.conftest import ASSIGNMENTS

CJK = re.compile(r"[\u4e00-\u9fff]")
HINT = {"en": "Hint:", "zh_CN": "提示："}
NEEDS_A_HINT = (OutcomeKind.FAILED, OutcomeKind.ERROR)  # forbidden, not implemented, timeouts explain themselves


def release_in(assignment: str, lang: str) -> Path:
    english = release_path(assignment)
    return english if lang == "en" else english.parent.parent / lang / assignment / english.name


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The learner's code runs in this process: a wrong answer that saves to
    a relative path ("checkpoint.pt") writes into a scratch folder, not the
    repository; and a notebook's language must not leak into the next test."""
    monkeypatch.chdir(tmp_path)
    yield
    i18n.set_language(None)


@pytest.mark.parametrize("lang", ["en", *LANGUAGES])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_answers_show_only_ticks(assignment: str, lang: str, tmp_path: Path) -> None:
    path = fill_answers(release_in(assignment, lang), reference_answers(assignment), tmp_path / f"{assignment}.ipynb")
    check = NotebookCheck(path)
    results = [result for exercise in check.assignment.exercises for result in check.check(exercise)]
    failed = [f"{r.name}:\n{r.output}" for r in results if not r.passed]
    assert results and not failed, "\n\n".join(failed)
    ticks = [line for r in results for line in r.output.splitlines() if line.startswith("✓ ")]
    assert ticks and "✗" not in "".join(r.output for r in results)
    if lang != "en":
        english = [line for line in ticks if not CJK.search(line)]
        assert not english, f"titles left in English in {lang}: {english[:5]}"


@pytest.mark.parametrize("lang", ["en", *LANGUAGES])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_cross_for_a_catalogued_bug_has_a_hint(assignment: str, lang: str, tmp_path: Path) -> None:
    variants = [v for v in importlib.import_module(f"tests.catalogue.{assignment}").VARIANTS if not v.correct]
    release = release_in(assignment, lang)
    unhinted, crosses = [], 0
    for variant in variants:
        answers = reference_answers(assignment)
        answers[variant.exercise] = variant.source
        path = fill_answers(release, answers, tmp_path / f"{assignment}.ipynb")
        for result in NotebookCheck(path).check(variant.exercise):
            if result.passed:
                continue
            crosses += 1
            if result.kind in NEEDS_A_HINT and HINT[lang] not in result.output:
                unhinted.append(f"{variant.name} ({result.kind}):\n{result.output}")
            if lang != "en":
                assert HINT["en"] not in result.output, f"{variant.name}: an English hint in {lang}:\n{result.output}"
    assert crosses, "no catalogued bug failed a public check"
    assert not unhinted, f"{len(unhinted)} of {crosses} crosses without a hint:\n\n" + "\n\n".join(unhinted[:5])
