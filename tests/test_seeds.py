"""Are hidden inputs reproducible for the instructor and unpredictable for
the learner? The seed comes from the course secret and the submission; the
learner's process never sees it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import seeds
from autograder.submissions import reference_answers
from tests.submissions import ROOT, reference_submission

SEED_PEEK = '''
def accuracy(y_hat, y):
    return float(torch.initial_seed())
'''


def test_seed_depends_on_the_submission_and_is_stable() -> None:
    answers = reference_answers("a3_softmax")
    first = seeds.grading_seed("a3_softmax", answers)
    assert first == seeds.grading_seed("a3_softmax", dict(answers))
    changed = dict(answers, softmax=answers["softmax"] + "\n# edited")
    assert seeds.grading_seed("a3_softmax", changed) != first
    assert seeds.learner_seed(first) != first


@pytest.mark.slow
def test_regrading_gives_byte_identical_results_and_hides_the_seed(tmp_path: Path) -> None:
    notebook = reference_submission("a3_softmax", tmp_path / "peek.ipynb", accuracy=SEED_PEEK)
    outputs = []
    for run in range(2):
        out = tmp_path / f"r{run}.json"
        done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(notebook), "--json", str(out),
                               "--exercise", "accuracy", "--exercise", "softmax"],
                              capture_output=True, text=True, cwd=ROOT, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        data = json.loads(out.read_text())
        data.pop("execution_time", None)  # timings may differ; nothing else may
        data.get("extra_data", {}).pop("timing", None)
        outputs.append(json.dumps(data, sort_keys=True))
    assert outputs[0] == outputs[1]
    results = json.loads(outputs[0])
    seed = results["extra_data"]["seed"]
    assert seed == seeds.grading_seed("a3_softmax", {**reference_answers("a3_softmax"), "accuracy": SEED_PEEK})
    accuracy_output = "\n".join(t["output"] for t in results["tests"] if t["extra_data"]["exercise"] == "accuracy")
    assert f"got {seed}" not in accuracy_output and f"{float(seed)}" not in accuracy_output
