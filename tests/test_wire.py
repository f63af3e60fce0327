"""Can the channel between grader and learner process be abused? Deadlines
on every read, bounded frames, stored archives only, replies bound to their
call, a fork server that survives long cells and is restarted when killed."""
from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import torch

from autograder import wire
from autograder.channel import HEADER, Channel, FrameTooLarge
from tests.submissions import ROOT, reference_submission


def test_a_half_sent_frame_never_blocks_past_the_deadline() -> None:
    ours, theirs = socket.socketpair()
    theirs.sendall(HEADER.pack(100) + b"only part")
    started = time.monotonic()
    assert Channel(ours).recv(0.3) is None
    assert time.monotonic() - started < 2


def test_a_frame_over_the_bound_is_refused_before_it_is_read() -> None:
    ours, theirs = socket.socketpair()
    theirs.sendall(HEADER.pack(10**12))
    with pytest.raises(FrameTooLarge):
        Channel(ours, max_bytes=1024).recv(1.0)


def test_a_closed_peer_is_an_eof() -> None:
    ours, theirs = socket.socketpair()
    theirs.close()
    with pytest.raises(EOFError):
        Channel(ours).recv(1.0)


def test_compressed_archives_are_refused() -> None:
    buffer = io.BytesIO()
    torch.save({"x": torch.zeros(1000)}, buffer)
    stored = buffer.getvalue()
    assert wire.decode(stored)["x"].shape == (1000,)
    recompressed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(stored)) as source, zipfile.ZipFile(recompressed, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            bomb.writestr(info.filename, source.read(info.filename))
    with pytest.raises(wire.NotData):
        wire.decode(recompressed.getvalue())
    with pytest.raises(wire.NotData):
        wire.decode(b"not a zip at all")


LONG_CELL = "# " + "a long comment line for a long answer cell\n# " * 2500 + '''
def softmax(X):
    Z = X - X.max(dim=-1, keepdim=True).values
    return Z.exp() / Z.exp().sum(dim=-1, keepdim=True)
'''
# Writes straight into every inherited descriptor: half a frame, or a whole
# forged reply (no nonce) saying "ok", then waits.
RAW_HALF_FRAME = '''
import os, time
def accuracy(y_hat, y):
    for fd in range(3, 40):
        try:
            os.write(fd, b"\\x00\\x00\\x00\\x00\\x00\\x00\\x01\\x00")
        except OSError:
            pass
    time.sleep(60)
'''
RAW_FORGED_REPLY = '''
import io, os, time
class Flatten(torch.nn.Module):
    def forward(self, X):
        buffer = io.BytesIO()
        torch.save({"kind": "reply", "ok": True, "value": {"out": X.reshape(len(X), -1), "grad": None,
                    "num_parameters": 0, "is_module": True}, "forbidden_used": [], "warnings": []}, buffer)
        frame = len(buffer.getvalue()).to_bytes(8, "big") + buffer.getvalue()
        for fd in range(3, 40):
            try:
                os.write(fd, frame)
            except OSError:
                pass
        time.sleep(60)
'''


@pytest.mark.slow
def test_wire_attacks_cost_only_their_exercise(tmp_path: Path) -> None:
    notebook = reference_submission("a3_softmax", tmp_path / "n.ipynb", softmax=LONG_CELL,
                                    accuracy=RAW_HALF_FRAME, Flatten=RAW_FORGED_REPLY)
    assert len(LONG_CELL) > 60_000
    out = tmp_path / "r.json"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(notebook), "--json", str(out),
                           "--exercise", "softmax", "--exercise", "accuracy", "--exercise", "Flatten",
                           "--exercise", "cross_entropy"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert time.monotonic() - started < 300
    scores: dict[str, list[float]] = {}
    outputs: dict[str, str] = {}
    for test in json.loads(out.read_text())["tests"]:
        scores.setdefault(test["extra_data"]["exercise"], []).append(test["score"] == test["max_score"])
        outputs[test["extra_data"]["exercise"]] = outputs.get(test["extra_data"]["exercise"], "") + test["output"]
    assert "out of turn" in outputs["Flatten"], outputs["Flatten"]
    assert all(scores["softmax"]) and all(scores["cross_entropy"]), scores
    assert not any(scores["accuracy"]) and not any(scores["Flatten"]), scores


@pytest.mark.slow
def test_a_killed_fork_server_is_restarted(tmp_path: Path) -> None:
    code = (
        "import os, signal\n"
        "from autograder import grading\n"
        "from autograder.zygote import ZygoteClient\n"
        f"first = grading.grade({str(ROOT / 'solutions/a3_softmax/a3_softmax.ipynb')!r}, ['accuracy'], seed=1)\n"
        "os.kill(ZygoteClient.shared().process.pid, signal.SIGKILL)\n"
        "ZygoteClient._shared.process.wait()\n"
        f"second = grading.grade({str(ROOT / 'solutions/a3_softmax/a3_softmax.ipynb')!r}, ['accuracy'], seed=1)\n"
        "print(first.score, second.score, first.max_score)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    first, second, most = done.stdout.split()
    assert first == second == most
