"""a3_softmax: softmax regression and the generic training loop.

One module per exercise (or tight group), each holding, in this order, what
is forbidden, the hints, the scenarios (run beside the learner's code) and
the checks (run in the grader's process):

| module | exercises |
|---|---|
| `softmax` | softmax |
| `cross_entropy` | cross_entropy |
| `accuracy` | accuracy, evaluate_accuracy |
| `flatten` | Flatten |
| `training` | train_epoch, and the softmax-regression threshold |

Hidden checks (`solutions/a3_softmax/hidden_checks.py`, never released)
register into the same `suite`.
"""
from __future__ import annotations

from autograder.checking import Suite

suite = Suite("a3_softmax")

# Calibrated by scripts/calibrate_a3_softmax.py (reference, 30 seeds): test accuracy
# min 0.9333, mean 0.9392, max 0.9472; at most 0.17 CPU s per run. Margin 0.033.
THRESHOLD = {"accuracy": 0.90, "num_epochs": 10, "lr": 0.5, "batch_size": 64, "cpu_budget_s": 60.0}
suite.test(
    "train_epoch/threshold",
    title=f"softmax regression reaches {THRESHOLD['accuracy']:.2f} test accuracy",
    needs=("train_epoch", "softmax", "cross_entropy"),
    timeout_s=150.0,
)

# Each case the lesson names, and the public check that covers it: (exercise,
# words of the lesson, title of the public check). tests/test_lesson_coverage.py
# holds the lesson and the checks to this table.
LESSON_CASES: tuple[tuple[str, str, str], ...] = (
    ("softmax", "logits like ±1e4", "softmax stays finite and exact for logits of ±1e4 in rows whose largest logit is 1e4"),
    ("softmax", "for rows of very different scale",
     "softmax is exact for rows of very different scale in one batch (largest logits 1e4, -1e4 + 3 and 2)"),
    ("softmax", "for non-contiguous input",
     "softmax works on a non-contiguous (2, 3, 4) input (its last two dimensions transposed in memory)"),
    ("softmax", "for an empty batch", "softmax returns an empty (0, 5) result for an empty batch"),
    ("cross_entropy", "stay finite for logits of any magnitude",
     "cross_entropy is finite and exact for logits of ±1e4 with the true class far behind, value and gradient"),
    ("accuracy", "even `q == 1`", "accuracy takes the argmax even when y_hat has a single score column"),
    ("Flatten", "non-contiguous input (where `view` fails)",
     "Flatten works on a non-contiguous (transposed) (2, 3, 4, 5) batch, values and gradient"),
    ("Flatten", "an empty batch, `N == 0`", "Flatten turns an empty (0, 2, 5) batch into (0, 10)"),
    ("evaluate_accuracy", "weight batches by their size",
     "evaluate_accuracy on batches of unequal size (4, 4, 2): eval mode, no gradients, each example counted once, "
     "the net back in train mode"),
    ("evaluate_accuracy", "leave the net in the mode it was in before",
     "evaluate_accuracy leaves a net that was in eval mode in eval mode (batches 3, 3, 2)"),
    ("train_epoch", "backpropagating the *sum* instead of the mean",
     "train_epoch zeroes, backpropagates the batch mean and steps once per batch (per-example losses)"),
    ("train_epoch", "(`reduction='none'`) or their mean", "train_epoch also works with a loss that already returns the batch mean"),
    ("train_epoch", "leaving the net in eval mode",
     "train_epoch puts a net left in eval mode back in training mode (batches 4, 4, 2)"),
)

from autograder.checks.a3_softmax import accuracy, cross_entropy, flatten, softmax, training  # noqa: E402,F401 - registers the checks
