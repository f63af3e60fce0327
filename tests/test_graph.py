"""Does `autograder.graph.draw` picture the graph a learner's `Value`
built (nodes with data and grad, edges by operation), whatever the learner
named its parts, and write a PNG?"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from autograder.graph import draw, graph_of, node_label, to_dot
from autograder.submissions import reference_answers

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def Value() -> type:
    """The reference Value of a1 (micrograd's names: _prev, _op)."""
    namespace: dict[str, Any] = {"math": math}
    exec(reference_answers("a1_autograd")["Value"], namespace)  # noqa: S102 - the course's own reference
    return namespace["Value"]


class OtherNames:
    """A learner's Value with other names for its parts."""

    def __init__(self, data: float, parents: tuple = (), op: str = "") -> None:
        self.data, self.grad, self.parents, self.op = data, 0.0, parents, op

    def __mul__(self, other: "OtherNames") -> "OtherNames":
        return OtherNames(self.data * other.data, (self, other), "*")


def test_draw_writes_a_png_of_the_neuron(Value: type, tmp_path: Path) -> None:
    x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(6.8813735870195432)
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    path = tmp_path / "neuron.png"
    shown = draw(o, path=path, backend="matplotlib")
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 5_000
    assert shown.__class__.__name__ == "Figure"
    texts = [text.get_text() for text in shown.axes[0].texts]
    assert "tanh" in texts and texts.count("*") == 2 and texts.count("+") == 2
    assert any("data 0.7071 | grad 1" in text for text in texts)  # the output, after backward()
    assert any("data -3 | grad 1" in text for text in texts)  # w1: d o / d w1 = x1 * (1 - o**2) = 1


def test_the_graph_has_every_node_once_with_data_grad_and_operation(Value: type) -> None:
    a = Value(1.5)
    out = (a * a + a).log()  # a used three times
    out.backward()
    nodes = graph_of(out)
    assert len(nodes) == 4  # a, a * a, + a, log
    assert [node.op for node in nodes] == ["", "*", "+", "log"]
    assert nodes[1].operands == [0, 0] and nodes[2].operands == [1, 0]
    assert node_label(nodes[0]) == f"data 1.5 | grad {(2 * 1.5 + 1) / (1.5**2 + 1.5):.4g}"  # d log(a² + a) / da
    dot = to_dot(nodes)
    assert dot.startswith("digraph Value {") and dot.count("-> op1;") == 2
    assert 'op3 [shape=circle, label="log"]' in dot


def test_other_names_for_the_parts_of_a_value() -> None:
    a, b = OtherNames(2.0), OtherNames(3.0)
    nodes = graph_of(a * b)
    assert [node.op for node in nodes] == ["", "", "*"] and nodes[2].operands == [0, 1]


def test_a_deep_graph_is_walked_without_recursion_and_a_huge_one_refused(Value: type) -> None:
    x = Value(0.5)
    for _ in range(250):
        x = x * 1.0  # 250 products, each with a constant leaf: 501 nodes
    with pytest.raises(ValueError, match="more than 300"):
        graph_of(x)
    assert len(graph_of(x, limit=1000)) == 501


def test_a_value_failure_says_how_to_draw_the_graph() -> None:
    from autograder.checking import CheckFailed
    from autograder.checks.a1_autograd.value import judge_value_graph

    leaves, ops = [1.5], [["tanh", 0]]
    wrong = {"grad_at_start": [0.0, 0.0], "data": [1.5, math.tanh(1.5)], "grad": [0.5, 1.0], "leaf_writes": [1]}
    with pytest.raises(CheckFailed) as failure:
        judge_value_graph(wrong, leaves, ops, "out = a.tanh(), a = 1.5")
    assert "from autograder.graph import draw; draw(v1)" in failure.value.message
