"""The learner bundle: `python -m autograder bundle OUT.zip`.

One zip with what a learner needs and nothing an instructor keeps:

    dlworkbook/
      README.md              how to start (written here)
      requirements.txt       the learner's part of the course's requirements
      pyproject.toml         so that `pip install -e .` installs the package and its pytest plugin
      scripts/learn.sh       one command: the environment, then JupyterLab on assignments/
      assignments/           the releases (answers stubbed, hidden tests removed)
      datasets/              the bundled data (not the maintainers' sample class)
      autograder/            the package with its public checks

Never: `solutions/` (references, hidden checks, the course secret), `tests/`,
nbgrader's gradebook and configuration, the other scripts. `bundle` refuses
to write an archive that would hold any of it, or a release notebook that
still holds a solution or a hidden test.

Unzipped, `bash dlworkbook/scripts/learn.sh` starts; in Colab, each
notebook's first code cell unpacks it (see the notebooks).
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath

ROOT_FOLDER = "dlworkbook"
# Whole folders of the course, as the learner gets them.
FOLDERS = ("assignments", "datasets", "autograder")
FILES = ("pyproject.toml", "scripts/learn.sh")
# Never in a bundle, wherever they appear.
NEVER_PARTS = frozenset({"solutions", "tests", "sample_class", "__pycache__", ".ipynb_checkpoints", ".git",
                         "autograded", "submitted", "feedback", "source"})
NEVER_NAMES = frozenset({"hidden_checks.py", ".grading_secret", "gradebook.db", "nbgrader_config.py", ".DS_Store"})
NEVER_SUFFIXES = (".pyc", ".pyo", ".egg-info")
RELEASE_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
# The learner's part of requirements.txt: running the notebooks and `pytest` on them.
LEARNER_PACKAGES = ("torch", "torchvision", "numpy", "matplotlib", "tqdm", "nbformat", "jupyter", "notebook",
                    "ipykernel", "pytest")

README = """# dlworkbook: the learner's bundle

An autograded deep-learning workbook in Python and PyTorch: Jupyter notebooks
with lessons, exercises and checks that tell you, after each exercise, what
your code got right and what it got wrong.

## Start

With Python 3.10 or later (the first time takes a few minutes: it creates
`.venv/` with torch, JupyterLab and the workbook's package):

```bash
bash scripts/learn.sh
```

JupyterLab opens on `assignments/`. Open `a1_autograd/a1_autograd.ipynb` and
go through it in order. After each answer cell, run its test cell: one ✓/✗
line per check, and a ✗ names the input, what was expected, what your code
gave and a hint.

中文版：`assignments/zh_CN/` 中是同样的作业（《动手学深度学习》的术语），检查结果也以中文显示。
In Chinese: the same workbook is in `assignments/zh_CN/`, its checks speaking Chinese.

## Check a whole notebook from a terminal

```bash
source .venv/bin/activate
pytest assignments/a3_softmax/a3_softmax.ipynb
```

One test per exercise, with the same checks as the notebook's test cells.
When your notebook is graded, hidden checks also run, on fresh random
inputs and edge cases: make your code right in general.

## Colab

Upload `dlworkbook-learner.zip` (this bundle) to the session's files, open
a notebook, and run its first code cell: it unpacks the bundle and makes
the checks importable.
"""


def _excluded(relative: PurePosixPath) -> bool:
    return (bool(NEVER_PARTS.intersection(relative.parts)) or relative.name in NEVER_NAMES
            or any(part.endswith(NEVER_SUFFIXES) for part in relative.parts))


def learner_requirements(course_requirements: str) -> str:
    """The lines of the course's requirements.txt that a learner needs."""
    kept = []
    for line in course_requirements.splitlines():
        requirement = line.split("#", 1)[0].strip()
        name = re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()
        if name in LEARNER_PACKAGES:
            kept.append(requirement)
    return "\n".join(["# What a learner needs (from the course's requirements.txt).", *kept]) + "\n"


def files_of(root: Path) -> list[tuple[Path, PurePosixPath]]:
    """(file on disk, path in the bundle) for everything the bundle copies."""
    found: list[tuple[Path, PurePosixPath]] = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            relative = PurePosixPath(path.relative_to(root).as_posix())
            if path.is_file() and not path.is_symlink() and not _excluded(relative):
                found.append((path, relative))
    for name in FILES:
        path = root / name
        if not path.is_file():
            raise FileNotFoundError(f"the bundle needs {name}, which is missing from {root}")
        found.append((path, PurePosixPath(name)))
    return found


def problems(names: list[str], read: dict[str, bytes]) -> list[str]:
    """What must never be in a learner bundle, among `names` (paths in the
    archive below the root folder) and the release notebooks' contents."""
    found = [f"{name}: instructor material" for name in names if _excluded(PurePosixPath(name))]
    for name, data in read.items():
        if name.startswith("assignments/") and name.endswith(".ipynb"):
            text = data.decode("utf-8", errors="replace")
            found += [f"{name}: holds {marker!r}" for marker in RELEASE_MARKERS if marker in text]
    return found


def build(out: str | Path, root: Path | None = None) -> Path:
    """Write the bundle of the course at `root` (default: this course) to `out`."""
    if root is None:
        from autograder.course import course_root

        root = course_root()
    files = files_of(root)
    contents = {str(relative): path.read_bytes() for path, relative in files}
    contents["requirements.txt"] = learner_requirements((root / "requirements.txt").read_text(encoding="utf-8")).encode()
    contents["README.md"] = README.encode()
    wrong = problems(sorted(contents), contents)
    if wrong:
        raise RuntimeError("refusing to write a learner bundle that holds:\n  " + "\n  ".join(wrong))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(contents):
            info = zipfile.ZipInfo(f"{ROOT_FOLDER}/{name}", date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if name.endswith(".sh") else 0o644) << 16
            archive.writestr(info, contents[name])
    return out


def main(out: str) -> int:
    """The `bundle` verb: write it, say what is in it."""
    path = build(out)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    releases = sorted(n for n in names if n.startswith(f"{ROOT_FOLDER}/assignments/") and n.endswith(".ipynb"))
    print(f"wrote {path}: {len(names)} files, {len(releases)} notebooks; "
          f"a learner unzips it and runs `bash {ROOT_FOLDER}/scripts/learn.sh`")
    return 0
