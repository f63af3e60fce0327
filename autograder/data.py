"""Datasets for the exercises, loaded offline.

The workbook trains on the 8x8 handwritten digits bundled in the repository
(``datasets/digits/digits.csv.gz``, see its README): small enough to train a
model in seconds on one CPU thread, and always there, so grading never waits
on a download. Learners who already have MNIST or Fashion-MNIST on disk can
use them through :func:`load_mnist_like`, and CIFAR-10 through
:func:`load_cifar10` (both in torchvision's on-disk layout); nothing here
ever downloads.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import os
import pickle
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, TensorDataset

DATASETS_ENV = "DLWORKBOOK_DATASETS"

DIGITS_FILE = Path("digits") / "digits.csv.gz"
# SHA-256 of scikit-learn's sklearn/datasets/data/digits.csv.gz, copied byte for byte.
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
DIGITS_ROWS = 1797
DIGITS_PIXELS = 64
DIGITS_MAX_PIXEL = 16.0
# The fixed split: torch.randperm(1797, generator=torch.Generator().manual_seed(0));
# the first 1437 rows of the permutation train, the other 360 test.
DIGITS_SPLIT_SEED = 0
DIGITS_N_TRAIN = 1437
DIGITS_N_TEST = DIGITS_ROWS - DIGITS_N_TRAIN

Split = tuple[Tensor, Tensor, Tensor, Tensor]


class DatasetError(Exception):
    """A dataset is missing, corrupted or unreadable; the message is one line
    naming the path and what to do."""


def datasets_root() -> Path:
    """The folder holding the bundled datasets: $DLWORKBOOK_DATASETS if set,
    else ``datasets/`` beside this package in the repository."""
    override = os.environ.get(DATASETS_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1] / "datasets"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=4)
def _parse_digits(path: Path, mtime_ns: int, size: int) -> Split:
    """Verify and parse the digits file once per process. The file's mtime and
    size are part of the cache key, so a file replaced on disk is re-verified
    rather than served stale from the cache."""
    actual = _sha256(path)
    if actual != DIGITS_SHA256:
        raise DatasetError(
            f"{path} is corrupted or altered (SHA-256 {actual}, expected {DIGITS_SHA256}); "
            f"restore it from the repository (git checkout -- datasets/digits)"
        )
    try:
        with gzip.open(path, "rt", encoding="ascii") as handle:
            table = np.loadtxt(handle, delimiter=",", dtype=np.float32, ndmin=2)
    except (OSError, ValueError, EOFError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DatasetError(f"cannot parse {path}: {reason}") from None
    if table.shape != (DIGITS_ROWS, DIGITS_PIXELS + 1):
        raise DatasetError(f"{path} has shape {table.shape}, expected ({DIGITS_ROWS}, {DIGITS_PIXELS + 1})")
    data = torch.from_numpy(table)
    images = (data[:, :DIGITS_PIXELS] / DIGITS_MAX_PIXEL).reshape(-1, 1, 8, 8).contiguous()
    labels = data[:, DIGITS_PIXELS].to(torch.int64)
    order = torch.randperm(DIGITS_ROWS, generator=torch.Generator().manual_seed(DIGITS_SPLIT_SEED))
    train, test = order[:DIGITS_N_TRAIN], order[DIGITS_N_TRAIN:]
    return images[train], labels[train], images[test], labels[test]


def bundled_file(path: Path, missing: str) -> os.stat_result:
    """The stat of a bundled data file (its mtime and size key the parse
    caches), or DatasetError with the one-line `missing` message."""
    try:
        return path.resolve().stat()
    except OSError:
        raise DatasetError(missing) from None


def load_digits(root: Path | None = None) -> Split:
    """The 8x8 digits as ``(X_train, y_train, X_test, y_test)``.

    Images are float32 of shape (n, 1, 8, 8) in [0, 1] (pixel counts / 16),
    labels int64 of shape (n,); 1437 train and 360 test rows, split by the
    fixed permutation documented in ``datasets/digits/README.md``. The file's
    SHA-256 is checked before parsing. Tensors are cloned from an in-process
    cache, so callers may modify them freely.
    """
    path = (Path(root) if root is not None else datasets_root()) / DIGITS_FILE
    stat = bundled_file(path, f"digits dataset not found at {path}; restore datasets/digits/ from the repository "
                              f"or set ${DATASETS_ENV} to a folder holding digits/digits.csv.gz")
    cached = _parse_digits(path.resolve(), stat.st_mtime_ns, stat.st_size)
    return tuple(tensor.clone() for tensor in cached)  # type: ignore[return-value]


def load_digits_iters(
    batch_size: int = 64, generator: torch.Generator | None = None
) -> tuple[DataLoader, DataLoader]:
    """``(train_iter, test_iter)`` over the digits, as d2l names them: the
    train loader reshuffles every pass (with ``generator``, for reproducible
    order), the test loader keeps the fixed order."""
    X_train, y_train, X_test, y_test = load_digits()
    train_iter = DataLoader(
        TensorDataset(X_train, y_train), batch_size=batch_size, shuffle=True, generator=generator
    )
    test_iter = DataLoader(TensorDataset(X_test, y_test), batch_size=batch_size, shuffle=False)
    return train_iter, test_iter


_MNIST_LIKE = {"mnist": "MNIST", "fashionmnist": "FashionMNIST"}


def load_mnist_like(name: str, root: Path) -> Split:
    """MNIST or Fashion-MNIST from files the user already has, as
    ``(X_train, y_train, X_test, y_test)`` with the official 60000/10000
    split: float32 (n, 1, 28, 28) in [0, 1], int64 labels.

    ``root`` is the folder torchvision expects (holding ``MNIST/raw/`` or
    ``FashionMNIST/raw/`` with the unzipped idx files). Never downloads.
    """
    key = name.lower().replace("-", "").replace("_", "")
    if key not in _MNIST_LIKE:
        raise DatasetError(f"unknown dataset {name!r}; expected 'mnist' or 'fashion-mnist'")
    folder = _MNIST_LIKE[key]
    root = Path(root)
    raw = root / folder / "raw"
    if not raw.is_dir():
        raise DatasetError(
            f"{folder} not found: no folder {raw}; put the unzipped idx files there "
            f"(this workbook never downloads) or use load_digits()"
        )
    try:
        import torchvision.datasets as tvd
    except ImportError:
        raise DatasetError(f"reading {folder} needs torchvision; install it (pip install torchvision)") from None
    dataset_class = getattr(tvd, folder)
    # torchvision's own "not found" error suggests download=True; name the files instead.
    expected = [Path(url).stem for url, _ in dataset_class.resources]  # "train-images-idx3-ubyte", ...
    missing = [file for file in expected if not (raw / file).is_file()]
    if missing:
        raise DatasetError(
            f"{folder} incomplete: {raw} lacks {', '.join(missing)}; put the unzipped idx files there "
            f"(this workbook never downloads)"
        )
    try:
        train = dataset_class(str(root), train=True, download=False)
        test = dataset_class(str(root), train=False, download=False)
    except (RuntimeError, OSError, ValueError, AssertionError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DatasetError(f"cannot read {folder} from {raw}: {reason}") from None

    def tensors(dataset) -> tuple[Tensor, Tensor]:
        images = dataset.data.unsqueeze(1).to(torch.float32).div_(255.0)
        return images, dataset.targets.to(torch.int64).clone()

    return (*tensors(train), *tensors(test))


# --------------------------------------------------------------------------
# CIFAR-10 from files already on disk, in torchvision's format; and which of
# the bigger image sets are there.

CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILES = ("test_batch",)
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_PIXELS = 3 * 32 * 32


class _ArrayUnpickler(pickle.Unpickler):
    """Rebuilds only what CIFAR-10's python batches hold (dicts, lists,
    strings, numbers and numpy arrays); any other global is refused, so a
    doctored file cannot run code."""

    ALLOWED = frozenset({
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
    })

    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle's protocol
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _read_cifar10_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file: uint8 images (n, 3072) and int64 labels (n,)."""
    try:
        with path.open("rb") as handle:
            entry = _ArrayUnpickler(handle, encoding="latin1").load()
    except (OSError, EOFError, ValueError, pickle.UnpicklingError, AttributeError, ImportError, IndexError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DatasetError(f"cannot read CIFAR-10 batch {path}: {reason}") from None
    data = entry.get("data") if isinstance(entry, dict) else None
    labels = entry.get("labels") if isinstance(entry, dict) else None
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != CIFAR10_PIXELS:
        raise DatasetError(f"{path} is not a CIFAR-10 batch: expected 'data', a uint8 array of shape (n, {CIFAR10_PIXELS})")
    if not isinstance(labels, (list, np.ndarray)) or len(labels) != len(data):
        raise DatasetError(f"{path} is not a CIFAR-10 batch: expected 'labels', one per image ({len(data)})")
    targets = np.asarray(labels, dtype=np.int64)
    if targets.size and (targets.min() < 0 or targets.max() >= len(CIFAR10_CLASSES)):
        raise DatasetError(f"{path}: labels outside 0..9")
    return data, targets


def load_cifar10(root: Path) -> Split:
    """CIFAR-10 from files the user already has, as ``(X_train, y_train,
    X_test, y_test)``: float32 (n, 3, 32, 32) in [0, 1], int64 labels
    (the official split is 50000/10000; class names in ``CIFAR10_CLASSES``).

    ``root`` is the folder torchvision expects, holding
    ``cifar-10-batches-py/`` with ``data_batch_1`` ... ``data_batch_5`` and
    ``test_batch`` (the "python version" archive, unpacked). The files are
    read without torchvision and without unpickling anything but arrays;
    their MD5 sums are not checked. Never downloads.
    """
    folder = Path(root) / CIFAR10_FOLDER
    if not folder.is_dir():
        raise DatasetError(f"CIFAR-10 not found: no folder {folder}; unpack cifar-10-python.tar.gz there "
                           f"(this workbook never downloads) or use load_digits()")
    missing = [name for name in (*CIFAR10_TRAIN_FILES, *CIFAR10_TEST_FILES) if not (folder / name).is_file()]
    if missing:
        raise DatasetError(f"CIFAR-10 incomplete: {folder} lacks {', '.join(missing)} (this workbook never downloads)")

    def tensors(names: tuple[str, ...]) -> tuple[Tensor, Tensor]:
        batches = [_read_cifar10_batch(folder / name) for name in names]
        data = np.concatenate([images for images, _ in batches])
        labels = np.concatenate([targets for _, targets in batches])
        images = torch.from_numpy(data).reshape(-1, 3, 32, 32).to(torch.float32).div_(255.0)
        return images, torch.from_numpy(labels)

    return (*tensors(CIFAR10_TRAIN_FILES), *tensors(CIFAR10_TEST_FILES))


IMAGE_SETS = ("mnist", "fashion-mnist", "cifar10")


def available_image_sets(root: Path | None = None) -> list[str]:
    """Which of MNIST, Fashion-MNIST and CIFAR-10 have their files under
    ``root`` (default: the datasets folder), in torchvision's layout."""
    root = Path(root) if root is not None else datasets_root()
    found = []
    for name, folder in (("mnist", root / "MNIST" / "raw"), ("fashion-mnist", root / "FashionMNIST" / "raw")):
        if all((folder / file).is_file() for file in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                                       "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")):
            found.append(name)
    if all((root / CIFAR10_FOLDER / name).is_file() for name in (*CIFAR10_TRAIN_FILES, *CIFAR10_TEST_FILES)):
        found.append("cifar10")
    return found


def load_image_set(name: str, root: Path | None = None) -> Split:
    """One of ``IMAGE_SETS`` from local files, as ``(X_train, y_train, X_test, y_test)``."""
    root = Path(root) if root is not None else datasets_root()
    if name == "cifar10":
        return load_cifar10(root)
    return load_mnist_like(name, root)
