"""Does every case a lesson names have a public check, so that a bug the
lesson warns about fails in the learner's own notebook and not only at
grading? And does each public ✓ say what it checked?

Three holds on the lessons of a1-a4:

* each checks package declares `LESSON_CASES` (words of the lesson -> the
  public check that covers them; a4's table lives here, below): the words
  must be in that exercise's lesson and the title among its public checks;
* a vocabulary of edge cases (non-contiguous input, empty batch, rows of very
  different scale, param groups, ...): when a hidden check's title names one
  and the exercise's lesson names it too, a public check must name it as
  well (the known gaps, below, are strict xfails: fix one, then remove it);
* the classic wrong answers of those cases, from the catalogue, fail the
  public checks (the learner's self-check, `autograder.selfcheck`) at the
  very check the table names.
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from autograder.notebook import read_notebook
from autograder.selfcheck import NotebookCheck
from autograder.suites import load_suite
from tests.submissions import ROOT, reference_submission

ASSIGNMENTS = ("a1_autograd", "a2_linear_regression", "a3_softmax", "a4_mlp")

# a4's checks belong to another change in flight: its table is kept here.
A4_LESSON_CASES: tuple[tuple[str, str, str], ...] = (
    ("dropout", "`p == 0` or `training=False`: return `X` unchanged", "dropout returns X unchanged for p == 0 and for training=False"),
    ("dropout", "`p == 1`: return all zeros", "dropout with p == 1 returns all zeros (no nan)"),
    ("dropout", "`p` outside `[0, 1]`: raise `ValueError`", "dropout raises ValueError for p = -0.1 and p = 1.5"),
    ("Dropout", "returns `X` unchanged in eval mode",
     "Dropout(0.3) drops like dropout in training mode and is the identity in eval mode"),
    ("MLP", "(possibly empty)", "MLP(16, [], 4), num_hiddens the empty list [], is flatten then a single Linear (softmax regression)"),
    ("SGDMomentum", "**Read the hyperparameters from the group**",
     "SGDMomentum follows changes to param_groups[i]['lr'] made between steps, as a learning-rate scheduler makes them"),
)

# Edge cases, as a lesson, a hidden check's title and a public check's title name them.
CASE_TERMS = {
    "a non-contiguous input": r"non-?contiguous",
    "an empty batch or tensor": r"empty batch|empty tensor|empty \(|N == 0",
    "rows of very different scale": r"different scales?",
    "logits of ±1e4": r"1e4",
    "inputs of ±1000": r"1000",
    "param groups": r"param(eter)?[ _]groups?",
    "eval mode": r"eval mode|\.eval\(\)",
    "accumulation": r"accumulat",
    "batches of unequal size": r"unequal|smaller",
    "a single score column": r"score column|q == 1",
    "full batches": r"full batch",
    "gradcheck": r"gradcheck",
    "no hidden layer": r"possibly empty|\[\]",
    "a closure": r"closure",
    "resuming": r"state_dict|resum",
    "weight decay": r"weight[ _]decay",
    "a single example": r"single example|batch of one|n == 1",
    "a 0-dimensional x": r"0-dimensional x",
}

# (assignment, exercise, term): named by a lesson and a hidden check, not yet by a public check.
KNOWN_GAPS: dict[tuple[str, str, str], str] = {}  # none left

# The classic wrong answer each case of the tables catches in the self-check:
# (assignment, catalogue variant) -> the public check's title that fails.
CAUGHT_BY = {
    ("a3_softmax", "softmax_global_max"):
        "softmax is exact for rows of very different scale in one batch (largest logits 1e4, -1e4 + 3 and 2)",
    ("a3_softmax", "softmax_view_rows"):
        "softmax works on a non-contiguous (2, 3, 4) input (its last two dimensions transposed in memory)",
    ("a3_softmax", "softmax_row_loop"): "softmax returns an empty (0, 5) result for an empty batch",
    ("a3_softmax", "softmax_no_max_shift"):
        "softmax stays finite and exact for logits of ±1e4 in rows whose largest logit is 1e4",
    ("a3_softmax", "flatten_view"): "Flatten works on a non-contiguous (transposed) (2, 3, 4, 5) batch, values and gradient",
    ("a3_softmax", "flatten_reshape_minus_one"): "Flatten turns an empty (0, 2, 5) batch into (0, 10)",
    ("a3_softmax", "eval_always_back_to_train"):
        "evaluate_accuracy leaves a net that was in eval mode in eval mode (batches 3, 3, 2)",
    ("a3_softmax", "eval_mean_of_batches"):
        "evaluate_accuracy on batches of unequal size (4, 4, 2): eval mode, no gradients, each example counted once, "
        "the net back in train mode",
    ("a3_softmax", "train_no_train_mode"): "train_epoch puts a net left in eval mode back in training mode (batches 4, 4, 2)",
    ("a1_autograd", "value_backward_resets_grads"):
        "gradients accumulate across backward() calls: (a * b).backward(); (a + b).backward() gives a.grad = b + 1, b.grad = a + 1",
    ("a1_autograd", "value_naive_recursion"):  # the first graph where a node is reached along two paths
        "a node used twice (a * a, a node feeding two parents) sums the gradients of its uses",
}


def lesson_texts(assignment: str) -> dict[str, str]:
    """Each exercise's lesson: the markdown cells between the previous answer
    cell and its own (an exercise right after another shares that one's)."""
    notebook = read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    texts: dict[str, str] = {}
    pending: list[str] = []
    previous = ""
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        nbgrader = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "markdown":
            pending.append(source)
        elif nbgrader.get("solution"):
            previous = "\n".join(pending) or previous
            texts[nbgrader["grade_id"]] = previous
            pending = []
    return texts


def lesson_cases(assignment: str) -> tuple[tuple[str, str, str], ...]:
    if assignment == "a4_mlp":
        return A4_LESSON_CASES
    return importlib.import_module(f"autograder.checks.{assignment}").LESSON_CASES


def titles(assignment: str, exercise: str, hidden: bool) -> list[str]:
    suite = load_suite(assignment, hidden=True)
    return [check.title for test_id, definition in suite.tests.items()
            if test_id.split("/")[0] == exercise and test_id.endswith("/hidden") == hidden
            for check in definition.checks]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_declared_case_is_in_the_lesson_and_has_its_public_check(assignment: str) -> None:
    texts = lesson_texts(assignment)
    problems = []
    for exercise, words, title in lesson_cases(assignment):
        if words not in texts.get(exercise, ""):
            problems.append(f"{exercise}: the lesson does not say {words!r}")
        if title not in titles(assignment, exercise, hidden=False):
            problems.append(f"{exercise}: no public check titled {title!r}")
    assert not problems, "\n".join(problems)


def _gaps(assignment: str) -> list[tuple[str, str, str]]:
    """(exercise, term, hidden title) for each case a hidden check and the
    lesson name and no public check does."""
    found = []
    for exercise, text in lesson_texts(assignment).items():
        public = titles(assignment, exercise, hidden=False)
        for term, pattern in CASE_TERMS.items():
            if not re.search(pattern, text, re.IGNORECASE) or any(re.search(pattern, t, re.IGNORECASE) for t in public):
                continue
            for hidden in titles(assignment, exercise, hidden=True):
                if re.search(pattern, hidden, re.IGNORECASE):
                    found.append((exercise, term, hidden))
                    break
    return found


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_case_the_lesson_names_is_never_checked_only_when_graded(assignment: str) -> None:
    gaps = [gap for gap in _gaps(assignment) if (assignment, gap[0], gap[1]) not in KNOWN_GAPS]
    assert not gaps, "\n".join(f"{exercise}: the lesson and the hidden check {hidden!r} name {term}, no public check does"
                               for exercise, term, hidden in gaps)


def test_known_gaps_are_still_gaps() -> None:
    """A known gap that is closed must leave KNOWN_GAPS (a stale entry would hide a new one)."""
    closed = [f"{gap} is covered now ({why}): remove it from KNOWN_GAPS" for gap, why in sorted(KNOWN_GAPS.items())
              if (gap[1], gap[2]) not in {(e, t) for e, t, _ in _gaps(gap[0])}]
    assert not closed, "\n".join(closed)


def test_a3_softmax_public_titles_say_what_they_check() -> None:
    """The issue's example: a ✓ for "logits of ±1e4" while a hidden ✗ said the opposite."""
    public = titles("a3_softmax", "softmax", hidden=False)
    assert "softmax stays finite and exact for logits of ±1e4" not in public
    assert any("rows whose largest logit is 1e4" in title for title in public)


def _variant(assignment: str, name: str):  # noqa: ANN202 - a tests.catalogue.Variant
    module = importlib.import_module(f"tests.catalogue.{assignment}")
    (variant,) = [v for v in module.VARIANTS if v.name == name]
    return variant


@pytest.mark.parametrize("assignment,name", sorted(CAUGHT_BY), ids=[n for _, n in sorted(CAUGHT_BY)])
def test_the_public_check_catches_the_classic_bug(assignment: str, name: str, tmp_path: Path) -> None:
    """In the self-check (public checks only), the wrong answer fails at the
    check that covers its case, with a hint."""
    variant = _variant(assignment, name)
    notebook = reference_submission(assignment, tmp_path / f"{name}.ipynb", **{variant.exercise: variant.source})
    (result,) = [r for r in NotebookCheck(notebook).check(variant.exercise) if r.test_id == variant.exercise]
    assert not result.passed
    assert f"✗ {CAUGHT_BY[(assignment, name)]}\n" in result.output + "\n", result.output
    assert "Hint:" in result.output, result.output
    assert variant.bug.lower() in result.output.lower(), result.output
