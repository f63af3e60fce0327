"""nbgrader glue, end to end on a throwaway two-exercise course: release,
class autograding and feedback through the real nbgrader 0.9.6 CLI, with the
repository's own nbgrader_config.py.

The course is built once per module (nbgrader startup costs ~5 s a call on
this machine), so the tests share one release, one grading run and one
feedback run. Grading skips grade_class's gradebook sync: the determinism
test runs the very same side release with the gradebook (sync_gradebook).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from autograder import nbgrader_support as support

REPO = Path(__file__).resolve().parents[1]
AID = "toy"
SECRET = "ZEBRA_7f3a"  # appears only inside the hidden-test block
HIDDEN_CHECKS_TOKEN = "HIDDEN_CHECKS_ONLY_5c1e"

ANSWERS_GOOD = {
    "add": "def add(a, b):\n    return a + b\n",
    "mul": "def mul(a, b):\n    return a * b\n",
}
# Passes add's visible test, fails its hidden one; mul is right.
ANSWERS_BAD = {
    "add": "def add(a, b):\n    return abs(a) + abs(b)\n",
    "mul": "def mul(a, b):\n    return a * b\n",
}


# --------------------------------------------------------------------------
# The toy course
# --------------------------------------------------------------------------


def _answer(grade_id: str, body: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(body)
    cell.metadata["nbgrader"] = {
        "solution": True, "grade": False, "locked": False,
        "grade_id": grade_id, "schema_version": 3,
    }
    return cell


def _test(grade_id: str, test_id: str, points: float, source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "solution": False, "grade": True, "locked": True,
        "grade_id": grade_id, "points": points, "schema_version": 3,
    }
    cell.metadata["dlworkbook"] = {"test": test_id}
    return cell


def toy_notebook() -> nbformat.NotebookNode:
    setup = nbformat.v4.new_code_cell("import sys")
    setup.metadata["dlworkbook"] = {"role": "setup"}
    cells = [
        nbformat.v4.new_markdown_cell("# Toy assignment"),
        setup,
        _answer("add", "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION\n"),
        _test(
            "test_add", "add", 1,
            "assert add(1, 2) == 3\n"
            "### BEGIN HIDDEN TESTS\n"
            f"assert add(-2, -3) == -5, 'negative numbers'  # {SECRET}\n"
            "### END HIDDEN TESTS\n"
            "print('add ok')",
        ),
        _answer("mul", "def mul(a, b):\n    ### BEGIN SOLUTION\n    return a * b\n    ### END SOLUTION\n"),
        _test("test_mul", "mul", 2, "assert mul(2, 3) == 6"),
        # nbgrader's partial credit: a test cell's displayed number is its score.
        _test("test_mul_partial", "mul/partial", 2, "1.5"),
        # nbgrader's rule: any stderr output scores 0, even if nothing failed.
        _test("test_mul_stderr", "mul/stderr", 1, "print('just a warning', file=sys.stderr)"),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["dlworkbook"] = {"assignment": AID}
    # Fixed cell ids: nbformat draws random ones, and the release keeps them.
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index}"
    return nb


def build_course(root: Path) -> Path:
    """solutions/toy/{toy.ipynb, hidden_checks.py} plus the repo's config."""
    source = root / "solutions" / AID
    source.mkdir(parents=True)
    nbformat.write(toy_notebook(), source / f"{AID}.ipynb")
    (source / "hidden_checks.py").write_text(f"TOKEN = {HIDDEN_CHECKS_TOKEN!r}\n")
    (source / "data.txt").write_text("shipped with the release\n")
    shutil.copyfile(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


def student_notebook(release_path: Path, answers: dict[str, str], tamper: bool = False) -> nbformat.NotebookNode:
    """The released notebook with answer cells filled in (found by grade_id);
    tamper also blanks the test cells, as a student might."""
    nb = nbformat.read(release_path, as_version=4)
    for cell in nb.cells:
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("solution") and grading.get("grade_id") in answers:
            cell.source = answers[grading["grade_id"]]
        elif tamper and grading.get("grade") and not grading.get("solution"):
            cell.source = "pass"
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = build_course(tmp_path_factory.mktemp("course"))
    support.release([AID], root)
    return root


@pytest.fixture(scope="module")
def graded(course: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, float]]:
    drafts = tmp_path_factory.mktemp("drafts")
    released = course / "assignments" / AID / f"{AID}.ipynb"
    # A submission left over from earlier: autograde must leave it alone.
    support.submit(course, AID, "stale", released)
    submissions = {}
    for student, answers, tamper in [("good", ANSWERS_GOOD, False), ("bad", ANSWERS_BAD, True)]:
        path = drafts / f"{student}.ipynb"
        nbformat.write(student_notebook(released, answers, tamper), path)
        submissions[student] = path
    return support.grade_class(course, AID, submissions, sync=False)


@pytest.fixture(scope="module")
def feedback(course: Path, graded: dict) -> dict[str, str]:
    pages = support.generate_feedback(course, AID)
    return {page.parts[-3]: page.read_text(encoding="utf-8") for page in pages}


# --------------------------------------------------------------------------
# Pure pieces (no nbgrader run)
# --------------------------------------------------------------------------


def test_config_matches_support_module() -> None:
    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    assert config.CourseDirectory.course_id == support.COURSE_ID
    assert config.CourseDirectory.source_directory == "solutions"
    assert config.CourseDirectory.release_directory == "assignments"
    assert "hidden_checks.py" in config.CourseDirectory.ignore
    assert "autograder.nbgrader_support.StripHiddenTests" in config.GenerateFeedback.preprocessors


def test_strip_hidden_regions_keeps_visible_lines_and_indent() -> None:
    source = "a = 1\nif True:\n    ### BEGIN HIDDEN TESTS\n    secret()\n    ### END HIDDEN TESTS\nb = 2"
    assert support.strip_hidden_regions(source) == "a = 1\nif True:\n    # hidden tests ran here\nb = 2"
    # An unterminated region hides everything after it.
    assert support.strip_hidden_regions("x\n### BEGIN HIDDEN TESTS\nsecret()") == "x\n# hidden tests ran here"


def test_strip_hidden_tests_preprocessor_on_a_graded_notebook() -> None:
    nb = toy_notebook()
    test_add = nb.cells[3]
    test_add.outputs = [nbformat.v4.new_output(
        "error", ename="AssertionError", evalue="negative numbers",
        traceback=[f"----> 3 assert add(-2, -3) == -5  # {SECRET}", "AssertionError: negative numbers"],
    )]
    nb, _ = support.StripHiddenTests().preprocess(nb, {})
    assert test_add.source == "assert add(1, 2) == 3\n# hidden tests ran here\nprint('add ok')"
    assert test_add.outputs[0].traceback == ["AssertionError: negative numbers"]
    assert "BEGIN SOLUTION" in nb.cells[2].source  # answer cells are not touched


def test_missing_source_cell_ids_get_stable_ids_in_the_release(tmp_path: Path) -> None:
    """nbformat gives a 4.5 cell without an id a random one on every read."""
    source = toy_notebook()
    raw = json.loads(nbformat.writes(source))
    for cell in raw["cells"][1:]:
        del cell["id"]
    (tmp_path / "src.ipynb").write_text(json.dumps(raw))
    for cell in source.cells[1:]:
        cell.id = "random" + cell.id[-1]
    nbformat.write(source, tmp_path / "rel.ipynb")
    assert support.stabilise_cell_ids(tmp_path / "src.ipynb", tmp_path / "rel.ipynb")
    ids = [c.id for c in nbformat.read(tmp_path / "rel.ipynb", as_version=4).cells]
    assert ids == [f"cell-{i}" for i in range(len(ids))]
    assert not support.stabilise_cell_ids(tmp_path / "src.ipynb", tmp_path / "rel.ipynb")


# --------------------------------------------------------------------------
# Release
# --------------------------------------------------------------------------


def test_release_strips_solutions_hidden_tests_and_hidden_checks(course: Path) -> None:
    folder = course / "assignments" / AID
    assert sorted(p.name for p in folder.iterdir()) == ["data.txt", f"{AID}.ipynb"]
    text = (folder / f"{AID}.ipynb").read_text(encoding="utf-8")
    assert SECRET not in text and "HIDDEN TESTS" not in text
    assert "return a + b" not in text and "BEGIN SOLUTION" not in text
    nb = nbformat.read(folder / f"{AID}.ipynb", as_version=4)
    # Our metadata survives generate_assignment, on the notebook and cells.
    assert nb.metadata["dlworkbook"] == {"assignment": AID}
    tests = {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "test" in c.metadata.get("dlworkbook", {})}
    assert tests["test_add"].metadata["dlworkbook"] == {"test": "add"}
    assert tests["test_add"].source == "assert add(1, 2) == 3\nprint('add ok')"
    assert [c.id for c in nb.cells] == [f"cell-{i}" for i in range(len(nb.cells))]


def test_release_is_deterministic(course: Path, tmp_path: Path) -> None:
    """A second generate_assignment (into another folder, refreshing the
    gradebook as sync_gradebook does) writes byte-identical files."""
    support.release([AID], course, release_dir=tmp_path, use_db=True)
    for name in [f"{AID}.ipynb", "data.txt"]:
        assert (tmp_path / AID / name).read_bytes() == (course / "assignments" / AID / name).read_bytes()


# --------------------------------------------------------------------------
# Autograde
# --------------------------------------------------------------------------


def test_autograde_scores_each_test_cell(course: Path, graded: dict[str, dict[str, float]]) -> None:
    assert graded["good"] == {"test_add": 1.0, "test_mul": 2.0, "test_mul_partial": 1.5, "test_mul_stderr": 0.0}
    # The bad student blanked the tests: autograde restores them from the
    # gradebook, and add's hidden test fails.
    assert graded["bad"] == {"test_add": 0.0, "test_mul": 2.0, "test_mul_partial": 1.5, "test_mul_stderr": 0.0}
    assert not (course / "autograded" / "stale").exists()


def test_stderr_output_scores_zero(course: Path, graded: dict) -> None:
    """nbgrader 0.9.6 gives 0 to a test cell with any stderr stream output,
    even when nothing raised (nbgrader.utils.determine_grade)."""
    nb = nbformat.read(course / "autograded" / "good" / AID / f"{AID}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_mul_stderr")
    assert [o.get("name") for o in cell.outputs] == ["stderr"], cell.outputs
    assert not any(o.output_type == "error" for o in cell.outputs)
    assert graded["good"]["test_mul_stderr"] == 0.0


def test_autograded_notebook_keeps_metadata_and_hidden_checks_stay_out(course: Path, graded: dict) -> None:
    folder = course / "autograded" / "bad" / AID
    assert not (folder / "hidden_checks.py").exists()
    nb = nbformat.read(folder / f"{AID}.ipynb", as_version=4)
    assert nb.metadata["dlworkbook"] == {"assignment": AID}
    test_add = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_add")
    assert test_add.metadata["dlworkbook"] == {"test": "add"}
    assert SECRET in test_add.source  # restored from the gradebook, hidden part included
    # The traceback quotes the failing hidden line: what feedback must not show.
    assert test_add.outputs[-1].output_type == "error"
    assert SECRET in "".join(test_add.outputs[-1].traceback)


def test_scores_read_back_from_gradebook(course: Path, graded: dict) -> None:
    assert support.class_scores_by_test(course, AID) == graded


# --------------------------------------------------------------------------
# Feedback
# --------------------------------------------------------------------------


def test_feedback_hides_hidden_tests_and_their_tracebacks(course: Path, feedback: dict[str, str]) -> None:
    assert sorted(feedback) == ["bad", "good"]
    for html in feedback.values():
        assert SECRET not in html and "HIDDEN TESTS" not in html
        assert "hidden tests ran here" in html
        assert HIDDEN_CHECKS_TOKEN not in html
    # The failing hidden assertion is reported only by name and message.
    assert "AssertionError: negative numbers" in feedback["bad"]
    assert "most recent call last" not in feedback["bad"]
    assert not (course / "feedback" / "bad" / AID / "hidden_checks.py").exists()


def test_autograde_skips_demo_and_scratch_cells_only() -> None:
    """SkipUngradedCells runs what `python -m autograder grade` runs:
    setup, answer and test cells, and nothing else."""
    notebook = toy_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell("train_for_ten_minutes()"))
    processed, _ = support.SkipUngradedCells().preprocess(notebook, {})
    skipped = [c.source for c in processed.cells
               if c.cell_type == "code" and support.SKIP_TAG in c.metadata.get("tags", [])]
    assert skipped == ["train_for_ten_minutes()"]
