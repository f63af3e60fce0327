"""Is the main job's sample class (course data) exactly what the catalogue
generates, so the demo never grades bugs the catalogue no longer has?"""
from __future__ import annotations

import ast
import importlib.util

import pytest

from tests.submissions import ROOT

_spec = importlib.util.spec_from_file_location("make_sample_class", ROOT / "scripts" / "make_sample_class.py")
make_sample_class = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_sample_class)  # type: ignore[union-attr]


@pytest.mark.parametrize("assignment", make_sample_class.catalogued())
def test_sample_class_matches_the_catalogue(assignment: str) -> None:
    path = ROOT / "datasets" / "sample_class" / f"{assignment}.json"
    assert path.is_file(), f"missing {path}: run `python scripts/make_sample_class.py`"
    assert path.read_text(encoding="utf-8") == make_sample_class.render(assignment), (
        f"{path} drifted from tests/catalogue/{assignment}.py: run `python scripts/make_sample_class.py`")


def test_the_package_never_imports_tests() -> None:
    """No module of autograder/ imports tests/, by statement or by name."""
    offenders = []
    for path in (ROOT / "autograder").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names = [node.value] if node.value.startswith("tests.") else []
            offenders += [f"{path.relative_to(ROOT)}: {name}" for name in names if name == "tests" or name.startswith("tests.")]
    assert not offenders, offenders
