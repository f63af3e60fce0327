"""Data that crosses the trust boundary, and nothing else.

Everything the learner's process sends back is encoded with `torch.save` and
decoded with `torch.load(weights_only=True)`, which only rebuilds tensors and
plain containers: never pickle, so a learner cannot make the grader run code.
"""
from __future__ import annotations

import io
from typing import Any

import torch

MAX_MESSAGE_BYTES = 256 * 1024 * 1024


def encode(obj: Any) -> bytes:
    """Serialise plain data (tensors, numbers, strings, lists, dicts)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def decode(blob: bytes) -> Any:
    """Rebuild data sent by an untrusted process; refuses anything but data."""
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
