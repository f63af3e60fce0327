"""Unit tests of the engine's parts: the wire format, the forbidden-call
tracer and source scan, tensor comparison, and the in-notebook checker."""
from __future__ import annotations

import io
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder import wire
from autograder.checking import CheckFailed
from autograder.checks.a3_softmax import suite as a3_suite
from autograder.compare import expect_number, expect_tensor
from autograder.guard import CallTracer, scan_source
from autograder.selfcheck import CheckError, Checker

SOFTMAX_RULE = a3_suite.forbidden["softmax"]


class Evil:
    def __reduce__(self):  # what a learner would send to run code in the grader
        return (print, ("pwned",))


def test_wire_refuses_pickled_objects() -> None:
    buffer = io.BytesIO()
    torch.save({"value": Evil()}, buffer)
    with pytest.raises(Exception):
        wire.decode(buffer.getvalue())


def test_wire_round_trips_plain_data_and_detaches() -> None:
    X = torch.randn(2, 3, requires_grad=True) * 2
    back = wire.decode(wire.encode(wire.plain({"x": X, "n": 3, "f": 0.5, "s": "ok", "l": [None, True], "t": (1, 2)})))
    assert torch.equal(back["x"], X.detach()) and not back["x"].requires_grad
    assert back["n"] == 3 and back["l"] == [None, True] and back["t"] == (1, 2)
    assert wire.plain(object()) == {"__unsupported__": "object"}


@pytest.mark.parametrize("call", [
    lambda X: torch.softmax(X, -1),
    lambda X: X.softmax(-1),
    lambda X: F.softmax(X, dim=-1),
    lambda X: torch.nn.Softmax(dim=-1)(X),
    lambda X: getattr(torch, "soft" + "max")(X, -1),
    lambda X: torch.ops.aten._softmax.default(X, -1, False),
    lambda X: torch._C._VariableFunctions.softmax(X, -1),
    lambda X: torch.log_softmax(X, -1).exp(),
])
def test_tracer_sees_every_path_to_softmax(call) -> None:
    with CallTracer([("softmax", SOFTMAX_RULE)]) as tracer:
        call(torch.randn(2, 3))
    assert tracer.used, "a forbidden path went unseen"


def test_tracer_allows_plain_tensor_algebra_and_restores_modules() -> None:
    X = torch.randn(2, 3, requires_grad=True)
    forward = torch.nn.Softmax.forward
    with CallTracer([("softmax", SOFTMAX_RULE)]) as tracer:
        E = torch.exp(X - X.max(dim=-1, keepdim=True).values)
        (E / E.sum(dim=-1, keepdim=True)).sum().backward()
    assert tracer.used == []
    assert torch.nn.Softmax.forward is forward


@pytest.mark.parametrize("source,found", [
    ("def softmax(X):\n    return X.softmax(-1)", True),
    ("from torch.nn.functional import softmax as sm\ndef softmax(X):\n    return sm(X, -1)", True),
    ("def softmax(X):\n    return getattr(torch, 'softmax')(X, -1)", True),
    ("from torch.utils._python_dispatch import _disable_current_modes\ndef softmax(X): ...", True),
    ('def softmax(X):\n    """softmax over the last dimension"""\n    E = torch.exp(X)\n    return E / E.sum(-1, keepdim=True)', False),
    ("def cross_entropy(logits, y):\n    return -torch.log(softmax(logits)[range(len(y)), y]).mean()", False),
])
def test_source_scan(source: str, found: bool) -> None:
    assert bool(scan_source(source, "softmax", SOFTMAX_RULE)) is found


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=12), st.sampled_from([torch.float32, torch.float64]))
def test_expect_tensor_accepts_equal_and_rejects_perturbed(values, dtype) -> None:
    expected = torch.tensor(values, dtype=dtype)
    expect_tensor(expected.clone(), expected, "f(X)")
    worst = int(expected.abs().argmax())
    perturbed = expected.clone()
    perturbed[worst] += 1e-3 * (1 + abs(float(expected[worst])))
    with pytest.raises(CheckFailed, match=rf"worst element at \[{worst}\]"):
        expect_tensor(perturbed, expected, "f(X)")


def test_expect_tensor_names_shape_dtype_and_nan() -> None:
    expected = torch.zeros(2, 3)
    with pytest.raises(CheckFailed, match=r"expected shape \(2, 3\), got shape \(3, 2\)"):
        expect_tensor(torch.zeros(3, 2), expected, "f(X)")
    with pytest.raises(CheckFailed, match="expected dtype torch.float32, got torch.float64"):
        expect_tensor(torch.zeros(2, 3, dtype=torch.float64), expected, "f(X)")
    with pytest.raises(CheckFailed, match="got nan"):
        expect_tensor(torch.full((2, 3), math.nan), expected, "f(X)")
    with pytest.raises(CheckFailed, match="expected a Python float"):
        expect_number(torch.tensor(0.5), 0.5, "accuracy")


def _reference_softmax(X):
    E = torch.exp(X - X.max(dim=-1, keepdim=True).values)
    return E / E.sum(dim=-1, keepdim=True)


def test_checker_in_the_notebook_prints_ticks(capsys) -> None:
    Checker("a3_softmax")("softmax", _reference_softmax)
    out = capsys.readouterr()
    checks = len(a3_suite.definition("softmax").checks)
    assert checks >= 3 and out.out.count("✓") == checks and "✗" not in out.out and out.err == ""


def test_checker_names_the_bug_and_keeps_stderr_clean(capsys) -> None:
    def unstable(X):
        return torch.exp(X) / torch.exp(X).sum(dim=-1, keepdim=True)

    with pytest.raises(CheckError):
        Checker("a3_softmax")("softmax", unstable)
    out = capsys.readouterr()
    assert "✗ softmax stays finite" in out.out and "subtract each row's max" in out.out
    assert out.err == ""


def test_checker_refuses_forbidden_calls_in_the_notebook(capsys) -> None:
    with pytest.raises(CheckError):
        Checker("a3_softmax")("softmax", lambda X: X.softmax(-1))
    assert "no credit" in capsys.readouterr().out


def test_checker_reports_not_implemented(capsys) -> None:
    def stub(X):
        raise NotImplementedError()

    with pytest.raises(CheckError):
        Checker("a3_softmax")("softmax", stub)
    assert "not implemented yet" in capsys.readouterr().out


def test_tracer_wraps_python_functions_and_restores_them() -> None:
    import torch.optim.adam as adam_module

    from autograder.guard import Forbidden

    original = adam_module.adam
    rule = Forbidden(shown=("torch.optim.adam.adam",), python_functions=("torch.optim.adam.adam",))
    with CallTracer([("Adam", rule)]) as tracer:
        try:
            getattr(__import__("torch.optim.adam", fromlist=["x"]), "ad" + "am")([], [], [], [], [], [], lr=0.1)
        except Exception:
            pass  # the call's own failure must not hide the use
    assert tracer.used == ["Adam: torch.optim.adam.adam"]
    assert adam_module.adam is original


def test_tracer_sees_torch_ops_before_cpu_decomposition() -> None:
    from autograder.checks.a4_mlp import suite as a4_suite

    with CallTracer([("dropout", a4_suite.forbidden["dropout"])]) as tracer:
        getattr(torch.ops.aten, "drop" + "out")(torch.ones(4, 4), 0.5, True)
    assert tracer.used
