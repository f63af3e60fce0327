"""The learner's side of the trust boundary (runs in a child process).

It confines itself (own process group, memory and file-size limits, output
to a log file, a scratch working folder), runs the setup and answer cells
one by one, reporting each start and end, then answers scenario calls. Every
message it sends is plain data (see autograder.wire); the grader trusts none
of it beyond that.
"""
from __future__ import annotations

import builtins
import importlib
import linecache
import os
import sys
import traceback
import warnings
from multiprocessing.connection import Connection
from typing import Any

import torch

import autograder.scenarios  # noqa: F401 - preloaded so forks start warm
from autograder import wire
from autograder.confine import confine
from autograder.guard import CallTracer, Forbidden
from autograder.notebook import python_source
from autograder.scenarios import Learner, LearnerMissing

LEARNER_FILE_PREFIX = "<answer cell "


def _preload_checks() -> None:
    """Import every checks module once in the fork server, so each forked
    learner process finds its scenarios already loaded."""
    import pkgutil

    import autograder.checks as checks_package

    for info in pkgutil.iter_modules(checks_package.__path__):
        importlib.import_module(f"autograder.checks.{info.name}")


def _warm_up() -> None:
    """Pay torch's lazy first-use costs (dispatch modes, autograd, save/load)
    once in the fork server instead of in every learner process."""
    rule = Forbidden(shown=("x",), functions=("torch.softmax",), aten=("_softmax",))
    X = torch.randn(3, 4, requires_grad=True)
    with CallTracer([("warm", rule)]):
        (torch.exp(X - X.max(dim=-1, keepdim=True).values).sum() * 2).backward()
        torch.nn.functional.cross_entropy(X, torch.tensor([0, 1, 2])).backward()
    wire.decode(wire.encode({"x": X.detach(), "y": [1, 2.0, "z", None]}))


_preload_checks()
_warm_up()


def _confine(plan: dict[str, Any]) -> list[str]:
    achieved = confine(plan)
    torch.set_num_threads(1)
    torch.manual_seed(plan.get("seed", 0))
    os.environ["MPLBACKEND"] = "Agg"
    return achieved


def describe_error(error: BaseException) -> dict[str, Any]:
    """An exception as data: type, message, and the learner's own frames."""
    frames = traceback.extract_tb(error.__traceback__)
    if isinstance(error, SyntaxError) and error.filename and error.filename.startswith(LEARNER_FILE_PREFIX):
        learner = [(error.filename, error.lineno or 0, (error.text or "").strip())]
    else:
        learner = [
            (frame.filename, frame.lineno or 0, (frame.line or "").strip())
            for frame in frames
            if frame.filename.startswith(LEARNER_FILE_PREFIX)
        ]
    message = str(error)
    return {
        "type": type(error).__name__,
        "message": message[:2000],
        "learner_frames": learner[-5:],
        "not_implemented": isinstance(error, NotImplementedError),
        "missing": error.args[0] if isinstance(error, LearnerMissing) else None,
        "memory": isinstance(error, MemoryError) or "can't allocate memory" in message or "DefaultCPUAllocator" in message,
        "exit": isinstance(error, SystemExit),
    }


def _send(conn: Connection, message: dict[str, Any]) -> None:
    conn.send_bytes(wire.encode(message))


def _run_steps(conn: Connection, plan: dict[str, Any], namespace: dict[str, Any]) -> None:
    skip = set(plan.get("skip", []))
    for index, step in enumerate(plan["steps"]):
        if index in skip:
            continue
        _send(conn, {"event": "cell_start", "index": index})
        filename = step["filename"]
        source = python_source(step["source"])
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        error = None
        try:
            exec(compile(source, filename, "exec"), namespace)
        except BaseException as raised:  # noqa: BLE001 - SystemExit too: the cell ends, not us
            error = describe_error(raised)
        _send(conn, {"event": "cell_done", "index": index, "error": error})


def _resolve_scenario(name: str) -> Any:
    module_name, _, qualname = name.partition(":")
    if not module_name.startswith("autograder."):
        raise ValueError(f"refusing scenario outside the autograder package: {name}")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def _answer(conn: Connection, request: dict[str, Any], learner: Learner) -> None:
    scenario = _resolve_scenario(request["scenario"])
    rules = [(exercise, Forbidden.from_data(rule)) for exercise, rule in request.get("forbidden", [])]
    tracer = CallTracer(rules)
    reply: dict[str, Any]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with tracer:
                value = scenario(learner, *request["args"])
            reply = {"ok": True, "value": wire.plain(value)}
        except BaseException as error:  # noqa: BLE001 - the learner's failure is data
            reply = {"ok": False, "error": describe_error(error)}
    reply["forbidden_used"] = list(tracer.used)
    reply["warnings"] = [f"{w.category.__name__}: {w.message}"[:300] for w in caught[:5]]
    _send(conn, reply)


def serve(conn: Connection, plan: dict[str, Any]) -> None:
    """Entry point of the learner's process."""
    achieved = _confine(plan)
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    _run_steps(conn, plan, namespace)
    _send(conn, {"event": "ready", "confinement": achieved})
    learner = Learner(namespace)
    while True:
        try:
            blob = conn.recv_bytes()
        except (EOFError, OSError):
            break
        request = wire.decode(blob)
        if request.get("op") == "stop":
            break
        _answer(conn, request, learner)
    sys.stdout.flush()
    os._exit(0)
