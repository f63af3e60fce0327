"""a4_mlp · SGDMomentum, RMSprop, Adam, learner side: what is forbidden,
the hints, and the scenarios that train the same small problem under the
learner's optimizer (or torch's, or a simulated buggy one). The grader side
(the oracle, the simulated bugs, the checks) is `optim_checks`."""
from __future__ import annotations

import io
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from autograder.checks.a4_mlp import suite
from autograder.checks.kit import make_batches
from autograder.guard import forbid
from autograder.scenarios import Learner, describe

# The optimizers: the class, its functional form (torch.optim.adam.adam and
# the kernels it dispatches to) and the fused ATen kernels. Plain Python
# functions are invisible to the torch-level tracer, so the scenarios also
# trace the functional forms themselves (Forbidden.python_functions), and a
# scenario checks that the learner's class does not subclass torch's.
_OPTIMIZER_FUNCTIONAL = {
    "SGDMomentum": (("torch.optim.sgd", ("sgd", "_single_tensor_sgd", "_multi_tensor_sgd", "_fused_sgd")),),
    "RMSprop": (("torch.optim.rmsprop", ("rmsprop", "_single_tensor_rmsprop", "_multi_tensor_rmsprop")),),
    "Adam": (("torch.optim.adam", ("adam", "_single_tensor_adam", "_multi_tensor_adam", "_fused_adam")),
             ("torch.optim.adamw", ("adamw",))),
}


def _functional(name: str) -> tuple[str, ...]:
    return tuple(f"{module}.{attribute}" for module, attributes in _OPTIMIZER_FUNCTIONAL[name] for attribute in attributes)


TORCH_OPTIMIZER = {"SGDMomentum": "SGD", "RMSprop": "RMSprop", "Adam": "Adam"}

suite.forbid("SGDMomentum", forbid(
    "sgd",
    shown=("torch.optim.SGD", "torch.optim.sgd.sgd (its functional form)", "subclassing torch.optim.SGD"),
    modules=("torch.optim.SGD",), python_functions=_functional("SGDMomentum"),
    functions=("torch._fused_sgd_",),  # the fused kernel: its name is beyond the expansion of "sgd"
))
suite.forbid("RMSprop", forbid(
    "rmsprop",
    shown=("torch.optim.RMSprop", "torch.optim.rmsprop.rmsprop (its functional form)", "subclassing torch.optim.RMSprop"),
    modules=("torch.optim.RMSprop",), python_functions=_functional("RMSprop"),
))
suite.forbid("Adam", forbid(
    "adam", "adamw",
    shown=("torch.optim.Adam", "torch.optim.AdamW", "torch.optim.adam.adam / adamw (their functional forms)",
           "subclassing torch.optim.Adam"),
    modules=("torch.optim.Adam", "torch.optim.AdamW"), python_functions=_functional("Adam"),
    functions=("torch._fused_adam_", "torch._fused_adamw_"),  # the fused kernels, as for SGD
))

HINT_OPT_SKIP_NONE = ("skip parameters whose .grad is None (`if p.grad is None: continue`): torch leaves them, "
                      "and their state, untouched")
HINT_OPT_STATE = ("training did not resume exactly from optimizer.state_dict(): keep every per-parameter state "
                  "(buffers, step counts) in self.state[p], under any names you like; state_dict() saves only "
                  "self.state and the param groups, so attributes such as self.velocity are lost")
HINT_OPT_IN_PLACE = ("the parameters did not change: update them in place under torch.no_grad() "
                     "(p.add_(...) or p -= ...), not by rebinding p = p - ...")
HINT_OPT_GROUPS = ("read lr and the other hyperparameters from each param group (group['lr']) at every step, not from "
                   "attributes or arguments saved in __init__: param groups and learning-rate schedulers change them there")
HINT_OPT_CLOSURE_GRAD = ("call the closure inside `with torch.enable_grad():` - step runs under torch.no_grad(), "
                         "where the closure's forward pass would build no graph")
HINT_OPT_CLOSURE_RETURN = "step(closure) must call closure() once, before updating, and return the loss it returned"
HINT_OPT_SUBCLASS = "subclass torch.optim.Optimizer and pass the hyperparameters as its defaults dict"
HINT_OPT_WD_IN_GRAD = ("weight decay was added into p.grad in place (p.grad.add_(p, alpha=weight_decay)): step must leave "
                       "p.grad as backward left it, or a gradient kept for another step gets the decay twice; compute "
                       "a new tensor instead, g = p.grad.add(p, alpha=weight_decay)")
HINT_OPT_GRAD_TOUCHED = ("step changed p.grad: leave it as backward left it and compute on new tensors. A buffer stored "
                         "as p.grad itself (buf = p.grad, no .clone()) changes p.grad when updated in place: start it "
                         "as a copy, buf = g.clone()")
HINT_SGD_ALIAS = ("the momentum buffer follows p.grad: it was stored as p.grad itself (no .clone()), so when the "
                  "gradient tensor is overwritten in place (zero_grad(set_to_none=False), then backward) the buffer "
                  "changes with it: start it as a copy, buf = g.clone()")
HINT_SGD_WD_AFTER = ("weight decay applied after the step: add weight_decay * p to the gradient first "
                     "(g = p.grad + weight_decay * p), then update the momentum buffer and the parameter")
HINT_SGD_WD_OUTSIDE = ("weight decay must go through the momentum buffer: g = p.grad + weight_decay * p, then "
                       "buf = momentum * buf + g")
HINT_SGD_ZERO_START = ("momentum buffer started at zero and averaged with (1 - momentum): torch starts it at the "
                       "first gradient (buf = g.clone()) and then uses buf = momentum * buf + g")
HINT_SGD_DAMPENED = "torch's momentum buffer has no (1 - momentum) factor: buf = momentum * buf + g"
HINT_SGD_STALE = ("the step used the momentum buffer before adding the current gradient (a buffer started at zero "
                  "does not move on the first step): update buf first, then p -= lr * buf")
HINT_SGD_NO_STATE = ("the momentum buffer is not kept between steps: store it in self.state[p] (under any name) "
                     "and reuse it at the next step")
HINT_RMS_EPS = ("eps inside the square root: torch divides by sqrt(s) + eps, "
                "not by sqrt(s + eps), where s is the running average of squared gradients")
HINT_RMS_EPS_OUTSIDE = ("eps added after the division: torch divides the gradient by (sqrt(s) + eps), "
                        "g / (s.sqrt() + eps), so eps belongs in the denominator")
HINT_RMS_FIRST = ("start the running average of squared gradients at zero (torch.zeros_like(p)), "
                  "not at the first squared gradient")
HINT_RMS_ALPHA = "s = alpha * s + (1 - alpha) * g * g: alpha weights the old average"
HINT_RMS_SQRT = "divide by the square root of the running average: g / (sqrt(s) + eps)"
HINT_ADAM_NO_BIAS = ("Adam without bias correction: divide m by 1 - beta1**t and v by 1 - beta2**t "
                     "(t, the parameter's step count, counted from 1)")
HINT_ADAM_EPS = ("eps inside the square root: torch divides by sqrt(v / (1 - beta2**t)) + eps, "
                 "not by the square root of (... + eps)")
HINT_ADAM_EPS_OUTSIDE = ("eps added after the division: torch divides by (sqrt(v_hat) + eps), "
                         "m_hat / (v_hat.sqrt() + eps), so eps belongs in the denominator")
HINT_ADAM_EPS_UNCORRECTED = ("eps added before v is bias-corrected: torch divides by sqrt(v / (1 - beta2**t)) + eps, "
                             "so correct v first, then take the square root, then add eps")
HINT_ADAM_WD_AFTER = ("weight decay applied after the step (decoupled, as AdamW does): Adam adds weight_decay * p "
                      "to the gradient before updating m and v")
HINT_ADAM_GLOBAL_STEP = ("count steps per parameter, in self.state[p]: a parameter without a gradient is "
                         "skipped, so its count must not advance")
HINT_ADAM_STEP_ZERO = ("increment the parameter's step count before the bias corrections: at the first step, "
                       "1 - beta**1, not 1 - beta**0 = 0")

# --------------------------------------------------------------------------
# Learner side: scenarios.

PARAM_NAMES = ("lin1.weight", "lin1.bias", "lin2.weight", "lin2.bias",
               "offset (it gets a gradient only every third step)", "unused (it never gets a gradient)")

# How the gradients reach the optimizer between steps (a protocol's "grads"):
GRADS = {
    "fresh": "zero_grad() then backward() before every step",
    "kept": "one gradient kept for three steps (zero_grad() and backward() only every third step)",
    "overwritten": ("the same gradient tensors overwritten in place before every step "
                    "(as zero_grad(set_to_none=False) then backward() does)"),
}


class OptimProblem(nn.Module):
    """A small smooth classifier (Linear, tanh, Linear) with two awkward
    parameters: `offset`, used only on every third step (its .grad is None on
    the others), and `unused`, which never gets a gradient."""

    def __init__(self, seed: int, dtype: torch.dtype) -> None:
        super().__init__()
        self.lin1 = nn.Linear(4, 5)
        self.lin2 = nn.Linear(5, 3)
        self.offset = nn.Parameter(torch.zeros(3))
        self.unused = nn.Parameter(torch.zeros(2))
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for parameter in self.ordered_parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)
        self.to(dtype)

    def ordered_parameters(self) -> list[nn.Parameter]:
        """In PARAM_NAMES' order (parameters() would list the module's own offset and unused first)."""
        return [self.lin1.weight, self.lin1.bias, self.lin2.weight, self.lin2.bias, self.offset, self.unused]

    def loss(self, X: torch.Tensor, y: torch.Tensor, step: int) -> torch.Tensor:
        out = self.lin2(torch.tanh(self.lin1(X)))
        if step % 3 == 0:
            out = out + self.offset
        return F.cross_entropy(out, y)


def optim_batches(seed: int, num_steps: int, dtype: torch.dtype) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """num_steps minibatches of 6 examples for OptimProblem (4 features, 3 classes)."""
    return [(X.to(dtype), y) for X, y in make_batches(seed + 1, [6] * num_steps, 4, 3)]


def _param_spec(model: OptimProblem, group_overrides: dict[str, Any] | None) -> Any:
    params = model.ordered_parameters()
    if not group_overrides:
        return params
    return [dict(params=params[:2], **group_overrides), dict(params=params[2:])]


def _set_gradients(protocol: dict[str, Any], optimizer: Any, model: OptimProblem, X: torch.Tensor, y: torch.Tensor,
                   step: int) -> None:
    """Give the parameters this step's gradients, as protocol["grads"] says (GRADS)."""
    grads = protocol.get("grads", "fresh")
    if grads == "kept" and step % 3:
        return
    if grads == "overwritten":
        params = model.ordered_parameters()
        new = torch.autograd.grad(model.loss(X, y, step), params, allow_unused=True)
        with torch.no_grad():
            for parameter, gradient in zip(params, new):
                if parameter.grad is None:
                    parameter.grad = gradient
                elif gradient is None:
                    parameter.grad.zero_()
                else:
                    parameter.grad.copy_(gradient)
        return
    optimizer.zero_grad()
    model.loss(X, y, step).backward()


def _touched_gradients(params: list[torch.Tensor], before: list[tuple[Any, Any]]) -> list[dict[str, Any]]:
    """The parameters whose .grad step replaced or changed (step must leave p.grad alone)."""
    touched = []
    for index, (parameter, (tensor, values)) in enumerate(zip(params, before)):
        now = parameter.grad
        if now is tensor and (tensor is None or (now.shape == values.shape and torch.allclose(
                now, values, rtol=0.0, atol=0.0, equal_nan=True))):
            continue
        touched.append({"index": index, "before": values,
                        "after": now.detach().clone() if isinstance(now, torch.Tensor) else describe(now)})
    return touched


def _reloaded(factory: Callable[[Any], Any], model: OptimProblem, group_overrides: dict[str, Any] | None,
              optimizer: Any) -> tuple[Any, str | None]:
    """A fresh optimizer from `factory` that loads `optimizer`'s state_dict,
    saved and read back as a checkpoint would be (torch.save, then
    torch.load(weights_only=True), in memory); or why that failed."""
    buffer = io.BytesIO()
    try:
        torch.save(optimizer.state_dict(), buffer)
        buffer.seek(0)
        saved = torch.load(buffer, weights_only=True)
    except Exception as error:  # noqa: BLE001 - whatever the learner's state holds, say what failed
        return None, f"{type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}"
    fresh = factory(_param_spec(model, group_overrides))
    fresh.load_state_dict(saved)
    return fresh, None


def run_optimizer(factory: Callable[[Any], Any], seed: int, dtype: torch.dtype, num_steps: int, use_closure: bool,
                  group_overrides: dict[str, Any] | None, protocol: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train OptimProblem(seed) for num_steps with the optimizer `factory`
    builds; record the parameters after every step, which parameters' .grad
    the step changed and, with a closure, what step returned.

    `protocol` (plain data) changes how training goes: "grads" (a key of
    GRADS), "lr_scale" ([step, factor] pairs: before that step, every group's
    lr is multiplied by factor, as a learning-rate scheduler does) and
    "resume_at" (before that step, the optimizer is replaced by a fresh one
    loaded from its state_dict)."""
    protocol = protocol or {}
    model = OptimProblem(seed, dtype)
    params = model.ordered_parameters()
    batches = optim_batches(seed, num_steps, dtype)
    optimizer = factory(_param_spec(model, group_overrides))
    lr_scale = {int(step): float(factor) for step, factor in protocol.get("lr_scale", ())}
    trace = []
    for step, (X, y) in enumerate(batches):
        if step == protocol.get("resume_at"):
            optimizer, error = _reloaded(factory, model, group_overrides, optimizer)
            if error is not None:
                return {"trace": trace, "closure_error": None, "resume_error": error}
        if step in lr_scale:
            for group in optimizer.param_groups:
                group["lr"] = group["lr"] * lr_scale[step]
        record: dict[str, Any] = {"grad_touched": []}
        if use_closure:
            seen: dict[str, Any] = {"calls": 0}

            def closure(step: int = step, X: torch.Tensor = X, y: torch.Tensor = y, seen: dict[str, Any] = seen) -> Any:
                seen["calls"] += 1
                optimizer.zero_grad()
                loss = model.loss(X, y, step)
                loss.backward()
                seen["loss"] = loss
                return loss

            try:
                returned = optimizer.step(closure)
            except RuntimeError as error:
                message = str(error)
                if "does not require grad" in message or "grad_fn" in message:
                    return {"trace": trace, "closure_error": message.splitlines()[0][:300], "resume_error": None}
                raise
            record["closure_calls"] = seen["calls"]
            record["returned_is_loss"] = "loss" in seen and returned is seen["loss"]
            record["returned"] = describe(returned)
        else:
            _set_gradients(protocol, optimizer, model, X, y, step)
            before = [(p.grad, p.grad.detach().clone() if p.grad is not None else None) for p in params]
            optimizer.step()
            record["grad_touched"] = _touched_gradients(params, before)
        record["params"] = [parameter.detach().clone() for parameter in params]
        trace.append(record)
    return {"trace": trace, "closure_error": None, "resume_error": None}


def optimizer_trace(learner: Learner, name: str, seed: int, dtype_name: str, kwargs: dict[str, Any], num_steps: int,
                    use_closure: bool, group_overrides: dict[str, Any] | None,
                    protocol: dict[str, Any] | None = None) -> dict[str, Any]:
    """The learner's optimizer on OptimProblem (torch's functional forms are
    traced through `Forbidden.python_functions`)."""
    cls = learner[name]
    return run_optimizer(lambda params: cls(params, **kwargs), seed, getattr(torch, dtype_name), num_steps,
                         use_closure, group_overrides, protocol)


def optimizer_class_info(learner: Learner, name: str) -> dict[str, Any]:
    cls = learner[name]
    if not isinstance(cls, type):
        return {"is_class": False, "description": describe(cls)}
    torch_bases = [f"{base.__module__}.{base.__qualname__}" for base in cls.__mro__
                   if base.__module__.startswith("torch.optim") and base is not torch.optim.Optimizer]
    return {"is_class": True, "is_optimizer": issubclass(cls, torch.optim.Optimizer), "torch_bases": torch_bases}
