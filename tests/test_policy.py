"""Does the rule for every answer cell (EXERCISES.md, general rules) catch
each construct that reaches into the interpreter or the grader, name it, and
leave ordinary code alone?"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import policy
from tests.submissions import ROOT, reference_submission

FORBIDDEN = {
    "import sys": "`import sys`",
    "import gc": "`import gc`",
    "from inspect import currentframe": "`from inspect import ...`",
    "import threading": "`import threading`",
    "import multiprocessing as mp": "`import multiprocessing`",
    "import subprocess": "`import subprocess`",
    "import ctypes": "`import ctypes`",
    "import importlib": "`import importlib`",
    "import builtins": "`import builtins`",
    "import autograder.compare": "`import autograder.compare`",
    "x = torch.sys.modules": "`torch.sys`",
    "exec('y = 1')": "`exec`",
    "f = eval": "`eval`",
    "c = compile('1', 'x', 'eval')": "`compile`",
    "m = __import__('os')": "`__import__`",
    "g = softmax.__globals__": "`.__globals__`",
    "d = torch.__dict__": "`.__dict__`",
    "s = object.__subclasses__()": "`.__subclasses__`",
    "f = e.__traceback__.tb_frame.f_back": "`.tb_frame`",
    "name = 'soft' + 'max'\nf = getattr(torch, name)": "`getattr` with a computed name",
    "from torch.overrides import _pop_mode": "switches off the grader's call tracing",
    "g = globals()": "`globals`",
}

ALLOWED = [
    "import torch\nfrom torch import nn\nimport torch.nn.functional as F\nimport math, os, random",
    "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.w = nn.Parameter(torch.zeros(3))\n"
    "    def forward(self, X):\n        return X @ self.w\n",
    "def evaluate(net):\n    net.eval()\n    return net.training",
    "class Value:\n    def __init__(self, data):\n        self.data = data\n    def __add__(self, other):\n        return Value(self.data + other.data)\n"
    "    __radd__ = __add__\n    def __repr__(self):\n        return f'{self.__class__.__name__}({self.data})'\n",
    "w = getattr(layer, 'weight')\nopt = torch.compile",
    "def f(x):\n    raise NotImplementedError()",
]


@pytest.mark.parametrize("source,named", list(FORBIDDEN.items()), ids=list(FORBIDDEN))
def test_each_construct_is_caught_and_named(source: str, named: str) -> None:
    found = policy.violations(source)
    assert any(named in item for item in found), found
    assert named in (policy.problem("softmax", source) or "")


@pytest.mark.parametrize("source", ALLOWED)
def test_ordinary_code_is_allowed(source: str) -> None:
    assert policy.violations(source) == []


def test_every_reference_answer_follows_the_rule() -> None:
    from autograder.course import known_assignments
    from autograder.submissions import reference_answers

    bad = {(a, e): policy.violations(s) for a in known_assignments() for e, s in reference_answers(a).items()
           if policy.violations(s)}
    assert not bad, bad


SWITCH_IN_ANOTHER_CELL = '''
import sys
sys.modules["autograder.guard"].CallTracer.__enter__ = lambda self: self

def accuracy(y_hat, y):
    return float((y_hat.argmax(dim=1) == y).double().mean())
'''
SOFTMAX_FORBIDDEN = '''
def softmax(X):
    return torch.softmax(X, dim=-1)
'''


@pytest.mark.slow
def test_a_cell_that_breaks_the_rule_costs_only_its_exercise_and_never_runs(tmp_path: Path) -> None:
    """The switch sits in accuracy's cell; softmax uses torch.softmax. The
    switch never runs, so softmax is still caught; every other exercise keeps
    its marks."""
    notebook = reference_submission("a3_softmax", tmp_path / "n.ipynb", accuracy=SWITCH_IN_ANOTHER_CELL,
                                    softmax=SOFTMAX_FORBIDDEN)
    out = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(notebook), "--json", str(out),
                           "--exercise", "accuracy", "--exercise", "softmax", "--exercise", "Flatten"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    tests = json.loads(out.read_text())["tests"]
    by_exercise: dict[str, list[dict]] = {}
    for test in tests:
        by_exercise.setdefault(test["extra_data"]["exercise"], []).append(test)
    assert all(t["score"] == 0 for t in by_exercise["accuracy"])
    assert "`import sys`" in by_exercise["accuracy"][0]["output"]
    assert all(t["score"] == 0 for t in by_exercise["softmax"])
    assert "torch.softmax" in by_exercise["softmax"][0]["output"]
    assert all(t["score"] == t["max_score"] for t in by_exercise["Flatten"])
