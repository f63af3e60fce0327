"""Calibrate a6_rnn's accuracy threshold on the contrast pairs.

Runs the threshold scenario (SentimentLSTM trained with clip_grad_norm on the
bundled sentiment data) with the REFERENCE answers over many seeds, in both
languages, exactly as the check does (`seed % 1000` of the grading seed, the
same THRESHOLD settings, forbidden calls traced as when grading), and prints
min / mean / max accuracy on the contrast pairs, CPU seconds, and the margin
to THRESHOLD["accuracy"]. Beside it: a bag-of-words logistic regression built
from the reference `bag_of_words`, on the same pairs.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/calibrate_a6_rnn.py [--seeds 20] [--num-epochs N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from autograder.checks.a6_rnn import THRESHOLD, suite  # noqa: E402
from autograder.checks.a6_rnn.sentiment import train_sentiment  # noqa: E402
from autograder.guard import CallTracer  # noqa: E402
from autograder.reference import load_reference  # noqa: E402
from autograder.scenarios import Learner  # noqa: E402
from autograder.sentiment import build_vocab, load_sentiment  # noqa: E402


def bag_of_words_pairs(bag_of_words, language: str, seed: int, steps: int = 300) -> tuple[float, float]:
    """(train accuracy, contrast-pair accuracy) of logistic regression on bag-of-words counts."""
    data = load_sentiment(language)
    vocab = build_vocab(data.train.tokens)
    X = bag_of_words([vocab.encode(t) for t in data.train.tokens], len(vocab))
    pairs = data.test.contrast()
    X_pairs = bag_of_words([vocab.encode(t) for t in pairs.tokens], len(vocab))
    torch.manual_seed(seed)
    net = nn.Linear(len(vocab), 2)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.1)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(net(X), data.train.labels).backward()
        optimizer.step()
    with torch.no_grad():
        train = float((net(X).argmax(1) == data.train.labels).float().mean())
        on_pairs = float((net(X_pairs).argmax(1) == pairs.labels).float().mean())
    return train, on_pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--num-epochs", type=int, default=THRESHOLD["num_epochs"], help="try another number of epochs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    reference = load_reference("a6_rnn")
    learner = Learner(reference)
    needs = suite.definition("SentimentLSTM/threshold").needs
    config = {key: THRESHOLD[key] for key in ("embed_dim", "hidden_size", "num_epochs", "lr", "batch_size", "max_norm")}
    config["num_epochs"] = args.num_epochs
    threshold = THRESHOLD["accuracy"]
    for language in THRESHOLD["languages"]:
        accuracies, seconds, bow = [], [], []
        for seed in range(args.seeds):
            with CallTracer(suite.forbidden_for(needs)) as tracer:
                result = train_sentiment(learner, seed, language, config)
            assert not tracer.used, tracer.used
            accuracies.append(float((result["predictions"] == result["labels"]).double().mean()))
            seconds.append(result["cpu_seconds"])
            bow.append(bag_of_words_pairs(reference["bag_of_words"], language, seed))
        print(f"{language}: SentimentLSTM ({args.num_epochs} epochs) over {args.seeds} seeds, contrast-pair accuracy min {min(accuracies):.4f} "
              f"mean {statistics.mean(accuracies):.4f} max {max(accuracies):.4f}; CPU s per run (traced) "
              f"max {max(seconds):.2f} mean {statistics.mean(seconds):.2f}")
        print(f"{language}: bag-of-words over the same seeds, train accuracy min {min(b[0] for b in bow):.4f} "
              f"max {max(b[0] for b in bow):.4f}; contrast-pair accuracy min {min(b[1] for b in bow):.4f} "
              f"max {max(b[1] for b in bow):.4f}")
        print(f"{language}: threshold {threshold:.2f}: margin {min(accuracies) - threshold:+.4f} below the worst seed; "
              f"seeds under the threshold: {sum(a < threshold for a in accuracies)}")


if __name__ == "__main__":
    main()
