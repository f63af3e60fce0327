"""Framed messages over a socket, with a deadline on every read.

Each frame is an 8-byte big-endian length and then that many bytes. The
reader never blocks past its deadline, even on a peer that sends a header
and then stops, and refuses a frame longer than its bound before reading it:
a learner process can make the grader wait at most its time budget, and
cost it at most `max_bytes` of memory.
"""
from __future__ import annotations

import select
import socket
import struct
import time

HEADER = struct.Struct("!Q")
MAX_FRAME_BYTES = 256 * 1024 * 1024


class FrameTooLarge(Exception):
    """The peer announced a frame longer than this channel accepts."""


class Channel:
    """One end of a framed, deadline-bounded byte channel."""

    def __init__(self, sock: socket.socket, max_bytes: int = MAX_FRAME_BYTES) -> None:
        self.sock = sock
        self.max_bytes = max_bytes

    def send(self, payload: bytes) -> None:
        self.sock.sendall(HEADER.pack(len(payload)) + payload)

    def recv(self, timeout_s: float | None = None) -> bytes | None:
        """The next frame; None when it has not fully arrived within
        `timeout_s` (None: wait for ever); EOFError when the peer is gone."""
        deadline = None if timeout_s is None else time.monotonic() + max(timeout_s, 0.0)
        header = self._read(HEADER.size, deadline)
        if header is None:
            return None
        (length,) = HEADER.unpack(header)
        if length > self.max_bytes:
            raise FrameTooLarge(f"a message of {length} bytes (the limit is {self.max_bytes})")
        return self._read(length, deadline)

    def _read(self, size: int, deadline: float | None) -> bytes | None:
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                    return None
            chunk = self.sock.recv(min(remaining, 1 << 20))
            if not chunk:
                raise EOFError("the peer closed the channel")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()
