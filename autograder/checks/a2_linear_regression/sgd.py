"""a2_linear_regression · sgd: what is forbidden, hints, the scenario that
records what became of each parameter, and the checks.
"""
from __future__ import annotations

from typing import Any

import torch

from autograder.checking import CheckFailed, Context
from autograder.checks.a2_linear_regression import suite
from autograder.compare import close, expect_tensor
from autograder.guard import forbid
from autograder.scenarios import Learner

suite.forbid("sgd", forbid(shown=("torch.optim",), modules=("torch.optim.Optimizer",), names=("optim",),
                           whole_modules=("torch.optim",)))

# Hints: one sentence naming the likely bug.
HINT_SGD_NO_GRAD = ("update inside `with torch.no_grad():` so autograd does not record the update "
                    "(it refuses in-place changes to a leaf tensor that requires grad)")
HINT_SGD_IN_PLACE = ("update each parameter in place: param -= lr * param.grad / batch_size (inside torch.no_grad()); "
                     "`param = param - ...` only rebinds a local name")
HINT_SGD_REPLACED = ("update the tensors in params in place; putting new tensors into the list leaves the "
                     "caller's w and b unchanged")
HINT_SGD_STORAGE = ("update the tensor's own memory in place (param -= ... or param.sub_(...) under torch.no_grad()); "
                    "assigning param.data = ... swaps in new memory")
HINT_SGD_BATCH = "divide by batch_size: the gradient is that of the minibatch's summed loss"
HINT_SGD_ZERO = "zero each gradient after its update: param.grad.zero_()"
HINT_SGD_ORDER = "update first, then zero the gradient: zeroing it first makes the step zero"
HINT_SGD_EVERY = "update every parameter in params (no return or break inside the loop)"
HINT_SGD_REQUIRES_GRAD = ("keep requires_grad=True: use `with torch.no_grad():` rather than switching "
                          "requires_grad off or detaching")


# --------------------------------------------------------------------------
# Learner side: the scenario.


def sgd_trace(learner: Learner, values: list[torch.Tensor], grads: list[torch.Tensor], lr: float,
              batch_size: int) -> dict[str, Any]:
    """The learner's sgd on fresh leaf parameters with the given gradients:
    what became of each parameter object the caller holds."""
    params = [value.clone().requires_grad_(True) for value in values]
    for param, grad in zip(params, grads):
        param.grad = grad.clone()
    pointers = [param.data_ptr() for param in params]
    container = list(params)
    error = None
    try:
        learner["sgd"](container, lr, batch_size)
    except RuntimeError as raised:
        message = str(raised)
        if "in-place operation" not in message and "requires grad" not in message:
            raise
        error = message.splitlines()[0]
    return {
        "error": error,
        "values": [param.detach().clone() for param in params],
        "grads": [None if param.grad is None else param.grad.detach().clone() for param in params],
        "same_storage": [param.data_ptr() == pointer for param, pointer in zip(params, pointers)],
        "requires_grad": [param.requires_grad for param in params],
        "has_history": [param.grad_fn is not None for param in params],
        "replaced": [item is not param for item, param in zip(container, params)] if len(container) == len(params)
        else [True] * len(params),
        "replaced_with_history": [isinstance(item, torch.Tensor) and item.grad_fn is not None for item in container],
    }


# --------------------------------------------------------------------------
# Grader side: the checks.


def check_sgd_case(ctx: Context, values: list[torch.Tensor], grads: list[torch.Tensor], lr: float, batch_size: int,
                   label: str) -> None:
    """sgd(params, lr, batch_size): each parameter updated in place (same
    object, same memory), by lr * grad / batch_size, outside autograd
    (still a leaf that requires grad, no grad_fn), its gradient zeroed."""
    shapes = ", ".join(str(tuple(v.shape)) for v in values)
    what = (f"sgd(params, lr={lr:g}, batch_size={batch_size}) for {len(values)} parameter(s) of shapes {shapes}, "
            f"{str(values[0].dtype).replace('torch.', '')}{label}")
    result = ctx.run(sgd_trace, values, grads, lr, batch_size)
    if result["error"]:
        raise CheckFailed(f"{what}: the update raised RuntimeError: {result['error']}", HINT_SGD_NO_GRAD)
    expected = [v - lr * g / batch_size for v, g in zip(values, grads)]
    got = result["values"]
    unchanged = [torch.equal(g, v) for g, v in zip(got, values)]
    zeroed = [g is None or not bool(g.any()) for g in result["grads"]]
    if all(unchanged):
        if any(result["replaced"]):
            hint = HINT_SGD_REPLACED
        elif all(zeroed):
            hint = HINT_SGD_ORDER
        else:
            hint = HINT_SGD_IN_PLACE
        raise CheckFailed(f"{what}: the caller's parameters were not changed", hint)
    for index, (g, e, v) in enumerate(zip(got, expected, values)):
        if unchanged[index]:
            raise CheckFailed(f"{what}: parameter {index} was not updated (the others were)", HINT_SGD_EVERY)
        hint = None
        if close(g, v - lr * grads[index], 1e-5, 1e-7):
            hint = HINT_SGD_BATCH
        expect_tensor(g, e, f"{what}: parameter {index} after the step", hint)
    for index in range(len(values)):
        if not result["same_storage"][index]:
            raise CheckFailed(f"{what}: parameter {index} was given new memory instead of being updated in place",
                              HINT_SGD_STORAGE)
        if not result["requires_grad"][index]:
            raise CheckFailed(f"{what}: parameter {index} no longer requires grad", HINT_SGD_REQUIRES_GRAD)
        if result["has_history"][index]:
            raise CheckFailed(f"{what}: parameter {index} now has autograd history (a grad_fn)", HINT_SGD_NO_GRAD)
        if not zeroed[index]:
            raise CheckFailed(f"{what}: the gradient of parameter {index} was not zeroed", HINT_SGD_ZERO)
    if any(result["replaced_with_history"]):
        raise CheckFailed(f"{what}: params now holds tensors with autograd history", HINT_SGD_NO_GRAD)


@suite.check("sgd")
def sgd_updates_w_and_b(ctx: Context) -> None:
    """sgd updates w and b in place by lr * grad / batch_size, outside autograd, and zeroes their gradients"""
    values = [torch.tensor([[0.5], [-1.0]]), torch.tensor([0.25])]
    grads = [torch.tensor([[2.0], [-4.0]]), torch.tensor([6.0])]
    check_sgd_case(ctx, values, grads, 0.1, 4, "")
