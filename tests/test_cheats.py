"""Can a submission fool or crash the grader? Each cheat below sits in one
answer cell of an otherwise correct notebook. Graded through the real
command line, each must get zero for its own exercise while every other
exercise keeps full marks, and grading must finish with exit 0."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.submissions import reference_submission

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "a3_softmax"

CHEATS: dict[str, tuple[str, str]] = {
    "forbidden_direct": ("softmax", '''
def softmax(X):
    return torch.softmax(X, dim=-1)
'''),
    "forbidden_method": ("softmax", '''
def softmax(X):
    return X.softmax(-1)
'''),
    "forbidden_getattr": ("softmax", '''
import importlib
def softmax(X):
    functional = importlib.import_module("torch.nn." + "functional")
    return getattr(functional, "soft" + "max")(X, dim=-1)
'''),
    "forbidden_torch_ops": ("cross_entropy", '''
def cross_entropy(logits, y):
    log_probs = torch.ops.aten._log_softmax.default(logits, 1, False)
    return -log_probs[torch.arange(len(y)), y].mean()
'''),
    "tracing_switched_off": ("softmax", '''
from torch.utils._python_dispatch import _disable_current_modes
def softmax(X):
    with _disable_current_modes():
        return torch.softmax(X, dim=-1)
'''),
    "patched_allclose": ("softmax", '''
torch.allclose = lambda *args, **kwargs: True
torch.testing.assert_close = lambda *args, **kwargs: None
torch.equal = lambda *args, **kwargs: True
def softmax(X):
    return torch.zeros_like(X)
'''),
    "patched_autograder": ("accuracy", '''
import autograder.compare, autograder.checking
autograder.compare.expect_number = lambda *args, **kwargs: None
autograder.compare.expect_tensor = lambda *args, **kwargs: None
autograder.checking.CheckFailed = type("Never", (Exception,), {})
def accuracy(y_hat, y):
    return 0.0
'''),
    "sys_exit_in_answer": ("Flatten", '''
import sys
class Flatten(nn.Module):
    def forward(self, X):
        sys.exit(0)
'''),
    "os_exit_in_answer": ("evaluate_accuracy", '''
import os
def evaluate_accuracy(net, data_iter):
    os._exit(0)
'''),
    "os_exit_at_top_level": ("accuracy", '''
import os
os._exit(3)
def accuracy(y_hat, y):
    return float((y_hat.argmax(dim=1) == y).float().mean())
'''),
    "infinite_loop": ("softmax", '''
def softmax(X):
    while True:
        pass
'''),
    "infinite_loop_at_top_level": ("cross_entropy", '''
while True:
    pass
'''),
    "memory_bomb": ("train_epoch", '''
def train_epoch(net, train_iter, loss, optimizer):
    hoard = []
    while True:
        hoard.append(torch.ones(50_000_000))
'''),
    "fake_results_on_stdout": ("softmax", '''
import json, sys
print(json.dumps({"score": 20, "tests": [{"name": "softmax: public checks", "score": 1, "max_score": 1}]}))
print("softmax: public checks    1/1 ✓")
def softmax(X):
    print("✓ softmax matches torch.softmax", file=sys.stderr)
    open("results.json", "w").write('{"score": 20}')
    return X
'''),
    "reads_the_reference": ("softmax", '''
import glob, json
def softmax(X):
    namespace = {"torch": torch}
    for path in glob.glob("/**/solutions/a3_softmax/a3_softmax.ipynb", recursive=True)[:1]:
        for cell in json.load(open(path))["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == "softmax":
                exec("".join(cell["source"]), namespace)
    return namespace["softmax"](X)
'''),
}


@pytest.mark.slow
def test_no_cheat_gains_or_harms(tmp_path: Path) -> None:
    paths = [reference_submission(ASSIGNMENT, tmp_path / f"{name}.ipynb", **{exercise: source})
             for name, (exercise, source) in CHEATS.items()]
    out = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", *map(str, paths), "--json-dir", str(out), "--seed", "7", "--quiet"],
        capture_output=True, text=True, timeout=1500, cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    problems = []
    for name, (exercise, _) in CHEATS.items():
        results = json.loads((out / f"{name}.json").read_text())
        for test in results["tests"]:
            mine = test["name"].startswith(exercise + ":")
            depends = exercise in test["extra_data"]["uses"]  # e.g. a threshold built from several answers
            if mine and test["score"] > 0:
                problems.append(f"{name}: {test['name']} scored {test['score']}")
            if not mine and not depends and test["score"] != test["max_score"]:
                problems.append(f"{name}: an innocent test lost points: {test['name']}\n{test['output']}")
    assert not problems, "\n".join(problems)
