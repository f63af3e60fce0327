"""The grader's side of the trust boundary: a fresh learner process per test.

Each test gets its own child process, forked from a warm server that has
torch imported already, so one test's monkeypatching, crash or endless loop
cannot touch another's. A cell that hangs or kills its process is remembered
and skipped from then on, so it costs only its own exercise.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from autograder import messages, policy
from autograder.calling import judge_reply
from autograder.channel import FrameTooLarge
from autograder.checking import LearnerError, OutcomeKind
from autograder.confine import LEVEL_NONE
from autograder.course import Assignment, course_root
from autograder.guard import Forbidden
from autograder.learner_errors import cell_failed
from autograder.messages import ErrorInfo
from autograder.notebook import NotebookError
from autograder.seeds import learner_seed
from autograder.zygote import ZygoteClient

@dataclass(frozen=True)
class Limits:
    """What one learner process may use."""

    memory_bytes: int = 3 * 1024**3
    cell_timeout_s: float = 20.0


# --- containment (see autograder.confine): what a learner process may see -----------------

COURSE_VISIBLE = ("assignments", "datasets", "autograder")  # all a learner process sees of the course


def hidden_course_paths() -> list[str]:
    """Everything in the course a learner process must not see (solutions,
    .git, tests, scripts, nbgrader's folders, ...): all but `COURSE_VISIBLE`
    and the Python installation. With namespaces these are simply not in its
    view; without, they are hidden only if its uid cannot read them."""
    try:
        root = course_root()
    except Exception:  # noqa: BLE001 - no course here: nothing to hide
        return []
    python = {path for path in _python_paths() if not _within(str(root), path)}
    names = set(os.listdir(root)) | {"solutions", "submitted", "autograded", "feedback", "source", ".git", "tests"}
    return sorted(str(root / name) for name in names
                  if name not in COURSE_VISIBLE and not any(_within(str(root / name), path) for path in python))


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _python_paths() -> set[str]:
    """The interpreter, its standard library and every package folder."""
    import site

    import torch

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.dirname(torch.__file__)), *site.getsitepackages()}
    paths |= {entry for entry in sys.path if entry.endswith(("site-packages", "dist-packages", ".zip"))}
    paths |= {entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry}
    paths |= {entry for entry in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if entry}
    return {os.path.realpath(path) for path in paths if os.path.isabs(path)}


def read_only_paths() -> list[str]:
    """The allow-list a learner process's mount view is built from, all
    read-only: the system's libraries, the Python installation and its
    packages, and in the course only `COURSE_VISIBLE` (and the datasets
    folder wherever it is). Nothing that contains the course root is
    allowed whole."""
    from autograder.confine import SYSTEM_PATHS
    from autograder.data import datasets_root

    try:
        root: str | None = str(course_root().resolve())
    except Exception:  # noqa: BLE001
        root = None
    paths = set(SYSTEM_PATHS) | _python_paths() | {str(datasets_root().resolve())}
    package = os.path.dirname(os.path.abspath(__file__))
    paths.add(package)
    if root is not None:
        paths |= {os.path.join(root, name) for name in COURSE_VISIBLE}
        paths = {path for path in paths if not _within(root, path)}  # never the course root or a folder above it
    kept = sorted(path for path in paths if os.path.lexists(path))
    return [path for path in kept if not any(_within(path, other) and path != other for other in kept)]


def learner_folders(scratch: str) -> dict[str, Any]:
    """A learner process's part of the plan: its folder in `scratch`
    (traversable, not listable) with its writable `work/`, its log (outside
    `work/`, so the learner cannot swap it for a link), the mount point of
    its view, and what it may see."""
    from autograder.confine import learner_uid

    os.chmod(scratch, 0o711)
    folder = tempfile.mkdtemp(dir=scratch)
    os.chmod(folder, 0o711)
    workdir, view_root = os.path.join(folder, "work"), os.path.join(folder, "root")
    os.mkdir(workdir, 0o700)
    os.mkdir(view_root, 0o700)
    return {"workdir": workdir, "log_path": os.path.join(folder, "output.log"), "view_root": view_root,
            "learner_uid": learner_uid(), "hidden_paths": hidden_course_paths(), "read_only_paths": read_only_paths()}


class ConfinementRefused(NotebookError):
    """Grading for credit where learner code would run unconfined (reported
    like an unusable input: one line, exit 2)."""


_probed: dict[int, tuple[str, ...]] = {}


def probe_confinement() -> tuple[str, ...]:
    """What a learner process gets here (level first), from one that runs
    no learner code; once per fork server."""
    zygote = ZygoteClient.shared()
    if zygote.process.pid not in _probed:
        with tempfile.TemporaryDirectory(prefix="dlworkbook-probe-") as scratch:
            plan = {"steps": [], "skip": [], "memory_bytes": Limits().memory_bytes, "seed": 0, "forbidden": [],
                    **learner_folders(scratch)}
            process = LearnerProcess(plan)
            try:
                message = process.receive(Limits().cell_timeout_s)
            except (EOFError, OSError, LearnerError):
                message = None
            finally:
                process.kill()
            if not isinstance(message, messages.Ready):
                raise RuntimeError(f"the learner process failed to start: {process.output_tail()}")
            _probed[zygote.process.pid] = message.confinement
    return _probed[zygote.process.pid]


def refuse_unconfined() -> None:
    """Grading for credit needs some confinement: ConfinementRefused where
    learner code would run as the grader's own user with no namespaces."""
    confinement = probe_confinement()
    if not confinement or confinement[0] == LEVEL_NONE:
        details = "; ".join(confinement[1:3])
        raise ConfinementRefused(
            f"refusing to grade for credit: learner code would run unconfined here ({details}); run as root or "
            "where user namespaces are allowed, or pass --allow-unconfined to grade anyway")


def _scenario_name(scenario: Callable[..., Any]) -> str:
    return f"{scenario.__module__}:{scenario.__qualname__}"


class LearnerProcess:
    """One running learner process and its end of the pipe."""

    def __init__(self, plan: dict[str, Any]) -> None:
        try:
            self.zygote = ZygoteClient.shared()
            self.pid, self.conn = self.zygote.fork(plan)
        except (OSError, RuntimeError, ValueError):
            # The fork server died (killed, or crashed): start a fresh one, once.
            ZygoteClient._shared = None
            self.zygote = ZygoteClient.shared()
            self.pid, self.conn = self.zygote.fork(plan)
        self.log_path = Path(plan["log_path"])

    def receive(self, timeout_s: float) -> messages.Message | None:
        """The next message; None on timeout; EOFError when the process died;
        LearnerError (crashed) when what came is not a message it may send."""
        try:
            blob = self.conn.recv(timeout_s)
            if blob is None:
                return None  # nothing, or half a message, by the deadline: the learner's time is up
            return messages.unpack(blob, messages.FROM_LEARNER)
        except (messages.WireError, FrameTooLarge) as error:
            raise LearnerError(OutcomeKind.CRASHED,
                               f"the learner's process sent back something that is not a valid message ({error})") from None

    def send(self, message: messages.Message) -> None:
        self.conn.send(messages.pack(message))

    def killed_by(self) -> signal.Signals | None:
        """The signal that ended the process, if one did."""
        code = self.exit_code()
        if code is not None and code < 0 and -code in signal.Signals._value2member_map_:
            return signal.Signals(-code)
        return None

    def exit_code(self, wait_s: float = 1.0) -> int | None:
        deadline = time.monotonic() + wait_s
        while True:
            code = self.zygote.status(self.pid)
            if code is not None or time.monotonic() > deadline:
                return code
            time.sleep(0.01)

    def exit_description(self) -> str:
        code = self.exit_code()
        if code is None:
            return "stopped answering"
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            return f"was killed by signal {name}"
        return f"ended the process (exit code {code})"

    def output_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """Kill it and everything it started (the fork server answers once
        all of it is gone), then remove its scratch folder."""
        try:
            self.zygote.kill(self.pid)
        except (OSError, RuntimeError, ValueError):  # the fork server died: do what we can from here
            for target in (lambda: os.killpg(self.pid, signal.SIGKILL), lambda: os.kill(self.pid, signal.SIGKILL)):
                try:
                    target()
                except (ProcessLookupError, PermissionError):
                    pass
        self.conn.close()
        shutil.rmtree(self.log_path.parent / "work", ignore_errors=True)


@dataclass
class Sandbox:
    """Runs one learner notebook's code for a series of tests."""

    assignment: Assignment
    answers: dict[str, str]
    limits: Limits = field(default_factory=Limits)
    seed: int = 0
    fatal: dict[int, tuple[OutcomeKind, str]] = field(default_factory=dict)  # step -> (kind, why it was skipped)
    cell_errors: dict[str, ErrorInfo] = field(default_factory=dict)
    timed_out: set[str] = field(default_factory=set)  # exercises that ran out of time in a test
    confinement: tuple[str, ...] = ()  # what the last learner process reported it achieved
    forbidden: list[tuple[str, Forbidden]] = field(default_factory=list)  # every rule: watched from the first cell on

    def __post_init__(self) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="dlworkbook-grade-")
        self.steps: list[dict[str, Any]] = []
        for index, step in enumerate(self.assignment.steps):
            if step.kind == "setup":
                self.steps.append({"filename": f"<setup cell {index}>", "source": step.source, "exercise": None})
            else:
                source = self.answers.get(step.exercise or "", "")
                self.steps.append(
                    {
                        "filename": f"<answer cell {step.exercise}>",
                        # A cell that reaches into the interpreter never runs (autograder.policy).
                        "source": "" if policy.violations(source) else source,
                        "exercise": step.exercise,
                    }
                )

    def close(self) -> None:
        """After the last test: nothing a learner process started is left
        (results are written only after this), then its files go."""
        zygote = ZygoteClient._shared
        if zygote is not None and zygote.process.poll() is None:
            try:
                zygote.sweep()
            except (OSError, RuntimeError, ValueError):
                pass
        self._scratch.cleanup()

    def fatal_reason(self, exercise: str) -> tuple[OutcomeKind, str] | None:
        for index, reason in self.fatal.items():
            if self.steps[index]["exercise"] == exercise:
                return reason
        return None

    @contextmanager
    def session(self, timeout_s: float, rules: list[tuple[str, Forbidden]], subject: str,
                needs: tuple[str, ...]) -> Iterator["RemoteRun"]:
        """A fresh learner process with every runnable cell run, for one test."""
        process = self._start()
        try:
            yield RemoteRun(self, process, time.monotonic() + timeout_s, timeout_s, rules, subject, needs)
        finally:
            try:
                process.send(messages.Stop())
            except (OSError, ValueError):
                pass
            process.kill()

    def _plan(self) -> dict[str, Any]:
        return {
            "steps": [{"filename": s["filename"], "source": s["source"]} for s in self.steps],
            "skip": sorted(self.fatal),
            "memory_bytes": self.limits.memory_bytes,
            "seed": learner_seed(self.seed),
            "forbidden": [(exercise, rule.as_data()) for exercise, rule in self.forbidden],
            **learner_folders(self._scratch.name),  # workdir, log, mount view (autograder.confine)
        }

    def _start(self) -> LearnerProcess:
        for _ in range(len(self.steps) + 1):
            process = LearnerProcess(self._plan())
            current: int | None = None
            while True:
                try:
                    message = process.receive(self.limits.cell_timeout_s)
                except (EOFError, OSError, LearnerError):
                    if current is None:
                        tail = process.output_tail()
                        process.kill()
                        raise RuntimeError(f"the learner process failed to start: {tail}") from None
                    self.fatal[current] = (OutcomeKind.CRASHED, process.exit_description())
                    process.kill()
                    break
                if message is None:
                    if current is None:
                        process.kill()
                        raise RuntimeError("the learner process did not start in time")
                    self.fatal[current] = (OutcomeKind.TIMEOUT, f"did not finish within {self.limits.cell_timeout_s:.0f} s")
                    process.kill()
                    break
                if isinstance(message, messages.CellStart) and 0 <= message.index < len(self.steps):
                    current = message.index
                elif isinstance(message, messages.CellDone):
                    exercise = self.steps[current]["exercise"] if current is not None else None
                    if exercise and message.error is not None:
                        self.cell_errors[exercise] = message.error
                    current = None
                elif isinstance(message, messages.Ready):
                    self.confinement = message.confinement
                    return process
            # a cell was fatal: go round again without it
        raise RuntimeError("could not start the learner process")


class RemoteRun:
    """`ctx.run` for grading: ships a scenario call to the learner's process."""

    def __init__(self, sandbox: Sandbox, process: LearnerProcess, deadline: float, timeout_s: float,
                 rules: list[tuple[str, Forbidden]], subject: str, needs: tuple[str, ...]) -> None:
        self.sandbox = sandbox
        self.needs = needs
        self.process = process
        self.deadline = deadline
        self.timeout_s = timeout_s
        self.rules = rules
        self.subject = subject
        self.dead: LearnerError | None = None
        self.notes: list[str] = []  # warnings the learner's code raised

    def __call__(self, scenario: Callable[..., Any], *args: Any) -> Any:
        if self.dead is not None:
            raise self.dead
        for exercise in self.needs:
            fatal = self.sandbox.fatal_reason(exercise)
            if fatal:
                raise cell_failed(exercise, *fatal)
            if exercise in self.sandbox.timed_out:
                # It hung in an earlier test: don't spend another budget finding that out again.
                raise LearnerError(OutcomeKind.TIMEOUT, f"not run: {exercise} did not finish in an earlier test (see above)")
        nonce = secrets.token_hex(16)
        request = messages.Call(_scenario_name(scenario), list(args),
                                [(exercise, rule.as_data()) for exercise, rule in self.rules], nonce)
        try:
            self.process.send(request)
            reply = self.process.receive(self.deadline - time.monotonic())
        except (EOFError, OSError):
            self.dead = self._died()
            raise self.dead from None
        except LearnerError as error:
            self.dead = error
            raise
        if reply is None:
            self.process.kill()
            self.sandbox.timed_out.add(self.subject)
            self.dead = LearnerError(
                OutcomeKind.TIMEOUT,
                f"{self.subject} did not finish within {self.timeout_s:.0f} s (an endless loop, or far too slow?)",
            )
            raise self.dead
        if not isinstance(reply, messages.Reply) or not secrets.compare_digest(reply.nonce, nonce):
            self.process.kill()
            self.dead = LearnerError(OutcomeKind.CRASHED, "the learner's process answered out of turn (a reply "
                                     "to another call, or one it made up): the test cannot be judged")
            raise self.dead
        return judge_reply(reply, self.rules, self.subject, self.notes, self.sandbox.cell_errors,
                           self.sandbox.limits.memory_bytes)

    def _died(self) -> LearnerError:
        how = self.process.exit_description()
        tail = self.process.output_tail(3)
        extra = f"\n  last output: {tail}" if tail else ""
        if self.process.killed_by() in (signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS):
            return LearnerError(OutcomeKind.CRASHED,
                                f"while checking {self.subject}, your code {how} (out of memory, or a crash){extra}")
        return LearnerError(OutcomeKind.CRASHED,
                            f"while checking {self.subject}, your code {how}: an answer must return, not end the program{extra}")
