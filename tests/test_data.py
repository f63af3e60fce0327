"""The bundled digits dataset and its loaders (autograder/data.py)."""
from __future__ import annotations

import gzip
import shutil
import struct
from pathlib import Path

import pytest
import torch

from autograder import data
from autograder.data import DatasetError, load_digits, load_digits_iters, load_mnist_like

BUNDLED = Path(__file__).resolve().parents[1] / "datasets" / "digits" / "digits.csv.gz"


@pytest.fixture(autouse=True)
def _default_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests read the repository's copy unless they point elsewhere themselves."""
    monkeypatch.delenv(data.DATASETS_ENV, raising=False)


def _copy_to(tmp_path: Path) -> Path:
    target = tmp_path / "digits" / "digits.csv.gz"
    target.parent.mkdir(parents=True)
    shutil.copyfile(BUNDLED, target)
    return target


def _raw_rows() -> torch.Tensor:
    with gzip.open(BUNDLED, "rt") as handle:
        return torch.tensor([[int(v) for v in line.split(",")] for line in handle])


def test_shapes_dtypes_ranges() -> None:
    X_train, y_train, X_test, y_test = load_digits()
    assert X_train.shape == (1437, 1, 8, 8) and X_test.shape == (360, 1, 8, 8)
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    assert X_train.dtype == X_test.dtype == torch.float32
    assert y_train.dtype == y_test.dtype == torch.int64
    for X in (X_train, X_test):
        assert X.min() == 0.0 and X.max() == 1.0
        assert torch.equal(X * 16, (X * 16).round())  # integer pixel counts / 16
    for y in (y_train, y_test):
        assert y.min() == 0 and y.max() == 9


def test_file_checksum_matches_constant() -> None:
    assert data._sha256(BUNDLED) == data.DIGITS_SHA256


def test_split_follows_documented_permutation() -> None:
    rows = _raw_rows()
    assert rows.shape == (1797, 65)
    order = torch.randperm(1797, generator=torch.Generator().manual_seed(0))
    # Pinned (README): a torch release changing randperm would move the "fixed" split.
    assert order[:5].tolist() == [362, 1568, 1440, 1761, 815]
    assert order[1437:1442].tolist() == [1084, 909, 1253, 225, 895]
    X_train, y_train, X_test, y_test = load_digits()
    for X, y, idx in ((X_train, y_train, order[:1437]), (X_test, y_test, order[1437:])):
        assert torch.equal(X.reshape(len(X), 64) * 16, rows[idx, :64].float())
        assert torch.equal(y, rows[idx, 64])


def test_split_sizes_and_disjoint() -> None:
    X_train, _, X_test, _ = load_digits()
    assert len(X_train) == 1437 and len(X_test) == 360
    # The file has no duplicate images, so disjoint rows mean disjoint images.
    train = set(map(tuple, X_train.reshape(-1, 64).tolist()))
    test = set(map(tuple, X_test.reshape(-1, 64).tolist()))
    assert len(train) == 1437 and len(test) == 360
    assert not train & test


def test_deterministic_and_cache_protected() -> None:
    first = load_digits()
    first[0].fill_(-1.0)  # a caller scribbling on its tensors ...
    first[1].zero_()
    second, third = load_digits(), load_digits()  # ... must not reach the cache
    for a, b in zip(second, third):
        assert torch.equal(a, b)
    assert second[0].min() == 0.0 and second[1].max() == 9


def test_every_digit_in_both_splits() -> None:
    _, y_train, _, y_test = load_digits()
    train_counts = torch.bincount(y_train, minlength=10)
    test_counts = torch.bincount(y_test, minlength=10)
    assert (train_counts >= 100).all() and (test_counts >= 20).all()
    assert train_counts.sum() + test_counts.sum() == 1797


def test_env_var_and_root_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _copy_to(tmp_path)
    expected = load_digits()
    for a, b in zip(load_digits(tmp_path), expected):
        assert torch.equal(a, b)
    monkeypatch.setenv(data.DATASETS_ENV, str(tmp_path))
    assert data.datasets_root() == tmp_path
    for a, b in zip(load_digits(), expected):
        assert torch.equal(a, b)


def test_checksum_mismatch_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = _copy_to(tmp_path)
    raw = bytearray(target.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    target.write_bytes(bytes(raw))
    monkeypatch.setenv(data.DATASETS_ENV, str(tmp_path))
    with pytest.raises(DatasetError) as info:
        load_digits()
    message = str(info.value)
    assert "\n" not in message and str(target) in message and "SHA-256" in message


def test_file_replaced_after_load_is_reverified(tmp_path: Path) -> None:
    target = _copy_to(tmp_path)
    load_digits(tmp_path)  # cached now
    raw = bytearray(target.read_bytes())
    raw[100] ^= 0xFF
    target.write_bytes(bytes(raw))
    with pytest.raises(DatasetError):
        load_digits(tmp_path)


def test_missing_file_raises_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(data.DATASETS_ENV, str(tmp_path))
    with pytest.raises(DatasetError) as info:
        load_digits()
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path / "digits" / "digits.csv.gz") in message
    assert data.DATASETS_ENV in message


def test_iters_cover_train_set_once_per_pass() -> None:
    X_train, y_train, X_test, y_test = load_digits()
    train_iter, test_iter = load_digits_iters(batch_size=64, generator=torch.Generator().manual_seed(1))
    key = lambda X, y: sorted(zip(map(tuple, X.reshape(len(X), -1).tolist()), y.tolist()))  # noqa: E731
    orders = []
    for _ in range(2):
        batches = list(train_iter)
        assert all(len(X) == 64 for X, _ in batches[:-1]) and len(batches) == 23  # ceil(1437 / 64)
        X = torch.cat([X for X, _ in batches])
        y = torch.cat([y for _, y in batches])
        assert X.shape == (1437, 1, 8, 8)
        assert key(X, y) == key(X_train, y_train)
        orders.append(y)
    assert not torch.equal(orders[0], orders[1])  # reshuffled each pass
    X = torch.cat([X for X, _ in test_iter])
    y = torch.cat([y for _, y in test_iter])
    assert torch.equal(X, X_test) and torch.equal(y, y_test)  # test order fixed


def test_iters_reproducible_with_generator() -> None:
    runs = []
    for _ in range(2):
        train_iter, _ = load_digits_iters(32, torch.Generator().manual_seed(7))
        runs.append(torch.cat([y for _, y in train_iter]))
    assert torch.equal(runs[0], runs[1])


def test_mnist_like_empty_dir_raises(tmp_path: Path) -> None:
    for name in ("mnist", "fashion-mnist"):
        with pytest.raises(DatasetError) as info:
            load_mnist_like(name, tmp_path)
        assert "\n" not in str(info.value) and str(tmp_path) in str(info.value)


def test_mnist_like_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(DatasetError):
        load_mnist_like("cifar10", tmp_path)


def test_mnist_like_incomplete_folder_raises(tmp_path: Path) -> None:
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_bytes(b"")
    with pytest.raises(DatasetError) as info:
        load_mnist_like("FashionMNIST", tmp_path)
    assert "\n" not in str(info.value) and "t10k-labels-idx1-ubyte" in str(info.value)


def _write_idx(path: Path, array: torch.Tensor) -> None:
    code = 0x08  # unsigned byte
    header = struct.pack(">HBB", 0, code, array.dim()) + struct.pack(f">{array.dim()}I", *array.shape)
    path.write_bytes(header + array.to(torch.uint8).numpy().tobytes())


def test_mnist_like_reads_local_files(tmp_path: Path) -> None:
    pytest.importorskip("torchvision")
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    gen = torch.Generator().manual_seed(0)
    sizes = {"train": 5, "t10k": 3}
    images = {s: torch.randint(0, 256, (n, 28, 28), generator=gen) for s, n in sizes.items()}
    labels = {s: torch.randint(0, 10, (n,), generator=gen) for s, n in sizes.items()}
    images["train"][0, 0, 0] = 255
    for split in sizes:
        _write_idx(raw / f"{split}-images-idx3-ubyte", images[split])
        _write_idx(raw / f"{split}-labels-idx1-ubyte", labels[split])
    X_train, y_train, X_test, y_test = load_mnist_like("MNIST", tmp_path)
    assert X_train.shape == (5, 1, 28, 28) and X_test.shape == (3, 1, 28, 28)
    assert X_train.dtype == torch.float32 and y_train.dtype == torch.int64
    assert X_train.max() == 1.0 and X_train.min() >= 0.0
    assert torch.allclose(X_test[:, 0] * 255, images["t10k"].float())
    assert torch.equal(y_train, labels["train"]) and torch.equal(y_test, labels["t10k"])


# ---------------------------------------------------------------- CIFAR-10


def _write_cifar10(root: Path, sizes: dict[str, int], seed: int = 0) -> dict[str, tuple]:
    """Small batch files in torchvision's layout and format (pickled dicts
    of a uint8 (n, 3072) array and a list of labels)."""
    import pickle

    import numpy as np

    folder = root / data.CIFAR10_FOLDER
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    written = {}
    for name, n in sizes.items():
        images = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n)]
        entry = {"batch_label": name, "data": images, "labels": labels, "filenames": [f"{i}.png" for i in range(n)]}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
        written[name] = (images, labels)
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": list(data.CIFAR10_CLASSES)}, protocol=2))
    return written


CIFAR_SIZES = {**{f"data_batch_{i}": i for i in range(1, 6)}, "test_batch": 3}


def test_cifar10_reads_local_files(tmp_path: Path) -> None:
    written = _write_cifar10(tmp_path, CIFAR_SIZES)
    X_train, y_train, X_test, y_test = data.load_cifar10(tmp_path)
    assert X_train.shape == (15, 3, 32, 32) and X_test.shape == (3, 3, 32, 32)
    assert X_train.dtype == torch.float32 and y_train.dtype == torch.int64
    assert 0.0 <= float(X_train.min()) and float(X_train.max()) <= 1.0
    first = torch.from_numpy(written["data_batch_1"][0]).reshape(1, 3, 32, 32).float()
    assert torch.allclose(X_train[:1] * 255, first)  # channel-major rows: 1024 red, 1024 green, 1024 blue
    assert y_train.tolist() == [y for i in range(1, 6) for y in written[f"data_batch_{i}"][1]]
    assert y_test.tolist() == written["test_batch"][1]
    assert data.available_image_sets(tmp_path) == ["cifar10"]
    assert torch.equal(data.load_image_set("cifar10", tmp_path)[3], y_test)


def test_cifar10_agrees_with_torchvision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tvd = pytest.importorskip("torchvision.datasets")
    _write_cifar10(tmp_path, CIFAR_SIZES, seed=1)
    # Generated files have other MD5 sums than the real ones: let torchvision read them anyway.
    monkeypatch.setattr(tvd.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr("torchvision.datasets.cifar.check_integrity", lambda path, md5=None: True)
    X_train, y_train, X_test, y_test = data.load_cifar10(tmp_path)
    for train, X, y in ((True, X_train, y_train), (False, X_test, y_test)):
        theirs = tvd.CIFAR10(str(tmp_path), train=train, download=False)
        assert torch.equal((X * 255).round().to(torch.uint8).permute(0, 2, 3, 1), torch.from_numpy(theirs.data))
        assert y.tolist() == list(theirs.targets)


def test_cifar10_missing_or_incomplete(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as info:
        data.load_cifar10(tmp_path)
    assert "\n" not in str(info.value) and data.CIFAR10_FOLDER in str(info.value)
    _write_cifar10(tmp_path, {"data_batch_1": 2, "test_batch": 1})
    with pytest.raises(DatasetError) as info:
        data.load_cifar10(tmp_path)
    assert "data_batch_5" in str(info.value) and "\n" not in str(info.value)
    assert data.available_image_sets(tmp_path) == []


def test_cifar10_refuses_anything_but_arrays(tmp_path: Path) -> None:
    import pickle

    _write_cifar10(tmp_path, CIFAR_SIZES)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (tmp_path / data.CIFAR10_FOLDER / "test_batch").write_bytes(pickle.dumps({"data": Evil(), "labels": []}))
    with pytest.raises(DatasetError) as info:
        data.load_cifar10(tmp_path)
    assert "refusing" in str(info.value) and "\n" not in str(info.value)


def test_cifar10_wrong_shape_raises(tmp_path: Path) -> None:
    import pickle

    import numpy as np

    _write_cifar10(tmp_path, CIFAR_SIZES)
    bad = {"data": np.zeros((2, 100), dtype=np.uint8), "labels": [0, 1]}
    (tmp_path / data.CIFAR10_FOLDER / "data_batch_3").write_bytes(pickle.dumps(bad, protocol=2))
    with pytest.raises(DatasetError) as info:
        data.load_cifar10(tmp_path)
    assert "data_batch_3" in str(info.value) and "3072" in str(info.value)


def test_available_image_sets_finds_mnist_layout(tmp_path: Path) -> None:
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"")
    assert data.available_image_sets(tmp_path) == ["fashion-mnist"]
