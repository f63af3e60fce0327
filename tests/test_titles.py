"""Every check title (the sentence beside a ✓ or ✗) is whole: no title ends
mid-phrase or leaves a parenthesis open, as a docstring's first line cut
short would."""
from __future__ import annotations

import re

import pytest

from autograder.suites import load_suite
from tests.conftest import ASSIGNMENTS

DANGLING = re.compile(r"\b(the|a|an|of|and|or|with|for|to|in|on|by|its|when|as|than|from|at)$")


def cut_short(title: str) -> bool:
    return bool(title.count("(") != title.count(")") or DANGLING.search(title) or title.endswith((",", ":", ";", "-")))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_check_title_is_a_whole_sentence(assignment: str) -> None:
    suite = load_suite(assignment, hidden=True)
    cut = [f"{test_id}: {check.title}" for test_id, definition in suite.tests.items()
           for check in definition.checks if cut_short(check.title)]
    assert not cut, "titles cut short:\n" + "\n".join(cut)


def test_the_rule_catches_a_title_cut_short() -> None:
    assert cut_short("resuming from it equals training on")
    assert cut_short("softmax matches torch.softmax (values")
    assert not cut_short("softmax matches torch.softmax on a (2, 5) batch, values and gradient")
