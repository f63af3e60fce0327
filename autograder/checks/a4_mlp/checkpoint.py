"""a4_mlp · save_checkpoint and load_checkpoint: hints, the scenario that
trains, saves, resumes and trains on (in a temporary folder, removed
afterwards), and the checks against an uninterrupted run."""
from __future__ import annotations

import os
import tempfile
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from autograder.checking import CheckFailed, Context
from autograder.checks.a4_mlp import suite
from autograder.checks.kit import make_batches, make_classifier
from autograder.compare import close, expect_tensor
from autograder.scenarios import Learner, describe
from autograder.wire import plain

HINT_SAVE_OBJECT = ("save state dicts (model.state_dict(), optimizer.state_dict()), not the model or optimizer objects: "
                    "torch.load(path, weights_only=True) refuses pickled objects")
HINT_SAVE_KEYS = ("save one dict with PyTorch's recipe keys: {'epoch': epoch, 'model_state_dict': model.state_dict(), "
                  "'optimizer_state_dict': optimizer.state_dict()}")
HINT_SAVE_OPTIMIZER = ("save the optimizer state too ('optimizer_state_dict': optimizer.state_dict()): Adam's moment "
                       "estimates and step counts are part of the training state")
HINT_SAVE_EPOCH = "save the epoch you are given, as a Python int: 'epoch': int(epoch)"
HINT_LOAD_OPTIMIZER = ("restore the optimizer too: optimizer.load_state_dict(checkpoint['optimizer_state_dict']); "
                       "a fresh optimizer has lost its moments and step counts")
HINT_LOAD_MODEL = ("restore the model in place: model.load_state_dict(checkpoint['model_state_dict']) "
                   "(rebinding `model = ...` inside the function changes nothing for the caller)")
HINT_LOAD_EPOCH = "return the epoch stored in the checkpoint, as saved (not epoch + 1)"

# --------------------------------------------------------------------------
# Learner side: scenarios.

CKPT_EXAMPLES, CKPT_BATCH = 40, 8


def ckpt_model(seed: int) -> nn.Sequential:
    """Linear(6, 10), ReLU, Linear(10, 3), its weights fixed by `seed`."""
    return make_classifier(seed, 6, 3, num_hiddens=10)


def ckpt_optimizer(name: str, net: nn.Module, kwargs: dict[str, Any]) -> torch.optim.Optimizer:
    return getattr(torch.optim, name)(net.parameters(), foreach=False, **kwargs)


def ckpt_train(net: nn.Module, optimizer: torch.optim.Optimizer, seed: int, epochs: range) -> None:
    """Deterministic epochs: the data and each epoch's order depend only on seed and epoch."""
    ((X, y),) = make_batches(seed + 7, [CKPT_EXAMPLES], 6, 3)
    for epoch in epochs:
        order = torch.randperm(CKPT_EXAMPLES, generator=torch.Generator().manual_seed(seed * 1000 + epoch))
        for idx in order.split(CKPT_BATCH):
            optimizer.zero_grad()
            F.cross_entropy(net(X[idx]), y[idx]).backward()
            optimizer.step()


def _weights_only_error(error: BaseException) -> str:
    text = str(error)
    for line in text.splitlines():
        if "Unsupported global" in line or "Unsupported operand" in line:
            return line.split(" Please use")[0].strip()[:300]
    return f"{type(error).__name__}: {text.splitlines()[0][:300] if text else ''}"


def checkpoint_roundtrip(learner: Learner, seed: int, opt_name: str, opt_kwargs: dict[str, Any], file_name: str,
                         epoch: int, learner_saves: bool, extra: dict[str, Any]) -> dict[str, Any]:
    """Train 2 epochs, save (by the learner's save_checkpoint, or by PyTorch's
    recipe plus `extra` keys) to `file_name` in a temporary folder, read the
    file back with weights_only=True, resume fresh model and optimizer objects
    (by the learner's load_checkpoint, or by the recipe) and train 2 more
    epochs. The folder is removed afterwards: this runs in the learner's own
    folder when they self-check, and must leave nothing there."""
    with tempfile.TemporaryDirectory(prefix="dlworkbook-checkpoint-", ignore_cleanup_errors=True) as folder:
        return _roundtrip_in(folder, learner, seed, opt_name, opt_kwargs, file_name, epoch, learner_saves, extra)


def _roundtrip_in(folder: str, learner: Learner, seed: int, opt_name: str, opt_kwargs: dict[str, Any], file_name: str,
                  epoch: int, learner_saves: bool, extra: dict[str, Any]) -> dict[str, Any]:
    path = os.path.join(folder, file_name)
    net = ckpt_model(seed)
    optimizer = ckpt_optimizer(opt_name, net, opt_kwargs)
    ckpt_train(net, optimizer, seed, range(1, 3))
    if learner_saves:
        learner["save_checkpoint"](path, net, optimizer, epoch)
    else:
        torch.save({"epoch": epoch, "model_state_dict": net.state_dict(),
                    "optimizer_state_dict": optimizer.state_dict(), **extra}, path)
    result: dict[str, Any] = {"exists": os.path.isfile(path), "files": sorted(os.listdir(folder))[:20],
                              "load_error": None, "content": None, "resume_error": None}
    if not result["exists"]:
        return result
    try:
        content = torch.load(path, weights_only=True)
    except Exception as error:  # noqa: BLE001 - reported as data
        result["load_error"] = _weights_only_error(error)
        return result
    result["content"] = plain(content)  # a copy: load_state_dict may share tensors that training then changes
    fresh = ckpt_model(seed + 1000)
    fresh_optimizer = ckpt_optimizer(opt_name, fresh, opt_kwargs)
    if learner_saves:
        try:
            fresh.load_state_dict(content["model_state_dict"])
            fresh_optimizer.load_state_dict(content["optimizer_state_dict"])
        except Exception as error:  # noqa: BLE001 - reported as data
            result["resume_error"] = f"{type(error).__name__}: {error}"[:300]
            return result
        result["returned"] = None
    else:
        result["returned"] = learner["load_checkpoint"](path, fresh, fresh_optimizer)
    result["after_load"] = [p.detach().clone() for p in fresh.parameters()]
    result["optimizer_after_load"] = plain(fresh_optimizer.state_dict())
    ckpt_train(fresh, fresh_optimizer, seed, range(3, 5))
    result["final"] = [p.detach().clone() for p in fresh.parameters()]
    return result


# --------------------------------------------------------------------------
# Grader side: the oracle and the checks.


def ckpt_reference(seed: int, opt_name: str, opt_kwargs: dict[str, Any]) -> dict[str, Any]:
    """What a correct save/load gives, computed here: states after 2 epochs,
    parameters after 4 uninterrupted epochs, and two broken resumes."""
    net = ckpt_model(seed)
    optimizer = ckpt_optimizer(opt_name, net, opt_kwargs)
    ckpt_train(net, optimizer, seed, range(1, 3))
    out = {"model_state": {k: v.clone() for k, v in net.state_dict().items()},
           "optimizer_state": _plain_state_dict(optimizer.state_dict()),
           "params_2": [p.detach().clone() for p in net.parameters()]}
    broken = ckpt_model(seed + 1000)
    broken.load_state_dict(net.state_dict())
    fresh_optimizer = ckpt_optimizer(opt_name, broken, opt_kwargs)
    ckpt_train(net, optimizer, seed, range(3, 5))
    out["params_4"] = [p.detach().clone() for p in net.parameters()]
    ckpt_train(broken, fresh_optimizer, seed, range(3, 5))
    out["params_fresh_optimizer"] = [p.detach().clone() for p in broken.parameters()]
    out["fresh_model_params"] = [p.detach().clone() for p in ckpt_model(seed + 1000).parameters()]
    return out


def _plain_state_dict(state: dict[str, Any]) -> dict[str, Any]:
    """An optimizer state dict as it comes back through the wire (string keys)."""
    return plain(state)


def _compare_optimizer_state(got: Any, expected: dict[str, Any], what: str, hint: str) -> None:
    if not isinstance(got, dict) or "state" not in got or "param_groups" not in got:
        raise CheckFailed(f"{what}: expected an optimizer state dict (keys 'state', 'param_groups'), got {_describe_short(got)}",
                          hint)
    state, target = got["state"], expected["state"]
    if set(map(str, state)) != set(map(str, target)):
        raise CheckFailed(f"{what}: the optimizer state covers parameters {sorted(map(str, state))}, "
                          f"expected {sorted(map(str, target))}", hint)
    for index, entry in target.items():
        mine = state.get(index, state.get(int(index)) if str(index).isdigit() else None)
        for key, value in entry.items():
            if not isinstance(mine, dict) or key not in mine:
                raise CheckFailed(f"{what}: the state of parameter {index} has no {key!r}", hint)
            if isinstance(value, torch.Tensor):
                expect_tensor(mine[key], value, f"{what}: state of parameter {index}, {key!r}", hint)


def _describe_short(value: Any) -> str:
    if isinstance(value, dict) and "__unsupported__" not in value:
        return f"a dict with keys {sorted(map(str, value))[:8]}"
    return describe(value)


def _params_close(got: list[Any], expected: list[torch.Tensor]) -> bool:
    return len(got) == len(expected) and all(close(g, e, 1e-5, 1e-6) for g, e in zip(got, expected))


def check_save_case(ctx: Context, seed: int, opt_name: str, opt_kwargs: dict[str, Any], file_name: str,
                    epoch: int, label: str) -> None:
    """The learner's save_checkpoint writing `file_name` (in a temporary folder)."""
    result = ctx.run(checkpoint_roundtrip, seed, opt_name, opt_kwargs, file_name, epoch, True, {})
    what = f"save_checkpoint({file_name!r}, model, optimizer, epoch={epoch}) after 2 epochs with torch.optim.{opt_name}{label}"
    if not result["exists"]:
        raise CheckFailed(f"{what}: no file {file_name!r} was written (the folder holds {result['files']})",
                          "write to the path you are given: torch.save(checkpoint, path)")
    if result["load_error"]:
        raise CheckFailed(f"{what}: torch.load(path, weights_only=True) failed: {result['load_error']}", HINT_SAVE_OBJECT)
    content = result["content"]
    if not isinstance(content, dict):
        raise CheckFailed(f"{what}: the file holds {_describe_short(content)}, not a dict", HINT_SAVE_KEYS)
    for key in ("epoch", "model_state_dict", "optimizer_state_dict"):
        if key not in content:
            hint = HINT_SAVE_OPTIMIZER if key == "optimizer_state_dict" and "model_state_dict" in content else HINT_SAVE_KEYS
            raise CheckFailed(f"{what}: the checkpoint has no {key!r} (its keys: {sorted(content)})", hint)
    saved_epoch = content["epoch"]
    if isinstance(saved_epoch, bool) or not isinstance(saved_epoch, int):
        raise CheckFailed(f"{what}: 'epoch' holds {describe(saved_epoch)}; expected the int {epoch}", HINT_SAVE_EPOCH)
    if saved_epoch != epoch:
        raise CheckFailed(f"{what}: 'epoch' holds {saved_epoch}; expected {epoch}", HINT_SAVE_EPOCH)
    reference = ckpt_reference(seed, opt_name, opt_kwargs)
    model_state = content["model_state_dict"]
    if not isinstance(model_state, dict) or set(model_state) != set(reference["model_state"]):
        raise CheckFailed(f"{what}: 'model_state_dict' should be model.state_dict() (keys "
                          f"{sorted(reference['model_state'])}), got {_describe_short(model_state)}", HINT_SAVE_KEYS)
    for key, value in reference["model_state"].items():
        expect_tensor(model_state[key], value, f"{what}: model_state_dict[{key!r}]", HINT_SAVE_KEYS)
    _compare_optimizer_state(content["optimizer_state_dict"], reference["optimizer_state"],
                             f"{what}: 'optimizer_state_dict'", HINT_SAVE_OPTIMIZER)
    if result["resume_error"]:
        raise CheckFailed(f"{what}: loading it into fresh objects with load_state_dict failed: {result['resume_error']}",
                          HINT_SAVE_KEYS)
    for got, expected in zip(result["final"], reference["params_4"]):
        expect_tensor(got, expected, f"{what}: resuming from it and training 2 more epochs must equal 4 uninterrupted "
                                     "epochs; a parameter differs", HINT_SAVE_OPTIMIZER)


def check_load_case(ctx: Context, seed: int, opt_name: str, opt_kwargs: dict[str, Any], file_name: str,
                    epoch: int, extra: dict[str, Any], label: str) -> None:
    """The learner's load_checkpoint reading `file_name` (in a temporary
    folder), saved by PyTorch's recipe plus the `extra` keys."""
    result = ctx.run(checkpoint_roundtrip, seed, opt_name, opt_kwargs, file_name, epoch, False, extra)
    what = (f"load_checkpoint({file_name!r}, model, optimizer) on fresh objects, for a checkpoint saved at epoch {epoch} "
            f"after 2 epochs with torch.optim.{opt_name}{label}")
    reference = ckpt_reference(seed, opt_name, opt_kwargs)
    returned = result["returned"]
    if isinstance(returned, bool) or not isinstance(returned, int):
        if isinstance(returned, torch.Tensor) and returned.numel() == 1:
            raise CheckFailed(f"{what}: returned {describe(returned)}; expected the int {epoch}",
                              "return the epoch as a Python int (the checkpoint stores an int)")
        raise CheckFailed(f"{what}: returned {_describe_short(returned)}; expected the epoch {epoch}",
                          "return checkpoint['epoch']")
    if returned != epoch:
        raise CheckFailed(f"{what}: returned {returned}; expected {epoch}",
                          HINT_LOAD_EPOCH if returned == epoch + 1 else "return checkpoint['epoch']")
    if not _params_close(result["after_load"], reference["params_2"]):
        hint = HINT_LOAD_MODEL
        raise CheckFailed(f"{what}: after loading, the model's parameters are not those saved"
                          f"{' (it still has its fresh initial weights)' if _params_close(result['after_load'], reference['fresh_model_params']) else ''}",
                          hint)
    _compare_optimizer_state(_plain_state_dict(result["optimizer_after_load"]), reference["optimizer_state"],
                             f"{what}: after loading, optimizer.state_dict()", HINT_LOAD_OPTIMIZER)
    for got, expected in zip(result["final"], reference["params_4"]):
        hint = HINT_LOAD_OPTIMIZER if _params_close(result["final"], reference["params_fresh_optimizer"]) else None
        expect_tensor(got, expected, f"{what}: training 2 more epochs after loading must equal 4 uninterrupted epochs; "
                                     "a parameter differs", hint)


@suite.check("save_checkpoint")
def save_checkpoint_adam(ctx: Context) -> None:
    """save_checkpoint writes epoch, model and Adam state, loadable with weights_only=True; resuming from it equals training on without stopping"""
    check_save_case(ctx, 1, "Adam", {"lr": 0.01}, "a4_epoch2.pt", 2, "")


@suite.check("load_checkpoint")
def load_checkpoint_adam(ctx: Context) -> None:
    """load_checkpoint restores model and Adam state in place and returns the epoch; 2 + 2 epochs equal 4"""
    check_load_case(ctx, 1, "Adam", {"lr": 0.01}, "a4_epoch2.pt", 2, {}, "")
