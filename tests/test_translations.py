"""The workbook in every language it is translated into: each lesson's
translation in step with its source notebook, and each message catalogue in
step with the checks and complete. A cell or a message added in English
fails here until it is translated; a section added only in the translation
fails until the source has its cell."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from autograder import i18n, lesson_i18n
from autograder.i18n_extract import catalogue_sources
from tests.conftest import ASSIGNMENTS
from tests.submissions import ROOT

LANGUAGES = lesson_i18n.LANGUAGES
CJK = re.compile(r"[\u4e00-\u9fff]")


def source_notebook(assignment: str) -> Path:
    return ROOT / "solutions" / assignment / f"{assignment}.ipynb"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_lesson_translation_is_in_step_with_its_source(assignment: str, lang: str) -> None:
    problems = lesson_i18n.drift(source_notebook(assignment), lang)
    assert not problems, f"{assignment} ({lang}):\n" + "\n".join(problems)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_zh_section_is_in_chinese(assignment: str) -> None:
    path = lesson_i18n.translation_path(source_notebook(assignment), "zh_CN")
    english = dict(lesson_i18n.markdown_cells(json.loads(source_notebook(assignment).read_text(encoding="utf-8"))))
    untranslated = [s.cell_id for s in lesson_i18n.read_translation(path)
                    if len(re.findall(r"[A-Za-z]{3,}", english.get(s.cell_id, ""))) >= 3 and not CJK.search(s.text)]
    assert not untranslated, f"{path.name}: sections with no Chinese: {untranslated}"


def test_drift_catches_a_cell_added_in_either_language(tmp_path: Path) -> None:
    """The drift check itself: a new English cell, a changed one, and a
    section only the translation has are each reported."""
    source = tmp_path / "x.ipynb"
    cells = [{"cell_type": "markdown", "id": "one", "metadata": {}, "source": ["# One"]},
             {"cell_type": "code", "id": "code", "metadata": {}, "source": ["x = 1"], "outputs": [],
              "execution_count": None}]
    source.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    lesson_i18n.update(source, "zh_CN")
    assert lesson_i18n.drift(source, "zh_CN") == ["the zh_CN section of cell one is still marked todo"]
    path = lesson_i18n.translation_path(source, "zh_CN")
    sections = lesson_i18n.read_translation(path)
    sections[0].text, sections[0].todo = "# 一", False
    lesson_i18n.write_translation(path, sections, "zh_CN", source.name)
    assert lesson_i18n.drift(source, "zh_CN") == []
    cells.append({"cell_type": "markdown", "id": "two", "metadata": {}, "source": ["# Two"]})
    source.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert any("cell two" in p and "no zh_CN section" in p for p in lesson_i18n.drift(source, "zh_CN"))
    cells[0]["source"] = ["# One, changed"]
    cells.pop()
    source.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert any("changed in English" in p for p in lesson_i18n.drift(source, "zh_CN"))
    sections.append(lesson_i18n.Section("three", "0" * 12, "# 三"))
    lesson_i18n.write_translation(path, sections, "zh_CN", source.name)
    assert any("cell three" in p and "does not have" in p for p in lesson_i18n.drift(source, "zh_CN"))


def _catalogues() -> list:
    return [pytest.param(lang, path, messages, id=f"{path.parent.name}/{path.name}")
            for lang in LANGUAGES for path, messages in catalogue_sources(ROOT, lang).items()]


@pytest.mark.parametrize("lang,path,messages", _catalogues())
def test_message_catalogue_is_complete_and_in_step(lang: str, path: Path, messages: list) -> None:
    assert path.is_file(), f"{path} is missing: run `python scripts/update_translations.py`"
    entries = {msgid: msgstr for msgid, msgstr, fuzzy in i18n.read_po_entries(path) if msgid and not fuzzy}
    wanted = [m.msgid for m in messages]
    missing = [m for m in wanted if m not in entries]
    obsolete = [m for m in entries if m not in set(wanted)]
    assert not missing and not obsolete, (
        f"{path.name} is out of step with the checks (run `python scripts/update_translations.py`): "
        f"missing {missing[:5]}, obsolete {obsolete[:5]}")
    empty = [m for m in wanted if not entries[m]]
    assert not empty, f"{path.name}: {len(empty)} messages not translated yet, e.g. {empty[:3]}"
    wrong = [(m, entries[m]) for m in wanted if sorted(i18n.placeholders(m)) != sorted(i18n.placeholders(entries[m]))]
    assert not wrong, f"{path.name}: translations must keep each {{placeholder}} of the English: {wrong[:3]}"


def test_templates_translate_nested_messages() -> None:
    """A message built from two f-strings is translated whole, its values in turn."""
    catalogue = i18n.Catalogue({
        "{what}: your softmax changed X": "{what}：你的 softmax 修改了 X",
        "softmax(X) for X of {shape_of(X)}{label}": "形状为 {shape_of(X)} 的 X 的 softmax(X){label}",
        " (huge logits)": "（巨大的 logits）",
    })
    assert catalogue.translate("softmax(X) for X of (2, 3) (huge logits): your softmax changed X") == (
        "形状为 (2, 3) 的 X 的 softmax(X)（巨大的 logits）：你的 softmax 修改了 X")
    assert catalogue.translate("no entry for this") == "no entry for this"
