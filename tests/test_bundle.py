"""Does the learner bundle hold what a learner needs (the releases, the
data, the public package, the one command to start) and nothing an
instructor keeps (solutions, hidden checks, the course secret, tests)? And
does a notebook's self-check run from the unzipped bundle alone?"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import bundle
from autograder.course import known_assignments
from autograder.submissions import fill_answers, reference_answers
from tests.submissions import ROOT


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "dlworkbook-learner.zip"
    completed = subprocess.run([sys.executable, "-m", "autograder", "bundle", str(out)],
                               capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr
    assert "wrote" in completed.stdout
    return out


def _names(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
    assert all(name.startswith("dlworkbook/") for name in names)
    return [name[len("dlworkbook/"):] for name in names]


def test_the_bundle_holds_what_a_learner_needs(archive: Path) -> None:
    names = set(_names(archive))
    for assignment in known_assignments():
        assert f"assignments/{assignment}/{assignment}.ipynb" in names
        assert f"autograder/checks/{assignment}/__init__.py" in names
        # the Chinese release and the public checks' catalogue; the hidden checks' one stays with the course
        assert f"assignments/zh_CN/{assignment}/{assignment}.ipynb" in names
        assert f"autograder/locale/zh_CN/LC_MESSAGES/{assignment}.po" in names
    assert not [n for n in names if n.endswith((".zh_CN.md", "hidden_checks.zh_CN.po"))]
    for needed in ("README.md", "requirements.txt", "pyproject.toml", "scripts/learn.sh", "autograder/selfcheck.py",
                   "autograder/pytest_plugin.py", "autograder/graph.py", "datasets/digits/digits.csv.gz",
                   "datasets/digits/README.md"):
        assert needed in names, needed
    with zipfile.ZipFile(archive) as zipped:
        requirements = zipped.read("dlworkbook/requirements.txt").decode()
        readme = zipped.read("dlworkbook/README.md").decode()
        learn = zipped.getinfo("dlworkbook/scripts/learn.sh")
    assert "torch==" in requirements and "pytest==" in requirements and "jupyter==" in requirements
    assert "nbgrader" not in requirements and "hypothesis" not in requirements
    assert "bash scripts/learn.sh" in readme and "pytest assignments/" in readme
    assert (learn.external_attr >> 16) & 0o111, "learn.sh is not executable"


def test_the_bundle_holds_nothing_an_instructor_keeps(archive: Path) -> None:
    names = _names(archive)
    for name in names:
        parts = name.split("/")
        assert parts[0] in {"assignments", "datasets", "autograder", "scripts", "README.md", "requirements.txt",
                            "pyproject.toml"}, name
        assert not {"solutions", "tests", "sample_class", "__pycache__", ".ipynb_checkpoints"} & set(parts), name
        assert parts[-1] not in {"hidden_checks.py", ".grading_secret", "gradebook.db", "nbgrader_config.py"}, name
        assert not name.endswith(".pyc"), name
    assert [n for n in names if n.startswith("scripts/")] == ["scripts/learn.sh"]
    with zipfile.ZipFile(archive) as zipped:
        for name in zipped.namelist():
            if name.endswith((".ipynb", ".py", ".md", ".txt", ".sh", ".toml")):
                text = zipped.read(name).decode("utf-8")
                for marker in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS", "hidden_checks"):
                    if marker in text and not name.startswith("dlworkbook/autograder/"):
                        pytest.fail(f"{name} holds {marker!r}")
                if name.endswith(".ipynb"):
                    assert "### BEGIN SOLUTION" not in text and "### BEGIN HIDDEN TESTS" not in text, name
    secret = (ROOT / "solutions" / ".grading_secret")
    if secret.is_file():
        token = secret.read_text().strip().encode()
        with zipfile.ZipFile(archive) as zipped:
            assert not any(token in zipped.read(n) for n in zipped.namelist()), "the course secret is in the bundle"


def test_bundle_refuses_instructor_material() -> None:
    found = bundle.problems(["solutions/a3_softmax/hidden_checks.py", "autograder/x.py", "tests/test_x.py"],
                            {"assignments/a/a.ipynb": b'"### BEGIN HIDDEN TESTS"'})
    assert len(found) == 3, found


def test_a_notebook_checks_itself_from_the_unzipped_bundle_alone(archive: Path, tmp_path: Path) -> None:
    """No solutions/ folder, the bundle's own package: `pytest` on a notebook
    with right answers passes."""
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(tmp_path)
    root = tmp_path / "dlworkbook"
    assert not (root / "solutions").exists()
    release = root / "assignments" / "a3_softmax" / "a3_softmax.ipynb"
    fill_answers(release, reference_answers("a3_softmax"), release)
    json.loads(release.read_text())  # still a notebook
    env = {key: value for key, value in os.environ.items() if not key.startswith("DLWORKBOOK_")}
    env.update(PYTHONPATH=str(root), OMP_NUM_THREADS="1")
    where = subprocess.run([sys.executable, "-c", "import autograder; print(autograder.__file__)"],
                           capture_output=True, text=True, cwd=root, env=env, timeout=60)
    assert where.stdout.strip().startswith(str(root)), where.stdout + where.stderr
    completed = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                "assignments/a3_softmax/a3_softmax.ipynb"],
                               capture_output=True, text=True, cwd=root, env=env, timeout=300)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    assert "6 passed" in completed.stdout, completed.stdout[-2000:]
