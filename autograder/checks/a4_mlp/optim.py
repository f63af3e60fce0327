"""a4_mlp · SGDMomentum, RMSprop, Adam, learner side: what is forbidden,
the hints, and the scenarios that train the same small problem under the
learner's optimizer (or torch's, or a simulated buggy one). The grader side
(the oracle, the simulated bugs, the checks) is `optim_checks`."""
from __future__ import annotations

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
HINT_OPT_STATE = ("keep each parameter's state in self.state[p] under torch's names: 'momentum_buffer' (SGD), "
                  "'square_avg' (RMSprop), 'step', 'exp_avg', 'exp_avg_sq' (Adam)")
HINT_OPT_IN_PLACE = ("the parameters did not change: update them in place under torch.no_grad() "
                     "(p.add_(...) or p -= ...), not by rebinding p = p - ...")
HINT_OPT_GROUPS = ("read lr and the other hyperparameters from each param group (group['lr']), not from attributes "
                   "saved in __init__: param groups and learning-rate schedulers change them there")
HINT_OPT_CLOSURE_GRAD = ("call the closure inside `with torch.enable_grad():` - step runs under torch.no_grad(), "
                         "where the closure's forward pass would build no graph")
HINT_OPT_CLOSURE_RETURN = "step(closure) must call closure() once, before updating, and return the loss it returned"
HINT_OPT_SUBCLASS = "subclass torch.optim.Optimizer and pass the hyperparameters as its defaults dict"
HINT_SGD_WD_AFTER = ("weight decay applied after the step: add weight_decay * p to the gradient first "
                     "(g = p.grad + weight_decay * p), then update the momentum buffer and the parameter")
HINT_SGD_WD_OUTSIDE = ("weight decay must go through the momentum buffer: g = p.grad + weight_decay * p, then "
                       "buf = momentum * buf + g")
HINT_SGD_ZERO_START = ("momentum buffer started at zero and averaged with (1 - momentum): torch starts it at the "
                       "first gradient (buf = g.clone()) and then uses buf = momentum * buf + g")
HINT_SGD_DAMPENED = "torch's momentum buffer has no (1 - momentum) factor: buf = momentum * buf + g"
HINT_SGD_STALE = ("the step used the momentum buffer before adding the current gradient (a buffer started at zero "
                  "does not move on the first step): update buf first, then p -= lr * buf")
HINT_SGD_NO_STATE = ("the momentum buffer is not kept between steps: store it in self.state[p]['momentum_buffer'] "
                     "and reuse it at the next step")
HINT_RMS_EPS = ("eps inside the square root: torch divides by sqrt(square_avg) + eps, "
                "not by sqrt(square_avg + eps)")
HINT_RMS_FIRST = "start square_avg at zero (torch.zeros_like(p)), not at the first squared gradient"
HINT_RMS_ALPHA = "square_avg = alpha * square_avg + (1 - alpha) * g * g: alpha weights the old average"
HINT_RMS_SQRT = "divide by the square root of the running average: g / (sqrt(square_avg) + eps)"
HINT_ADAM_NO_BIAS = ("Adam without bias correction: divide exp_avg by 1 - beta1**step and exp_avg_sq by "
                     "1 - beta2**step (step counted from 1)")
HINT_ADAM_EPS = ("eps inside the square root: torch divides by sqrt(exp_avg_sq / (1 - beta2**step)) + eps, "
                 "not by the square root of (... + eps)")
HINT_ADAM_WD_AFTER = ("weight decay applied after the step (decoupled, as AdamW does): Adam adds weight_decay * p "
                      "to the gradient before updating exp_avg and exp_avg_sq")
HINT_ADAM_GLOBAL_STEP = ("count steps per parameter in self.state[p]['step']: a parameter without a gradient is "
                         "skipped, so its count must not advance")
HINT_ADAM_STEP_ZERO = "increment state['step'] before the bias corrections: at the first step, 1 - beta**1, not 1 - beta**0 = 0"

# --------------------------------------------------------------------------
# Learner side: scenarios.

PARAM_NAMES = ("lin1.weight", "lin1.bias", "lin2.weight", "lin2.bias",
               "offset (it gets a gradient only every third step)", "unused (it never gets a gradient)")
REQUIRED_STATE = {"SGDMomentum": ("momentum_buffer",), "RMSprop": ("square_avg",), "Adam": ("step", "exp_avg", "exp_avg_sq")}


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


def _state_snapshot(optimizer: Any, params: list[torch.Tensor]) -> list[dict[str, Any]]:
    state = getattr(optimizer, "state", None)
    snapshot = []
    for parameter in params:
        entry = state.get(parameter, {}) if hasattr(state, "get") else {}
        plain = {}
        for key, value in (entry.items() if isinstance(entry, dict) else []):
            if isinstance(value, torch.Tensor):
                plain[str(key)] = value.detach().clone()
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                plain[str(key)] = value
        snapshot.append(plain)
    return snapshot


def run_optimizer(factory: Callable[[Any], Any], seed: int, dtype: torch.dtype, num_steps: int, use_closure: bool,
                  group_overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Train OptimProblem(seed) for num_steps with the optimizer `factory`
    builds; record parameters and state after every step and, with a
    closure, what step returned."""
    model = OptimProblem(seed, dtype)
    params = model.ordered_parameters()
    batches = optim_batches(seed, num_steps, dtype)
    optimizer = factory(_param_spec(model, group_overrides))
    trace = []
    for step, (X, y) in enumerate(batches):
        record: dict[str, Any] = {}
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
                    return {"trace": trace, "closure_error": message.splitlines()[0][:300]}
                raise
            record["closure_calls"] = seen["calls"]
            record["returned_is_loss"] = "loss" in seen and returned is seen["loss"]
            record["returned"] = describe(returned)
        else:
            optimizer.zero_grad()
            model.loss(X, y, step).backward()
            optimizer.step()
        record["params"] = [parameter.detach().clone() for parameter in params]
        record["state"] = _state_snapshot(optimizer, params)
        trace.append(record)
    return {"trace": trace, "closure_error": None}


def optimizer_trace(learner: Learner, name: str, seed: int, dtype_name: str, kwargs: dict[str, Any], num_steps: int,
                    use_closure: bool, group_overrides: dict[str, Any] | None) -> dict[str, Any]:
    """The learner's optimizer on OptimProblem (torch's functional forms are
    traced through `Forbidden.python_functions`)."""
    cls = learner[name]
    return run_optimizer(lambda params: cls(params, **kwargs), seed, getattr(torch, dtype_name), num_steps,
                         use_closure, group_overrides)


def optimizer_class_info(learner: Learner, name: str) -> dict[str, Any]:
    cls = learner[name]
    if not isinstance(cls, type):
        return {"is_class": False, "description": describe(cls)}
    torch_bases = [f"{base.__module__}.{base.__qualname__}" for base in cls.__mro__
                   if base.__module__.startswith("torch.optim") and base is not torch.optim.Optimizer]
    return {"is_class": True, "is_optimizer": issubclass(cls, torch.optim.Optimizer), "torch_bases": torch_bases}
