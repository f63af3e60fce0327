"""The main job: release the assignments, grade a small bundled class with
nbgrader's gradebook and with the isolated CLI grader, print the class's
score table with both verdicts side by side.

For each assignment the class is the reference answers, the untouched
release, and three learners each carrying classic bugs. The bugs are course
data (`datasets/sample_class/<id>.json`), generated from the maintainers'
catalogue by `scripts/make_sample_class.py`; a test fails when they drift.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from autograder.course import course_root, known_assignments, load_assignment
from autograder.submissions import fill_answers, reference_answers

LEARNERS = ("ada", "grace", "alan")
SAMPLE_CLASS = Path("datasets") / "sample_class"  # in the course root


def _sample_learners(assignment_id: str, root: Path) -> dict[str, dict[str, dict[str, str]]]:
    """learner -> exercise -> {"variant", "source"}, from the course data in
    `root` (generated from the maintainers' catalogue); none for an
    assignment without a catalogue."""
    path = root / SAMPLE_CLASS / f"{assignment_id}.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["learners"]


def sample_class(assignment_id: str, release: Path, folder: Path,
                 root: Path | None = None) -> tuple[dict[str, Path], dict[str, list[str]]]:
    """student -> notebook, and student -> the bugs they carry."""
    reference = reference_answers(assignment_id)
    notebooks = {
        "reference": fill_answers(release, reference, folder / "reference.ipynb"),
        "untouched": fill_answers(release, {}, folder / "untouched.ipynb"),
    }
    bugs: dict[str, list[str]] = {"reference": [], "untouched": ["every answer still raises NotImplementedError"]}
    for learner, carried in _sample_learners(assignment_id, root or course_root()).items():
        answers = dict(reference)
        answers.update({exercise: bug["source"] for exercise, bug in carried.items()})
        bugs[learner] = [f"{exercise}: {bug['variant']}" for exercise, bug in carried.items()]
        notebooks[learner] = fill_answers(release, answers, folder / f"{learner}.ipynb")
    return notebooks, bugs


def _course_copy(root: Path, work: Path) -> Path:
    """A scratch nbgrader course: the sources, the config, nothing else."""
    course = work / "course"
    shutil.copytree(root / "solutions", course / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(root / "nbgrader_config.py", course / "nbgrader_config.py")
    return course


def run(assignments: list[str] | None = None, work: Path | None = None, seed: int = 2024) -> bool:
    """Release, grade the sample class both ways, print the tables; True
    when nbgrader and the CLI grader agree on every exercise of every learner."""
    import os

    root = course_root()
    assignments = assignments or known_assignments()
    work = Path(work or tempfile.mkdtemp(prefix="dlworkbook-class-"))
    course = _course_copy(root, work)
    previous = os.environ.get("DLWORKBOOK_COURSE")
    os.environ["DLWORKBOOK_COURSE"] = str(course)  # nbgrader's kernels find the hidden checks here
    try:
        agree = _grade_class(assignments, root, course, work, seed)
    finally:
        if previous is None:
            os.environ.pop("DLWORKBOOK_COURSE", None)
        else:
            os.environ["DLWORKBOOK_COURSE"] = previous
    print(f"class graded in {work}: nbgrader's gradebook is {course / 'gradebook.db'}")
    print("nbgrader and the isolated grader agree on every exercise." if agree else
          "MISMATCH between nbgrader and the isolated grader (marked ≠ above).")
    return agree


def _grade_class(assignments: list[str], root: Path, course: Path, work: Path, seed: int) -> bool:
    from autograder import grading, nbgrader_support

    agree = True
    for assignment_id in assignments:
        started = time.monotonic()
        nbgrader_support.release(assignment_id, course)
        release = course / "assignments" / assignment_id / f"{assignment_id}.ipynb"
        notebooks, bugs = sample_class(assignment_id, release, work / "class" / assignment_id, root)
        by_cell = nbgrader_support.grade_class(course, assignment_id, notebooks)
        spec = load_assignment(assignment_id)
        nbgrader_scores = {
            student: {ex: sum(cells.get(t.grade_id, 0.0) for t in spec.tests_for(ex)) for ex in spec.exercises}
            for student, cells in by_cell.items()
        }
        cli_scores = {}
        for student, path in notebooks.items():
            report = grading.grade(path, seed=seed, allow_unconfined=True)  # known sample code
            cli_scores[student] = {ex: got for ex, (got, _) in report.by_exercise().items()}
        agree &= _print_table(assignment_id, spec, nbgrader_scores, cli_scores, bugs, time.monotonic() - started)
    return agree


def _print_table(assignment_id: str, spec, nbgrader_scores, cli_scores, bugs, seconds: float) -> bool:  # noqa: ANN001
    width = max(len(ex) for ex in spec.exercises) + 2
    print(f"\n{assignment_id}: score per exercise, nbgrader / isolated grader ({seconds:.0f} s)")
    header = "student".ljust(11) + "".join(ex.rjust(max(width, 9)) for ex in spec.exercises) + "total".rjust(12)
    print(header)
    print("-" * len(header))
    agree = True
    for student in nbgrader_scores:
        row = student.ljust(11)
        total_nb = total_cli = 0.0
        for exercise in spec.exercises:
            a, b = nbgrader_scores[student][exercise], cli_scores[student].get(exercise, 0.0)
            total_nb, total_cli = total_nb + a, total_cli + b
            mark = "" if a == b else "≠"
            agree &= a == b
            row += f"{a:g}/{b:g}{mark}".rjust(max(width, 9))
        most = sum(spec.max_score(ex) for ex in spec.exercises)
        row += f"{total_nb:g}/{total_cli:g} of {most:g}".rjust(12)
        print(row)
    for student, carried in bugs.items():
        if student not in ("reference", "untouched") and carried:
            print(f"  {student}: " + "; ".join(carried))
    return agree
