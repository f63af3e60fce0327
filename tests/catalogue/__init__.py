"""Catalogues of implementations, per assignment: classic wrong ones (each
must lose credit on its exercise with a message naming its bug class) and
correct alternatives (each must get full credit).

Each module `tests/catalogue/<assignment>.py` defines `VARIANTS`, a list of
`Variant`s. `tests/test_catalogue.py` grades them all through the real CLI.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """One answer cell's source for one exercise.

    `bug` is None for a correct alternative; otherwise a phrase (compared
    case-insensitively) that the failing test's output must contain, naming
    the bug class, e.g. "subtract each row's max".
    """

    exercise: str
    name: str
    source: str
    bug: str | None = None

    @property
    def correct(self) -> bool:
        return self.bug is None
