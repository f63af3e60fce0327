"""Does forbidden-call tracing hold from the answer cell's first line and in
every thread, whichever path reaches the kernel?"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import torch

from autograder.checks.a3_softmax import suite as a3_suite
from autograder.guard import CallTracer, Forbidden, watch

SOFTMAX = [("softmax", a3_suite.forbidden["softmax"])]


def test_a_call_in_a_new_thread_is_seen() -> None:
    watch(SOFTMAX)
    X = torch.randn(3, 4)
    with CallTracer(SOFTMAX) as tracer:
        worker = threading.Thread(target=lambda: torch.nn.functional.softmin(-X, -1))
        worker.start()
        worker.join()
    assert tracer.used and all(use.startswith("softmax: ") for use in tracer.used)


def test_a_call_in_a_thread_started_before_tracing_is_seen() -> None:
    watch(SOFTMAX)
    pool = ThreadPoolExecutor(1)
    pool.submit(lambda: None).result()  # the worker thread exists before tracing starts
    X = torch.randn(3, 4)
    with CallTracer(SOFTMAX) as tracer:
        pool.submit(torch.nn.functional.softmin, -X, -1).result()
    pool.shutdown()
    assert tracer.used


def test_threads_trace_nothing_when_no_tracer_is_active() -> None:
    watch(SOFTMAX)
    pool = ThreadPoolExecutor(1)
    out = pool.submit(torch.softmax, torch.randn(2, 3), -1).result()
    pool.shutdown()
    assert out.shape == (2, 3)


def test_a_reference_taken_before_tracing_still_reports() -> None:
    rule = Forbidden(shown=("torch.optim.adam.adam",), python_functions=("torch.optim.adam.adam",))
    watch([("Adam", rule)])
    from torch.optim.adam import adam as early  # taken "at the cell's top level"

    p = torch.zeros(2, requires_grad=True)
    with CallTracer([("Adam", rule)]) as tracer:
        try:
            early([p], [torch.ones(2)], [torch.zeros(2)], [torch.zeros(2)], [], [torch.tensor(0.0)],
                  amsgrad=False, beta1=0.9, beta2=0.999, lr=0.1, weight_decay=0.0, eps=1e-8, maximize=False)
        except Exception:  # noqa: BLE001 - only the call matters, not its arguments
            pass
    assert tracer.used == ["Adam: torch.optim.adam.adam"]


def test_a_call_forbidden_to_two_exercises_is_blamed_on_the_cell_that_made_it() -> None:
    """dropout and Dropout both forbid F.dropout: the use is charged to the
    exercise whose answer cell called it, whichever rule was registered last."""
    from autograder.checks.a4_mlp import suite as a4_suite

    rules = a4_suite.forbidden_for(("dropout", "Dropout", "MLP"))
    X = torch.ones(4, 4)
    for cell in ("Dropout", "dropout"):
        namespace: dict = {}
        exec(compile("import torch.nn.functional as F\ndef go(X):\n    return F.dropout(X, 0.5, True)\n",
                     f"<answer cell {cell}>", "exec"), namespace)
        with CallTracer(rules) as tracer:
            namespace["go"](X)
        assert tracer.used == [f"{cell}: torch.nn.functional.dropout"], (cell, tracer.used)
