"""Message catalogues (gettext) for what the learner reads: check titles,
messages and hints, in the learner's language.

    from autograder.i18n import _
    title = _("softmax regression reaches {accuracy:.2f} test accuracy").format(accuracy=0.9)

Catalogues are gettext `.po` files, `autograder/locale/<lang>/LC_MESSAGES/dlworkbook.po`
(edit them with any gettext tool: msgmerge, Poedit, ...), read here directly,
so no compiled `.mo` file has to be kept in step. The language is
`$DLWORKBOOK_LANG` (e.g. `zh_CN`; unset or `en`: English, the source
language); a message without a translation stays in English. Translate the
template, then fill it in (`.format` after `_`), so one entry serves every
value.

This is the infrastructure only: the checks do not call `_` yet.
"""
from __future__ import annotations

import ast
import functools
import gettext
import os
from pathlib import Path

DOMAIN = "dlworkbook"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGE_ENV = "DLWORKBOOK_LANG"


def read_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (plural forms and contexts are not used here;
    untranslated and fuzzy entries are left out, as msgfmt leaves them)."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None
    fuzzy = False

    def flush() -> None:
        if msgid is not None and msgstr is not None and not fuzzy:
            key, value = "".join(msgid), "".join(msgstr)
            if key and value:
                entries[key] = value

    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            flush()
            msgid = msgstr = current = None
            fuzzy = False
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith("msgid "):
            msgid, msgstr = [ast.literal_eval(line[6:])], None
            current = msgid
        elif line.startswith("msgstr "):
            msgstr = [ast.literal_eval(line[7:])]
            current = msgstr
        elif line.startswith('"') and current is not None:
            current.append(ast.literal_eval(line))
    return entries


class Catalogue(gettext.NullTranslations):
    """A gettext translation read from a .po file."""

    def __init__(self, entries: dict[str, str]) -> None:
        super().__init__()
        self.entries = entries

    def gettext(self, message: str) -> str:
        return self.entries.get(message, message)


def language() -> str:
    return os.environ.get(LANGUAGE_ENV, "").strip() or "en"


@functools.lru_cache(maxsize=8)
def translation(lang: str, locale_dir: Path = LOCALE_DIR) -> gettext.NullTranslations:
    """The catalogue of `lang` ("zh_CN", then "zh"), or English (no change)."""
    for candidate in (lang, lang.split("_")[0]):
        path = locale_dir / candidate / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.is_file():
            return Catalogue(read_po(path))
    return gettext.NullTranslations()


def _(message: str) -> str:
    """`message` in the learner's language ($DLWORKBOOK_LANG)."""
    return translation(language()).gettext(message)
