"""A lesson in another language, from one source: the translation of a
source notebook's markdown cells, kept beside it as
`solutions/<id>/<id>.<lang>.md`, and the translated release made from the
English one (`assignments/<lang>/<id>/<id>.ipynb`: same cells, same code,
same ids, only the prose translated and `metadata.dlworkbook.language` set).

The translation file has one section per markdown cell of the source, in
order, each opened by a header line naming the cell and the English it
translates (the first 12 hex digits of its SHA-256):

    <!-- cell 93da2222 en 3f2a9c1b0a12 -->
    # 作业 1 — 张量、自动微分与梯度检验

`drift` lists what is out of step: a cell of the source with no section, a
section whose cell is gone, a section whose English has changed since it was
translated, or one still marked `todo`. `scripts/update_translations.py` adds
a `todo` section (holding the English) for each new cell; a translator
replaces its text and removes ` todo`.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.notebook import META_KEY, cell_source

LANGUAGES = ("zh_CN",)
_HEADER = re.compile(r"^<!-- cell (\S+) en ([0-9a-f]{12})( todo)? -->$")
_PREAMBLE = ("<!-- The {lang} translation of the markdown cells of {name}, one section per cell, in order.\n"
             "     Each section starts with its header: the cell's id and the SHA-256 (12 hex digits) of the\n"
             "     English it translates. Code cells are not translated: the code is one source.\n"
             "     See autograder/lesson_i18n.py; `python scripts/update_translations.py` adds new cells. -->\n")


@dataclass
class Section:
    cell_id: str
    english_hash: str
    text: str
    todo: bool = False


def english_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def translation_path(source: Path, lang: str) -> Path:
    return source.with_name(f"{source.stem}.{lang}.md")


def markdown_cells(notebook: dict[str, Any]) -> list[tuple[str, str]]:
    """(id, English text) of each markdown cell of a notebook, in order."""
    return [(str(cell.get("id")), cell_source(cell)) for cell in notebook.get("cells", [])
            if cell.get("cell_type") == "markdown"]


def read_translation(path: Path) -> list[Section]:
    sections: list[Section] = []
    body: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        header = _HEADER.match(line)
        if header:
            if sections:
                sections[-1].text = "\n".join(body).strip("\n")
            sections.append(Section(header.group(1), header.group(2), "", bool(header.group(3))))
            body = []
        else:
            body.append(line)
    if sections:
        sections[-1].text = "\n".join(body).strip("\n")
    return sections


def write_translation(path: Path, sections: list[Section], lang: str, name: str) -> None:
    parts = [_PREAMBLE.format(lang=lang, name=name)]
    for section in sections:
        parts.append(f"<!-- cell {section.cell_id} en {section.english_hash}{' todo' if section.todo else ''} -->\n"
                     f"{section.text}\n")
    path.write_text("\n".join(parts), encoding="utf-8")


def drift(source: Path, lang: str) -> list[str]:
    """What keeps the translation of `source` from being in step (empty: in step)."""
    path = translation_path(source, lang)
    if not path.is_file():
        return [f"{path.name} is missing: run `python scripts/update_translations.py`, then translate it"]
    cells = markdown_cells(json.loads(source.read_text(encoding="utf-8")))
    sections = {section.cell_id: section for section in read_translation(path)}
    problems = []
    for cell_id, text in cells:
        section = sections.get(cell_id)
        if section is None:
            problems.append(f"markdown cell {cell_id} of {source.name} has no {lang} section in {path.name}")
        elif section.todo:
            problems.append(f"the {lang} section of cell {cell_id} is still marked todo")
        elif section.english_hash != english_hash(text):
            problems.append(f"cell {cell_id} changed in English since it was translated: update its {lang} section, "
                            f"then its header's hash to {english_hash(text)}")
        elif not section.text.strip() and text.strip():
            problems.append(f"the {lang} section of cell {cell_id} is empty")
    known = {cell_id for cell_id, _ in cells}
    problems += [f"{path.name} translates cell {cell_id}, which {source.name} does not have (add it there first)"
                 for cell_id in sections if cell_id not in known]
    return problems


def update(source: Path, lang: str) -> int:
    """Add a todo section (the English text) for each markdown cell with none;
    keep every other section as it is. Returns how many were added."""
    path = translation_path(source, lang)
    old = {section.cell_id: section for section in read_translation(path)} if path.is_file() else {}
    cells = markdown_cells(json.loads(source.read_text(encoding="utf-8")))
    sections, added = [], 0
    for cell_id, text in cells:
        if cell_id in old:
            sections.append(old.pop(cell_id))
        else:
            sections.append(Section(cell_id, english_hash(text), text, todo=True))
            added += 1
    sections += old.values()  # sections of cells the source lacks stay, for drift to report
    write_translation(path, sections, lang, source.name)
    return added


def translated_release(release: Path, source: Path, lang: str) -> dict[str, Any]:
    """The English release `release`, its markdown cells in `lang`."""
    notebook = json.loads(release.read_text(encoding="utf-8"))
    sections = {section.cell_id: section for section in read_translation(translation_path(source, lang))}
    translated = copy.deepcopy(notebook)
    for cell in translated["cells"]:
        section = sections.get(str(cell.get("id")))
        if cell.get("cell_type") == "markdown" and section is not None and not section.todo:
            cell["source"] = section.text.splitlines(True)  # as nbformat writes it
    translated.setdefault("metadata", {}).setdefault(META_KEY, {})["language"] = lang
    return translated


def write_translated_releases(release: Path, source: Path, out_root: Path) -> list[Path]:
    """`<out_root>/<lang>/<id>/<id>.ipynb` for every language the source has a
    translation for, in nbformat's own layout (as nbgrader writes)."""
    written = []
    for lang in LANGUAGES:
        if not translation_path(source, lang).is_file():
            continue
        target = out_root / lang / release.parent.name / release.name
        target.parent.mkdir(parents=True, exist_ok=True)
        notebook = translated_release(release, source, lang)
        target.write_text(json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    return written
