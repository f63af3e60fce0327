"""Timing the learner's operators against PyTorch's own, for the feedback.

An assignment declares what to time in its checks package, as a `TIMING`
tuple of `Timed` entries (a5_cnn: `conv2d` against `F.conv2d`, `max_pool2d`
against `F.max_pool2d`; a6_rnn can declare `lstm` against a wrapper of
`nn.LSTM` the same way). After the graded tests, `grade` calls `measure`:

* `mode="auto"` (the command line's default): on a CUDA device when the
  grader has one; otherwise the report says timing was skipped and why;
* `mode="cpu"`: the same report, timed on the CPU;
* `mode="off"`: no report.

Like every scenario, the timing runs in the learner's isolated process (a
fresh `Sandbox.session`, without call tracing, which would distort the
times). Only operators whose exercise passed every test of this grading run
are timed: a ratio says nothing about wrong code. Each case is a realistic
shape; each function is called `warmup` times, then timed `repeats` times
(CUDA events on a GPU, `time.perf_counter` on the CPU), forward pass only,
without autograd; the report gives the medians and their ratio (learner /
PyTorch). Nothing here changes a score: an instructor's `bound` on the
median ratio is reported as within or over, for the instructor to act on.
"""
from __future__ import annotations

import importlib
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator, Sequence

MODES = ("auto", "cpu", "off")
WARMUP = {"cuda": 3, "cpu": 3}
REPEATS = {"cuda": 10, "cpu": 7}
SESSION_TIMEOUT_S = 90.0  # per operator, all its cases; the reference needs well under a second
SLOW_CALL_S = 3.0  # a single call slower than this is not timed further (it would only use up the budget)
# CUDA reserves virtual address space far beyond the memory it uses, so the
# learner process's usual address-space limit (3 GiB on top of torch) makes
# CUDA's initialisation fail. A CUDA timing session lifts it; its wall-clock
# limit still applies.
CUDA_ADDRESS_SPACE_BYTES = 1 << 46

_PRISTINE: dict[str, Callable[..., Any]] = {}  # builtins resolved before any learner code ran


def _resolve(path: str) -> Any:
    """`package.module:qualified.name` or `package.module.name`."""
    if ":" in path:
        module_path, _, qualname = path.partition(":")
        target: Any = importlib.import_module(module_path)
        for part in qualname.split("."):
            target = getattr(target, part)
        return target
    module_path, _, attribute = path.rpartition(".")
    while True:  # the longest importable prefix, then attributes: torch.nn.functional.conv2d
        try:
            target = importlib.import_module(module_path)
            break
        except ImportError:
            if "." not in module_path:
                raise
            module_path, _, parent = module_path.rpartition(".")
            attribute = f"{parent}.{attribute}"
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


@dataclass(frozen=True)
class Timed:
    """One operator whose speed `grade` reports.

    `exercise` is the learner's function (same name as the exercise);
    `builtin` the dotted path of a callable with the same signature
    (`torch.nn.functional.conv2d`, or a wrapper in the checks package);
    `inputs` names a function `(case, generator) -> (args, kwargs, label)`
    in the autograder package that builds CPU inputs for one case; `cases`
    are plain dicts; `bound`, if an instructor sets it, the largest median
    ratio (learner / builtin) they expect.
    """

    exercise: str
    builtin: str
    inputs: str
    cases: tuple[dict[str, Any], ...]
    bound: float | None = None

    def __post_init__(self) -> None:
        # Keep the builtin as it is now (checks packages are imported before any
        # learner code runs), so a learner's monkeypatching cannot slow it down.
        if not self.builtin.startswith(("torch.", "autograder.")):
            raise ValueError(f"timing builtin must live in torch or autograder: {self.builtin}")
        try:
            _PRISTINE.setdefault(self.builtin, _resolve(self.builtin))
        except (ImportError, AttributeError):
            pass


@dataclass
class OperatorTiming:
    """How one operator compared, or why it was not timed."""

    exercise: str
    builtin: str
    status: str  # "measured" or "not timed"
    reason: str = ""
    cases: list[dict[str, Any]] = field(default_factory=list)  # label, learner_ms, builtin_ms, ratio
    bound: float | None = None

    @property
    def median_ratio(self) -> float | None:
        ratios = [case["ratio"] for case in self.cases if case.get("ratio") is not None]
        return statistics.median(ratios) if ratios else None

    @property
    def within_bound(self) -> bool | None:
        ratio = self.median_ratio
        if self.bound is None or ratio is None:
            return None
        return ratio <= self.bound

    def as_data(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise, "builtin": self.builtin, "status": self.status, "reason": self.reason,
            "cases": self.cases, "median_ratio": self.median_ratio, "bound": self.bound,
            "within_bound": self.within_bound,
        }


@dataclass
class TimingReport:
    """The timing part of a grade report (never part of the score)."""

    status: str  # "measured" or "skipped"
    reason: str = ""
    device: str = ""
    method: str = ""
    warmup: int = 0
    repeats: int = 0
    operators: list[OperatorTiming] = field(default_factory=list)

    def as_data(self) -> dict[str, Any]:
        return {
            "graded": False, "status": self.status, "reason": self.reason, "device": self.device,
            "method": self.method, "warmup": self.warmup, "repeats": self.repeats,
            "ratio": "learner / builtin (median time per call, forward pass)",
            "operators": [operator.as_data() for operator in self.operators],
        }

    def lines(self) -> list[str]:
        """What the stdout table shows under the scores."""
        if self.status != "measured":
            return [f"timing (not graded): skipped: {self.reason}"]
        lines = [f"timing (not graded) on {self.device}: {self.method}, forward pass, "
                 f"median of {self.repeats} calls after {self.warmup} warm-up calls"]
        for operator in self.operators:
            if operator.status != "measured":
                lines.append(f"  {operator.exercise}: not timed ({operator.reason})")
                continue
            verdict = ""
            if operator.bound is not None:
                verdict = f"; instructor's bound {operator.bound:g}×: {'within' if operator.within_bound else 'OVER'}"
            lines.append(f"  {operator.exercise} vs {operator.builtin}: median ratio {operator.median_ratio:.2f}× "
                         f"(yours / PyTorch's){verdict}")
            width = max(len(case["label"]) for case in operator.cases)
            for case in operator.cases:
                lines.append(f"    {case['label'].ljust(width)}  yours {case['learner_ms']:9.3f} ms  "
                             f"PyTorch {case['builtin_ms']:9.3f} ms  {case['ratio']:7.2f}×")
        return lines


# --------------------------------------------------------------------------
# Learner side: the scenario.


def _median_ms(call: Callable[[], Any], device: str, warmup: int, repeats: int) -> float:
    import torch

    for _ in range(warmup):
        call()
    if device == "cuda":
        torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        if device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            call()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        else:
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


def _device_name(device: str) -> str:
    import platform

    import torch

    if device == "cuda":
        return f"cuda ({torch.cuda.get_device_name(0)})"
    processor = platform.processor() or platform.machine() or "unknown processor"
    return f"cpu ({processor}, {torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''})"


def time_operator(learner: Any, exercise: str, builtin: str, inputs: str, cases: list[dict[str, Any]], device: str,
                  warmup: int, repeats: int) -> dict[str, Any]:
    """The learner's `exercise` and `builtin` on each case, on `device`:
    median milliseconds per call of each (forward pass, no autograd)."""
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        return {"error": "the grader's process sees a CUDA device but the learner's confined process does not"}
    if not inputs.startswith("autograder."):
        raise ValueError(f"refusing timing inputs outside the autograder package: {inputs}")
    mine = learner[exercise]
    theirs = _PRISTINE.get(builtin) or _resolve(builtin)
    make = _resolve(inputs)
    generator = torch.Generator().manual_seed(0)
    rows = []
    for case in cases:
        args, kwargs, label = make(case, generator)
        args = [arg.to(device) if isinstance(arg, torch.Tensor) else arg for arg in args]
        with torch.no_grad():
            started = time.perf_counter()
            mine(*args, **kwargs)  # one call first: a far too slow operator is not timed further
            if device == "cuda":
                torch.cuda.synchronize()
            first_s = time.perf_counter() - started
            if first_s > SLOW_CALL_S:
                return {"error": f"one call on {label} took {first_s:.1f} s (over {SLOW_CALL_S:.0f} s), so it was not timed"}
            learner_ms = _median_ms(lambda: mine(*args, **kwargs), device, warmup, repeats)
            builtin_ms = _median_ms(lambda: theirs(*args, **kwargs), device, warmup, repeats)
        rows.append({"label": label, "learner_ms": learner_ms, "builtin_ms": builtin_ms,
                     "ratio": learner_ms / builtin_ms if builtin_ms > 0 else None})
    return {"device": _device_name(device), "rows": rows}


# --------------------------------------------------------------------------
# Grader side: when to time, and the report.


def declared(assignment_id: str) -> tuple[Timed, ...]:
    """The assignment's `TIMING` declaration (empty when it has none)."""
    try:
        module = importlib.import_module(f"autograder.checks.{assignment_id}")
    except ModuleNotFoundError:
        return ()
    return tuple(getattr(module, "TIMING", ()))


def cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 - a broken CUDA install means: no CUDA device
        return False


def _not_ready(exercise: str, results: Sequence[Any]) -> str:
    """Why an exercise is not timed, from this grading run's results ("" when it is)."""
    mine = [result for result in results if result.exercise == exercise]
    if not mine:
        return f"{exercise} was not graded in this run"
    if any(result.score < result.max_score for result in mine):
        return f"{exercise} did not pass all its checks; only correct code is timed"
    return ""


@contextmanager
def _limits_for(sandbox: Any, device: str) -> Iterator[None]:
    if device != "cuda":
        yield
        return
    saved = sandbox.limits
    sandbox.limits = replace(saved, memory_bytes=max(saved.memory_bytes, CUDA_ADDRESS_SPACE_BYTES))
    try:
        yield
    finally:
        sandbox.limits = saved


def measure(sandbox: Any, results: Sequence[Any], mode: str = "auto") -> TimingReport | None:
    """Time the declared operators of `sandbox`'s assignment in fresh learner
    processes; None when there is nothing to report (mode "off", or no
    declaration)."""
    from autograder.checking import LearnerError

    if mode not in MODES:
        raise ValueError(f"timing mode must be one of {', '.join(MODES)}, not {mode!r}")
    timed = declared(sandbox.assignment.id)
    if mode == "off" or not timed:
        return None
    if mode == "auto" and not cuda_available():
        return TimingReport("skipped", "no CUDA device (`--timing cpu` times the same operators on the CPU)")
    device = "cuda" if mode == "auto" else "cpu"
    report = TimingReport("measured", device=device, warmup=WARMUP[device], repeats=REPEATS[device],
                          method="CUDA events" if device == "cuda" else "time.perf_counter")
    for entry in timed:
        operator = OperatorTiming(entry.exercise, entry.builtin, "not timed", bound=entry.bound)
        report.operators.append(operator)
        operator.reason = _not_ready(entry.exercise, results)
        if operator.reason:
            continue
        try:
            with _limits_for(sandbox, device), \
                    sandbox.session(SESSION_TIMEOUT_S, [], entry.exercise, (entry.exercise,)) as run:
                data = run(time_operator, entry.exercise, entry.builtin, entry.inputs, [dict(c) for c in entry.cases],
                           device, report.warmup, report.repeats)
        except LearnerError as error:
            operator.reason = str(error.message).splitlines()[0]
            continue
        except RuntimeError as error:  # the learner process could not start
            operator.reason = str(error).splitlines()[0]
            continue
        if data.get("error"):
            operator.reason = data["error"]
            continue
        report.device = data["device"]
        operator.status = "measured"
        operator.cases = data["rows"]
    return report
