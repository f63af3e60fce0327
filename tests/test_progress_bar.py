"""The lessons' progress bar keeps its last state in a saved notebook: a
text bar on stdout (a widget bar saved without its widget state shows 0 %
for ever), nothing on stderr (which nbgrader scores 0)."""
from __future__ import annotations

import contextlib
import io

from autograder.lesson import tqdm
from tests.conftest import ASSIGNMENTS
from tests.submissions import ROOT


def test_the_bar_ends_at_100_percent_on_stdout() -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        for _ in tqdm(range(3), desc="epochs", unit="epoch", file=None):
            pass
    assert err.getvalue() == ""
    last = out.getvalue().split("\r")[-1]
    assert "100%" in last and "3/3" in last, out.getvalue()


def test_no_lesson_uses_a_widget_bar() -> None:
    widget = [a for a in ASSIGNMENTS for name in ("tqdm.auto", "tqdm.notebook", "tqdm_notebook")
              if name in (ROOT / "solutions" / a / f"{a}.ipynb").read_text(encoding="utf-8")]
    assert not widget, f"widget progress bars (0 % in a saved notebook): {widget}"
