"""a4_mlp · SGDMomentum, RMSprop, Adam, grader side: torch's optimizer as
the oracle, hand-written optimizers with the classic bugs switched on to
name the learner's, and the checks. What is forbidden, the hints and the
scenarios are in `optim`."""
from __future__ import annotations

import math
from typing import Any, Callable

import torch

from autograder.checking import CheckFailed, Context, LearnerError
from autograder.checks.a4_mlp import suite
from autograder.checks.a4_mlp.optim import (
    GRADS,
    HINT_ADAM_EPS,
    HINT_ADAM_EPS_OUTSIDE,
    HINT_ADAM_EPS_UNCORRECTED,
    HINT_ADAM_GLOBAL_STEP,
    HINT_ADAM_NO_BIAS,
    HINT_ADAM_STEP_ZERO,
    HINT_ADAM_WD_AFTER,
    HINT_OPT_CLOSURE_GRAD,
    HINT_OPT_CLOSURE_RETURN,
    HINT_OPT_GRAD_TOUCHED,
    HINT_OPT_GROUPS,
    HINT_OPT_IN_PLACE,
    HINT_OPT_SKIP_NONE,
    HINT_OPT_STATE,
    HINT_OPT_SUBCLASS,
    HINT_OPT_WD_IN_GRAD,
    HINT_RMS_ALPHA,
    HINT_RMS_EPS,
    HINT_RMS_EPS_OUTSIDE,
    HINT_RMS_FIRST,
    HINT_RMS_SQRT,
    HINT_SGD_ALIAS,
    HINT_SGD_DAMPENED,
    HINT_SGD_NO_STATE,
    HINT_SGD_STALE,
    HINT_SGD_WD_AFTER,
    HINT_SGD_WD_OUTSIDE,
    HINT_SGD_ZERO_START,
    PARAM_NAMES,
    TORCH_OPTIMIZER,
    OptimProblem,
    optimizer_class_info,
    optimizer_trace,
    run_optimizer,
)
from autograder.compare import expect_tensor
from autograder.guard import explain

# --------------------------------------------------------------------------
# Grader side: the oracle, the simulated bugs, the diagnosis, the checks.


def _torch_factory(name: str, kwargs: dict[str, Any]) -> Callable[[Any], Any]:
    cls = getattr(torch.optim, TORCH_OPTIMIZER[name])
    return lambda params: cls(params, foreach=False, **kwargs)


class SimulatedOptimizer(torch.optim.Optimizer):
    """Hand-written SGD/RMSprop/Adam with one classic bug switched on, to
    name the learner's bug by reproducing it (bug=None is torch's algorithm)."""

    def __init__(self, params: Any, name: str, bug: str | None, defaults: dict[str, Any]) -> None:
        super().__init__(params, defaults)
        self.name, self.bug, self.calls = name, bug, 0

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:  # type: ignore[override]
        self.calls += 1
        for group in self.param_groups:
            hyper = self.defaults if self.bug == "ignore_groups" else group
            for p in group["params"]:
                if p.grad is None and self.bug != "none_as_zero":
                    continue
                grad = torch.zeros_like(p) if p.grad is None else p.grad
                getattr(self, "_" + self.name)(p, grad, self.state[p], hyper)
        return None

    def _SGDMomentum(self, p: torch.Tensor, g: torch.Tensor, state: dict[str, Any], h: dict[str, Any]) -> None:
        lr, m, wd, bug = h["lr"], h.get("momentum", 0.0), h.get("weight_decay", 0.0), self.bug
        if wd and bug not in ("wd_after", "wd_outside"):
            g = g + wd * p
        if m:
            if bug == "ema_zero":
                buf = state.setdefault("buf", torch.zeros_like(p))
                buf.mul_(m).add_(g, alpha=1 - m)
                d = buf
            elif bug == "ema_first":
                if "buf" not in state:
                    state["buf"] = g.clone()
                else:
                    state["buf"].mul_(m).add_(g, alpha=1 - m)
                d = state["buf"]
            elif bug == "stale":
                buf = state.setdefault("buf", torch.zeros_like(p))
                d = buf.clone()
                buf.mul_(m).add_(g)
            elif bug == "no_state":
                d = g
            elif bug == "alias_ref":  # buf = g, no clone (g is p.grad itself without weight decay), updated out of place
                state["buf"] = g if "buf" not in state else m * state["buf"] + g
                d = state["buf"]
            else:
                if "buf" not in state:
                    state["buf"] = g.clone()
                else:
                    state["buf"].mul_(m).add_(g)
                d = state["buf"]
        else:
            d = g
        if bug == "wd_outside" and wd:
            d = d + wd * p
        p.sub_(lr * d)
        if bug == "wd_after" and wd:
            p.sub_(lr * wd * p)

    def _RMSprop(self, p: torch.Tensor, g: torch.Tensor, state: dict[str, Any], h: dict[str, Any]) -> None:
        lr, alpha, eps, bug = h["lr"], h.get("alpha", 0.99), h.get("eps", 1e-8), self.bug
        if "v" not in state and bug == "first_sq":
            state["v"] = g * g
        else:
            v = state.setdefault("v", torch.zeros_like(p))
            weight = 1 - alpha if bug == "alpha_swapped" else alpha
            v.mul_(weight).addcmul_(g, g, value=1 - weight)
        v = state["v"]
        if bug == "eps_inside":
            denom = (v + eps).sqrt()
        elif bug == "no_sqrt":
            denom = v + eps
        else:
            denom = v.sqrt() + eps
        p.sub_(lr * (g / v.sqrt() + eps) if bug == "eps_outside" else lr * g / denom)

    def _Adam(self, p: torch.Tensor, g: torch.Tensor, state: dict[str, Any], h: dict[str, Any]) -> None:
        lr, (b1, b2), eps, wd, bug = h["lr"], h.get("betas", (0.9, 0.999)), h.get("eps", 1e-8), h.get("weight_decay", 0.0), self.bug
        state["step"] = state.get("step", 0) + 1
        t = self.calls if bug == "global_step" else state["step"]
        if bug == "step_zero":
            t -= 1
        if wd and bug == "adamw":
            p.mul_(1 - lr * wd)
        elif wd and bug != "wd_after":
            g = g + wd * p
        m = state.setdefault("m", torch.zeros_like(p))
        v = state.setdefault("v", torch.zeros_like(p))
        m.mul_(b1).add_(g, alpha=1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        if bug == "no_bias_correction":
            update = m / (v.sqrt() + eps)
        else:
            m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
            update = m_hat / ((v_hat + eps).sqrt() if bug == "eps_inside" else v_hat.sqrt() + eps)
            if bug == "eps_outside":
                update = m_hat / v_hat.sqrt() + eps
            elif bug == "eps_uncorrected":
                update = m_hat / ((v.sqrt() + eps) / math.sqrt(1 - b2 ** t))
        p.sub_(lr * update)
        if wd and bug == "wd_after":
            p.sub_(lr * wd * p)


BUGS = {
    "SGDMomentum": (("ema_zero", HINT_SGD_ZERO_START), ("ema_first", HINT_SGD_DAMPENED), ("stale", HINT_SGD_STALE),
                    ("no_state", HINT_SGD_NO_STATE), ("wd_after", HINT_SGD_WD_AFTER), ("wd_outside", HINT_SGD_WD_OUTSIDE),
                    ("alias_ref", HINT_SGD_ALIAS), ("ignore_groups", HINT_OPT_GROUPS), ("none_as_zero", HINT_OPT_SKIP_NONE)),
    "RMSprop": (("eps_inside", HINT_RMS_EPS), ("eps_outside", HINT_RMS_EPS_OUTSIDE), ("first_sq", HINT_RMS_FIRST), ("alpha_swapped", HINT_RMS_ALPHA),
                ("no_sqrt", HINT_RMS_SQRT), ("ignore_groups", HINT_OPT_GROUPS), ("none_as_zero", HINT_OPT_SKIP_NONE)),
    "Adam": (("no_bias_correction", HINT_ADAM_NO_BIAS), ("eps_inside", HINT_ADAM_EPS),
             ("eps_outside", HINT_ADAM_EPS_OUTSIDE), ("eps_uncorrected", HINT_ADAM_EPS_UNCORRECTED), ("wd_after", HINT_ADAM_WD_AFTER),
             ("adamw", HINT_ADAM_WD_AFTER), ("global_step", HINT_ADAM_GLOBAL_STEP), ("step_zero", HINT_ADAM_STEP_ZERO),
             ("ignore_groups", HINT_OPT_GROUPS), ("none_as_zero", HINT_OPT_SKIP_NONE)),
}

_DEFAULTS = {
    "SGDMomentum": {"momentum": 0.0, "weight_decay": 0.0},
    "RMSprop": {"lr": 0.01, "alpha": 0.99, "eps": 1e-8},
    "Adam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0},
}



def simulate(name: str, bug: str | None, seed: int, dtype: torch.dtype, kwargs: dict[str, Any], num_steps: int,
             group_overrides: dict[str, Any] | None, protocol: dict[str, Any] | None = None) -> list[list[torch.Tensor]]:
    defaults = {**_DEFAULTS[name], **kwargs}
    factory = lambda params: SimulatedOptimizer(params, name, bug, defaults)  # noqa: E731
    trace = run_optimizer(factory, seed, dtype, num_steps, False, group_overrides, protocol)["trace"]
    return [record["params"] for record in trace]


def _trajectory_tolerance(dtype: torch.dtype) -> tuple[float, float]:
    # Two correct implementations may round differently at each step (e.g.
    # lerp vs mul-add for exp_avg); 30 steps of such differences stay far
    # below these, while every catalogued bug is off by orders of magnitude more.
    return (1e-4, 1e-6) if dtype == torch.float32 else (1e-9, 1e-11)


def _initial_params(seed: int, dtype: torch.dtype) -> list[torch.Tensor]:
    return [p.detach() for p in OptimProblem(seed, dtype).ordered_parameters()]


def _diagnose_optimizer(name: str, got_trace: list[dict[str, Any]], reference: list[dict[str, Any]], step: int,
                        seed: int, dtype: torch.dtype, kwargs: dict[str, Any], group_overrides: dict[str, Any] | None,
                        protocol: dict[str, Any]) -> str | None:
    got = got_trace[step]["params"]
    before = got_trace[step - 1]["params"] if step else _initial_params(seed, dtype)
    expected_before = reference[step - 1]["params"] if step else before
    if any(not torch.isfinite(g).all() for g in got):
        return HINT_ADAM_STEP_ZERO if name == "Adam" else None
    if not torch.equal(got[5], before[5]):
        return HINT_OPT_SKIP_NONE
    # offset's .grad is None on steps not divisible by 3 only when every step starts from zero_grad().
    if protocol.get("grads", "fresh") == "fresh" and step % 3 != 0 and not torch.equal(got[4], before[4]):
        return HINT_OPT_SKIP_NONE
    if all(torch.equal(g, b) for g, b in zip(got[:4], before[:4])) and not all(
            torch.equal(e, b) for e, b in zip(reference[step]["params"][:4], expected_before[:4])):
        if not (name == "SGDMomentum" and step == 0 and kwargs.get("momentum")):
            return HINT_OPT_IN_PLACE
    hint = _match_bug(name, got_trace, reference, step, seed, dtype, kwargs, group_overrides, protocol)
    resume_at = protocol.get("resume_at")
    if hint is None and resume_at is not None and step >= resume_at:
        return HINT_OPT_STATE  # every step before the resume matched torch: the state did not survive the round trip
    return hint


def _match_bug(name: str, got_trace: list[dict[str, Any]], reference: list[dict[str, Any]], last: int, seed: int,
               dtype: torch.dtype, kwargs: dict[str, Any], group_overrides: dict[str, Any] | None,
               protocol: dict[str, Any]) -> str | None:
    """The hint of the catalogued bug whose simulation comes closest to the
    learner's parameters at steps 0..last (within a tenth of how far the bug
    takes torch's run), among those that differ from torch's."""
    rtol, atol = _trajectory_tolerance(dtype)
    got = [[g.detach().to(torch.float64) if isinstance(g, torch.Tensor) else None for g in got_trace[k]["params"]]
           for k in range(last + 1)]
    if any(g is None for step in got for g in step):
        return None
    best: tuple[float, str] | None = None  # several bugs can look alike: the closest simulation names it
    for bug, hint in BUGS[name]:
        if bug == "ignore_groups" and not (group_overrides or protocol.get("lr_scale")):
            continue
        simulated = simulate(name, bug, seed, dtype, kwargs, last + 1, group_overrides, protocol)
        differs = any(not torch.allclose(s, e, rtol=rtol, atol=atol)
                      for k in range(last + 1) for s, e in zip(simulated[k], reference[k]["params"]))
        if not differs:
            continue
        # The learner reproduces the bug when it is much closer to the simulation than the bug is to torch.
        effect = max(float((s.double() - e.double()).abs().max()) for k in range(last + 1)
                     for s, e in zip(simulated[k], reference[k]["params"]))
        distance = max(float((g - s.double()).abs().max()) if g.shape == s.shape else math.inf
                       for k in range(last + 1) for g, s in zip(got[k], simulated[k]))
        ratio = distance / effect
        if ratio <= 0.1 and (best is None or ratio < best[0]):
            best = (ratio, hint)
    return best[1] if best else None


def _diagnose_touched(touched: dict[str, Any], params_before: list[torch.Tensor], params_after: list[Any],
                      weight_decay: float, dtype: torch.dtype) -> str:
    """Weight decay added into p.grad in place, or another change to p.grad."""
    before, after, index = touched["before"], touched["after"], touched["index"]
    if weight_decay and isinstance(before, torch.Tensor) and isinstance(after, torch.Tensor) and after.shape == before.shape:
        rtol, atol = _trajectory_tolerance(dtype)
        for parameter in (params_before[index], params_after[index]):
            if isinstance(parameter, torch.Tensor) and parameter.shape == before.shape and torch.allclose(
                    after.to(before.dtype), before + weight_decay * parameter.to(before.dtype), rtol=rtol, atol=atol):
                return HINT_OPT_WD_IN_GRAD
    return HINT_OPT_GRAD_TOUCHED


def _describe_kwargs(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in kwargs.items())


def _describe_protocol(protocol: dict[str, Any]) -> str:
    parts = []
    if protocol.get("grads", "fresh") != "fresh":
        parts.append(GRADS[protocol["grads"]])
    for step, factor in protocol.get("lr_scale", ()):
        parts.append(f"every param group's lr multiplied by {factor:g} before step {step + 1}")
    if protocol.get("resume_at") is not None:
        parts.append(f"resumed before step {protocol['resume_at'] + 1} into a fresh optimizer from its state_dict()")
    return "".join(f", {part}" for part in parts)


def check_optimizer_case(ctx: Context, name: str, seed: int, dtype: torch.dtype, kwargs: dict[str, Any], num_steps: int,
                         label: str, use_closure: bool = False, group_overrides: dict[str, Any] | None = None,
                         protocol: dict[str, Any] | None = None) -> None:
    """The learner's optimizer and torch's, side by side on OptimProblem(seed):
    parameters after every step, p.grad left untouched, and with a closure,
    what step returns. `protocol` (see `run_optimizer`) keeps or overwrites
    gradients between steps, changes the learning rate, resumes from a state_dict."""
    protocol = dict(protocol or {})
    dtype_name = str(dtype).replace("torch.", "")
    try:
        result = ctx.run(optimizer_trace, name, seed, dtype_name, kwargs, num_steps, use_closure, group_overrides, protocol)
    except LearnerError as error:
        if "NoneType" in error.message and error.hint is None:
            error.hint = HINT_OPT_SKIP_NONE
        raise
    torch_name = f"torch.optim.{TORCH_OPTIMIZER[name]}"
    groups = f", first param group overriding {_describe_kwargs(group_overrides)}" if group_overrides else ""
    made = f"{name}(params, {_describe_kwargs(kwargs)})" if kwargs else f"{name}(params)"
    what = (f"{made} on {dtype_name} parameters{groups}{', stepping with a closure' if use_closure else ''}"
            f"{_describe_protocol(protocol)}{label}")
    if not isinstance(result, dict) or not isinstance(result.get("trace"), list):
        raise CheckFailed(f"{what}: the run returned no trace")
    if result.get("closure_error"):
        raise CheckFailed(f"{what}: step(closure) failed: {result['closure_error']}", HINT_OPT_CLOSURE_GRAD)
    if result.get("resume_error"):
        raise CheckFailed(f"{what}: optimizer.state_dict() could not be saved and read back with "
                          f"torch.load(weights_only=True): {result['resume_error']}", HINT_OPT_STATE)
    reference = run_optimizer(_torch_factory(name, kwargs), seed, dtype, num_steps, use_closure, group_overrides,
                              protocol)["trace"]
    trace = result["trace"]
    if len(trace) != num_steps:
        raise CheckFailed(f"{what}: the run stopped after {len(trace)} of {num_steps} steps")
    rtol, atol = _trajectory_tolerance(dtype)
    for step in range(num_steps):
        got, expected = trace[step], reference[step]
        if use_closure:
            if got["closure_calls"] != 1:
                raise CheckFailed(f"{what}: step {step + 1} called the closure {got['closure_calls']} times; expected once",
                                  HINT_OPT_CLOSURE_RETURN)
            if not got["returned_is_loss"]:
                raise CheckFailed(f"{what}: step(closure) returned {got['returned']}, not the closure's loss",
                                  HINT_OPT_CLOSURE_RETURN)
        if got["grad_touched"]:
            touched = got["grad_touched"][0]
            index = touched["index"]
            weight_decay = (group_overrides or {}).get("weight_decay", kwargs.get("weight_decay", 0.0)) if index < 2 \
                else kwargs.get("weight_decay", 0.0)
            before = trace[step - 1]["params"] if step else _initial_params(seed, dtype)
            raise CheckFailed(f"{what}: step {step + 1} of {num_steps} changed p.grad of parameter {PARAM_NAMES[index]}; "
                              "step must leave p.grad as backward left it",
                              _diagnose_touched(touched, before, got["params"], weight_decay, dtype))
        for index, parameter_name in enumerate(PARAM_NAMES):
            g, e = got["params"][index], expected["params"][index]
            if not (isinstance(g, torch.Tensor) and g.shape == e.shape and g.dtype == e.dtype
                    and torch.allclose(g, e, rtol=rtol, atol=atol)):
                hint = _diagnose_optimizer(name, trace, reference, step, seed, dtype, kwargs, group_overrides, protocol)
                expect_tensor(g, e, f"{what}: parameter {parameter_name} after step {step + 1} of {num_steps} "
                                    f"(compared with {torch_name})", hint, rtol=rtol, atol=atol)


def check_optimizer_class(ctx: Context, name: str) -> None:
    info = ctx.run(optimizer_class_info, name)
    if not info["is_class"]:
        raise CheckFailed(f"{name} should be a class, got {info['description']}", HINT_OPT_SUBCLASS)
    if info["torch_bases"]:
        raise LearnerError("forbidden", explain(name, suite.forbidden[name],
                                                [f"subclassing {', '.join(info['torch_bases'])}"]))
    if not info["is_optimizer"]:
        raise CheckFailed(f"{name} does not subclass torch.optim.Optimizer", HINT_OPT_SUBCLASS)


# The protocols every optimizer's public checks share (run_optimizer).
KEPT = {"grads": "kept"}
OVERWRITTEN = {"grads": "overwritten"}
LR_CHANGES = {"lr_scale": [[8, 0.5], [16, 0.2]]}
RESUME = {"resume_at": 10}


@suite.check("SGDMomentum")
def sgd_is_an_optimizer(ctx: Context) -> None:
    """SGDMomentum subclasses torch.optim.Optimizer (and not torch.optim.SGD)"""
    check_optimizer_class(ctx, "SGDMomentum")


@suite.check("SGDMomentum")
def sgd_momentum_matches_torch(ctx: Context) -> None:
    """SGDMomentum(lr=0.1, momentum=0.9) matches torch.optim.SGD for 24 steps, every parameter after every step"""
    check_optimizer_case(ctx, "SGDMomentum", 3, torch.float64, {"lr": 0.1, "momentum": 0.9}, 24, "")


@suite.check("SGDMomentum")
def sgd_weight_decay_matches_torch(ctx: Context) -> None:
    """SGDMomentum with weight decay (lr=0.05, momentum=0.5, weight_decay=0.1) matches torch.optim.SGD"""
    check_optimizer_case(ctx, "SGDMomentum", 4, torch.float64, {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}, 24, "")


@suite.check("SGDMomentum")
def sgd_closure(ctx: Context) -> None:
    """SGDMomentum.step(closure) evaluates the closure once and returns its loss"""
    check_optimizer_case(ctx, "SGDMomentum", 5, torch.float64, {"lr": 0.1, "momentum": 0.9}, 20, "", use_closure=True)


@suite.check("SGDMomentum")
def sgd_gradient_kept(ctx: Context) -> None:
    """SGDMomentum matches torch.optim.SGD when one gradient is kept for three steps (no zero_grad between), and leaves p.grad untouched"""
    check_optimizer_case(ctx, "SGDMomentum", 6, torch.float64, {"lr": 0.1, "momentum": 0.9}, 24, "", protocol=KEPT)
    check_optimizer_case(ctx, "SGDMomentum", 7, torch.float64, {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}, 24, "",
                         protocol=KEPT)


@suite.check("SGDMomentum")
def sgd_gradient_overwritten(ctx: Context) -> None:
    """SGDMomentum matches torch.optim.SGD when the gradient tensors are overwritten in place between steps"""
    check_optimizer_case(ctx, "SGDMomentum", 8, torch.float64, {"lr": 0.1, "momentum": 0.9}, 24, "", protocol=OVERWRITTEN)


@suite.check("SGDMomentum")
def sgd_follows_lr_changes(ctx: Context) -> None:
    """SGDMomentum follows changes to param_groups[i]['lr'] made between steps, as a learning-rate scheduler makes them"""
    check_optimizer_case(ctx, "SGDMomentum", 9, torch.float64, {"lr": 0.1, "momentum": 0.9}, 24, "", protocol=LR_CHANGES)


@suite.check("SGDMomentum")
def sgd_resumes_from_state_dict(ctx: Context) -> None:
    """SGDMomentum resumes exactly from its state_dict() (saved after 10 steps, loaded into a fresh SGDMomentum)"""
    check_optimizer_case(ctx, "SGDMomentum", 10, torch.float64, {"lr": 0.1, "momentum": 0.9}, 20, "", protocol=RESUME)


@suite.check("RMSprop")
def rmsprop_is_an_optimizer(ctx: Context) -> None:
    """RMSprop subclasses torch.optim.Optimizer (and not torch.optim.RMSprop)"""
    check_optimizer_class(ctx, "RMSprop")


@suite.check("RMSprop")
def rmsprop_matches_torch(ctx: Context) -> None:
    """RMSprop(lr=0.01, alpha=0.9, eps=1e-3) matches torch.optim.RMSprop for 24 steps, every parameter after every step"""
    check_optimizer_case(ctx, "RMSprop", 3, torch.float64, {"lr": 0.01, "alpha": 0.9, "eps": 1e-3}, 24, "")


@suite.check("RMSprop")
def rmsprop_defaults_match_torch(ctx: Context) -> None:
    """RMSprop(params) with its default hyperparameters matches torch.optim.RMSprop"""
    check_optimizer_case(ctx, "RMSprop", 4, torch.float64, {}, 20, "")


@suite.check("RMSprop")
def rmsprop_closure(ctx: Context) -> None:
    """RMSprop.step(closure) evaluates the closure once and returns its loss"""
    check_optimizer_case(ctx, "RMSprop", 5, torch.float64, {"lr": 0.01}, 20, "", use_closure=True)


@suite.check("RMSprop")
def rmsprop_gradient_kept(ctx: Context) -> None:
    """RMSprop matches torch.optim.RMSprop when one gradient is kept for three steps (no zero_grad between), and leaves p.grad untouched"""
    check_optimizer_case(ctx, "RMSprop", 6, torch.float64, {"lr": 0.01, "alpha": 0.9}, 24, "", protocol=KEPT)


@suite.check("RMSprop")
def rmsprop_gradient_overwritten(ctx: Context) -> None:
    """RMSprop matches torch.optim.RMSprop when the gradient tensors are overwritten in place between steps"""
    check_optimizer_case(ctx, "RMSprop", 8, torch.float64, {"lr": 0.01, "alpha": 0.9}, 24, "", protocol=OVERWRITTEN)


@suite.check("RMSprop")
def rmsprop_follows_lr_changes(ctx: Context) -> None:
    """RMSprop follows changes to param_groups[i]['lr'] made between steps, as a learning-rate scheduler makes them"""
    check_optimizer_case(ctx, "RMSprop", 9, torch.float64, {"lr": 0.01, "alpha": 0.9}, 24, "", protocol=LR_CHANGES)


@suite.check("RMSprop")
def rmsprop_resumes_from_state_dict(ctx: Context) -> None:
    """RMSprop resumes exactly from its state_dict() (saved after 10 steps, loaded into a fresh RMSprop)"""
    check_optimizer_case(ctx, "RMSprop", 10, torch.float64, {"lr": 0.01, "alpha": 0.9}, 20, "", protocol=RESUME)


@suite.check("Adam")
def adam_is_an_optimizer(ctx: Context) -> None:
    """Adam subclasses torch.optim.Optimizer (and not torch.optim.Adam)"""
    check_optimizer_class(ctx, "Adam")


@suite.check("Adam")
def adam_matches_torch(ctx: Context) -> None:
    """Adam(lr=0.01) matches torch.optim.Adam for 24 steps, every parameter after every step"""
    check_optimizer_case(ctx, "Adam", 3, torch.float64, {"lr": 0.01}, 24, "")


@suite.check("Adam")
def adam_weight_decay_matches_torch(ctx: Context) -> None:
    """Adam(lr=0.02, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.1) matches torch.optim.Adam"""
    check_optimizer_case(ctx, "Adam", 4, torch.float64,
                         {"lr": 0.02, "betas": (0.8, 0.95), "eps": 1e-3, "weight_decay": 0.1}, 24, "")


@suite.check("Adam")
def adam_closure(ctx: Context) -> None:
    """Adam.step(closure) evaluates the closure once and returns its loss"""
    check_optimizer_case(ctx, "Adam", 5, torch.float64, {"lr": 0.01}, 20, "", use_closure=True)


@suite.check("Adam")
def adam_gradient_kept(ctx: Context) -> None:
    """Adam matches torch.optim.Adam when one gradient is kept for three steps (no zero_grad between), and leaves p.grad untouched"""
    check_optimizer_case(ctx, "Adam", 6, torch.float64, {"lr": 0.01, "weight_decay": 0.1}, 24, "", protocol=KEPT)


@suite.check("Adam")
def adam_gradient_overwritten(ctx: Context) -> None:
    """Adam matches torch.optim.Adam when the gradient tensors are overwritten in place between steps"""
    check_optimizer_case(ctx, "Adam", 8, torch.float64, {"lr": 0.01, "weight_decay": 0.05}, 24, "", protocol=OVERWRITTEN)


@suite.check("Adam")
def adam_follows_lr_changes(ctx: Context) -> None:
    """Adam follows changes to param_groups[i]['lr'] made between steps, as a learning-rate scheduler makes them"""
    check_optimizer_case(ctx, "Adam", 9, torch.float64, {"lr": 0.01}, 24, "", protocol=LR_CHANGES)


@suite.check("Adam")
def adam_resumes_from_state_dict(ctx: Context) -> None:
    """Adam resumes exactly from its state_dict() (saved after 10 steps, loaded into a fresh Adam)"""
    check_optimizer_case(ctx, "Adam", 10, torch.float64, {"lr": 0.01}, 20, "", protocol=RESUME)
