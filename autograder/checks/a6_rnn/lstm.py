"""a6_rnn · lstm_cell and lstm: what is forbidden, hints, the scenarios, the
oracles (nn.LSTMCell and a one-layer nn.LSTM loaded with the same weights),
the simulated bugs that name what is wrong, the gate probes, and the checks.

A gate probe isolates one gate: the weight rows of the other three gates are
zero and their b_ih rows +30, so they sit fully open (sigmoid(30) = tanh(30)
= 1 in floating point, whichever activation or row block a wrong answer
uses), while the probed gate's rows are random. Only the probed gate can then
make the learner's h and c differ from nn.LSTMCell's, so a failing probe
names the gate.
"""
from __future__ import annotations

import itertools
from typing import Any

import torch
from torch import nn

from autograder.checking import CheckFailed, Context
from autograder.checks.a6_rnn import suite
from autograder.checks.a6_rnn.common import fixed, run_case, shapes
from autograder.compare import close, expect_tensor
from autograder.guard import Forbidden, forbid
from autograder.scenarios import Learner, describe

RECURRENT_OPS = ("lstm", "lstm_cell", "gru", "gru_cell", "rnn_tanh", "rnn_relu", "rnn_tanh_cell", "rnn_relu_cell")
RECURRENT_MODULES = ("torch.nn.LSTM", "torch.nn.LSTMCell", "torch.nn.RNN", "torch.nn.RNNCell", "torch.nn.GRU",
                     "torch.nn.GRUCell", "torch.nn.RNNBase", "torch.nn.RNNCellBase")


def recurrent_forbidden(allowed_names: tuple[str, ...] = ()) -> Forbidden:
    """torch's recurrent layers in every form: modules, torch.lstm*, torch._VF, ATen ops."""
    return forbid(*RECURRENT_OPS, shown=("nn.LSTM", "nn.LSTMCell", "torch.lstm", "torch.lstm_cell", "torch._VF",
                                         "nn.RNN*", "nn.GRU*"),
                  modules=RECURRENT_MODULES, names=("_VF",), allowed_names=allowed_names)


suite.forbid("lstm_cell", recurrent_forbidden())
suite.forbid("lstm", recurrent_forbidden())

GATES = ("input gate i", "forget gate f", "cell candidate g", "output gate o")
LETTERS = "ifgo"
CELL_INPUTS = ("x", "h", "c", "W_ih", "W_hh", "b_ih", "b_hh")
SEQUENCE_INPUTS = ("X", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh")
OPEN_BIAS = 30.0  # sigmoid(30) == tanh(30) == 1 in float32; within 1e-13 in float64

HINT_CELL = ("gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh has shape (N, 4H); its four blocks of H columns are "
             "i, f, g, o; c = f * c + i * g, h = o * tanh(c)")
HINT_ORDER = ("wrong gate order: your code reads the four row blocks as ({got}); nn.LSTMCell stacks them as "
              "(i, f, g, o): input gate rows 0:H, forget gate H:2H, cell candidate 2H:3H, output gate 3H:4H")
HINT_SWAPPED = "tanh and sigmoid swapped: the gates i, f and o use sigmoid, the cell candidate g uses tanh"
HINT_ONE_ACTIVATION = "the {gate} should use {right}, not {wrong}"
HINT_BIAS = "{name} is missing: nn.LSTMCell adds both biases, gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh"
HINT_CELL_TANH = "h = o * tanh(c): squash the new cell state with tanh before the output gate"
HINT_OLD_CELL = "compute h from the NEW cell state: c = f * c + i * g first, then h = o * tanh(c)"
HINT_NO_INPUT_GATE = "the input gate scales the candidate: c = f * c + i * g (not f * c + g)"
HINT_NO_FORGET_GATE = "the forget gate scales the old cell state: c = f * c + i * g (not c + i * g)"
HINT_PAIR_ORDER = "return (h, c): the new hidden state first, then the new cell state"
HINT_IN_PLACE = "your function changed an input in place (h += ..., c.mul_(...)): compute new tensors instead"
HINT_GRAPH = "build h and c from the inputs with differentiable tensor operations (no .detach(), .item() or torch.tensor(...))"
HINT_VALUES_RIGHT = ("h and c are right, so the graph behind them is cut or bent somewhere: no .detach(), .data or "
                     "torch.no_grad() inside, and no in-place edits of tensors autograd still needs")
HINT_SEQUENCE = ("loop t = 0 .. T-1: h, c = lstm_cell(X[t], h, c, W_ih, W_hh, b_ih, b_hh); collect each h; "
                 "return torch.stack(outputs), (h, c)")
HINT_OUTPUTS_C = "outputs collects the hidden state h of every step, not the cell state c"
HINT_SHIFTED = "append h AFTER each step: outputs[t] is the state after reading X[t] (h0 is not an output)"
HINT_NO_CARRY = "carry the state: each step starts from the previous step's (h, c), not from (h0, c0)"
HINT_REVERSED = "read the sequence forwards, X[0] first"
HINT_STACK = "stack the outputs along a new first dimension: torch.stack(outputs) has shape (T, N, H)"
HINT_LAYER_DIM = ("return the final h and c of shape (N, H): unlike nn.LSTM's h_n and c_n, they have no leading "
                  "layer dimension")
HINT_LIST = "return the outputs as one tensor of shape (T, N, H): torch.stack(outputs), not a Python list"
HINT_DETACH = ("let gradients flow through time: do not detach h or c between steps (truncating backpropagation "
               "is a training choice, not part of the LSTM)")

# --------------------------------------------------------------------------
# Learner side: scenarios.


def _leaves(args: list[torch.Tensor]) -> list[torch.Tensor]:
    return [arg.clone().requires_grad_(True) for arg in args]


def _backward(result: dict[str, Any], leaves: list[torch.Tensor], pieces: list[tuple[Any, torch.Tensor]]) -> None:
    """Backpropagate sum(piece * weight) when every piece is a tensor of the right shape."""
    if not all(isinstance(got, torch.Tensor) and got.shape == weight.shape for got, weight in pieces):
        return
    if not any(got.requires_grad for got, _ in pieces):
        result["grads"] = [None] * len(leaves)
        return
    try:
        sum((got * weight.to(got.dtype)).sum() for got, weight in pieces).backward()
    except RuntimeError as error:
        result["backward_error"] = str(error).splitlines()[0]
    result["grads"] = [leaf.grad for leaf in leaves]


def cell_trace(learner: Learner, args: list[torch.Tensor], grad_h: torch.Tensor, grad_c: torch.Tensor) -> dict[str, Any]:
    """The learner's lstm_cell on copies of `args` that require grad; then the
    backward pass of sum(h * grad_h) + sum(c * grad_c)."""
    leaves = _leaves(args)
    out = learner["lstm_cell"](*leaves)
    result: dict[str, Any] = {"out": out, "grads": None, "backward_error": None,
                              "inputs_unchanged": all(torch.equal(a, b.detach()) for a, b in zip(args, leaves))}
    if isinstance(out, (tuple, list)) and len(out) == 2:
        _backward(result, leaves, [(out[0], grad_h), (out[1], grad_c)])
    return result


def sequence_trace(learner: Learner, args: list[torch.Tensor], grad_outputs: torch.Tensor, grad_h: torch.Tensor,
                   grad_c: torch.Tensor) -> dict[str, Any]:
    """The learner's lstm on copies of `args` that require grad; then the
    backward pass of sum(outputs * grad_outputs) + sum(h * grad_h) + sum(c * grad_c)."""
    leaves = _leaves(args)
    out = learner["lstm"](*leaves)
    result: dict[str, Any] = {"out": out, "grads": None, "backward_error": None,
                              "inputs_unchanged": all(torch.equal(a, b.detach()) for a, b in zip(args, leaves))}
    if isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[1], (tuple, list)) and len(out[1]) == 2:
        _backward(result, leaves, [(out[0], grad_outputs), (out[1][0], grad_h), (out[1][1], grad_c)])
    return result


# --------------------------------------------------------------------------
# Learner side: what `grade --timing` runs (see TIMING in __init__): the
# learner's lstm against nn.LSTM (cuDNN on a GPU), forward pass only.

_TIMED_MODULES: dict[tuple[Any, ...], nn.LSTM] = {}


def timing_inputs(case: dict[str, Any], generator: torch.Generator) -> tuple[list[Any], dict[str, Any], str]:
    """One timing case as lstm's arguments (weights uniform in +-1/sqrt(H), as nn.LSTM's), and its label."""
    T, N, D, H = case["T"], case["N"], case["D"], case["H"]
    bound = H ** -0.5

    def uniform(*shape: int) -> torch.Tensor:
        return (torch.rand(*shape, generator=generator) * 2 - 1) * bound

    X = torch.randn(T, N, D, generator=generator)
    h0, c0 = torch.randn(N, H, generator=generator) * 0.1, torch.randn(N, H, generator=generator) * 0.1
    args = [X, h0, c0, uniform(4 * H, D), uniform(4 * H, H), uniform(4 * H), uniform(4 * H)]
    return args, {}, f"T {T}, N {N}, D {D}, H {H}"


def torch_lstm(X: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, W_ih: torch.Tensor, W_hh: torch.Tensor,
               b_ih: torch.Tensor, b_hh: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """A one-layer nn.LSTM with these weights, called like the exercise's
    lstm. The module (its weights flattened for cuDNN) is built once per set
    of weight tensors, so the timing measures the forward pass alone."""
    key = (W_ih.data_ptr(), W_hh.data_ptr(), b_ih.data_ptr(), b_hh.data_ptr(), tuple(W_ih.shape), X.device, X.dtype)
    module = _TIMED_MODULES.get(key)
    if module is None:
        module = nn.LSTM(X.shape[2], h0.shape[1], device=X.device, dtype=X.dtype).eval()
        _load(module, "_l0", [W_ih, W_hh, b_ih, b_hh])
        if X.is_cuda:
            module.flatten_parameters()
        _TIMED_MODULES[key] = module
    outputs, (h, c) = module(X, (h0[None], c0[None]))
    return outputs, (h[0], c[0])


# --------------------------------------------------------------------------
# Grader side: inputs, oracles, simulated bugs, checks.


def random_cell_args(generator: torch.Generator, N: int, D: int, H: int, dtype: torch.dtype) -> list[torch.Tensor]:
    """x, h, c, W_ih, W_hh, b_ih, b_hh with values that keep every gate away from saturation."""
    def draw(*shape: int, scale: float = 0.5) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, dtype=dtype) * scale

    return [draw(N, D, scale=1.0), draw(N, H), draw(N, H, scale=1.0), draw(4 * H, D), draw(4 * H, H), draw(4 * H),
            draw(4 * H)]


def random_sequence_args(generator: torch.Generator, T: int, N: int, D: int, H: int,
                         dtype: torch.dtype) -> list[torch.Tensor]:
    """X (T, N, D), h0, c0, W_ih, W_hh, b_ih, b_hh."""
    x, h, c, *weights = random_cell_args(generator, N, D, H, dtype)
    X = torch.randn(T, N, D, generator=generator, dtype=dtype)
    return [X, h, c, *weights]


def gate_probe_args(generator: torch.Generator, gate: int, N: int, D: int, H: int,
                    dtype: torch.dtype = torch.float64) -> list[torch.Tensor]:
    """Random rows for `gate` only; the other three gates held fully open."""
    x, h, c, W_ih, W_hh, b_ih, b_hh = random_cell_args(generator, N, D, H, dtype)
    rows = torch.zeros(4 * H, dtype=torch.bool)
    rows[gate * H:(gate + 1) * H] = True
    W_ih, W_hh = W_ih * rows[:, None] * 2, W_hh * rows[:, None] * 2
    b_ih = torch.where(rows, b_ih, torch.full_like(b_ih, OPEN_BIAS))
    b_hh = torch.where(rows, b_hh, torch.zeros_like(b_hh))
    return [x, h, c, W_ih, W_hh, b_ih, b_hh]


def _load(module: nn.Module, suffix: str, weights: list[torch.Tensor]) -> None:
    with torch.no_grad():
        for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), weights):
            getattr(module, name + suffix).copy_(value)


def oracle_cell(args: list[torch.Tensor], grad_h: torch.Tensor, grad_c: torch.Tensor) -> dict[str, Any]:
    """nn.LSTMCell with the same weights: h, c and the gradient of every input."""
    x, h, c, *weights = args
    cell = nn.LSTMCell(x.shape[1], h.shape[1], dtype=x.dtype)
    _load(cell, "", weights)
    x, h, c = _leaves([x, h, c])
    h1, c1 = cell(x, (h, c))
    ((h1 * grad_h).sum() + (c1 * grad_c).sum()).backward()
    grads = [x.grad, h.grad, c.grad, cell.weight_ih.grad, cell.weight_hh.grad, cell.bias_ih.grad, cell.bias_hh.grad]
    return {"h": h1.detach(), "c": c1.detach(), "grads": grads}


def oracle_sequence(args: list[torch.Tensor], grad_outputs: torch.Tensor, grad_h: torch.Tensor,
                    grad_c: torch.Tensor) -> dict[str, Any]:
    """A one-layer nn.LSTM with the same weights: outputs, final (h, c) without
    the layer dimension, and the gradient of every input."""
    X, h0, c0, *weights = args
    net = nn.LSTM(X.shape[2], h0.shape[1], dtype=X.dtype)
    _load(net, "_l0", weights)
    X, h0, c0 = _leaves([X, h0, c0])
    outputs, (h, c) = net(X, (h0[None], c0[None]))
    ((outputs * grad_outputs).sum() + (h[0] * grad_h).sum() + (c[0] * grad_c).sum()).backward()
    grads = [X.grad, h0.grad, c0.grad, net.weight_ih_l0.grad, net.weight_hh_l0.grad, net.bias_ih_l0.grad,
             net.bias_hh_l0.grad]
    return {"outputs": outputs.detach(), "h": h[0].detach(), "c": c[0].detach(), "grads": grads}


def simulated_cell(args: list[torch.Tensor], order: tuple[int, ...] = (0, 1, 2, 3), activations: str = "ssts",
                   biases: str = "ih hh", cell_tanh: bool = True, new_cell_for_h: bool = True,
                   input_gate: bool = True, forget_gate: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """An LSTM cell in float64 with one bug switched on: gate k of (i, f, g, o)
    read from row block order[k], activations per gate ("s" sigmoid, "t"
    tanh), a bias left out, h without tanh or from the old cell, a gate left out."""
    x, h, c, W_ih, W_hh, b_ih, b_hh = (t.detach().double() for t in args)
    gates = x @ W_ih.T + h @ W_hh.T + (b_ih if "ih" in biases else 0) + (b_hh if "hh" in biases else 0)
    blocks = gates.chunk(4, dim=1)
    i, f, g, o = (torch.sigmoid(blocks[order[k]]) if activations[k] == "s" else torch.tanh(blocks[order[k]])
                  for k in range(4))
    c1 = (f if forget_gate else 1) * c + (i if input_gate else 1) * g
    h1 = o * ((torch.tanh(c1 if new_cell_for_h else c)) if cell_tanh else c1)
    return h1, c1


def cell_bugs(gate: int | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(hint, simulated_cell keywords) for each classic bug; for a probe of
    `gate`, only the bugs that probe can tell apart (its own activation, the
    row order, the biases, the cell update)."""
    def flip(k: int) -> tuple[str, dict[str, Any]]:
        right, wrong = ("tanh", "sigmoid") if k == 2 else ("sigmoid", "tanh")
        activations = "".join(("s" if a == "t" else "t") if j == k else a for j, a in enumerate("ssts"))
        return HINT_ONE_ACTIVATION.format(gate=GATES[k], right=right, wrong=wrong), {"activations": activations}

    bugs = [flip(gate)] if gate is not None else [(HINT_SWAPPED, {"activations": "ttst"}), *map(flip, range(4))]
    bugs += [(HINT_BIAS.format(name="b_hh"), {"biases": "ih"}), (HINT_BIAS.format(name="b_ih"), {"biases": "hh"}),
             (HINT_BIAS.format(name="both biases"), {"biases": ""}), (HINT_CELL_TANH, {"cell_tanh": False}),
             (HINT_OLD_CELL, {"new_cell_for_h": False}), (HINT_NO_INPUT_GATE, {"input_gate": False}),
             (HINT_NO_FORGET_GATE, {"forget_gate": False})]
    for order in itertools.permutations(range(4)):
        if order != (0, 1, 2, 3):
            blocks = [LETTERS[order.index(block)] for block in range(4)]
            bugs.append((HINT_ORDER.format(got=", ".join(blocks)), {"order": order}))
    return bugs


def diagnose_cell(args: list[torch.Tensor], got_h: Any, got_c: Any, gate: int | None = None) -> str | None:
    """The hint of the simulated bug whose h (and c) the learner's answer reproduces."""
    if not isinstance(got_h, torch.Tensor):
        return None
    truth_h, truth_c = simulated_cell(args)
    for hint, bug in cell_bugs(gate):
        h, c = simulated_cell(args, **bug)
        if close(h, truth_h, 1e-6, 1e-9) and close(c, truth_c, 1e-6, 1e-9):
            continue  # this input cannot tell the bug apart
        if got_h.shape == h.shape and close(got_h.detach().double(), h, 1e-4, 1e-6) and (
                not isinstance(got_c, torch.Tensor) or got_c.shape != c.shape or close(got_c.detach().double(), c, 1e-4, 1e-6)):
            return hint
    return None


def expect_grads(got: list[Any] | None, expected: list[torch.Tensor], names: tuple[str, ...], what: str,
                 backward_error: str | None, hint: str | None = None) -> None:
    """Every input's gradient against the oracle's, named."""
    if backward_error or got is None:
        raise CheckFailed(f"gradient of {what}: backward failed ({backward_error or 'the results do not require grad'})",
                          HINT_GRAPH)
    for name, grad, reference in zip(names, got, expected):
        if grad is None:
            raise CheckFailed(f"gradient of {what} with respect to {name}: no gradient reached {name}", HINT_GRAPH)
        expect_tensor(grad, reference, f"gradient of {what} with respect to {name}", hint)


def _grad_weights(ctx: Context, label: str, *like: torch.Tensor) -> list[torch.Tensor]:
    generator = ctx.generator("grad " + label)
    return [torch.randn(t.shape, generator=generator, dtype=t.dtype) for t in like]


def check_cell_case(ctx: Context, args: list[torch.Tensor], label: str, hint: str | None = None) -> None:
    """The learner's lstm_cell on `args`: h and c, inputs untouched, every gradient."""
    x, h, c, W_ih, W_hh, b_ih, b_hh = args
    what = f"lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh) for {shapes(x=x, h=h, c=c, W_ih=W_ih)}{label}"
    grad_h, grad_c = _grad_weights(ctx, label, h, c)
    result = run_case(ctx, what, HINT_CELL, cell_trace, args, grad_h, grad_c)
    expected = oracle_cell(args, grad_h, grad_c)
    out = result["out"]
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise CheckFailed(f"{what}: expected a pair (h, c), got {describe(out)}", HINT_PAIR_ORDER)
    got_h, got_c = out
    if close(got_h, expected["c"]) and close(got_c, expected["h"]) and not close(got_h, expected["h"]):
        raise CheckFailed(f"{what}: h and c came back swapped", HINT_PAIR_ORDER)
    diagnosis = diagnose_cell(args, got_h, got_c) or hint
    if diagnosis is None and not (close(got_h, expected["h"]) and close(got_c, expected["c"])):
        diagnosis = locate_gate(ctx, args)
    expect_tensor(got_h, expected["h"], f"h returned by {what}", diagnosis or HINT_CELL)
    expect_tensor(got_c, expected["c"], f"c returned by {what}", diagnosis or HINT_CELL)
    if not result["inputs_unchanged"]:
        raise CheckFailed(f"{what}: your lstm_cell changed its inputs", HINT_IN_PLACE)
    expect_grads(result["grads"], expected["grads"], CELL_INPUTS, what, result["backward_error"], HINT_VALUES_RIGHT)


def probe_gates(ctx: Context, N: int, D: int, H: int, dtype: torch.dtype, label: str = "") -> list[CheckFailed]:
    """The four gate probes (see the module docstring), in the order i, f, g,
    o: one failure, naming its gate, per probe the learner's answer fails."""
    generator = ctx.generator("gate probes" + label)
    failures = []
    for gate in range(4):
        args = gate_probe_args(generator, gate, N, D, H, dtype)
        rows = f"{gate * H}:{(gate + 1) * H}"
        what = (f"lstm_cell with only the {GATES[gate]}'s rows ({rows} of W_ih, W_hh, b_ih, b_hh) random and the other "
                f"three gates held fully open (zero weights, b_ih = {OPEN_BIAS:g}), {shapes(x=args[0], h=args[1])}{label}")
        result = run_case(ctx, what, HINT_CELL, cell_trace, args, *_grad_weights(ctx, f"{label}{gate}", args[1], args[2]))
        expected = [t.to(dtype) for t in simulated_cell(args)]
        out = result["out"]
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            failures.append(CheckFailed(f"{what}: expected a pair (h, c), got {describe(out)}", HINT_PAIR_ORDER))
            continue
        activation = "tanh" if gate == 2 else "sigmoid"
        hint = diagnose_cell(args, out[0], out[1], gate) or (
            f"the {GATES[gate]} is wrong: {LETTERS[gate]} = {activation}(gates[:, {rows}]) with "
            f"gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh")
        try:
            expect_tensor(out[0], expected[0], f"h returned by {what}", hint)
            expect_tensor(out[1], expected[1], f"c returned by {what}", hint)
        except CheckFailed as failure:
            failures.append(failure)
    return failures


def check_gate_probes(ctx: Context, N: int, D: int, H: int, label: str = "") -> None:
    """Each gate alone matches nn.LSTMCell: the first probe that fails names its gate."""
    failures = probe_gates(ctx, N, D, H, torch.float64, label)
    if failures:
        raise failures[0]


def locate_gate(ctx: Context, args: list[torch.Tensor]) -> str | None:
    """For a wrong answer no simulated bug explains: which gates fail their probe."""
    x, h = args[0], args[1]
    failures = probe_gates(ctx, x.shape[0], x.shape[1], h.shape[1], x.dtype, " (locating the wrong gate)")
    if not failures:
        return None
    named = [gate for gate in GATES if any(f"only the {gate}'s rows" in failure.message for failure in failures)]
    if len(named) == 1:
        return f"{failures[0].hint} (found by probing each gate alone, the other three held fully open)"
    return (f"probing each gate alone (the other three held fully open, where sigmoid = tanh = 1) fails for the "
            f"{', '.join(named)}: check each gate's rows and activation: {HINT_CELL}")


def simulated_sequence(args: list[torch.Tensor], bug: str = "") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """outputs, h, c of an LSTM loop in float64 with one bug: "outputs_c",
    "shifted", "no_carry" or "reversed"."""
    X, h0, c0, *weights = (t.detach().double() for t in args)
    h, c = h0, c0
    outputs = []
    steps = range(X.shape[0] - 1, -1, -1) if bug == "reversed" else range(X.shape[0])
    for t in steps:
        before = h
        start = (h0, c0) if bug == "no_carry" else (h, c)
        h, c = simulated_cell([X[t], *start, *weights])
        outputs.append({"outputs_c": c, "shifted": before}.get(bug, h))
    return torch.stack(outputs), h, c


def sequence_gradients_detached(args: list[torch.Tensor], grad_outputs: torch.Tensor, grad_h: torch.Tensor,
                                grad_c: torch.Tensor) -> list[torch.Tensor]:
    """The gradients an LSTM loop gives when it detaches (h, c) between steps."""
    leaves = _leaves([t.detach().double() for t in args])
    X, h, c, *weights = leaves
    outputs = []
    for t in range(X.shape[0]):
        h, c = simulated_cell_graph([X[t], h, c, *weights])
        outputs.append(h)
        if t < X.shape[0] - 1:
            h, c = h.detach(), c.detach()
    loss = (torch.stack(outputs) * grad_outputs.double()).sum() + (h * grad_h.double()).sum() + (c * grad_c.double()).sum()
    loss.backward()
    return [leaf.grad if leaf.grad is not None else torch.zeros_like(leaf) for leaf in leaves]


def simulated_cell_graph(args: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """The correct cell, differentiable (for simulated gradients)."""
    x, h, c, W_ih, W_hh, b_ih, b_hh = args
    i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
    c1 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c1), c1


SEQUENCE_BUGS = (("outputs_c", HINT_OUTPUTS_C), ("shifted", HINT_SHIFTED), ("no_carry", HINT_NO_CARRY),
                 ("reversed", HINT_REVERSED))


def diagnose_sequence(args: list[torch.Tensor], outputs: Any, h: Any) -> str | None:
    if not isinstance(outputs, torch.Tensor):
        return HINT_LIST if isinstance(outputs, list) else None
    T, N = args[0].shape[:2]
    H = args[1].shape[1]
    if outputs.shape == (N, T, H) and N != T:
        return HINT_STACK
    if isinstance(h, torch.Tensor) and h.dim() == 3 and h.shape[0] == 1:
        return HINT_LAYER_DIM
    truth, _, _ = simulated_sequence(args)
    for bug, hint in SEQUENCE_BUGS:
        simulated, _, _ = simulated_sequence(args, bug)
        if not close(simulated, truth, 1e-6, 1e-9) and close(outputs.detach().double(), simulated, 1e-4, 1e-6):
            return hint
    if outputs.shape == truth.shape and not close(outputs.detach().double(), truth, 1e-4, 1e-6):
        cell_hint = diagnose_cell([args[0][0], args[1], args[2], *args[3:]], outputs[0], None)
        if cell_hint:
            return f"your lstm_cell is wrong (fix it first): {cell_hint}"
    return None


def check_sequence_case(ctx: Context, args: list[torch.Tensor], label: str) -> None:
    """The learner's lstm on `args`: outputs, final (h, c), inputs untouched, every gradient."""
    X, h0, c0, W_ih, *_ = args
    what = f"lstm(X, h0, c0, W_ih, W_hh, b_ih, b_hh) for {shapes(X=X, h0=h0, W_ih=W_ih)}{label}"
    grad_outputs = _grad_weights(ctx, label + " outputs", torch.empty(X.shape[0], X.shape[1], h0.shape[1],
                                                                      dtype=X.dtype))[0]
    grad_h, grad_c = _grad_weights(ctx, label, h0, c0)
    result = run_case(ctx, what, HINT_SEQUENCE, sequence_trace, args, grad_outputs, grad_h, grad_c)
    expected = oracle_sequence(args, grad_outputs, grad_h, grad_c)
    out = result["out"]
    if not (isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[1], (tuple, list)) and len(out[1]) == 2):
        raise CheckFailed(f"{what}: expected (outputs, (h, c)), got {describe(out)}",
                          "return outputs, (h, c): the stacked hidden states and the final pair")
    outputs, (h, c) = out[0], tuple(out[1])
    if isinstance(outputs, (list, tuple)):
        raise CheckFailed(f"{what}: outputs came back as a Python {type(outputs).__name__} of {len(outputs)} items, "
                          f"expected one tensor of shape {tuple(expected['outputs'].shape)}", HINT_LIST)
    hint = diagnose_sequence(args, outputs, h) or HINT_SEQUENCE
    expect_tensor(outputs, expected["outputs"], f"outputs returned by {what}", hint)
    if close(h, expected["c"]) and close(c, expected["h"]) and not close(h, expected["h"]):
        raise CheckFailed(f"{what}: the final h and c came back swapped", "return outputs, (h, c), h first")
    expect_tensor(h, expected["h"], f"final h returned by {what}", hint)
    expect_tensor(c, expected["c"], f"final c returned by {what}", hint)
    if not result["inputs_unchanged"]:
        raise CheckFailed(f"{what}: your lstm changed its inputs", HINT_IN_PLACE)
    grads = result["grads"]
    hint = None
    if grads is not None and all(isinstance(g, torch.Tensor) for g in grads) and X.shape[0] > 1:
        detached = sequence_gradients_detached(args, grad_outputs, grad_h, grad_c)
        if all(close(g.double(), d, 1e-4, 1e-6) for g, d in zip(grads, detached)):
            hint = HINT_DETACH
    if grads is not None and X.shape[0] > 1 and any(g is None for g in grads[1:3]):
        hint = HINT_DETACH
    expect_grads(grads, expected["grads"], SEQUENCE_INPUTS, what, result["backward_error"], hint)



@suite.check("lstm_cell")
def lstm_cell_small_batch(ctx: Context) -> None:
    """lstm_cell matches nn.LSTMCell on a batch of 3 (float32): h, c and the gradients of all seven inputs"""
    check_cell_case(ctx, random_cell_args(fixed("cell"), 3, 5, 4, torch.float32), "")


@suite.check("lstm_cell")
def lstm_cell_gate_probes(ctx: Context) -> None:
    """each gate (input, forget, cell candidate, output) matches nn.LSTMCell with the other three held open"""
    check_gate_probes(ctx, 3, 5, 4)


@suite.check("lstm_cell")
def lstm_cell_float64(ctx: Context) -> None:
    """lstm_cell keeps float64 and matches nn.LSTMCell to 1e-10"""
    check_cell_case(ctx, random_cell_args(fixed("cell64"), 2, 3, 6, torch.float64), " (float64)")


@suite.check("lstm_cell")
def lstm_cell_batch_of_one(ctx: Context) -> None:
    """lstm_cell works for a batch of one example"""
    check_cell_case(ctx, random_cell_args(fixed("cell1"), 1, 4, 3, torch.float32), " (N == 1)")


@suite.check("lstm")
def lstm_short_sequence(ctx: Context) -> None:
    """lstm matches a one-layer nn.LSTM on 4 steps of a batch of 3: outputs, final (h, c) and all gradients"""
    check_sequence_case(ctx, random_sequence_args(fixed("seq"), 4, 3, 5, 4, torch.float32), "")


@suite.check("lstm")
def lstm_one_step(ctx: Context) -> None:
    """lstm works for a sequence of one step (T == 1)"""
    check_sequence_case(ctx, random_sequence_args(fixed("seq1"), 1, 2, 3, 3, torch.float32),
                        " (T == 1)")


@suite.check("lstm")
def lstm_batch_of_one_float64(ctx: Context) -> None:
    """lstm works for a batch of one sequence in float64"""
    check_sequence_case(ctx, random_sequence_args(fixed("seq64"), 6, 1, 2, 3, torch.float64),
                        " (N == 1, float64)")
