"""Are the messages between grader and learner process typed and checked on
arrival, do both runners give the same feedback (warnings included), and
does every report say how the learner's code was confined?"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import messages, wire
from autograder.checking import OutcomeKind
from tests.submissions import ROOT, reference_submission

WARNING_SOFTMAX = '''
import warnings
def softmax(X):
    warnings.warn("softmax says hello")
    Z = X - X.max(dim=-1, keepdim=True).values
    return Z.exp() / Z.exp().sum(dim=-1, keepdim=True)
'''


def test_messages_round_trip() -> None:
    error = messages.ErrorInfo("ValueError", "bad", (("<answer cell softmax>", 3, "x = 1"),), missing=None)
    for message in (messages.CellStart(2), messages.CellDone(2, error), messages.Ready(("namespaces",)),
                    messages.Reply(True, {"x": [1, 2.0]}, None, ("softmax: torch.softmax",), ("UserWarning: w",))):
        assert messages.unpack(messages.pack(message), messages.FROM_LEARNER) == message


@pytest.mark.parametrize("forged", [
    {"kind": "cell_start", "index": "3"},
    {"kind": "cell_start", "index": True},
    {"kind": "ready", "confinement": "everything"},
    {"kind": "reply", "ok": 1},
    {"kind": "reply", "ok": False, "error": {"type": 3, "message": "m"}},
    {"kind": "reply", "ok": True, "forbidden_used": [None]},
    {"kind": "call", "scenario": "autograder.x:y"},  # a grader message, not one a learner sends
    {"kind": "nonsense"},
    [1, 2, 3],
])
def test_forged_messages_are_refused(forged: object) -> None:
    with pytest.raises(messages.WireError):
        messages.unpack(wire.encode(forged), messages.FROM_LEARNER)


def test_outcome_kinds_compare_as_their_names() -> None:
    assert OutcomeKind("forbidden") is OutcomeKind.FORBIDDEN and OutcomeKind.TIMEOUT == "timeout"


@pytest.mark.slow
def test_grader_and_self_check_give_the_same_feedback_with_warnings(tmp_path: Path) -> None:
    notebook = reference_submission("a3_softmax", tmp_path / "warns.ipynb", softmax=WARNING_SOFTMAX)
    out = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(notebook), "--exercise", "softmax",
                           "--public-only", "--json", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    graded = json.loads(out.read_text())
    public = [t for t in graded["tests"] if t["extra_data"]["test"] == "softmax"][0]["output"]
    assert "note: UserWarning: softmax says hello" in public
    code = (WARNING_SOFTMAX + "\nimport torch\nfrom autograder.selfcheck import Checker\n"
            "Checker('a3_softmax')('softmax', softmax)\n")
    local = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert local.returncode == 0, local.stderr
    assert local.stdout.strip() == public.strip()


@pytest.mark.slow
def test_every_report_names_its_confinement(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "solutions/a3_softmax/a3_softmax.ipynb",
                           "--exercise", "accuracy", "--json", str(out)], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    level = json.loads(out.read_text())["extra_data"]["confinement"][0]
    assert f"confinement: {level} (" in done.stdout and level in ("full", "uid-only", "none")
    results = json.loads(out.read_text())
    assert results["extra_data"]["confinement"][-1] == "memory, time and file-size limits"
    assert all(t["extra_data"]["outcome"] == "passed" for t in results["tests"])
