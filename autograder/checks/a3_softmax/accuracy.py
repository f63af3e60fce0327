"""a3_softmax · accuracy and evaluate_accuracy: hints, the scenario that
records how the learner evaluates a net, and the checks."""
from __future__ import annotations

from typing import Any

import torch

from autograder.checking import CheckFailed, Context, LearnerError, OutcomeKind
from autograder.checks.a3_softmax import suite
from autograder.checks.kit import make_batches, make_classifier
from autograder.compare import close, expect_number, shape_of
from autograder.scenarios import Learner, call

HINT_ACC_FRACTION = "return the fraction of correct rows (correct / n), not the count of correct rows"
HINT_ACC_ROWS = "take the argmax over each row's classes: y_hat.argmax(dim=1)"
HINT_ACC_ONE_COLUMN = ("take y_hat.argmax(dim=1) for every y_hat, even one with a single score column (whose argmax is "
                       "always class 0): do not skip the argmax when y_hat.shape[1] == 1")

# --------------------------------------------------------------------------
# Learner side: scenarios.


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



# --------------------------------------------------------------------------
# Grader side: the oracle and the checks.


def expected_accuracy(seed: int, batches: list[Any]) -> float:
    """The true eval-mode accuracy of `make_classifier(seed)` over all examples."""
    net = make_classifier(seed, batches[0][0].shape[1], 4, dropout=0.5).eval()
    correct = total = 0
    with torch.no_grad():
        for X, y in batches:
            correct += int((net(X).argmax(dim=1) == y).sum())
            total += len(y)
    return correct / total


def check_accuracy_case(ctx: Context, y_hat: torch.Tensor, y: torch.Tensor, label: str) -> None:
    try:
        got = ctx.run(call, "accuracy", y_hat, y)
    except LearnerError as error:
        # y_hat.argmax(dim=0) has one entry per class, not per row: comparing it with y fails.
        if error.kind is OutcomeKind.ERROR and error.hint is None and "must match the size" in error.message:
            raise LearnerError(error.kind, error.message, HINT_ACC_ROWS) from None
        raise
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
    elif y_hat.dim() == 2 and y_hat.shape[1] == 1:
        hint = HINT_ACC_ONE_COLUMN
    elif isinstance(got, int) and not close(float(got), expected):
        hint = "divide with /, not //: integer division rounds the fraction down to 0"
    expect_number(got, expected, what, hint)


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


@suite.check("accuracy")
def accuracy_on_a_small_batch(ctx: Context) -> None:
    """accuracy is the fraction of rows whose argmax is the label"""
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.5, 0.2, 0.3], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    check_accuracy_case(ctx, y_hat, torch.tensor([2, 0, 0, 1]), "")


@suite.check("evaluate_accuracy")
def evaluate_accuracy_small(ctx: Context) -> None:
    """evaluate_accuracy on batches of unequal size (4, 4, 2): eval mode, no gradients, each example counted once, the net back in train mode"""
    check_evaluate_accuracy_case(ctx, 3, [4, 4, 2], True, False, "")


@suite.check("evaluate_accuracy")
def evaluate_accuracy_keeps_eval_mode(ctx: Context) -> None:
    """evaluate_accuracy leaves a net that was in eval mode in eval mode (batches 3, 3, 2)"""
    check_evaluate_accuracy_case(ctx, 7, [3, 3, 2], False, False, " (net in eval mode before)")


@suite.check("accuracy")
def accuracy_with_one_score_column(ctx: Context) -> None:
    """accuracy takes the argmax even when y_hat has a single score column"""
    y_hat = torch.tensor([[0.9], [0.1], [2.0], [0.0]])
    check_accuracy_case(ctx, y_hat, torch.tensor([0, 1, 0, 0]), " (one score column)")
