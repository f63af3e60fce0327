"""Is the committed release exactly what nbgrader generates from the sources,
does it hold only the files its assignment declares, and does it leak nothing?"""
from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath

import pytest

from autograder import lesson_i18n, nbgrader_support
from autograder.notebook import META_KEY, read_notebook
from tests.conftest import ASSIGNMENTS
from tests.submissions import ROOT

LEAKS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def declared_files(assignment: str) -> set[str]:
    """What a release holds: the notebook, plus the files its source notebook
    lists in `metadata.dlworkbook.files` (paths relative to its folder;
    absent means none). Anything else in a release is a stray (a file a
    check or a demo left behind) and would be sent to every learner."""
    meta = read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb").get("metadata", {}).get(META_KEY, {})
    files = meta.get("files", [])
    assert isinstance(files, list) and all(isinstance(name, str) for name in files), (
        f"solutions/{assignment}: metadata.{META_KEY}.files must be a list of relative paths, got {files!r}")
    for name in files:
        path = PurePosixPath(name)
        assert name and not path.is_absolute() and ".." not in path.parts, f"{assignment}: declared file {name!r}"
    return {f"{assignment}.ipynb", *files}


def files_under(folder: Path) -> set[str]:
    """Every file below `folder`, as a relative POSIX path. In a git checkout:
    what a commit of the working tree would hold (tracked or untracked, not
    ignored, present on disk), so an editor's .ipynb_checkpoints does not count."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=folder, capture_output=True, check=True,
        ).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}
    return {name for name in listed if name and (folder / name).is_file()}


def _generated_files(release_dir: Path) -> set[str]:
    return {path.relative_to(release_dir).as_posix() for path in release_dir.rglob("*") if path.is_file()}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_holds_only_declared_files(assignment: str) -> None:
    """The committed release holds the notebook and the declared files, nothing more and nothing less."""
    expected = declared_files(assignment)
    committed = files_under(ROOT / "assignments" / assignment)
    assert committed == expected, (
        f"assignments/{assignment}: undeclared {sorted(committed - expected)}, missing {sorted(expected - committed)} "
        f"(declare a file the learners need in the source notebook's metadata.{META_KEY}.files)")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_matches_what_nbgrader_generates(assignment: str, tmp_path: Path) -> None:
    nbgrader_support.release(assignment, ROOT, release_dir=tmp_path)
    generated = tmp_path / assignment
    generated_files = _generated_files(generated)
    expected = declared_files(assignment)
    assert generated_files == expected, (
        f"solutions/{assignment} would release undeclared {sorted(generated_files - expected)}, missing "
        f"{sorted(expected - generated_files)}: remove stray files from solutions/{assignment}/ or declare them")
    committed = ROOT / "assignments" / assignment
    assert files_under(committed) == generated_files, (
        f"assignments/{assignment} drifted from solutions/: run `python -m autograder release {assignment}`")
    for name in generated_files:
        assert (generated / name).read_bytes() == (committed / name).read_bytes(), (
            f"assignments/{assignment}/{name} drifted from solutions/: run `python -m autograder release {assignment}`")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_leaks_no_solution_and_no_hidden_check(assignment: str) -> None:
    folder = ROOT / "assignments" / assignment
    assert not (folder / "hidden_checks.py").exists()
    text = (folder / f"{assignment}.ipynb").read_text()
    for marker in LEAKS:
        assert marker not in text
    assert '"assignment": "' + assignment + '"' in text  # the metadata the grader identifies it by


@pytest.mark.parametrize("lang", lesson_i18n.LANGUAGES)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_translated_release_matches_what_release_generates(assignment: str, lang: str, tmp_path: Path) -> None:
    """assignments/<lang>/<id>/ is the English release with the lesson's
    translation applied: only the notebook, no drift, no leak, the same code
    cells, the same grade ids, and its language in its metadata."""
    nbgrader_support.release(assignment, ROOT, release_dir=tmp_path)
    generated, committed = tmp_path / lang / assignment, ROOT / "assignments" / lang / assignment
    assert _generated_files(generated) == {f"{assignment}.ipynb"}
    assert files_under(committed) == {f"{assignment}.ipynb"}, f"assignments/{lang}/{assignment} holds strays"
    name = f"{assignment}.ipynb"
    assert (generated / name).read_bytes() == (committed / name).read_bytes(), (
        f"assignments/{lang}/{assignment}/{name} drifted: run `python -m autograder release {assignment}`")
    text = (committed / name).read_text(encoding="utf-8")
    for marker in LEAKS:
        assert marker not in text
    english, translated = read_notebook(tmp_path / assignment / name), read_notebook(committed / name)
    assert [c["cell_type"] for c in english["cells"]] == [c["cell_type"] for c in translated["cells"]]
    assert [c["source"] for c in english["cells"] if c["cell_type"] == "code"] == [
        c["source"] for c in translated["cells"] if c["cell_type"] == "code"]
    assert [c.get("metadata") for c in english["cells"]] == [c.get("metadata") for c in translated["cells"]]
    assert translated["metadata"][META_KEY] == {**english["metadata"][META_KEY], "language": lang}
