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
from multiprocessing.connection import Connection
from typing import Any


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


def serve(control_fd: int) -> None:
    from autograder import worker

    control = socket.socket(fileno=control_fd)
    reader = control.makefile("rb")
    while True:
        try:
            line, fds, _, _ = socket.recv_fds(control, 1 << 20, 1)
        except OSError:
            return
        if not line:
            return
        request = json.loads(line)
        if request["op"] == "fork":
            pid = os.fork()
            if pid == 0:
                try:
                    reader.close()
                    control.close()
                    worker.serve(Connection(fds[0]), request["plan"])
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
        socket.send_fds(self.control, [payload], fds or [])
        line = self.replies.readline()
        if not line:
            raise RuntimeError("the learner-process server stopped")
        return json.loads(line)

    def fork(self, plan: dict[str, Any]) -> tuple[int, Connection]:
        ours, theirs = socket.socketpair()
        try:
            pid = self._ask({"op": "fork", "plan": plan}, [theirs.fileno()])["pid"]
        finally:
            theirs.close()
        return pid, Connection(ours.detach())

    def status(self, pid: int) -> int | None:
        return self._ask({"op": "status", "pid": pid})["status"]


if __name__ == "__main__":
    serve(int(sys.argv[1]))
