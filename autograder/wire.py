"""Data that crosses the trust boundary, and nothing else.

Everything the learner's process sends back is encoded with `torch.save` and
decoded with `torch.load(weights_only=True)`, which only rebuilds tensors and
plain containers: never pickle, so a learner cannot make the grader run code.
"""
from __future__ import annotations

import io
import zipfile
from typing import Any

import torch


def encode(obj: Any) -> bytes:
    """Serialise plain data (tensors, numbers, strings, lists, dicts)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


MAX_DECODED_BYTES = 1024 * 1024 * 1024
MAX_RECORDS = 100_000


class NotData(ValueError):
    """What came is not an archive of plain data this grader accepts."""


def decode(blob: bytes) -> Any:
    """Rebuild data sent by an untrusted process; refuses anything but data.

    `torch.save` writes a zip archive of stored (uncompressed) records; one
    with compressed records (a zip bomb), too many records or a declared
    size over `MAX_DECODED_BYTES` is refused before anything is inflated."""
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            records = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise NotData(f"not an archive ({error})") from None
    if len(records) > MAX_RECORDS:
        raise NotData(f"{len(records)} records")
    if any(record.compress_type != zipfile.ZIP_STORED for record in records):
        raise NotData("compressed records")
    if sum(record.file_size for record in records) > MAX_DECODED_BYTES:
        raise NotData("larger than the decoded-size limit")
    return torch.load(io.BytesIO(blob), weights_only=True)


def plain(obj: Any, _depth: int = 0) -> Any:
    """Turn a learner's return value into data `decode` accepts.

    Tensors lose their autograd history and any subclass; numbers become
    Python numbers; unknown objects become a tagged description so the grader
    can say what came back instead of crashing on it.
    """
    if _depth > 20:
        return {"__unsupported__": "nested too deeply"}
    if isinstance(obj, torch.Tensor):
        tensor = obj.detach()
        if type(tensor) is not torch.Tensor:
            tensor = tensor.as_subclass(torch.Tensor)
        return tensor.clone()
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, (list, tuple)):
        items = [plain(item, _depth + 1) for item in obj]
        return items if isinstance(obj, list) else tuple(items)
    if isinstance(obj, dict):
        return {str(key): plain(value, _depth + 1) for key, value in obj.items()}
    try:  # numpy scalars and the like
        import numpy as np

        if isinstance(obj, np.generic):
            return plain(obj.item(), _depth + 1)
        if isinstance(obj, np.ndarray):
            return {"__unsupported__": f"numpy.ndarray of shape {obj.shape}"}
    except ImportError:  # pragma: no cover - numpy ships with torch here
        pass
    return {"__unsupported__": type(obj).__name__}
