"""A picture of the expression graph a learner's `Value` built (a1_autograd).

    from autograder.graph import draw
    out = (a * b + c).tanh(); out.backward()
    draw(out)                      # in a notebook: the picture; draw(out, path="graph.png") saves a PNG

Every node shows its `data` and `grad`; each operation is a small node of
its own between the operands and the result, labelled with the operation
(`+`, `*`, `tanh`, ...), as micrograd draws it. With graphviz installed
(the `graphviz` Python package and its `dot` program) graphviz lays it out;
otherwise matplotlib draws it, column by column from the leaves to the
output.

The learner names the parts of a `Value` as they like; the graph is read
from the usual names (micrograd's `_prev` and `_op`, or `_children`,
`parents`, `op`, ...), else from any attribute holding a tuple, list or set
of Values. Reading a graph never calls the learner's code beyond plain
attribute access.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHILD_ATTRIBUTES = ("_prev", "_children", "_parents", "prev", "children", "parents", "_inputs", "inputs", "_operands")
OP_ATTRIBUTES = ("_op", "op", "_operation", "operation", "_label_op")
MAX_NODES = 300


@dataclass
class Node:
    index: int
    data: Any
    grad: Any
    op: str = ""
    operands: list[int] = field(default_factory=list)  # indices of the nodes it was computed from (repeats kept)


def _operands_of(node: Any) -> list[Any]:
    """The Values `node` was computed from (empty for a leaf)."""
    for name in CHILD_ATTRIBUTES:
        value = getattr(node, name, None)
        if isinstance(value, (tuple, list, set, frozenset)):
            return list(value)
    try:
        attributes = vars(node)
    except TypeError:
        return []
    for value in attributes.values():
        if isinstance(value, (tuple, list, set, frozenset)) and value and all(isinstance(v, type(node)) for v in value):
            return list(value)
    return []


def _op_of(node: Any) -> str:
    for name in OP_ATTRIBUTES:
        value = getattr(node, name, None)
        if isinstance(value, str):
            return value
    return ""


def graph_of(root: Any, limit: int = MAX_NODES) -> list[Node]:
    """The nodes reachable from `root`, leaves first, `root` last: each with
    its data, grad, operation and operands. ValueError past `limit` nodes."""
    order: list[Any] = []
    seen: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:  # iterative depth-first search: deep graphs do not hit the recursion limit
        node, expanded = stack.pop()
        if expanded:
            if id(node) not in seen:
                seen[id(node)] = len(order)
                order.append(node)
            continue
        if id(node) in seen:
            continue
        stack.append((node, True))
        for operand in reversed(_operands_of(node)):
            if id(operand) not in seen:
                stack.append((operand, False))
        if len(stack) > 10 * limit:
            raise ValueError(f"this graph has more than {limit} nodes: draw a smaller one")
    if len(order) > limit:
        raise ValueError(f"this graph has {len(order)} nodes, more than {limit}: draw a smaller one")
    return [Node(i, getattr(n, "data", None), getattr(n, "grad", None), _op_of(n),
                 [seen[id(o)] for o in _operands_of(n) if id(o) in seen]) for i, n in enumerate(order)]


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return repr(value)[:12]
    return f"{value:.4g}"


def node_label(node: Node) -> str:
    return f"data {_number(node.data)} | grad {_number(node.grad)}"


def to_dot(nodes: list[Node]) -> str:
    """The graph in graphviz's DOT language, left to right."""
    lines = ["digraph Value {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=11];']
    for node in nodes:
        lines.append(f'  v{node.index} [shape=record, label="{{ v{node.index} | {node_label(node)} }}"];')
        if node.operands:
            op = node.op or "op"
            lines.append(f'  op{node.index} [shape=circle, label="{_escape(op)}"];')
            lines.append(f"  op{node.index} -> v{node.index};")
            for operand in node.operands:
                lines.append(f"  v{operand} -> op{node.index};")
    lines.append("}")
    return "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("{", "\\{").replace("}", "\\}").replace("|", "\\|")


def _columns(nodes: list[Node]) -> list[int]:
    """Column of each node: every result one past its deepest operand, each
    leaf just before its first consumer."""
    depth = [0] * len(nodes)
    for node in nodes:  # leaves first: operands come before their results
        if node.operands:
            depth[node.index] = 1 + max(depth[i] for i in node.operands)
    for node in nodes:  # a leaf sits just before its first consumer (no arrows across the picture)
        consumers = [depth[n.index] for n in nodes if node.index in n.operands]
        if not node.operands and consumers:
            depth[node.index] = min(consumers) - 1
    return depth


def figure(nodes: list[Node]) -> Any:
    """The graph drawn with matplotlib (a Figure, no window opened)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch

    columns = _columns(nodes)
    by_column: dict[int, list[int]] = {}
    for node in nodes:
        by_column.setdefault(columns[node.index], []).append(node.index)
    height = max(len(members) for members in by_column.values())
    x_step, y_step = 3.2, 1.1
    position: dict[int, tuple[float, float]] = {}
    for column, members in by_column.items():
        for row, index in enumerate(members):
            position[index] = (column * x_step, (row - (len(members) - 1) / 2) * y_step)
    width = max(columns) + 1
    fig = Figure(figsize=(min(2.6 + 2.6 * width, 24), min(1.2 + 0.8 * height, 16)))
    ax = fig.add_subplot()
    ax.set_axis_off()
    box = {"boxstyle": "round,pad=0.3", "facecolor": "#eef4fb", "edgecolor": "#4a78a8"}
    circle = {"boxstyle": "circle,pad=0.25", "facecolor": "#fff3d6", "edgecolor": "#b8860b"}
    for node in nodes:
        x, y = position[node.index]
        ax.text(x, y, f"v{node.index}\n{node_label(node)}", ha="center", va="center", fontsize=8, bbox=box, zorder=3)
        if node.operands:
            ox, oy = x - x_step / 2, y
            ax.text(ox, oy, node.op or "op", ha="center", va="center", fontsize=8, bbox=circle, zorder=3)
            ax.add_patch(FancyArrowPatch((ox, oy), (x - 0.9, y), arrowstyle="-|>", mutation_scale=10, color="#555555"))
            for k, operand in enumerate(node.operands):
                px, py = position[operand]
                bend = 0.25 * (k - (len(node.operands) - 1) / 2) if node.operands.count(operand) > 1 else 0.0
                ax.add_patch(FancyArrowPatch((px + 0.9, py), (ox - 0.25, oy), arrowstyle="-|>", mutation_scale=10,
                                             color="#555555", connectionstyle=f"arc3,rad={bend}"))
    xs = [p[0] for p in position.values()]
    ys = [p[1] for p in position.values()]
    ax.set_xlim(min(xs) - 1.4, max(xs) + 1.4)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_title("the graph your Value built (data and grad of each node; operations in circles)", fontsize=9)
    return fig


def _graphviz() -> Any | None:
    """The graphviz package, when it and its `dot` program are installed."""
    try:
        import graphviz  # type: ignore[import-not-found]
    except ImportError:
        return None
    return graphviz if shutil.which("dot") else None


def draw(root: Any, path: str | Path | None = None, backend: str | None = None) -> Any:
    """Draw the graph that ends at `root` (a learner's Value, after or before
    `backward()`). Returns what a notebook displays (a graphviz Source, or a
    matplotlib Figure); with `path`, also writes a PNG there. `backend`:
    "graphviz" or "matplotlib" (default: graphviz when installed)."""
    nodes = graph_of(root)
    graphviz = _graphviz() if backend in (None, "graphviz") else None
    if backend == "graphviz" and graphviz is None:
        raise RuntimeError("graphviz is not installed (pip install graphviz, and the graphviz program for `dot`)")
    if graphviz is not None:
        source = graphviz.Source(to_dot(nodes))
        if path is not None:
            Path(path).write_bytes(source.pipe(format="png"))
        return source
    fig = figure(nodes)
    if path is not None:
        fig.savefig(path, format="png", dpi=110, bbox_inches="tight")
    return fig

