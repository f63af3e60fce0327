"""Finding an assignment's checks: the public module in the package, and
for grading the hidden module that lives only beside the source notebook."""
from __future__ import annotations

import importlib
import importlib.util
import sys

from autograder import i18n
from autograder.checking import Suite
from autograder.course import hidden_checks_path
from autograder.notebook import NotebookError

_HIDDEN_LOADED: set[str] = set()


def load_suite(assignment_id: str, hidden: bool = False) -> Suite:
    """The assignment's suite; with `hidden`, its hidden checks registered too."""
    try:
        module = importlib.import_module(f"autograder.checks.{assignment_id}")
    except ModuleNotFoundError:
        raise NotebookError(f"no checks for assignment {assignment_id!r}") from None
    suite: Suite = module.suite
    if hidden and assignment_id not in _HIDDEN_LOADED:
        path = hidden_checks_path(assignment_id)
        if not path.is_file():
            raise NotebookError(f"hidden checks for {assignment_id} not found at {path} (grading needs the instructor's solutions/ folder)")
        i18n.register(path)  # its translations live beside it (hidden_checks.<lang>.po)
        name = f"dlworkbook_hidden_{assignment_id}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        hidden_module = importlib.util.module_from_spec(spec)
        sys.modules[name] = hidden_module
        spec.loader.exec_module(hidden_module)
        _HIDDEN_LOADED.add(assignment_id)
    return suite
