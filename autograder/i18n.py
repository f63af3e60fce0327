"""Message catalogues (gettext) for what the learner reads: check titles,
messages and hints, in the learner's language.

The checks are written in English, the source language, and stay so: a
check builds its message as it always did (f-strings with values), and the
words are translated where an outcome is rendered (`checking.execute`),
through the catalogue of the learner's language:

- an exact entry translates a title or a hint (`_`, gettext's usual name);
- a template entry translates a message built from an f-string: its msgid is
  the f-string with each `{expression}` kept verbatim
  (`"{what}: your softmax changed X"`), the translation reuses those
  placeholders in any order, and the value each one matched is itself
  translated when it is words (so `what`, built from another f-string, is
  translated too).

Catalogues are gettext `.po` files: `autograder/locale/<lang>/LC_MESSAGES/*.po`
(the engine's `dlworkbook.po`, one per assignment's public checks), plus
catalogues a grader registers (`register`: the hidden checks' translations live
beside them in `solutions/<id>/`, never in the learner's package). They are read
here directly, so no compiled `.mo` file has to be kept in step; edit them with
any gettext tool, and `python scripts/update_translations.py` adds the new
messages of the checks to them and drops the ones gone (see
`autograder.i18n_extract`).

The language: `$DLWORKBOOK_LANG` when set (e.g. `zh_CN`), else the notebook's
own language (`metadata.dlworkbook.language`, set by `set_language` from the
notebook being checked or graded), else English. A message without a
translation stays in English.
"""
from __future__ import annotations

import ast
import functools
import gettext
import os
import re
from dataclasses import dataclass
from pathlib import Path

DOMAIN = "dlworkbook"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGE_ENV = "DLWORKBOOK_LANG"
SOURCE_LANGUAGE = "en"

_notebook_language: str | None = None
_registered: list[Path] = []


def read_po(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file (plural forms and contexts are not used here;
    untranslated and fuzzy entries are left out, as msgfmt leaves them)."""
    return {msgid: msgstr for msgid, msgstr, fuzzy in read_po_entries(path) if msgid and msgstr and not fuzzy}


def read_po_entries(path: Path) -> list[tuple[str, str, bool]]:
    """Every (msgid, msgstr, fuzzy) of a .po file, the header included, in order."""
    entries: list[tuple[str, str, bool]] = []
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None
    fuzzy = False

    def flush() -> None:
        if msgid is not None and msgstr is not None:
            entries.append(("".join(msgid), "".join(msgstr), fuzzy))

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


# --------------------------------------------------------------------------
# Placeholders: `{expression}` as an f-string writes it; `{{` and `}}` are braces.


def split_placeholders(template: str) -> list[tuple[bool, str]]:
    """The template as (is_placeholder, text) pieces; a placeholder's text is
    its whole `{...}` (nested braces and format specs included)."""
    pieces: list[tuple[bool, str]] = []
    literal: list[str] = []
    i = 0
    while i < len(template):
        char = template[i]
        if char in "{}" and template[i:i + 2] in ("{{", "}}"):
            literal.append(char)
            i += 2
        elif char == "{":
            depth, j = 0, i
            while j < len(template):
                depth += {"{": 1, "}": -1}.get(template[j], 0)
                if depth == 0:
                    break
                j += 1
            if literal:
                pieces.append((False, "".join(literal)))
                literal = []
            pieces.append((True, template[i:j + 1]))
            i = j + 1
        else:
            literal.append(char)
            i += 1
    if literal:
        pieces.append((False, "".join(literal)))
    return pieces


def placeholders(template: str) -> list[str]:
    return [text for is_placeholder, text in split_placeholders(template) if is_placeholder]


@dataclass(frozen=True)
class Template:
    """A catalogue entry with placeholders, ready to match rendered English.
    Placeholders side by side (`{shape}{label}`) match as one group, split
    again by `split_run`."""

    pattern: re.Pattern[str]
    groups: tuple[tuple[str, ...], ...]
    translation: list[tuple[bool, str]]
    weight: int  # characters of literal text: more is more specific

    @classmethod
    def build(cls, msgid: str, msgstr: str) -> Template | None:
        pieces = split_placeholders(msgid)
        literal = sum(len(text) for is_placeholder, text in pieces if not is_placeholder)
        if not any(is_placeholder for is_placeholder, _ in pieces) or literal < 3:
            return None
        groups: list[list[str]] = []
        regex: list[str] = []
        previous_was_placeholder = False
        for index, (is_placeholder, text) in enumerate(pieces):
            if is_placeholder and previous_was_placeholder:
                groups[-1].append(text)
            elif is_placeholder:
                groups.append([text])
                # A placeholder glued to a word ("{kind}_pool2d") is part of
                # that word: it matches no blank.
                before = pieces[index - 1][1] if index and not pieces[index - 1][0] else ""
                after = pieces[index + 1][1] if index + 1 < len(pieces) and not pieces[index + 1][0] else ""
                glued = (before[-1:].isalnum() or before[-1:] == "_") or (after[:1].isalnum() or after[:1] == "_")
                regex.append(r"(\S*?)" if glued else "(.*?)")
            else:
                regex.append(re.escape(text))
            previous_was_placeholder = is_placeholder
        return cls(re.compile("".join(regex) + r"\Z", re.S), tuple(tuple(g) for g in groups),
                   split_placeholders(msgstr), literal)


def split_run(value: str, names: tuple[str, ...], catalogue: Catalogue) -> dict[str, str]:
    """The value matched by placeholders side by side, shared out: each later
    one takes the longest ending that the catalogue translates, starting at
    a blank, comma or parenthesis (labels such as " (huge logits)" or
    ", random case 2 (seed 7)"), else nothing; the first takes the rest."""
    out: dict[str, str] = {}
    for name in reversed(names[1:]):
        cut = next((i for i in range(len(value)) if value[i] in " ,(" and catalogue.knows(value[i:])), len(value))
        out[name], value = value[cut:], value[:cut]
    out[names[0]] = value
    return out


class Catalogue(gettext.NullTranslations):
    """The translations of one language, read from its .po files."""

    def __init__(self, entries: dict[str, str]) -> None:
        super().__init__()
        self.entries = entries
        # A template that starts or ends with blanks (an indented line
        # appended to a message) also serves as the line on its own.
        pairs = [(msgid, msgstr) for msgid, msgstr in entries.items() if "{" in msgid]
        pairs += [(msgid.strip(), msgstr.strip()) for msgid, msgstr in pairs if msgid.strip() != msgid]
        templates = (Template.build(msgid, msgstr) for msgid, msgstr in pairs)
        self.templates = sorted((t for t in templates if t is not None), key=lambda t: -t.weight)

    def gettext(self, message: str) -> str:
        return self.entries.get(message, message)

    def knows(self, text: str) -> bool:
        """Whether `text` is an entry, or matches a template, as it stands."""
        return text in self.entries or any(t.pattern.match(text) for t in self.templates)

    def translate(self, text: str, depth: int = 0) -> str:
        """`text` as rendered by a check, in this language: an exact entry,
        else the most specific template it matches (its values translated
        in turn), else the same without surrounding blanks, else line by
        line, else unchanged."""
        if not text or depth > 4:
            return text
        exact = self.entries.get(text)
        if exact is not None:
            return exact
        templated = self._by_template(text, depth)
        if templated is not None:
            return templated
        stripped = text.strip()
        if stripped != text and stripped:
            start = text.index(stripped)
            return text[:start] + self.translate(stripped, depth) + text[start + len(stripped):]
        if "\n" in text:
            return "\n".join(self.translate(line, depth) for line in text.split("\n"))
        return text

    def _by_template(self, text: str, depth: int) -> str | None:
        """The best translation by a template that matches `text`: the one
        leaving the fewest English letters (a template ending in `{label}`
        also matches a longer message, whose own template translates more),
        the most specific one on a tie."""
        best: tuple[int, int, int, str] | None = None
        for template in self.templates:
            match = template.pattern.match(text)
            if match is None:
                continue
            values: dict[str, str] = {}
            for names, matched in zip(template.groups, match.groups()):
                for name, value in split_run(matched, names, self).items():
                    values.setdefault(name, self.translate(value, depth + 1) if _is_words(value) else value)
            result = "".join(values.get(piece, piece) if is_placeholder else piece
                             for is_placeholder, piece in template.translation)
            # Fewest English letters left; on a tie, the template whose last
            # placeholder swallowed least ("gradient of {what} with respect
            # to {name}" also matches "gradient of ... to X: values differ;
            # ...", which belongs to "{what}: values differ; {...}").
            tail = len(match.group(match.lastindex or 0)) if match.lastindex else 0
            score = (_english_letters(result), tail, -template.weight, result)
            if best is None or score[:3] < best[:3]:
                best = score
        return best[3] if best is not None else None


def _english_letters(text: str) -> int:
    return sum("a" <= char.lower() <= "z" for char in text)


class _English(Catalogue):
    def __init__(self) -> None:
        super().__init__({})

    def translate(self, text: str, depth: int = 0) -> str:
        return text


def _is_words(value: str) -> bool:
    return sum(char.isalpha() for char in value) >= 2 and (" " in value.strip() or len(value) > 12)


# --------------------------------------------------------------------------
# Which language, and its catalogue.


def set_language(lang: str | None) -> None:
    """The language of the notebook being checked or graded (its
    `metadata.dlworkbook.language`); `$DLWORKBOOK_LANG` still wins."""
    global _notebook_language
    _notebook_language = (lang or "").strip() or None


def language() -> str:
    return os.environ.get(LANGUAGE_ENV, "").strip() or _notebook_language or SOURCE_LANGUAGE


def register(path: Path) -> None:
    """Add a catalogue outside the package: `<name>.<lang>.po` files in `path`'s
    folder named after `path`'s stem (the hidden checks' translations)."""
    path = Path(path)
    if path not in _registered:
        _registered.append(path)
        translation.cache_clear()


def catalogue_files(lang: str, locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """The .po files of `lang` ("zh_CN", else "zh"): the package's, then the registered ones."""
    for candidate in (lang, lang.split("_")[0]):
        folder = locale_dir / candidate / "LC_MESSAGES"
        found = sorted(folder.glob("*.po")) if folder.is_dir() else []
        extra = [p.with_name(f"{p.stem}.{candidate}.po") for p in _registered]
        found += [p for p in extra if p.is_file()]
        if found:
            return found
    return []


@functools.lru_cache(maxsize=8)
def translation(lang: str, locale_dir: Path = LOCALE_DIR) -> Catalogue:
    """The catalogue of `lang`, or English (no change)."""
    if lang == SOURCE_LANGUAGE:
        return _English()
    entries: dict[str, str] = {}
    for path in catalogue_files(lang, locale_dir):
        entries.update(read_po(path))
    return Catalogue(entries) if entries else _English()


def _(message: str) -> str:
    """`message` (a title, a hint, a fixed phrase) in the learner's language."""
    return translation(language()).gettext(message)


def translate(text: str | None) -> str | None:
    """A rendered message (values filled in) in the learner's language."""
    if text is None:
        return None
    return translation(language()).translate(text)
