"""a4_mlp: MLP, dropout, optimizers, checkpoints.

One module per exercise (or tight group), each holding, in this order, what
is forbidden, the hints, the scenarios (run beside the learner's code) and
the checks (run in the grader's process):

| module | exercises |
|---|---|
| `dropout` | dropout, Dropout |
| `mlp` | MLP, and the MLP threshold |
| `optim` | SGDMomentum, RMSprop, Adam: what is forbidden, hints, scenarios |
| `optim_checks` | SGDMomentum, RMSprop, Adam: the oracle, the simulated bugs, the checks |
| `checkpoint` | save_checkpoint, load_checkpoint |

Hidden checks (`solutions/a4_mlp/hidden_checks.py`, never released)
register into the same `suite` and reuse the scenarios and diagnoses.

Statistical checks (dropout's masks) bound their false-failure probability
with Hoeffding's inequality for the exact sample size used, and state the
bound in their docstrings: every test that draws random masks fails a correct
implementation with probability below 1e-6.
"""
from __future__ import annotations

from autograder.checking import Suite

suite = Suite("a4_mlp")

THRESHOLD = {
    # scripts/calibrate_a4_mlp.py, reference over seeds 0..99: min 0.9500, mean 0.9662, max 0.9806 (sd about 0.007);
    # the threshold sits 0.03 (over 4 sd) below the worst of the 100 seeds. CPU per run about 2 s, budget 60 s.
    "accuracy": 0.92, "num_epochs": 12, "lr": 0.05, "batch_size": 64, "num_hiddens": [128], "dropout": 0.2,
    "cpu_budget_s": 60.0,
}
suite.test(
    "MLP/threshold",
    title=f"MLP with dropout reaches {THRESHOLD['accuracy']:.2f} test accuracy on the digits",
    needs=("MLP", "Dropout", "dropout"),
    timeout_s=150.0,
)

from autograder.checks.a4_mlp import (  # noqa: E402,F401 - registers the checks
    checkpoint, dropout, mlp, optim, optim_checks,
)
