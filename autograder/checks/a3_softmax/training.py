"""a3_softmax · train_epoch and the softmax-regression threshold: the
scenarios that record every optimizer step and train on the digits, and the
checks that replay each step against the oracle gradient."""
from __future__ import annotations

import time
from typing import Any

import torch
from torch import nn

from autograder.checking import CheckFailed, Context
from autograder.checks.a3_softmax import THRESHOLD, suite
from autograder.checks.kit import LightSGD, make_batches, make_classifier
from autograder.compare import close, expect_number, worst_element
from autograder.scenarios import Learner, describe

HINT_SOFTMAX_ARGMAX = ("softmax must keep each row's largest score the largest: normalise each row over the last "
                       "dimension (sum(dim=-1, keepdim=True)), not over the batch")
HINT_NOT_LEARNING = ("the training section's plot should show the train loss falling epoch by epoch; a loss that "
                     "stays near 2.303 (ln 10, a uniform guess) means no learning: check that train_epoch calls "
                     "zero_grad, backward and step for every batch, and cross_entropy's gradient")

# --------------------------------------------------------------------------
# Learner side: scenarios.


class _RecordingSGD(LightSGD):
    """SGD that remembers the parameters and gradients it saw at each step."""

    def __init__(self, params: Any, lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr, momentum)
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


def softmax_regression(learner: Learner, seed: int, num_epochs: int, lr: float, batch_size: int) -> dict[str, Any]:
    """Softmax regression on the bundled digits from the learner's own
    `cross_entropy` (loss), `train_epoch` (loop) and `softmax` (predictions);
    returns the predicted test labels and per-epoch training metrics."""
    from autograder.data import load_digits

    X_train, y_train, X_test, _ = load_digits()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    net = nn.Linear(64, 10)
    optimizer = LightSGD(net.parameters(), lr)
    X_train, X_test = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
    history = []
    started = time.process_time()
    for _ in range(num_epochs):
        order = torch.randperm(len(X_train), generator=generator)
        train_iter = [(X_train[order[i:i + batch_size]], y_train[order[i:i + batch_size]])
                      for i in range(0, len(order), batch_size)]
        history.append(learner["train_epoch"](net, train_iter, learner["cross_entropy"], optimizer))
    with torch.no_grad():
        scores = net(X_test)
        probabilities = learner["softmax"](scores)
    return {
        "predictions": probabilities.argmax(dim=1) if isinstance(probabilities, torch.Tensor) else probabilities,
        "score_predictions": scores.argmax(dim=1),
        "history": history,
        "cpu_seconds": time.process_time() - started,
    }


# --------------------------------------------------------------------------
# Grader side: the oracle and the checks.


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

@suite.check("train_epoch")
def train_epoch_per_example_losses(ctx: Context) -> None:
    """train_epoch zeroes, backpropagates the batch mean and steps once per batch (per-example losses)"""
    check_train_epoch_case(ctx, 6, [4, 4, 3], "none", True, "")


@suite.check("train_epoch")
def train_epoch_mean_loss(ctx: Context) -> None:
    """train_epoch also works with a loss that already returns the batch mean"""
    check_train_epoch_case(ctx, 5, [4, 4, 3], "mean", True, "")


@suite.check("train_epoch")
def train_epoch_from_eval_mode(ctx: Context) -> None:
    """train_epoch puts a net left in eval mode back in training mode (batches 4, 4, 2)"""
    check_train_epoch_case(ctx, 8, [4, 4, 2], "mean", False, " (net left in eval mode)")


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
    if accuracy >= THRESHOLD["accuracy"]:
        return
    setting = (f"after {THRESHOLD['num_epochs']} epochs (lr {THRESHOLD['lr']}, batch size {THRESHOLD['batch_size']}, "
               f"seed {ctx.seed % 1000}); the threshold is {THRESHOLD['accuracy']:.2f}")
    scores = result["score_predictions"]
    score_accuracy = float((scores == y_test).double().mean()) if isinstance(scores, torch.Tensor) else 0.0
    if score_accuracy >= THRESHOLD["accuracy"]:
        # Trained well (the notebook's own evaluation, which takes the argmax
        # of the scores, says so too): the learner's softmax moved the argmax.
        raise CheckFailed(
            f"the trained net's scores pick the right digit for {score_accuracy:.3f} of the test set, but the "
            f"classes your softmax makes most likely are right for only {accuracy:.3f}, {setting}",
            HINT_SOFTMAX_ARGMAX)
    raise CheckFailed(f"softmax regression reached {accuracy:.3f} test accuracy {setting}; "
                      f"the mean training loss your train_epoch returned per epoch: {_losses(result['history'])}",
                      HINT_NOT_LEARNING)


def _losses(history: Any) -> str:
    try:
        return ", ".join(f"{float(loss):.3f}" for loss, _ in history)
    except (TypeError, ValueError):
        return "(not a list of (loss, accuracy) pairs)"

