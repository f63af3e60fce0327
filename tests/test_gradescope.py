"""The Gradescope bundle (autograder.gradescope): the zip Gradescope needs,
setup.sh that installs only what grading needs and fails loudly, and
run_autograder simulated under a temporary folder laid out like
Gradescope's /autograder, its results.json checked against Gradescope's
published format (gradescope-autograders.readthedocs.io, "Autograder
Specifications").

The simulation runs run_autograder with this environment's Python instead
of the one setup.sh would install (no pip install here), behind an import
guard that lets the grader and the learner's processes import nothing but
the standard library, the package itself and what requirements-grading.txt
and setup.sh install (torch and its own dependencies, numpy); anything else
fails to import as if absent, so grading that needed it would show here,
not on Gradescope.
"""
from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest

from autograder import gradescope
from tests.catalogue.a3_softmax import VARIANTS
from tests.submissions import ROOT, reference_submission

ASSIGNMENT = "a3_softmax"
EXERCISES = ["accuracy"]
WRONG = next(v for v in VARIANTS if v.name == "acc_count")  # counts correct rows instead of their fraction

VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
# Gradescope's results.json, as its specification lists the fields; what
# this grader always writes is required.
RESULTS_SCHEMA = {
    "type": "object",
    "required": ["score", "execution_time", "output", "tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": FORMAT,
        "test_output_format": FORMAT,
        "test_name_format": FORMAT,
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "score", "max_score", "output", "visibility"],
                "additionalProperties": False,
                "properties": {
                    "score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string"},
                    "name_format": FORMAT,
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "output_format": FORMAT,
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": VISIBILITY,
                    "extra_data": {"type": "object"},
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gradescope.build(ASSIGNMENT, tmp_path_factory.mktemp("zip") / "autograder.zip", EXERCISES)


def test_zip_has_the_scripts_at_its_root_and_only_this_assignment(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        setup = archive.read("setup.sh").decode()
        run = archive.read("run_autograder").decode()
        requirements = archive.read("requirements-grading.txt").decode()
    assert {"setup.sh", "run_autograder", "requirements-grading.txt", "solutions/.grading_secret",
            f"solutions/{ASSIGNMENT}/hidden_checks.py", f"solutions/{ASSIGNMENT}/{ASSIGNMENT}.ipynb",
            f"autograder/checks/{ASSIGNMENT}/__init__.py", "autograder/checks/kit.py"} <= names
    assert modes["setup.sh"] & stat.S_IXUSR and modes["run_autograder"] & stat.S_IXUSR
    others = [name for name in names if re.match(r"(solutions|assignments|autograder/checks)/a\d_", name)
              and f"/{ASSIGNMENT}/" not in name]
    assert not others, others
    assert not any("__pycache__" in name or name.startswith(("tests/", ".git")) for name in names)
    # setup.sh: fails loudly, CPU-only torch from PyTorch's index, nothing of the notebook stack.
    assert setup.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in setup and "|| true" not in setup
    assert "--index-url https://download.pytorch.org/whl/cpu 'torch==2.14.1+cpu'" in setup
    assert "torch.version.cuda is None" in setup
    assert "sys.version_info >= (3, 10)" in setup
    assert "chmod -R go-rwx" in setup and f"check --assignment {ASSIGNMENT} --exercise accuracy" in setup
    for unwanted in ("nbgrader", "jupyter", "ipykernel", "notebook", "matplotlib", "tqdm", "pytest"):
        assert unwanted not in requirements, unwanted
    assert 'numpy==2.4.6; python_version >= "3.11"' in requirements
    assert 'numpy==2.2.6; python_version < "3.11"' in requirements
    assert f"--assignment {ASSIGNMENT} --exercise accuracy" in run
    for script in (setup, run):
        completed = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
        assert completed.returncode == 0, completed.stderr


def test_setup_installs_what_each_assignments_setup_cells_import() -> None:
    assert gradescope.grading_packages("a3_softmax") == ["torch", "numpy"]
    assert gradescope.grading_packages("a2_linear_regression") == ["torch", "matplotlib", "numpy", "tqdm"]
    torch_lines, pypi = gradescope.requirement_lines(["torch", "matplotlib", "numpy", "tqdm"], gradescope._pins())
    assert torch_lines == ["torch==2.14.1+cpu"]
    assert 'matplotlib==3.10.9; python_version < "3.11"' in pypi and "tqdm==4.70.1" in pypi


def test_the_package_parses_on_the_stock_images_python() -> None:
    """Gradescope's stock image has Python 3.10: nothing newer in the grader's syntax."""
    for path in [*(ROOT / "autograder").rglob("*.py"), *(ROOT / "solutions").glob("*/hidden_checks.py")]:
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 10))


# --------------------------------------------------------------------------
# Running it as Gradescope would
# --------------------------------------------------------------------------


def _allowed_modules() -> set[str]:
    """Top-level modules of what setup.sh installs, with their dependencies."""
    by_module = importlib.metadata.packages_distributions()
    modules_of: dict[str, set[str]] = {}
    for module, distributions in by_module.items():
        for distribution in distributions:
            modules_of.setdefault(distribution.lower().replace("_", "-"), set()).add(module)
    wanted, seen = list(gradescope.grading_packages(ASSIGNMENT)), set()
    while wanted:
        name = wanted.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = importlib.metadata.distribution(name).requires or []
        except importlib.metadata.PackageNotFoundError:
            continue
        wanted += [re.split(r"[\s;<>=!~\[(]", line, maxsplit=1)[0] for line in requires if "extra ==" not in line]
    return set().union(*(modules_of.get(name, set()) for name in seen)) | {"autograder"}


GUARD = '''
import sys
ALLOWED = set(%r) | set(sys.stdlib_module_names) | {"_distutils_hack", "__editable___dlworkbook_0_1_0_finder"}

class _NotInstalled:
    """What a minimal install lacks: importing it fails as if absent."""
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] not in ALLOWED and not name.startswith("_"):
            with open(%r, "a") as log:
                log.write(name.split(".")[0] + "\\n")
            raise ModuleNotFoundError(f"No module named {name!r} (not installed by setup.sh)", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
'''


@pytest.fixture(scope="module")
def gradescope_root(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """/autograder, with the zip in source/; a Python behind the import guard."""
    base = tmp_path_factory.mktemp("gs")
    root = base / "autograder"
    gradescope.unpack(bundle, root / "source")
    guard = base / "guard"
    guard.mkdir()
    refused = base / "refused.txt"
    (guard / "sitecustomize.py").write_text(GUARD % (sorted(_allowed_modules()), str(refused)))
    python = base / "python"
    python.write_text(f'#!/bin/sh\nexport PYTHONPATH="{guard}:$PYTHONPATH"\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return root, python, refused


def _run_autograder(root: Path, python: Path, files: dict[str, Path | str]) -> dict:
    """A fresh submission and results folder, then run_autograder; returns
    results.json after checking it against Gradescope's format."""
    for folder in ("submission", "results"):
        shutil.rmtree(root / folder, ignore_errors=True)
        (root / folder).mkdir()
    for name, content in files.items():
        target = root / "submission" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_text(content)
    environment = {**os.environ, gradescope.ROOT_ENV: str(root), gradescope.PYTHON_ENV: str(python)}
    environment.pop("DLWORKBOOK_COURSE", None)
    completed = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, env=environment,
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, RESULTS_SCHEMA)
    return results


@pytest.mark.slow
def test_gradescope_grades_a_correct_and_a_broken_submission(gradescope_root: tuple[Path, Path, Path],
                                                             tmp_path: Path) -> None:
    root, python, refused = gradescope_root
    correct = _run_autograder(root, python, {"my notebook.ipynb": reference_submission(ASSIGNMENT, tmp_path / "a.ipynb")})
    assert correct["score"] == 3 and [t["score"] for t in correct["tests"]] == [1, 2], correct
    assert [t["visibility"] for t in correct["tests"]] == ["visible", "after_published"]
    assert correct["execution_time"] > 0
    confinement = correct["extra_data"]["confinement"]
    assert confinement[0] in ("full", "uid-only", "none") and f"confinement: {confinement[0]} (" in correct["output"]
    broken = _run_autograder(root, python, {"hw.ipynb": reference_submission(
        ASSIGNMENT, tmp_path / "b.ipynb", accuracy=WRONG.source)})
    assert broken["score"] == 0 and WRONG.bug in broken["tests"][0]["output"]
    assert broken["extra_data"]["seed"] != correct["extra_data"]["seed"]
    # Both graded right with every module setup.sh does not install missing (the guard was
    # on: torch's optional imports, e.g. torch.hub's tqdm, met it and fell back).
    blocked = set(refused.read_text().split())
    assert blocked and not blocked & _allowed_modules(), blocked


@pytest.mark.slow
def test_gradescope_gives_zero_and_the_reason_for_what_it_cannot_grade(
        gradescope_root: tuple[Path, Path, Path], tmp_path: Path) -> None:
    root, python, _ = gradescope_root
    other = _run_autograder(root, python, {"a3_softmax.ipynb": reference_submission("a4_mlp", tmp_path / "a4.ipynb")})
    assert other["score"] == 0 and other["extra_data"]["status"] == "wrong_assignment"
    assert "a notebook of assignment a4_mlp, not of a3_softmax" in other["output"]
    assert [t["max_score"] for t in other["tests"]] == [1, 2]  # the a3 slot's tests, at 0: never a4's 26 points
    unreadable = _run_autograder(root, python, {"a3_softmax.ipynb": '{"cells": ['})
    assert unreadable["score"] == 0
    assert unreadable["output"] == ("This notebook could not be graded: a3_softmax.ipynb: not a notebook "
                                    "(invalid JSON at line 1)")
    assert str(root) not in json.dumps(unreadable["tests"])
    two = _run_autograder(root, python, {"a.ipynb": "{}", "sub/b.ipynb": "{}", ".ipynb_checkpoints/a-checkpoint.ipynb": "{}"})
    assert two["score"] == 0 and "submit exactly one .ipynb file" in two["output"] and "found 2" in two["output"]
