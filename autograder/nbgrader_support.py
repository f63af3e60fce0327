"""Glue between dlworkbook and nbgrader 0.9.6: release, class grading and
feedback through nbgrader's own command-line apps.

The repository root is the nbgrader course root (`nbgrader_config.py` sits
there): instructor notebooks live in `solutions/<id>/<id>.ipynb`, student
releases in `assignments/<id>/<id>.ipynb`, and nbgrader's own folders
(`submitted/`, `autograded/`, `feedback/`) and `gradebook.db` appear beside
them when a class is graded (all git-ignored).

Every nbgrader step runs as a child process (`python -m nbgrader ...`) in the
course root, so it reads the course's `nbgrader_config.py` exactly as an
instructor's shell would, keeps its chdir/logging/event-loop state out of the
caller, and its kernels inherit an environment with one BLAS/OpenMP thread.

`StripHiddenTests` is a preprocessor that `nbgrader_config.py` registers for
`GenerateFeedback`: nbgrader's feedback HTML otherwise shows the hidden tests'
source and the tracebacks through them (jupyter/nbgrader#917).
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from nbconvert.exporters.exporter import ResourcesDict
from nbconvert.preprocessors import Preprocessor
from nbformat.notebooknode import NotebookNode
from traitlets import Bool, Unicode

from autograder import lesson_i18n
from autograder.notebook import is_grade_cell, is_run_when_grading

if TYPE_CHECKING:  # importing nbgrader takes ~2 s more: only where used
    from nbgrader.api import Gradebook

COURSE_ID = "dlworkbook"
CONFIG_FILE = "nbgrader_config.py"
DB_FILE = "gradebook.db"
SUBMITTED_DIR = "submitted"
HIDDEN_PLACEHOLDER = "# hidden tests ran here"
BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
END_HIDDEN = "END HIDDEN TESTS"
# Threads for the kernels nbgrader starts: torch on a busy 2-core machine is
# ~100x slower with one OpenMP thread per core fighting over them.
KERNEL_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# How much of nbgrader's log an error message quotes.
LOG_TAIL_CHARS = 6000


class NbgraderError(RuntimeError):
    """An nbgrader step failed; the message ends with the tail of its log,
    `log` holds all of it."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


# --------------------------------------------------------------------------
# Running nbgrader
# --------------------------------------------------------------------------


def db_url(course_root: Path) -> str:
    """The gradebook's URL: nbgrader's default, `<course root>/gradebook.db`
    (git-ignored), spelled out so Python code and the CLI open the same file."""
    return f"sqlite:///{Path(course_root).resolve() / DB_FILE}"


def _with_scripts_on_path(env: dict[str, str]) -> dict[str, str]:
    """Put this interpreter's scripts folder first on PATH: creating a
    gradebook runs the `alembic` command by name (nbgrader.api
    get_alembic_version), which a venv that is not activated lacks."""
    scripts = str(Path(sys.executable).parent)
    paths = [p for p in env.get("PATH", "").split(os.pathsep) if p]
    if scripts not in paths:
        env["PATH"] = os.pathsep.join([scripts, *paths])
    return env


def nbgrader_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for an nbgrader child process and the kernels it starts.

    One OpenMP/MKL thread (see KERNEL_ENV), this interpreter's scripts on
    PATH (see _with_scripts_on_path), and this package's parent folder on
    PYTHONPATH so `nbgrader_config.py` can name
    `autograder.nbgrader_support.StripHiddenTests` from any course root (the
    repository's own root is on nbgrader's path anyway: it adds the cwd).
    """
    env = _with_scripts_on_path(dict(os.environ if base is None else base))
    env.update(KERNEL_ENV)
    package_parent = str(Path(__file__).resolve().parents[1])
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if package_parent not in paths:
        env["PYTHONPATH"] = os.pathsep.join([package_parent, *paths])
    return env


@contextmanager
def open_gradebook(course_root: Path) -> Iterator[Gradebook]:
    """The course's gradebook, opened in this process (created if missing,
    which needs `alembic` on PATH for the duration)."""
    from nbgrader.api import Gradebook

    saved = os.environ.get("PATH")
    os.environ["PATH"] = _with_scripts_on_path({"PATH": saved or ""})["PATH"]
    try:
        gradebook = Gradebook(db_url(course_root), COURSE_ID)
    finally:
        if saved is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = saved
    with gradebook:
        yield gradebook


def run_nbgrader(args: list[str], course_root: Path, timeout: float | None = None) -> str:
    """Run `nbgrader <args>` in the course root; return its log or raise
    NbgraderError with the log's tail if it exits non-zero.

    The course root must hold `nbgrader_config.py`: without it nbgrader
    silently falls back to `source/` and `release/` folders.
    """
    course_root = Path(course_root).resolve()
    if not (course_root / CONFIG_FILE).is_file():
        raise NbgraderError(f"{course_root} has no {CONFIG_FILE}; it is not a dlworkbook course root")
    command = [sys.executable, "-m", "nbgrader", *args]
    done = subprocess.run(
        command,
        cwd=course_root,
        env=nbgrader_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise NbgraderError(
            f"`nbgrader {' '.join(args)}` failed (exit {done.returncode}) in {course_root}:\n"
            + done.stdout[-LOG_TAIL_CHARS:],
            done.stdout,
        )
    return done.stdout


# --------------------------------------------------------------------------
# Release
# --------------------------------------------------------------------------


def release(
    assignment_ids: Iterable[str] | str,
    course_root: Path,
    release_dir: Path | None = None,
    *,
    use_db: bool | None = None,
) -> None:
    """Generate the student release of each assignment with nbgrader's
    `generate_assignment --force` (solutions and hidden tests removed,
    outputs cleared, hidden_checks.py left out by the config's ignore list),
    then its translations: `<release_dir>/<lang>/<id>/<id>.ipynb` (see
    autograder.lesson_i18n).

    release_dir: write `<release_dir>/<id>/` instead of the course's
    `assignments/<id>/` (a drift check regenerates into a temporary folder
    and compares with the committed release).
    use_db: record the assignment's cells in the gradebook, which autograde
    needs to restore tests a student edited. Default: only for the course's
    own release folder, so a side build never touches the gradebook. The
    notebooks written are byte-identical either way.

    nbgrader itself writes no timestamp into a release and its checksums
    are MD5s of cell sources, but a source notebook (nbformat 4.5) whose
    cells lack ids gets random ones from nbformat on every run; see
    stabilise_cell_ids.
    """
    ids = [assignment_ids] if isinstance(assignment_ids, str) else list(assignment_ids)
    if use_db is None:
        use_db = release_dir is None
    out_root = Path(release_dir).resolve() if release_dir is not None else Path(course_root) / "assignments"
    for assignment_id in ids:
        args = ["generate_assignment", assignment_id, "--force"]
        if release_dir is not None:
            args.append(f"--CourseDirectory.release_directory={out_root}")
        if not use_db:
            args.append("--no-db")
        run_nbgrader(args, course_root)
        source_dir = Path(course_root) / "solutions" / assignment_id
        for released in sorted((out_root / assignment_id).glob("*.ipynb")):
            stabilise_cell_ids(source_dir / released.name, released)
            # The same release in each language the lesson is translated into.
            lesson_i18n.write_translated_releases(released, source_dir / released.name, out_root)


def stabilise_cell_ids(source: Path, released: Path) -> bool:
    """Give released cells whose id is not one of the source's ids (nbformat
    invents a random id for each cell a 4.5 source leaves without one) the
    id `cell-<index>`. Rewrites the file in nbformat's own layout (sorted
    keys, one-space indent, final newline: what nbgrader writes) and returns
    True only when something changed; a source with ids is left alone."""
    source_ids = {cell.get("id") for cell in json.loads(source.read_text(encoding="utf-8"))["cells"]}
    notebook = json.loads(released.read_text(encoding="utf-8"))
    taken = {cell["id"] for cell in notebook["cells"] if cell.get("id") in source_ids}
    changed = False
    for index, cell in enumerate(notebook["cells"]):
        if "id" not in cell or cell["id"] in source_ids:
            continue
        new_id, suffix = f"cell-{index}", 0
        while new_id in taken:
            suffix += 1
            new_id = f"cell-{index}-{suffix}"
        taken.add(new_id)
        if cell["id"] != new_id:
            cell["id"] = new_id
            changed = True
    if changed:
        text = json.dumps(notebook, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
        mode = released.stat().st_mode
        released.chmod(mode | 0o200)
        released.write_text(text, encoding="utf-8")
        released.chmod(mode)
    return changed


def sync_gradebook(course_root: Path, assignment_id: str) -> None:
    """Record the assignment's current source cells in the gradebook without
    touching `assignments/`: a release with the gradebook into a throwaway
    folder. Autograde replaces every test cell of a submission by the
    gradebook's copy, so that copy must be the source being graded."""
    with tempfile.TemporaryDirectory(prefix="dlworkbook-release-") as scratch:
        release([assignment_id], course_root, release_dir=Path(scratch), use_db=True)


# --------------------------------------------------------------------------
# Feedback without hidden tests
# --------------------------------------------------------------------------


def strip_hidden_regions(
    source: str,
    begin: str = BEGIN_HIDDEN,
    end: str = END_HIDDEN,
    placeholder: str = HIDDEN_PLACEHOLDER,
) -> str:
    """Replace each hidden-test region (marker lines included) with one
    placeholder line, indented like its BEGIN line. Markers are matched as
    nbgrader's ClearHiddenTests does (substring of a line). A region with no
    END runs to the end of the cell: feedback must never show its text."""
    kept: list[str] = []
    inside = False
    for line in source.split("\n"):
        if not inside and begin in line:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            kept.append(indent + placeholder)
        elif inside:
            if end in line:
                inside = False
        else:
            kept.append(line)
    return "\n".join(kept)


def shorten_error(output: NotebookNode) -> NotebookNode:
    """An error output's traceback cut to `ename: evalue`: the frames quote
    the source lines of the (hidden) test that raised."""
    if output.get("output_type") == "error":
        ename, evalue = output.get("ename", "Error"), output.get("evalue", "")
        output["traceback"] = [f"{ename}: {evalue}" if evalue else ename]
    return output


class StripHiddenTests(Preprocessor):
    """Feedback preprocessor: hide what hidden tests are while keeping their
    verdict. In every grade cell the hidden-test regions become
    `# hidden tests ran here`; in every cell, error tracebacks become
    `ename: evalue`. Works around jupyter/nbgrader#917 (the autograded
    notebook, and so nbgrader's feedback HTML, contains the hidden tests).
    Registered for GenerateFeedback in nbgrader_config.py."""

    begin_test_delimeter = Unicode(BEGIN_HIDDEN, help="Marker opening a hidden-test region").tag(config=True)
    end_test_delimeter = Unicode(END_HIDDEN, help="Marker closing a hidden-test region").tag(config=True)
    placeholder = Unicode(HIDDEN_PLACEHOLDER, help="Line shown instead of a hidden-test region").tag(config=True)
    # On by default, like nbgrader's own preprocessors (nbconvert's are off).
    enabled = Bool(True, help="Whether to strip hidden tests from feedback").tag(config=True)

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        if is_grade_cell(cell):
            cell.source = strip_hidden_regions(
                cell.source, self.begin_test_delimeter, self.end_test_delimeter, self.placeholder
            )
        for output in cell.get("outputs", []):
            shorten_error(output)
        return cell, resources


SKIP_TAG = "skip-execution"  # nbclient's NotebookClient.skip_cells_with_tag


class SkipUngradedCells(Preprocessor):
    """Autograde sanitizer: tag every code cell that is not a setup, answer
    or test cell with `skip-execution`, so nbgrader runs exactly the cells
    `python -m autograder grade` runs (demo training loops stay out of the
    grading time, and a learner's scratch cell cannot break the run).
    Registered in nbgrader_config.py after nbgrader's own sanitizers."""

    enabled = Bool(True, help="Whether autograde skips ungraded code cells").tag(config=True)

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        if cell.get("cell_type") == "code" and not is_run_when_grading(cell):
            tags = list(cell.setdefault("metadata", {}).get("tags", []))
            if SKIP_TAG not in tags:
                cell["metadata"]["tags"] = tags + [SKIP_TAG]
        return cell, resources


def generate_feedback(course_root: Path, assignment_id: str, student: str | None = None) -> list[Path]:
    """Run `nbgrader generate_feedback --force` (hidden tests stripped by
    StripHiddenTests) for the class or one student; return the HTML files,
    `feedback/<student>/<id>/<notebook>.html`."""
    args = ["generate_feedback", assignment_id, "--force"]
    if student is not None:
        args.append(f"--student={student}")
    run_nbgrader(args, course_root)
    pattern = f"{student or '*'}/{assignment_id}/*.html"
    return sorted((Path(course_root) / "feedback").glob(pattern))


# --------------------------------------------------------------------------
# Grading a class
# --------------------------------------------------------------------------


def add_students(course_root: Path, students: Iterable[str]) -> None:
    """Make sure the gradebook knows each student (`nbgrader db student add`)."""
    with open_gradebook(course_root) as gradebook:
        for student in students:
            gradebook.update_or_create_student(student)


def submit(course_root: Path, assignment_id: str, student: str, notebook: Path) -> Path:
    """Copy a student's notebook to where autograde looks for it:
    `submitted/<student>/<id>/<id>.ipynb`."""
    target = Path(course_root) / SUBMITTED_DIR / student / assignment_id / f"{assignment_id}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(notebook, target)
    return target


def autograde(
    course_root: Path,
    assignment_id: str,
    students: Iterable[str],
    cell_timeout: int | None = None,
) -> str:
    """Run `nbgrader autograde <id> --force` once for the given students:
    the others under submitted/ are excluded (`student_id` is a single glob,
    `student_id_exclude` a comma list). cell_timeout overrides
    `Execute.timeout` (seconds per cell) from the config. Returns the log."""
    wanted = set(students)
    submitted = Path(course_root) / SUBMITTED_DIR
    others = sorted(p.name for p in submitted.iterdir() if p.is_dir() and p.name not in wanted)
    args = ["autograde", assignment_id, "--force"]
    if others:
        args.append(f"--CourseDirectory.student_id_exclude={','.join(others)}")
    if cell_timeout is not None:
        args.append(f"--Execute.timeout={int(cell_timeout)}")
    return run_nbgrader(args, course_root)


def class_scores_by_test(
    course_root: Path, assignment_id: str, students: Iterable[str] | None = None
) -> dict[str, dict[str, float]]:
    """student -> {grade_id of each autograded test cell: score}, read from
    the gradebook. Test cells are the code grade cells that are not also
    answer (solution) cells; a manual score, if any, wins over the auto score
    (nbgrader's Grade.score). students: default, everyone with a submission."""
    from nbgrader.api import GradeCell, MissingEntry

    scores: dict[str, dict[str, float]] = {}
    with open_gradebook(course_root) as gradebook:
        if students is None:
            students = [s.student.id for s in gradebook.assignment_submissions(assignment_id)]
        for student in students:
            try:
                submission = gradebook.find_submission(assignment_id, student)
            except MissingEntry:
                raise NbgraderError(f"no graded submission of {assignment_id!r} by {student!r}") from None
            by_test: dict[str, float] = {}
            for notebook in submission.notebooks:
                answers = {cell.name for cell in notebook.notebook.solution_cells}
                for grade in notebook.grades:
                    cell = grade.cell
                    if isinstance(cell, GradeCell) and cell.cell_type == "code" and cell.name not in answers:
                        by_test[cell.name] = float(grade.score)
            scores[student] = by_test
    return scores


class ClassScores(dict):  # type: ignore[type-arg] - dict[str, dict[str, float]]
    """student -> {test grade_id: score} for the students nbgrader graded;
    `failed`: student -> why autograde could not grade them (a kernel that
    died, a cell past its time limit): they are not in the dict."""

    def __init__(self, scores: Mapping[str, dict[str, float]] = (), failed: Mapping[str, str] | None = None) -> None:
        super().__init__(scores)
        self.failed: dict[str, str] = dict(failed or {})


_STUDENT_FAILED = re.compile(r"error processing assignment '(?P<assignment>[^']*)' for student '(?P<student>[^']*)'")
_EXCEPTION_LINE = re.compile(r"^\s*(?:[A-Za-z_][\w.]*\.)?(?P<name>[A-Za-z_]\w*(?:Error|Exception|Interrupt))\b(?P<rest>:.*)?$")


def failed_students(course_root: Path, assignment_id: str, students: Iterable[str], log: str) -> dict[str, str]:
    """The students a failed `nbgrader autograde` did not grade: those its
    log names, and those left without an autograded notebook (nbgrader
    removes a failed student's folder); each with the error that stopped
    it when the log shows one."""
    lines = log.splitlines()
    named: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = _STUDENT_FAILED.search(line)
        if match and match.group("assignment") == assignment_id:
            cause = next((found.group("name") + (found.group("rest") or "") for earlier in reversed(lines[:index])
                          if (found := _EXCEPTION_LINE.match(earlier))), "")
            named[match.group("student")] = cause.strip()
    failed = {}
    for student in students:
        folder = Path(course_root) / "autograded" / student / assignment_id
        if student in named or not any(folder.glob("*.ipynb")):
            cause = named.get(student, "")
            failed[student] = "nbgrader autograde could not grade this notebook" + (f" ({cause})" if cause else "")
    return failed


def grade_class(
    course_root: Path,
    assignment_id: str,
    submissions: Mapping[str, Path],
    *,
    cell_timeout: int | None = None,
    sync: bool = True,
) -> ClassScores:
    """Autograde a class with nbgrader and return student -> {test grade_id:
    score} (a ClassScores: the students autograde failed on, e.g. one whose
    answer ended the kernel, are in its `failed`, not in the dict; grade
    them with `grade_class_with_fallback`). Raises NbgraderError only when
    autograde failed for no student in particular.

    Steps: refresh the gradebook's copy of the source cells (sync=True; see
    sync_gradebook), add the students to the gradebook, copy each notebook to
    `submitted/<student>/<id>/<id>.ipynb`, run autograde for exactly these
    students, read the scores back. nbgrader scores a test cell from its
    outputs: 0 if any output is an error or a stderr stream, the number a
    final expression displays (0..points) as partial credit, else full
    points.
    """
    course_root = Path(course_root).resolve()
    if sync:
        sync_gradebook(course_root, assignment_id)
    add_students(course_root, submissions)
    for student, notebook in submissions.items():
        submit(course_root, assignment_id, student, Path(notebook))
    try:
        autograde(course_root, assignment_id, submissions, cell_timeout=cell_timeout)
        failed: dict[str, str] = {}
    except NbgraderError as error:
        failed = failed_students(course_root, assignment_id, submissions, error.log)
        if not failed or len(failed) == len(submissions) and not _STUDENT_FAILED.search(error.log):
            raise
    graded = [student for student in submissions if student not in failed]
    return ClassScores(class_scores_by_test(course_root, assignment_id, graded), failed)


# --------------------------------------------------------------------------
# When nbgrader cannot grade a student: the isolated grader
# --------------------------------------------------------------------------

GRADED_BY_NBGRADER = "nbgrader"
GRADED_BY_ISOLATED = "isolated grader"


@dataclass
class ClassGrades:
    """A class's scores by test cell, and who graded each student."""

    assignment: str
    scores: dict[str, dict[str, float]]
    graded_by: dict[str, str]
    notes: dict[str, str] = field(default_factory=dict)  # student -> why nbgrader did not grade them


def isolated_scores_by_cell(notebook: Path, assignment_id: str, seed: int | None = None,
                            exercises: list[str] | None = None) -> dict[str, float]:
    """{test grade_id: score} from `python -m autograder grade`'s grader (one
    isolated process per test: an answer that ends its process costs only
    its own exercise). The course is `autograder.course.course_root()`."""
    from autograder import grading
    from autograder.course import load_assignment

    report = grading.grade(notebook, exercises, seed)
    if report.assignment != assignment_id:
        raise NbgraderError(f"{notebook} is a notebook of {report.assignment}, not {assignment_id}")
    grade_ids = {test.id: test.grade_id for test in load_assignment(assignment_id).tests}
    return {grade_ids[result.test_id]: result.score for result in report.results}


def grade_class_with_fallback(
    course_root: Path,
    assignment_id: str,
    submissions: Mapping[str, Path],
    *,
    cell_timeout: int | None = None,
    sync: bool = True,
    isolated: Callable[[Path, str], dict[str, float]] | None = None,
) -> ClassGrades:
    """grade_class, then the students nbgrader could not grade graded by the
    isolated grader (`isolated(notebook, assignment_id)`, default
    isolated_scores_by_cell), marked as such (see export_grades)."""
    by_nbgrader = grade_class(course_root, assignment_id, submissions, cell_timeout=cell_timeout, sync=sync)
    grader = isolated or isolated_scores_by_cell
    scores = dict(by_nbgrader)
    graded_by = dict.fromkeys(by_nbgrader, GRADED_BY_NBGRADER)
    for student in by_nbgrader.failed:
        scores[student] = grader(Path(submissions[student]), assignment_id)
        graded_by[student] = GRADED_BY_ISOLATED
    order = list(submissions)
    return ClassGrades(assignment_id, {s: scores[s] for s in order}, {s: graded_by[s] for s in order},
                       dict(by_nbgrader.failed))


def export_grades(grades: ClassGrades, path: Path) -> Path:
    """A CSV for a learning-management system: one row per student (total,
    who graded it and why, then one column per test cell). Unlike nbgrader's
    own export, a student nbgrader could not grade is marked, with the
    isolated grader's score, instead of a plain 0."""
    cells = list(dict.fromkeys(cell for by_cell in grades.scores.values() for cell in by_cell))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "assignment", "score", "graded_by", "note", *cells])
        for student, by_cell in grades.scores.items():
            writer.writerow([student, grades.assignment, f"{sum(by_cell.values()):g}", grades.graded_by[student],
                             grades.notes.get(student, ""), *(f"{by_cell.get(cell, 0.0):g}" for cell in cells)])
    return Path(path)
