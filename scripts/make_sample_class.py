"""Write datasets/sample_class/<assignment>.json: the learners of the main
job's sample class and the catalogued bugs each carries.

The catalogue (tests/catalogue/<id>.py) stays the one source of truth; this
file is generated from it so that the package never imports tests/, and
tests/test_sample_class.py fails when the two drift apart.

    python scripts/make_sample_class.py            # every assignment with a catalogue
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.course import load_assignment  # noqa: E402
from autograder.demo import LEARNERS, SAMPLE_CLASS  # noqa: E402


def sample_class(assignment_id: str) -> dict[str, dict[str, dict[str, str]]]:
    """learner -> exercise -> {"variant", "source"}: learner i carries, for
    every len(LEARNERS)-th exercise starting at i, one catalogued bug."""
    module = importlib.import_module(f"tests.catalogue.{assignment_id}")
    wrong: dict[str, list] = {}
    for variant in module.VARIANTS:
        if not variant.correct:
            wrong.setdefault(variant.exercise, []).append(variant)
    exercises = list(load_assignment(assignment_id).exercises)
    learners: dict[str, dict[str, dict[str, str]]] = {}
    for index, learner in enumerate(LEARNERS):
        learners[learner] = {}
        for exercise in exercises[index :: len(LEARNERS)]:
            variants = wrong.get(exercise, [])
            if variants:
                variant = variants[index % len(variants)]
                learners[learner][exercise] = {"variant": variant.name, "source": variant.source}
    return learners


def render(assignment_id: str) -> str:
    return json.dumps({"assignment": assignment_id, "learners": sample_class(assignment_id)},
                      indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def catalogued() -> list[str]:
    import tests.catalogue as catalogue

    return sorted(info.name for info in pkgutil.iter_modules(catalogue.__path__))


def main() -> None:
    folder = ROOT / SAMPLE_CLASS
    folder.mkdir(parents=True, exist_ok=True)
    for assignment_id in catalogued():
        (folder / f"{assignment_id}.json").write_text(render(assignment_id), encoding="utf-8")
        print(f"wrote {SAMPLE_CLASS / assignment_id}.json")


if __name__ == "__main__":
    main()
