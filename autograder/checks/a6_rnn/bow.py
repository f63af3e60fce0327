"""a6_rnn · bag_of_words: hints, the scenario, the oracle, the simulated bugs
and the checks (nothing is forbidden: any way of counting is welcome)."""
from __future__ import annotations

import copy
from typing import Any

import torch

from autograder.checking import CheckFailed, Context
from autograder.checks.a6_rnn import suite
from autograder.checks.a6_rnn.common import run_case
from autograder.compare import close, expect_tensor
from autograder.scenarios import Learner

HINT_BOW = ("start from torch.zeros(len(token_ids), vocab_size) and add 1 at [row, id] for every token of every "
            "sentence (or use index_put_ with accumulate=True / torch.bincount)")
HINT_COUNTS = "count every occurrence: a word that appears 3 times in a sentence gives 3, not 1"
HINT_FREQUENCIES = "return raw counts, not frequencies: do not divide by the sentence's length"
HINT_FLOAT = "return float32 counts (torch.zeros(..., dtype=torch.float32)): they feed a linear layer"
HINT_COLUMNS = "column j counts token id j: there are vocab_size columns, ids run from 0 to vocab_size - 1"
HINT_EMPTY = "an empty sentence (an empty list) gives a row of zeros"
HINT_ROWS = "one row per sentence: the result has shape (len(token_ids), vocab_size)"
HINT_INPUT = "leave token_ids as they are: build the counts in a new tensor"

# --------------------------------------------------------------------------
# Learner side: the scenario.


def bow_trace(learner: Learner, token_ids: list[list[int]], vocab_size: int) -> dict[str, Any]:
    """The learner's bag_of_words on a copy of the lists; whether it left them alone."""
    argument = copy.deepcopy(token_ids)
    out = learner["bag_of_words"](argument, vocab_size)
    return {"out": out, "input_unchanged": argument == token_ids}


# --------------------------------------------------------------------------
# Grader side: the oracle, the diagnosis, the checks.


def expected_counts(token_ids: list[list[int]], vocab_size: int) -> torch.Tensor:
    counts = torch.zeros(len(token_ids), vocab_size)
    for row, ids in enumerate(token_ids):
        for token in ids:
            counts[row, token] += 1
    return counts


def diagnose_bow(token_ids: list[list[int]], vocab_size: int, got: Any) -> str | None:
    if not isinstance(got, torch.Tensor):
        return None
    expected = expected_counts(token_ids, vocab_size)
    if got.shape == (vocab_size, len(token_ids)) and got.shape != expected.shape:
        return HINT_ROWS
    if got.dim() == 2 and got.shape[0] == len(token_ids) and got.shape[1] != vocab_size:
        return HINT_COLUMNS
    if got.shape != expected.shape:
        return HINT_ROWS
    got = got.double()
    presence = (expected > 0).double()
    if not close(presence, expected.double()) and close(got, presence):
        return HINT_COUNTS
    lengths = expected.sum(dim=1, keepdim=True).clamp(min=1).double()
    if close(got, expected.double() / lengths) and not close(lengths, torch.ones_like(lengths)):
        return HINT_FREQUENCIES
    shifted = torch.roll(expected.double(), -1, dims=1)  # counts[row, id - 1] += 1 (id 0 wraps to the end)
    if close(got, shifted) and not close(shifted, expected.double()):
        return HINT_COLUMNS
    return None


def check_bow_case(ctx: Context, token_ids: list[list[int]], vocab_size: int, label: str,
                   hint: str | None = None) -> None:
    shown = str(token_ids) if len(str(token_ids)) < 120 else f"{len(token_ids)} sentences"
    what = f"bag_of_words({shown}, vocab_size={vocab_size}){label}"
    result = run_case(ctx, what, hint or HINT_BOW, bow_trace, token_ids, vocab_size)
    got = result["out"]
    expected = expected_counts(token_ids, vocab_size)
    diagnosis = diagnose_bow(token_ids, vocab_size, got)
    if isinstance(got, torch.Tensor) and got.shape == expected.shape and got.dtype != torch.float32:
        raise CheckFailed(f"{what}: expected dtype torch.float32, got {got.dtype}", HINT_FLOAT)
    expect_tensor(got, expected, what, diagnosis or hint or HINT_BOW)
    if not result["input_unchanged"]:
        raise CheckFailed(f"{what}: your bag_of_words changed token_ids", HINT_INPUT)


@suite.check("bag_of_words")
def bow_counts(ctx: Context) -> None:
    """bag_of_words counts every occurrence (not just presence), as float32 of shape (n, vocab_size)"""
    check_bow_case(ctx, [[2, 3, 2, 2], [1], [4, 0, 4]], 6, "")


@suite.check("bag_of_words")
def bow_empty_sentence(ctx: Context) -> None:
    """an empty sentence gives a row of zeros"""
    check_bow_case(ctx, [[1, 2], [], [3]], 5, " (the second sentence is empty)", HINT_EMPTY)


@suite.check("bag_of_words")
def bow_vocabulary_edges(ctx: Context) -> None:
    """ids 0 and vocab_size - 1 (the vocabulary's edges) are counted in their own columns"""
    check_bow_case(ctx, [[0, 0, 7], [7, 1]], 8, " (ids at the vocabulary's edges)", HINT_COLUMNS)
