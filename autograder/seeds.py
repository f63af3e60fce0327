"""Seeds: reproducible for the instructor, unpredictable for the learner.

The grading seed of a submission comes from the course secret (a file kept
with the instructor sources, never released) and the submission's identity
(its assignment and answer cells): regrading the same submission draws the
same hidden inputs and gives the same results; a learner who cannot read the
secret cannot predict them. The learner's process gets a seed derived from
the grading seed one way, so `torch.initial_seed()` tells it nothing.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

from autograder.course import course_root
from autograder.notebook import NotebookError

SECRET_FILE = Path("solutions") / ".grading_secret"  # in the course root; nbgrader releases solutions/<id>/ only


def secret_path() -> Path:
    return course_root() / SECRET_FILE


def make_secret(force: bool = False) -> Path:
    """Write a fresh course secret (the instructor does this once)."""
    path = secret_path()
    if path.exists() and not force:
        return path
    path.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def _secret() -> str:
    path = secret_path()
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        raise NotebookError(f"no course secret at {path}: run `python -m autograder secret` once") from None


def grading_seed(assignment_id: str, answers: dict[str, str]) -> int:
    """The seed of a submission: the same answers always get the same one."""
    identity = json.dumps({"assignment": assignment_id, "answers": answers}, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(f"{_secret()}\n{identity}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def learner_seed(grading_seed: int) -> int:
    """The learner process's torch seed: derived one way from the grading seed."""
    return int.from_bytes(hashlib.sha256(f"learner/{grading_seed}".encode()).digest()[:6], "little")
