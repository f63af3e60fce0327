"""The messages between the grader and a learner process, as types.

Each message is a small dataclass. On the wire it is a dict of plain data
(`autograder.wire`) with a `kind` tag; `unpack` rebuilds it and checks every
field's type, so a malformed or forged message is refused as a whole
(`WireError`) instead of surfacing later as a TypeError in a check.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from autograder import wire


class WireError(Exception):
    """A message that is not one the other side may send."""


@dataclass(frozen=True)
class ErrorInfo:
    """An exception raised by the learner's code, as data: its type, message,
    the learner's own frames (cell, line, text) and what kind of failure it is."""

    type: str
    message: str
    learner_frames: tuple[tuple[str, int, str], ...] = ()
    not_implemented: bool = False
    missing: str | None = None  # the learner name a check needed and did not find
    memory: bool = False
    exit: bool = False  # SystemExit

    def to_data(self) -> dict[str, Any]:
        return {
            "type": self.type, "message": self.message, "learner_frames": [list(f) for f in self.learner_frames],
            "not_implemented": self.not_implemented, "missing": self.missing, "memory": self.memory, "exit": self.exit,
        }

    @classmethod
    def from_data(cls, data: Any) -> "ErrorInfo":
        data = _expect(data, dict, "error")
        frames = []
        for frame in _expect(data.get("learner_frames", []), list, "learner_frames")[:20]:
            frame = _expect(frame, list, "frame")
            if len(frame) != 3:
                raise WireError("a frame is not (cell, line, text)")
            frames.append((_expect(frame[0], str, "cell"), _expect(frame[1], int, "line"), _expect(frame[2], str, "text")))
        missing = data.get("missing")
        return cls(
            type=_expect(data.get("type"), str, "type")[:200],
            message=_expect(data.get("message"), str, "message")[:2000],
            learner_frames=tuple(frames),
            not_implemented=_expect(data.get("not_implemented", False), bool, "not_implemented"),
            missing=None if missing is None else _expect(missing, str, "missing")[:200],
            memory=_expect(data.get("memory", False), bool, "memory"),
            exit=_expect(data.get("exit", False), bool, "exit"),
        )


@dataclass(frozen=True)
class Message:
    """Base of every message: `kind` is the tag on the wire."""

    kind: ClassVar[str] = ""

    def to_data(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# Learner process -> grader -----------------------------------------------


@dataclass(frozen=True)
class CellStart(Message):
    kind: ClassVar[str] = "cell_start"
    index: int


@dataclass(frozen=True)
class CellDone(Message):
    kind: ClassVar[str] = "cell_done"
    index: int
    error: ErrorInfo | None = None

    def to_data(self) -> dict[str, Any]:
        return {"index": self.index, "error": None if self.error is None else self.error.to_data()}


@dataclass(frozen=True)
class Ready(Message):
    """Every runnable cell has run; `confinement` lists what the process achieved."""

    kind: ClassVar[str] = "ready"
    confinement: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {"confinement": list(self.confinement)}


@dataclass(frozen=True)
class Reply(Message):
    """The result of one scenario call."""

    kind: ClassVar[str] = "reply"
    ok: bool
    value: Any = None
    error: ErrorInfo | None = None
    forbidden_used: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    nonce: str = ""  # echoes the Call's: a reply to another call, or a forged one, is refused

    def to_data(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "value": self.value, "error": None if self.error is None else self.error.to_data(),
            "forbidden_used": list(self.forbidden_used), "warnings": list(self.warnings), "nonce": self.nonce,
        }


# Grader -> learner process -----------------------------------------------


@dataclass(frozen=True)
class Call(Message):
    """Run `scenario` ("module:qualname") with `args`, tracing `forbidden`."""

    kind: ClassVar[str] = "call"
    scenario: str
    args: list[Any] = field(default_factory=list)
    forbidden: list[Any] = field(default_factory=list)  # [(exercise, Forbidden.as_data())]
    nonce: str = ""  # fresh per call, from the grader's own random source


@dataclass(frozen=True)
class Stop(Message):
    kind: ClassVar[str] = "stop"


FROM_LEARNER = (CellStart, CellDone, Ready, Reply)
TO_LEARNER = (Call, Stop)


def pack(message: Message) -> bytes:
    return wire.encode({"kind": message.kind, **message.to_data()})


def unpack(blob: bytes, allowed: tuple[type[Message], ...]) -> Message:
    """Rebuild a message of one of the `allowed` types; WireError otherwise."""
    try:
        data = wire.decode(blob)
    except Exception:  # noqa: BLE001 - anything torch.load refuses is not data
        raise WireError("not plain data") from None
    data = _expect(data, dict, "message")
    by_kind = {cls.kind: cls for cls in allowed}
    cls = by_kind.get(data.get("kind"))  # type: ignore[arg-type]
    if cls is None:
        raise WireError(f"unexpected message {str(data.get('kind'))[:40]!r}")
    try:
        if cls is CellStart:
            return CellStart(_expect(data.get("index"), int, "index"))
        if cls is CellDone:
            error = data.get("error")
            return CellDone(_expect(data.get("index"), int, "index"), None if error is None else ErrorInfo.from_data(error))
        if cls is Ready:
            return Ready(tuple(_expect(item, str, "confinement")[:200]
                               for item in _expect(data.get("confinement", []), list, "confinement")[:50]))
        if cls is Reply:
            error = data.get("error")
            return Reply(
                ok=_expect(data.get("ok"), bool, "ok"),
                value=data.get("value"),
                error=None if error is None else ErrorInfo.from_data(error),
                forbidden_used=tuple(_expect(u, str, "forbidden_used")[:500]
                                     for u in _expect(data.get("forbidden_used", []), list, "forbidden_used")[:100]),
                warnings=tuple(_expect(w, str, "warnings")[:300] for w in _expect(data.get("warnings", []), list, "warnings")[:20]),
                nonce=_expect(data.get("nonce", ""), str, "nonce")[:100],
            )
        if cls is Call:
            return Call(_expect(data.get("scenario"), str, "scenario"), _expect(data.get("args", []), list, "args"),
                        _expect(data.get("forbidden", []), list, "forbidden"), _expect(data.get("nonce", ""), str, "nonce"))
        return Stop()
    except WireError:
        raise
    except (TypeError, ValueError) as error:  # pragma: no cover - _expect covers the known fields
        raise WireError(str(error)) from None


def _expect(value: Any, kind: type, what: str) -> Any:
    # bool is an int subclass: an int field must not accept True, and vice versa
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise WireError(f"{what}: expected {kind.__name__}, got {type(value).__name__}")
    return value
