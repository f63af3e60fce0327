"""The learner's side of the trust boundary (runs in a child process).

It confines itself (own process group, memory and file-size limits, output
to a log file, a scratch working folder), runs the setup and answer cells
one by one, reporting each start and end, then answers scenario calls. Every
message it sends is plain data (see autograder.wire); the grader trusts none
of it beyond that.
"""
from __future__ import annotations

import builtins
import dataclasses
import importlib
import linecache
import os
import sys
from typing import Any

import torch

import autograder.scenarios  # noqa: F401 - preloaded so forks start warm
from autograder import messages, wire
from autograder.calling import call_scenario, describe_error
from autograder.channel import Channel
from autograder.confine import confine
from autograder.guard import CallTracer, Forbidden, watch
from autograder.notebook import python_source
from autograder.scenarios import Learner

LEARNER_FILE_PREFIX = "<answer cell "


def _preload_checks() -> None:
    """Import every checks module once in the fork server, so each forked
    learner process finds its scenarios already loaded."""
    import pkgutil

    import autograder.checks as checks_package

    for info in pkgutil.iter_modules(checks_package.__path__):
        try:
            importlib.import_module(f"autograder.checks.{info.name}")
        except Exception:  # noqa: BLE001 - a broken assignment must not stop the others; it fails when graded
            continue


def _warm_up() -> None:
    """Pay torch's lazy first-use costs (dispatch modes, autograd, save/load)
    once in the fork server instead of in every learner process."""
    rule = Forbidden(shown=("x",), functions=("torch.softmax",), aten=("_softmax",))
    X = torch.randn(3, 4, requires_grad=True)
    with CallTracer([("warm", rule)]):
        (torch.exp(X - X.max(dim=-1, keepdim=True).values).sum() * 2).backward()
        torch.nn.functional.cross_entropy(X, torch.tensor([0, 1, 2])).backward()
        (X * 2).backward(torch.ones_like(X))  # an explicit gradient imports sympy once, here
    wire.decode(wire.encode({"x": X.detach(), "y": [1, 2.0, "z", None]}))
    messages.unpack(messages.pack(messages.Reply(True, {"x": X.detach()})), messages.FROM_LEARNER)


_preload_checks()
_warm_up()


def _confine(plan: dict[str, Any]) -> list[str]:
    achieved = confine(plan)
    torch.set_num_threads(1)
    torch.manual_seed(plan.get("seed", 0))
    os.environ["MPLBACKEND"] = "Agg"
    return achieved


def _learner_frame(filename: str) -> str | None:
    """Frames of the notebook's cells keep their name ("<answer cell softmax>")."""
    return filename if filename.startswith(LEARNER_FILE_PREFIX) else None


def _send(conn: Channel, message: messages.Message) -> None:
    conn.send(messages.pack(message))


def _run_steps(conn: Channel, plan: dict[str, Any], namespace: dict[str, Any]) -> None:
    skip = set(plan.get("skip", []))
    for index, step in enumerate(plan["steps"]):
        if index in skip:
            continue
        _send(conn, messages.CellStart(index))
        filename = step["filename"]
        source = python_source(step["source"])
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        error = None
        try:
            exec(compile(source, filename, "exec"), namespace)
        except BaseException as raised:  # noqa: BLE001 - SystemExit too: the cell ends, not us
            error = describe_error(raised, _learner_frame)
        _send(conn, messages.CellDone(index, error))


def _resolve_scenario(name: str) -> Any:
    module_name, _, qualname = name.partition(":")
    if not module_name.startswith("autograder."):
        raise ValueError(f"refusing scenario outside the autograder package: {name}")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def _answer(conn: Channel, request: messages.Call, learner: Learner) -> None:
    scenario = _resolve_scenario(request.scenario)
    rules = [(exercise, Forbidden.from_data(rule)) for exercise, rule in request.forbidden]
    reply = call_scenario(scenario, learner, request.args, rules, _learner_frame)
    _send(conn, dataclasses.replace(reply, nonce=request.nonce))


def serve(conn: Channel, plan: dict[str, Any]) -> None:
    """Entry point of the learner's process."""
    achieved = _confine(plan)
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    watch([(exercise, Forbidden.from_data(rule)) for exercise, rule in plan.get("forbidden", [])])
    _run_steps(conn, plan, namespace)
    _send(conn, messages.Ready(tuple(achieved)))
    learner = Learner(namespace)
    while True:
        try:
            request = messages.unpack(conn.recv() or b"", messages.TO_LEARNER)
        except (EOFError, OSError, messages.WireError):
            break
        if isinstance(request, messages.Stop):
            break
        _answer(conn, request, learner)
    sys.stdout.flush()
    os._exit(0)
