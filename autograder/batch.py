"""Grading a class: many notebooks, each result named after its
submission, on several worker processes, resumable after an interruption.

    python -m autograder grade submitted/*/a3_softmax/*.ipynb --json-dir results/ --jobs 2

**Names.** A result is `<DIR>/<identity>.json`. In nbgrader's layout
(`<...>/<student>/<assignment>/<any name>.ipynb`, the assignment one of the
course's) the identity is the student; otherwise, with `--root R`, the
notebook's path under R without `.ipynb`; otherwise its file name without
`.ipynb`. When two notebooks of one batch would get the same name, each of
them is named by more of its path (`alice/a3_softmax`, then
`alice/a3_softmax/a3_softmax`, ...) until the names differ: no result ever
overwrites another.

**Resuming.** A result is written whole or not at all (a temporary file in
the same folder, then a rename). A result is complete when it was made from
this very notebook (its SHA-256) with the same options (exercises, seed,
hidden checks, pinned assignment) and says the notebook was graded or could
not be read; a rerun of the same command grades only the others, so a batch
killed half-way and run again ends with every result exactly once.

**Failures.** A notebook that cannot be read, or is a notebook of another
assignment than the one pinned with `--assignment`, gets a result with 0
points whose `output` (what Gradescope shows the student) says why. If the
grader itself fails on a notebook, its result says so and is graded again on
the next run. A worker process that dies is replaced; its notebook is tried
once more, then gets such a result. Nothing stops the batch except grading
for credit where learner code cannot be confined (the same for every
notebook: reported once, exit 2, no results written).

**Workers.** `--jobs N` starts N worker processes (`python -m
autograder.batch --worker`), each with its own fork server. When learner code
runs as a dedicated uid without namespaces ("uid-only" confinement), the
fork server kills every process of that uid and removes its temporary files
after each test; so no two workers may share a learner uid, or one worker's
clean-up kills the other's learner processes. By default each worker process
takes a uid of its own (`autograder.confine.learner_uid`: 1,000,000 + its
pid); where `$DLWORKBOOK_LEARNER_UID` pins one, the first worker gets it and
the others free uids below it.
"""
from __future__ import annotations

import hashlib
import json
import os
import resource
import select
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable

from autograder.notebook import NotebookError

RESULT_SUFFIX = ".json"
STATUS_GRADED = "graded"
STATUS_UNREADABLE = "unreadable"  # not a readable notebook of a known assignment
STATUS_WRONG_ASSIGNMENT = "wrong_assignment"  # a notebook of another assignment than the pinned one
STATUS_ERROR = "error"  # the grader failed: graded again on the next run
STATUS_REFUSED = "refused"  # learner code could not be confined: no result at all
COMPLETE = (STATUS_GRADED, STATUS_UNREADABLE, STATUS_WRONG_ASSIGNMENT)
BAD_INPUT = (STATUS_UNREADABLE, STATUS_WRONG_ASSIGNMENT)
WORKER_TRIES = 2  # a notebook whose worker died this often gets an error result


class WrongAssignment(NotebookError):
    """A notebook of another assignment than the one this grading is for."""


@dataclass(frozen=True)
class Options:
    """How every notebook of a batch is graded."""

    exercises: tuple[str, ...] = ()
    seed: int | None = None
    hidden: bool = True
    allow_unconfined: bool = False
    assignment: str | None = None  # grade only notebooks of this assignment (others get 0 and the reason)
    verbose: bool = True  # the printed table includes the failures' details
    timing: str = "off"  # autograder.timing's mode (never graded, so not part of the fingerprint)

    def fingerprint(self) -> dict[str, Any]:
        """What a result depends on besides the notebook (resuming compares it)."""
        return {"exercises": sorted(self.exercises), "seed": self.seed, "hidden": self.hidden,
                "assignment": self.assignment}


@dataclass(frozen=True)
class Job:
    notebook: Path
    identity: str
    result: Path


@dataclass
class WorkerStats:
    """What one worker process used (kilobytes, as getrusage reports them)."""

    worker: int
    notebooks: int = 0
    maxrss_kb: int = 0  # the worker itself: the grader, with torch and the checks
    children_maxrss_kb: int = 0  # its largest child: the fork server or one learner process
    learner_uid: int | None = None
    pids: list[int] = field(default_factory=list)  # its process (and any that replaced it)


@dataclass
class Summary:
    total: int = 0
    skipped: int = 0  # already had a complete result
    counts: dict[str, int] = field(default_factory=dict)  # status -> notebooks graded now
    seconds: float = 0.0
    workers: list[WorkerStats] = field(default_factory=list)
    refused: str | None = None  # why nothing was graded (learner code could not be confined)

    @property
    def exit_status(self) -> int:
        """0 when all was graded, 2 for unusable input (or no confinement), 1 when the grader failed."""
        if self.refused or any(self.counts.get(status) for status in BAD_INPUT):
            return 2
        return 1 if self.counts.get(STATUS_ERROR) else 0


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------


def _known_assignments() -> set[str]:
    from autograder.course import known_assignments

    try:
        return set(known_assignments())
    except (NotebookError, OSError):
        return set()


def _course_folders() -> list[Path]:
    """The course's own notebooks (sources and releases) are not submissions."""
    from autograder.course import course_root

    try:
        root = course_root().resolve()
    except NotebookError:
        return []
    return [root / "solutions", root / "assignments"]


def _candidates(path: Path, root: Path | None, assignments: set[str], course: list[Path]) -> list[str]:
    """Names for one notebook, shortest first: the preferred identity, then
    longer ones made of more of its path (used only to break ties)."""
    parts = [*path.parent.parts[1:], path.stem]  # without the leading "/"
    nbgrader = (len(parts) >= 3 and parts[-2] in assignments
                and not any(path.parent.parent == folder for folder in course))
    if nbgrader:  # <student>/<assignment>/<file>
        student = len(parts) - 3
        return ["/".join(parts[student:end]) for end in (student + 1, student + 2)] + \
            ["/".join(parts[start:]) for start in range(student, -1, -1)]
    if root is not None:
        relative = path.relative_to(root)
        return [relative.with_suffix("").as_posix() if relative.suffix == ".ipynb" else relative.as_posix()]
    return ["/".join(parts[start:]) for start in range(len(parts) - 1, -1, -1)]


def identities(notebooks: Iterable[str | Path], root: str | Path | None = None,
               assignment: str | None = None) -> dict[Path, str]:
    """notebook (absolute) -> its identity, distinct within the batch (see
    the module's docstring). Raises NotebookError for a notebook outside `root`."""
    paths = list(dict.fromkeys(Path(os.path.abspath(p)) for p in notebooks))
    base = Path(os.path.abspath(root)) if root is not None else None
    assignments = _known_assignments() | ({assignment} if assignment else set())
    course = _course_folders()
    candidates: dict[Path, list[str]] = {}
    for path in paths:
        if base is not None and not path.is_relative_to(base):
            raise NotebookError(f"{path}: not under --root {base}")
        candidates[path] = _candidates(path, base, assignments, course)
    level = dict.fromkeys(paths, 0)
    while True:
        names: dict[str, list[Path]] = {}
        for path in paths:
            names.setdefault(candidates[path][level[path]], []).append(path)
        clashes = [group for group in names.values() if len(group) > 1]
        if not clashes:
            return {path: candidates[path][level[path]] for path in paths}
        moved = False
        for group in clashes:
            for path in group:
                if level[path] + 1 < len(candidates[path]):
                    level[path] += 1
                    moved = True
        if not moved:  # cannot happen for distinct absolute paths; never overwrite if it does
            raise NotebookError(f"two notebooks would share the result name {clashes[0]}: pass --root")


def plan(notebooks: Iterable[str | Path], out_dir: str | Path, root: str | Path | None = None,
         assignment: str | None = None) -> list[Job]:
    out = Path(out_dir)
    return [Job(path, name, out / f"{name}{RESULT_SUFFIX}") for path, name in identities(notebooks, root, assignment).items()]


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


def sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def write_atomic(path: Path, data: dict[str, Any]) -> None:
    """The whole file or nothing: a temporary file beside it, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def remove_temporary_files(out_dir: Path) -> int:
    """What a killed run left half-written (never a result)."""
    removed = 0
    for path in out_dir.rglob(".*.tmp") if out_dir.is_dir() else []:
        if path.name.endswith(".tmp") and RESULT_SUFFIX in path.name:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def is_complete(job: Job, options: Options, digest: str | None = None) -> bool:
    """Does `job.result` hold a finished result of this notebook, graded this way?"""
    try:
        data = json.loads(job.result.read_text(encoding="utf-8"))
        extra = data["extra_data"]
        submission = extra["submission"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    digest = digest or sha256_of(job.notebook)
    return (extra.get("status") in COMPLETE and digest is not None and submission.get("sha256") == digest
            and submission.get("options") == options.fingerprint())


def student_reason(error: Exception, notebook: Path) -> str:
    """A NotebookError's message with the file named as the student knows it."""
    return str(error).replace(str(notebook), notebook.name).replace(os.path.abspath(notebook), notebook.name)


def not_graded(assignment: str | None, options: Options, reason: str, seconds: float) -> dict[str, Any]:
    """Gradescope's results.json for a notebook that was not graded: 0
    points, the reason in the output the student sees, and (when the
    assignment is known) every test it would have had, at 0."""
    tests: list[dict[str, Any]] = []
    if assignment is not None:
        from autograder.course import load_assignment
        from autograder.suites import load_suite

        try:
            spec = load_assignment(assignment)
            suite = load_suite(assignment, hidden=options.hidden)
        except NotebookError:
            spec, assignment = None, None
        for test in spec.tests if spec is not None else ():
            if (options.exercises and test.exercise not in options.exercises) or (test.hidden and not options.hidden):
                continue
            definition = suite.definition(test.id)
            tests.append({
                "name": f"{test.exercise}: {definition.title}", "score": 0.0, "max_score": test.points,
                "output": f"not graded: {reason}",
                "visibility": "after_published" if test.hidden else "visible",
                "extra_data": {"test": test.id, "exercise": test.exercise, "uses": list(definition.needs),
                               "outcome": "not_graded",
                               "credit": "partial" if definition.partial else "all-or-nothing"},
            })
    return {
        "score": 0.0,
        "execution_time": round(seconds, 2),
        "output": f"This notebook could not be graded: {reason}",
        "extra_data": {"assignment": assignment, "error": reason},
        "tests": tests,
    }


def _notebook_assignment(notebook: Path) -> str:
    from autograder.notebook import assignment_id, read_notebook

    return assignment_id(read_notebook(notebook), notebook)


def require_assignment(notebook: Path, assignment: str) -> None:
    """WrongAssignment (one line) unless `notebook` is one of `assignment`."""
    found = _notebook_assignment(Path(notebook))
    if found != assignment:
        raise WrongAssignment(f"{notebook}: this is a notebook of assignment {found}, not of {assignment}; "
                              f"submit your {assignment} notebook")


def grade_one(notebook: Path, identity: str, result_path: Path | None, options: Options) -> dict[str, Any]:
    """Grade one notebook into `result_path` (written atomically; None:
    write nothing) and return what the batch prints and counts: status,
    score, max_score, table, error (the one-line reason, if any), and the
    result itself."""
    started = time.monotonic()
    notebook = Path(notebook)
    digest = sha256_of(notebook)
    submission = {"identity": identity, "notebook": str(notebook), "sha256": digest, "options": options.fingerprint()}
    known: str | None = options.assignment
    table = ""
    try:
        from autograder.course import open_submission

        if options.assignment is not None:
            require_assignment(notebook, options.assignment)
        assignment, _ = open_submission(notebook, from_source=options.hidden)  # fail fast, before torch
        known = assignment.id
        from autograder import grading, report
        from autograder.zygote import ZygoteClient

        ZygoteClient.shared()  # warms up (imports torch) while this process does the same
        graded = grading.grade(notebook, list(options.exercises) or None, options.seed, hidden=options.hidden,
                               allow_unconfined=options.allow_unconfined, timing=options.timing)
        data = report.gradescope(graded)
        table = report.table(graded, verbose=options.verbose)
        status, error = STATUS_GRADED, None
    except NotebookError as problem:
        from autograder.sandbox import ConfinementRefused

        if isinstance(problem, ConfinementRefused):
            return {"status": STATUS_REFUSED, "error": str(problem), "score": 0.0, "max_score": 0.0, "table": ""}
        status = STATUS_WRONG_ASSIGNMENT if isinstance(problem, WrongAssignment) else STATUS_UNREADABLE
        error = str(problem)
        reason = student_reason(problem, notebook)
        if status == STATUS_UNREADABLE:
            known = options.assignment or _known_or_none(notebook)
        data = not_graded(known, options, reason, time.monotonic() - started)
    except Exception as problem:  # noqa: BLE001 - one notebook's trouble never stops the batch
        status = STATUS_ERROR
        error = f"{notebook}: the grader failed ({type(problem).__name__}: {str(problem)[:300]})"
        reason = (f"the grader failed on this notebook ({type(problem).__name__}); this is not your work's fault, "
                  "and it will be graded again")
        data = not_graded(None, options, reason, time.monotonic() - started)
    data.setdefault("extra_data", {})
    data["extra_data"]["status"] = status
    data["extra_data"]["submission"] = submission
    if result_path is not None:
        write_atomic(Path(result_path), data)
    max_score = sum(test["max_score"] for test in data["tests"])
    return {"status": status, "error": error, "score": data["score"], "max_score": max_score, "table": table,
            "result": data}


def _known_or_none(notebook: Path) -> str | None:
    """The assignment an unreadable notebook names, when it names a known one."""
    try:
        found = _notebook_assignment(notebook)
    except NotebookError:
        return None
    return found if found in _known_assignments() else None


# --------------------------------------------------------------------------
# Workers
# --------------------------------------------------------------------------


def _uid_in_use(uid: int) -> bool:
    import pwd

    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        pass
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/status") as handle:
                    for line in handle:
                        if line.startswith("Uid:"):
                            if uid in {int(value) for value in line.split()[1:4]}:
                                return True
                            break
            except OSError:
                continue
    return False


def learner_uids(count: int, taken: Iterable[int | None] = ()) -> list[int | None]:
    """The learner uid to give each worker: None (the worker takes one of
    its own, from its pid) unless `$DLWORKBOOK_LEARNER_UID` pins one; then
    that one for the first worker and, for the others, uids below it that
    no account, no process and no uid in `taken` uses. None too where the
    grader is not root (learner code then never runs as a dedicated uid)."""
    from autograder.confine import LEARNER_UID_ENV

    configured = os.environ.get(LEARNER_UID_ENV)
    if os.geteuid() != 0 or not configured:
        return [None] * count
    base = int(configured)
    uids: list[int | None] = [] if base in set(taken) else [base]
    candidate = base - 1
    while len(uids) < count:
        if candidate in set(taken):
            candidate -= 1
            continue
        if candidate < 1000:
            raise RuntimeError("no free uids left for the learner processes of the workers")
        if not _uid_in_use(candidate):
            uids.append(candidate)
        candidate -= 1
    return uids


class _Worker:
    """A worker process and the notebook it is grading."""

    def __init__(self, index: int, options: Options, uid: int | None) -> None:
        from autograder.confine import LEARNER_UID_ENV

        env = dict(os.environ)
        if uid is not None:
            env[LEARNER_UID_ENV] = str(uid)
        self.index = index
        self.uid = uid
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder.batch", "--worker", json.dumps(asdict(options))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, bufsize=1,
        )
        assert self.process.stdout is not None
        self.fd = self.process.stdout.fileno()
        self.job: Job | None = None
        self.stats = WorkerStats(index, learner_uid=uid, pids=[self.process.pid])
        self.buffer = b""

    def lines(self) -> list[bytes] | None:
        """The complete lines it has sent since last asked; None once it is gone."""
        assert self.process.stdout is not None
        chunk = os.read(self.process.stdout.fileno(), 1 << 16)
        if not chunk:
            return None
        self.buffer += chunk
        *complete, self.buffer = self.buffer.split(b"\n")
        return complete

    def give(self, job: Job) -> None:
        self.job = job
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"notebook": str(job.notebook), "identity": job.identity,
                                             "result": str(job.result)}) + "\n")

    def stop(self) -> None:
        try:
            assert self.process.stdin is not None
            self.process.stdin.close()
        except (OSError, ValueError):
            pass

    def reap(self) -> None:
        """Wait for it (a worker that died early: its rusage, which covers
        every process it waited for, stands for its own)."""
        if self.process.returncode is not None:
            return
        try:
            _, status, usage = os.wait4(self.process.pid, 0)
        except ChildProcessError:
            self.process.wait()
            return
        if not self.stats.maxrss_kb:
            self.stats.maxrss_kb = usage.ru_maxrss
        self.process.returncode = os.waitstatus_to_exitcode(status)


def _worker_main(options_json: str) -> None:
    """A worker: one job per line on stdin, one answer per line on the
    original stdout (anything else printed goes to stderr)."""
    _die_with_parent()
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    given = json.loads(options_json)
    options = Options(**{**given, "exercises": tuple(given["exercises"])})
    done = 0
    for line in sys.stdin:
        job = json.loads(line)
        outcome = grade_one(Path(job["notebook"]), job["identity"], Path(job["result"]), options)
        outcome.pop("result", None)
        done += 1
        answers.write(json.dumps({"done": job["result"], **outcome}) + "\n")
    _close_fork_server()
    answers.write(json.dumps({"bye": True, "notebooks": done,
                              "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                              "children_maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}) + "\n")


def _die_with_parent() -> None:
    """A worker whose batch was killed stops too (its fork server then
    kills the learner processes)."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:
        os._exit(1)


def _close_fork_server() -> None:
    """Let the fork server finish (it sweeps what learner processes left)
    and reap it, so its peak memory counts among this worker's children."""
    from autograder.zygote import ZygoteClient

    client = ZygoteClient._shared
    if client is None:
        return
    ZygoteClient._shared = None
    client.replies.close()  # the socket stays open while its file object does
    client.control.close()
    try:
        client.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        client.process.kill()
        client.process.wait()


# --------------------------------------------------------------------------
# The batch
# --------------------------------------------------------------------------


def run(jobs: list[Job], options: Options, workers: int = 1, *, progress: bool | None = None,
        in_process: bool | None = None, out: IO[str] | None = None, err: IO[str] | None = None) -> Summary:
    """Grade every job without a complete result; print each table on
    `out`, one line per problem on `err`, a progress bar on `err`.
    in_process (default: one worker): grade here instead of in a worker process."""
    out = out or sys.stdout
    err = err or sys.stderr
    started = time.monotonic()
    summary = Summary(total=len(jobs))
    for folder in {job.result.parent for job in jobs}:
        remove_temporary_files(folder)
    pending = [job for job in jobs if not is_complete(job, options)]
    summary.skipped = len(jobs) - len(pending)
    if summary.skipped:
        print(f"{summary.skipped} of {len(jobs)} notebooks already have a complete result (not graded again)", file=err)
    if not pending:
        return summary
    bar = _progress_bar(len(pending), err, len(pending) > 1 if progress is None else progress)
    workers = max(1, min(workers, len(pending)))

    def record(job: Job, outcome: dict[str, Any]) -> None:
        status = outcome["status"]
        summary.counts[status] = summary.counts.get(status, 0) + 1
        with bar.external_write_mode(file=err):
            if outcome.get("table"):
                print(outcome["table"], file=out)
                if len(pending) > 1:
                    print(file=out)
            if outcome.get("error"):
                print(f"error: {outcome['error']}", file=err)
        out.flush()
        bar.update(1)

    try:
        if workers == 1 and (in_process is None or in_process):
            for job in pending:
                outcome = grade_one(job.notebook, job.identity, job.result, options)
                if outcome["status"] == STATUS_REFUSED:
                    summary.refused = outcome["error"]
                    break
                record(job, outcome)
        else:
            _run_workers(pending, options, workers, summary, record)
    finally:
        bar.close()
    if summary.refused:
        print(f"error: {summary.refused}", file=err)
    summary.seconds = time.monotonic() - started
    return summary


class _NoBar:
    """Where tqdm is not installed (a grading-only environment)."""

    def update(self, _: int) -> None: ...

    def close(self) -> None: ...

    @staticmethod
    def external_write_mode(file: Any = None) -> Any:
        import contextlib

        return contextlib.nullcontext()


def _progress_bar(total: int, err: IO[str], shown: bool) -> Any:
    """A tqdm progress bar on `err` (nothing where tqdm is missing)."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoBar()
    return tqdm(total=total, file=err, unit="notebook", dynamic_ncols=True, disable=not shown)


def _run_workers(pending: list[Job], options: Options, count: int, summary: Summary, record: Any) -> None:
    queue = list(pending)
    tries: dict[Path, int] = {}
    uids = learner_uids(count)
    workers = [_Worker(index, options, uids[index]) for index in range(count)]
    alive = list(workers)
    try:
        while alive:
            for worker in alive:
                if worker.job is None:
                    if queue and summary.refused is None:
                        worker.give(queue.pop(0))
                    elif worker.process.stdin is not None and not worker.process.stdin.closed:
                        worker.stop()
            by_fd = {worker.fd: worker for worker in alive}
            ready, _, _ = select.select(list(by_fd), [], [], 1.0)
            for fd in ready:
                worker = by_fd[fd]
                lines = worker.lines()
                if lines is None:  # the worker is gone
                    worker.reap()
                    alive.remove(worker)
                    lost = worker.job
                    if lost is not None:
                        tries[lost.notebook] = tries.get(lost.notebook, 0) + 1
                        if tries[lost.notebook] < WORKER_TRIES:
                            queue.insert(0, lost)
                        else:
                            record(lost, _worker_died(lost, options, worker))
                    if queue and summary.refused is None:
                        # A fresh uid: the dead worker's fork server may still be sweeping its own.
                        uids.append(learner_uids(1, taken=uids + [worker.uid])[0])
                        replacement = _Worker(worker.index, options, uids[-1])
                        worker.stats.pids += replacement.stats.pids
                        replacement.stats = worker.stats
                        alive.append(replacement)
                        workers.append(replacement)
                    continue
                for line in lines:
                    message = json.loads(line)
                    if "bye" in message:
                        worker.stats.notebooks += message["notebooks"]
                        worker.stats.maxrss_kb = max(worker.stats.maxrss_kb, message["maxrss_kb"])
                        worker.stats.children_maxrss_kb = max(worker.stats.children_maxrss_kb,
                                                              message["children_maxrss_kb"])
                        continue
                    job, worker.job = worker.job, None
                    assert job is not None
                    if message["status"] == STATUS_REFUSED:
                        summary.refused = summary.refused or message["error"]
                        queue.clear()
                        continue
                    record(job, message)
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.stop()
        for worker in workers:
            try:
                worker.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
    summary.workers = sorted({id(w.stats): w.stats for w in workers}.values(), key=lambda stats: stats.worker)


def _worker_died(job: Job, options: Options, worker: _Worker) -> dict[str, Any]:
    reason = (f"the grading worker process ended while grading this notebook ({WORKER_TRIES} tries; exit status "
              f"{worker.process.returncode}); this is not your work's fault, and it will be graded again")
    data = not_graded(None, options, reason, 0.0)
    data["extra_data"]["status"] = STATUS_ERROR
    data["extra_data"]["submission"] = {"identity": job.identity, "notebook": str(job.notebook),
                                        "sha256": sha256_of(job.notebook), "options": options.fingerprint()}
    write_atomic(job.result, data)
    return {"status": STATUS_ERROR, "error": f"{job.notebook}: {reason}", "score": 0.0, "max_score": 0.0, "table": ""}


def describe(summary: Summary) -> str:
    """One line for the end of a batch."""
    counts = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in sorted(summary.counts.items()))
    done = sum(summary.counts.values())
    line = f"{done} of {summary.total} notebooks graded now ({counts or 'none'})"
    if summary.skipped:
        line += f", {summary.skipped} already complete"
    return line + f", in {summary.seconds:.0f} s"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        _worker_main(sys.argv[2])
    else:
        print("usage: python -m autograder.batch --worker OPTIONS_JSON (started by `python -m autograder grade --jobs N`)",
              file=sys.stderr)
        raise SystemExit(2)
