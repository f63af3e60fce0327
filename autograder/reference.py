"""The reference solution, as the grader's oracle: the source notebook's
setup and answer cells run in the grader's own (trusted) process."""
from __future__ import annotations

import functools
from typing import Any

from autograder.course import load_assignment
from autograder.notebook import answer_sources, python_source, read_notebook


@functools.lru_cache(maxsize=None)
def load_reference(assignment_id: str) -> dict[str, Any]:
    """Name -> object for everything the source notebook's answer cells define."""
    assignment = load_assignment(assignment_id)
    answers = answer_sources(read_notebook(assignment.source_path))
    namespace: dict[str, Any] = {"__name__": f"dlworkbook_reference_{assignment_id}"}
    for index, step in enumerate(assignment.steps):
        source = step.source if step.kind == "setup" else answers[step.exercise or ""]
        code = compile(python_source(source), f"<reference {assignment_id} cell {index}>", "exec")
        exec(code, namespace)
    return namespace
