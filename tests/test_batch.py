"""Grading a class (autograder.batch): names that never collide, results
written whole, a batch killed half-way and run again ends with every result
exactly once, each equal to grading that notebook alone; and nbgrader's
class grading when a student's kernel dies.

The class (20 submissions in nbgrader's layout, graded with --jobs 2 on two
exercises) is built and graded once per test session; test_class_report.py
reads the same results (see `graded_class`).
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from autograder import batch
from tests.catalogue.a3_softmax import VARIANTS
from tests.submissions import ROOT, reference_submission

ASSIGNMENT = "a3_softmax"
EXERCISES = ("accuracy", "Flatten")
KILLER = "import os\nos._exit(3)\n"
KILL_AFTER = 6  # results on disk when the first run is killed


# --------------------------------------------------------------------------
# Names (no grading)
# --------------------------------------------------------------------------


def test_nbgrader_layout_names_results_after_the_student(tmp_path: Path) -> None:
    paths = [tmp_path / "submitted" / student / ASSIGNMENT / name
             for student, name in [("alice", "a3_softmax.ipynb"), ("bob", "a3_softmax.ipynb"),
                                   ("carol", "My Homework (final).ipynb")]]
    names = batch.identities(paths)
    assert [names[p] for p in paths] == ["alice", "bob", "carol"]
    jobs = batch.plan(paths, tmp_path / "out")
    assert [job.result for job in jobs] == [tmp_path / "out" / f"{s}.json" for s in ("alice", "bob", "carol")]


def test_clashing_names_take_more_of_the_path(tmp_path: Path) -> None:
    """The issue's bug: every student's file has the same name. And one
    student with two assignments, and plain files of the same name."""
    two = [tmp_path / "c" / "alice" / ASSIGNMENT / "x.ipynb", tmp_path / "c" / "alice" / "a4_mlp" / "x.ipynb"]
    assert sorted(batch.identities(two).values()) == ["alice/a3_softmax", "alice/a4_mlp"]
    plain = [tmp_path / "one" / "hw.ipynb", tmp_path / "two" / "hw.ipynb", tmp_path / "two" / "other.ipynb"]
    assert list(batch.identities(plain).values()) == ["one/hw", "two/hw", "other"]
    # The same file twice is one submission.
    assert len(batch.identities([plain[0], str(plain[0])])) == 1


def test_root_names_by_relative_path_and_refuses_outsiders(tmp_path: Path) -> None:
    paths = [tmp_path / "class" / "week1" / "ada.ipynb", tmp_path / "class" / "week2" / "ada.ipynb"]
    assert list(batch.identities(paths, root=tmp_path / "class").values()) == ["week1/ada", "week2/ada"]
    with pytest.raises(batch.NotebookError, match="not under --root"):
        batch.identities([tmp_path / "elsewhere.ipynb"], root=tmp_path / "class")
    # The course's own source is not a student's submission.
    source = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert batch.identities([source]) == {source: ASSIGNMENT}


def test_results_are_complete_only_for_the_same_notebook_and_options(tmp_path: Path) -> None:
    notebook = tmp_path / "n.ipynb"
    notebook.write_text("not json")
    job = batch.Job(notebook, "n", tmp_path / "out" / "n.json")
    options = batch.Options(exercises=("accuracy",))
    outcome = batch.grade_one(notebook, "n", job.result, options)
    assert outcome["status"] == batch.STATUS_UNREADABLE
    assert batch.is_complete(job, options)
    assert not batch.is_complete(job, batch.Options(exercises=("Flatten",)))
    notebook.write_text("still not json")
    assert not batch.is_complete(job, options)
    leftover = job.result.with_name(".n.json.123.tmp")
    leftover.write_text('{"half": ')
    assert batch.remove_temporary_files(job.result.parent) == 1 and not leftover.exists()
    data = json.loads(job.result.read_text())
    assert data["score"] == 0 and data["tests"] == [] and "not a notebook" in data["output"]
    assert str(tmp_path) not in data["output"], "the student sees the file's name, not the instructor's path"


# --------------------------------------------------------------------------
# A class of 20, killed half-way and graded again
# --------------------------------------------------------------------------


@dataclass
class ClassRun:
    folder: Path  # the class: submitted/<student>/a3_softmax/<file>.ipynb
    results: Path  # the --json-dir
    notebooks: dict[str, Path]  # student -> notebook
    expected: dict[str, str]  # student -> what it is ("reference", "killer", "unreadable", a catalogue variant...)
    first: dict[str, str]  # result file -> its text when the first run was killed
    rerun: dict[str, object]  # returncode, stderr of the second run


def _build_class(folder: Path) -> tuple[dict[str, Path], dict[str, str]]:
    notebooks: dict[str, Path] = {}
    expected: dict[str, str] = {}

    def place(student: str, name: str = f"{ASSIGNMENT}.ipynb") -> Path:
        path = folder / "submitted" / student / ASSIGNMENT / name
        path.parent.mkdir(parents=True, exist_ok=True)
        notebooks[student] = path
        return path

    for variant in (v for v in VARIANTS if v.exercise in EXERCISES):
        student = variant.name.replace("_", "-")
        reference_submission(ASSIGNMENT, place(student), **{variant.exercise: variant.source})
        expected[student] = f"{variant.exercise}:{'right' if variant.correct else 'wrong'}"
    for index in range(4):
        reference_submission(ASSIGNMENT, place(f"reference-{index}"))
        expected[f"reference-{index}"] = "reference"
    reference_submission(ASSIGNMENT, place("killer"), accuracy=KILLER)
    expected["killer"] = "killer"
    place("unreadable").write_text('{"cells": [ {"cell_type": "code", ')
    expected["unreadable"] = "unreadable"
    reference_submission(ASSIGNMENT, place("renamed", "My Homework (final) v2.ipynb"))
    expected["renamed"] = "reference"
    reference_submission("a4_mlp", place("other-assignment"))
    expected["other-assignment"] = "wrong_assignment"
    assert len(notebooks) == 20
    return notebooks, expected


def _command(class_folder: Path, results: Path) -> list[str]:
    notebooks = sorted(str(p) for p in (class_folder / "submitted").glob(f"*/{ASSIGNMENT}/*.ipynb"))
    options = [arg for exercise in EXERCISES for arg in ("--exercise", exercise)]
    return [sys.executable, "-m", "autograder", "grade", *notebooks, *options, "--assignment", ASSIGNMENT,
            "--json-dir", str(results), "--jobs", "2", "--quiet"]


def _run_killed_half_way(command: list[str], results: Path) -> None:
    """Start the batch and kill it (and its workers and fork servers) with
    SIGKILL once KILL_AFTER results exist."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 600
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if len(list(results.glob("*.json"))) >= KILL_AFTER:
                break
            time.sleep(0.2)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def graded_class(factory: pytest.TempPathFactory) -> ClassRun:
    """The class, graded once per session (shared by pytest-xdist workers
    through a lock): a first run killed half-way, then the same command again."""
    base = factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / "dlworkbook-class20"
    with open(shared / "dlworkbook-class20.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = folder / "run.json"
        if not record.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            notebooks, expected = _build_class(folder)
            results = folder / "results"
            command = _command(folder, results)
            _run_killed_half_way(command, results)
            first = {path.name: path.read_text() for path in results.iterdir() if path.is_file()}
            second = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
            record.write_text(json.dumps({
                "notebooks": {s: str(p) for s, p in notebooks.items()}, "expected": expected, "first": first,
                "rerun": {"returncode": second.returncode, "stderr": second.stderr, "stdout": second.stdout}}))
    data = json.loads(record.read_text())
    return ClassRun(folder, folder / "results", {s: Path(p) for s, p in data["notebooks"].items()},
                    data["expected"], data["first"], data["rerun"])


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> ClassRun:
    return graded_class(tmp_path_factory)


def _results(run: ClassRun) -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in run.results.glob("*.json")}


@pytest.mark.slow
def test_killed_and_rerun_class_has_every_result_exactly_once(graded: ClassRun) -> None:
    # The first run was killed with results still to write: nothing it left is half-written.
    complete_first = {name for name in graded.first if name.endswith(".json") and not name.startswith(".")}
    assert KILL_AFTER <= len(complete_first) < 20, sorted(graded.first)
    for name in complete_first:
        json.loads(graded.first[name])
    # The rerun grades only what had no result (its exit 2: the unreadable and a4 notebooks).
    assert graded.rerun["returncode"] == 2, graded.rerun["stderr"][-3000:]
    assert f"{len(complete_first)} of 20 notebooks already have a complete result" in graded.rerun["stderr"]
    assert f"{20 - len(complete_first)} of 20 notebooks graded now" in graded.rerun["stderr"]
    files = sorted(path.name for path in graded.results.iterdir())
    assert files == sorted(f"{student}.json" for student in graded.notebooks), files  # no temporary file left
    for name in complete_first:  # not graded twice
        assert (graded.results / name).read_text() == graded.first[name]
    results = _results(graded)
    assert {data["extra_data"]["submission"]["identity"] for data in results.values()} == set(graded.notebooks)
    assert {data["extra_data"]["submission"]["notebook"] for data in results.values()} == \
        {str(path) for path in graded.notebooks.values()}


@pytest.mark.slow
def test_each_result_is_what_the_notebook_deserves(graded: ClassRun) -> None:
    results = _results(graded)
    for student, kind in graded.expected.items():
        data = results[student]
        by_exercise: dict[str, float] = {}
        for test in data["tests"]:
            by_exercise[test["extra_data"]["exercise"]] = by_exercise.get(test["extra_data"]["exercise"], 0) + test["score"]
        status = data["extra_data"]["status"]
        if kind in ("reference", "accuracy:right", "Flatten:right"):
            assert status == "graded" and data["score"] == 6, (student, data["score"])
        elif kind.endswith(":wrong"):
            exercise = kind.split(":")[0]
            other = next(e for e in EXERCISES if e != exercise)
            assert by_exercise[exercise] < 3 and by_exercise[other] == 3, (student, by_exercise)
        elif kind == "killer":
            assert by_exercise == {"accuracy": 0, "Flatten": 3}, by_exercise
            assert "ended the process (exit code 3)" in "\n".join(t["output"] for t in data["tests"])
        elif kind == "unreadable":
            assert status == "unreadable" and data["score"] == 0
            assert "could not be graded" in data["output"] and "not a notebook" in data["output"]
            assert len(data["tests"]) == 4 and all(t["score"] == 0 for t in data["tests"])
        elif kind == "wrong_assignment":
            assert status == "wrong_assignment" and data["score"] == 0
            assert "a notebook of assignment a4_mlp, not of a3_softmax" in data["output"]
        assert "execution_time" in data


def _comparable(data: dict) -> dict:
    """A result without what differs between two gradings of one notebook:
    the time taken, the worker's learner uid, the batch's own record."""
    uid = re.compile(r"uid \d+")
    extra = {k: v for k, v in data["extra_data"].items() if k not in ("submission", "confinement")}
    return {"score": data["score"], "output": uid.sub("uid N", data["output"]), "tests": data["tests"], "extra": extra}


@pytest.mark.slow
def test_a_batch_result_equals_grading_that_notebook_alone(graded: ClassRun) -> None:
    results = _results(graded)
    options = batch.Options(exercises=EXERCISES, assignment=ASSIGNMENT)
    wrong = sorted(s for s, kind in graded.expected.items() if kind.endswith(":wrong"))
    for student in ["killer", "renamed", "unreadable", "other-assignment", wrong[0]]:
        alone = batch.grade_one(graded.notebooks[student], student, None, options)["result"]
        assert _comparable(results[student]) == _comparable(alone), student


def test_workers_get_distinct_learner_uids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where learner code runs as a dedicated uid without namespaces, a fork
    server kills every process of its uid after each test: two workers
    sharing one uid would kill each other's learner processes."""
    monkeypatch.delenv("DLWORKBOOK_LEARNER_UID", raising=False)
    assert batch.learner_uids(3) == [None] * 3  # each worker: 1,000,000 + its own pid (confine.learner_uid)
    monkeypatch.setenv("DLWORKBOOK_LEARNER_UID", "61234")
    uids = batch.learner_uids(3)
    if os.geteuid() != 0:
        assert uids == [None] * 3
        return
    assert len(set(uids)) == 3 and uids[0] == 61234 and all(uid < 61234 for uid in uids[1:])
    assert batch.learner_uids(1, taken=uids)[0] not in uids


# --------------------------------------------------------------------------
# nbgrader: a student whose answer kills the kernel
# --------------------------------------------------------------------------


@pytest.mark.slow
def test_nbgrader_class_grading_survives_a_dead_kernel(tmp_path: Path) -> None:
    """`nbgrader autograde` exits 1 when one student's kernel dies; class
    grading reports that student instead of raising, the isolated grader
    grades them, and the export marks them."""
    from autograder import nbgrader_support as support
    from tests.test_nbgrader_support import AID, ANSWERS_GOOD, build_course, student_notebook

    course = build_course(tmp_path / "course")
    support.release([AID], course)
    released = course / "assignments" / AID / f"{AID}.ipynb"
    submissions = {}
    for student, answers in [("good", ANSWERS_GOOD), ("killer", {**ANSWERS_GOOD, "add": KILLER})]:
        submissions[student] = tmp_path / f"{student}.ipynb"
        nbformat.write(student_notebook(released, answers), submissions[student])
    graded_by_isolated = []

    def isolated(notebook: Path, assignment: str) -> dict[str, float]:
        graded_by_isolated.append(notebook.stem)
        return {"test_add": 0.0, "test_mul": 2.0, "test_mul_partial": 1.5, "test_mul_stderr": 1.0}

    grades = support.grade_class_with_fallback(course, AID, submissions, sync=False, isolated=isolated)
    assert graded_by_isolated == ["killer"]
    assert grades.graded_by == {"good": "nbgrader", "killer": "isolated grader"}
    assert "DeadKernelError" in grades.notes["killer"]
    assert grades.scores["good"] == {"test_add": 1.0, "test_mul": 2.0, "test_mul_partial": 1.5, "test_mul_stderr": 0.0}
    export = support.export_grades(grades, tmp_path / "grades.csv").read_text().splitlines()
    assert export[0] == "student,assignment,score,graded_by,note,test_add,test_mul,test_mul_partial,test_mul_stderr"
    assert export[2].startswith("killer,toy,4.5,isolated grader,nbgrader autograde could not grade this notebook")
    # What grade_class itself reports, from nbgrader's folders and log.
    assert support.failed_students(course, AID, submissions, "") == {
        "killer": "nbgrader autograde could not grade this notebook"}


@pytest.mark.slow
def test_isolated_scores_by_cell_maps_tests_to_nbgrader_cells(tmp_path: Path) -> None:
    from autograder import nbgrader_support as support
    from autograder.course import load_assignment

    notebook = reference_submission(ASSIGNMENT, tmp_path / "killer.ipynb", accuracy=KILLER)
    scores = support.isolated_scores_by_cell(notebook, ASSIGNMENT, exercises=["accuracy", "Flatten"])
    cells = {test.id: test.grade_id for test in load_assignment(ASSIGNMENT).tests}
    assert scores == {cells["accuracy"]: 0.0, cells["accuracy/hidden"]: 0.0,
                      cells["Flatten"]: 1.0, cells["Flatten/hidden"]: 2.0}


@pytest.mark.slow
def test_parallel_workers_never_kill_each_others_learners_without_namespaces(tmp_path: Path) -> None:
    """As root without namespaces ("uid-only"), a fork server kills every
    process of its learner uid after each test. Two workers grading at once,
    one notebook with a slow answer and one with quick tests, must both get
    full marks: each worker has a uid of its own. (With one shared uid the
    quick notebook's clean-ups kill the slow one's learner process: SIGKILL,
    and both lose points.)"""
    from tests.test_containment import NO_USER_NAMESPACES, _python_for_others

    if os.geteuid() != 0 or not shutil.which("capsh"):
        pytest.skip("needs root and capsh to take CAP_SYS_ADMIN away")
    found = _python_for_others()
    if found is None:
        pytest.skip("no Python installation that the learner uids can read")
    python, extra = found
    slow = "import time\ndef accuracy(y_hat, y):\n    time.sleep(1.5)\n    return float((y_hat.argmax(dim=1) == y).float().mean())\n"
    for folder in (tmp_path, tmp_path / "out"):
        folder.mkdir(exist_ok=True)
        folder.chmod(0o755)
    notebooks = [reference_submission(ASSIGNMENT, tmp_path / "slow.ipynb", accuracy=slow),
                 reference_submission(ASSIGNMENT, tmp_path / "quick.ipynb")]
    for notebook in notebooks:
        notebook.chmod(0o644)
    grade = [python, "-m", "autograder", "grade", *map(str, notebooks), "--jobs", "2", "--json-dir", str(tmp_path / "out"),
             "--exercise", "accuracy", "--quiet"]
    command = ["capsh", "--drop=cap_sys_admin", "--", "-c",
               " ".join(map(shlex.quote, [python, "-c", NO_USER_NAMESPACES, *grade]))]
    environment = {**os.environ, **extra, "PYTHONPATH": os.pathsep.join(filter(None, [extra.get("PYTHONPATH"), str(ROOT)]))}
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT, env=environment)
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = {name: json.loads((tmp_path / "out" / f"{name}.json").read_text()) for name in ("slow", "quick")}
    levels = {data["extra_data"]["confinement"][0] for data in results.values()}
    if levels != {"uid-only"}:
        pytest.skip(f"this environment still makes namespaces ({levels})")
    uids = {name: set(re.findall(r"\buid (\d+)", " ".join(data["extra_data"]["confinement"])))
            for name, data in results.items()}
    assert not uids["slow"] & uids["quick"], uids
    for name, data in results.items():
        assert data["score"] == 3, (name, [t["output"] for t in data["tests"] if t["score"] < t["max_score"]])
