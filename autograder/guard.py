"""Forbidden calls: the library functions that do an exercise's own job.

Two nets, because either alone has holes:

* at run time, while the learner's code runs, a `TorchFunctionMode` sees
  every torch-level call (functions, tensor methods, `torch.nn.functional`),
  and a `TorchDispatchMode` sees every ATen operator that reaches the kernel
  level, whichever path led there (`getattr`, `importlib`, `torch.ops.aten`,
  `torch._C`, `torch._VF`); forbidden module classes are traced by wrapping
  their `__init__`/`forward`;
* before grading, a scan of the answer cell's syntax tree finds the forbidden
  names written out, and any attempt to switch the tracing off.
"""
from __future__ import annotations

import ast
import functools
import importlib
import sys
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from autograder import policy
from autograder.policy import TAMPERING_NAMES


@dataclass(frozen=True)
class Forbidden:
    """What one exercise may not call, in every form we can recognise."""

    shown: tuple[str, ...]  # how the learner knows them: "torch.softmax", "F.softmax"
    functions: tuple[str, ...] = ()  # dotted paths of callables: "torch.Tensor.softmax"
    aten: tuple[str, ...] = ()  # ATen overload-packet names: "_softmax"
    modules: tuple[str, ...] = ()  # dotted paths of nn.Module classes: "torch.nn.Softmax"
    names: tuple[str, ...] = ()  # attribute / imported names the source may not mention
    whole_modules: tuple[str, ...] = field(default=())  # modules the source may not import: "torch"
    any_torch: bool = False  # every torch call is forbidden (a1's Value: pure Python)
    python_functions: tuple[str, ...] = ()  # plain Python functions, wrapped where they live: "torch.optim.adam.adam"

    def as_data(self) -> dict[str, list[str]]:
        data: dict[str, Any] = {key: list(getattr(self, key)) for key in
                                ("shown", "functions", "aten", "modules", "names", "whole_modules",
                                 "python_functions")}
        data["any_torch"] = self.any_torch
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "Forbidden":
        return cls(**{key: value if key == "any_torch" else tuple(value) for key, value in data.items()})


# Where torch keeps callable forms of one operation, for `forbid`'s expansion.
_FUNCTION_HOMES = (
    "torch", "torch.Tensor", "torch.nn.functional", "torch.special", "torch.linalg", "torch._C._nn",
    "torch._C._VariableFunctions", "torch._C._special",
)


def _aten_family(op: str) -> tuple[str, ...]:
    """Every ATen operator whose name holds `op` as a whole word: `softmax`
    gives `_softmax`, `_safe_softmax`, `special_softmax`,
    `_softmax_backward_data`, ... (private, fused, backward and out forms)."""
    import re

    pattern = re.compile(rf"(^|_){re.escape(op)}(_|$)")
    packets = {name.split("::", 1)[1].split(".", 1)[0] for name in torch._C._dispatch_get_all_op_names()
               if name.startswith("aten::")}
    return tuple(sorted(packet for packet in packets if pattern.search(packet)))


def _function_family(op: str) -> tuple[str, ...]:
    """Dotted paths of the callables named `op` (or `_op`, `op_`) in torch's public and private homes."""
    found = []
    for home in _FUNCTION_HOMES:
        try:
            namespace = _resolve(home) if "." in home else importlib.import_module(home)
        except (ImportError, AttributeError):
            continue
        found.extend(f"{home}.{name}" for name in (op, f"_{op}", f"{op}_") if callable(getattr(namespace, name, None)))
    return tuple(found)


def forbid(*ops: str, shown: tuple[str, ...], modules: tuple[str, ...] = (), functions: tuple[str, ...] = (),
           aten: tuple[str, ...] = (), names: tuple[str, ...] = (), allowed_names: tuple[str, ...] = (),
           python_functions: tuple[str, ...] = (), whole_modules: tuple[str, ...] = (),
           any_torch: bool = False) -> Forbidden:
    """One declaration per forbidden operation.

    Each name in `ops` expands to its function and method forms in every
    torch namespace that has them, every ATen operator of its family
    (`_aten_family`) and the source names of both; each module class in
    `modules` adds its class name. `functions`, `aten` and `names` add
    spellings the expansion cannot guess; `allowed_names` removes source
    names an answer legitimately writes (e.g. its own function's name).
    """
    expanded_functions = [path for op in ops for path in _function_family(op)]
    expanded_aten = [packet for op in ops for packet in _aten_family(op)]
    source_names = {path.rsplit(".", 1)[1] for path in (*expanded_functions, *functions, *python_functions)}
    source_names |= set(ops) | set(expanded_aten)
    source_names |= {path.rsplit(".", 1)[1] for path in modules} | set(names)
    source_names -= set(allowed_names)
    return Forbidden(
        shown=shown,
        functions=tuple(dict.fromkeys((*expanded_functions, *functions))),
        aten=tuple(dict.fromkeys((*expanded_aten, *aten))),
        modules=modules,
        names=tuple(sorted(source_names)),
        whole_modules=whole_modules,
        any_torch=any_torch,
        python_functions=python_functions,
    )


def _resolve(path: str) -> Any:
    module_path, _, attribute = path.rpartition(".")
    while module_path:
        try:
            target: Any = importlib.import_module(module_path)
            break
        except ImportError:
            module_path, _, parent = module_path.rpartition(".")
            attribute = f"{parent}.{attribute}"
    else:
        raise ImportError(path)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


def _function_label(tracer: "CallTracer", func: Any) -> str | None:
    """What a torch-level call is, for `tracer`: a forbidden use, or None."""
    name = tracer.functions.get(func)
    if name is None and tracer.aten:
        # torch.ops.aten.<op> calls arrive here as OpOverloads, before a
        # CPU kernel may decompose them into ops the dispatch tracer sees.
        packet = getattr(func, "overloadpacket", None)
        if packet is None and type(func).__name__ == "OpOverloadPacket":
            packet = func
        if packet is not None:
            name = tracer.aten.get(getattr(packet, "__name__", ""))
    if name is None and tracer.any_call is not None:
        name = f"{tracer.any_call}: torch ({getattr(func, '__name__', func)})"
    return name


def _aten_label(tracer: "CallTracer", func: Any) -> str | None:
    packet = getattr(func, "overloadpacket", None)
    return tracer.aten.get(getattr(packet, "__name__", ""))


class _FunctionTracer(TorchFunctionMode):
    """Torch-level calls, for the tracers it is given (one, or every active one)."""

    def __init__(self, tracers: Any) -> None:
        super().__init__()
        self.tracers = tracers  # a list, or a callable returning the active ones

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001 - torch's protocol
        for tracer in (self.tracers() if callable(self.tracers) else self.tracers):
            tracer.note(_function_label(tracer, func))
        return func(*args, **(kwargs or {}))


class _DispatchTracer(TorchDispatchMode):
    """Every ATen operator, for the tracers it is given."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Never compiled: without torch's dynamo-disabling wrapper, the first
        # traced call does not import torch._dynamo (about a second of CPU).
        return False

    def __init__(self, tracers: Any) -> None:
        super().__init__()
        self.tracers = tracers

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001 - torch's protocol
        for tracer in (self.tracers() if callable(self.tracers) else self.tracers):
            tracer.note(_aten_label(tracer, func))
        return func(*args, **(kwargs or {}))


# The tracers recording now, innermost last; standing wrappers and learner
# threads report to them (see `watch`).
_ACTIVE: list["CallTracer"] = []


def _active() -> list["CallTracer"]:
    return list(_ACTIVE)


def _python_functions(rule: Forbidden) -> list[tuple[Any, str, str]]:
    """(module, attribute, path) of each plain-Python function `rule` names
    that exists in this torch."""
    found = []
    for path in rule.python_functions:
        module_path, _, attribute = path.rpartition(".")
        try:
            module = importlib.import_module(module_path)
        except ImportError:
            continue
        if callable(getattr(module, attribute, None)):
            found.append((module, attribute, path))
    return found


def _module_classes(rule: Forbidden) -> list[tuple[type, str]]:
    """(class, path) of each module class `rule` names that exists in this torch."""
    found = []
    for path in rule.modules:
        try:
            found.append((_resolve(path), path))
        except (ImportError, AttributeError):
            continue
    return found


class CallTracer:
    """Context manager recording forbidden calls made inside it.

    `used` lists "<exercise>: <what>" once each. Calls go ahead as usual:
    the grader, not the tracer, decides what a use costs.
    """

    def __init__(self, rules: list[tuple[str, Forbidden]]) -> None:
        self.used: list[str] = []
        self.rules = rules
        self._owners_cache: dict[str, tuple[str, ...]] | None = None
        self.functions: dict[Any, str] = {}
        self.aten: dict[str, str] = {}
        self.modules: list[tuple[type, str]] = []
        self.python_functions: list[tuple[Any, str, str]] = []  # (module, attribute, label)
        self.any_call: str | None = None
        for exercise, rule in rules:
            if rule.any_torch:
                self.any_call = exercise
            for path in rule.functions:
                try:
                    self.functions[_resolve(path)] = f"{exercise}: {path}"
                except (ImportError, AttributeError):
                    continue  # absent in this torch version: nothing to trace
            for op in rule.aten:
                self.aten[op] = f"{exercise}: {op} (torch.ops.aten.{op})"
            self.python_functions += [(module, attribute, f"{exercise}: {path}")
                                      for module, attribute, path in _python_functions(rule)]
            self.modules += [(cls, f"{exercise}: {path}") for cls, path in _module_classes(rule)]
        self._modes: list[Any] = []
        self._patched: list[tuple[Any, str, Any]] = []

    @property
    def labels(self) -> dict[str, str]:
        """path of each wrapped function or class -> what a call records."""
        return {name.split(": ", 1)[1]: name for *_, name in (*self.python_functions, *self.modules)}

    def note(self, name: str | None) -> None:
        if name is None:
            return
        name = self._blame(name)
        if name not in self.used:
            self.used.append(name)

    def _blame(self, name: str) -> str:
        """When several exercises forbid the same call (dropout and Dropout
        both forbid F.dropout), the one whose answer cell made it: the
        innermost caller frame compiled from `<answer cell E>` with E among
        them. Else the label as registered."""
        exercise, what = name.split(": ", 1)
        owners = self._owners().get(what, ())
        if len(owners) < 2:
            return name
        frame = sys._getframe(1)
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename.startswith("<answer cell ") and filename[13:-1] in owners:
                return f"{filename[13:-1]}: {what}"
            frame = frame.f_back
        return name

    def _owners(self) -> dict[str, tuple[str, ...]]:
        if self._owners_cache is None:
            owners: dict[str, list[str]] = {}
            for exercise, rule in self.rules:
                labels = [*rule.functions, *(f"{op} (torch.ops.aten.{op})" for op in rule.aten),
                          *(path for *_, path in _python_functions(rule)), *(path for _, path in _module_classes(rule))]
                for label in labels:
                    owners.setdefault(label, [])
                    if exercise not in owners[label]:
                        owners[label].append(exercise)
            self._owners_cache = {label: tuple(names) for label, names in owners.items()}
        return self._owners_cache

    def __enter__(self) -> "CallTracer":
        if self.functions or self.any_call or self.aten:
            self._modes.append(_FunctionTracer([self]))
        if self.aten:
            self._modes.append(_DispatchTracer([self]))
        for mode in self._modes:
            mode.__enter__()
        for module, attribute, name in self.python_functions:
            original = getattr(module, attribute)
            self._patched.append((module, attribute, original))
            setattr(module, attribute, self._recording(original, name))
        for cls, name in self.modules:
            for method in ("__init__", "forward"):
                original = cls.__dict__.get(method)
                if original is None:
                    continue
                self._patched.append((cls, method, original))
                setattr(cls, method, self._recording(original, name))
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self in _ACTIVE:
            _ACTIVE.remove(self)
        for cls, method, original in reversed(self._patched):
            setattr(cls, method, original)
        self._patched.clear()
        for mode in reversed(self._modes):
            mode.__exit__(*exc)
        self._modes.clear()

    def _recording(self, original: Any, name: str) -> Any:
        @functools.wraps(original)
        def traced(*args: Any, **kwargs: Any) -> Any:
            self.note(name)
            return original(*args, **kwargs)

        return traced


_WATCHED = "__dlworkbook_watched__"


def watch(rules: list[tuple[str, Forbidden]]) -> None:
    """Before any learner cell runs: make tracing hold from the cell's first
    line and in every thread.

    Forbidden plain-Python functions and module classes are wrapped for good,
    so a reference the cell takes early (`from torch.func import jacfwd` at
    its top level) still reports to whichever tracer is active when it is
    called; and every thread started from now on carries tracing modes that
    report to the active tracers (modes are per thread otherwise)."""
    for _, rule in rules:
        for module, attribute, path in _python_functions(rule):
            original = getattr(module, attribute)
            if not getattr(original, _WATCHED, False):
                setattr(module, attribute, _standing(original, path))
        for cls, path in _module_classes(rule):
            for method in ("__init__", "forward"):
                original = cls.__dict__.get(method)
                if original is not None and not getattr(original, _WATCHED, False):
                    setattr(cls, method, _standing(original, path))
    _watch_threads()


def _standing(original: Any, path: str) -> Any:
    @functools.wraps(original)
    def watched(*args: Any, **kwargs: Any) -> Any:
        for tracer in _active():
            tracer.note(tracer.labels.get(path))
        return original(*args, **kwargs)

    setattr(watched, _WATCHED, True)
    return watched


def _watch_threads() -> None:
    import threading

    # _bootstrap_inner runs every thread's run(), overridden or not.
    bootstrap = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]
    if getattr(bootstrap, _WATCHED, False):
        return

    @functools.wraps(bootstrap)
    def traced_bootstrap(self: threading.Thread) -> None:
        with _FunctionTracer(_active), _DispatchTracer(_active):
            bootstrap(self)

    setattr(traced_bootstrap, _WATCHED, True)
    threading.Thread._bootstrap_inner = traced_bootstrap  # type: ignore[attr-defined]


def scan_source(source: str, exercise: str, rule: Forbidden) -> list[str]:
    """Forbidden names written in an answer cell, and attempts to silence
    tracing: one learner-readable line each (empty when clean)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []  # the cell's own error is reported when it runs
    found: list[str] = []
    banned = set(rule.names)

    def note(text: str) -> None:
        if text not in found:
            found.append(text)

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if node.attr in banned:
                note(f"`{ast.unparse(node)}`")
            elif node.attr in TAMPERING_NAMES:
                note(f"`{ast.unparse(node)}` (switches off the grader's call tracing)")
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in banned:
                    note(f"`from {node.module} import {alias.name}`")
                if alias.name in TAMPERING_NAMES:
                    note(f"`from {node.module} import {alias.name}` (switches off the grader's call tracing)")
            for whole in rule.whole_modules:
                if node.module and (node.module == whole or node.module.startswith(whole + ".")):
                    note(f"`from {node.module} import ...`")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                for whole in rule.whole_modules:
                    if alias.name == whole or alias.name.startswith(whole + "."):
                        note(f"`import {alias.name}`")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in banned or node.value in TAMPERING_NAMES:
                note(f"the string {node.value!r} (looking a forbidden function up by name)")
        elif isinstance(node, ast.Name) and node.id in TAMPERING_NAMES:
            note(f"`{node.id}` (switches off the grader's call tracing)")
    return found


def explain(exercise: str, rule: Forbidden, uses: list[str]) -> str:
    """The learner's message for forbidden uses: what, why no credit, what to do."""
    listed = ", ".join(rule.shown)
    what = "; ".join(uses)
    return (
        f"{exercise} uses {what}: this exercise asks you to build that yourself, so it earns no credit. "
        f"Not allowed here, in any form (method, alias, torch.ops): {listed}. "
        "Plain tensor algebra (exp, log, sum, max, reshape, ...) and your own earlier functions are fine."
    )


def source_problems(rules: list[tuple[str, Forbidden]], sources: dict[str, str],
                    exercises: tuple[str, ...] = ()) -> list[str]:
    """The learner's messages, one per exercise (empty when clean): answer
    cells of `exercises` that break the contract's rule for every cell
    (`autograder.policy`), and forbidden names in the answer sources of the
    exercises that `rules` cover."""
    problems = [text for exercise in exercises for text in [policy.problem(exercise, sources.get(exercise, ""))] if text]
    for exercise, rule in rules:
        uses = scan_source(sources.get(exercise, ""), exercise, rule)
        if uses:
            problems.append(explain(exercise, rule, uses))
    return problems
