"""Which strings a learner reads, found in the checks' source (like
xgettext, but for messages the checks build as they always did): the
catalogue of each language must translate every one of them.

- a check's title: the first line of the docstring of a function decorated
  with `suite.check(...)`, and `title=` of `suite.test(...)`;
- every other string or f-string of a checks module, or of an engine module
  that words outcomes, that reads as words (a space and letters): hints,
  messages, labels. An f-string becomes a template whose placeholders are its
  `{expressions}` verbatim (see `autograder.i18n`).

Left out: docstrings (titles apart), what `forbid(...)` lists (names of torch
functions), test ids, dictionary keys and the salts of `ctx.generator`.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from autograder.i18n import LOCALE_DIR

PACKAGE = Path(__file__).resolve().parent
# Engine modules whose words reach a learner's outcome.
ENGINE_MODULES = ("calling.py", "checking.py", "compare.py", "learner_errors.py", "policy.py", "guard.py",
                  "sandbox.py", "selfcheck.py", "checks/kit.py")
# Calls whose string arguments are names or keys, never words.
_NOT_WORDS_CALLS = {"forbid", "run", "generator", "getattr", "setattr", "hasattr", "get", "check", "startswith",
                    "endswith", "split", "join", "replace", "encode", "decode", "format_map", "Path", "import_module",
                    "compile", "environ", "getenv", "warn", "filterwarnings", "register_buffer"}


@dataclass(frozen=True)
class Message:
    msgid: str
    where: str  # path:line, for the translator


def template_of(node: ast.expr) -> str | None:
    """The msgid of a string constant or an f-string, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        # Kept as written: a plain string with braces is a template filled
        # with .format() later (HINT_GATE.format(gate=...)), and a literal
        # brace matches its placeholder anyway.
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts: list[str] = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value).replace("{", "{{").replace("}", "}}"))
            elif isinstance(value, ast.FormattedValue):
                text = ast.unparse(value.value)
                if value.conversion != -1:
                    text += "!" + chr(value.conversion)
                if value.format_spec is not None:
                    spec = "".join(str(v.value) if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
                                   for v in value.format_spec.values)  # type: ignore[attr-defined]
                    text += ":" + spec
                parts.append("{" + text + "}")
        return "".join(parts)
    return None


def reads_as_words(msgid: str) -> bool:
    from autograder.i18n import split_placeholders
    literal = "".join(text for is_placeholder, text in split_placeholders(msgid) if not is_placeholder)
    letters = sum(char.isalpha() for char in literal)
    return letters >= 3 and " " in literal.strip()


def _docstring_nodes(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _skipped_nodes(tree: ast.AST) -> set[int]:
    """Strings that are names, keys or ids, not words."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) in _NOT_WORDS_CALLS:
            for child in [*node.args, *(kw.value for kw in node.keywords if kw.arg != "title")]:
                skipped.update(id(n) for n in ast.walk(child))
        elif isinstance(node, ast.Call) and _call_name(node) == "test":
            for child in node.args:
                skipped.update(id(n) for n in ast.walk(child))
        elif isinstance(node, ast.Subscript):
            skipped.update(id(n) for n in ast.walk(node.slice))
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                if key is not None:
                    skipped.update(id(n) for n in ast.walk(key))
        elif isinstance(node, ast.Compare):
            for child in [node.left, *node.comparators]:
                skipped.update(id(n) for n in ast.walk(child))
        elif isinstance(node, ast.JoinedStr):
            # the parts of an f-string are the f-string's, not messages of their own
            for value in node.values:
                skipped.update(id(n) for n in ast.walk(value))
            skipped.discard(id(node))
    return skipped


def messages_in(path: Path, root: Path) -> list[Message]:
    """The learner-facing messages of one Python file, in source order."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    where = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
    docstrings = _docstring_nodes(tree)
    skipped = _skipped_nodes(tree)
    marked = {id(node.args[0]) for node in ast.walk(tree)  # _("...") marks a message, words or not
              if isinstance(node, ast.Call) and _call_name(node) == "_" and node.args}
    found: list[Message] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                "check" in ast.unparse(d) for d in node.decorator_list):
            doc = ast.get_docstring(node)
            if doc:
                found.append(Message(doc.strip().splitlines()[0].rstrip("."), f"{where}:{node.lineno}"))
        if id(node) in docstrings or (id(node) in skipped and id(node) not in marked):
            continue
        msgid = template_of(node) if isinstance(node, (ast.Constant, ast.JoinedStr)) else None
        if msgid and (reads_as_words(msgid) or id(node) in marked):
            found.append(Message(msgid, f"{where}:{node.lineno}"))
    found.sort(key=lambda m: (m.where.split(":")[0], int(m.where.split(":")[1])))
    return found


def unique(messages: list[Message], exclude: set[str] = frozenset()) -> list[Message]:
    seen = set(exclude)
    out = []
    for message in messages:
        if message.msgid not in seen:
            seen.add(message.msgid)
            out.append(message)
    return out


# --------------------------------------------------------------------------
# The catalogues, and what each one must hold.


def catalogue_sources(course_root: Path, lang: str) -> dict[Path, list[Message]]:
    """Each catalogue file of `lang` -> the messages it must translate: the
    engine's, each assignment's public checks', each assignment's hidden
    checks' (beside them in solutions/, minus what the public one holds)."""
    out: dict[Path, list[Message]] = {}
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    engine = [m for name in ENGINE_MODULES for m in messages_in(PACKAGE / name, PACKAGE.parent)]
    out[folder / "dlworkbook.po"] = unique(engine)
    engine_ids = {m.msgid for m in out[folder / "dlworkbook.po"]}
    for package in sorted(p for p in (PACKAGE / "checks").iterdir() if (p / "__init__.py").is_file()):
        public = unique([m for f in sorted(package.glob("*.py")) for m in messages_in(f, PACKAGE.parent)], engine_ids)
        out[folder / f"{package.name}.po"] = public
        hidden = Path(course_root) / "solutions" / package.name / "hidden_checks.py"
        if hidden.is_file():
            known = engine_ids | {m.msgid for m in public}
            out[hidden.with_name(f"hidden_checks.{lang}.po")] = unique(messages_in(hidden, Path(course_root)), known)
    return out


def _po_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    lines = escaped.split("\n")
    if len(lines) == 1:
        return f'"{escaped}"'
    parts = [line + "\\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    return '""\n' + "\n".join(f'"{part}"' for part in parts)


def write_catalogue(path: Path, messages: list[Message], lang: str, title: str) -> tuple[int, int]:
    """Write `path` with an entry per message, keeping the translations it
    already holds (and its header comment); returns (entries, untranslated)."""
    from autograder.i18n import read_po_entries
    old = {msgid: (msgstr, fuzzy) for msgid, msgstr, fuzzy in read_po_entries(path)} if path.is_file() else {}
    # An entry written when plain strings' braces were doubled still serves.
    for msgid, (msgstr, fuzzy) in list(old.items()):
        plain = msgid.replace("{{", "{").replace("}}", "}")
        old.setdefault(plain, (msgstr.replace("{{", "{").replace("}}", "}"), fuzzy))
    header_comment = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            header_comment.append(line)
    if not header_comment:
        header_comment = [f"# {title}: messages of dlworkbook in {lang}.",
                          "# Generated entries by scripts/update_translations.py; translations are kept.",
                          "# Placeholders {...} are the English message's own: keep each one, in any order."]
    lines = header_comment + ['msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"',
                              f'"Language: {lang}\\n"', ""]
    untranslated = 0
    for message in messages:
        msgstr, fuzzy = old.get(message.msgid, ("", False))
        untranslated += not msgstr
        lines.append(f"#: {message.where}")
        if fuzzy:
            lines.append("#, fuzzy")
        lines.append(f"msgid {_po_string(message.msgid)}")
        lines.append(f"msgstr {_po_string(msgstr)}")
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return len(messages), untranslated
