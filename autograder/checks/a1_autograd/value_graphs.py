"""a1_autograd · Value's expression graphs as plain data, shared by both
sides: the scenario builds them from the learner's Value, the grader
replays them with torch as the oracle (see `value`). Also the graphs the
checks use: each operation alone, reused nodes, stacked diamonds, random
graphs drawn from a seeded Python RNG.
"""
from __future__ import annotations

import math
import operator
import random
from typing import Any

# --------------------------------------------------------------------------
# The operations, on learner Values and torch tensors alike.

# A graph is plain data: leaf values, then one operation per new node,
# numbered after the leaves (v0, v1, ...); the last node is the output.
#   ["vv", sym, i, j]  v_i sym v_j         sym in + - * /
#   ["vc", sym, i, c]  v_i sym c           c a Python number
#   ["cv", sym, c, i]  c sym v_i           (__radd__, __rsub__, __rmul__, __rtruediv__)
#   ["pow", i, p]      v_i ** p            p a Python number
#   ["neg", i]         -v_i
#   [name, i]          v_i.name()          name in relu, tanh, exp, log
BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def apply_op(nodes: list[Any], op: list[Any]) -> Any:
    """One operation on learner Values or on torch tensors alike."""
    kind = op[0]
    if kind == "vv":
        return BINARY[op[1]](nodes[op[2]], nodes[op[3]])
    if kind == "vc":
        return BINARY[op[1]](nodes[op[2]], op[3])
    if kind == "cv":
        return BINARY[op[1]](op[2], nodes[op[3]])
    if kind == "pow":
        return nodes[op[1]] ** op[2]
    if kind == "neg":
        return -nodes[op[1]]
    return getattr(nodes[op[1]], kind)()


def operands(op: list[Any]) -> list[int]:
    """The node index in each operand slot of `op`."""
    kind = op[0]
    if kind == "vv":
        return [op[2], op[3]]
    if kind == "vc":
        return [op[2]]
    if kind == "cv":
        return [op[3]]
    return [op[1]]


def op_key(op: list[Any]) -> str:
    """Which rule an operation exercises: "+", "r-" (number - Value), "**", "tanh", ..."""
    kind = op[0]
    if kind in ("vv", "vc"):
        return op[1]
    if kind == "cv":
        return "r" + op[1]
    return "**" if kind == "pow" else kind


def op_text(op: list[Any], k: int) -> str:
    """`v5 = v2 * 3` for the message."""
    kind = op[0]
    if kind == "vv":
        rhs = f"v{op[2]} {op[1]} v{op[3]}"
    elif kind == "vc":
        rhs = f"v{op[2]} {op[1]} {repr(op[3])}"
    elif kind == "cv":
        rhs = f"{repr(op[2])} {op[1]} v{op[3]}"
    elif kind == "pow":
        rhs = f"v{op[1]} ** {repr(op[2])}"
    elif kind == "neg":
        rhs = f"-v{op[1]}"
    else:
        rhs = f"v{op[1]}.{kind}()"
    return f"v{k} = {rhs}"


def graph_text(leaves: list[float], ops: list[list[Any]], limit: int = 40) -> str:
    lines = [f"v{i} = Value({v!r})" for i, v in enumerate(leaves)]
    lines += [op_text(op, len(leaves) + k) for k, op in enumerate(ops)]
    lines.append(f"v{len(leaves) + len(ops) - 1}.backward()")
    if len(lines) > limit:
        lines = lines[: limit - 1] + [f"... ({len(lines) - limit + 1} more lines)"]
    return "\n".join("    " + line for line in lines)


# --------------------------------------------------------------------------
# The graphs the checks use (built grader side, sent as data).

# Each operation alone, then followed by `* 2.5` (the chain rule). In the order
# the lesson builds them: unary -, a - b and a / b are usually written with +, * and **.
SINGLE_OPS: list[tuple[str, list[float], list[Any]]] = [
    ("a + b", [1.5, -0.5], ["vv", "+", 0, 1]),
    ("a * b", [1.5, -0.5], ["vv", "*", 0, 1]),
    ("a + 2", [1.5], ["vc", "+", 0, 2]),
    ("a * 3", [1.5], ["vc", "*", 0, 3]),
    ("2 + a", [1.5], ["cv", "+", 2, 0]),
    ("3 * a", [1.5], ["cv", "*", 3, 0]),
    ("a ** 3", [1.5], ["pow", 0, 3]),
    ("a ** -2", [1.5], ["pow", 0, -2]),
    ("a ** 0.5", [1.5], ["pow", 0, 0.5]),
    ("a ** -1.5", [1.5], ["pow", 0, -1.5]),
    ("-a", [1.5], ["neg", 0]),
    ("a - b", [1.5, -0.5], ["vv", "-", 0, 1]),
    ("a - 2", [1.5], ["vc", "-", 0, 2]),
    ("2 - a", [1.5], ["cv", "-", 2, 0]),
    ("a / b", [1.5, -0.5], ["vv", "/", 0, 1]),
    ("a / 4", [1.5], ["vc", "/", 0, 4]),
    ("2 / a", [1.5], ["cv", "/", 2, 0]),
    ("a.relu() for a > 0", [1.5], ["relu", 0]),
    ("a.relu() for a < 0", [-0.5], ["relu", 0]),
    ("a.tanh()", [0.7], ["tanh", 0]),
    ("a.exp()", [0.7], ["exp", 0]),
    ("a.log()", [1.5], ["log", 0]),
]


def single_op_graphs(then_scale: bool) -> list[tuple[str, list[float], list[list[Any]]]]:
    graphs = []
    for text, leaves, op in SINGLE_OPS:
        ops = [op]
        label = f"out = {text}, a = {leaves[0]}" + (f", b = {leaves[1]}" if len(leaves) > 1 else "")
        if then_scale:
            ops = [op, ["vc", "*", len(leaves), 2.5]]
            label = f"out = ({text}) * 2.5, a = {leaves[0]}" + (f", b = {leaves[1]}" if len(leaves) > 1 else "")
        graphs.append((label, list(leaves), ops))
    return graphs


REUSE_GRAPHS: list[tuple[str, list[float], list[list[Any]]]] = [
    ("out = a * a, a = 1.5", [1.5], [["vv", "*", 0, 0]]),
    ("out = a + a, a = 1.5", [1.5], [["vv", "+", 0, 0]]),
    ("out = a / a + a, a = 1.5", [1.5], [["vv", "/", 0, 0], ["vv", "+", 1, 0]]),
    ("u = a.tanh(); out = u * 2 + u.exp(), a = 0.3 (u feeds two parents)", [0.3],
     [["tanh", 0], ["vc", "*", 1, 2], ["exp", 1], ["vv", "+", 2, 3]]),
    ("u = a * b; out = (u + a) * (u - b), a = 0.8, b = -1.2", [0.8, -1.2],
     [["vv", "*", 0, 1], ["vv", "+", 2, 0], ["vv", "-", 2, 1], ["vv", "*", 3, 4]]),
]


def stacked_diamonds(levels: int, start: float = 0.4) -> tuple[list[float], list[list[Any]]]:
    """x -> u = x.tanh() -> u * 2 and u + 1 -> their product -> next level.
    A naive recursive backward runs the bottom of the stack 2**levels times."""
    ops: list[list[Any]] = []
    top = 0
    for _ in range(levels):
        base = 1 + len(ops)
        ops += [["tanh", top], ["vc", "*", base, 2], ["vc", "+", base, 1], ["vv", "*", base + 1, base + 2]]
        top = base + 3
    return [start], ops


# Random graphs, generated here (grader side) from a seeded Python RNG.
KINDS: list[tuple[str, ...]] = [
    ("vv", "+"), ("vv", "-"), ("vv", "*"), ("vv", "/"),
    ("vc", "+"), ("vc", "-"), ("vc", "*"), ("vc", "/"),
    ("cv", "+"), ("cv", "-"), ("cv", "*"), ("cv", "/"),
    ("pow",), ("neg",), ("relu",), ("tanh",), ("exp",), ("log",),
]
CONSTANTS = (2, 3, -1, 0.5, -2.5, 1.5, 4, -0.75)
EXPONENTS = (2, 3, -1, -2, 0.5, -0.5, 1.5, 2.5)


def _float_of(op: list[Any], data: list[float]) -> float | None:
    """The value of `op` in plain floats, or None outside a safe domain."""
    kind = op[0]
    try:
        if kind in ("vv", "vc", "cv"):
            a, b = ((data[op[2]], data[op[3]]) if kind == "vv" else (data[op[2]], op[3]) if kind == "vc"
                    else (op[2], data[op[3]]))
            if op[1] == "/" and abs(b) < 0.2:
                return None
            return float(BINARY[op[1]](a, b))
        a = data[operands(op)[0]]
        if kind == "pow":
            p = op[2]
            if (p != int(p) and a < 0.1) or (p < 0 and abs(a) < 0.2) or abs(a) > 6:
                return None
            return float(a**p)
        if kind == "log":
            return math.log(a) if a > 0.05 else None
        if kind == "exp":
            return math.exp(a) if a < 3 else None
        if kind == "relu":
            return max(a, 0.0) if abs(a) > 1e-3 else None
        return {"neg": -a, "tanh": math.tanh(a)}[kind]
    except (ZeroDivisionError, OverflowError, ValueError):
        return None


def random_graph(rng: random.Random, num_leaves: int, num_ops: int) -> tuple[list[float], list[list[Any]]]:
    """A random expression graph using every kind of operation, with reused
    nodes; every node feeds the output."""
    leaves = [round(rng.choice((-1, 1)) * rng.uniform(0.2, 2.0), 4) for _ in range(num_leaves)]
    data = list(leaves)
    ops: list[list[Any]] = []
    used = [0] * num_leaves

    def pick() -> int:
        return rng.randrange(max(0, len(data) - 3), len(data)) if rng.random() < 0.5 else rng.randrange(len(data))

    kinds = list(KINDS)
    rng.shuffle(kinds)  # every kind early on, then at random
    while len(ops) < num_ops:
        kind = kinds.pop() if kinds else rng.choice(KINDS)
        for _ in range(50):
            i = pick()
            if kind[0] == "vv":
                j = i if rng.random() < 0.2 else pick()
                op: list[Any] = ["vv", kind[1], i, j]
            elif kind[0] == "vc":
                op = ["vc", kind[1], i, rng.choice(CONSTANTS)]
            elif kind[0] == "cv":
                op = ["cv", kind[1], rng.choice(CONSTANTS), i]
            elif kind[0] == "pow":
                op = ["pow", i, rng.choice(EXPONENTS)]
            else:
                op = [kind[0], i]
            value = _float_of(op, data)
            if value is not None and abs(value) < 30 and (abs(value) > 1e-3 or (kind[0] == "relu" and value == 0.0)):
                break
        else:
            continue
        ops.append(op)
        data.append(value)
        used.append(0)
        for index in operands(op):
            used[index] += 1
    # Sum every node nobody uses yet into the output, so all of them matter.
    dangling = [i for i in range(len(data)) if used[i] == 0]
    top = dangling[0]
    for index in dangling[1:]:
        ops.append(["vv", "+", top, index])
        data.append(data[top] + data[index])
        top = len(data) - 1
    if top == len(data) - 1 and not ops:
        ops.append(["vc", "*", top, 1.5])
    return leaves, ops


def random_graphs(seed: int, count: int, num_leaves: tuple[int, int], num_ops: tuple[int, int],
                  label: str) -> list[tuple[str, list[float], list[list[Any]]]]:
    rng = random.Random(seed)
    graphs = []
    for case in range(count):
        leaves, ops = random_graph(rng, rng.randint(*num_leaves), rng.randint(*num_ops))
        graphs.append((f"random graph {case} ({len(ops)} operations{label})", leaves, ops))
    return graphs
