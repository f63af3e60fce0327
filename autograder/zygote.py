"""A warm fork server for learner processes (runs as its own process).

Importing torch costs about two seconds; forking a process that already has
it costs milliseconds. This server imports torch and the checks once, then
forks one learner process per request. Unlike multiprocessing's forkserver
it never re-imports the caller's `__main__` (pytest, a Jupyter kernel), and
it never runs learner code itself.

Protocol on the control socket (the grader's side is `ZygoteClient`): the
grader sends one JSON line with an attached socket, `{"op": "fork", "plan":
...}`, and reads back `{"pid": N}`; `{"op": "status", "pid": N}` reads back
`{"status": code or null}` (negative: killed by that signal).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from typing import Any

from autograder.channel import HEADER, Channel


def _reply(control: socket.socket, message: dict[str, Any]) -> None:
    control.sendall((json.dumps(message) + "\n").encode())


def _status(pid: int) -> int | None:
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return -9
    if done == 0:
        return None
    return os.waitstatus_to_exitcode(status)


def _receive_request(control: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """One length-prefixed JSON request and the sockets attached to it; a
    large plan (long answer cells) arrives in several reads."""
    data, fds, _, _ = socket.recv_fds(control, 1 << 16, 1)
    while len(data) < HEADER.size:
        more = control.recv(HEADER.size - len(data))
        if not more:
            raise EOFError
        data += more
    (length,) = HEADER.unpack(data[:HEADER.size])
    body = bytearray(data[HEADER.size:])
    while len(body) < length:
        more = control.recv(min(length - len(body), 1 << 20))
        if not more:
            raise EOFError
        body += more
    return json.loads(bytes(body)), list(fds)


def serve(control_fd: int) -> None:
    from autograder import worker

    control = socket.socket(fileno=control_fd)
    reader = control.makefile("rb")
    while True:
        try:
            request, fds = _receive_request(control)
        except (OSError, EOFError, ValueError):
            return
        if request["op"] == "fork":
            pid = os.fork()
            if pid == 0:
                try:
                    reader.close()
                    control.close()
                    worker.serve(Channel(socket.socket(fileno=fds[0])), request["plan"])
                finally:
                    os._exit(70)
            os.close(fds[0])
            _reply(control, {"pid": pid})
        elif request["op"] == "status":
            _reply(control, {"status": _status(request["pid"])})


class ZygoteClient:
    """The grader's handle on its warm fork server (see autograder.zygote)."""

    _shared: "ZygoteClient | None" = None

    def __init__(self) -> None:
        self.control, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder.zygote", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.replies = self.control.makefile("rb")

    @classmethod
    def shared(cls) -> "ZygoteClient":
        """One server per grading process, restarted if it died."""
        if cls._shared is None or cls._shared.process.poll() is not None:
            cls._shared = cls()
        return cls._shared

    def _ask(self, message: dict[str, Any], fds: list[int] | None = None) -> dict[str, Any]:
        payload = json.dumps(message).encode()
        framed = HEADER.pack(len(payload)) + payload
        sent = socket.send_fds(self.control, [framed[:1 << 16]], fds or [])
        self.control.sendall(framed[sent:])
        line = self.replies.readline()
        if not line:
            raise RuntimeError("the learner-process server stopped")
        return json.loads(line)

    def fork(self, plan: dict[str, Any]) -> tuple[int, Channel]:
        ours, theirs = socket.socketpair()
        try:
            pid = self._ask({"op": "fork", "plan": plan}, [theirs.fileno()])["pid"]
        finally:
            theirs.close()
        return pid, Channel(ours)

    def status(self, pid: int) -> int | None:
        return self._ask({"op": "status", "pid": pid})["status"]


if __name__ == "__main__":
    serve(int(sys.argv[1]))
