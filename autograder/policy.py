"""What no answer cell may do: reach into the interpreter or the grader.

The contract's general rule (EXERCISES.md): answer cells compute. A cell
that uses `sys`, `gc`, `inspect`, `threading`, `multiprocessing`,
`subprocess`, `ctypes`, `importlib`, `builtins`, the builtins `exec`,
`eval`, `compile`, `__import__`, frame or dunder walks, `getattr` with a
computed name, or the `autograder` package gets no credit for its exercise.

This is judged in the grader's process on the cell's syntax tree, before the
cell runs, and a cell that breaks the rule is never run at all, so it cannot
switch anything off for the other exercises either. Runtime tracing of
forbidden calls (`autograder.guard`) is the second line, not the first.
"""
from __future__ import annotations

import ast

# Modules (and the names they bind) that reach into the interpreter.
INTERPRETER_MODULES = frozenset(
    {"sys", "gc", "inspect", "threading", "_thread", "multiprocessing", "subprocess", "ctypes", "importlib",
     "builtins", "autograder"}
)
INTERPRETER_BUILTINS = frozenset({"exec", "eval", "compile", "__import__", "globals", "locals", "vars"})
# Attributes that walk from an object to frames, globals, classes' innards or
# code; ordinary dunders (`__init__`, `__add__`, `__class__`, `__name__`) stay allowed.
WALK_ATTRIBUTES = frozenset(
    {"__dict__", "__globals__", "__subclasses__", "__bases__", "__base__", "__mro__", "__builtins__", "__code__",
     "__closure__", "__func__", "__self__", "__getattribute__", "__reduce__", "__reduce_ex__", "__loader__",
     "__spec__", "__import__", "__traceback__", "__defaults__", "__kwdefaults__", "__wrapped__", "__objclass__",
     "__setattr__", "__delattr__", "__class_getitem__", "__init_subclass__", "__getstate__", "__setstate__",
     "tb_frame", "tb_next", "f_back", "f_globals", "f_locals", "f_builtins", "f_code", "gi_frame", "gi_code",
     "cr_frame", "cr_code", "ag_frame", "co_code", "co_consts"}
)
# Names that switch the grader's call tracing off or hide calls from it.
TAMPERING_NAMES = frozenset(
    {"_python_dispatch", "_pop_mode", "_push_mode", "_unset_dispatch_mode", "_set_dispatch_mode",
     "_disable_current_modes", "DisableTorchFunction", "DisableTorchFunctionSubclass", "_DisableTorchDispatch",
     "_disabled_torch_function_impl", "_pop_torch_function_stack", "_push_on_torch_function_stack",
     "_set_torch_function_mode", "_ExcludeDispatchKeyGuard", "_ForceDispatchKeyGuard", "_len_torch_function_stack",
     "_get_function_stack_at", "_TorchFunctionModeGuard", "_get_current_dispatch_mode",
     "_get_current_dispatch_mode_stack", "_RestorePythonTLSSnapshot"}
)


def violations(source: str) -> list[str]:
    """Each construct of `source` the rule forbids, once, as the learner
    would recognise it (empty when the cell is clean or does not parse: a
    syntax error is reported when the cell runs)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found: list[str] = []

    def note(text: str) -> None:
        if text not in found:
            found.append(text)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in INTERPRETER_MODULES:
                    note(f"`import {alias.name}`")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0 and module.split(".")[0] in INTERPRETER_MODULES:
                note(f"`from {module} import ...`")
            for alias in node.names:
                if alias.name in INTERPRETER_MODULES or alias.name in INTERPRETER_BUILTINS | WALK_ATTRIBUTES:
                    note(f"`from {module or '.'} import {alias.name}`")
                elif alias.name in TAMPERING_NAMES:
                    note(f"`from {module} import {alias.name}` (switches off the grader's call tracing)")
        elif isinstance(node, ast.Name):
            if node.id in INTERPRETER_MODULES or node.id in INTERPRETER_BUILTINS:
                note(f"`{node.id}`")
            elif node.id in WALK_ATTRIBUTES:
                note(f"`{node.id}`")
            elif node.id in TAMPERING_NAMES:
                note(f"`{node.id}` (switches off the grader's call tracing)")
        elif isinstance(node, ast.Attribute):
            if node.attr in WALK_ATTRIBUTES:
                note(f"`.{node.attr}`")
            elif node.attr in INTERPRETER_MODULES:
                note(f"`{_short(node)}`")
            elif node.attr in TAMPERING_NAMES:
                note(f"`{_short(node)}` (switches off the grader's call tracing)")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
            if len(node.args) >= 2 and not (isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
                note(f"`{node.func.id}` with a computed name")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in TAMPERING_NAMES or node.value in WALK_ATTRIBUTES:
                note(f"the string {node.value!r}")
    return found


def problem(exercise: str, source: str) -> str | None:
    """The learner's message when `exercise`'s answer cell breaks the rule."""
    found = violations(source)
    if not found:
        return None
    return (
        f"{exercise}'s answer cell uses {', '.join(found)}: answer cells compute; they do not reach into the "
        "interpreter or the grader (sys, gc, inspect, threading, subprocess, ctypes, importlib, builtins, "
        "exec/eval/compile, frame or dunder walks, getattr with a computed name, the autograder package), "
        "so this exercise earns no credit and its cell was not run. Methods such as net.eval() are fine."
    )


def _short(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001 - only for the message
        return "..."
    return text if len(text) <= 60 else text[:57] + "..."
