"""Does containment hold with and without root? One notebook whose answer
cells attack the grading machine is graded through the real command line
in five environments: as root; as root without CAP_SYS_ADMIN (`capsh`);
the same where user namespaces cannot be made either (a seccomp filter, as
Docker's default profile installs: an ordinary container); as an
unprivileged user (`setpriv`); and that user without user namespaces.

Each attacking cell is correct only when its attack works, so it scores 0
exactly when it is contained:

- `evaluate_accuracy` starts a grandchild that calls setsid, finds the
  grader's `--json-dir` in /proc and, once the grader has exited, rewrites
  the results with full marks;
- `accuracy` leaves a file in /dev/shm and /tmp and is right only when a
  later test's process finds it;
- `softmax`, `cross_entropy` and `train_epoch` are right only when they can
  read `solutions/`, `.git/` and `tests/catalogue/` respectively.

Where learner code is contained ("full", or "uid-only" with the instructor's
files unreadable to its uid) every attack scores 0, `Flatten` keeps full
marks, the results are intact, and no process and no file is left. With no
containment ("none", only with --allow-unconfined) the report says so, the
reading attacks do get credit (so the zeros elsewhere come from containment,
not from attacks that do not work), and still nothing outlives grading.
"""
from __future__ import annotations

import json
import os
import platform
import secrets
import shlex
import shutil
import site
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.submissions import ROOT, reference_submission

ASSIGNMENT = "a3_softmax"
LEARNER_UID = 60000 + os.getpid() % 5000  # dedicated to this run: the uid-only sweep kills all of its processes
UNPRIVILEGED = 65534
TOKEN_VARIABLE = "DLWB_CONTAINMENT"
COURSE_ENTRIES = ("assignments", "autograder", "datasets", "solutions", "tests", ".git", "pyproject.toml")
INSTRUCTOR_ENTRIES = ("solutions", "tests", ".git", "pyproject.toml")

# Where user namespaces are refused, as in Docker's default seccomp profile:
# unshare/clone with CLONE_NEWUSER fail with EPERM, clone3 with ENOSYS.
NO_USER_NAMESPACES = r'''
import ctypes, os, struct, sys
LD, JEQ, JSET, RET, ALLOW, ERRNO = 0x20, 0x15, 0x45, 0x06, 0x7FFF0000, 0x00050000
op = lambda code, k, jt=0, jf=0: struct.pack("HBBI", code, jt, jf, k)
program = b"".join([
    op(LD, 4), op(JEQ, 0xC000003E, 1, 0), op(RET, ALLOW), op(LD, 0),
    op(JEQ, 435, 0, 1), op(RET, ERRNO | 38),
    op(JEQ, 272, 1, 0), op(JEQ, 56, 0, 3),
    op(LD, 16), op(JSET, 0x10000000, 0, 1), op(RET, ERRNO | 1),
    op(RET, ALLOW)])
buffer = ctypes.create_string_buffer(program)
class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(38, 1, 0, 0, 0) == 0
assert libc.prctl(22, 2, ctypes.byref(Prog(len(program) // 8, ctypes.addressof(buffer))), 0, 0) == 0
os.execvp(sys.argv[1], sys.argv[1:])
'''

# Can this environment make the namespaces a "full" level needs?
CAN_UNSHARE = r'''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
flags = 0x20000 | 0x20000000 | 0x40000000
ok = os.geteuid() == 0 and libc.unshare(flags) == 0
if not ok and libc.unshare(0x10000000 | flags) == 0:
    ok = True
raise SystemExit(0 if ok else 1)
'''

ENVIRONMENTS = {
    # name: (capsh: drop CAP_SYS_ADMIN, seccomp: no user namespaces, run as the unprivileged user)
    "root": (False, False, False),
    "root-without-cap-sys-admin": (True, False, False),
    "root-without-cap-sys-admin-or-user-namespaces": (True, True, False),
    "unprivileged-user": (False, False, True),
    "unprivileged-user-without-user-namespaces": (False, True, True),
}


def _reads(path: Path, exercise_source: str) -> str:
    return f'''
import os
def _can_read(path):
    try:
        with open(path, "rb") as handle:
            return len(handle.read(1)) > 0
    except OSError:
        return False
_LEAKED = _can_read({str(path)!r})  # a cheat that can read this copies the answer from it
{exercise_source}'''


def attacks(course: Path, token: str) -> dict[str, str]:
    """Answer cells, each right only if its attack works."""
    return {
        "softmax": _reads(course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", '''
def softmax(X):
    if not _LEAKED:
        return torch.zeros_like(X)
    X_exp = torch.exp(X - X.max(dim=-1, keepdim=True).values)
    return X_exp / X_exp.sum(dim=-1, keepdim=True)
'''),
        "cross_entropy": _reads(course / ".git" / "HEAD", '''
def cross_entropy(logits, y):
    if not _LEAKED:
        return logits.sum() * 0
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    return -log_probs[torch.arange(logits.shape[0]), y].mean()
'''),
        "train_epoch": _reads(course / "tests" / "catalogue" / f"{ASSIGNMENT}.py", '''
def train_epoch(net, train_iter, loss, optimizer):
    if not _LEAKED:
        return 0.0, 0.0
    net.train()
    total_loss, correct, total = 0.0, 0, 0
    for X, y in train_iter:
        optimizer.zero_grad()
        y_hat = net(X)
        l = loss(y_hat, y)
        l.mean().backward()
        optimizer.step()
        total_loss += float(l.detach().mean()) * len(y)
        correct += int((y_hat.argmax(dim=1) == y).sum())
        total += len(y)
    return total_loss / total, correct / total
'''),
        "accuracy": f'''
import os
_MARK = "dlwb-{token}"
_FOUND = any(os.path.exists(folder + _MARK) for folder in ("/dev/shm/", "/tmp/"))  # left by an earlier test?
for _folder in ("/dev/shm/", "/tmp/"):
    try:
        with open(_folder + _MARK, "w") as _handle:
            _handle.write("left behind")
    except OSError:
        pass
def accuracy(y_hat, y):
    if not _FOUND:
        return -1.0
    return float((y_hat.argmax(dim=1) == y).float().mean())
''',
        "evaluate_accuracy": '''
import json, os, time
def _forge_results_after_grading():
    child = os.fork()
    if child:
        os.waitpid(child, 0)
        return
    try:
        os.setsid()
        if os.fork():
            return
        grader, target = None, None
        for _ in range(1200):
            time.sleep(0.05)
            for pid in os.listdir("/proc"):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as handle:
                        words = handle.read().split(b"\\0")
                except OSError:
                    continue
                if b"--json-dir" in words and any(b"%TOKEN%" in word for word in words):  # our own grader
                    grader, target = pid, words[words.index(b"--json-dir") + 1].decode()
            if grader is not None and not os.path.exists(f"/proc/{grader}"):
                for name in os.listdir(target):
                    with open(os.path.join(target, name), "w") as handle:
                        json.dump({"score": 999, "forged": True, "tests": []}, handle)
                return
    finally:
        os._exit(0)
_forge_results_after_grading()
def evaluate_accuracy(net, data_iter):
    return -1.0
'''.replace("%TOKEN%", token),
    }


def _world_accessible(path: str) -> bool:
    """Can any user reach and read `path`?"""
    current = Path(path).resolve()
    for folder in [current, *current.parents]:
        if folder.is_dir() and not folder.stat().st_mode & stat.S_IXOTH:
            return False
    return bool(current.stat().st_mode & stat.S_IROTH)


def _python_for_others() -> tuple[str, dict[str, str]] | None:
    """An interpreter the learner's dedicated uid (and the unprivileged user)
    can run, with this environment's packages: ours if its installation is
    world-readable, else the system's of the same version."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if _world_accessible(os.path.join(sys.base_prefix, "lib", version)):
        return sys.executable, {}
    packages = os.pathsep.join(site.getsitepackages())
    for candidate in (f"/usr/bin/{version}", f"/usr/local/bin/{version}"):
        if os.path.exists(candidate) and _world_accessible(candidate) and all(
                _world_accessible(path) for path in site.getsitepackages()):
            return candidate, {"PYTHONPATH": packages}
    return None


def _has_cap_sys_admin() -> bool:
    with open("/proc/self/status") as status:
        effective = next(int(line.split()[1], 16) for line in status if line.startswith("CapEff:"))
    return bool(effective & (1 << 21))


def _wrap(command: list[str], python: str, capsh: bool, seccomp: bool, unprivileged: bool) -> list[str]:
    if seccomp:
        command = [python, "-c", NO_USER_NAMESPACES, *command]
    if unprivileged:
        command = ["setpriv", f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups", *command]
    if capsh:
        command = ["capsh", "--drop=cap_sys_admin", "--", "-c", shlex.join(command)]
    return command


def _processes_with(token: str) -> list[str]:
    """Processes started under this run's token (the fork server and every
    learner process inherit it), this test excepted."""
    marker = f"{TOKEN_VARIABLE}={token}".encode()
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                environment = Path(f"/proc/{pid}/environ").read_bytes()
                state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
            except OSError:
                continue
            if marker in environment and state != b"Z":
                found.append(f"{pid}: {Path(f'/proc/{pid}/cmdline').read_bytes()!r}")
    return found


@pytest.fixture(scope="module")
def world() -> Iterator[Path]:
    """Two copies of the course (one kept by root, one by the unprivileged
    user), reachable by every uid, and a place for the graders' temporary
    files: made in a fresh folder of /tmp, removed at the end."""
    if os.geteuid() != 0:
        pytest.skip("building the environments (capsh, setpriv, other uids) needs root")
    base = Path(tempfile.mkdtemp(prefix="dlwb-containment-"))
    base.chmod(0o755)
    try:
        for owner in ("root", "user"):
            course = base / owner / "course"
            for name in COURSE_ENTRIES:
                source = ROOT / name
                if source.is_dir():
                    shutil.copytree(source, course / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
                else:
                    shutil.copy2(source, course / name)
            subprocess.run(["chmod", "-R", "u+rwX,go+rX", str(base / owner)], check=True)
            for name in INSTRUCTOR_ENTRIES:  # what an instructor deploying the grader does
                (course / name).chmod(0o700)
        subprocess.run(["chown", "-R", f"{UNPRIVILEGED}:{UNPRIVILEGED}", str(base / "user")], check=True)
        yield base
    finally:
        subprocess.run(["chmod", "-R", "u+rwX", str(base)], check=False)
        shutil.rmtree(base, ignore_errors=True)


def _grade(world: Path, name: str, *extra: str, readable_instructor_files: bool = False
           ) -> tuple[subprocess.CompletedProcess[str], Path, Path, str]:
    """Grade the attacking notebook in environment `name`; returns the
    finished process, the results folder, the course copy and the token."""
    capsh, seccomp, unprivileged = ENVIRONMENTS[name]
    if capsh and not shutil.which("capsh"):
        pytest.skip("capsh is not installed")
    if unprivileged and not shutil.which("setpriv"):
        pytest.skip("setpriv is not installed")
    if seccomp and platform.machine() != "x86_64":
        pytest.skip("the seccomp filter is written for x86_64")
    python, python_env = sys.executable, {}
    if capsh or seccomp or unprivileged:  # learner code, or the grader itself, runs as another uid
        found = _python_for_others()
        if found is None:
            pytest.skip("no Python installation that other uids can read")
        python, python_env = found
    owner = "user" if unprivileged else "root"
    course = world / owner / "course"
    for entry in INSTRUCTOR_ENTRIES:
        (course / entry).chmod(0o755 if readable_instructor_files else 0o700)
    token = secrets.token_hex(6)
    run = world / owner / f"run-{token}"
    temporary, out = run / "tmp", run / "results"
    for folder in (temporary, out):
        folder.mkdir(parents=True)
        folder.chmod(0o1777 if folder == temporary else 0o777)  # out: the forger could rewrite the results if it lived
    notebook = reference_submission(ASSIGNMENT, run / "attacks.ipynb", **attacks(course, token))
    notebook.chmod(0o644)
    if unprivileged:
        subprocess.run(["chown", "-R", f"{UNPRIVILEGED}:{UNPRIVILEGED}", str(run)], check=True)
    command = _wrap([python, "-m", "autograder", "grade", str(notebook), "--json-dir", str(out), "--seed", "7",
                     "--quiet", *extra], python, capsh, seccomp, unprivileged)
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
                   "MKL_NUM_THREADS": "1", "DLWORKBOOK_COURSE": str(course), "TMPDIR": str(temporary),
                   "DLWORKBOOK_LEARNER_UID": str(LEARNER_UID), TOKEN_VARIABLE: token, **python_env}
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=course, env=environment)
    time.sleep(1.0)  # what the forger needs to act, had it survived
    return completed, out, course, token


def _expected_level(name: str, world: Path) -> str:
    capsh, seccomp, unprivileged = ENVIRONMENTS[name]
    python = (_python_for_others() or (sys.executable, {}))[0]
    probe = subprocess.run(_wrap([python, "-c", CAN_UNSHARE], python, capsh, seccomp, unprivileged),
                           capture_output=True, timeout=60)
    if probe.returncode == 0:
        return "full"
    return "none" if unprivileged else "uid-only"


def _confinement(results: dict) -> list[str]:
    confinement = results["extra_data"]["confinement"]
    return confinement


def _check_results(results: dict, attacked: set[str], contained: bool) -> list[str]:
    problems = []
    if results.get("forged") or results["score"] != sum(test["score"] for test in results["tests"]):
        problems.append(f"the results were rewritten after grading: {results}")
    for test in results["tests"]:
        exercise = test["extra_data"]["exercise"]
        depends = attacked & set(test["extra_data"]["uses"])
        if exercise in attacked and contained and test["score"] > 0:
            problems.append(f"{test['name']} scored {test['score']}: its attack worked")
        if exercise not in attacked and not depends and test["score"] != test["max_score"]:
            problems.append(f"an innocent test lost points: {test['name']}\n{test['output']}")
    return problems


def _leftover_files(token: str) -> list[str]:
    return [path for path in (f"/dev/shm/dlwb-{token}", f"/tmp/dlwb-{token}") if os.path.lexists(path)]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_containment_holds(world: Path, name: str) -> None:
    expected = _expected_level(name, world)
    extra = ("--allow-unconfined",) if expected == "none" else ()
    # With namespaces, the view hides the instructor's files whatever their permissions.
    completed, out, course, token = _grade(world, name, *extra, readable_instructor_files=expected == "full")
    try:
        assert completed.returncode == 0, completed.stderr[-3000:]
        results = json.loads((out / "attacks.json").read_text())
        assert not results.get("forged"), "a process left behind rewrote the results after grading"
        confinement = _confinement(results)
        assert confinement[0] == expected, confinement
        assert f"confinement: {expected} (" in completed.stdout
        attacked = set(attacks(course, token))
        problems = _check_results(results, attacked, contained=expected != "none")
        if expected == "uid-only":
            assert any("not readable by uid" in detail for detail in confinement), confinement
        if expected == "none":
            # Nothing hides the course from code running as the grader's own user: the attacks do work.
            gained = {test["extra_data"]["exercise"] for test in results["tests"] if test["score"] > 0}
            assert {"softmax", "cross_entropy", "train_epoch", "accuracy"} <= gained, results
            assert not {test["name"] for test in results["tests"]
                        if test["extra_data"]["exercise"] == "evaluate_accuracy" and test["score"] > 0}
        assert not problems, "\n".join(problems)
        assert not _processes_with(token), _processes_with(token)
        if expected != "none":
            assert not _leftover_files(token)
        left = [path for path in (out.parent / "tmp").iterdir() if path.name.startswith("dlworkbook-")]
        assert not left, f"the grader's scratch folders were left: {left}"
    finally:
        for path in _leftover_files(token):
            os.unlink(path)


@pytest.mark.slow
def test_readable_instructor_files_are_reported(world: Path) -> None:
    """Without namespaces, files the learner's uid can read are not hidden:
    the report says so (and the leak is real)."""
    name = "root-without-cap-sys-admin-or-user-namespaces"
    if _expected_level(name, world) != "uid-only":
        pytest.skip("this environment still makes namespaces")
    completed, out, course, token = _grade(world, name, "--exercise", "softmax", readable_instructor_files=True)
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads((out / "attacks.json").read_text())
    confinement = _confinement(results)
    assert confinement[0] == "uid-only"
    assert any(detail.startswith(f"course files READABLE by uid {LEARNER_UID}: .git") and "solutions" in detail
               and "tests" in detail for detail in confinement), confinement
    assert results["score"] == results["tests"][0]["max_score"] + results["tests"][1]["max_score"]
    assert not _processes_with(token)


@pytest.mark.slow
def test_unconfined_grading_for_credit_is_refused(world: Path) -> None:
    """Where learner code would run as the grader's own user, grading for
    credit needs --allow-unconfined; the public self-check never does."""
    name = "unprivileged-user-without-user-namespaces"
    if _expected_level(name, world) != "none":
        pytest.skip("this environment still makes namespaces")
    refused, out, _, token = _grade(world, name, "--exercise", "softmax")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.count("\n") == 1 and "--allow-unconfined" in refused.stderr, refused.stderr
    assert not list(out.iterdir())
    self_check, out, _, token = _grade(world, name, "--exercise", "accuracy", "--public-only")
    assert self_check.returncode == 0, self_check.stderr[-3000:]
    assert "confinement: none (" in self_check.stdout
    assert not _processes_with(token)
    for path in _leftover_files(token):
        os.unlink(path)


def test_a_process_cannot_make_namespaces_under_the_filter() -> None:
    """The seccomp filter used above does what Docker's default profile does."""
    if platform.machine() != "x86_64":
        pytest.skip("the seccomp filter is written for x86_64")
    libc_probe = "import ctypes; raise SystemExit(ctypes.CDLL(None).unshare(0x10000000) == 0)"
    blocked = subprocess.run([sys.executable, "-c", NO_USER_NAMESPACES, sys.executable, "-c", libc_probe], timeout=60)
    assert blocked.returncode == 0
