"""a1_autograd · Value: what is forbidden, hints, the scenarios that build
expression graphs (see `value_graphs`) from the learner's Value, and the
checks that replay them with torch in float64 as the oracle.
"""
from __future__ import annotations

import itertools
import math
from typing import Any

import torch

from autograder.checking import CheckFailed, Context, LearnerError, OutcomeKind
from autograder.checks.a1_autograd import suite
from autograder.checks.a1_autograd.value_graphs import (
    BINARY,
    REUSE_GRAPHS,
    apply_op,
    graph_text,
    op_key,
    op_text,
    operands,
    random_graphs,
    single_op_graphs,
    stacked_diamonds,
)
from autograder.guard import forbid
from autograder.scenarios import Learner

# Value is pure Python: every torch call made while it runs is a use.
suite.forbid("Value", forbid(shown=("torch",), any_torch=True, whole_modules=("torch",)))

# Hints: one sentence naming the likely bug (RULE_HINTS: one per operation's backward rule).
RULE_HINTS = {
    "+": "the backward of a + b passes out.grad to both operands: a.grad += out.grad; b.grad += out.grad",
    "-": "a - b is a + (-b): its backward adds out.grad to a.grad and -out.grad to b.grad",
    "*": "the backward of a * b is a.grad += b.data * out.grad; b.grad += a.data * out.grad",
    "/": "a / b is a * b**-1: d/da = 1/b and d/db = -a/b**2, each times out.grad",
    "r+": "number + Value calls Value.__radd__(self, other): define it (return self + other)",
    "r-": "number - Value calls Value.__rsub__(self, other), which must compute other - self (not self - other)",
    "r*": "number * Value calls Value.__rmul__(self, other): define it (return self * other)",
    "r/": "number / Value calls Value.__rtruediv__(self, other), which must compute other / self (other * self**-1)",
    "**": "the backward of a ** p (p a number) is a.grad += p * a**(p - 1) * out.grad",
    "neg": "-a is a * -1: its backward adds -out.grad to a.grad",
    "relu": "relu's backward passes out.grad where the input is > 0 and nothing elsewhere: a.grad += (out.data > 0) * out.grad",
    "tanh": "d tanh(a)/da = 1 - tanh(a)**2: a.grad += (1 - t**2) * out.grad with t = out.data",
    "exp": "d exp(a)/da = exp(a): a.grad += out.data * out.grad",
    "log": "d log(a)/da = 1/a: a.grad += out.grad / a.data",
}
HINT_WRAP_NUMBER = "wrap plain numbers first: other = other if isinstance(other, Value) else Value(other)"
HINT_ACCUMULATE = ("gradients must accumulate: use += in every backward rule, not =; a node used twice (a * a, or "
                   "feeding two parents) receives a contribution from each use")
HINT_VISITED_TWICE = ("backward visited a node more than once: build one topological order (a visited set, each node "
                      "once), then call each node's backward rule in reverse order")
HINT_SEED = "backward() starts by setting the output's own grad to 1.0 (d out / d out = 1)"
HINT_START_ZERO = "every Value starts with grad = 0.0 (leaves and results of operations alike)"
HINT_NOT_VALUE = "every operation returns a new Value, built from the operands' .data, that remembers its operands"
HINT_NO_RESET = ("backward() adds into the grads (+=) and never resets its ancestors: only the output's own grad is "
                 "set to 1.0 (as in PyTorch, gradients accumulate until you zero them)")
# Said under every graph a failure lists: the lines are code the learner can run.
DRAW_NOTE = ("  to see the graph your Value built, run these lines in a cell, then: "
             "from autograder.graph import draw; draw(v{out})")


def _rule_hint(key: str) -> str:
    return f"the rule of `{_op_symbol(key)}` is wrong: {RULE_HINTS[key]}"


def _op_symbol(key: str) -> str:
    if key.startswith("r") and key[1:] in BINARY:
        return f"number {key[1:]} Value"
    if key in BINARY:
        return f"Value {key} ..."
    if key == "neg":
        return "-Value"
    if key == "**":
        return "Value ** number"
    return f".{key}()"


# --------------------------------------------------------------------------
# Learner side: scenarios.


def _plain_number(value: Any) -> Any:
    """A Python float, or a description of what the learner stored."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return f"{type(value).__name__} {value!r}"[:80]


def _counting_class(Value: type, writes: dict[int, int]) -> type:
    """A subclass of the learner's Value that counts assignments to `.grad`
    (used for leaves only: a topological backward writes a leaf's grad at most
    once per use, a naive recursion many times)."""

    class Leaf(Value):  # type: ignore[misc, valid-type]
        def __setattr__(self, name: str, value: Any) -> None:
            if name == "grad":
                writes[id(self)] = writes.get(id(self), 0) + 1
            super().__setattr__(name, value)

    Leaf.__name__ = Value.__name__
    Leaf.__qualname__ = Value.__qualname__
    return Leaf


FORWARD_ERRORS = (TypeError, AttributeError, ZeroDivisionError, ValueError, OverflowError)


def value_graphs_trace(learner: Learner, graphs: list[list[Any]]) -> list[dict[str, Any]]:
    """Build each graph [leaves, ops] from the learner's Value, call backward()
    on its last node and report every node's data and grad as Python floats.

    Pure Python: no torch call may happen here (Value's rule is any_torch).
    Errors a wrong operator raises (a missing __radd__, ...) come back as data
    naming the operation; any other exception (NotImplementedError first of
    all) propagates to the grader as usual."""
    Value = learner["Value"]
    results = []
    for leaves, ops in graphs:
        writes: dict[int, int] = {}
        Leaf = _counting_class(Value, writes) if isinstance(Value, type) else Value
        nodes = [Leaf(value) for value in leaves]
        result: dict[str, Any] = {"grad_at_start": [_plain_number(getattr(n, "grad", None)) for n in nodes]}
        failed = None
        for k, op in enumerate(ops):
            try:
                node = apply_op(nodes, op)
            except FORWARD_ERRORS as error:
                failed = {"failed_at": k, "error": f"{type(error).__name__}: {error}"[:300]}
                break
            if not isinstance(node, Value):
                failed = {"failed_at": k, "error": f"it returned {type(node).__name__} {node!r}"[:200], "not_value": True}
                break
            result["grad_at_start"].append(_plain_number(getattr(node, "grad", None)))
            nodes.append(node)
        if failed:
            result.update(failed)
            results.append(result)
            continue
        leaf_ids = [id(n) for n in nodes[: len(leaves)]]
        writes.clear()
        try:
            nodes[-1].backward()
        except FORWARD_ERRORS as error:
            result["backward_error"] = f"{type(error).__name__}: {error}"[:300]
        result["data"] = [_plain_number(getattr(n, "data", None)) for n in nodes]
        result["grad"] = [_plain_number(getattr(n, "grad", None)) for n in nodes]
        result["leaf_writes"] = [writes.get(i, 0) for i in leaf_ids]
        results.append(result)
    return results


def value_accumulation_trace(learner: Learner) -> list[Any]:
    """Two backward() calls on different outputs that share the leaves a, b."""
    Value = learner["Value"]
    a, b = Value(1.5), Value(0.0)
    (a * b).backward()
    (a + b).backward()
    return [_plain_number(a.grad), _plain_number(b.grad)]


def value_two_outputs_trace(learner: Learner, a: float, b: float) -> list[Any]:
    """(a * b).backward(), then (a + b).backward() on the same leaves: their grads."""
    Value = learner["Value"]
    x, y = Value(a), Value(b)
    (x * y).backward()
    (x + y).backward()
    return [_plain_number(x.grad), _plain_number(y.grad)]


# --------------------------------------------------------------------------
# Grader side: the oracle, the diagnosis, the checks.


def value_oracle(leaves: list[float], ops: list[list[Any]]) -> tuple[list[float], list[float]]:
    """Every node's value and gradient by torch autograd in float64."""
    nodes = [torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for v in leaves]
    for op in ops:
        node = apply_op(nodes, op)
        node.retain_grad()
        nodes.append(node)
    nodes[-1].backward()
    data = [float(n.detach()) for n in nodes]
    grad = [float(n.grad) if n.grad is not None else 0.0 for n in nodes]
    return data, grad


def local_derivative(op: list[Any], slot: int, data: list[float], out: float) -> float:
    """d out / d operand in `slot`, from the true values."""
    kind = op[0]
    if kind == "vv":
        a, b = data[op[2]], data[op[3]]
        return {"+": (1.0, 1.0), "-": (1.0, -1.0), "*": (b, a), "/": (1 / b, -a / b**2)}[op[1]][slot]
    if kind == "vc":
        c = op[3]
        return {"+": 1.0, "-": 1.0, "*": float(c), "/": 1 / c}[op[1]]
    if kind == "cv":
        c, a = op[2], data[op[3]]
        return {"+": 1.0, "-": -1.0, "*": float(c), "/": -c / a**2}[op[1]]
    a = data[operands(op)[0]]
    if kind == "pow":
        return op[2] * a ** (op[2] - 1)
    return {"neg": -1.0, "relu": float(a > 0), "tanh": 1 - out**2, "exp": out, "log": 1 / a}[kind]


def _same(a: Any, b: float, rel: float = 1e-9, abs_: float = 1e-12) -> bool:
    return isinstance(a, float) and math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def judge_value_graph(result: dict[str, Any], leaves: list[float], ops: list[list[Any]], what: str,
                      hint: str | None = None) -> None:
    """Compare one traced graph with the torch oracle; fail naming the first
    wrong node and the operation whose rule is to blame."""
    n_leaves = len(leaves)
    listing = f"\n  the graph:\n{graph_text(leaves, ops)}\n" + DRAW_NOTE.format(out=n_leaves + len(ops) - 1)
    if "failed_at" in result:
        k = result["failed_at"]
        op = ops[k]
        key = op_key(op)
        if result.get("not_value"):
            raise CheckFailed(f"{what}: {op_text(op, n_leaves + k)}: {result['error']}, not a Value{listing}",
                              HINT_NOT_VALUE)
        if key.startswith("r"):
            guess = RULE_HINTS[key]
        elif op[0] == "vc":
            guess = HINT_WRAP_NUMBER
        else:
            guess = f"define the operation `{_op_symbol(key)}`"
        raise CheckFailed(f"{what}: {op_text(op, n_leaves + k)} raised {result['error']}{listing}", guess)
    data, grad = value_oracle(leaves, ops)
    for k, got in enumerate(result["grad_at_start"]):
        if not _same(got, 0.0):
            raise CheckFailed(f"{what}: before backward(), v{k}.grad is {got}, expected 0.0{listing}", HINT_START_ZERO)
    for k, (got, expected) in enumerate(zip(result["data"], data)):
        if not _same(got, expected):
            if k < n_leaves:
                raise CheckFailed(f"{what}: Value({leaves[k]!r}).data is {got}, expected {expected!r}{listing}",
                                  "store the number you are given: self.data = data")
            op = ops[k - n_leaves]
            key = op_key(op)
            raise CheckFailed(f"{what}: the value of {op_text(op, k)} is wrong: expected {expected:.10g}, "
                              f"got {got if isinstance(got, str) else format(got, '.10g')}{listing}",
                              f"the forward of `{_op_symbol(key)}` is wrong" +
                              (f": {RULE_HINTS[key]}" if key.startswith("r") else ""))
    if "backward_error" in result:
        raise CheckFailed(f"{what}: backward() raised {result['backward_error']}{listing}",
                          "backward() builds a topological order of the graph, sets its own grad to 1.0, "
                          "then runs each node's backward rule in reverse order")
    # Correct engines may round differently (a / b or a * b**-1); where
    # contributions nearly cancel, allow for that on the graph's own scale.
    floor = 1e-10 + 1e-12 * max(abs(g) for g in grad)
    wrong = [k for k, (got, expected) in enumerate(zip(result["grad"], grad)) if not _same(got, expected, 1e-8, floor)]
    if not wrong:
        return
    out = len(data) - 1
    if out in wrong:
        raise CheckFailed(f"{what}: after v{out}.backward(), v{out}.grad is {result['grad'][out]}, expected 1.0{listing}",
                          HINT_SEED)
    k = max(wrong)
    got = result["grad"][k]
    message = (f"{what}: after v{out}.backward(), the gradient of v{k} is wrong: expected {grad[k]:.10g}, "
               f"got {got if isinstance(got, str) else format(got, '.10g')}{listing}")
    raise CheckFailed(message, hint or diagnose_value_gradient(result, leaves, ops, data, grad, k))


def diagnose_value_gradient(result: dict[str, Any], leaves: list[float], ops: list[list[Any]], data: list[float],
                            grad: list[float], k: int) -> str:
    """Why node k, the last node with a wrong gradient, is wrong. Every node
    after it is right, so the blame lies with the rules of k's consumers, with
    accumulation, or with how often backward ran them."""
    n_leaves = len(leaves)
    uses = [0] * len(data)
    for op in ops:
        for index in operands(op):
            uses[index] += 1
    # A leaf's grad is written at most once per use when each consumer's rule runs once.
    if any(w > uses[i] for i, w in enumerate(result.get("leaf_writes", []))):
        return HINT_VISITED_TWICE
    edges = []  # (consumer node, its op, contribution of this use)
    for j, op in enumerate(ops):
        for slot, index in enumerate(operands(op)):
            if index == k:
                node = n_leaves + j
                edges.append((node, op, local_derivative(op, slot, data, data[node]) * grad[node]))
    got = result["grad"][k]
    if not isinstance(got, float) or not edges:
        return "every node's grad must be a number accumulated by its consumers' backward rules"
    if 2 <= len(edges) <= 8:
        for counts in itertools.product((0, 1, 2), repeat=len(edges)):
            if all(c == 1 for c in counts):
                continue
            total = sum(c * e[2] for c, e in zip(counts, edges))
            if math.isclose(total, got, rel_tol=1e-8, abs_tol=1e-10) and not math.isclose(total, grad[k], rel_tol=1e-8, abs_tol=1e-10):
                return HINT_VISITED_TWICE if max(counts) > 1 else HINT_ACCUMULATE
    keys = sorted({op_key(op) for _, op, _ in edges})
    if len(keys) == 1:
        expected = grad[k]
        local = sum(local_derivative(op, s, data, data[n_leaves + j]) for j, op in enumerate(ops)
                    for s, i in enumerate(operands(op)) if i == k)
        if len(edges) == 1 and edges[0][0] != len(data) - 1 and math.isclose(got, local, rel_tol=1e-8, abs_tol=1e-10) \
                and not math.isclose(got, expected, rel_tol=1e-8):
            return f"the backward of `{_op_symbol(keys[0])}` must multiply by out.grad (the chain rule)"
        return _rule_hint(keys[0])
    return "the rule of one of " + ", ".join(f"`{_op_symbol(key)}`" for key in keys) + " is wrong: " + \
        "; ".join(RULE_HINTS[key] for key in keys)


def check_value_graphs(ctx: Context, graphs: list[tuple[str, list[float], list[list[Any]]]],
                       hint: str | None = None) -> None:
    """Run (label, leaves, ops) graphs and judge each, stopping at the first
    failure. One scenario call per graph: a wrong backward can take
    exponential time on later, larger graphs (a naive recursion runs a node
    once per path to it), and the learner should see the first failure."""
    for label, leaves, ops in graphs:
        (result,) = ctx.run(value_graphs_trace, [[leaves, ops]])
        judge_value_graph(result, leaves, ops, label, hint)


def check_value_operations(ctx: Context, graphs: list[tuple[str, list[float], list[list[Any]]]]) -> None:
    """Run every (label, leaves, ops) graph and judge each; fail listing
    every graph that fails, the first in full: one wrong operation should not
    hide the others. An operation still `raise NotImplementedError()` counts
    as failing; all of them: Value is not implemented yet."""
    failures: list[CheckFailed] = []
    not_implemented: list[LearnerError] = []
    for label, leaves, ops in graphs:
        try:
            (result,) = ctx.run(value_graphs_trace, [[leaves, ops]])
            judge_value_graph(result, leaves, ops, label)
        except CheckFailed as failure:
            failures.append(failure)
        except LearnerError as error:
            if error.kind != OutcomeKind.NOT_IMPLEMENTED:
                raise
            not_implemented.append(error)
            failures.append(CheckFailed(f"{label}: raises NotImplementedError",
                                        "replace `raise NotImplementedError()` with the operation"))
    if not failures:
        return
    if len(not_implemented) == len(graphs):
        raise not_implemented[0]
    first, others = failures[0], failures[1:]
    if not others:
        raise first
    lines = [f"  {len(failures)} of {len(graphs)} operations fail alone; the first is above, the others:"]
    for failure in others:
        lines.append(f"    {failure.message.splitlines()[0]}")
        if failure.hint:
            lines.append(f"      ({failure.hint})")
    raise CheckFailed(first.message + "\n" + "\n".join(lines), first.hint)


def chain_rule_hint(graph: tuple[str, list[float], list[list[Any]]]) -> str:
    return f"the backward of `{_op_symbol(op_key(graph[2][0]))}` must multiply by out.grad (the chain rule)"


@suite.check("Value")
def value_single_operations(ctx: Context) -> None:
    """each operation of Value, alone, matches torch in value and gradient (numbers on either side included)"""
    check_value_operations(ctx, single_op_graphs(then_scale=False))


@suite.check("Value")
def value_chain_rule(ctx: Context) -> None:
    """each operation's backward multiplies by the gradient flowing into it (the chain rule)"""
    for graph in single_op_graphs(then_scale=True):
        check_value_graphs(ctx, [graph], chain_rule_hint(graph))


@suite.check("Value")
def value_reused_nodes(ctx: Context) -> None:
    """a node used twice (a * a, a node feeding two parents) sums the gradients of its uses"""
    check_value_graphs(ctx, REUSE_GRAPHS)


@suite.check("Value")
def value_accumulates_across_backward_calls(ctx: Context) -> None:
    """gradients accumulate across backward() calls: (a * b).backward(); (a + b).backward() gives a.grad = b + 1, b.grad = a + 1"""
    a, b = 2.0, -0.5
    got = ctx.run(value_two_outputs_trace, a, b)
    what = f"a = Value({a}); b = Value({b}); (a * b).backward(); (a + b).backward()"
    for name, value, want in zip("ab", got, (b + 1.0, a + 1.0)):
        if not _same(value, want):
            raise CheckFailed(f"{what}: {name}.grad is {value}, expected {want}", HINT_NO_RESET)


@suite.check("Value")
def value_topological_order(ctx: Context) -> None:
    """backward runs every node's rule exactly once, in topological order (4 stacked diamonds)"""
    leaves, ops = stacked_diamonds(4)
    check_value_graphs(ctx, [("4 stacked diamonds: u = x.tanh(); x = (u * 2) * (u + 1), four times", leaves, ops)])


@suite.check("Value")
def value_random_graphs(ctx: Context) -> None:
    """random expression graphs of every operation match torch, value by value and gradient by gradient"""
    check_value_graphs(ctx, random_graphs(2024, 3, (2, 4), (10, 16), ", fixed seed 2024"))
