"""Gradescope: the autograder zip for one assignment, and what runs in it.

    python -m autograder gradescope a3_softmax [-o gradescope_a3_softmax.zip] [--exercise ID ...]

The zip holds, at its root, `setup.sh` and `run_autograder` (what Gradescope
requires), `requirements-grading.txt`, and the part of the course that
grading this one assignment needs: the `autograder` package with only this
assignment's checks, `solutions/<id>/` (source notebook, hidden checks),
the course secret (so a regrade gives the same hidden inputs), the release
`assignments/<id>/` and `datasets/`.

`setup.sh` (run once, as root, when Gradescope builds the image) makes a
virtual environment on the image's own Python (3.10 or newer: the stock
Ubuntu 22.04 image has 3.10; numpy and matplotlib are pinned per Python
version), installs only what grading needs: CPU-only torch from PyTorch's
CPU index, numpy, and what the assignment's setup cells import (no
nbgrader, no Jupyter), makes the instructor's files unreadable to other
users (the learner's code runs as a dedicated uid), then grades the
reference solution and stops the build unless it earns every point. Every
step fails loudly (`set -euo pipefail`, nothing hidden behind `|| true`).

`run_autograder` grades the one notebook in `/autograder/submission` with
`python -m autograder.gradescope run`: a notebook of another assignment, an
unreadable file or a wrong number of notebooks gets 0 and the reason in the
output the student sees; results.json has `execution_time` and, in
`extra_data.confinement`, the confinement the learner's code ran under. Both
scripts take their root from `$DLWORKBOOK_AUTOGRADER_ROOT` (default
`/autograder`) and run_autograder its Python from
`$DLWORKBOOK_AUTOGRADER_PYTHON` (default the environment setup.sh made), so a
test can run them under a temporary folder that mimics Gradescope's layout.
"""
from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from autograder import batch
from autograder.notebook import NotebookError, python_source

ROOT_ENV = "DLWORKBOOK_AUTOGRADER_ROOT"
PYTHON_ENV = "DLWORKBOOK_AUTOGRADER_PYTHON"
DEFAULT_ROOT = "/autograder"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
REQUIREMENTS_FILE = "requirements-grading.txt"
MINIMUM_PYTHON = (3, 10)
# What an assignment's setup cells may import, as packages to install.
# Torch and torchvision come from PyTorch's CPU index; the others from PyPI,
# pinned per Python version where the course's pin needs a newer Python
# than the stock image's (3.10).
FOR_PYTHON_310 = {"numpy": "2.2.6", "matplotlib": "3.10.9"}
FROM_TORCH_INDEX = ("torch", "torchvision")
IMPORTABLE = {"numpy": "numpy", "matplotlib": "matplotlib", "tqdm": "tqdm", "torch": "torch",
              "torchvision": "torchvision"}
ALWAYS = ("torch", "numpy")  # the grader itself (autograder.data reads the bundled data with numpy)
# Course folders that are never part of a zip.
SKIPPED = {"__pycache__", ".ipynb_checkpoints"}


# --------------------------------------------------------------------------
# What grading needs
# --------------------------------------------------------------------------


def _pins() -> dict[str, str]:
    """name -> version, from the course's requirements.txt."""
    from autograder.course import course_root

    pins = {}
    for line in (course_root() / "requirements.txt").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*([A-Za-z0-9_.-]+)==([^\s;#]+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def setup_imports(assignment_id: str) -> set[str]:
    """Top-level modules the assignment's setup cells import (they run
    before any answer, in every learner process)."""
    from autograder.course import load_assignment

    found: set[str] = set()
    for step in load_assignment(assignment_id).steps:
        if step.kind == "setup":
            found |= _imports(python_source(step.source))
    return found


def _imports(source: str, seen: frozenset[str] = frozenset(), only_at_import: bool = False) -> set[str]:
    """Top-level modules `source` imports, and, for a module of this package
    it imports (`from autograder.lesson import tqdm`), what that one imports
    when it is imported (`only_at_import`: its module body, not its functions)."""
    found: set[str] = set()
    tree = ast.parse(source)
    for node in (tree.body if only_at_import else ast.walk(tree)):
        names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                 [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
        for name in names:
            found.add(name.split(".")[0])
            module_file = Path(__file__).resolve().parent.joinpath(*name.split(".")[1:]).with_suffix(".py")
            if name.startswith("autograder.") and name not in seen and module_file.is_file():
                found |= _imports(module_file.read_text(encoding="utf-8"), seen | {name}, only_at_import=True)
    return found


def grading_packages(assignment_id: str) -> list[str]:
    """The distributions grading this assignment needs, in install order.
    NotebookError for a setup cell importing something this module does not
    know how to install (add it to IMPORTABLE)."""
    modules = {module for module in setup_imports(assignment_id)
               if module not in sys.stdlib_module_names and module != "autograder"}
    unknown = sorted(modules - set(IMPORTABLE))
    if unknown:
        raise NotebookError(f"{assignment_id}'s setup cells import {', '.join(unknown)}: "
                            "say in autograder.gradescope.IMPORTABLE which package provides it")
    wanted = set(ALWAYS) | {IMPORTABLE[module] for module in modules}
    return sorted(wanted, key=lambda name: (name not in FROM_TORCH_INDEX, name))


def requirement_lines(packages: list[str], pins: dict[str, str]) -> tuple[list[str], list[str]]:
    """(from PyTorch's CPU index, from PyPI): pinned requirement lines."""
    torch_lines, pypi_lines = [], []
    for name in packages:
        version = pins.get(name)
        if version is None:
            raise NotebookError(f"requirements.txt pins no version of {name}")
        if name in FROM_TORCH_INDEX:
            torch_lines.append(f"{name}=={version.split('+')[0]}+cpu")
        elif name in FOR_PYTHON_310:
            pypi_lines.append(f'{name}=={version}; python_version >= "3.11"')
            pypi_lines.append(f'{name}=={FOR_PYTHON_310[name]}; python_version < "3.11"')
        else:
            pypi_lines.append(f"{name}=={version}")
    return torch_lines, pypi_lines


# --------------------------------------------------------------------------
# The scripts
# --------------------------------------------------------------------------

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope image build for dlworkbook's {assignment} autograder
# (generated by `python -m autograder gradescope {assignment}`; see autograder/gradescope.py).
# Runs once, as root: a virtual environment on this image's Python (3.10 or
# newer) with only what grading needs, CPU-only torch; any failure stops the build.
set -euo pipefail
ROOT="${{DLWORKBOOK_AUTOGRADER_ROOT:-/autograder}}"
SOURCE="$ROOT/source"
VENV="$SOURCE/.venv"
PYTHON="${{DLWORKBOOK_SETUP_PYTHON:-python3}}"
export DEBIAN_FRONTEND=noninteractive
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  apt-get update && apt-get install -y --no-install-recommends python3 python3-venv
fi
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= {minimum} else "setup.sh: grading needs Python {minimum_text} or newer, this image has " + sys.version.split()[0])'
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  version="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  apt-get update && apt-get install -y --no-install-recommends "python$version-venv"
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --no-cache-dir --upgrade pip
"$VENV/bin/python" -m pip install --no-cache-dir --index-url {torch_index} {torch_requirements}
"$VENV/bin/python" -m pip install --no-cache-dir -r "$SOURCE/{requirements}"
"$VENV/bin/python" -c 'import torch; assert torch.version.cuda is None, "a CUDA build of torch was installed"; print("torch", torch.__version__, "(CPU only)")'
# The learner's code runs as a dedicated uid: it may read the Python
# installation and the public course, never the instructor's files.
chmod 0711 "$ROOT" "$SOURCE"
for entry in "$SOURCE"/* "$SOURCE"/.[!.]*; do
  case "${{entry##*/}}" in
    autograder|assignments|datasets|.venv) chmod -R go+rX "$entry" ;;
    *) chmod -R go-rwx "$entry" ;;
  esac
done
# The reference solution must earn every point here, or the build fails.
cd "$SOURCE"
PYTHONPATH="$SOURCE" DLWORKBOOK_COURSE="$SOURCE" OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
  "$VENV/bin/python" -m autograder.gradescope check --assignment {assignment}{exercise_options}
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope entry point for dlworkbook's {assignment} autograder
# (generated by `python -m autograder gradescope {assignment}`; see autograder/gradescope.py).
# Grades the one notebook in $ROOT/submission into $ROOT/results/results.json;
# a notebook of another assignment, or an unreadable one, gets 0 and the reason.
set -uo pipefail
ROOT="${{DLWORKBOOK_AUTOGRADER_ROOT:-/autograder}}"
SOURCE="$ROOT/source"
PYTHON="${{DLWORKBOOK_AUTOGRADER_PYTHON:-$SOURCE/.venv/bin/python}}"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH="$SOURCE" DLWORKBOOK_COURSE="$SOURCE" PYTHONDONTWRITEBYTECODE=1
mkdir -p "$ROOT/results"
cd "$SOURCE"
"$PYTHON" -m autograder.gradescope run --root "$ROOT" --assignment {assignment}{exercise_options}
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then  # the grader could not even start
  printf '{{"score": 0, "execution_time": 0, "output": "The autograder failed to start (exit %d): this is not your fault; please tell your instructor.", "tests": []}}\n' \
    "$status" > "$ROOT/results/results.json"
fi
exit 0
"""


def _exercise_options(exercises: list[str]) -> str:
    return "".join(f" --exercise {exercise}" for exercise in exercises)


def scripts(assignment_id: str, exercises: list[str]) -> dict[str, str]:
    """setup.sh, run_autograder and requirements-grading.txt for one assignment."""
    torch_lines, pypi_lines = requirement_lines(grading_packages(assignment_id), _pins())
    options = _exercise_options(exercises)
    return {
        "setup.sh": SETUP_SH.format(assignment=assignment_id, minimum=MINIMUM_PYTHON,
                                    minimum_text=".".join(map(str, MINIMUM_PYTHON)), torch_index=TORCH_CPU_INDEX,
                                    torch_requirements=" ".join(f"'{line}'" for line in torch_lines),
                                    requirements=REQUIREMENTS_FILE, exercise_options=options),
        "run_autograder": RUN_AUTOGRADER.format(assignment=assignment_id, exercise_options=options),
        REQUIREMENTS_FILE: "# What grading needs besides torch (installed by setup.sh from PyTorch's CPU index).\n"
                           + "\n".join(pypi_lines) + "\n",
    }


# --------------------------------------------------------------------------
# The zip
# --------------------------------------------------------------------------


def _course_files(root: Path, assignment_id: str) -> list[Path]:
    """The course files the zip carries (relative to the course root)."""
    wanted: list[Path] = []

    def add_tree(folder: Path, skip: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        for path in sorted((root / folder).rglob("*")):
            relative = path.relative_to(root)
            if path.is_file() and not SKIPPED & set(relative.parts) and not path.name.endswith((".pyc", ".pyo")) \
                    and not any(relative.is_relative_to(folder / name) for name in skip):
                wanted.append(relative)

    checks = root / "autograder" / "checks"
    others = {p.name for p in checks.iterdir() if p.is_dir() and p.name != assignment_id}
    add_tree(Path("autograder"), skip={f"checks/{name}" for name in others})
    add_tree(Path("solutions") / assignment_id)
    add_tree(Path("assignments") / assignment_id)
    add_tree(Path("datasets"), skip={"sample_class"})
    return wanted


def build(assignment_id: str, output: str | Path | None = None, exercises: list[str] | None = None) -> Path:
    """Write the autograder zip; NotebookError for an unknown assignment or
    exercise, or a course without its secret."""
    from autograder.course import course_root, load_assignment
    from autograder.seeds import SECRET_FILE

    assignment = load_assignment(assignment_id)
    exercises = list(exercises or [])
    unknown = [name for name in exercises if name not in assignment.exercises]
    if unknown:
        raise NotebookError(f"{assignment_id} has no exercise {', '.join(unknown)} (it has: {', '.join(assignment.exercises)})")
    root = course_root()
    if not (root / SECRET_FILE).is_file():
        raise NotebookError(f"no course secret at {root / SECRET_FILE}: run `python -m autograder secret` once")
    output = Path(output or f"gradescope_{assignment_id}.zip")
    generated = scripts(assignment_id, exercises)
    manifest = {"assignment": assignment_id, "exercises": exercises,
                "max_score": sum(t.points for t in assignment.tests if not exercises or t.exercise in exercises)}
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in generated.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100755 if name in ("setup.sh", "run_autograder") else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
        archive.writestr("gradescope.json", json.dumps(manifest, indent=2) + "\n")
        archive.write(root / SECRET_FILE, SECRET_FILE.as_posix())
        for relative in _course_files(root, assignment_id):
            archive.write(root / relative, relative.as_posix())
    return output


def unpack(archive: str | Path, source: str | Path) -> Path:
    """Extract a zip as Gradescope does (into /autograder/source), keeping
    the scripts executable."""
    source = Path(source)
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            target = zipped.extract(info, source)
            mode = info.external_attr >> 16
            if mode & 0o777:
                Path(target).chmod(mode & 0o777)
    return source


# --------------------------------------------------------------------------
# Inside Gradescope
# --------------------------------------------------------------------------


def submitted_notebooks(folder: Path) -> list[Path]:
    """The .ipynb files a student uploaded (in subfolders too), without
    Jupyter's checkpoints or macOS's archive clutter."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.rglob("*.ipynb")
                  if path.is_file() and not {".ipynb_checkpoints", "__MACOSX"} & set(path.relative_to(folder).parts))


def run(root: str | Path, assignment_id: str, exercises: list[str] | None = None) -> int:
    """Grade `<root>/submission` into `<root>/results/results.json` (always
    written); the table or the reason goes to stdout (the instructor's log)."""
    started = time.monotonic()
    root = Path(root)
    results = root / "results" / "results.json"
    options = batch.Options(exercises=tuple(exercises or ()), assignment=assignment_id)
    data: dict[str, Any]
    try:
        notebooks = submitted_notebooks(root / "submission")
        if len(notebooks) != 1:
            found = ", ".join(path.name for path in notebooks) or "none"
            reason = (f"submit exactly one .ipynb file, your {assignment_id} notebook "
                      f"(found {len(notebooks)}: {found})")
            data = batch.not_graded(assignment_id, options, reason, 0.0)
            data["extra_data"]["status"] = batch.STATUS_UNREADABLE
            print(reason)
        else:
            outcome = batch.grade_one(notebooks[0], notebooks[0].stem, None, options)
            if outcome["status"] == batch.STATUS_REFUSED:
                print(outcome["error"])
                reason = "the autograder could not isolate your code on this server: this is not your fault; please tell your instructor"
                data = batch.not_graded(assignment_id, options, reason, 0.0)
                data["extra_data"]["status"] = batch.STATUS_ERROR
            else:
                data = outcome["result"]
                print(outcome["table"] or outcome["error"])
    except Exception as error:  # noqa: BLE001 - the student always gets a results.json
        print(f"the grader failed: {type(error).__name__}: {error}")
        data = batch.not_graded(None, options, "the autograder failed: this is not your fault; please tell your "
                                "instructor", 0.0)
        data["extra_data"]["status"] = batch.STATUS_ERROR
    data["execution_time"] = round(time.monotonic() - started, 2)
    batch.write_atomic(results, data)
    return 0


def check(assignment_id: str, exercises: list[str] | None = None) -> int:
    """At image build: the reference solution earns every point, or exit 1."""
    from autograder import grading, report
    from autograder.course import load_assignment

    graded = grading.grade(load_assignment(assignment_id).source_path, exercises or None, allow_unconfined=True)
    print(report.table(graded))
    if not graded.results or graded.score != graded.max_score:
        print(f"setup check FAILED: the reference solution of {assignment_id} earned "
              f"{graded.score:g} of {graded.max_score:g} points in this environment", file=sys.stderr)
        return 1
    print(f"setup check: the reference solution of {assignment_id} earns {graded.score:g}/{graded.max_score:g}")
    return 0


def main(assignment_id: str, output: str | None = None, exercises: list[str] | None = None) -> int:
    """`python -m autograder gradescope`: build the zip."""
    try:
        path = build(assignment_id, output, exercises)
    except NotebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    with zipfile.ZipFile(path) as archive:
        count = len(archive.namelist())
    print(f"{path}: Gradescope autograder for {assignment_id} ({count} files; upload it as the autograder zip)")
    return 0


def _entry(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    for name in ("run", "check"):
        verb = verbs.add_parser(name)
        verb.add_argument("--assignment", required=True)
        verb.add_argument("--exercise", action="append", default=[])
        if name == "run":
            verb.add_argument("--root", default=DEFAULT_ROOT)
    args = parser.parse_args(argv)
    if args.verb == "run":
        return run(args.root, args.assignment, args.exercise)
    return check(args.assignment, args.exercise)


if __name__ == "__main__":
    raise SystemExit(_entry())
