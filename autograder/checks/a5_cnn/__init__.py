"""a5_cnn: convolution and pooling from scratch, a convolutional layer, a
dataset, and a LeNet built from the learner's own pieces.

One module per exercise (or tight group), each holding, in this order, what
is forbidden, the hints, the scenarios (run beside the learner's code) and
the checks (run in the grader's process):

| module | exercises |
|---|---|
| `conv` | corr2d, conv2d |
| `pool` | max_pool2d, avg_pool2d |
| `layer` | Conv2d |
| `dataset` | ImageDataset |
| `lenet` | the LeNet threshold (filed under conv2d: a too-slow conv2d loses it) |

Hidden checks (`solutions/a5_cnn/hidden_checks.py`, never released)
register into the same `suite`. `TIMING` declares what `grade --timing`
measures against PyTorch's own operators (see autograder/timing.py).
"""
from __future__ import annotations

from autograder.checking import Suite
from autograder.timing import Timed

suite = Suite("a5_cnn")

# Calibrated by scripts/calibrate_a5_cnn.py --seeds 30 --alternatives (reference, under the
# grader's call tracing, as when grading): test accuracy min 0.9472, mean 0.9684, max 0.9889;
# at most 3.3 s of CPU per run. Margin 0.047. The catalogue's correct conv2d alternatives need
# 5.7 s (loop over output positions), 1.2 s (Tensor.unfold + einsum), 1.3 s (as_strided); the
# per-example loop is stopped by the probe (it would need at least 634 s). Budget: 60 s of CPU.
THRESHOLD = {
    "accuracy": 0.90, "num_epochs": 8, "lr": 0.02, "batch_size": 64, "channels": (8, 16), "hidden": 64,
    "cpu_budget_s": 60.0,
}
suite.test(
    "conv2d/threshold",
    title=f"a LeNet of your layers reaches {THRESHOLD['accuracy']:.2f} test accuracy on the digits",
    needs=("conv2d", "Conv2d", "max_pool2d"),
    timeout_s=150.0,
)

# Each case the lesson names, and the public check that covers it: (exercise,
# words of the lesson, title of the public check), as tests/test_lesson_coverage.py
# holds a1-a4 to theirs.
_DEFAULT_STRIDE = "with 2×2 windows and the default stride (= kernel_size) matches F.{}, values and gradients"
_PARTIAL = "drops a last partial window, where (H + 2p - k) is not a multiple of the stride"
_PAIRS = "with a non-square window and stride and padding as pairs, float64"
LESSON_CASES: tuple[tuple[str, str, str], ...] = (
    ("corr2d", "(square or not)", "corr2d handles a non-square kernel on a non-square float64 input, values and gradients"),
    ("corr2d", "so a flipped kernel is caught",
     "corr2d matches F.conv2d on d2l's example (a 3×3 input, a 2×2 kernel that is not symmetric)"),
    ("conv2d", "one image of one channel with default stride and padding",
     "conv2d on one image of one channel, no bias, default stride and padding, matches F.conv2d"),
    ("conv2d", "several input and output channels on a batch of 3 with a bias",
     "conv2d sums over input channels for every output channel and adds the bias, on a batch of 3"),
    ("conv2d", "`stride` and `padding` as ints where $(H + 2p - k)$ is not a multiple of $s$",
     "conv2d with stride and padding as ints, where (H + 2p - k) is not a multiple of the stride"),
    ("conv2d", "a non-square kernel with `stride` and `padding` as pairs",
     "conv2d with a non-square kernel and stride and padding given as pairs (rows, columns)"),
    ("conv2d", "float64 with a stride larger than the kernel", "conv2d keeps float64, also with a stride larger than the kernel"),
    ("max_pool2d", "2×2 windows with the default stride", "max_pool2d " + _DEFAULT_STRIDE.format("max_pool2d")),
    ("max_pool2d", "a last partial window to drop", "max_pool2d " + _PARTIAL),
    ("max_pool2d", "padding on an all-negative input (max)",
     "max_pool2d with padding on an all-negative input: the padding never wins the max"),
    ("max_pool2d", "a non-square window with stride and padding as pairs in float64", "max_pool2d " + _PAIRS),
    ("max_pool2d", "ties, with side-by-side and overlapping windows (max)",
     "max_pool2d sends the gradient of a tie where F.max_pool2d does, for side-by-side and overlapping windows"),
    ("avg_pool2d", "2×2 windows with the default stride", "avg_pool2d " + _DEFAULT_STRIDE.format("avg_pool2d")),
    ("avg_pool2d", "a last partial window to drop", "avg_pool2d " + _PARTIAL),
    ("avg_pool2d", "counted padding (average)",
     "avg_pool2d counts the zero padding in every window's mean, as F.avg_pool2d does by default"),
    ("avg_pool2d", "a non-square window with stride and padding as pairs in float64", "avg_pool2d " + _PAIRS),
    ("Conv2d", "parameters' names, shapes and registration (square and non-square kernels)",
     "Conv2d registers weight (C_out, C_in, kh, kw) and bias (C_out,) as nn.Parameters, named as nn.Conv2d's"),
    ("Conv2d", "`bias=False`", "Conv2d(..., bias=False) has no bias parameter and its forward adds none"),
    ("Conv2d", "stride and padding as ints and as pairs",
     "Conv2d's forward calls conv2d with its weight, bias, stride and padding (as ints and as pairs)"),
    ("Conv2d", "and the initialisation", "Conv2d's initial weights are centred on 0 with a spread that shrinks as 1/sqrt(fan-in)"),
    ("ImageDataset", "`len(ds)` is the number of examples",
     "len(ds) is the number of images and ds[i] is the pair (images[i], labels[i])"),
    ("ImageDataset", "`ds[len(ds)]` raises `IndexError`",
     "negative indices count from the end (ds[-1] is the last example); ds[len(ds)] raises IndexError"),
    ("ImageDataset", "applied to the **image only** when a transform is given, at every access",
     "the transform is applied to the image only, every time an example is read"),
    ("ImageDataset", "with tensors and with lists",
     "images and labels may be lists; labels stay integers, so a DataLoader batches them as int64"),
)

# What `python -m autograder grade --timing {auto,cpu}` times, ungraded:
# the learner's operator against torch's, on a few realistic shapes.
TIMING = (
    Timed("conv2d", builtin="torch.nn.functional.conv2d", inputs="autograder.checks.a5_cnn.conv:timing_inputs",
          cases=(
              {"input": (32, 3, 32, 32), "weight": (16, 3, 3, 3), "stride": 1, "padding": 1},
              {"input": (32, 16, 16, 16), "weight": (32, 16, 3, 3), "stride": 1, "padding": 1},
              {"input": (32, 32, 8, 8), "weight": (64, 32, 3, 3), "stride": 1, "padding": 1},
              {"input": (32, 3, 64, 64), "weight": (8, 3, 5, 5), "stride": 2, "padding": 2},
          )),
    Timed("max_pool2d", builtin="torch.nn.functional.max_pool2d", inputs="autograder.checks.a5_cnn.pool:timing_inputs",
          cases=(
              {"input": (32, 16, 32, 32), "kernel_size": 2},
              {"input": (32, 32, 16, 16), "kernel_size": 3, "stride": 2, "padding": 1},
              {"input": (32, 64, 8, 8), "kernel_size": 2},
          )),
)

from autograder.checks.a5_cnn import conv, dataset, layer, lenet, pool  # noqa: E402,F401 - registers the checks
