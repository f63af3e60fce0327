"""a5_cnn · the LeNet threshold: a LeNet-style network built from the
learner's Conv2d (hence conv2d) and max_pool2d, trained on the bundled 8×8
digits within a CPU budget. Filed under conv2d, so that a correct but far too
slow conv2d (a Python loop per example) loses this test and only this one.

The scenario watches its own CPU time: when a probe (one forward and
backward pass on a few images) shows that the whole run would need more than
twice the budget, or once the budget is spent, it stops and says so, instead
of running into the wall-clock limit.
"""
from __future__ import annotations

import math
import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from autograder.checking import CheckFailed, Context, LearnerError, OutcomeKind
from autograder.checks.a5_cnn import THRESHOLD, suite
from autograder.checks.kit import run_explained
from autograder.scenarios import Learner, describe

PROBE_EXAMPLES = 4  # the probe's batch: small, so a far too slow conv2d is found out in seconds

HINT_TOO_SLOW = ("a Python loop over the examples of a batch (and over channels or positions) repeats small tensor "
                 "operations thousands of times per batch: compute conv2d on the whole batch and all channels at "
                 "once, looping at most over the kernel offsets (kh * kw steps) or the output positions")
HINT_CRASH_LENET = "check that Conv2d and max_pool2d work on batches: X of shape (N, C, H, W)"

# --------------------------------------------------------------------------
# Learner side: the scenario.


class _Pool(nn.Module):
    """The learner's max_pool2d as a layer (2×2 windows)."""

    def __init__(self, pool: Any) -> None:
        super().__init__()
        self.pool = pool

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.pool(X, 2)


def lenet(learner: Learner, channels: tuple[int, int], hidden: int) -> nn.Sequential:
    """LeNet for 8×8 digits, ReLU and max pooling: (1, 8, 8) -> conv 3×3 pad 1
    -> pool -> (c1, 4, 4) -> conv 3×3 pad 1 -> pool -> (c2, 2, 2) -> MLP."""
    Conv2d, max_pool2d = learner["Conv2d"], learner["max_pool2d"]
    c1, c2 = channels
    return nn.Sequential(
        Conv2d(1, c1, 3, padding=1), nn.ReLU(), _Pool(max_pool2d),
        Conv2d(c1, c2, 3, padding=1), nn.ReLU(), _Pool(max_pool2d),
        nn.Flatten(), nn.Linear(c2 * 4, hidden), nn.ReLU(), nn.Linear(hidden, 10),
    )


def unfinished(learner: Learner) -> list[str]:
    """Which of the LeNet's pieces still raise NotImplementedError."""
    X = torch.zeros(1, 1, 2, 2)
    probes = {
        "conv2d": lambda: learner["conv2d"](X, torch.zeros(1, 1, 1, 1)),
        "Conv2d": lambda: learner["Conv2d"](1, 1, 1),
        "max_pool2d": lambda: learner["max_pool2d"](X, 2),
    }
    missing = []
    for name, probe in probes.items():
        try:
            probe()
        except NotImplementedError:
            missing.append(name)
        except Exception:  # noqa: BLE001 - other failures show up in training, with their input
            continue
    return missing


def lenet_digits(learner: Learner, seed: int, num_epochs: int, lr: float, batch_size: int, channels: list[int],
                 hidden: int, cpu_budget_s: float) -> dict[str, Any]:
    """Train the LeNet of the learner's layers with Adam on the digits;
    eval-mode test predictions, or how far it got before its time ran out."""
    from autograder.data import load_digits

    X_train, y_train, X_test, _ = load_digits()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    net = lenet(learner, (channels[0], channels[1]), hidden)
    if not list(net[0].parameters()) or not list(net[3].parameters()):
        return {"no_parameters": True}
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    total_batches = num_epochs * math.ceil(len(X_train) / batch_size)
    started = time.process_time()
    # The probe: forward and backward on PROBE_EXAMPLES images, twice (the first pays one-time costs).
    # Projecting its time to every batch underestimates any conv2d whose cost grows with the batch,
    # so stopping when even this projection is far over the budget is never unfair.
    probe = []
    for _ in range(2):
        begun = time.process_time()
        F.cross_entropy(net(X_train[:PROBE_EXAMPLES]), y_train[:PROBE_EXAMPLES]).backward()
        probe.append(time.process_time() - begun)
    net.zero_grad()
    if min(probe) * total_batches > 2 * cpu_budget_s:
        return {"out_of_time": True, "probe": True, "probe_seconds": min(probe), "total_batches": total_batches,
                "projected_seconds": min(probe) * total_batches, "cpu_seconds": time.process_time() - started}
    done, losses = 0, []
    for _ in range(num_epochs):
        net.train()
        total = 0.0
        for idx in torch.randperm(len(X_train), generator=generator).split(batch_size):
            optimizer.zero_grad()
            loss = F.cross_entropy(net(X_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
            done += 1
            used = time.process_time() - started
            if used > cpu_budget_s:
                return {"out_of_time": True, "probe": False, "batches": done, "total_batches": total_batches,
                        "cpu_seconds": used}
        losses.append(total / len(X_train))
    net.eval()
    with torch.no_grad():
        predictions = net(X_test).argmax(dim=1)
    return {"predictions": predictions, "losses": losses, "cpu_seconds": time.process_time() - started}


# --------------------------------------------------------------------------
# Grader side: the check.


def run_lenet(ctx: Context, seed: int) -> dict[str, Any]:
    t = THRESHOLD
    what = (f"a LeNet of your Conv2d and max_pool2d trained on the digits ({t['num_epochs']} epochs of Adam, lr {t['lr']}, "
            f"batches of {t['batch_size']} images of shape (1, 8, 8), seed {seed})")
    return run_explained(ctx, what, HINT_CRASH_LENET, lenet_digits, seed, t["num_epochs"], t["lr"], t["batch_size"],
                         list(t["channels"]), t["hidden"], t["cpu_budget_s"])


@suite.check("conv2d/threshold")
def lenet_reaches_threshold(ctx: Context) -> None:
    """a LeNet of your Conv2d and max_pool2d reaches the accuracy threshold on the digits within the CPU budget"""
    from autograder.data import load_digits

    t = THRESHOLD
    seed = ctx.seed % 1000
    missing = ctx.run(unfinished)
    if missing:
        names = " and ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)
        raise LearnerError(OutcomeKind.NOT_IMPLEMENTED,
                           f"{names} {'is' if len(missing) == 1 else 'are'} not implemented yet: the LeNet is built from "
                           "your conv2d, Conv2d and max_pool2d; replace `raise NotImplementedError()` with your code.")
    result = run_lenet(ctx, seed)
    if result.get("no_parameters"):
        raise CheckFailed("Conv2d(1, 8, 3, padding=1) has no parameters, so the LeNet cannot learn",
                          "register weight and bias as nn.Parameters in Conv2d.__init__")
    if result.get("out_of_time"):
        if result["probe"]:
            spent = (f"one forward and backward pass on {PROBE_EXAMPLES} images took {result['probe_seconds']:.2f} s "
                     f"of CPU, so the {result['total_batches']} batches of {t['batch_size']} would need at least "
                     f"{result['projected_seconds']:.0f} s, more than twice the budget of {t['cpu_budget_s']:.0f} s")
        else:
            spent = (f"the budget of {t['cpu_budget_s']:.0f} s of CPU was spent after {result['batches']} of "
                     f"{result['total_batches']} batches")
        raise CheckFailed(f"training ran out of time: {spent}. Your layers give the right values (see the other "
                          "tests) but are too slow to train a network", HINT_TOO_SLOW)
    *_, y_test = load_digits()
    predictions = result["predictions"]
    if not isinstance(predictions, torch.Tensor) or predictions.shape != y_test.shape:
        raise CheckFailed(f"the LeNet's test predictions should be {tuple(y_test.shape)} class indices; got {describe(predictions)}")
    accuracy = float((predictions == y_test).double().mean())
    if accuracy < t["accuracy"]:
        losses = ", ".join(f"{loss:.3f}" for loss in result["losses"])
        raise CheckFailed(
            f"the LeNet reached {accuracy:.3f} test accuracy after {t['num_epochs']} epochs (seed {seed}); the "
            f"threshold is {t['accuracy']:.2f}. Training loss per epoch: {losses}",
            "if the loss does not fall, check Conv2d's initialisation and that gradients reach its weight and bias; "
            "if it falls but accuracy stays low, check max_pool2d on batches",
        )
