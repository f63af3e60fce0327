"""a2_linear_regression · train_concise: hints, the scenario that records
every optimizer step, and the checks that replay each step against
nn.MSELoss's gradient (nothing is forbidden: it is the concise version).
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from autograder.checking import CheckFailed, Context
from autograder.checks.a2_linear_regression import RECOVERY_TOLERANCE, TRUE_B, TRUE_W, Z_MAX, suite
from autograder.checks.a2_linear_regression.rngs import keeps_global_rngs
from autograder.checks.a2_linear_regression.train_linreg import check_recovery, make_linear_data
from autograder.compare import close, expect_tensor, shape_of, worst_element
from autograder.scenarios import Learner

# Hints: one sentence naming the likely bug.
HINT_TC_LINEAR = "return the nn.Linear layer itself (net[0]), not the nn.Sequential around it"
HINT_TC_SAME_LAYER = "return the layer you trained, the one whose parameters the optimizer updated"
HINT_TC_ZERO = "call optimizer.zero_grad() on every batch before l.backward(), or the gradients accumulate"
HINT_TC_HALF = "use nn.MSELoss(): the mean squared error has no 1/2 (squared_loss does)"
HINT_TC_SUM = "nn.MSELoss() averages over the batch (reduction='mean'); don't sum the losses"
HINT_TC_LOSS = "loss = nn.MSELoss(); per batch: l = loss(net(X), y); optimizer.zero_grad(); l.backward(); optimizer.step()"
HINT_TC_BACKWARD = "call l.backward() on every batch before optimizer.step()"
HINT_TC_OPTIMIZER = "train with optimizer = torch.optim.SGD(net.parameters(), lr=lr) and call optimizer.step() per batch"
HINT_TC_LR = "pass the lr argument on: torch.optim.SGD(net.parameters(), lr=lr)"
HINT_TC_PLAIN_SGD = "plain SGD: torch.optim.SGD(net.parameters(), lr=lr), without momentum or weight decay"
HINT_TC_DATA = ("iterate over DataLoader(TensorDataset(features, labels), batch_size, shuffle=True): "
                "every example once per epoch, in batches of batch_size")
HINT_TC_SHUFFLE = "shuffle: DataLoader(dataset, batch_size, shuffle=True) draws a new order every epoch"
HINT_TC_INIT = ("initialise like train_linreg: net[0].weight.data.normal_(0, 0.01) and net[0].bias.data.fill_(0), "
                "right after creating the layer")
HINT_TC_EPOCHS = "run exactly num_epochs passes over train_iter"


# --------------------------------------------------------------------------
# Learner side: the scenario.


@keeps_global_rngs
def train_concise_trace(learner: Learner, features: torch.Tensor, labels: torch.Tensor,
                        settings: dict[str, Any] | None, global_seed: int, record: bool) -> dict[str, Any]:
    """train_concise with the global RNG seeded `global_seed`, recording
    (with `record`) every optimizer step: the parameters and gradients it
    saw, its learning rate and the input of the last nn.Linear forward pass
    before it (the step's minibatch); then what was returned."""
    function = learner["train_concise"]
    forwards: list[torch.Tensor] = []
    steps: list[dict[str, Any]] = []
    after: list[list[torch.Tensor]] = []
    trained: dict[int, torch.Tensor] = {}

    def on_forward(module: nn.Module, inputs: tuple[Any, ...]) -> None:
        if isinstance(module, nn.Linear) and inputs and isinstance(inputs[0], torch.Tensor):
            forwards.append(inputs[0].detach().clone() if record else inputs[0].new_empty(0))

    def before_step(optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        for p in params:
            trained[id(p)] = p
        if record:
            steps.append({
                "params": [p.detach().clone() for p in params],
                "grads": [None if p.grad is None else p.grad.detach().clone() for p in params],
                "lr": [float(group["lr"]) for group in optimizer.param_groups],
                "options": [{key: float(group.get(key) or 0.0) for key in ("momentum", "weight_decay", "dampening")}
                            for group in optimizer.param_groups],
                "batch": forwards[-1] if forwards else None,
            })
        else:
            steps.append({})

    def after_step(optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        if record:
            after.append([p.detach().clone() for group in optimizer.param_groups for p in group["params"]])

    from torch.nn.modules.module import register_module_forward_pre_hook
    from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

    handles = [register_module_forward_pre_hook(on_forward), register_optimizer_step_pre_hook(before_step),
               register_optimizer_step_post_hook(after_step)]
    torch.manual_seed(global_seed)
    try:
        out = function(features, labels, **(settings or {}))
    finally:
        for handle in handles:
            handle.remove()
    result: dict[str, Any] = {
        "type": type(out).__name__,
        "is_linear": isinstance(out, nn.Linear),
        "is_module": isinstance(out, nn.Module),
        "num_steps": len(steps),
        "steps": steps if record else [],
        "after": after,
        "weight": None,
        "bias": None,
        "trained_layer": False,
    }
    if isinstance(out, nn.Linear):
        result["weight"] = out.weight.detach().clone()
        result["bias"] = None if out.bias is None else out.bias.detach().clone()
        result["trained_layer"] = id(out.weight) in trained
    elif isinstance(out, nn.Module):
        linears = [m for m in out.modules() if isinstance(m, nn.Linear)]
        result["contains_linear"] = bool(linears)
    return result


# --------------------------------------------------------------------------
# Grader side: the oracle, the diagnosis, the checks.


def check_train_concise_steps(ctx: Context, features: torch.Tensor, labels: torch.Tensor, num_epochs: int, lr: float,
                              batch_size: int, label: str) -> None:
    """train_concise checked step by step: at every optimizer step the
    gradient must be that of nn.MSELoss (mean) on the step's minibatch at the
    current parameters, with plain SGD at lr; the minibatches must cover every
    example once per epoch, in batches of batch_size, in a new random order
    each epoch; the returned nn.Linear is the trained one and was initialised
    like train_linreg (weights N(0, 0.01²), bias 0).

    False failures: two epochs in the same order: 1/n! (n >= 12: < 2.1e-9);
    an initial weight beyond 6.5 * 0.01 in absolute value: P = 8.0e-11 each."""
    n, d = features.shape
    settings = {"num_epochs": num_epochs, "lr": lr, "batch_size": batch_size}
    what = (f"train_concise(features of {shape_of(features)}, labels, num_epochs={num_epochs}, lr={lr:g}, "
            f"batch_size={batch_size}){label}")
    result = ctx.run(train_concise_trace, features, labels, settings, ctx.seed % 100_000, True)
    _check_concise_layer(result, d, what)
    steps = result["steps"]
    per_epoch = math.ceil(n / batch_size)
    if not steps:
        raise CheckFailed(f"{what}: no optimizer step was taken", HINT_TC_OPTIMIZER)
    first = steps[0]["params"]
    if len(first) != 2 or tuple(first[0].shape) != (1, d) or tuple(first[1].shape) != (1,):
        raise CheckFailed(f"{what}: the optimizer should hold the weight (1, {d}) and bias (1,) of one nn.Linear, "
                          f"got parameters of shapes {[tuple(p.shape) for p in first]}", HINT_TC_OPTIMIZER)
    if float(first[1].abs().max()) != 0.0 or float(first[0].abs().max()) > Z_MAX * 0.01:
        raise CheckFailed(f"{what}: the layer started from weight {first[0].tolist()} and bias {first[1].tolist()}; "
                          f"expected weights drawn from N(0, 0.01²) and a zero bias", HINT_TC_INIT)
    rows = {tuple(row): index for index, row in enumerate(features.tolist())}
    orders: list[list[int]] = [[] for _ in range(num_epochs)]
    previous_grads = None
    for number, step in enumerate(steps):
        where = f"{what}: at optimizer step {number + 1}"
        if any(lr_ != lr for lr_ in step["lr"]):
            raise CheckFailed(f"{where} the learning rate was {step['lr'][0]:g}, expected {lr:g}", HINT_TC_LR)
        if any(any(value for value in options.values()) for options in step["options"]):
            raise CheckFailed(f"{where} the optimizer used {step['options'][0]}", HINT_TC_PLAIN_SGD)
        batch = step["batch"]
        if batch is None or batch.dim() != 2 or batch.shape[1] != d:
            raise CheckFailed(f"{where} no minibatch of shape (m, {d}) went through the layer first", HINT_TC_DATA)
        try:
            indices = [rows[tuple(row)] for row in batch.tolist()]
        except KeyError:
            raise CheckFailed(f"{where} the layer was fed rows that are not rows of features", HINT_TC_DATA) from None
        epoch = number // per_epoch
        if epoch < num_epochs:
            orders[epoch].extend(indices)
        params, grads = step["params"], step["grads"]
        if any(g is None for g in grads):
            raise CheckFailed(f"{where} a parameter had no gradient", HINT_TC_BACKWARD)
        expected = _mse_gradients(params, features[indices], labels[indices])
        if not all(close(g, e, 1e-4, 1e-6) for g, e in zip(grads, expected)):
            hint = _diagnose_concise_gradient(grads, expected, previous_grads, len(indices))
            raise CheckFailed(f"{where} the gradient is wrong; {worst_element(grads[0], expected[0])}", hint)
        previous_grads = grads
        updated = result["after"][number]
        for index, (before, grad, now) in enumerate(zip(params, grads, updated)):
            if not close(now, before - lr * grad, 1e-5, 1e-7):
                raise CheckFailed(f"{where} the update of parameter {index} is not plain SGD", HINT_TC_PLAIN_SGD)
    if len(steps) != num_epochs * per_epoch:
        hint = HINT_TC_EPOCHS if len(steps) % per_epoch == 0 else HINT_TC_DATA
        raise CheckFailed(f"{what}: {len(steps)} optimizer steps, expected {num_epochs} epochs x {per_epoch} batches "
                          f"= {num_epochs * per_epoch}", hint)
    for epoch, order in enumerate(orders):
        if sorted(order) != list(range(n)):
            raise CheckFailed(f"{what}: epoch {epoch + 1} did not use every example exactly once", HINT_TC_DATA)
    if n >= 12:
        if any(order == list(range(n)) for order in orders) or any(a == b for a, b in zip(orders, orders[1:])):
            raise CheckFailed(f"{what}: the examples came in the same order in every epoch", HINT_TC_SHUFFLE)
    final = result["after"][-1]
    if not (close(result["weight"], final[0]) and close(result["bias"], final[1])):
        raise CheckFailed(f"{what}: the returned layer's parameters differ from those after the last step",
                          HINT_TC_SAME_LAYER)


def _check_concise_layer(result: dict[str, Any], d: int, what: str) -> None:
    if not result["is_linear"]:
        if result["is_module"]:
            raise CheckFailed(f"{what}: returned a module of type {result['type']}, expected an nn.Linear", HINT_TC_LINEAR)
        raise CheckFailed(f"{what}: returned {result['type']}, expected the trained nn.Linear", HINT_TC_LINEAR)
    weight, bias = result["weight"], result["bias"]
    if tuple(weight.shape) != (1, d) or bias is None or tuple(bias.shape) != (1,):
        raise CheckFailed(f"{what}: expected nn.Linear({d}, 1), got weight {tuple(weight.shape)} and bias "
                          f"{None if bias is None else tuple(bias.shape)}", "net = nn.Sequential(nn.Linear(d, 1))")
    if not result["trained_layer"]:
        raise CheckFailed(f"{what}: the returned nn.Linear is not the one the optimizer trained", HINT_TC_SAME_LAYER)


def _mse_gradients(params: list[torch.Tensor], X: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    weight, bias = (p.to(torch.float64).clone().requires_grad_(True) for p in params)
    y_hat = X.to(torch.float64) @ weight.T + bias
    ((y_hat - y.to(torch.float64).reshape(y_hat.shape)) ** 2).mean().backward()
    return [weight.grad.to(params[0].dtype), bias.grad.to(params[1].dtype)]


def _diagnose_concise_gradient(grads: list[torch.Tensor], expected: list[torch.Tensor],
                               previous: list[torch.Tensor] | None, m: int) -> str:
    def matches(factor: float, add_previous: bool = False) -> bool:
        if add_previous and previous is None:
            return False
        return all(close(g, e * factor + (p if add_previous else 0), 1e-4, 1e-6)
                   for g, e, p in zip(grads, expected, previous or expected))

    if matches(1.0, add_previous=True):
        return HINT_TC_ZERO
    if matches(0.5):
        return HINT_TC_HALF
    if m > 1 and (matches(float(m)) or matches(m / 2)):
        return HINT_TC_SUM
    return HINT_TC_LOSS


def d2l_full_batch(features: torch.Tensor, labels: torch.Tensor, num_epochs: int, lr: float,
                   global_seed: int) -> nn.Linear:
    """The oracle for full batches: the layer the lesson's recipe gives after
    torch.manual_seed(global_seed) (nn.Linear(d, 1), then weight.normal_(0,
    0.01) and bias.fill_(0)), trained by gradient descent on nn.MSELoss of
    the whole data (with one batch, the order of the examples cannot matter)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(global_seed)
        layer = nn.Linear(features.shape[1], 1, dtype=features.dtype)
        layer.weight.data.normal_(0, 0.01)
        layer.bias.data.fill_(0)
    for _ in range(num_epochs):
        layer.zero_grad()
        nn.functional.mse_loss(layer(features), labels).backward()
        with torch.no_grad():
            for parameter in layer.parameters():
                parameter -= lr * parameter.grad
    return layer


def check_train_concise_full_batch(ctx: Context, features: torch.Tensor, labels: torch.Tensor, num_epochs: int,
                                   lr: float, label: str, global_seed: int | None = None) -> None:
    """train_concise with batch_size = num_examples and the global RNG seeded:
    its trained layer must equal `d2l_full_batch` from the same seed."""
    n, d = features.shape
    global_seed = ctx.seed % 100_000 + 11 if global_seed is None else global_seed
    settings = {"num_epochs": num_epochs, "lr": lr, "batch_size": n}
    what = (f"train_concise(features of {shape_of(features)}, labels, num_epochs={num_epochs}, lr={lr:g}, "
            f"batch_size={n} (full batch)) after torch.manual_seed({global_seed}){label}")
    result = ctx.run(train_concise_trace, features, labels, settings, global_seed, False)
    _check_concise_layer(result, d, what)
    layer = d2l_full_batch(features, labels, num_epochs, lr, global_seed)
    rtol, atol = 2e-5, 1e-6
    expect_tensor(result["weight"], layer.weight.detach(), f"{what}: the trained weight", HINT_TC_INIT, rtol=rtol, atol=atol)
    expect_tensor(result["bias"], layer.bias.detach(), f"{what}: the trained bias", HINT_TC_INIT, rtol=rtol, atol=atol)


def check_train_concise_recovery(ctx: Context, data_seed: int, global_seed: int, label: str) -> None:
    """After the default epochs, lr and batch size on d2l's 1,000 synthetic
    examples, the layer's weight and bias are within RECOVERY_TOLERANCE of the truth."""
    features, labels = make_linear_data(data_seed, TRUE_W, TRUE_B, 1000)
    what = (f"train_concise(features, labels) with the default num_epochs, lr and batch_size after "
            f"torch.manual_seed({global_seed}), on d2l's 1,000 examples (true_w = {list(TRUE_W)}, true_b = {TRUE_B}, "
            f"data seed {data_seed}){label}")
    result = ctx.run(train_concise_trace, features, labels, None, global_seed, False)
    _check_concise_layer(result, 2, what)
    if result["num_steps"] != 3 * 100:
        raise CheckFailed(f"{what}: {result['num_steps']} optimizer steps, expected 3 epochs x 100 batches = 300",
                          "keep the contract's defaults num_epochs=3, lr=0.03, batch_size=10")
    check_recovery(result["weight"].reshape(-1), result["bias"].reshape(-1), what,
                   RECOVERY_TOLERANCE["train_concise"], HINT_TC_LOSS)


@suite.check("train_concise")
def train_concise_step_by_step(ctx: Context) -> None:
    """train_concise takes plain SGD steps on nn.MSELoss over shuffled minibatches and returns the trained nn.Linear"""
    features, labels = make_linear_data(4, (1.0, -2.0), 0.5, 30)
    check_train_concise_steps(ctx, features, labels, 2, 0.05, 8, "")


@suite.check("train_concise")
def train_concise_full_batch(ctx: Context) -> None:
    """train_concise with full batches (batch_size = 40) after torch.manual_seed(7) equals full-batch gradient descent from the lesson's initial weights"""
    features, labels = make_linear_data(5, TRUE_W, TRUE_B, 40)
    check_train_concise_full_batch(ctx, features, labels, 4, 0.05, "", global_seed=7)


@suite.check("train_concise")
def train_concise_recovers_parameters(ctx: Context) -> None:
    """train_concise recovers true_w and true_b within 0.01 with its default settings"""
    check_train_concise_recovery(ctx, 0, 1000, "")
