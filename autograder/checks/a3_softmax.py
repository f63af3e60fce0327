"""a3_softmax: public checks, the scenarios they run, and what is forbidden.

Hidden checks (solutions/a3_softmax/hidden_checks.py) register into the same
`suite` and reuse the scenarios and diagnoses defined here.
"""
from __future__ import annotations

import time
from typing import Any

import torch
from torch import nn

from autograder.checking import CheckFailed, Context, Suite
from autograder.compare import close, expect_number, expect_tensor, shape_of, worst_element
from autograder.guard import Forbidden
from autograder.scenarios import Learner, call, call_with_grad, describe

suite = Suite("a3_softmax")

# --------------------------------------------------------------------------
# What each exercise may not call.

suite.forbid(
    "softmax",
    Forbidden(
        shown=("torch.softmax", "F.softmax", "F.log_softmax", "torch.nn.Softmax"),
        functions=(
            "torch.softmax", "torch.Tensor.softmax", "torch.nn.functional.softmax",
            "torch.log_softmax", "torch.Tensor.log_softmax", "torch.nn.functional.log_softmax",
            "torch.special.softmax", "torch.special.log_softmax", "torch._softmax", "torch._log_softmax",
        ),
        aten=("_softmax", "softmax", "_log_softmax", "log_softmax", "special_softmax", "special_log_softmax",
              "_safe_softmax", "_softmax_backward_data", "_log_softmax_backward_data"),
        modules=("torch.nn.Softmax", "torch.nn.LogSoftmax", "torch.nn.Softmax2d"),
        names=("softmax", "log_softmax", "_softmax", "_log_softmax", "special_softmax", "_safe_softmax",
               "Softmax", "LogSoftmax", "Softmax2d"),
    ),
)
suite.forbid(
    "cross_entropy",
    Forbidden(
        shown=("F.cross_entropy", "F.nll_loss", "F.log_softmax", "torch.logsumexp", "nn.CrossEntropyLoss"),
        functions=(
            "torch.nn.functional.cross_entropy", "torch.nn.functional.nll_loss",
            "torch.nn.functional.log_softmax", "torch.log_softmax", "torch.Tensor.log_softmax",
            "torch.special.log_softmax", "torch.logsumexp", "torch.Tensor.logsumexp", "torch.special.logsumexp",
        ),
        aten=("cross_entropy_loss", "nll_loss", "nll_loss_nd", "nll_loss_forward", "nll_loss2d",
              "nll_loss2d_forward", "nll_loss_backward", "_log_softmax", "log_softmax", "special_log_softmax",
              "_log_softmax_backward_data", "logsumexp", "special_logsumexp"),
        modules=("torch.nn.CrossEntropyLoss", "torch.nn.NLLLoss", "torch.nn.LogSoftmax"),
        names=("cross_entropy", "nll_loss", "log_softmax", "_log_softmax", "logsumexp", "special_logsumexp",
               "cross_entropy_loss", "CrossEntropyLoss", "NLLLoss", "LogSoftmax"),
    ),
)
suite.forbid(
    "Flatten",
    Forbidden(shown=("nn.Flatten",), modules=("torch.nn.Flatten",), names=("Flatten",)),
)

# --------------------------------------------------------------------------
# Hints: one sentence naming the likely bug.

HINT_OVERFLOW = "softmax overflows for large inputs: subtract each row's max (keepdim=True) before exp"
HINT_ROW_MAX = "subtract each row's own max (X.max(dim=-1, keepdim=True)), not one max over the whole tensor"
HINT_LAST_DIM = "normalise over the last dimension: sum(dim=-1, keepdim=True), which works for any rank"
HINT_IN_PLACE = "your function changed its input in place (X -= ..., X.exp_()): compute on new tensors instead"
HINT_CE_STABLE = ("compute the log-probabilities stably: logits - max - log(sum(exp(logits - max))), "
                  "not log(softmax(logits)), which gives log(0) = -inf for large logits")
HINT_CE_MEAN = "return the mean over examples (divide by n), not the sum"
HINT_CE_PICK = "pick each row's own label: log_probs[torch.arange(n), y] (not log_probs[:, y])"
HINT_ACC_FRACTION = "return the fraction of correct rows (correct / n), not the count of correct rows"
HINT_ACC_ROWS = "take the argmax over each row's classes: y_hat.argmax(dim=1)"
HINT_FLATTEN_EMPTY = "X.reshape(X.shape[0], -1) fails when N == 0 (-1 is ambiguous): use X.flatten(1) or the product of X.shape[1:]"
HINT_FLATTEN_VIEW = "view() fails on non-contiguous input: use reshape() or flatten(1)"
HINT_FLATTEN_BATCH = "keep the batch dimension: (N, C, H, W) becomes (N, C*H*W), not one long vector"

# --------------------------------------------------------------------------
# Scenarios: run beside the learner's code, return data.


def make_classifier(seed: int, num_inputs: int, num_outputs: int, num_hiddens: int = 8, dropout: float = 0.0,
                    dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """A small MLP whose weights depend only on `seed` (the same in every process)."""
    layers: list[nn.Module] = [nn.Linear(num_inputs, num_hiddens), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(num_hiddens, num_outputs))
    net = nn.Sequential(*layers).to(dtype)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=dtype) * 0.5)
    return net


def make_batches(seed: int, sizes: list[int], num_inputs: int, num_outputs: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Random (X, y) minibatches of the given sizes."""
    generator = torch.Generator().manual_seed(seed)
    return [
        (torch.randn(n, num_inputs, generator=generator), torch.randint(0, num_outputs, (n,), generator=generator))
        for n in sizes
    ]


def evaluate_accuracy_trace(learner: Learner, seed: int, batches: list[Any], start_in_train: bool,
                            as_generator: bool) -> dict[str, Any]:
    """The learner's evaluate_accuracy on a dropout net, recording the mode
    and grad state seen by every forward pass."""
    num_inputs, num_outputs = batches[0][0].shape[1], 4
    net = make_classifier(seed, num_inputs, num_outputs, dropout=0.5)
    net.train(start_in_train)
    seen: list[tuple[bool, bool]] = []
    net.register_forward_hook(lambda module, inputs, output: seen.append((module.training, torch.is_grad_enabled())))
    data: Any = ((X, y) for X, y in batches) if as_generator else [tuple(batch) for batch in batches]
    value = learner["evaluate_accuracy"](net, data)
    return {
        "value": value,
        "training_in_forward": [mode for mode, _ in seen],
        "grad_enabled_in_forward": [grad for _, grad in seen],
        "training_after": net.training,
        "grads_created": any(p.grad is not None for p in net.parameters()),
    }


def expected_accuracy(seed: int, batches: list[Any]) -> float:
    """The true eval-mode accuracy of `make_classifier(seed)` over all examples."""
    net = make_classifier(seed, batches[0][0].shape[1], 4, dropout=0.5).eval()
    correct = total = 0
    with torch.no_grad():
        for X, y in batches:
            correct += int((net(X).argmax(dim=1) == y).sum())
            total += len(y)
    return correct / total


class _RecordingSGD(torch.optim.SGD):
    """SGD that remembers the parameters and gradients it saw at each step."""

    def __init__(self, params: Any, lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr=lr, momentum=momentum)
        self.records: list[dict[str, Any]] = []

    def step(self, closure: Any = None) -> Any:  # type: ignore[override]
        params = [p for group in self.param_groups for p in group["params"]]
        self.records.append(
            {
                "params": [p.detach().clone() for p in params],
                "grads": [None if p.grad is None else p.grad.detach().clone() for p in params],
            }
        )
        return super().step(closure)


def train_epoch_trace(learner: Learner, seed: int, batches: list[Any], reduction: str, start_in_train: bool,
                      lr: float, momentum: float) -> dict[str, Any]:
    """One epoch of the learner's train_epoch on a small MLP, recording what
    the optimizer saw at every step and the mode of every forward pass."""
    num_inputs, num_outputs = batches[0][0].shape[1], 4
    net = make_classifier(seed, num_inputs, num_outputs)
    net.train(start_in_train)
    modes: list[bool] = []
    net.register_forward_hook(lambda module, inputs, output: modes.append(module.training))
    optimizer = _RecordingSGD(net.parameters(), lr=lr, momentum=momentum)
    loss = nn.CrossEntropyLoss(reduction=reduction)
    value = learner["train_epoch"](net, [tuple(batch) for batch in batches], loss, optimizer)
    return {
        "value": value,
        "records": optimizer.records,
        "training_in_forward": modes,
        "training_after": net.training,
        "final_params": [p.detach().clone() for p in net.parameters()],
    }


def batch_statistics(seed: int, params: list[torch.Tensor], X: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
    """Gradient of the mean batch loss, summed loss and correct count, for
    `make_classifier(seed)` with the given parameters: the oracle for a step."""
    net = make_classifier(seed, X.shape[1], 4)
    with torch.no_grad():
        for parameter, value in zip(net.parameters(), params):
            parameter.copy_(value)
    logits = net(X)
    losses = nn.functional.cross_entropy(logits, y, reduction="none")
    losses.mean().backward()
    return {
        "grads": [p.grad.detach().clone() for p in net.parameters()],
        "loss_sum": float(losses.detach().sum()),
        "batch_mean": float(losses.detach().mean()),
        "correct": int((logits.argmax(dim=1) == y).sum()),
    }


def softmax_regression(learner: Learner, seed: int, num_epochs: int, lr: float, batch_size: int) -> dict[str, Any]:
    """Softmax regression on the bundled digits from the learner's own
    `cross_entropy` (loss), `train_epoch` (loop) and `softmax` (predictions);
    returns the predicted test labels and per-epoch training metrics."""
    from autograder.data import load_digits

    X_train, y_train, X_test, _ = load_digits()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    net = nn.Linear(64, 10)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    X_train, X_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
    history = []
    started = time.process_time()
    for _ in range(num_epochs):
        order = torch.randperm(len(X_train), generator=generator)
        train_iter = [(X_train[order[i:i + batch_size]], y_train[order[i:i + batch_size]])
                      for i in range(0, len(order), batch_size)]
        history.append(learner["train_epoch"](net, train_iter, learner["cross_entropy"], optimizer))
    with torch.no_grad():
        probabilities = learner["softmax"](net(X_test))
    return {
        "predictions": probabilities.argmax(dim=1) if isinstance(probabilities, torch.Tensor) else probabilities,
        "history": history,
        "cpu_seconds": time.process_time() - started,
    }


# --------------------------------------------------------------------------
# Diagnoses shared by public and hidden checks.


def reference_softmax(X: torch.Tensor) -> torch.Tensor:
    return torch.softmax(X, dim=-1)


def check_softmax_case(ctx: Context, X: torch.Tensor, label: str, hint: str | None = None,
                       noncontiguous: bool = False) -> None:
    """The learner's softmax on X: values, dtype, input untouched, gradient."""
    grad_output = torch.randn(X.shape, generator=ctx.generator(label), dtype=X.dtype)
    result = ctx.run(call_with_grad, "softmax", [X], grad_output, noncontiguous)
    what = f"softmax(X) for X of {shape_of(X)}{label}"
    expected = reference_softmax(X)
    got = result["out"]
    if isinstance(got, torch.Tensor) and got.shape == X.shape and X.numel():
        hint = _diagnose_softmax(X, got) or hint
    expect_tensor(got, expected, what, hint)
    if not result["inputs_unchanged"]:
        raise CheckFailed(f"{what}: your softmax changed X", HINT_IN_PLACE)
    if X.numel():
        reference = X.clone().requires_grad_(True)
        reference_softmax(reference).backward(grad_output)
        if result["backward_error"]:
            raise CheckFailed(f"{what}: backward failed: {result['backward_error']}",
                              "build the output with differentiable tensor operations (no .detach(), .numpy() or in-place edits)")
        grads = result["grads"] or [None]
        if grads[0] is None:
            raise CheckFailed(f"gradient of {what}: no gradient reached X",
                              "build the output from X with differentiable tensor operations (no .detach(), .numpy() or torch.tensor(...))")
        expect_tensor(grads[0], reference.grad, f"gradient of {what}", hint)


def _diagnose_softmax(X: torch.Tensor, got: torch.Tensor) -> str | None:
    """Name the bug by recomputing the classic wrong softmaxes on X and
    seeing which one the learner's output matches."""
    def normalised(Z: torch.Tensor, dim: int) -> torch.Tensor:
        E = torch.exp(Z)
        return E / E.sum(dim=dim, keepdim=True)

    candidates = [
        (HINT_OVERFLOW, lambda: normalised(X, -1)),
        (HINT_ROW_MAX, lambda: normalised(X - X.max(), -1)),
    ]
    if X.dim() >= 2:
        candidates.append((HINT_LAST_DIM, lambda: normalised(X - X.max(dim=1, keepdim=True).values, 1)))
        candidates.append((HINT_LAST_DIM, lambda: normalised(X - X.max(dim=0, keepdim=True).values, 0)))
    candidates.append((HINT_LAST_DIM, lambda: torch.exp(X - X.max()) / torch.exp(X - X.max()).sum()))
    expected = reference_softmax(X)
    for hint, buggy in candidates:
        wrong = buggy()
        if not torch.allclose(wrong, expected, rtol=1e-4, atol=1e-6, equal_nan=False) and torch.allclose(
                got.to(wrong.dtype), wrong, rtol=1e-3, atol=1e-5, equal_nan=True):
            return hint
    if not torch.isfinite(got).all():
        return HINT_OVERFLOW
    return None


def reference_cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(logits, y)


def check_cross_entropy_case(ctx: Context, logits: torch.Tensor, y: torch.Tensor, label: str,
                             hint: str | None = None) -> None:
    """The learner's cross_entropy on (logits, y): scalar value and gradient."""
    result = ctx.run(call_with_grad, "cross_entropy", [logits, y])
    what = f"cross_entropy(logits, y) for logits of {shape_of(logits)}{label}"
    expected = reference_cross_entropy(logits, y)
    got = result["out"]
    if isinstance(got, torch.Tensor) and got.numel() == 1 and logits.shape[0] > 1:
        n = logits.shape[0]
        wrong_pick = -torch.log_softmax(logits.to(torch.float64), dim=1)[:, y].mean()
        if not torch.isfinite(got).all() and torch.isfinite(expected):
            hint = hint or HINT_CE_STABLE
        elif close(got.reshape(()), expected * n, 1e-4, 1e-6):
            hint = HINT_CE_MEAN
        elif close(got.reshape(()).double(), wrong_pick, 1e-4, 1e-6):
            hint = HINT_CE_PICK
    if isinstance(got, torch.Tensor) and got.shape != () and got.numel() == logits.shape[0]:
        hint = "return one number, the mean over examples (a 0-dimensional tensor), not a loss per example"
    expect_tensor(got, expected, what, hint)
    reference = logits.clone().requires_grad_(True)
    reference_cross_entropy(reference, y).backward()
    grads = result["grads"] or [None]
    if result["backward_error"] or grads[0] is None:
        raise CheckFailed(f"gradient of {what}: no gradient reached the logits ({result['backward_error'] or 'grad is None'})",
                          "compute the loss from the logits with differentiable tensor operations")
    if not torch.isfinite(grads[0]).all() and torch.isfinite(reference.grad).all():
        hint = hint or HINT_CE_STABLE
    expect_tensor(grads[0], reference.grad, f"gradient of {what}", hint)


def check_accuracy_case(ctx: Context, y_hat: torch.Tensor, y: torch.Tensor, label: str) -> None:
    got = ctx.run(call, "accuracy", y_hat, y)
    expected = float((y_hat.argmax(dim=1) == y).double().mean())
    what = f"accuracy(y_hat, y) for y_hat of {shape_of(y_hat)}{label}"
    hint = None
    count = float((y_hat.argmax(dim=1) == y).sum())
    if isinstance(got, (int, float)) and count != expected and close(float(got), count):
        hint = HINT_ACC_FRACTION
    elif isinstance(got, (int, float)) and y_hat.shape[0] == y_hat.shape[1] and close(
            float(got), float((y_hat.argmax(dim=0) == y).double().mean())):
        hint = HINT_ACC_ROWS
    elif isinstance(got, torch.Tensor):
        hint = "return a Python float: float(...) of the fraction, not a tensor"
    elif isinstance(got, int) and not close(float(got), expected):
        hint = "divide with /, not //: integer division rounds the fraction down to 0"
    expect_number(got, expected, what, hint)


def flatten_trace(learner: Learner, X: torch.Tensor, noncontiguous: bool) -> dict[str, Any]:
    """A fresh Flatten() applied to X: output, gradient, parameter count."""
    layer = learner["Flatten"]()
    if noncontiguous:
        X = X.transpose(-1, -2).contiguous().transpose(-1, -2)
    leaf = X.clone().requires_grad_(True) if X.is_floating_point() else X
    out = layer(leaf)
    grad = None
    if isinstance(out, torch.Tensor) and out.requires_grad and X.numel():
        out.backward(torch.ones_like(out))
        grad = leaf.grad
    return {
        "out": out,
        "grad": grad,
        "num_parameters": sum(p.numel() for p in layer.parameters()) if isinstance(layer, nn.Module) else -1,
        "is_module": isinstance(layer, nn.Module),
    }


def check_flatten_case(ctx: Context, X: torch.Tensor, label: str, noncontiguous: bool = False) -> None:
    result = ctx.run(flatten_trace, X, noncontiguous)
    if not result["is_module"]:
        raise CheckFailed("Flatten() is not an nn.Module", "declare it as class Flatten(nn.Module) and call super().__init__()")
    if result["num_parameters"]:
        raise CheckFailed(f"Flatten() has {result['num_parameters']} parameters; it should have none")
    what = f"Flatten()(X) for X of {shape_of(X)}{label}"
    expected = X.reshape(X.shape[0], -1) if X.shape[0] else X.new_zeros((0, int(torch.tensor(X.shape[1:]).prod())))
    got = result["out"]
    hint = None
    if isinstance(got, torch.Tensor) and got.dim() == 1:
        hint = HINT_FLATTEN_BATCH
    expect_tensor(got, expected, what, hint)
    if X.numel():
        if result["grad"] is None:
            raise CheckFailed(f"gradient of {what}: no gradient reached X", "reshape keeps the gradient; avoid .detach() or new tensors")
        expect_tensor(result["grad"], torch.ones_like(X), f"gradient of {what}")


def check_evaluate_accuracy_case(ctx: Context, seed: int, sizes: list[int], start_in_train: bool,
                                 as_generator: bool, label: str) -> None:
    batches = make_batches(seed, sizes, 6, 4)
    result = ctx.run(evaluate_accuracy_trace, seed, batches, start_in_train, as_generator)
    mode = "train" if start_in_train else "eval"
    what = f"evaluate_accuracy(net, data_iter) with batches of sizes {sizes}, net in {mode} mode{label}"
    if not result["training_in_forward"]:
        raise CheckFailed(f"{what}: the net was never called", "run net(X) on every batch of data_iter")
    if any(result["training_in_forward"]):
        raise CheckFailed(f"{what}: the net ran in training mode (dropout active)",
                          "call net.eval() before evaluating: dropout must be off")
    if any(result["grad_enabled_in_forward"]) or result["grads_created"]:
        raise CheckFailed(f"{what}: gradients were being tracked", "wrap the evaluation in `with torch.no_grad():`")
    expected = expected_accuracy(seed, batches)
    value = result["value"]
    hint = None
    if isinstance(value, (int, float)) and len(set(sizes)) > 1:
        per_batch = []
        net_batches = batches
        for index in range(len(net_batches)):
            per_batch.append(expected_accuracy(seed, net_batches[index:index + 1]))
        if close(float(value), sum(per_batch) / len(per_batch)) and not close(float(value), expected):
            hint = "weight each batch by its size: sum the correct predictions and divide by the total number of examples"
    expect_number(value, expected, what, hint)
    if result["training_after"] != start_in_train:
        raise CheckFailed(f"{what}: the net was left in {'train' if result['training_after'] else 'eval'} mode",
                          "remember net.training before evaluating and restore it afterwards (net.train(was_training))")


def check_train_epoch_case(ctx: Context, seed: int, sizes: list[int], reduction: str, start_in_train: bool,
                           label: str, lr: float = 0.1, momentum: float = 0.0) -> None:
    """The learner's train_epoch checked step by step against the gradient
    of each batch's mean loss at the parameters the optimizer saw."""
    batches = make_batches(seed, sizes, 5, 4)
    result = ctx.run(train_epoch_trace, seed, batches, reduction, start_in_train, lr, momentum)
    mode = "train" if start_in_train else "eval"
    what = (f"train_epoch on {len(sizes)} batches of sizes {sizes}, loss reduction='{reduction}', "
            f"net in {mode} mode before the call{label}")
    records = result["records"]
    if len(records) != len(batches):
        raise CheckFailed(f"{what}: optimizer.step() was called {len(records)} times for {len(batches)} batches",
                          "call optimizer.step() exactly once per batch")
    if not result["training_in_forward"] or not all(result["training_in_forward"]):
        raise CheckFailed(f"{what}: the net ran in eval mode", "call net.train() at the start of train_epoch")
    loss_sum = correct = 0.0
    previous_grads = None
    for step, (record, (X, y)) in enumerate(zip(records, batches)):
        oracle = batch_statistics(seed, record["params"], X, y)
        for got, expected, in zip(record["grads"], oracle["grads"]):
            if got is None:
                raise CheckFailed(f"{what}: at step {step + 1} the parameters had no gradient",
                                  "call loss.backward() before optimizer.step()" if step == 0 else
                                  "call backward() on every batch, before optimizer.step()")
            if not close(got, expected, 1e-4, 1e-6):
                raise CheckFailed(f"{what}: at step {step + 1} the gradient seen by optimizer.step() is wrong; "
                                  f"{worst_element(got, expected)}",
                                  _diagnose_gradient(got, expected, previous_grads, record, oracle, len(y)))
        previous_grads = record["grads"]
        loss_sum += oracle["loss_sum"]
        correct += oracle["correct"]
    value = result["value"]
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise CheckFailed(f"{what}: expected a pair (mean loss, accuracy), got {describe(value)}",
                          "return (total_loss / num_examples, num_correct / num_examples)")
    n = sum(sizes)
    hint = None
    batch_means = [batch_statistics(seed, r["params"], X, y)["batch_mean"] for r, (X, y) in zip(records, batches)]
    if isinstance(value[0], (int, float)) and close(float(value[0]), sum(batch_means) / len(batch_means)) and len(set(sizes)) > 1:
        hint = "weight each batch's loss by its size (the last batch is smaller): sum per-example losses, divide by the number of examples"
    elif isinstance(value[0], (int, float)) and close(float(value[0]), loss_sum):
        hint = "divide the summed loss by the number of examples"
    elif isinstance(value[0], (int, float)) and close(float(value[0]), sum(batch_means) / n):
        hint = ("with a loss that already averages, l.sum() is the batch mean: add float(l.mean()) * len(y) "
                "per batch so the bookkeeping works for both reductions")
    expect_number(value[0], loss_sum / n, f"{what}: the returned mean loss", hint, rel=1e-4)
    expect_number(value[1], correct / n, f"{what}: the returned training accuracy",
                  "count correct predictions of every batch (before its step) and divide by the number of examples", rel=1e-6)


def _diagnose_gradient(got: list[Any] | Any, expected: Any, previous: list[Any] | None, record: dict[str, Any],
                       oracle: dict[str, Any], batch_size: int) -> str:
    got_all, expected_all = record["grads"], oracle["grads"]
    if all(g is not None and close(g, e * batch_size, 1e-4, 1e-6) for g, e in zip(got_all, expected_all)):
        return "backward() ran on the summed loss: call .mean() on the per-example losses first"
    if previous is not None and all(
            g is not None and p is not None and close(g, e + p, 1e-4, 1e-6) for g, e, p in zip(got_all, expected_all, previous)):
        return "gradients accumulate across batches: call optimizer.zero_grad() before loss.backward()"
    return "per batch: optimizer.zero_grad(), forward, loss(...).mean().backward(), optimizer.step()"

# --------------------------------------------------------------------------
# Public checks: small fixed cases, fast.

suite.test("softmax")
suite.test("cross_entropy")
suite.test("accuracy")
suite.test("Flatten")
suite.test("evaluate_accuracy")
suite.test("train_epoch")
# Calibrated by scripts/calibrate_a3_softmax.py (reference, 30 seeds): test accuracy
# min 0.9333, mean 0.9392, max 0.9472; at most 0.17 CPU s per run. Margin 0.033.
THRESHOLD = {"accuracy": 0.90, "num_epochs": 10, "lr": 0.5, "batch_size": 64, "cpu_budget_s": 60.0}
suite.test(
    "train_epoch/threshold",
    title=f"softmax regression reaches {THRESHOLD['accuracy']:.2f} test accuracy",
    needs=("train_epoch", "softmax", "cross_entropy"),
    timeout_s=150.0,
)


@suite.check("softmax")
def softmax_on_a_small_batch(ctx: Context) -> None:
    """softmax matches torch.softmax on a (2, 5) batch, values and gradient"""
    X = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0], [-1.0, 0.0, 0.5, 2.0, -3.0]])
    check_softmax_case(ctx, X, "")


@suite.check("softmax")
def softmax_on_three_dimensions(ctx: Context) -> None:
    """softmax normalises the last dimension of a 3-D input"""
    X = torch.linspace(-2, 2, 24, dtype=torch.float64).reshape(2, 3, 4)
    check_softmax_case(ctx, X, "")


@suite.check("softmax")
def softmax_is_stable(ctx: Context) -> None:
    """softmax stays finite and exact for logits of ±1e4"""
    X = torch.tensor([[1e4, -1e4, 0.0], [1e4, 1e4 - 1.0, -1e4]])
    check_softmax_case(ctx, X, " (huge logits)", HINT_OVERFLOW)


@suite.check("cross_entropy")
def cross_entropy_on_a_small_batch(ctx: Context) -> None:
    """cross_entropy matches F.cross_entropy on 3 examples of 4 classes, value and gradient"""
    logits = torch.tensor([[2.0, 1.0, 0.1, -1.0], [0.5, 2.5, -0.3, 0.0], [-1.2, 0.3, 0.8, 3.0]])
    check_cross_entropy_case(ctx, logits, torch.tensor([0, 1, 2]), "")


@suite.check("cross_entropy")
def cross_entropy_is_stable(ctx: Context) -> None:
    """cross_entropy stays finite for logits of ±1e4"""
    logits = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])
    check_cross_entropy_case(ctx, logits, torch.tensor([1, 0]), " (huge logits)", HINT_CE_STABLE)


@suite.check("accuracy")
def accuracy_on_a_small_batch(ctx: Context) -> None:
    """accuracy is the fraction of rows whose argmax is the label"""
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.5, 0.2, 0.3], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    check_accuracy_case(ctx, y_hat, torch.tensor([2, 0, 0, 1]), "")


@suite.check("Flatten")
def flatten_images(ctx: Context) -> None:
    """Flatten turns (N, C, H, W) into (N, C*H*W) and has no parameters"""
    check_flatten_case(ctx, torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2), "")


@suite.check("evaluate_accuracy")
def evaluate_accuracy_small(ctx: Context) -> None:
    """evaluate_accuracy runs in eval mode without gradients and counts every example"""
    check_evaluate_accuracy_case(ctx, 3, [4, 4, 2], True, False, "")


@suite.check("train_epoch")
def train_epoch_per_example_losses(ctx: Context) -> None:
    """train_epoch zeroes, backpropagates the batch mean and steps once per batch (per-example losses)"""
    check_train_epoch_case(ctx, 6, [4, 4, 3], "none", True, "")


@suite.check("train_epoch")
def train_epoch_mean_loss(ctx: Context) -> None:
    """train_epoch also works with a loss that already returns the batch mean"""
    check_train_epoch_case(ctx, 5, [4, 4, 3], "mean", True, "")


@suite.check("train_epoch/threshold")
def softmax_regression_reaches_threshold(ctx: Context) -> None:
    """softmax regression on the digits reaches the accuracy threshold within the CPU budget"""
    from autograder.data import load_digits

    result = ctx.run(softmax_regression, ctx.seed % 1000, THRESHOLD["num_epochs"], THRESHOLD["lr"], THRESHOLD["batch_size"])
    *_, y_test = load_digits()
    predictions = result["predictions"]
    if not isinstance(predictions, torch.Tensor) or predictions.shape != y_test.shape:
        raise CheckFailed(f"softmax(net(X_test)) should give (360, 10) probabilities; got {describe(predictions)}")
    accuracy = float((predictions == y_test).double().mean())
    if result["cpu_seconds"] > THRESHOLD["cpu_budget_s"]:
        raise CheckFailed(f"training took {result['cpu_seconds']:.0f} s of CPU, over the budget of {THRESHOLD['cpu_budget_s']:.0f} s",
                          "avoid Python loops over examples: work on whole batches")
    if accuracy < THRESHOLD["accuracy"]:
        raise CheckFailed(
            f"softmax regression reached {accuracy:.3f} test accuracy after {THRESHOLD['num_epochs']} epochs "
            f"(lr {THRESHOLD['lr']}, batch size {THRESHOLD['batch_size']}, seed {ctx.seed % 1000}); "
            f"the threshold is {THRESHOLD['accuracy']:.2f}",
            "check that the loss falls epoch by epoch (printed by the training section of the notebook)",
        )
