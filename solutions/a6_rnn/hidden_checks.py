"""Hidden checks for a6_rnn: fresh random inputs and named edge probes.

Never released: nbgrader_config.py keeps this file out of assignments/.
Each check draws its inputs from `ctx.generator(...)`, seeded from the
grading seed, so every failure message can name a seed that reproduces it.
"""
from __future__ import annotations

import torch

from autograder.checking import Context
from autograder.checks.a6_rnn import suite
from autograder.checks.a6_rnn.bow import check_bow_case
from autograder.checks.a6_rnn.clipping import check_clip_case, gradients
from autograder.checks.a6_rnn.lstm import (check_cell_case, check_gate_probes, check_sequence_case, random_cell_args,
                                           random_sequence_args)
from autograder.checks.a6_rnn.sentiment import (check_batch_independence, check_logits_shape, check_padding,
                                                random_sequences)

DTYPES = (torch.float32, torch.float64)


def _ints(generator: torch.Generator, low: int, high: int, count: int = 1) -> list[int]:
    """`count` integers drawn uniformly from low .. high (inclusive)."""
    return [int(n) for n in torch.randint(low, high + 1, (count,), generator=generator)]


@suite.check("lstm_cell/hidden")
def lstm_cell_random_sizes(ctx: Context) -> None:
    """lstm_cell matches nn.LSTMCell on random sizes, float32 and float64, values and gradients"""
    generator = ctx.generator("sizes")
    for case in range(8):
        N, D, H = _ints(generator, 1, 7, 3)
        check_cell_case(ctx, random_cell_args(generator, N, D, H, DTYPES[case % 2]),
                        f", random case {case} (seed {ctx.seed})")


@suite.check("lstm_cell/hidden")
def lstm_cell_gate_probes_random_sizes(ctx: Context) -> None:
    """each gate matches nn.LSTMCell alone, on random sizes"""
    N, D, H = _ints(ctx.generator("probe sizes"), 1, 6, 3)
    check_gate_probes(ctx, N, D, H, f" (seed {ctx.seed})")


@suite.check("lstm_cell/hidden")
def lstm_cell_noncontiguous_weights(ctx: Context) -> None:
    """lstm_cell works when the weights are non-contiguous views (as after a transpose)"""
    x, h, c, W_ih, W_hh, b_ih, b_hh = random_cell_args(ctx.generator("views"), 3, 4, 5, torch.float64)
    W_ih, W_hh = W_ih.T.contiguous().T, W_hh.T.contiguous().T
    check_cell_case(ctx, [x, h, c, W_ih, W_hh, b_ih, b_hh], " (non-contiguous W_ih and W_hh)")


@suite.check("lstm_cell/hidden")
def lstm_cell_saturated_gates(ctx: Context) -> None:
    """lstm_cell stays exact when gates saturate (pre-activations of magnitude 50)"""
    x, h, c, W_ih, W_hh, b_ih, b_hh = random_cell_args(ctx.generator("saturated"), 4, 3, 3, torch.float64)
    check_cell_case(ctx, [x, h, c, W_ih, W_hh, b_ih * 100, b_hh], " (saturated gates)")


@suite.check("lstm/hidden")
def lstm_random_sizes(ctx: Context) -> None:
    """lstm matches a one-layer nn.LSTM on random sizes and lengths, float32 and float64"""
    generator = ctx.generator("sizes")
    for case in range(6):
        T = _ints(generator, 1, 10)[0]
        N, D, H = _ints(generator, 1, 5, 3)
        check_sequence_case(ctx, random_sequence_args(generator, T, N, D, H, DTYPES[case % 2]),
                            f", random case {case} (seed {ctx.seed})")


@suite.check("lstm/hidden")
def lstm_long_sequence(ctx: Context) -> None:
    """lstm carries its state and gradients across a 30-step sequence"""
    check_sequence_case(ctx, random_sequence_args(ctx.generator("long"), 30, 2, 3, 4, torch.float64), " (T == 30)")


@suite.check("lstm/hidden")
def lstm_noncontiguous_input(ctx: Context) -> None:
    """lstm works on a non-contiguous X, such as transposed embeddings (N, T, D) -> (T, N, D)"""
    X, *rest = random_sequence_args(ctx.generator("transposed"), 5, 3, 4, 2, torch.float32)
    check_sequence_case(ctx, [X.transpose(0, 1).contiguous().transpose(0, 1), *rest], " (non-contiguous X)")


@suite.check("clip_grad_norm/hidden")
def clip_random_cases(ctx: Context) -> None:
    """clip_grad_norm matches torch.nn.utils.clip_grad_norm_ on random parameters, norms and forms"""
    generator = ctx.generator("cases")
    forms = ("list", "tuple", "generator", "list", "generator", "tuple", "list", "generator")
    for case, form in enumerate(forms):
        count = _ints(generator, 1, 5)[0]
        shapes = [tuple(_ints(generator, 1, 5, _ints(generator, 1, 3)[0])) for _ in range(count)]
        max_norm = float(torch.rand((), generator=generator)) * 4 + 0.1
        norm = max_norm * float(torch.rand((), generator=generator)) * 2.5
        missing = tuple(i for i in range(count) if count > 1 and float(torch.rand((), generator=generator)) < 0.25)
        values, grads = gradients(generator, shapes, norm, DTYPES[case % 2], missing)
        check_clip_case(ctx, values, grads, max_norm, form, f", random case {case} (seed {ctx.seed})")


@suite.check("clip_grad_norm/hidden")
def clip_integer_max_norm(ctx: Context) -> None:
    """clip_grad_norm accepts an int max_norm"""
    values, grads = gradients(ctx.generator("int"), [(3,), (2, 2)], 9.0)
    check_clip_case(ctx, values, grads, 2, "list", " (max_norm is an int)")


@suite.check("clip_grad_norm/hidden")
def clip_empty_generator_of_grads(ctx: Context) -> None:
    """clip_grad_norm on a generator of parameters none of which has a gradient returns 0"""
    values, grads = gradients(ctx.generator("none"), [(2, 2), (3,)], 1.0, missing=(0, 1))
    check_clip_case(ctx, values, grads, 1.0, "generator", " (generator, no gradients)")


@suite.check("bag_of_words/hidden")
def bow_random_sentences(ctx: Context) -> None:
    """bag_of_words counts random sentences over random vocabularies, empty ones included"""
    generator = ctx.generator("sentences")
    for case in range(6):
        vocab_size = _ints(generator, 1, 30)[0]
        lengths = _ints(generator, 0, 12, _ints(generator, 1, 8)[0])
        token_ids = [_ints(generator, 0, vocab_size - 1, n) if n else [] for n in lengths]
        check_bow_case(ctx, token_ids, vocab_size, f", random case {case} (seed {ctx.seed})")


@suite.check("bag_of_words/hidden")
def bow_one_word_vocabulary(ctx: Context) -> None:
    """bag_of_words works for a vocabulary of one token"""
    check_bow_case(ctx, [[0, 0, 0], [], [0]], 1, " (vocab_size == 1)")


@suite.check("SentimentLSTM/hidden")
def sentiment_random_sizes(ctx: Context) -> None:
    """SentimentLSTM gives padding-invariant, batch-independent logits for random sizes and classes"""
    generator = ctx.generator("sizes")
    for case in range(3):
        vocab_size = _ints(generator, 3, 40)[0]
        embed_dim, hidden_size = _ints(generator, 1, 8, 2)
        num_classes = _ints(generator, 2, 5)[0]
        sizes = [vocab_size, embed_dim, hidden_size, num_classes]
        lengths = _ints(generator, 1, 9, _ints(generator, 2, 6)[0])
        sequences = random_sequences(generator, lengths, vocab_size)
        label = f", random case {case} (seed {ctx.seed})"
        check_logits_shape(ctx, case, sizes, sequences, label)
        check_padding(ctx, case, sizes, sequences, _ints(generator, 1, 4)[0], label)
        check_batch_independence(ctx, case, sizes, sequences, random_sequences(generator, [3, 1], vocab_size), label)


@suite.check("SentimentLSTM/hidden")
def sentiment_one_token_sentences(ctx: Context) -> None:
    """SentimentLSTM handles sentences of one token (T == 1) and a batch of one"""
    sizes = [10, 4, 5, 2]
    sequences = random_sequences(ctx.generator("short"), [1, 1, 1], 10)
    check_padding(ctx, 5, sizes, sequences, 2, " (every sentence has one token)")
    check_padding(ctx, 6, sizes, sequences[:1], 3, " (a batch of one sentence)")


@suite.check("SentimentLSTM/hidden")
def sentiment_no_padding(ctx: Context) -> None:
    """SentimentLSTM works when all sentences have the same length (no padding at all)"""
    sizes = [15, 6, 4, 2]
    sequences = random_sequences(ctx.generator("equal"), [4, 4, 4], 15)
    check_padding(ctx, 7, sizes, sequences, 1, " (equal lengths)")
