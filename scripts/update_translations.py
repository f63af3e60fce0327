"""Bring every translation in step with its English source:

- each message catalogue with the checks (like msgmerge): an empty entry for
  each new message, the ones no check writes any more dropped, every
  translation kept;
- each lesson's translation (`solutions/<id>/<id>.<lang>.md`) with its source
  notebook: a `todo` section, holding the English, for each new markdown cell.

Then translate what is empty or todo; tests/test_translations.py fails while
anything is.

    python scripts/update_translations.py [LANG ...]   (default: zh_CN)
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import lesson_i18n  # noqa: E402
from autograder.i18n_extract import catalogue_sources, write_catalogue  # noqa: E402


def main(languages: list[str]) -> None:
    for lang in languages or ["zh_CN"]:
        for path, messages in catalogue_sources(ROOT, lang).items():
            total, untranslated = write_catalogue(path, messages, lang, path.stem.split(".")[0])
            print(f"{path.relative_to(ROOT)}: {total} messages, {untranslated} to translate")
        for source in sorted(ROOT.glob("solutions/*/*.ipynb")):
            if source.stem == source.parent.name:
                added = lesson_i18n.update(source, lang)
                todo = sum(s.todo for s in lesson_i18n.read_translation(lesson_i18n.translation_path(source, lang)))
                print(f"{lesson_i18n.translation_path(source, lang).relative_to(ROOT)}: {added} new cells, {todo} to translate")


if __name__ == "__main__":
    main(sys.argv[1:])
