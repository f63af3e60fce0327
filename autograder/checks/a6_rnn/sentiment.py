"""a6_rnn · SentimentLSTM and its accuracy threshold: what is forbidden,
hints, the scenarios (the model on padded batches, with every call of the
learner's `lstm` recorded; training on the bundled sentiment data with the
learner's `clip_grad_norm`), and the checks."""
from __future__ import annotations

import sys
import time
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from autograder.checking import CheckFailed, Context
from autograder.checks.a6_rnn import THRESHOLD, suite
from autograder.checks.a6_rnn.common import fixed, run_case
from autograder.checks.a6_rnn.lstm import recurrent_forbidden
from autograder.compare import expect_tensor
from autograder.scenarios import Learner, describe

# Attribute names such as self.lstm are fine in a model; the calls stay traced.
suite.forbid("SentimentLSTM", recurrent_forbidden(allowed_names=("lstm", "lstm_cell")))

HINT_MODEL = ("embed the tokens (N, T, E), transpose to sequence-first (T, N, E), run your lstm from zero states, "
              "then apply the linear head to outputs[lengths - 1, torch.arange(N)]")
HINT_LAST_REAL = ("classify from the hidden state at each sequence's last real token, outputs[lengths - 1, "
                  "torch.arange(N)]: outputs[-1] and the final h have read the padding after a short sentence")
HINT_SEQUENCE_FIRST = ("your lstm reads X sequence-first, (T, N, E): transpose the embeddings (N, T, E) with "
                       ".transpose(0, 1) before calling it, or time and batch get mixed up")
HINT_USE_LSTM = "run the embedded sequence through your own lstm(X, h0, c0, W_ih, W_hh, b_ih, b_hh) from the exercise above"
HINT_MODULE = "declare class SentimentLSTM(nn.Module), call super().__init__() first, and register the layers and weights"
HINT_CONSTANT = "the logits must come from the tokens: embedding -> lstm -> linear head"
HINT_THRESHOLD = ("check that the training loss falls epoch by epoch; a model that passes the checks above but does "
                  "not learn usually reads the wrong time step or resets its state")

# --------------------------------------------------------------------------
# Learner side: scenarios.


class LSTMCalls:
    """Records the shape of X at every call of the learner's `lstm` (found by
    its code object, so aliases and methods that wrap it are seen too)."""

    def __init__(self, function: Any) -> None:
        self.code = getattr(function, "__code__", None)
        self.shapes: list[list[int]] = []
        self._previous: Any = None

    def _profile(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code is self.code:
            X = frame.f_locals.get(self.code.co_varnames[0]) if self.code.co_argcount else None
            self.shapes.append(list(X.shape) if isinstance(X, torch.Tensor) else [])

    def __enter__(self) -> "LSTMCalls":
        self._previous = sys.getprofile()
        if self.code is not None:
            sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc: Any) -> None:
        sys.setprofile(self._previous)


def classify(learner: Learner, seed: int, sizes: list[int], batches: list[list[torch.Tensor]]) -> dict[str, Any]:
    """A fresh SentimentLSTM(vocab_size, embed_dim, hidden_size, num_classes)
    (weights from `seed`), in eval mode, on each (tokens, lengths) batch."""
    vocab_size, embed_dim, hidden_size, num_classes = sizes
    torch.manual_seed(seed)
    net = learner["SentimentLSTM"](vocab_size, embed_dim, hidden_size, num_classes=num_classes)
    if not isinstance(net, nn.Module):
        return {"is_module": False}
    net.eval()
    with LSTMCalls(learner["lstm"]) as calls, torch.no_grad():
        logits = [net(tokens, lengths) for tokens, lengths in batches]
    return {"is_module": True, "logits": logits, "lstm_calls": calls.shapes}


def train_sentiment(learner: Learner, seed: int, language: str, config: dict[str, Any]) -> dict[str, Any]:
    """The learner's SentimentLSTM trained on the bundled sentiment data of
    `language` by Adam, clipping with the learner's clip_grad_norm after every
    backward pass; eval-mode predictions on the test split's contrast pairs."""
    from autograder.sentiment import build_vocab, load_sentiment, minibatches, pad_batch

    data = load_sentiment(language)
    vocab = build_vocab(data.train.tokens)
    train_ids = [vocab.encode(tokens) for tokens in data.train.tokens]
    pairs = data.test.contrast()
    test_tokens, test_lengths = pad_batch([vocab.encode(tokens) for tokens in pairs.tokens])
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    started = time.process_time()
    net = learner["SentimentLSTM"](len(vocab), config["embed_dim"], config["hidden_size"])
    optimizer = torch.optim.Adam(net.parameters(), lr=config["lr"])
    losses, clipped = [], 0
    for _ in range(config["num_epochs"]):
        net.train()
        total = 0.0
        for tokens, lengths, y in minibatches(train_ids, data.train.labels, config["batch_size"], generator):
            optimizer.zero_grad()
            loss = F.cross_entropy(net(tokens, lengths), y)
            loss.backward()
            norm = learner["clip_grad_norm"](net.parameters(), config["max_norm"])
            clipped += int(float(norm) > config["max_norm"])
            optimizer.step()
            total += float(loss.detach()) * len(y)
        losses.append(total / len(train_ids))
    net.eval()
    with torch.no_grad():
        logits = net(test_tokens, test_lengths)
    return {
        "predictions": logits.argmax(dim=1) if isinstance(logits, torch.Tensor) else logits,
        "labels": pairs.labels,
        "losses": losses,
        "clipped_steps": clipped,
        "cpu_seconds": time.process_time() - started,
    }


# --------------------------------------------------------------------------
# Grader side: inputs and checks.

SIZES = [12, 5, 6, 2]  # vocab_size, embed_dim, hidden_size, num_classes


def padded(sequences: list[list[int]], width: int | None = None) -> list[torch.Tensor]:
    """[tokens (N, width) right-padded with 0, lengths (N,)]."""
    width = width or max(len(s) for s in sequences)
    tokens = torch.zeros(len(sequences), width, dtype=torch.int64)
    for row, sequence in enumerate(sequences):
        tokens[row, :len(sequence)] = torch.tensor(sequence)
    return [tokens, torch.tensor([len(s) for s in sequences], dtype=torch.int64)]


def random_sequences(generator: torch.Generator, lengths: list[int], vocab_size: int) -> list[list[int]]:
    """Sentences of the given lengths with ids 1 .. vocab_size - 1 (0 is padding)."""
    return [torch.randint(1, vocab_size, (n,), generator=generator).tolist() for n in lengths]


def run_classify(ctx: Context, seed: int, sizes: list[int], batches: list[list[torch.Tensor]], what: str) -> dict[str, Any]:
    result = run_case(ctx, what, HINT_MODEL, classify, seed, sizes, batches)
    if not result["is_module"]:
        raise CheckFailed(f"{what}: SentimentLSTM(...) is not an nn.Module", HINT_MODULE)
    for logits, (tokens, _) in zip(result["logits"], batches):
        if not isinstance(logits, torch.Tensor) or logits.shape != (tokens.shape[0], sizes[3]):
            raise CheckFailed(f"{what}: for tokens of shape {tuple(tokens.shape)} expected logits of shape "
                              f"{(tokens.shape[0], sizes[3])}, got {describe(logits)}", HINT_MODEL)
    return result


def sequence_first_hint(result: dict[str, Any], tokens: torch.Tensor) -> str | None:
    N, T = tokens.shape
    calls = result["lstm_calls"]  # the first call runs on `tokens`, the first batch
    if calls and N != T and len(calls[0]) == 3 and calls[0][:2] == [N, T]:
        return HINT_SEQUENCE_FIRST
    return None


def model_text(sizes: list[int]) -> str:
    return f"SentimentLSTM(vocab_size={sizes[0]}, embed_dim={sizes[1]}, hidden_size={sizes[2]}, num_classes={sizes[3]})"


def check_logits_shape(ctx: Context, seed: int, sizes: list[int], sequences: list[list[int]], label: str) -> None:
    """Logits of shape (N, num_classes), float32, finite, not all the same, and the learner's lstm called."""
    batch = padded(sequences)
    what = f"{model_text(sizes)} on tokens of shape {tuple(batch[0].shape)}, lengths {batch[1].tolist()}{label}"
    result = run_classify(ctx, seed, sizes, [batch], what)
    logits = result["logits"][0]
    if logits.dtype != torch.float32 or not torch.isfinite(logits).all():
        raise CheckFailed(f"{what}: expected finite float32 logits, got {describe(logits)} {logits.tolist()}", HINT_MODEL)
    if not result["lstm_calls"]:
        raise CheckFailed(f"{what}: the forward pass never called your lstm", HINT_USE_LSTM)
    distinct = {tuple(s) for s in sequences}
    if len(distinct) > 1 and torch.allclose(logits, logits[:1].expand_as(logits)):
        raise CheckFailed(f"{what}: every sentence got the same logits {logits[0].tolist()}", HINT_CONSTANT)


def check_padding(ctx: Context, seed: int, sizes: list[int], sequences: list[list[int]], extra: int, label: str) -> None:
    """Logits of the batch = logits of the batch with `extra` more padding
    columns = logits of each sentence alone, unpadded."""
    batch = padded(sequences)
    longer = padded(sequences, batch[0].shape[1] + extra)
    alone = [padded([s]) for s in sequences]
    what = f"{model_text(sizes)} on tokens of shape {tuple(batch[0].shape)}, lengths {batch[1].tolist()}{label}"
    result = run_classify(ctx, seed, sizes, [batch, longer, *alone], what)
    logits, logits_longer, *logits_alone = result["logits"]
    hint = sequence_first_hint(result, batch[0]) or HINT_LAST_REAL
    expect_tensor(logits_longer, logits, f"{what}, then with {extra} more padding columns (width "
                  f"{longer[0].shape[1]}): the logits changed", hint)
    for index, (sequence, single) in enumerate(zip(sequences, logits_alone)):
        expect_tensor(single[0], logits[index], f"{what}: sentence {index} (length {len(sequence)}) alone, "
                      f"without padding, got other logits than in the padded batch", hint)


def check_batch_independence(ctx: Context, seed: int, sizes: list[int], sequences: list[list[int]],
                             others: list[list[int]], label: str) -> None:
    """A sentence's logits do not depend on its position in the batch nor on its companions."""
    batch = padded(sequences)
    order = list(reversed(range(len(sequences))))
    reordered = padded([sequences[i] for i in order])
    companions = padded([sequences[0], *others])
    what = f"{model_text(sizes)} on tokens of shape {tuple(batch[0].shape)}, lengths {batch[1].tolist()}{label}"
    result = run_classify(ctx, seed, sizes, [batch, reordered, companions], what)
    logits, logits_reordered, logits_companions = result["logits"]
    hint = sequence_first_hint(result, batch[0]) or sequence_first_hint(result, companions[0]) or (
        "each sentence must be classified on its own: no statistics or states shared across the batch")
    expect_tensor(logits_reordered, logits[order], f"{what}, the same sentences in reverse order: the logits "
                  f"(reordered back) changed", hint)
    expect_tensor(logits_companions[0], logits[0], f"{what}: sentence 0 in a batch with other sentences got "
                  f"other logits", hint)



@suite.check("SentimentLSTM")
def sentiment_logits_shape(ctx: Context) -> None:
    """SentimentLSTM maps right-padded tokens (N, T) and lengths (N,) to logits (N, num_classes) through your lstm"""
    sequences = random_sequences(fixed("shape"), [5, 3, 1, 4], SIZES[0])
    check_logits_shape(ctx, 1, SIZES, sequences, "")
    check_logits_shape(ctx, 2, [SIZES[0], 4, 3, 3], sequences, " (3 classes)")


@suite.check("SentimentLSTM")
def sentiment_padding_invariance(ctx: Context) -> None:
    """padding never changes a sentence's logits (more padding columns, or none at all)"""
    check_padding(ctx, 3, SIZES, random_sequences(fixed("padding"), [2, 6, 4, 1, 6], SIZES[0]), 3, "")


@suite.check("SentimentLSTM")
def sentiment_batch_independence(ctx: Context) -> None:
    """a sentence's logits do not depend on the other sentences of its batch or their order"""
    generator = fixed("batch")
    check_batch_independence(ctx, 4, SIZES, random_sequences(generator, [4, 4, 2, 3], SIZES[0]),
                             random_sequences(generator, [1, 5], SIZES[0]), "")


def _pair_accuracy(result: dict[str, Any], language: str) -> float:
    predictions, labels = result["predictions"], result["labels"]
    if not isinstance(predictions, torch.Tensor) or predictions.shape != labels.shape:
        raise CheckFailed(f"{language}: the trained model's logits on the {len(labels)} contrast sentences should have "
                          f"shape ({len(labels)}, 2); got predictions {describe(predictions)}", HINT_MODEL)
    return float((predictions == labels).double().mean())


@suite.check("SentimentLSTM/threshold")
def sentiment_reaches_threshold(ctx: Context) -> None:
    """trained with your clip_grad_norm, SentimentLSTM reaches the threshold on the contrast pairs in both languages"""
    t = THRESHOLD
    seed = ctx.seed % 1000
    config = {key: t[key] for key in ("embed_dim", "hidden_size", "num_epochs", "lr", "batch_size", "max_norm")}
    described = (f"SentimentLSTM(vocab, {t['embed_dim']}, {t['hidden_size']}) trained {t['num_epochs']} epochs "
                 f"(Adam lr {t['lr']}, batch size {t['batch_size']}, clip_grad_norm to {t['max_norm']}, seed {seed})")
    cpu = 0.0
    for language in t["languages"]:
        result = run_case(ctx, f"{described} on the {language} sentences", HINT_MODEL, train_sentiment, seed, language,
                          config)
        accuracy = _pair_accuracy(result, language)
        cpu += result["cpu_seconds"]
        if cpu > t["cpu_budget_s"]:
            raise CheckFailed(f"{described}: training took {cpu:.0f} s of CPU, over the budget of "
                              f"{t['cpu_budget_s']:.0f} s", "work on whole batches: one lstm call per batch, no "
                              "Python loop over sentences")
        if accuracy < t["accuracy"]:
            losses = ", ".join(f"{loss:.3f}" for loss in result["losses"])
            raise CheckFailed(
                f"{described} on the {language} sentences reached {accuracy:.3f} on the test split's "
                f"{len(result['labels']) // 2} contrast pairs (bag-of-words: exactly 0.500, each pair has the same "
                f"bag of words); the threshold is {t['accuracy']:.2f} (training losses per epoch: {losses}; your "
                f"clip_grad_norm reported a norm above {t['max_norm']} in {result['clipped_steps']} steps)",
                HINT_THRESHOLD)
